"""The Redis link under real faults: SIGKILL, SIGSTOP, a Redis busy for
longer than a deadline, a Redis that starts late, the pending cap, and the
ways of reaching Redis."""

import os
import signal
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import ServiceTest, main, wait_until  # noqa: E402

TIMEOUT_MS = 500
# A 503 comes at the deadline or sooner; the margin is for a busy machine.
MARGIN = 0.4


HEALTH_503 = 'iframe_auth_requests_total{route="redis_health",status="503"}'
_NO_DEFAULT = object()


def metric(svc, name, default=_NO_DEFAULT):
    """The value of one series in /metrics, its labels part of name;
    default when the series is absent (a counter not yet counted)."""
    for line in svc.get("/metrics").body.decode().splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    if default is not _NO_DEFAULT:
        return default
    raise AssertionError("no metric " + name)


def metrics(svc):
    """(iframe_auth_redis_up, iframe_auth_redis_pending) in one read."""
    values = {}
    for line in svc.get("/metrics").body.decode().splitlines():
        name, _, value = line.partition(" ")
        values[name] = value
    return (int(values["iframe_auth_redis_up"]),
            int(values["iframe_auth_redis_pending"]))


class RedisFaults(ServiceTest):
    def make_redis_busy(self, seconds=0.7):
        """A client whose script keeps Redis busy for seconds.  The script
        is in Redis's socket when this returns, ahead of any command the
        service sends after it, which then waits behind it.  Its reply:
        read_reply()."""
        busy = ("local s = redis.call('TIME') repeat local t = redis.call('TIME') "
                "until (t[1] - s[1]) * 1000000 + (t[2] - s[2]) > %d return 1"
                % (seconds * 1000000))
        db = self.redis.client()
        # A round trip first: Redis reads a connection it has yet to accept
        # only after those it has, the service's among them.
        self.assertEqual(db.call("PING"), "PONG")
        db.send("EVAL", busy, "0")
        return db

    def assert_unavailable(self, svc, path="/auth/redis-health"):
        started = time.monotonic()
        r = svc.get(path, timeout=10)
        elapsed = time.monotonic() - started
        self.assertEqual(r.status, 503, r.body)
        self.assertEqual(r.header("retry-after"), "1")
        self.assertEqual(r.header("content-type"), "application/json")
        self.assertLess(elapsed, TIMEOUT_MS / 1000 + MARGIN)
        return r.json()

    def test_sigkill_then_restart(self):
        svc = self.service({"REDIS_TIMEOUT_MS": str(TIMEOUT_MS)})
        self.assertTrue(self.wait_healthy(svc))
        self.redis.kill()
        body = self.assert_unavailable(svc)
        self.assertEqual(body["status"], "unhealthy")
        self.assertTrue(body["message"])
        self.assertIn("timestamp", body)
        self.assertEqual(svc.get("/healthz").status, 200)
        self.redis.start()
        started = time.monotonic()
        self.assertTrue(self.wait_healthy(svc, 5))
        self.assertLess(time.monotonic() - started, 5)
        self.assertIn("redis link down", svc.logs())

    def test_sigstop_gives_503_in_time_then_recovers(self):
        svc = self.service({"REDIS_TIMEOUT_MS": str(TIMEOUT_MS)})
        self.assertTrue(self.wait_healthy(svc))
        self.redis.stop()
        try:
            body = self.assert_unavailable(svc)
            self.assertEqual(body["status"], "unhealthy")
            # Later requests too, while Redis stays frozen.
            self.assert_unavailable(svc)
            self.assertEqual(svc.get("/healthz").status, 200)
        finally:
            self.redis.cont()
        self.assertTrue(self.wait_healthy(svc, 5))

    def test_frozen_redis_is_declared_down_after_two_deadlines(self):
        # The first command waiting on a frozen Redis gets 503 at its
        # deadline; the link itself is dropped when nothing has been read
        # for two deadlines, and from then on requests get 503 at once.
        svc = self.service({"REDIS_TIMEOUT_MS": str(TIMEOUT_MS)})
        self.assertTrue(self.wait_healthy(svc))
        self.redis.stop()
        try:
            started = time.monotonic()
            self.assert_unavailable(svc)
            self.assertTrue(wait_until(lambda: metric(
                svc, "iframe_auth_redis_up") == 0, 3, 0.01))
            down_after = time.monotonic() - started
            self.assertGreater(down_after, 2 * TIMEOUT_MS / 1000 - 0.05)
            self.assertLess(down_after, 2 * TIMEOUT_MS / 1000 + 0.5)
            asked = time.monotonic()
            self.assertEqual(svc.get("/auth/redis-health").status, 503)
            # At once, not at the deadline.
            self.assertLess(time.monotonic() - asked, TIMEOUT_MS / 1000 * 0.8)
            self.assertIn('reason="nothing read from redis for 1000 ms"',
                          svc.logs())
        finally:
            self.redis.cont()
        self.assertTrue(self.wait_healthy(svc, 5))

    def test_busy_redis_times_out_one_command_and_keeps_the_link(self):
        # Redis busy for 0.7 s with a 0.5 s deadline: the health check sent
        # at its start gets 503 at its deadline, its late reply is read and
        # ignored, and the link stays up.
        svc = self.service({"REDIS_TIMEOUT_MS": str(TIMEOUT_MS)})
        self.assertTrue(self.wait_healthy(svc))
        db = self.make_redis_busy()
        self.assert_unavailable(svc)
        self.assertEqual(db.read_reply(), 1)
        db.close()
        self.assertEqual(svc.get("/auth/redis-health").status, 200)
        self.assertEqual(metric(svc, "iframe_auth_redis_reconnects_total"), 0)
        self.assertNotIn("redis link down", svc.logs())
        self.assertEqual(metric(svc, "iframe_auth_redis_timeouts_total"), 1)

    def test_validation_answered_503_never_uses_the_session_later(self):
        # A frozen Redis still holds the validation it was sent; when it
        # wakes up it must refuse it, since the client already has 503.
        svc = self.service({"REDIS_TIMEOUT_MS": str(TIMEOUT_MS)})
        self.assertTrue(self.wait_healthy(svc))
        r = svc.request("POST", "/auth/create-session")
        self.assertEqual(r.status, 200, r.body)
        sid = r.json()["session_id"]
        path = "/auth/validate-session?session_id=" + sid
        self.redis.stop()
        try:
            self.assertEqual(self.assert_unavailable(svc, path)["detail"],
                             "service temporarily unavailable")
        finally:
            self.redis.cont()
        self.assertTrue(self.wait_healthy(svc, 5))
        db = self.redis.client()
        self.assertIn('"used":false', db.call("GET", "auth_session:" + sid))
        r = svc.request("POST", path)
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(db.call("HGET", "auth_stats", "total_used"), "1")

    def test_replies_that_came_during_a_pause_of_the_service_are_read(self):
        # Redis carries the validations out at once, but the service is
        # stopped before it reads the replies and resumed past their
        # deadlines (and past the stall check): the replies waiting on the
        # socket are its answers.  A 503 would leave the sessions used up.
        # A longer deadline leaves room to see the validations waiting on
        # Redis and stop the service before it passes.
        timeout_ms = 1000
        svc = self.service({"REDIS_TIMEOUT_MS": str(timeout_ms)})
        self.assertTrue(self.wait_healthy(svc))
        sids = [svc.request("POST", "/auth/create-session").json()["session_id"]
                for _ in range(10)]
        socks = [socket.create_connection(("127.0.0.1", svc.port), timeout=10)
                 for _ in sids]
        self.redis.stop()
        try:
            for sid, s in zip(sids, socks):
                s.sendall(b"POST /auth/validate-session?session_id=%s HTTP/1.1\r\n"
                          b"Host: x\r\nContent-Length: 0\r\n\r\n" % sid.encode())
            self.wait_pending(svc, len(sids), timeout_ms / 1000 / 2)
            svc.proc.send_signal(signal.SIGSTOP)
        finally:
            self.redis.cont()
        try:
            time.sleep(2 * timeout_ms / 1000 + 0.3)
        finally:
            svc.proc.send_signal(signal.SIGCONT)
        db = self.redis.client()
        for sid, s in zip(sids, socks):
            status = s.recv(4096).split(b" ")[1]
            s.close()
            self.assertIn('"used":true', db.call("GET", "auth_session:" + sid))
            self.assertEqual(status, b"200")
        self.assertEqual(metric(svc, "iframe_auth_redis_timeouts_total"), 0)

    def test_validation_late_in_redis_is_refused_there(self):
        # Redis busy for 0.7 s: the validation waits there past half its
        # 1 s deadline, so the script refuses it, and the link stays up.
        svc = self.service({"REDIS_TIMEOUT_MS": "1000"})
        self.assertTrue(self.wait_healthy(svc))
        sid = svc.request("POST", "/auth/create-session").json()["session_id"]
        db = self.make_redis_busy()
        r = svc.request("POST", "/auth/validate-session?session_id=" + sid)
        self.assertEqual(db.read_reply(), 1)
        self.assertEqual(r.status, 503, r.body)
        self.assertIn('"used":false', db.call("GET", "auth_session:" + sid))
        self.assertIn("validation reached redis after its deadline", svc.logs())
        self.assertNotIn("redis link down", svc.logs())
        self.assertEqual(svc.request("POST", "/auth/validate-session?session_id=" + sid).status, 200)

    def test_validation_waiting_at_a_silence_drop_agrees_with_redis(self):
        # A health check waits on a frozen Redis from t0; a validation goes
        # out at t0 + 2T - 0.25 s, just before the link drops for silence
        # at t0 + 2T, and Redis wakes right after the drop, before the
        # validation's limit (sent + T/2): Redis then runs it.  Its answer
        # must say what Redis did: 200 with the session used, or 503 with
        # the session unused.  Answering everything at the drop gave 503
        # with the session used.
        timeout = 1.0
        svc = self.service({"REDIS_TIMEOUT_MS": str(int(timeout * 1000))})
        self.assertTrue(self.wait_healthy(svc))
        db = self.redis.client()
        hits, statuses = 0, []
        for _ in range(3):
            sid = svc.request("POST", "/auth/create-session").json()[
                "session_id"]
            answers = {}

            def ask(name, method, path):
                answers[name] = svc.request(method, path, timeout=10)
            self.redis.stop()
            try:
                t0 = time.monotonic()
                health = threading.Thread(target=ask, args=(
                    "health", "GET", "/auth/redis-health"))
                health.start()
                time.sleep(t0 + 2 * timeout - 0.25 - time.monotonic())
                sent = time.monotonic()
                validate = threading.Thread(target=ask, args=(
                    "validate", "POST",
                    "/auth/validate-session?session_id=" + sid))
                validate.start()
                # The validation waits on the connection (the health check
                # had its 503 at t0 + T), then the link drops.
                waiting = wait_until(lambda: metrics(svc) == (1, 1), 0.2,
                                     0.005)
                self.assertTrue(wait_until(
                    lambda: metrics(svc)[0] == 0, 2, 0.002))
            finally:
                self.redis.cont()
            woke = time.monotonic() - sent
            validate.join(10)
            health.join(10)
            self.assertEqual(answers["health"].status, 503)
            status = answers["validate"].status
            self.assertIn(status, (200, 503), answers["validate"].body)
            self.assertTrue(self.wait_healthy(svc, 5))
            used = '"used":true' in db.call("GET", "auth_session:" + sid)
            self.assertEqual(status == 200, used,
                             "answered %d, session used: %s" % (status, used))
            hits += waiting and woke < timeout / 2 - 0.1
            statuses.append(status)
        db.close()
        print("\n  validations waiting at the drop answered %s" % statuses)
        self.assertIn('reason="nothing read from redis for 2000 ms"',
                      svc.logs())
        # Redis woke in time to run the validation at least once.
        self.assertGreater(hits, 0)

    def test_requests_waiting_when_link_drops_get_503_at_once(self):
        svc = self.service({"REDIS_TIMEOUT_MS": "3000"})
        self.assertTrue(self.wait_healthy(svc))
        self.redis.stop()
        results = []

        def ask():
            results.append(svc.get("/auth/redis-health", timeout=10))
        threads = [threading.Thread(target=ask) for _ in range(5)]
        for t in threads:
            t.start()
        self.wait_pending(svc, 5, 2.5)
        started = time.monotonic()
        self.redis.kill()
        for t in threads:
            t.join(10)
        # At the drop, not at the 3 s deadline.
        self.assertLess(time.monotonic() - started, 1.5)
        self.assertEqual([r.status for r in results], [503] * 5)

    def test_started_while_redis_down_then_recovers(self):
        self.redis.kill()
        svc = self.service({"REDIS_TIMEOUT_MS": str(TIMEOUT_MS)})
        self.assertEqual(svc.get("/healthz").status, 200)
        body = self.assert_unavailable(svc)
        self.assertIn("unreachable", body["message"])
        self.redis.start()
        self.assertTrue(self.wait_healthy(svc, 5))

    def test_pending_cap(self):
        svc = self.service({"REDIS_TIMEOUT_MS": "2000",
                            "REDIS_MAX_PENDING": "1"})
        self.assertTrue(self.wait_healthy(svc))
        self.redis.stop()
        try:
            first = {}
            t = threading.Thread(target=lambda: first.setdefault(
                "r", svc.get("/auth/redis-health", timeout=10)))
            t.start()
            self.wait_pending(svc, 1, 1.5)
            started = time.monotonic()
            r = svc.get("/auth/redis-health")
            self.assertEqual(r.status, 503)
            self.assertIn("waiting", r.json()["message"])
            # At once, not at the 2 s deadline.
            self.assertLess(time.monotonic() - started, 1.0)
            t.join(10)
            self.assertEqual(first["r"].status, 503)
        finally:
            self.redis.cont()
        self.assertTrue(self.wait_healthy(svc, 5))

    def test_pending_cap_counts_each_batched_validation_until_its_reply(self):
        # Redis busy for 1.5 s: eight validations wait on it and get 503
        # at their 0.5 s deadline, and still count against the cap of
        # eight until Redis answers; eight more sent meanwhile are turned
        # away at once, not queued behind them (from 1 s, when the link
        # drops for silence, because it is down).
        svc = self.service({"REDIS_TIMEOUT_MS": "500", "REDIS_MAX_PENDING": "8"})
        self.assertTrue(self.wait_healthy(svc))
        sids = [svc.request("POST", "/auth/create-session").json()["session_id"]
                for _ in range(16)]
        db = self.make_redis_busy(1.5)
        first = [socket.create_connection(("127.0.0.1", svc.port), timeout=5)
                 for _ in range(8)]
        for sid, s in zip(sids[:8], first):
            s.sendall(b"POST /auth/validate-session?session_id=%s HTTP/1.1\r\n"
                      b"Host: x\r\nContent-Length: 0\r\n\r\n" % sid.encode())
        for s in first:
            self.assertIn(b" 503 ", s.recv(4096))
            s.close()
        started = time.monotonic()
        second = [svc.request("POST", "/auth/validate-session?session_id=" + sid)
                  for sid in sids[8:]]
        # Less than one 0.5 s deadline for all eight.
        self.assertLess(time.monotonic() - started, 0.45)
        self.assertEqual([r.status for r in second], [503] * 8)
        self.assertEqual(db.read_reply(), 1)
        for sid in sids:
            self.assertIn('"used":false', db.call("GET", "auth_session:" + sid))

    def test_client_gone_while_waiting(self):
        svc = self.service({"REDIS_TIMEOUT_MS": "1000"})
        self.assertTrue(self.wait_healthy(svc))
        # wait_healthy's own polls may have had 503s while the link came
        # up: only the three requests below count.
        before = metric(svc, HEALTH_503, default=0)
        self.redis.stop()
        try:
            clients = [socket.create_connection(("127.0.0.1", svc.port),
                                                timeout=5) for _ in range(3)]
            for c in clients:
                c.sendall(b"GET /auth/redis-health HTTP/1.1\r\nHost: x\r\n\r\n")
            # All three wait on Redis, then their clients go before
            # the deadline.
            self.assertTrue(wait_until(lambda: metric(
                svc, "iframe_auth_redis_pending") == 3, 1.0))
            for c in clients:
                c.close()
            # Each is answered (into a closed socket) at its deadline, once,
            # and nothing waits.
            self.assertTrue(wait_until(lambda: metric(
                svc, "iframe_auth_redis_pending") == 0 and metric(
                svc, HEALTH_503, default=0) == before + 3, 1.0 + MARGIN))
            self.assertEqual(metric(svc, HEALTH_503), before + 3)
        finally:
            self.redis.cont()
        self.assertTrue(self.wait_healthy(svc, 5))
        self.assertEqual(svc.get("/healthz").status, 200)

    def test_unix_socket(self):
        svc = self.service({"REDIS_SOCKET": self.redis.unix,
                            "REDIS_PORT": "1"})
        self.assertTrue(self.wait_healthy(svc))

    def test_hostname_is_resolved(self):
        svc = self.service({"REDIS_HOST": "localhost"})
        self.assertTrue(self.wait_healthy(svc))

    def test_database_is_selected(self):
        svc = self.service({"REDIS_DB": "3"})
        self.assertTrue(self.wait_healthy(svc))
        c = self.redis.client()
        clients = c.call("CLIENT", "LIST")
        c.close()
        dbs = [line for line in clients.splitlines() if "db=3" in line]
        self.assertTrue(dbs, clients)
        # Selected again after a reconnect: the session lands in db 3.
        self.redis.kill()
        self.redis.start()
        self.assertTrue(self.wait_healthy(svc, 5))
        r = svc.request("POST", "/auth/create-session")
        self.assertEqual(r.status, 200, r.body)
        c = self.redis.client()
        c.call("SELECT", "3")
        self.assertIsNotNone(c.call("GET", "auth_session:" + r.json()["session_id"]))
        c.close()
        metrics = svc.get("/metrics").body.decode()
        self.assertIn("\niframe_auth_redis_reconnects_total 1\n", metrics)

    def test_backoff_reconnects_without_flooding_log(self):
        self.redis.kill()
        svc = self.service({"REDIS_TIMEOUT_MS": str(TIMEOUT_MS),
                            "LOG_LEVEL": "INFO"})
        time.sleep(3)
        log = svc.logs()
        # One warning when the trouble starts, not one per attempt.
        self.assertEqual(log.count("redis unreachable"), 1, log)
        self.redis.start()
        self.assertTrue(self.wait_healthy(svc, 5))

    def test_reconnects_back_off_from_50_ms_to_2_s(self):
        # A listener that hangs up on every connection: each accept is one
        # attempt of the link.
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        attempts = []

        def hang_up():
            while True:
                try:
                    conn, _ = listener.accept()
                except OSError:
                    return
                attempts.append(time.monotonic())
                conn.close()
        threading.Thread(target=hang_up, daemon=True).start()
        self.service({"REDIS_PORT": str(listener.getsockname()[1]),
                      "REDIS_TIMEOUT_MS": str(TIMEOUT_MS)})
        # Attempts at 0, 0.05, 0.15, 0.35, 0.75, 1.55, 3.15 and 5.15 s:
        # gaps doubling from 50 ms, then capped at 2 s (uncapped, the
        # eighth attempt would come at 6.35 s).
        wait_until(lambda: len(attempts) >= 8, 9)
        listener.close()
        del attempts[8:]
        gaps = [b - a for a, b in zip(attempts, attempts[1:])]
        self.assertEqual(len(gaps), 7, gaps)
        # Each gap against its own backoff, not against the gap before: a
        # late attempt on a busy machine (seen: 40 ms) lengthens its gap
        # but not the next, whose ratio to it then falls short.  Below by
        # when this thread got to accept an attempt, above by lateness.
        for gap, backoff in zip(gaps, (0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 2.0)):
            self.assertGreater(gap, backoff - 0.1, gaps)
            self.assertLess(gap, backoff + 0.5, gaps)
        self.assertLess(attempts[7] - attempts[0], 5.9, gaps)


if __name__ == "__main__":
    main()

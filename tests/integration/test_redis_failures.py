"""Redis failures beyond kill and stop: CLIENT PAUSE WRITE, maxmemory with
noeviction, every kind of error reply, garbage, oversized and split
replies, a reset in mid-reply, a connect that never completes, one slow
reply, a link that reaches a replica, a flood of iframe page loads, and
a sentinel that answers what no sentinel would.  Each ends in 503 within
the deadline, and the service recovers."""

import os
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from fake_redis import FakeRedis, FakeSentinel  # noqa: E402
from harness import ServiceTest, main, process_state, wait_until  # noqa: E402

TIMEOUT_MS = 400
# Every 503 comes at the deadline or sooner; the margin is for a busy
# machine, and small enough that a second deadline could not fit in it.
LIMIT = TIMEOUT_MS / 1000 + 0.4
SID = "550e8400-e29b-41d4-a716-446655440000"


def metric(svc, name):
    """The value of one unlabelled series in /metrics."""
    for line in svc.get("/metrics").body.decode().splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError("no metric " + name)


class RealRedisFailures(ServiceTest):
    def setUp(self):
        super().setUp()
        self.svc = self.healthy_service({"REDIS_TIMEOUT_MS": str(TIMEOUT_MS)})
        self.db = self.redis_client()

    def timed(self, method, path, body=None):
        started = time.monotonic()
        r = self.svc.request(method, path, body=body)
        return r, time.monotonic() - started

    def test_client_pause_write(self):
        sid = self.svc.request("POST", "/auth/create-session").json()["session_id"]
        self.db.call("CLIENT", "PAUSE", "2500", "WRITE")
        r, took = self.timed("POST", "/auth/create-session")
        self.assertEqual(r.status, 503)
        self.assertEqual(r.header("retry-after"), "1")
        self.assertLess(took, LIMIT)
        r, took = self.timed("POST", "/auth/validate-session?session_id=" + sid)
        self.assertEqual(r.status, 503)
        self.assertLess(took, LIMIT)
        # Reads are not paused.
        self.assertTrue(self.wait_healthy(self.svc, 3))
        self.db.call("CLIENT", "UNPAUSE")
        self.assertTrue(wait_until(lambda: self.svc.request(
            "POST", "/auth/create-session").status == 200, 5))

    def test_maxmemory_noeviction(self):
        sid = self.svc.request("POST", "/auth/create-session").json()["session_id"]
        spare = self.svc.request("POST", "/auth/create-session").json()["session_id"]
        self.db.call("CONFIG", "SET", "maxmemory-policy", "noeviction")
        self.db.call("CONFIG", "SET", "maxmemory", "1")
        try:
            for method, path in (("POST", "/auth/create-session"),
                                 ("POST", "/auth/validate-session?session_id=" + sid)):
                r, took = self.timed(method, path)
                self.assertEqual(r.status, 503, r.body)
                self.assertLess(took, LIMIT)
            self.assertEqual(self.svc.get("/auth/redis-health").status, 200)
            # Reading and revoking still work: they need no memory.
            self.assertEqual(self.svc.get("/auth/session-status").json()["total_sessions"], 2)
            self.assertEqual(self.svc.get("/auth/sessions").status, 200)
            self.assertEqual(self.svc.request("DELETE", "/auth/sessions/" + spare).status, 204)
        finally:
            self.db.call("CONFIG", "SET", "maxmemory", "0")
        self.assertEqual(self.svc.request("POST", "/auth/validate-session?session_id=" + sid).status, 200)
        self.assertEqual(self.svc.request("POST", "/auth/create-session").status, 200)


class FakeRedisFailures(ServiceTest):
    start_redis = False

    def start_on(self, fake, wait=True, timeout_ms=TIMEOUT_MS):
        svc = self.service({"REDIS_PORT": str(fake.port),
                            "REDIS_TIMEOUT_MS": str(timeout_ms)})
        if wait:
            self.assertTrue(wait_until(lambda: fake.handshakes > 0, 5))
        return svc

    ROUTES = (("GET", "/auth/redis-health"),
              ("POST", "/auth/create-session"),
              ("POST", "/auth/validate-session?session_id=" + SID))

    def assert_503_in_time(self, svc, routes=ROUTES, limit=LIMIT):
        for method, path in routes:
            started = time.monotonic()
            r = svc.request(method, path)
            self.assertEqual(r.status, 503, (method, path, r.body))
            self.assertEqual(r.header("retry-after"), "1")
            self.assertLess(time.monotonic() - started, limit)

    def recover(self, fake, svc):
        fake.mode = "ok"
        self.assertTrue(self.wait_healthy(svc, 5))

    def test_error_replies(self):
        fake = FakeRedis("ok")
        svc = self.start_on(fake)
        self.assertTrue(self.wait_healthy(svc))
        for err in ("LOADING Redis is loading the dataset in memory",
                    "READONLY You can't write against a read only replica.",
                    "NOAUTH Authentication required.",
                    "OOM command not allowed when used memory > 'maxmemory'.",
                    "BUSY Redis is busy running a script.",
                    "MISCONF Redis is configured to save RDB snapshots",
                    "ERR unknown command"):
            fake.mode = "error:" + err
            self.assert_503_in_time(svc)
            body = svc.get("/auth/redis-health").json()
            self.assertIn(err.split()[0], body["message"])
            self.recover(fake, svc)
        fake.close()

    def test_garbage_oversized_reset_silent(self):
        # Each route meets the bad reply itself: the first to do so drops
        # the link, and the next would only see the link down.
        fake = FakeRedis("ok")
        svc = self.start_on(fake)
        for mode in ("garbage", "oversized", "huge-array", "reset", "silent"):
            for route in self.ROUTES:
                self.assertTrue(self.wait_healthy(svc, 5), mode)
                fake.mode = mode
                # A huge array is refused as soon as it is announced, not
                # at the deadline.
                self.assert_503_in_time(svc, [route], TIMEOUT_MS / 2000
                                        if mode == "huge-array" else LIMIT)
                self.recover(fake, svc)
        self.assertIn("reply announced an array over the limit", svc.logs())
        self.assertEqual(svc.get("/healthz").status, 200)
        fake.close()

    def test_unexpected_reply_to_validate_is_503(self):
        # The fake answers :1 to the validate script, which never says
        # that: not already_used, nor anything but 503.
        fake = FakeRedis("ok")
        svc = self.start_on(fake)
        self.assertTrue(self.wait_healthy(svc))
        self.assert_503_in_time(svc, self.ROUTES[2:])
        fake.close()

    def test_reply_split_into_single_bytes(self):
        record = ('{"used":true,"used_at":"2026-11-22T10:30:05Z",'
                  '"iframe_opened":false,"session_id":"%s",'
                  '"created_at":"2026-11-22T10:30:00Z",'
                  '"expires_at":"2026-11-22T11:00:00Z"}' % SID).encode()
        fake = FakeRedis("split")
        fake.answers[b"EVALSHA"] = b"$%d\r\n%s\r\n" % (len(record), record)
        # Some 200 writes a millisecond apart: a deadline with room.
        svc = self.start_on(fake, timeout_ms=5000)
        self.assertTrue(self.wait_healthy(svc, 5))
        r = svc.request(*self.ROUTES[2])
        self.assertEqual(r.status, 200, r.body)
        body = r.json()
        self.assertRegex(body.pop("embed_token"), r"^[A-Za-z0-9_-]{43}$")
        self.assertRegex(body.pop("embed_expires_at"),
                         r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        self.assertEqual(body, {"valid": True, "session_id": SID,
                                    "used_at": "2026-11-22T10:30:05Z",
                                    "created_at": "2026-11-22T10:30:00Z",
                                    "expires_at": "2026-11-22T11:00:00Z"})
        fake.close()

    def test_one_slow_command_times_out_alone(self):
        # Redis answers in order: one reply held back 1.4 s holds back the
        # replies behind it.  The slow command's caller gets 503 at its
        # 1 s deadline; a request sent 0.7 s later waits 0.7 s and gets its
        # answer; the link stays up throughout.
        fake = FakeRedis("ok")
        svc = self.start_on(fake, timeout_ms=1000)
        self.assertTrue(self.wait_healthy(svc))
        fake.delays[b"PING"] = [1.4]
        pings = fake.received.count(b"PING")
        slow = {}

        def ask():
            started = time.monotonic()
            slow["r"] = svc.get("/auth/redis-health")
            slow["took"] = time.monotonic() - started
        t = threading.Thread(target=ask)
        t.start()
        # 0.7 s after the slow PING reached Redis, however late the thread
        # got to send it.
        self.assertTrue(wait_until(
            lambda: fake.received.count(b"PING") > pings, 2, 0.005))
        time.sleep(0.7)
        started = time.monotonic()
        r = svc.request("POST", "/auth/create-session")
        behind = time.monotonic() - started
        t.join(10)
        self.assertEqual(slow["r"].status, 503, slow["r"].body)
        self.assertIn("no reply from redis within 1000 ms",
                      slow["r"].json()["message"])
        self.assertTrue(0.9 < slow["took"] < 1.5, slow["took"])
        self.assertEqual(r.status, 200, r.body)
        self.assertTrue(0.4 < behind < 1.0, behind)
        self.assertEqual(svc.get("/auth/redis-health").status, 200)
        self.assertEqual(fake.handshakes, 1)
        self.assertEqual(metric(svc, "iframe_auth_redis_up"), 1)
        self.assertEqual(metric(svc, "iframe_auth_redis_reconnects_total"), 0)
        self.assertEqual(metric(svc, "iframe_auth_redis_timeouts_total"), 1)
        self.assertEqual(metric(svc, "iframe_auth_redis_pending"), 0)
        self.assertNotIn("redis link down", svc.logs())
        fake.close()

    def start_with_scripts_missing(self, timeout_ms, noscript_after):
        """A healthy service on a fake Redis that answers every EVALSHA
        NOSCRIPT, noscript_after seconds late."""
        fake = FakeRedis("ok")
        svc = self.start_on(fake, timeout_ms=timeout_ms)
        self.assertTrue(self.wait_healthy(svc))
        fake.answers[b"EVALSHA"] = b"-NOSCRIPT No matching script.\r\n"
        fake.delays[b"EVALSHA"] = [noscript_after]
        return fake, svc

    def test_script_sent_again_after_noscript_keeps_its_deadline(self):
        # NOSCRIPT comes back 0.6 s into a 1 s deadline, and the script
        # sent again whole gets its answer 1.8 s later: its caller hears
        # 503 at the first send's deadline, not 1 s after the resend.  The
        # link, silent 1.8 s since the NOSCRIPT, is kept: two deadlines of
        # silence count from the last reply read, not from the first send.
        fake, svc = self.start_with_scripts_missing(1000, 0.6)
        fake.delays[b"EVAL"] = [1.8]
        started = time.monotonic()
        r = svc.request("POST", "/auth/validate-session?session_id=" + SID)
        took = time.monotonic() - started
        self.assertEqual(r.status, 503, r.body)
        self.assertTrue(0.9 < took < 1.45, took)
        self.assertIn(b"EVAL", fake.received)
        self.assertIn("script missing in redis", svc.logs())
        self.assertTrue(wait_until(
            lambda: "late redis reply ignored" in svc.logs(), 3))
        self.assertNotIn("redis link down", svc.logs())
        self.assertEqual(metric(svc, "iframe_auth_redis_reconnects_total"), 0)
        fake.close()

    def test_script_missing_past_its_deadline_is_not_sent_again(self):
        # The NOSCRIPT is read only after the deadline (the service was
        # stopped meanwhile): the script is not sent again, as what it
        # would do is what its caller hears 503 for.
        # The NOSCRIPT comes while the service is stopped.
        fake, svc = self.start_with_scripts_missing(500, 0.3)
        result = {}
        t = threading.Thread(target=lambda: result.setdefault(
            "r", svc.request("POST", "/auth/create-session")))
        t.start()
        self.assertTrue(wait_until(lambda: b"EVALSHA" in fake.received, 3))
        svc.proc.send_signal(signal.SIGSTOP)
        try:
            self.assertTrue(wait_until(
                lambda: process_state(svc.proc.pid) == "T", 0.25, 0.005))
            time.sleep(0.8)
        finally:
            svc.proc.send_signal(signal.SIGCONT)
        t.join(10)
        self.assertEqual(result["r"].status, 503, result["r"].body)
        self.assertEqual(svc.get("/auth/redis-health").status, 200)
        self.assertNotIn(b"EVAL", fake.received)
        fake.close()

    def test_wrong_node_then_healthy_node_recovers(self):
        # The connection reaches a node that refuses every command (a
        # replica, a replica cut off from its master, a server that lost
        # our AUTH) while the next connection would reach a healthy one:
        # the refusal drops the link, and it comes back without a restart.
        for err in ("READONLY You can't write against a read only replica.",
                    "NOAUTH Authentication required.",
                    "MASTERDOWN Link with MASTER is down and "
                    "replica-serve-stale-data is set to 'no'."):
            fake = FakeRedis("error:" + err, per_connection=True)
            svc = self.start_on(fake)
            self.assertTrue(wait_until(lambda: metric(
                svc, "iframe_auth_redis_up") == 1, 5))
            r = svc.request("POST", "/auth/create-session")
            self.assertEqual(r.status, 503, r.body)
            fake.mode = "ok"
            self.assertTrue(wait_until(lambda: svc.request(
                "POST", "/auth/create-session").status == 200, 5), err)
            self.assertGreaterEqual(fake.handshakes, 2)
            self.assertGreaterEqual(
                metric(svc, "iframe_auth_redis_reconnects_total"), 1)
            self.assertIn("reason=\"%s reply\"" % err.split()[0], svc.logs())
            svc.stop()
            fake.close()

    def test_node_that_stays_readonly_is_asked_again_with_backoff(self):
        # Every write drops the link, but reconnects back off (50 ms
        # doubling) instead of following the request rate.
        fake = FakeRedis("error:READONLY You can't write against a read "
                         "only replica.")
        svc = self.start_on(fake)
        self.assertTrue(wait_until(lambda: metric(
            svc, "iframe_auth_redis_up") == 1, 5))
        started = time.monotonic()
        statuses = set()
        while time.monotonic() - started < 2:
            statuses.add(svc.request("POST", "/auth/create-session").status)
        self.assertEqual(statuses, {503})
        # 50 + 100 + 200 + 400 + 800 ms: six connections in 2 s at most,
        # where one per request would be dozens.
        self.assertLessEqual(fake.handshakes, 7)
        self.assertGreaterEqual(fake.handshakes, 3)
        fake.close()

    def test_iframe_page_flood_sends_at_most_16_marks(self):
        # Redis holds every answer back; 100 page loads are served at
        # once, and only 16 of their marks reach Redis.
        # The marks' deadline is long, so that none of the first 16 times
        # out (freeing its place) while the pages are loaded, even on a
        # busy machine; a page that waited for its mark would take all of
        # it.
        fake = FakeRedis("ok")
        svc = self.start_on(fake, timeout_ms=10000)
        self.assertTrue(self.wait_healthy(svc))
        fake.mode = "silent"
        page = "/client/iframe.html?session_id=" + SID
        started = time.monotonic()
        for _ in range(100):
            self.assertEqual(svc.get(page).status, 200)
        self.assertLess(time.monotonic() - started, 8)
        self.assertTrue(wait_until(
            lambda: fake.received.count(b"EVALSHA") >= 16, 2))
        self.assertEqual(fake.received.count(b"EVALSHA"), 16)
        self.assertEqual(
            metric(svc, "iframe_auth_iframe_marks_dropped_total"), 84)
        # Once Redis answers, marks are sent again.
        fake.mode = "ok"
        self.assertTrue(wait_until(lambda: metric(
            svc, "iframe_auth_redis_pending") == 0, 5))
        self.assertEqual(svc.get(page).status, 200)
        self.assertTrue(wait_until(
            lambda: fake.received.count(b"EVALSHA") == 17, 2))
        self.assertEqual(fake.handshakes, 1)
        fake.close()

    def test_health_names_the_cause_only_to_a_key_holder(self):
        fake = FakeRedis("error:ERR secret-detail from 127.0.0.1")
        svc = self.service({"REDIS_PORT": str(fake.port),
                            "REDIS_TIMEOUT_MS": str(TIMEOUT_MS),
                            "API_KEY": "key-one,key-two"})
        self.assertTrue(wait_until(lambda: fake.handshakes > 0, 5))
        for headers in ({}, {"Authorization": "Bearer wrong"}):
            r = svc.get("/auth/redis-health", headers=headers)
            body = self.assertJsonResponse(r, 503)
            self.assertEqual(set(body), {"status", "message", "timestamp"})
            self.assertEqual(body["status"], "unhealthy")
            self.assertEqual(body["message"], "redis unavailable")
            for secret in ("secret", "127.0.0.1", str(fake.port), "ERR"):
                self.assertNotIn(secret, r.body.decode())
        r = svc.get("/auth/redis-health",
                    headers={"Authorization": "Bearer key-two"})
        self.assertIn("ERR secret-detail", self.assertJsonResponse(r, 503)["message"])
        # Healthy: the same to everyone, with the latency.
        fake.mode = "ok"
        body = self.assertJsonResponse(svc.get("/auth/redis-health"), 200)
        self.assertEqual(body["message"], "redis answered PING")
        self.assertGreater(body["latency_ms"], 0)
        # Unreachable: the cause (here a name that cannot resolve) is the
        # key holder's only.
        fake.close()
        svc.stop()
        svc = self.service({"REDIS_HOST": "redis-host.invalid",
                            "REDIS_TIMEOUT_MS": str(TIMEOUT_MS),
                            "API_KEY": "key-one"})
        time.sleep(TIMEOUT_MS / 1000 * 2)
        r = svc.get("/auth/redis-health")
        self.assertEqual(self.assertJsonResponse(r, 503)["message"],
                         "redis unavailable")
        self.assertNotIn("redis-host", r.body.decode())
        r = svc.get("/auth/redis-health",
                    headers={"Authorization": "Bearer key-one"})
        self.assertNotEqual(self.assertJsonResponse(r, 503)["message"],
                            "redis unavailable")

    def test_connect_that_never_completes(self):
        fake = FakeRedis(accept=False)
        svc = self.start_on(fake, wait=False)
        time.sleep(TIMEOUT_MS / 1000 * 2)
        self.assert_503_in_time(svc)
        self.assertIn("no answer within", svc.get("/auth/redis-health").json()["message"])
        fake.start_accepting()
        self.assertTrue(self.wait_healthy(svc, 8))
        fake.close()



class FakeSentinelFailures(ServiceTest):
    start_redis = False

    def test_sentinel_announcing_a_huge_array_never_holds_the_loop(self):
        # hiredis allocates an announced array whole, and frees it element
        # by element: 200 million elements held the loop for seconds at
        # every question, so that no request was answered meanwhile.
        sentinel = FakeSentinel(b"*200000000\r\n")
        svc = self.service({"REDIS_SENTINELS": "127.0.0.1:%d" % sentinel.port,
                            "REDIS_TIMEOUT_MS": str(TIMEOUT_MS)})
        slowest = 0.0
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            started = time.monotonic()
            self.assertEqual(svc.get("/healthz").status, 200)
            slowest = max(slowest, time.monotonic() - started)
            time.sleep(0.05)
        self.assertGreaterEqual(sentinel.asked, 2)
        # Nothing here waits on Redis: the margin is a busy machine's,
        # well under the seconds a hold took.
        self.assertLess(slowest, 1.0)
        self.assertEqual(svc.get("/auth/redis-health").status, 503)
        self.assertIn("reply announced an array over the limit", svc.logs())
        sentinel.close()


if __name__ == "__main__":
    main()

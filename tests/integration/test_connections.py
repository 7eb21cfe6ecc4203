"""Hostile clients at the connection level (§7): slowloris, idle
connections, MAX_CONNECTIONS, running out of descriptors, the listen
backlog, clients that reset mid-response; and load, with Redis killed in
the middle of it."""

import collections
import http.client
import json
import os
import resource
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import STATIC_DIR, ServiceTest, main, wait_until  # noqa: E402


def open_fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def closed_within(sock, seconds):
    """Seconds until the peer closed sock, or None if it stayed open."""
    sock.settimeout(0.1)
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        try:
            if sock.recv(4096) == b"":
                return time.monotonic() - started
        except socket.timeout:
            pass
        except OSError:
            return time.monotonic() - started
    return None


def reset(sock):
    """Closes sock with a TCP reset instead of an orderly shutdown."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


HEALTHZ = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"


class Connections(ServiceTest):
    def connect(self, svc):
        sock = socket.create_connection(("127.0.0.1", svc.port), timeout=5)
        self.addCleanup(sock.close)
        return sock

    def keep_alive(self, svc):
        """A connection that has had one request answered and stays open,
        idle, between requests."""
        sock = self.connect(svc)
        sock.sendall(HEALTHZ)
        self.assertIn(b"200 OK", sock.recv(4096))
        return sock

    def busy(self, svc):
        """A connection with a request in progress (its headers not yet
        complete), which no cap may close."""
        sock = self.connect(svc)
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        return sock

    def served_within(self, svc, seconds):
        """Seconds a new client waited for its answer, or None."""
        started = time.monotonic()
        sock = self.connect(svc)
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        sock.settimeout(seconds)
        try:
            answer = sock.recv(4096)
        except socket.timeout:
            return None
        self.assertIn(b"200 OK", answer)
        return time.monotonic() - started

    def stop_took(self, svc):
        """Sends SIGTERM and returns the seconds until the service exited,
        with exit status 0."""
        started = time.monotonic()
        code = svc.stop()
        took = time.monotonic() - started
        self.assertEqual(code, 0, svc.logs()[-3000:])
        return took

    def trickle(self, head, body=b""):
        """Sends head at once, then body a byte every 0.2 s, on a service
        with a 2 s request deadline; asserts the connection is closed at
        that deadline while other clients are served."""
        svc = self.service({"HTTP_REQUEST_TIMEOUT_SECONDS": "2",
                            "HTTP_IDLE_TIMEOUT_SECONDS": "30"})
        slow = self.connect(svc)
        started = time.monotonic()
        closed = None
        served = 0
        try:
            slow.sendall(head)
        except OSError:
            closed = 0
        for byte in body if closed is None else b"":
            try:
                slow.sendall(bytes([byte]))
            except OSError:
                closed = time.monotonic() - started
                break
            # Other clients are served meanwhile.
            if svc.get("/healthz", timeout=2).status == 200:
                served += 1
            time.sleep(0.2)
            if time.monotonic() - started > 4:
                break
        if closed is None:
            left = closed_within(slow, 3)
            closed = None if left is None else time.monotonic() - started
        slow.close()
        self.assertIsNotNone(closed, "the trickling connection stayed open")
        self.assertGreaterEqual(closed, 1.8)
        self.assertLess(closed, 3.5)
        self.assertGreater(served, 5)

    def test_slowloris_closed_within_request_deadline(self):
        self.trickle(b"", b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 100)

    def test_trickled_body_closed_within_request_deadline(self):
        self.trickle(b"POST /auth/create-session HTTP/1.1\r\nHost: x\r\n"
                     b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n",
                     b"{" + b" " * 98 + b"}")

    def test_pipelined_partial_request_meets_the_deadline(self):
        # A whole request and the start of another in one write: the
        # second one's deadline starts as soon as the first is answered.
        svc = self.service({"HTTP_REQUEST_TIMEOUT_SECONDS": "2",
                            "HTTP_IDLE_TIMEOUT_SECONDS": "30"})
        sock = self.connect(svc)
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
                     b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        self.assertIn(b"200 OK", sock.recv(4096))
        left = closed_within(sock, 5)
        sock.close()
        self.assertIsNotNone(left, "the unfinished request stayed open")
        self.assertGreater(left, 1.5)
        self.assertLess(left, 3)

    def test_idle_connection_closed(self):
        svc = self.service({"HTTP_IDLE_TIMEOUT_SECONDS": "1"})
        idle = self.connect(svc)
        took = closed_within(idle, 4)
        idle.close()
        self.assertIsNotNone(took)
        self.assertLess(took, 2.5)
        # A kept-alive connection goes idle after its reply too.
        conn = self.connect(svc)
        conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertIn(b"200", conn.recv(4096))
        took = closed_within(conn, 4)
        conn.close()
        self.assertIsNotNone(took)

    def test_max_connections_pauses_accepting(self):
        # Every connection in the middle of a request: none can be closed
        # to make room, so accepting pauses until one closes.
        svc = self.service({"MAX_CONNECTIONS": "5", "HTTP_IDLE_TIMEOUT_SECONDS": "30"})
        held = [self.busy(svc) for _ in range(5)]
        # All five accepted (however busy the machine) before the next.
        self.assertTrue(wait_until(
            lambda: "connection limit reached" in svc.logs(), 5))
        waiting = self.connect(svc)  # queued by the kernel, not accepted
        waiting.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        waiting.settimeout(0.7)
        with self.assertRaises(socket.timeout):
            waiting.recv(4096)
        held.pop().close()
        waiting.settimeout(3)
        self.assertIn(b"200 OK", waiting.recv(4096))
        for s in held:
            s.close()
        waiting.close()
        self.assertTrue(wait_until(lambda: svc.get("/healthz").status == 200, 3))

    def test_cap_full_of_idle_keep_alives_serves_a_new_client(self):
        # One client holds every connection, each idle after a request:
        # each new client that stays connected takes the place of the
        # connection idle the longest.
        svc = self.service({"MAX_CONNECTIONS": "5", "HTTP_IDLE_TIMEOUT_SECONDS": "30"})
        held = [self.keep_alive(svc) for _ in range(5)]
        for _ in range(3):
            started = time.monotonic()
            held.append(self.keep_alive(svc))
            # Not until an idle timeout (30 s).
            self.assertLess(time.monotonic() - started, 3, "a new client waited")
        for sock in held[:3]:
            self.assertIsNotNone(closed_within(sock, 1))
        # The rest are still served on their kept-alive connections.
        for sock in held[3:]:
            sock.sendall(HEALTHZ)
            self.assertIn(b"200 OK", sock.recv(4096))
        self.assertEqual(svc.logs().count("closing the connection idle the longest"), 3)

    def test_cap_full_of_silent_connections_serves_a_new_client(self):
        # Connections that never sent a byte are between requests too.
        svc = self.service({"MAX_CONNECTIONS": "5", "HTTP_IDLE_TIMEOUT_SECONDS": "30"})
        held = [self.connect(svc) for _ in range(5)]
        time.sleep(0.3)
        took = self.served_within(svc, 3)
        self.assertIsNotNone(took, "a new client was locked out")
        self.assertLess(took, 2.5)  # not until an idle timeout (30 s)
        self.assertIsNotNone(closed_within(held[0], 1))
        for sock in held:
            sock.close()

    def test_connection_going_idle_at_the_cap_admits_a_waiting_client(self):
        # The cap is full of requests in progress and a client waits in
        # the backlog; as soon as one request is answered and its
        # connection goes idle, the waiting client gets its place.
        svc = self.service({"MAX_CONNECTIONS": "3", "HTTP_IDLE_TIMEOUT_SECONDS": "30"})
        held = [self.busy(svc) for _ in range(3)]
        self.assertTrue(wait_until(
            lambda: "connection limit reached" in svc.logs(), 5))
        waiting = self.connect(svc)
        waiting.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        waiting.settimeout(0.5)
        with self.assertRaises(socket.timeout):
            waiting.recv(4096)
        held[1].sendall(b"\r\n")
        self.assertIn(b"200 OK", held[1].recv(4096))
        waiting.settimeout(1)
        self.assertIn(b"200 OK", waiting.recv(4096))
        self.assertIsNotNone(closed_within(held[1], 1))
        for sock in held + [waiting]:
            sock.close()

    def test_listen_backlog_is_not_libevents_128(self):
        with open("/proc/sys/net/core/somaxconn") as f:
            somaxconn = int(f.read())
        if somaxconn <= 128:
            self.skipTest("net.core.somaxconn %d caps every backlog" % somaxconn)
        svc = self.service()
        out = subprocess.run(["ss", "-ltnH", "sport = :%d" % svc.port],
                             capture_output=True, text=True, check=True).stdout
        # Listening sockets show their backlog as Send-Q.
        backlogs = [int(line.split()[2]) for line in out.splitlines()]
        self.assertEqual(len(backlogs), 1, out)
        self.assertGreaterEqual(backlogs[0], min(511, somaxconn), out)

    def test_listens_on_ipv6(self):
        try:
            with socket.socket(socket.AF_INET6) as s:
                s.bind(("::1", 0))
        except OSError:
            self.skipTest("no IPv6 loopback")
        svc = self.service({"HOST": "::1"}, start=False)
        svc.start(wait=False)
        self.assertTrue(wait_until(lambda: "listening host=::1" in svc.logs(), 10),
                        svc.logs())
        with socket.create_connection(("::1", svc.port), timeout=5) as sock:
            sock.sendall(HEALTHZ)
            self.assertIn(b"200 OK", sock.recv(4096))

    def refused_start(self, host, port=None):
        """Starts the service on host (and port) and returns its log,
        once it has exited with status 1."""
        svc = self.service({"HOST": host}, start=False)
        if port is not None:
            svc.port = port
            svc.env["PORT"] = str(port)
        svc.start(wait=False)
        self.assertEqual(svc.proc.wait(10), 1)
        svc.stop()
        # Exit status 1 was the point; tearDown still reads the log for
        # sanitizer reports.
        svc.exit_code = 0
        return svc.logs(), svc.port

    def test_busy_port_stops_startup_with_a_clear_error(self):
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            log, port = self.refused_start("127.0.0.1", taken.getsockname()[1])
        self.assertIn('cannot listen host=127.0.0.1 port=%d error="Address already in use"'
                      % port, log)

    def test_address_not_ours_stops_startup_with_a_clear_error(self):
        # 192.0.2.1 is TEST-NET-1: on no interface of this machine.
        log, port = self.refused_start("192.0.2.1")
        self.assertIn('cannot listen host=192.0.2.1 port=%d error="Cannot assign requested address"'
                      % port, log)

    def test_reset_mid_response_then_sigterm_exits_at_once(self):
        # A reply too big for the socket buffers, and a client that reads
        # its start and then resets: the request is gone, so SIGTERM has
        # nothing to wait for.
        static = os.path.join(self.workdir, "static")
        shutil.copytree(STATIC_DIR, static)
        with open(os.path.join(static, "big.txt"), "wb") as f:
            f.write(b"x" * (4 << 20))
        svc = self.service({"STATIC_DIR": static})
        sock = socket.socket()
        self.addCleanup(sock.close)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.settimeout(5)
        sock.connect(("127.0.0.1", svc.port))
        sock.sendall(b"GET /big.txt HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertIn(b"200 OK", sock.recv(4096))
        time.sleep(0.2)
        reset(sock)
        time.sleep(0.3)
        self.assertLess(self.stop_took(svc), 2.5)  # the drain cap is 5 s
        self.assertIn("stopped in-flight=0", svc.logs())

    def test_reset_while_waiting_on_redis_then_sigterm_exits_at_once(self):
        # The client resets while its request waits on a frozen Redis; the
        # 503 then meets a dead socket.
        svc = self.service()
        self.assertTrue(self.wait_healthy(svc))
        self.redis.stop()
        sock = self.connect(svc)
        sock.sendall(b"POST /auth/validate-session?session_id=%s HTTP/1.1\r\n"
                     b"Host: x\r\nContent-Length: 0\r\n\r\n"
                     % b"1b4e28ba-2fa1-4d3b-a3f5-ef19b5a7633b")
        time.sleep(0.2)
        reset(sock)
        # The deadline (REDIS_TIMEOUT_MS 500) passes and the answer fails.
        self.assertTrue(wait_until(lambda: "status=503" in svc.logs(), 3))
        time.sleep(0.2)
        self.redis.cont()
        self.assertLess(self.stop_took(svc), 2.5)  # the drain cap is 5 s
        self.assertIn("stopped in-flight=0", svc.logs())

    def test_out_of_descriptors_pauses_without_spinning(self):
        svc = self.service({"MAX_CONNECTIONS": "1000", "HTTP_IDLE_TIMEOUT_SECONDS": "30"},
                           start=False)
        svc.preexec = lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))
        svc.start()
        socks = []
        for _ in range(100):
            try:
                socks.append(self.connect(svc))
            except OSError:
                break
        time.sleep(0.5)
        before = cpu_seconds(svc.proc.pid)
        time.sleep(1.5)
        spent = cpu_seconds(svc.proc.pid) - before
        self.assertLess(spent, 0.3, "accept loop spinning")
        log = svc.logs()
        self.assertEqual(log.count("out of descriptors"), 1, log[-2000:])
        for s in socks:
            s.close()
        self.assertTrue(wait_until(lambda: svc.get("/healthz", timeout=2).status == 200, 5))
        self.assertIn("descriptors available again", svc.logs())

    def test_500_idle_connections_and_descriptors_back_to_baseline(self):
        svc = self.service({"HTTP_IDLE_TIMEOUT_SECONDS": "30"})
        self.assertTrue(self.wait_healthy(svc))
        time.sleep(0.5)  # let the health checks' connections close
        baseline = open_fds(svc.proc.pid)
        idle = [self.connect(svc) for _ in range(500)]
        # Every one accepted: a descriptor each (a few may still be
        # closing from before).
        self.assertTrue(wait_until(lambda: open_fds(svc.proc.pid) >= baseline + 495, 10),
                        (open_fds(svc.proc.pid), baseline))
        started = time.monotonic()
        sid = svc.request("POST", "/auth/create-session").json()["session_id"]
        r = svc.request("POST", "/auth/validate-session?session_id=" + sid)
        self.assertEqual(r.status, 200)
        self.assertLess(time.monotonic() - started, 2)
        for s in idle:
            s.close()
        self.assertTrue(wait_until(lambda: open_fds(svc.proc.pid) <= baseline, 5),
                        (open_fds(svc.proc.pid), baseline))


class Load(ServiceTest):
    CLIENTS = 50
    SECONDS = 10

    def run_load(self, svc, seconds, during=None):
        """Clients create and validate until time is up; each also replays
        the session another client has just validated, so that every
        session is validated twice, from two connections.  Returns the
        create statuses, the validations as (sid, status, body), the
        requests dropped (the connection closed or reset instead of an
        answer) and the other problems (hangs, answers that are not the
        request's)."""
        stop = threading.Event()
        lock = threading.Lock()
        creates, validates, dropped, problems = [], [], [], []
        latest = [None] * self.CLIENTS

        def ask(conn, path):
            conn.request("POST", path)
            r = conn.getresponse()
            return r.status, json.loads(r.read())

        def validate(conn, sid):
            status, body = ask(conn, "/auth/validate-session?session_id=" + sid)
            # An answer meant for another request (one answered twice)
            # would show here.
            if status < 500 and (body.get("valid") is not (status == 200) or
                                 body.get("session_id", sid) != sid):
                raise ValueError("not this validation's answer: %r" % body)
            with lock:
                validates.append((sid, status, body))

        def client(k):
            conn = http.client.HTTPConnection("127.0.0.1", svc.port, timeout=5)
            while not stop.is_set():
                try:
                    status, body = ask(conn, "/auth/create-session")
                    with lock:
                        creates.append(status)
                    if status != 200:
                        continue
                    sid = body["session_id"]
                    validate(conn, sid)
                    other = latest[(k + 1) % self.CLIENTS]
                    latest[k] = sid
                    if other is not None:
                        validate(conn, other)
                except socket.timeout as e:
                    with lock:
                        problems.append("hang: %r" % e)
                    conn.close()
                except (KeyError, TypeError, AttributeError) as e:
                    with lock:
                        problems.append("malformed answer: %r" % e)
                    conn.close()
                except ConnectionError as e:
                    # The service answers "Connection: close" before it
                    # closes (http.client then reconnects by itself), and
                    # no connection goes idle for long here: a close or
                    # reset instead of an answer is a dropped request.
                    with lock:
                        dropped.append(repr(e))
                    conn.close()
                except (OSError, http.client.HTTPException, ValueError) as e:
                    with lock:
                        problems.append(repr(e))
                    conn.close()
            conn.close()
        threads = [threading.Thread(target=client, args=(k,))
                   for k in range(self.CLIENTS)]
        for t in threads:
            t.start()
        if during:
            during()
        time.sleep(seconds)
        stop.set()
        for t in threads:
            t.join(15)
        self.assertFalse(any(t.is_alive() for t in threads), "a client hung")
        return creates, validates, dropped, problems

    def assert_one_success_each(self, validates):
        successes = collections.Counter(sid for sid, s, _ in validates if s == 200)
        self.assertEqual([sid for sid, n in successes.items() if n > 1], [],
                         "a session validated twice")
        replays = collections.Counter(sid for sid, _, _ in validates)
        self.assertGreater(sum(1 for n in replays.values() if n > 1), 100)
        return sum(successes.values())

    def stats(self):
        db = self.redis.client()
        h = db.call("HGETALL", "auth_stats")
        db.close()
        d = dict(zip(h[::2], h[1::2]))
        return int(d.get("total_created", 0)), int(d.get("total_used", 0))

    def test_load(self):
        # A deadline with room: this run is about answers, not timing.
        svc = self.service({"MAX_SESSIONS": "0", "LOG_LEVEL": "WARNING",
                            "REDIS_TIMEOUT_MS": "3000"})
        self.assertTrue(self.wait_healthy(svc))
        baseline = open_fds(svc.proc.pid)
        creates, validates, dropped, problems = self.run_load(svc, self.SECONDS)
        self.assertEqual(dropped, [])
        self.assertEqual(problems, [])
        self.assertEqual([s for s in creates if s >= 500], [])
        self.assertEqual([s for _, s, _ in validates if s >= 500], [])
        ok = self.assert_one_success_each(validates)
        # Every replay found its session used.
        self.assertEqual({(s, b.get("reason")) for _, s, b in validates if s != 200},
                         {(401, "already_used")})
        self.assertEqual(self.stats(), (creates.count(200), ok))
        self.assertGreater(ok, 100)
        self.assertTrue(wait_until(lambda: open_fds(svc.proc.pid) <= baseline, 15))
        print("load: %d creates, %d validations" % (len(creates), len(validates)),
              file=sys.stderr)

    def test_redis_killed_during_load(self):
        svc = self.service({"MAX_SESSIONS": "0", "LOG_LEVEL": "WARNING",
                            "REDIS_TIMEOUT_MS": "500"})
        self.assertTrue(self.wait_healthy(svc))
        baseline = open_fds(svc.proc.pid)

        def chaos():
            time.sleep(2)
            self.redis.kill()
            time.sleep(1.5)
            self.redis.start()
        creates, validates, dropped, problems = self.run_load(svc, 6, during=chaos)
        # Every request answered, with 200, 401 or 503 only.
        self.assertEqual(dropped, [])
        self.assertEqual(problems, [])
        self.assertEqual(sorted(set(creates)), [200, 503])
        self.assertEqual(sorted({s for _, s, _ in validates}), [200, 401, 503])
        self.assert_one_success_each(validates)
        self.assertTrue(self.wait_healthy(svc, 5))
        self.assertTrue(wait_until(lambda: open_fds(svc.proc.pid) <= baseline, 15),
                        (open_fds(svc.proc.pid), baseline))


if __name__ == "__main__":
    main()

"""The foundation against a real Redis: health, routing, common headers,
logging, configuration errors and shutdown."""

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import BIN, ServiceTest, free_port, main, wait_until  # noqa: E402

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


class Basics(ServiceTest):
    def test_healthz(self):
        svc = self.service()
        r = svc.get("/healthz")
        self.assertEqual(self.assertJsonResponse(r, 200), {"status": "ok"})
        self.assertEqual(r.header("cache-control"), "no-store")

    def test_redis_health(self):
        svc = self.service()
        self.assertTrue(self.wait_healthy(svc))
        r = svc.get("/auth/redis-health")
        body = self.assertJsonResponse(r, 200)
        self.assertEqual(body["status"], "healthy")
        self.assertIsInstance(body["latency_ms"], float)
        self.assertGreaterEqual(body["latency_ms"], 0)
        self.assertRegex(body["timestamp"], ISO)
        self.assertTrue(body["message"])
        self.assertEqual(r.header("cache-control"), "no-store")

    def test_unknown_path_is_404_json(self):
        svc = self.service()
        for path in ("/", "/nope", "/auth/", "/healthz/x", "/auth%2fredis-health"):
            r = svc.get(path)
            body = self.assertJsonResponse(r, 404)
            self.assertIn("detail", body)

    def test_wrong_method_is_405_with_allow(self):
        svc = self.service()
        for method in ("POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"):
            for path in ("/healthz", "/auth/redis-health"):
                r = svc.request(method, path)
                body = self.assertJsonResponse(r, 405)
                self.assertEqual(r.header("allow"), "GET", (method, path))
                self.assertIn("detail", body)

    def test_head_gets_405_without_body_and_keeps_connection_sane(self):
        svc = self.service()
        req = (b"HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
               b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = svc.raw(req)
        responses = re.findall(rb"HTTP/1\.1 (\d{3})", data)
        self.assertEqual(responses, [b"405", b"200"], data)
        head, rest = data.split(b"\r\n\r\n", 1)
        self.assertIn(b"Content-Length:", head)
        self.assertTrue(rest.startswith(b"HTTP/1.1 200"), data)

    def test_access_log_line_and_no_full_session_id(self):
        svc = self.service()
        sid = "550e8400-e29b-41d4-a716-446655440000"
        svc.get("/auth/sessions/" + sid + "?token=secret-value")
        svc.get("/healthz?x=1")
        log = svc.logs()
        # Both requests are logged, each with the parts it may show...
        self.assertRegex(log, r"access method=GET path=/healthz status=200 ms=")
        self.assertRegex(log, r"access method=GET path=/auth/sessions/"
                         + sid[:8] + r"\.\.\. status=\d{3} ms=")
        self.assertIn("level=INFO", log)
        # ...and not the rest: the full id, the query.
        self.assertNotIn(sid, log)
        self.assertNotIn("secret-value", log)
        self.assertNotIn("token=", log)
        self.assertNotIn("x=1", log)

    def test_sigterm_exits_zero(self):
        svc = self.service()
        self.assertEqual(svc.stop(signal.SIGTERM), 0)

    def test_sigint_exits_zero(self):
        svc = self.service()
        self.assertEqual(svc.stop(signal.SIGINT), 0)

    def test_sigterm_finishes_request_in_flight(self):
        svc = self.service({"REDIS_TIMEOUT_MS": "1500"})
        self.assertTrue(self.wait_healthy(svc))
        self.redis.stop()
        result = {}

        def slow():
            result["r"] = svc.get("/auth/redis-health", timeout=10)
        t = threading.Thread(target=slow)
        t.start()
        self.wait_pending(svc, 1, 1.0)
        started = time.monotonic()
        svc.send_signal(signal.SIGTERM)
        # The listener closes at once...
        def refused():
            try:
                socket.create_connection(("127.0.0.1", svc.port), 0.2).close()
                return False
            except OSError:
                return True
        self.assertTrue(wait_until(refused, 1))
        t.join(10)
        # ...and the waiting request still gets its answer.
        self.assertEqual(result["r"].status, 503)
        self.assertEqual(svc.stop(), 0)
        self.assertLess(time.monotonic() - started, 5)
        self.redis.cont()

    def test_sigterm_waits_at_most_5_s_for_requests_in_flight(self):
        # A request that would wait 20 s on a frozen Redis.
        svc = self.service({"REDIS_TIMEOUT_MS": "20000"})
        self.assertTrue(self.wait_healthy(svc))
        self.redis.stop()
        try:
            stuck = socket.create_connection(("127.0.0.1", svc.port))
            stuck.sendall(b"GET /auth/redis-health HTTP/1.1\r\nHost: x\r\n\r\n")
            self.wait_pending(svc, 1, 10)
            started = time.monotonic()
            self.assertEqual(svc.stop(signal.SIGTERM, timeout=15), 0)
            took = time.monotonic() - started
            stuck.close()
        finally:
            self.redis.cont()
        self.assertGreaterEqual(took, 4.5)
        self.assertLess(took, 7)
        self.assertIn("stopping with requests still in flight in-flight=1", svc.logs())

    def test_version_and_help(self):
        out = subprocess.run([BIN, "--version"], capture_output=True,
                             text=True, check=True).stdout
        self.assertRegex(out, r"^iframe-auth \d+\.\d+\.\d+\n$")
        out = subprocess.run([BIN, "--help"], capture_output=True,
                             text=True, check=True).stdout
        example = os.path.join(os.path.dirname(__file__), "..", "..",
                               "config.env.example")
        with open(example) as f:
            keys = re.findall(r"^#?\s*([A-Z_]+)=", f.read(), re.M)
        self.assertGreaterEqual(len(keys), 21)
        for key in keys:
            self.assertIn(key, out)

    def test_invalid_config_stops_startup_naming_key(self):
        for key, value, why in (
                ("PORT", "99999", "must be an integer from 1 to 65535"),
                ("REDIS_TIMEOUT_MS", "soon", "must be an integer from 10 to 60000"),
                ("LOG_LEVEL", "LOUD", "must be DEBUG, INFO, WARNING or ERROR")):
            # The sanitizer options stay, so that a finding on this path
            # fails the run too.
            env = {k: v for k, v in os.environ.items()
                   if k in ("PATH", "ASAN_OPTIONS", "UBSAN_OPTIONS",
                            "LSAN_OPTIONS")}
            env[key] = value
            p = subprocess.run([BIN], env=env, capture_output=True,
                               text=True, timeout=10, cwd=self.workdir)
            self.assertEqual(p.returncode, 2, p.stderr)
            self.assertEqual(p.stderr, 'iframe-auth: config: %s="%s" (from '
                             'environment): %s\n' % (key, value, why))

    def test_config_file(self):
        path = os.path.join(self.workdir, "custom.env")
        port = free_port()
        with open(path, "w") as f:
            f.write("PORT=%d\nREDIS_PORT=%d\n" % (port, self.redis.port))
        svc = self.service(start=False)
        svc.port = port
        del svc.env["PORT"]
        del svc.env["REDIS_PORT"]
        svc.start(args=["--config", path])
        self.assertTrue(self.wait_healthy(svc))

    def test_unknown_argument(self):
        p = subprocess.run([BIN, "--bogus"], capture_output=True, text=True)
        self.assertEqual(p.returncode, 2)
        self.assertIn("--bogus", p.stderr)


if __name__ == "__main__":
    main()

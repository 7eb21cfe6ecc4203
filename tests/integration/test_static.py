"""Static files: content types and headers, HEAD, pipelining, every
traversal trick against a canary outside STATIC_DIR, iframe_opened, and
serving while Redis is down."""

import os
import re
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import STATIC_DIR, ServiceTest, main, wait_until  # noqa: E402

CANARY = b"CANARY-outside-static-dir"


class Static(ServiceTest):
    def setUp(self):
        super().setUp()
        # A private copy of static/ with a canary next to it, outside it,
        # and symlinks that point out.
        self.root = os.path.join(self.workdir, "site")
        self.static = os.path.join(self.root, "static")
        shutil.copytree(STATIC_DIR, self.static)
        with open(os.path.join(self.root, "canary.txt"), "wb") as f:
            f.write(CANARY)
        with open(os.path.join(self.static, "inside.txt"), "wb") as f:
            f.write(b"inside")
        with open(os.path.join(self.static, "UPPER.HTML"), "wb") as f:
            f.write(b"<!doctype html><title>upper</title>")
        os.symlink(os.path.join(self.root, "canary.txt"),
                   os.path.join(self.static, "link-out.txt"))
        os.symlink(self.root, os.path.join(self.static, "dir-out"))
        os.symlink("inside.txt", os.path.join(self.static, "link-in.txt"))
        self.svc = self.service({"STATIC_DIR": self.static,
                                 "FRAME_ANCESTORS": "https://app.example.com"})

    def test_content_types_and_headers(self):
        expected = {
            "/client/iframe.html": "text/html; charset=utf-8",
            "/client/iframe.js": "text/javascript; charset=utf-8",
            "/client/iframe.css": "text/css; charset=utf-8",
            "/inside.txt": "text/plain; charset=utf-8",
        }
        for path, ctype in expected.items():
            r = self.svc.get(path)
            self.assertEqual(r.status, 200, path)
            self.assertEqual(r.header("content-type"), ctype)
            self.assertEqual(r.header("x-content-type-options"), "nosniff")
            with open(os.path.join(self.static, path.lstrip("/")), "rb") as f:
                self.assertEqual(r.body, f.read())
            self.assertEqual(int(r.header("content-length")), len(r.body))
        r = self.svc.get("/client/iframe.html")
        self.assertEqual(r.header("content-security-policy"),
                         "default-src 'self'; frame-ancestors https://app.example.com")
        self.assertEqual(r.header("referrer-policy"), "no-referrer")
        self.assertEqual(r.header("cache-control"), "no-store")
        # A symlink that stays inside is served.
        self.assertEqual(self.svc.get("/link-in.txt").body, b"inside")
        # The extension's case does not matter: HTML gets the page's headers.
        r = self.svc.get("/UPPER.HTML")
        self.assertEqual(r.header("content-type"), "text/html; charset=utf-8")
        self.assertEqual(r.header("content-security-policy"),
                         "default-src 'self'; frame-ancestors https://app.example.com")

    def test_head_has_headers_and_no_body(self):
        get = self.svc.get("/client/iframe.html")
        head = self.svc.request("HEAD", "/client/iframe.html")
        self.assertEqual(head.status, 200)
        self.assertEqual(head.body, b"")
        self.assertEqual(head.header("content-length"), str(len(get.body)))
        self.assertEqual(head.header("content-type"), get.header("content-type"))
        self.assertEqual(head.header("content-security-policy"),
                         get.header("content-security-policy"))

    def test_pipelined_head_then_get(self):
        size = len(self.svc.get("/client/iframe.css").body)
        data = self.svc.raw(
            b"HEAD /client/iframe.css HTTP/1.1\r\nHost: x\r\n\r\n"
            b"GET /client/iframe.css HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        first, rest = data.split(b"\r\n\r\n", 1)
        self.assertTrue(first.startswith(b"HTTP/1.1 200"), data[:200])
        self.assertIn(b"Content-Length: %d" % size, first)
        self.assertTrue(rest.startswith(b"HTTP/1.1 200"), rest[:200])
        second, body = rest.split(b"\r\n\r\n", 1)
        self.assertIn(b"Content-Length: %d" % size, second)
        self.assertEqual(len(body), size)
        self.assertEqual(len(re.findall(rb"HTTP/1\.1 \d{3}", data)), 2)

    def test_other_methods_are_405(self):
        for method in ("POST", "PUT", "DELETE", "PATCH"):
            r = self.svc.request(method, "/client/iframe.html")
            self.assertEqual(r.status, 405)
            self.assertEqual(r.header("allow"), "GET, HEAD")

    def test_traversal_never_reaches_the_canary(self):
        paths = [
            "/../canary.txt", "/client/../../canary.txt", "/%2e%2e/canary.txt",
            "/%2E%2E/canary.txt", "/client/%2e%2e/%2e%2e/canary.txt",
            "/..%2fcanary.txt", "/client%2f..%2f..%2fcanary.txt",
            "/%252e%252e/canary.txt", "/client/iframe.html%00",
            "/canary.txt%00.html", "/link-out.txt", "/dir-out/canary.txt",
            "/dir-out/static/inside.txt", "//canary.txt", "/./canary.txt",
            "/client/./../../canary.txt", "/..\\canary.txt", "/%5c..%5ccanary.txt",
            "/client/iframe.html/../../../canary.txt", "/.%2e/canary.txt",
            "/%c0%ae%c0%ae/canary.txt", "/canary.txt",
        ]
        for path in paths:
            data = self.svc.raw(("GET %s HTTP/1.1\r\nHost: x\r\n"
                                 "Connection: close\r\n\r\n" % path).encode())
            self.assertNotIn(CANARY, data, path)
            status = int(data.split(b" ", 2)[1])
            self.assertIn(status, (400, 404), (path, data[:100]))

    def test_iframe_opened_becomes_true(self):
        # The service answers before its Redis link is up: a session can
        # only be made once it is.
        self.assertTrue(self.wait_healthy(self.svc))
        r = self.svc.request("POST", "/auth/create-session")
        self.assertEqual(r.status, 200, r.body)
        sid = r.json()["session_id"]
        db = self.redis.client()
        r = self.svc.get("/client/iframe.html?session_id=" + sid)
        self.assertEqual(r.status, 200)

        def opened():
            return '"iframe_opened":true' in db.call("GET", "auth_session:" + sid)
        self.assertTrue(wait_until(opened, 3))
        # Marking does not consume, and validation keeps the mark.
        self.assertEqual(self.svc.request(
            "POST", "/auth/validate-session?session_id=" + sid).status, 200)
        self.assertIn('"iframe_opened":true', db.call("GET", "auth_session:" + sid))
        self.assertIn('"used":true', db.call("GET", "auth_session:" + sid))
        # An unknown or malformed id changes nothing.
        self.assertEqual(self.svc.get("/client/iframe.html?session_id=x").status, 200)
        db.close()

    def test_page_is_served_while_redis_is_down(self):
        # A long deadline: a page that waited for the frozen Redis would
        # take all of it, one that does not is far below it even on a busy
        # machine.
        svc = self.service({"STATIC_DIR": self.static,
                            "REDIS_TIMEOUT_MS": "5000"})
        self.assertTrue(self.wait_healthy(svc))
        self.redis.stop()
        try:
            started = time.monotonic()
            r = svc.get("/client/iframe.html?session_id="
                        "550e8400-e29b-41d4-a716-446655440000")
            self.assertEqual(r.status, 200)
            self.assertLess(time.monotonic() - started, 2.5)
            self.redis.kill()
            r = svc.get("/client/iframe.html?session_id="
                        "550e8400-e29b-41d4-a716-446655440000")
            self.assertEqual(r.status, 200)
            self.assertIn(b"<main", r.body)
        finally:
            self.redis.cont() if self.redis.proc else None

    def test_missing_static_dir_stops_startup(self):
        svc = self.service({"STATIC_DIR": os.path.join(self.workdir, "nope")},
                           start=False)
        svc.start(wait=False)
        self.assertNotEqual(svc.proc.wait(10), 0)
        self.assertIn("STATIC_DIR", svc.logs())
        svc.proc = None
        svc.exit_code = 0


if __name__ == "__main__":
    main()

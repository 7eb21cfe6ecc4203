"""HTTP limits of §7 at the request level: sizes, header counts, and
ambiguous requests, which get 400 and a closed connection."""

import os
import socket
import sys

sys.path.insert(0, os.path.dirname(__file__))
from harness import ServiceTest, main  # noqa: E402


class HttpLimits(ServiceTest):
    def setUp(self):
        super().setUp()
        self.svc = self.service()
        # It answers before its Redis link is up; sessions need the link.
        self.assertTrue(self.wait_healthy(self.svc))

    def exchange(self, data):
        """Sends data on one connection; returns (reply bytes, closed)."""
        with socket.create_connection(("127.0.0.1", self.svc.port), timeout=5) as s:
            s.sendall(data)
            reply = b""
            closed = False
            try:
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        closed = True
                        break
                    reply += chunk
            except socket.timeout:
                pass
            return reply, closed

    def assert_refused(self, data, status=b"400"):
        reply, closed = self.exchange(data)
        self.assertTrue(reply.startswith(b"HTTP/1.1 " + status), (data[:80], reply[:200]))
        self.assertTrue(closed, "connection left open after %r" % data[:80])
        return reply

    def test_ambiguous_requests_are_400_and_closed(self):
        sid_body = b'{"user_id": "x"}'
        cases = [
            b"GET /healthz HTTP/1.1\r\n\r\n",
            b"GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
            b"GET /healthz HTTP/1.9\r\nHost: x\r\n\r\n",
            b"GET /healthz HTTP/2.0\r\nHost: x\r\n\r\n",
            b"POST /auth/create-session HTTP/1.1\r\nHost: x\r\n"
            b"Content-Length: 16\r\nContent-Length: 3\r\n\r\n" + sid_body,
            b"POST /auth/create-session HTTP/1.1\r\nHost: x\r\n"
            b"Content-Length: 16\r\nContent-Length: 16\r\n\r\n" + sid_body,
            b"POST /auth/create-session HTTP/1.1\r\nHost: x\r\nContent-Length: 21\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n10\r\n" + sid_body + b"\r\n0\r\n\r\n",
        ]
        db = self.redis.client()
        for data in cases:
            reply = self.assert_refused(data)
            # HTTP/2.0 is refused by evhttp's parser itself, before the
            # service sees it.
            self.assertIn(b"Connection: close", reply)
        self.assertEqual(db.call("KEYS", "auth_session:*"), [])
        db.close()

    def test_http10_without_host_is_fine(self):
        reply, _ = self.exchange(b"GET /healthz HTTP/1.0\r\n\r\n")
        self.assertTrue(reply.startswith(b"HTTP/1.0 200") or reply.startswith(b"HTTP/1.1 200"), reply)

    def test_header_count(self):
        ok = b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"".join(
            b"X-H%d: v\r\n" % i for i in range(98)) + b"Connection: close\r\n\r\n"
        reply, _ = self.exchange(ok)
        self.assertTrue(reply.startswith(b"HTTP/1.1 200"), reply[:100])
        too_many = b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"".join(
            b"X-H%d: v\r\n" % i for i in range(100)) + b"\r\n"
        self.assert_refused(too_many)

    def test_headers_over_8k_are_refused(self):
        big = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 8200 + b"\r\n\r\n"
        reply = self.assert_refused(big)
        self.assertIn(b'"detail"', reply)
        # Just under the limit is fine.
        ok = b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Big: " + \
            b"a" * 8000 + b"\r\n\r\n"
        reply, _ = self.exchange(ok)
        self.assertTrue(reply.startswith(b"HTTP/1.1 200"), reply[:100])
        # Far beyond it, evhttp's parser refuses it by itself.
        huge = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 70000 + b"\r\n\r\n"
        reply, closed = self.exchange(huge)
        self.assertIn(int(reply.split(b" ", 2)[1]), (400, 413))
        self.assertTrue(closed)

    def test_body_over_8k_is_413_json(self):
        for size in (8193, 20000):
            r = self.svc.request("POST", "/auth/create-session", body=b"{" + b" " * (size - 2) + b"}")
            self.assertEqual(r.status, 413)
            self.assertEqual(r.header("content-type"), "application/json")
            self.assertIn("detail", r.json())
        r = self.svc.request("POST", "/auth/create-session", body=b"{" + b" " * 8190 + b"}")
        self.assertEqual(r.status, 200)

    def test_service_still_serves_afterwards(self):
        self.exchange(b"GET /healthz HTTP/1.9\r\nHost: x\r\n\r\n")
        self.assertEqual(self.svc.get("/healthz").status, 200)


if __name__ == "__main__":
    main()

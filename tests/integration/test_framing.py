"""HTTP framing (§7, issue part 2): requests whose body framing two
parties could read differently get exactly one answer, 400 JSON with the
common headers, and a closed connection; the request hidden in their body
is never served.

Each case sends, on one raw socket, a request that breaks one rule with a
second request (`GET /smuggled-N`) where a reader that disagreed with us
about the framing would find it.  The service's access log then shows
whether /smuggled-N was ever served.
"""

import os
import re
import socket
import sys

sys.path.insert(0, os.path.dirname(__file__))
from harness import ServiceTest, main  # noqa: E402


def smuggled(n):
    return b"GET /smuggled-%d HTTP/1.1\r\nHost: x\r\n\r\n" % n


def chunked(data):
    return b"%x\r\n%s\r\n0\r\n\r\n" % (len(data), data)


def parse_responses(data, head_first=False):
    """Splits what came back into responses, framed by Content-Length.
    Returns a list of (status, headers, body); a response without
    Content-Length takes the rest of the data."""
    out = []
    while data:
        head, sep, rest = data.partition(b"\r\n\r\n")
        if not sep:
            raise AssertionError("incomplete response head: %r" % data[:200])
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ")[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            headers.setdefault(name.strip().lower().decode(), []).append(
                value.strip().decode())
        if head_first and not out:
            length = 0
        elif "content-length" in headers:
            length = int(headers["content-length"][0])
        else:
            length = len(rest)
        out.append((status, headers, rest[:length]))
        data = rest[length:]
    return out


class Framing(ServiceTest):
    def setUp(self):
        super().setUp()
        self.svc = self.service()
        # The service answers before its Redis link is up; the requests
        # that create sessions need it.
        self.assertTrue(self.wait_healthy(self.svc))
        self.case = 0

    def exchange(self, data, timeout=5):
        """Sends data; returns (everything received, closed by the
        service)."""
        with socket.create_connection(("127.0.0.1", self.svc.port),
                                      timeout=timeout) as s:
            s.sendall(data)
            received = b""
            try:
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        return received, True
                    received += chunk
            except socket.timeout:
                return received, False
            except ConnectionResetError:
                return received, True

    def served(self, n):
        # A request on a fresh connection: every access line of the case
        # has been written once its answer is back.
        self.assertEqual(self.svc.get("/healthz").status, 200)
        return re.search(r"path=/smuggled-%d " % n, self.svc.logs())

    def assert_refused(self, head, body=b"", status=400, method=None):
        """head + body (which may carry the smuggled request) must get one
        JSON answer with the common headers, then a close."""
        self.case += 1
        n = self.case
        data = head + body
        for mark, text in ((b"{CS}", chunked(smuggled(n))),
                           (b"{S}", smuggled(n)),
                           (b"{N}", b"%d" % len(smuggled(n)))):
            data = data.replace(mark, text)
        received, closed = self.exchange(data)
        is_head = (method or data.split(b" ", 1)[0]) == b"HEAD"
        replies = parse_responses(received, head_first=is_head)
        self.assertEqual(len(replies), 1, (data[:120], received[:600]))
        code, headers, reply_body = replies[0]
        self.assertEqual(code, status, (data[:120], received[:400]))
        self.assertTrue(closed, "connection left open after %r" % data[:120])
        self.assertEqual(headers.get("connection"), ["close"], received[:400])
        self.assertEqual(headers.get("x-content-type-options"), ["nosniff"])
        self.assertEqual(headers.get("content-type"), ["application/json"])
        self.assertEqual(len(headers.get("content-length", [])), 1, received[:400])
        if not is_head:
            self.assertEqual(int(headers["content-length"][0]), len(reply_body))
            self.assertRegex(reply_body, rb'^\{"detail":"[^"]+"\}$')
        self.assertFalse(self.served(n), "smuggled request %d served" % n)
        return reply_body

    # -- body framing on HEAD, TRACE, CONNECT --------------------------------

    def test_body_framing_on_head_trace_connect(self):
        for method in (b"HEAD", b"TRACE", b"CONNECT"):
            self.assert_refused(method + b" /healthz HTTP/1.1\r\nHost: x\r\n"
                                b"Content-Length: {N}\r\n\r\n", b"{S}")
            self.assert_refused(method + b" /healthz HTTP/1.1\r\nHost: x\r\n"
                                b"Transfer-Encoding: chunked\r\n\r\n",
                                b"{CS}" + b"{S}")
            # Zero is still framing a proxy may read differently.
            self.assert_refused(method + b" /healthz HTTP/1.1\r\nHost: x\r\n"
                                b"Content-Length: 0\r\n\r\n", b"{S}")

    def test_connect_is_refused_before_routing(self):
        for target in (b"/healthz", b"example.com:443", b"127.0.0.1:80"):
            body = self.assert_refused(b"CONNECT " + target +
                                       b" HTTP/1.1\r\nHost: x\r\n\r\n", b"{S}")
            self.assertIn(b"CONNECT", body)
        self.assertNotIn("path=/healthz status=405", self.svc.logs())

    # -- Transfer-Encoding -----------------------------------------------------

    def test_transfer_encoding_other_than_one_chunked(self):
        for value in (b"chunked, chunked", b"gzip, chunked", b"chunked, gzip",
                      b"identity", b"gzip", b"", b"\tchunked", b"chunked\t",
                      b"chunked;x=1", b"chunkedx"):
            self.assert_refused(b"POST /healthz HTTP/1.1\r\nHost: x\r\n"
                                b"Transfer-Encoding: " + value + b"\r\n\r\n",
                                b"{CS}" + b"{S}")
        # Two headers, each "chunked".
        self.assert_refused(b"POST /healthz HTTP/1.1\r\nHost: x\r\n"
                            b"Transfer-Encoding: chunked\r\n"
                            b"Transfer-Encoding: chunked\r\n\r\n",
                            b"{CS}" + b"{S}")

    def test_transfer_encoding_on_http10(self):
        for extra in (b"", b"Connection: keep-alive\r\n"):
            self.assert_refused(b"POST /healthz HTTP/1.0\r\n" + extra +
                                b"Transfer-Encoding: chunked\r\n\r\n",
                                b"{CS}" + b"{S}")

    def test_chunked_in_any_case_and_with_spaces_is_read(self):
        """One "chunked", in any case and with spaces around it, frames a
        body: the request inside it is data, and the next request on the
        connection is served as usual."""
        for value in (b"chunked", b"Chunked", b"CHUNKED", b"chunked ",
                      b"  chunked  "):
            data = (b"POST /auth/create-session HTTP/1.1\r\nHost: x\r\n"
                    b"Transfer-Encoding: " + value + b"\r\n\r\n" +
                    chunked(b'{"user_id": "GET /smuggled-0 HTTP/1.1"}') +
                    b"GET /healthz HTTP/1.1\r\nHost: x\r\n"
                    b"Connection: close\r\n\r\n")
            received, closed = self.exchange(data)
            replies = parse_responses(received)
            self.assertEqual([r[0] for r in replies], [200, 200], received)
            self.assertTrue(closed)
        self.assertFalse(self.served(0))

    # -- Content-Length ----------------------------------------------------------

    def test_content_length_not_all_digits(self):
        for value in (b"+{N}", b"-{N}", b"0x{N}", b"{N},{N}", b"{N} {N}",
                      b"", b"\x0b{N}", b"\x0c{N}", b"\t{N}", b"{N}\t",
                      b"{N}a", b"1e2", b"{N}\x00"):
            self.assert_refused(b"POST /healthz HTTP/1.1\r\nHost: x\r\n"
                                b"Content-Length: " + value + b"\r\n\r\n",
                                b"{S}")
        # On a body-less route, a GET too.
        self.assert_refused(b"GET /healthz HTTP/1.1\r\nHost: x\r\n"
                            b"Content-Length: +{N}\r\n\r\n", b"{S}")

    def test_content_length_with_spaces_around_digits_is_read(self):
        """Spaces around the digits are the field's optional whitespace:
        the body is read, and the request after it is served as the next
        one."""
        body = b'{"user_id": "a"}'
        for value in (b"16", b" 16", b"16 ", b"   16   "):
            data = (b"POST /auth/create-session HTTP/1.1\r\nHost: x\r\n"
                    b"Content-Length:" + value + b"\r\n\r\n" + body +
                    b"GET /healthz HTTP/1.1\r\nHost: x\r\n"
                    b"Connection: close\r\n\r\n")
            received, closed = self.exchange(data)
            replies = parse_responses(received)
            self.assertEqual([r[0] for r in replies], [200, 200], (value, received))
            self.assertTrue(closed)

    # -- header names and lines ------------------------------------------------

    def test_header_name_not_a_token(self):
        for line in (b"Content-Length : {N}", b"Content-Length\t: {N}",
                     b"Transfer-Encoding : chunked", b"Bad Name: x",
                     b"Bad\"Name: x", b"X(Y): z", b"X/Y: z", b": x",
                     b"\x00X: y", b"X\x7fY: z", b"X\xc3\xa9: y",
                     b"no colon at all", b"X\rContent-Length: {N}"):
            self.assert_refused(b"POST /healthz HTTP/1.1\r\nHost: x\r\n" +
                                line + b"\r\n\r\n", b"{S}")

    def test_obs_fold(self):
        for fold in (b"X-A: a\r\n Content-Length: {N}",
                     b"X-A: a\r\n\tTransfer-Encoding: chunked",
                     b"X-A: a\r\n b",
                     b"Content-Length: {N}\r\n 0"):
            self.assert_refused(b"POST /healthz HTTP/1.1\r\nHost: x\r\n" +
                                fold + b"\r\n\r\n", b"{S}")
        # A fold as the very first header line, which evhttp's parser
        # would refuse by itself in HTML.
        self.assert_refused(b"POST /healthz HTTP/1.1\r\n Host: x\r\n"
                            b"Host: x\r\nContent-Length: {N}\r\n\r\n", b"{S}")
        self.assert_refused(b"HEAD /healthz HTTP/1.1\r\n\tX: y\r\nHost: x\r\n\r\n",
                            b"{S}")

    def test_bare_cr_and_nul_in_header_lines(self):
        for line in (b"X-A: a\rContent-Length: {N}", b"X-A: a\x00b",
                     b"X-A: a\r\r"):
            self.assert_refused(b"POST /healthz HTTP/1.1\r\nHost: x\r\n" +
                                line + b"\r\n\r\n", b"{S}")

    def test_bad_line_trickled_a_byte_at_a_time(self):
        """The check sees bytes as they arrive, whatever their split: the
        folded Content-Length is blanked, so the answer comes at the end
        of the head, without waiting for a body."""
        data = (b"POST /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\r\n"
                b" Content-Length: 37\r\n\r\n")
        with socket.create_connection(("127.0.0.1", self.svc.port),
                                      timeout=5) as s:
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            for i in range(len(data)):
                s.sendall(data[i:i + 1])
            received = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                received += chunk
        replies = parse_responses(received)
        self.assertEqual([r[0] for r in replies], [400], received)
        self.assertIn(b"obs-fold", replies[0][2])

    def test_a_bad_pipelined_request_after_a_good_one(self):
        """The head of a request already waiting behind another is
        checked too: the first is answered, the second refused."""
        self.case += 1
        n = self.case
        data = (b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
                b"POST /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\r\n"
                b" Content-Length: %d\r\n\r\n" % len(smuggled(n)) + smuggled(n))
        received, closed = self.exchange(data)
        replies = parse_responses(received)
        self.assertEqual([r[0] for r in replies], [200, 400], received)
        self.assertTrue(closed)
        self.assertFalse(self.served(n))

    # -- request-target ----------------------------------------------------------

    def test_request_target_over_8k_is_414(self):
        for length in (8193, 20000, 60000):
            target = b"/" + b"a" * (length - 1)
            self.assert_refused(b"GET " + target + b" HTTP/1.1\r\nHost: x\r\n"
                                b"Content-Length: {N}\r\n\r\n", b"{S}", status=414)
        for target in (b"/" + b"a" * 8191, b"/healthz?" + b"a" * (8192 - 9)):
            received, _ = self.exchange(b"GET " + target + b" HTTP/1.1\r\n"
                                        b"Host: x\r\nConnection: close\r\n\r\n")
            self.assertIn(parse_responses(received)[0][0], (200, 404), received[:200])

    # -- Content-Length on every reply -------------------------------------------

    def test_every_reply_carries_content_length(self):
        """Ours on HTTP/1.0 and HEAD, and the ones evhttp's parser sends by
        itself (unknown method, unparseable request line, body or headers
        over its own limits)."""
        cases = [
            (b"GET /healthz HTTP/1.0\r\n\r\n", 200, False),
            (b"GET /nope HTTP/1.0\r\n\r\n", 404, False),
            (b"GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", 200, False),
            (b"HEAD /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 405, True),
            (b"HEAD /auth/redis-health HTTP/1.0\r\n\r\n", None, True),
            (b"HEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", None, True),
            (b"FOO /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 501, False),
            (b"GET\r\n\r\n", 400, False),
            # Refused on the announced length, before any body is sent.
            (b"POST /auth/create-session HTTP/1.1\r\nHost: x\r\n"
             b"Content-Length: 70000\r\n\r\n", 413, False),
        ]
        for data, status, head in cases:
            received, _ = self.exchange(data)
            replies = parse_responses(received, head_first=head)
            self.assertEqual(len(replies), 1, (data[:60], received[:300]))
            code, headers, body = replies[0]
            if status is not None:
                self.assertEqual(code, status, (data[:60], received[:300]))
            self.assertEqual(len(headers.get("content-length", [])), 1,
                             (data[:60], received[:300]))
            if not head:
                self.assertEqual(int(headers["content-length"][0]), len(body))


if __name__ == "__main__":
    main()

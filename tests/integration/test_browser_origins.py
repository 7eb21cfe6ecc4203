"""Origin binding in a real headless Chromium (§11): FRAME_ANCESTORS lists
two customer sites, A and B; a session made for A is refused framing on
B's host page (no message, still unused) and authenticates on A's.

Each host page reports to its own small server that it ran and what it
hears; the test waits for those reports in real time, bounded."""

import html
import http.server
import json
import os
import re
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
from browser import Chromium, find_chromium  # noqa: E402
from harness import ServiceTest, free_port, main, wait_until  # noqa: E402

HOST_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Customer</title></head>
<body>
<iframe src="%s" title="Sign-in"></iframe>
<script>
function report(what) {
  fetch("/report", {method: "POST", body: JSON.stringify(what)});
}
report({ran: true});
window.addEventListener("message", function (e) {
  report({origin: e.origin, data: e.data});
});
</script>
</body></html>
"""


class CustomerSite:
    """One customer's origin: serves the host page, collects its reports."""

    def __init__(self):
        self.reports = []
        self.port = free_port()
        site = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                query = urllib.parse.urlparse(self.path).query
                src = urllib.parse.parse_qs(query)["src"][0]
                body = (HOST_PAGE % html.escape(src, quote=True)).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                data = self.rfile.read(int(self.headers["Content-Length"]))
                site.reports.append(json.loads(data))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port),
                                                      Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def origin(self):
        return "http://localhost:%d" % self.port

    def url(self, src):
        return "%s/?src=%s" % (self.origin(), urllib.parse.quote(src, safe=""))

    def messages(self):
        return [r for r in self.reports if "data" in r]

    def ran(self):
        return any(r.get("ran") for r in self.reports)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class BrowserOrigins(ServiceTest):
    def setUp(self):
        self.assertIsNotNone(find_chromium(), "chromium is not installed")
        super().setUp()
        self.a = CustomerSite()
        self.b = CustomerSite()
        port = free_port()
        self.svc = self.service({
            "PORT": str(port),
            "FRAME_ANCESTORS": "%s %s" % (self.a.origin(), self.b.origin()),
            "PUBLIC_BASE_URL": "http://127.0.0.1:%d" % port,
        }, start=False)
        self.svc.port = port
        self.svc.start()
        # It answers before its Redis link is up; sessions need the link.
        self.assertTrue(self.wait_healthy(self.svc))
        self.db = self.redis.client()
        self.chrome = Chromium()

    def tearDown(self):
        self.chrome.close()
        self.db.close()
        self.a.close()
        self.b.close()
        super().tearDown()

    def record(self, sid):
        return json.loads(self.db.call("GET", "auth_session:" + sid))

    def page_requests(self, sid):
        return len(re.findall(r"path=/client/iframe\.html status=200",
                              self.svc.logs())), self.record(sid)

    def test_a_session_for_a_is_refused_on_b_and_authenticates_on_a(self):
        r = self.svc.request("POST", "/auth/create-session", body=json.dumps(
            {"user_id": "customer-a-user", "allowed_origins": [self.a.origin()]}))
        self.assertEqual(r.status, 200, r.body)
        session = r.json()
        sid = session["session_id"]

        # B is in FRAME_ANCESTORS, but not this session's: the browser
        # refuses to frame the page.  Positive signs that it all ran: B's
        # host page reported, and the service served the frame's request
        # (which marked the session opened).
        self.chrome.open(self.b.url(session["iframe_url"]))
        self.assertTrue(wait_until(self.b.ran, 20, 0.1), "B's host page never ran")
        self.assertTrue(wait_until(lambda: self.record(sid)["iframe_opened"], 10, 0.1),
                        "the frame's request never reached the service")
        # The page is sent, and logged, once the script's answer that
        # marked it opened is read: a moment after the mark is in Redis.
        self.assertTrue(wait_until(lambda: self.page_requests(sid)[0] >= 1, 10, 0.1),
                        "the frame's page was never served")
        time.sleep(3)  # room for a message that must not come
        self.assertEqual(self.b.messages(), [])
        self.assertIs(self.record(sid)["used"], False)
        self.assertNotIn("path=/auth/validate-session", self.svc.logs())

        # Framed by A, the same session authenticates.
        self.chrome.open(self.a.url(session["iframe_url"]))
        self.assertTrue(wait_until(lambda: self.a.messages(), 20, 0.1),
                        "no message from the iframe on A")
        data = self.a.messages()[0]["data"]
        self.assertEqual(data["status"], "authenticated", data)
        self.assertEqual(data["user_id"], "customer-a-user")
        self.assertIs(self.record(sid)["used"], True)
        self.assertEqual(self.b.messages(), [])


if __name__ == "__main__":
    main()

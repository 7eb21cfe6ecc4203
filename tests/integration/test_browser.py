"""The whole flow in a real headless Chromium, across two origins: a host
page embeds iframe_url, the page validates, and the host hears about it.

The host page reports every message it receives to its own small server;
the test waits for those reports in real time, bounded."""

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

ARTIFACT_DIR = os.environ.get("IFRAME_AUTH_ARTIFACTS",
                              os.path.join(os.getcwd(), "artifacts"))
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEMO_HOST_PAGE = os.path.join(REPO, "scripts", "demo_host.html")

# A page that pretends to be iframe-auth: framed by the host, it posts a
# well-formed message from the wrong origin.
FORGED_PAGE = b"""<!doctype html><meta charset="utf-8"><script>
parent.postMessage({type: "iframe-auth", status: "authenticated", user_id: "mallory"}, "*");
</script>"""

HOST_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Host</title></head>
<body style="font-family: sans-serif; margin: 20px">
<h1 style="font-size: 18px">Example host site</h1>
<iframe src="%s" title="Sign-in" style="width: 320px; height: 200px; border: 1px solid #999"></iframe>
<script>
window.addEventListener("message", function (e) {
  fetch("/report", {method: "POST", body: JSON.stringify({origin: e.origin, data: e.data})});
});
window.addEventListener("load", function () {
  fetch("/loaded", {method: "POST", body: JSON.stringify({href: location.href})});
});
</script>
</body></html>
"""


class HostSite:
    """A second origin: serves the host page and collects its reports:
    the messages it hears, and that it loaded."""

    def __init__(self, page=None):
        """page(src) makes the host page for an iframe_url; by default one
        that reports every message to this server."""
        self.reports = []
        self.loads = []
        self.port = free_port()
        page = page or (lambda src: HOST_PAGE % html.escape(src, quote=True))
        site = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                url = urllib.parse.urlparse(self.path)
                query = urllib.parse.parse_qs(url.query)
                if url.path == "/forge":
                    body = FORGED_PAGE
                elif "src" not in query:  # e.g. /favicon.ico
                    self.send_error(404)
                    return
                else:
                    body = page(query["src"][0]).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                data = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                (site.loads if self.path == "/loaded" else site.reports).append(data)
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, src):
        # "localhost" here and "127.0.0.1" for the service: two origins,
        # and two sites.
        return "http://localhost:%d/?src=%s" % (self.port, urllib.parse.quote(src, safe=""))

    def origin(self):
        return "http://localhost:%d" % self.port

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class Browser(ServiceTest):
    def setUp(self):
        self.assertIsNotNone(find_chromium(), "chromium is not installed (scripts/setup.sh installs it)")
        super().setUp()
        self.allowed = HostSite()
        self.refused = HostSite()
        svc_port = free_port()
        self.svc = self.service({
            "PORT": str(svc_port),
            "FRAME_ANCESTORS": self.allowed.origin(),
            "PUBLIC_BASE_URL": "http://127.0.0.1:%d" % svc_port,
        }, start=False)
        self.svc.port = svc_port
        self.svc.start()
        # It answers before its Redis link is up; sessions need the link.
        self.assertTrue(self.wait_healthy(self.svc))
        self.chrome = Chromium()

    def tearDown(self):
        self.chrome.close()
        self.allowed.close()
        self.refused.close()
        super().tearDown()

    def create(self, user_id):
        r = self.svc.request("POST", "/auth/create-session",
                             body=json.dumps({"user_id": user_id}))
        self.assertEqual(r.status, 200)
        return r.json()

    def wait_report(self, site, count, timeout=20):
        return wait_until(lambda: len(site.reports) >= count, timeout, 0.1)

    def test_authenticated_then_already_used_and_refused_origin(self):
        session = self.create("browser-user")
        tab = self.chrome.open(self.allowed.url(session["iframe_url"]))
        self.assertTrue(self.wait_report(self.allowed, 1), "no message from the iframe")
        report = self.allowed.reports[0]
        self.assertEqual(report["origin"], "http://127.0.0.1:%d" % self.svc.port)
        self.assertEqual(report["data"]["type"], "iframe-auth")
        self.assertEqual(report["data"]["status"], "authenticated")
        self.assertEqual(report["data"]["user_id"], "browser-user")
        self.assertEqual(report["data"]["session_id"], session["session_id"])
        time.sleep(0.3)  # let the page paint its final state
        os.makedirs(ARTIFACT_DIR, exist_ok=True)
        shot = os.path.join(ARTIFACT_DIR, "iframe-authenticated.png")
        self.chrome.screenshot(tab, shot)
        self.assertGreater(os.path.getsize(shot), 1000)
        # The page recorded that it was opened.
        db = self.redis.client()
        record = json.loads(db.call("GET", "auth_session:" + session["session_id"]))
        self.assertIs(record["iframe_opened"], True)
        self.assertIs(record["used"], True)

        # The same URL again: already used.
        self.chrome.open(self.allowed.url(session["iframe_url"]))
        self.assertTrue(self.wait_report(self.allowed, 2))
        again = self.allowed.reports[1]["data"]
        self.assertEqual(again["status"], "invalid")
        self.assertEqual(again["reason"], "already_used")
        self.assertNotIn("user_id", again)

        # A host that FRAME_ANCESTORS does not list: the browser refuses
        # to frame the page, so nothing runs and nothing is consumed.
        # That the host page and the frame's request really happened is
        # seen first (the page reports its load; the service logged the
        # frame's request), so that a page that never loaded cannot pass.
        other = self.create("must-not-leak")
        frames = self.access_count("/client/iframe.html")
        scripts = self.access_count("/client/iframe.js")
        self.chrome.open(self.refused.url(other["iframe_url"]))
        self.assertTrue(wait_until(lambda: self.refused.loads, 20, 0.1),
                        "the refused host page never loaded")
        self.assertTrue(wait_until(
            lambda: self.access_count("/client/iframe.html") > frames, 10, 0.1),
            "the frame was never requested")
        time.sleep(2)  # room for anything the frame would have done
        # The page itself was served, but the browser never ran it: its
        # script was not even fetched, and it told its host nothing.
        self.assertEqual(self.access_count("/client/iframe.html"), frames + 1)
        self.assertEqual(self.access_count("/client/iframe.js"), scripts)
        self.assertEqual(self.refused.reports, [])
        record = json.loads(db.call("GET", "auth_session:" + other["session_id"]))
        self.assertIs(record["used"], False)
        db.close()
        self.assertEqual(len(self.allowed.reports), 2)

    def access_count(self, path):
        """How many GETs of path the service has answered 200."""
        return len(re.findall(r"access method=GET path=%s status=200 "
                              % re.escape(path), self.svc.logs()))

    def page(self, tab):
        """The page's state, address, retry button and width."""
        return self.chrome.evaluate(tab, """document.querySelector(".card") && ({
            state: document.querySelector(".card").dataset.state,
            title: document.getElementById("title").textContent,
            href: location.href,
            retry: !document.getElementById("retry").hidden,
            live: document.querySelector("[aria-live]") !== null,
            overflow: document.documentElement.scrollWidth > innerWidth
        })""")

    def wait_state(self, tab, state, timeout=10):
        self.assertTrue(wait_until(lambda: (self.page(tab) or {}).get("state") == state,
                                   timeout, 0.1), (state, self.page(tab)))
        return self.page(tab)

    def test_unavailable_then_retry_and_invalid_in_a_300px_frame(self):
        session = self.create("retry-user")
        tab = self.chrome.open("about:blank")
        self.chrome.send("Emulation.setDeviceMetricsOverride",
                         {"width": 300, "height": 220, "deviceScaleFactor": 1,
                          "mobile": False}, session=tab)
        self.redis.stop()
        try:
            self.chrome.send("Page.navigate", {"url": session["iframe_url"]},
                             session=tab)
            page = self.wait_state(tab, "unavailable")
        finally:
            self.redis.cont()
        # The id left the address bar at once; the state is announced;
        # the retry button is offered; nothing overflows 300 px.
        self.assertNotIn("session_id", page["href"])
        self.assertTrue(page["live"])
        self.assertTrue(page["retry"])
        self.assertFalse(page["overflow"])
        self.assertTrue(self.wait_healthy(self.svc, 5))
        # The 503 did not use the session up: the retry signs in.
        self.chrome.evaluate(tab, 'document.getElementById("retry").click()')
        page = self.wait_state(tab, "authenticated")
        self.assertIn("retry-user", self.chrome.evaluate(
            tab, 'document.getElementById("detail").textContent'))
        self.assertFalse(page["retry"])
        self.assertFalse(page["overflow"])

        for query in ("?session_id=not-an-id", "?session_id=" + session["session_id"], ""):
            self.chrome.send("Page.navigate", {"url": "http://127.0.0.1:%d/client/iframe.html%s"
                                               % (self.svc.port, query)}, session=tab)
            state = "used" if query.endswith(session["session_id"]) else "invalid"
            self.assertFalse(self.wait_state(tab, state)["overflow"])


class DemoHost(ServiceTest):
    """The demo's host page (scripts/demo_host.html), built on
    static/client/embed.js, in Chromium."""

    def setUp(self):
        self.assertIsNotNone(find_chromium(), "chromium is not installed (scripts/setup.sh installs it)")
        super().setUp()
        svc_port = free_port()
        self.service_origin = "http://127.0.0.1:%d" % svc_port
        with open(DEMO_HOST_PAGE) as f:
            template = f.read()
        self.host = HostSite(lambda src: template
                             .replace("@HOST_ORIGIN@", self.host.origin())
                             .replace("@SERVICE_ORIGIN@", self.service_origin)
                             .replace("@IFRAME_URL@", src))
        self.svc = self.service({
            "PORT": str(svc_port),
            "FRAME_ANCESTORS": self.host.origin(),
            "PUBLIC_BASE_URL": self.service_origin,
        }, start=False)
        self.svc.port = svc_port
        self.svc.start()
        self.chrome = Chromium()

    def tearDown(self):
        self.chrome.close()
        self.host.close()
        super().tearDown()

    def log(self, tab):
        """What embed.js handed to the page's callbacks, one per line."""
        text = self.chrome.evaluate(tab, 'document.getElementById("log").textContent')
        return [line for line in (text or "").split("\n") if line]

    def test_callbacks_hear_the_iframe_and_nothing_else(self):
        r = self.svc.request("POST", "/auth/create-session",
                             body=json.dumps({"user_id": "demo-user"}))
        session = r.json()
        tab = self.chrome.open(self.host.url(session["iframe_url"]))
        self.assertTrue(wait_until(lambda: self.log(tab), 20, 0.1), "no callback ran")
        kind, _, message = self.log(tab)[0].partition(": ")
        self.assertEqual(kind, "authenticated")
        message = json.loads(message)
        self.assertEqual(message["user_id"], "demo-user")
        self.assertEqual(message["session_id"], session["session_id"])
        # embed.js made the iframe, from iframeUrl.
        self.assertEqual(self.chrome.evaluate(
            tab, 'document.querySelector("#frame iframe").src'), session["iframe_url"])

        # Three messages embed.js must not pass on, each seen by a plain
        # listener first: from a page of the host's own origin, from the
        # host window itself, and from the service's origin but another
        # window (a second iframe page, which says "invalid").
        self.chrome.evaluate(tab, """window.seen = [];
            addEventListener("message", function (e) { seen.push(e.origin); });
            var forged = document.createElement("iframe");
            forged.src = "/forge";
            document.body.appendChild(forged);
            postMessage({type: "iframe-auth", status: "invalid", reason: "self"}, "*");
            var other = document.createElement("iframe");
            other.src = "%s/client/iframe.html";
            document.body.appendChild(other);
            true""" % self.service_origin)
        self.assertTrue(wait_until(
            lambda: len(self.chrome.evaluate(tab, "seen") or []) >= 3, 20, 0.1),
            self.chrome.evaluate(tab, "seen"))
        self.assertEqual(sorted(self.chrome.evaluate(tab, "seen")),
                         sorted([self.host.origin()] * 2 + [self.service_origin]))
        self.assertEqual(len(self.log(tab)), 1, self.log(tab))


if __name__ == "__main__":
    main()

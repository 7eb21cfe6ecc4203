"""The whole embedded path in a real headless Chromium, across two sites:
a host page on http://localhost frames iframe-auth behind nginx on
https://127.0.0.1 (deploy/nginx/iframe-auth.conf, TLS with a throwaway
certificate that only this browser trusts).  The iframe page redeems its
one-time session, the answer sets the partitioned embed cookie, the frame
goes on to /app/, and nginx lets it through to the app, which shows the
user that /auth/verify named."""

import hashlib
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from browser import Chromium, find_chromium  # noqa: E402
from harness import free_port, main, wait_until  # noqa: E402
from nginx import COOKIE, App, NginxServiceTest  # noqa: E402
from test_browser import ARTIFACT_DIR, HostSite  # noqa: E402


class BrowserThroughNginx(NginxServiceTest):
    def setUp(self):
        self.assertIsNotNone(find_chromium(), "chromium is not installed (scripts/setup.sh installs it)")
        super().setUp()
        self.host = HostSite()
        self.chrome = None
        self.frame = None

    def tearDown(self):
        if self.chrome:
            self.chrome.close()
        self.host.close()
        super().tearDown()

    def stack_for_browser(self):
        self.app = App()

        def port_named_by_a_service():
            # nginx's port first: the service names it in iframe_url, so
            # each port tried gets a service of its own.
            nginx_port = free_port()
            self.svc = self.service({"FRAME_ANCESTORS": self.host.origin(),
                                     "PUBLIC_BASE_URL": "https://127.0.0.1:%d" % nginx_port})
            self.assertTrue(self.wait_healthy(self.svc))
            return nginx_port
        self.nginx = self.start_nginx(port_named_by_a_service)
        self.chrome = Chromium(["--ignore-certificate-errors-spki-list=" + self.nginx.spki])

    def frame_eval(self, expression):
        """expression in the cross-site frame, wherever it is on the site
        (the frame keeps its target while it navigates within the site)."""
        if self.frame is None:
            self.frame = self.chrome.frame(self.nginx.origin() + "/")
        try:
            return self.frame and self.chrome.evaluate(self.frame, expression)
        except RuntimeError:
            self.frame = None  # the frame went; look again next time
            return None

    def frame_shows(self, text, timeout=15):
        self.assertTrue(wait_until(lambda: text in (self.frame_eval(
            "document.body ? document.body.innerText : ''") or ""), timeout, 0.1),
            (text, self.frame_eval("location.href + ' ' + document.body.innerText")))

    def embed_cookies(self):
        return [c for c in self.chrome.send("Storage.getCookies")["cookies"]
                if c["name"] == COOKIE]

    def app_hits(self):
        with open(os.path.join(self.nginx.directory, "access.log")) as f:
            return sum(1 for line in f if '"GET /app/ HTTP/1.1" 200' in line)

    def test_redeem_land_on_app_reload_and_logout(self):
        self.stack_for_browser()
        r = self.svc.request("POST", "/auth/create-session",
                             body='{"user_id": "frame-user", "return_to": "/app/"}')
        self.assertEqual(r.status, 200, r.body)
        session = r.json()
        self.assertTrue(session["iframe_url"].startswith(self.nginx.origin() + "/client/"))
        tab = self.chrome.open(self.host.url(session["iframe_url"]))

        # The page told the host, then went on to the app behind nginx.
        self.assertTrue(wait_until(lambda: self.host.reports, 20, 0.1), "no message from the iframe")
        self.assertEqual(self.host.reports[0]["data"]["status"], "authenticated")
        self.assertEqual(self.host.reports[0]["data"]["user_id"], "frame-user")
        self.assertNotIn("embed_token", self.host.reports[0]["data"])
        self.frame_shows("signed in as frame-user")
        self.assertEqual(self.frame_eval("location.href"), self.nginx.origin() + "/app/")
        self.assertEqual(self.app_hits(), 1)

        # Carried by the embed cookie, partitioned under the host's site,
        # with every attribute the service set; Redis holds only its hash.
        cookies = self.embed_cookies()
        self.assertEqual(len(cookies), 1, cookies)
        cookie = cookies[0]
        self.assertEqual(cookie["partitionKey"]["topLevelSite"], "http://localhost")
        self.assertTrue(cookie["secure"] and cookie["httpOnly"])
        self.assertEqual((cookie["sameSite"], cookie["path"], cookie["domain"]),
                         ("None", "/", "127.0.0.1"))
        db = self.redis.client()
        key = "auth_embed:" + hashlib.sha256(cookie["value"].encode()).hexdigest()
        self.assertEqual(db.call("EXISTS", key), 1)
        self.assertEqual(self.frame_eval("document.cookie"), "")  # HttpOnly

        time.sleep(0.3)  # the last paint
        os.makedirs(ARTIFACT_DIR, exist_ok=True)
        self.chrome.screenshot(tab, os.path.join(ARTIFACT_DIR, "nginx-app-in-frame.png"))

        # A reload inside the frame: a new document, let through again.
        self.frame_eval("window.stale = true; location.reload()")
        self.assertTrue(wait_until(lambda: self.frame_eval(
            "window.stale === undefined && document.readyState === 'complete'"), 15, 0.1))
        self.frame_shows("signed in as frame-user")
        self.assertEqual(self.app_hits(), 2)

        # Sign out in the app: logout ends the embed session and expires
        # the cookie; the reload after it is 401 from nginx.
        self.frame_eval('document.getElementById("logout").click()')
        self.frame_shows("401 Authorization Required")
        self.assertEqual(self.frame_eval("location.href"), self.nginx.origin() + "/app/")
        self.assertEqual(self.embed_cookies(), [])
        self.assertEqual(db.call("EXISTS", key), 0)
        db.close()
        self.assertEqual(self.app_hits(), 2)


if __name__ == "__main__":
    main()

"""Forward auth through a real nginx running deploy/nginx/iframe-auth.conf
(tests/integration/nginx.py): the service, the protected demo app and nginx
in front of both, over TLS with a throwaway certificate."""

import hashlib
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import main, wait_until  # noqa: E402
from nginx import COOKIE, NginxServiceTest  # noqa: E402


class NginxTest(NginxServiceTest):
    """Forward auth through nginx, answer by answer."""

    def assertUnauthorized(self, headers):
        status, h, body = self.via_nginx("GET", "/app/", headers)
        self.assertEqual(status, 401, body)
        self.assertEqual(h.get("www-authenticate"), "Bearer")
        self.assertNotIn("location", h)
        self.assertNotIn("signed in as", body)

    def test_verify_lets_the_app_see_the_user_and_metadata(self):
        self.stack()
        token = self.redeem("alice", {"team": "blue", "n": 1})
        for credential in ({"Authorization": "Bearer " + token},
                           {"Cookie": "other=1; %s=%s" % (COOKIE, token)}):
            user, metadata = self.app_user(credential)
            self.assertEqual(user, "alice")
            self.assertEqual(json.loads(metadata), {"team": "blue", "n": 1})
        # The client's own X-Auth-* never reaches the app.
        user, metadata = self.app_user({"Authorization": "Bearer " + token,
                                        "X-Auth-User": "mallory",
                                        "X-Auth-Metadata": "e30"})
        self.assertEqual((user, json.loads(metadata)), ("alice", {"team": "blue", "n": 1}))
        # Nor do the other two X-Auth-* headers of verify: the app gets
        # verify's own, whatever the client sends.
        status, h, body = self.via_nginx("GET", "/app/", {
            "Authorization": "Bearer " + token, "X-Auth-Session": "forged",
            "X-Auth-Expires": "2099-01-01T00:00:00Z"})
        self.assertEqual(status, 200, body)
        verified = self.svc.request("GET", "/auth/verify",
                                    headers={"Authorization": "Bearer " + token}).json()
        self.assertIn('data-session="%s"' % verified["session_id"], body)
        self.assertIn('data-expires="%s"' % verified["expires_at"], body)
        # The largest metadata create-session takes (4 KiB serialized)
        # fits in what nginx reads of verify's answer.
        largest = {"x": "a" * (4096 - len('{"x":""}'))}
        user, metadata = self.app_user({"Authorization": "Bearer " + self.redeem("bob", largest)})
        self.assertEqual((user, json.loads(metadata)), ("bob", largest))
        # A user_id beyond ASCII reaches the app as its UTF-8 bytes.
        user, _ = self.app_user({"Authorization": "Bearer " + self.redeem("café")})
        self.assertEqual(user, "café")
        # A session without a user: no X-Auth-User, even a forged one.
        anonymous = self.redeem(None)
        self.assertEqual(self.app_user({"Authorization": "Bearer " + anonymous,
                                        "X-Auth-User": "mallory"}), ("", ""))
        # The public /auth/verify answers with the same headers.
        status, h, body = self.via_nginx("GET", "/auth/verify",
                                         {"Authorization": "Bearer " + token})
        self.assertEqual(status, 200, body)
        self.assertEqual(h["x-auth-user"], "alice")
        self.assertEqual(json.loads(body)["authenticated"], True)
        # Backends reach create-session and /metrics on the service itself.
        for path in ("/auth/create-session", "/auth/session-status", "/metrics"):
            self.assertEqual(self.via_nginx("GET", path)[0], 404, path)

    def test_401_for_missing_garbage_expired_and_logged_out(self):
        self.stack({"EMBED_IDLE_TIMEOUT_SECONDS": "2"})
        self.assertUnauthorized({})
        self.assertUnauthorized({"Authorization": "Bearer garbage"})
        self.assertUnauthorized({"Cookie": COOKIE + "=garbage"})
        self.assertUnauthorized({"Authorization": "Bearer " + "A" * 43})
        # The header beats the cookie, even when the header is wrong.
        token = self.redeem()
        self.assertUnauthorized({"Authorization": "Bearer " + "A" * 43,
                                 "Cookie": "%s=%s" % (COOKIE, token)})

        # Expired: idle for longer than EMBED_IDLE_TIMEOUT_SECONDS.  Every
        # request through nginx slides it, so the token lives while used.
        idle = self.redeem()
        for _ in range(3):
            time.sleep(1)
            self.assertEqual(self.app_user({"Authorization": "Bearer " + idle})[0], "alice")
        key = "auth_embed:" + hashlib.sha256(idle.encode()).hexdigest()
        db = self.redis.client()
        self.assertTrue(wait_until(lambda: db.call("EXISTS", key) == 0, 2 + 3, 0.1))
        db.close()
        self.assertUnauthorized({"Authorization": "Bearer " + idle})

        # Logged out, through nginx, with the cookie the browser holds.
        token = self.redeem()
        self.assertEqual(self.app_user({"Cookie": "%s=%s" % (COOKIE, token)})[0], "alice")
        status, h, body = self.via_nginx("POST", "/auth/logout",
                                         {"Cookie": "%s=%s" % (COOKIE, token)})
        self.assertEqual(status, 204, body)
        cookie = h["set-cookie"]
        self.assertTrue(cookie.startswith(COOKIE + "="), cookie)
        for attribute in ("Path=/", "Secure", "HttpOnly", "SameSite=None",
                          "Partitioned", "Max-Age=0"):
            self.assertIn(attribute, cookie.split("; "))
        self.assertUnauthorized({"Cookie": "%s=%s" % (COOKIE, token)})
        self.assertUnauthorized({"Authorization": "Bearer " + token})

    def test_503_when_redis_is_stopped_or_the_service_is_gone(self):
        # What nginx makes of verify's 503: auth_request turns any answer
        # but 2xx, 401 and 403 into a 500, which the site answers as 503
        # with Retry-After (deploy/nginx/iframe-auth.conf).  Fail closed.
        # A deadline a loaded machine meets while Redis runs.
        self.stack({"REDIS_TIMEOUT_MS": "1000"})
        token = self.redeem()
        bearer = {"Authorization": "Bearer " + token}
        self.assertEqual(self.app_user(bearer)[0], "alice")
        self.redis.stop()
        try:
            started = time.monotonic()
            status, h, body = self.via_nginx("GET", "/app/", bearer)
            took = time.monotonic() - started
            self.assertEqual(status, 503, body)
            self.assertEqual(h.get("retry-after"), "5")
            self.assertNotIn("signed in as", body)
            self.assertLess(took, 1.0 + 2)
            self.assertIn("auth request unexpected status: 503", self.nginx.errors())
            # The service's own answer, for the record.
            self.assertEqual(self.svc.get("/auth/verify", headers=bearer).status, 503)
        finally:
            self.redis.cont()
        self.assertTrue(self.wait_healthy(self.svc))
        self.assertEqual(self.app_user(bearer)[0], "alice")

        # iframe-auth itself gone: nginx cannot ask, and still fails closed.
        self.assertEqual(self.svc.stop(), 0)
        status, h, body = self.via_nginx("GET", "/app/", bearer)
        self.assertEqual(status, 503, body)
        self.assertNotIn("signed in as", body)


if __name__ == "__main__":
    main()

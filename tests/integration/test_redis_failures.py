"""Redis failures beyond kill and stop: CLIENT PAUSE WRITE, maxmemory with
noeviction, every kind of error reply, garbage, oversized and split
replies, a reset in mid-reply, and a connect that never completes.  Each
ends in 503 within the deadline, and the service recovers."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from fake_redis import FakeRedis  # noqa: E402
from harness import ServiceTest, main, wait_until  # noqa: E402

TIMEOUT_MS = 400
LIMIT = TIMEOUT_MS / 1000 + 1
SID = "550e8400-e29b-41d4-a716-446655440000"


class RealRedisFailures(ServiceTest):
    def setUp(self):
        super().setUp()
        self.svc = self.service({"REDIS_TIMEOUT_MS": str(TIMEOUT_MS)})
        self.assertTrue(self.wait_healthy(self.svc))
        self.db = self.redis.client()

    def tearDown(self):
        self.db.close()
        super().tearDown()

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

    def test_connect_that_never_completes(self):
        fake = FakeRedis(accept=False)
        svc = self.start_on(fake, wait=False)
        time.sleep(TIMEOUT_MS / 1000 * 2)
        self.assert_503_in_time(svc)
        self.assertIn("no answer within", svc.get("/auth/redis-health").json()["message"])
        fake.start_accepting()
        self.assertTrue(self.wait_healthy(svc, 8))
        fake.close()


if __name__ == "__main__":
    main()

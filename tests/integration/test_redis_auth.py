"""Redis with requirepass: the right password, across a restart, and a
wrong one, which must give 503 and never reach the log."""

import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from harness import ServiceTest, main  # noqa: E402

PASSWORD = "correct-horse-battery-staple-42"


class RedisAuth(ServiceTest):
    redis_password = PASSWORD

    def test_right_password_survives_restart(self):
        svc = self.service()
        self.assertTrue(self.wait_healthy(svc))
        self.redis.kill()
        self.assertEqual(svc.get("/auth/redis-health").status, 503)
        self.redis.start()
        self.assertTrue(self.wait_healthy(svc, 5))
        self.assertNotIn(PASSWORD, svc.logs())

    def test_wrong_password_is_503_and_never_logged(self):
        wrong = "wrong-password-do-not-log-9"
        svc = self.service({"REDIS_PASSWORD": wrong})
        self.assertFalse(self.wait_healthy(svc, 1.5))
        r = svc.get("/auth/redis-health")
        self.assertEqual(r.status, 503)
        self.assertIn("WRONGPASS", r.json()["message"])
        self.assertNotIn(wrong, r.body.decode())
        log = svc.logs()
        self.assertIn("WRONGPASS", log)
        self.assertNotIn(wrong, log)

    def test_missing_password_is_503(self):
        svc = self.service({"REDIS_PASSWORD": ""})
        self.assertFalse(self.wait_healthy(svc, 1.5))
        self.assertEqual(svc.get("/auth/redis-health").status, 503)


if __name__ == "__main__":
    main()

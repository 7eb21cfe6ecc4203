"""session-status?exact=true over 100 000 live sessions: the walk completes with
exact counts, and validations running meanwhile keep succeeding without
waiting for it."""

import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import ServiceTest, main  # noqa: E402

LIVE = 100000
USED = 1000


def record(i, used):
    head = ('{"used":true,"used_at":"2026-11-22T10:00:00Z",' if used
            else '{"used":false,')
    return (head + '"iframe_opened":false,"session_id":"%08x-0000-4000-8000-'
            '000000000000","created_at":"2026-11-22T10:00:00Z",'
            '"expires_at":"2026-11-22T11:00:00Z"}' % i)


class StatusWalk(ServiceTest):
    def test_walk_over_100k_while_validating(self):
        db = self.redis.client(timeout=60)
        batch = []
        for i in range(LIVE):
            batch.append(("SET", "auth_session:%08x-0000-4000-8000-000000000000" % i,
                          record(i, i < USED), "EX", 3600))
            if len(batch) == 5000:
                db.pipeline(batch)
                batch = []
        db.close()
        svc = self.service({"MAX_SESSIONS": "0", "LOG_LEVEL": "WARNING",
                            "REDIS_TIMEOUT_MS": "2000"})
        self.assertTrue(self.wait_healthy(svc))
        for _ in range(400):
            r = svc.request("POST", "/auth/create-session")
            self.assertEqual(r.status, 200)
        # Validations of stored sessions run alongside the walk; each
        # keeps its start and end.
        # A validation that raises (a timeout: the slowest of all) is
        # kept as a failure, never dropped with its thread.
        spans = []
        errors = []
        stop = threading.Event()

        def validate(ids):
            for i in ids:
                sid = "%08x-0000-4000-8000-000000000000" % i
                t = time.monotonic()
                try:
                    r = svc.request("POST",
                                    "/auth/validate-session?session_id=" + sid)
                except Exception as e:  # noqa: BLE001 -- reported below
                    errors.append("%s after %.0f ms: %r"
                                  % (sid, (time.monotonic() - t) * 1000, e))
                    return
                spans.append((t, time.monotonic(), r.status))
                if stop.is_set():
                    break
        workers = [threading.Thread(target=validate,
                                    args=(range(USED + k, LIVE, 4),))
                   for k in range(4)]
        for w in workers:
            w.start()
        started = time.monotonic()
        r = svc.get("/auth/session-status?exact=true", timeout=60)
        ended = time.monotonic()
        elapsed = ended - started
        stop.set()
        for w in workers:
            w.join(60)
            self.assertFalse(w.is_alive(), "a validation never finished")
        self.assertEqual(errors, [])
        results = [status for _, _, status in spans]
        body = r.json()
        self.assertEqual(r.status, 200, body)
        self.assertIs(body["exact"], True)
        validated = results.count(200)
        # Validations that finished before or during the walk may or may
        # not be seen as used by it; everything else is exact.
        self.assertEqual(body["total_sessions"], LIVE + 400)
        self.assertGreaterEqual(body["used_sessions"], USED)
        self.assertLessEqual(body["used_sessions"], USED + validated)
        self.assertEqual(body["active_sessions"] + body["used_sessions"], LIVE + 400)
        self.assertEqual(body["total_created"], 400)
        self.assertEqual(set(results), {200})
        # The walk goes in small batches: a validation waits for one batch
        # at most, never for the whole walk.
        during = sorted(end - start for start, end, _ in spans
                        if start < ended and end > started)
        self.assertGreater(len(during), 20)
        # (the 95th percentile: one scheduling hiccup is not the walk)
        self.assertLess(during[len(during) * 95 // 100], elapsed / 4,
                        "validations waited for most of the walk")
        print("walk over %d sessions took %.0f ms with %d validations alongside,"
              " the slowest %.1f ms" % (LIVE, elapsed * 1000, len(during),
                                       during[-1] * 1000), file=sys.stderr)


if __name__ == "__main__":
    main()

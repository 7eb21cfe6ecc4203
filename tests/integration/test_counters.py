"""session-status from the counters (SPEC §4, §5): a mixed run of
creates, validates, revokes, revoke-alls and expiries with short TTLs,
across two service instances, while exact walks run alongside; at every
check the counters equal both the test's own account and an exact walk.
Then keys removed behind the service's back are repaired by ?exact=true.

A revoke-all ends its user's sessions logically and deletes no key: they
stay counted, live and as they were, until they expire."""

import json
import os
import random
import sys
import threading
import time
import uuid

sys.path.insert(0, os.path.dirname(__file__))
from harness import ServiceTest, main  # noqa: E402

# Records in the service's own layout written straight into Redis before
# the run: the first exact walk adopts them into the counters.  With the
# creates of the run, the keys stay between 1 024 and 2 048, so that
# Redis's table never grows or shrinks during a walk: a rehash makes SCAN
# return some keys twice, which a walk counts twice (README, "Data in
# Redis"), and the account here would no longer be exact.
BASE = 1200
BASE_USED = 300
ROUNDS = 5
WORKERS = 4
OPS = 30
# How far around an expiry a check keeps away (s): the key, the counters
# and the test's clock agree within this.
MARGIN = 0.05
# How long a check may take (s).
CHECK_SPAN = 0.5


def triple(body):
    return (body["total_sessions"], body["active_sessions"], body["used_sessions"])


class Counters(ServiceTest):
    def setUp(self):
        super().setUp()
        env = {"MAX_SESSIONS": "0", "LOG_LEVEL": "WARNING"}
        self.svcs = [self.service(env), self.service(env)]
        for svc in self.svcs:
            self.assertTrue(self.wait_healthy(svc))
        self.db = self.redis.client()
        self.lock = threading.Lock()
        # id -> {"window": (earliest, latest) expiry, monotonic; "used";
        # "second": its expires_at}
        self.sessions = {}
        self.rng = random.Random(14)
        self.created = []  # ids the run created
        self.revoked = 0  # validations refused after a revoke-all

    def put_base(self):
        now = int(self.db.call("TIME")[0])
        expires = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + 3600))
        cmds = []
        for i in range(BASE):
            sid = str(uuid.UUID(int=i, version=4))
            used = i < BASE_USED
            head = ('{"used":true,"used_at":"2026-01-01T00:00:00Z",' if used
                    else '{"used":false,')
            cmds.append(("SET", "auth_session:" + sid,
                         head + '"iframe_opened":false,"session_id":"%s",'
                         '"created_at":"2026-01-01T00:00:00Z","expires_at":"%s"}'
                         % (sid, expires), "EX", 3600))
            self.sessions[sid] = {"window": (time.monotonic() + 3000,) * 2,
                                  "used": used, "second": expires}
        self.db.pipeline(cmds)

    # The operations, each recorded once its answer is in.
    def create(self, svc, ttl, user=None):
        body = {"ttl_seconds": ttl}
        if user:
            body["user_id"] = user
        sent = time.monotonic()
        r = svc.request("POST", "/auth/create-session", body=json.dumps(body))
        got = time.monotonic()
        self.assertEqual(r.status, 200, r.body)
        with self.lock:
            self.sessions[r.json()["session_id"]] = {
                "window": (sent + ttl, got + ttl), "used": False,
                "second": r.json()["expires_at"]}
            self.created.append(r.json()["session_id"])

    def validate(self, svc, sid):
        r = svc.request("POST", "/auth/validate-session?session_id=" + sid)
        self.assertIn(r.status, (200, 401), r.body)
        if r.status == 401 and r.json()["reason"] == "revoked":
            self.revoked += 1
        if r.status == 200:
            with self.lock:
                # (unless a revoke racing with it answered first)
                rec = self.sessions.get(sid, {"used": False})
                self.assertFalse(rec["used"], sid)
                rec["used"] = True

    def revoke(self, svc, sid):
        r = svc.request("DELETE", "/auth/sessions/" + sid)
        self.assertIn(r.status, (204, 404), r.body)
        if r.status == 204:
            with self.lock:
                self.sessions.pop(sid, None)

    def revoke_user(self, svc, user):
        r = svc.request("DELETE", "/auth/users/%s/sessions" % user)
        self.assertEqual(r.status, 200, r.body)

    def status(self, svc, exact=False):
        r = svc.get("/auth/session-status" + ("?exact=true" if exact else ""))
        self.assertEqual(r.status, 200, r.body)
        body = r.json()
        self.assertEqual(body.get("exact", False), exact)
        return triple(body)

    def worker(self, failures):
        rng = random.Random(self.rng.random())
        try:
            for _ in range(OPS):
                svc = rng.choice(self.svcs)
                with self.lock:
                    ids = list(self.sessions if rng.random() < 0.5 or not self.created
                               else self.created)
                op = rng.random()
                if op < 0.4:
                    self.create(svc, rng.choice((1, 1, 2, 600)),
                                rng.choice((None, "u1", "u2")))
                elif op < 0.75:
                    self.validate(svc, rng.choice(ids))
                elif op < 0.95:
                    self.revoke(svc, rng.choice(ids))
                else:
                    self.revoke_user(svc, rng.choice(("u1", "u2")))
        except Exception as e:  # noqa: BLE001 -- reported by the test
            failures.append(e)

    def walker(self, stop, failures):
        try:
            while not stop.is_set():
                self.status(self.rng.choice(self.svcs), exact=True)
        except Exception as e:  # noqa: BLE001 -- reported by the test
            failures.append(e)

    def expected(self, at):
        """(total, active, used) at a moment no expiry is near."""
        live = [s for s in self.sessions.values() if s["window"][0] > at]
        used = sum(1 for s in live if s["used"])
        return (len(live), len(live) - used, used)

    def quiet_moment(self):
        """Waits for CHECK_SPAN clear of every expiry; returns its start.
        The sessions of one expiry second leave the counts together, when
        the last of them expires: each second spans its sessions'
        windows."""
        for _ in range(500):
            now = time.monotonic()
            spans = {}
            for s in self.sessions.values():
                lo, hi = spans.get(s["second"], s["window"])
                spans[s["second"]] = (min(lo, s["window"][0]),
                                      max(hi, s["window"][1]))
            if not any(lo - MARGIN < now + CHECK_SPAN and hi + MARGIN > now
                       for lo, hi in spans.values()):
                return now
            time.sleep(0.01)
        self.fail("no moment clear of expiries")

    def check(self):
        """Counters on both instances, an exact walk and the account
        agree.  A check that overran its span is taken again."""
        for _ in range(5):
            start = self.quiet_moment()
            want = self.expected(start)
            seen = [self.status(self.svcs[0]), self.status(self.svcs[1])]
            walked = self.status(self.svcs[0], exact=True)
            seen.append(self.status(self.svcs[1]))
            if time.monotonic() - start < CHECK_SPAN:
                self.assertEqual(seen, [want] * 3, "counters")
                self.assertEqual(walked, want, "exact walk")
                return want
        self.fail("every check overran its span")

    def test_mixed_run_then_repair(self):
        self.put_base()
        # Written behind the service's back: not counted until a walk.
        self.assertEqual(self.status(self.svcs[0]), (0, 0, 0))
        self.assertEqual(self.status(self.svcs[1], exact=True),
                         (BASE, BASE - BASE_USED, BASE_USED))
        self.check()
        for _ in range(ROUNDS):
            failures, stop = [], threading.Event()
            walker = threading.Thread(target=self.walker, args=(stop, failures))
            walker.start()
            workers = [threading.Thread(target=self.worker, args=(failures,))
                       for _ in range(WORKERS)]
            for w in workers:
                w.start()
            for w in workers:
                w.join(60)
            stop.set()
            walker.join(60)
            self.assertEqual(failures, [])
            self.check()
        self.assertGreater(self.revoked, 0, "no revoke-all was ever seen")
        # Every short session gone, so that the repairs below are exact.
        time.sleep(max(0.0, max(s["window"][1] for s in self.sessions.values()
                                if s["window"][1] < time.monotonic() + 100)
                       - time.monotonic() + MARGIN))
        want = self.check()
        self.repair_deleted_keys(want)
        self.repair_lost_counts()

    def repair_deleted_keys(self, want):
        live = [sid for sid, s in self.sessions.items()
                if s["window"][0] > time.monotonic() + 100]
        gone = ([sid for sid in live if self.sessions[sid]["used"]][:5] +
                [sid for sid in live if not self.sessions[sid]["used"]][:5])
        for sid in gone:
            self.db.call("DEL", "auth_session:" + sid)
            del self.sessions[sid]
        # High by what was deleted, until the walk.
        self.assertEqual(self.status(self.svcs[0]), want)
        self.status(self.svcs[1], exact=True)
        fixed = self.check()
        self.assertEqual(fixed, (want[0] - 10, want[1] - 5, want[2] - 5))

    def repair_lost_counts(self):
        want = self.expected(time.monotonic())
        # The counts lost (as by eviction): low until the walk.
        self.db.call("DEL", "auth_sessions_count")
        self.assertEqual(self.status(self.svcs[0]), (0, 0, 0))
        self.status(self.svcs[1], exact=True)
        self.check()
        # The expiry set lost: the counts reset, the walk counts again.
        self.db.call("DEL", "auth_sessions_expiry")
        self.assertEqual(self.status(self.svcs[1]), (0, 0, 0))
        self.status(self.svcs[0], exact=True)
        self.assertEqual(self.check(), want)
        self.db.call("FLUSHDB")
        self.sessions.clear()
        self.assertEqual(self.check(), (0, 0, 0))


class ExactParameter(ServiceTest):
    def test_only_true_or_false_once(self):
        svc = self.service({"MAX_SESSIONS": "0"})
        self.assertTrue(self.wait_healthy(svc))
        for query, exact in (("", False), ("?exact=false", False),
                             ("?exact=true", True), ("?count=1&exact=true", True)):
            r = svc.get("/auth/session-status" + query)
            self.assertEqual(r.status, 200, r.body)
            self.assertEqual(r.json().get("exact", False), exact, query)
        for query in ("?exact=1", "?exact=", "?exact=TRUE", "?exact=true&exact=true",
                      "?exact=false&exact=true"):
            r = svc.get("/auth/session-status" + query)
            self.assertEqual(r.status, 400, query)
            self.assertEqual(r.json(), {"detail": "exact must be true or false, given once"})


if __name__ == "__main__":
    main()

"""Validation under a burst: hundreds of validations in flight at once,
with and without Redis frozen in the middle. Every request gets its right
answer, one-time use holds for a session raced by many, and a validation
sent to a frozen Redis and answered 503 never uses its session (§5, §6)."""

import json
import os
import random
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import (ServiceTest, log_every_command, main, one_turn,  # noqa: E402
                     script_calls, wait_until)

TIMEOUT_MS = 500
# What a noisy machine may add to the Redis deadline before an answer.
MARGIN_S = 1.0
SINGLES = 200
RACERS = 50


class Outcome:
    """One request's answer (or the exception instead of one), and when it
    was sent and answered."""

    def __init__(self, sid):
        self.sid = sid
        self.sent = None
        self.took = None
        self.status = None
        self.body = None
        self.error = None


class ValidateRace(ServiceTest):
    def setUp(self):
        super().setUp()
        self.svc = self.healthy_service({"REDIS_TIMEOUT_MS": str(TIMEOUT_MS)})
        self.db = self.redis_client()

    def create_sessions(self, count):
        sids = []
        for _ in range(count):
            r = self.svc.request("POST", "/auth/create-session")
            self.assertEqual(r.status, 200, r.body)
            sids.append(r.json()["session_id"])
        return sids

    def validate(self, outcome):
        outcome.sent = time.monotonic()
        try:
            r = self.svc.request("POST", "/auth/validate-session?session_id="
                                 + outcome.sid, timeout=TIMEOUT_MS / 1000 + 10)
            outcome.status = r.status
            outcome.body = r.json()
        except Exception as e:  # noqa: BLE001 - reported by the test
            outcome.error = repr(e)
        outcome.took = time.monotonic() - outcome.sent

    def total_used(self):
        return int(self.db.call("HGET", "auth_stats", "total_used") or 0)

    def used(self, sid):
        return json.loads(self.db.call("GET", "auth_session:" + sid))["used"]

    def validations_run(self):
        """Validations Redis ran since log_every_command(): a validate
        call carries two keys for each, after two of its own (stats and
        counts, in that order)."""
        return sum(self.validate_calls())

    def validate_calls(self):
        """The validate calls Redis ran since log_every_command(), each as
        the number of validations it carried."""
        return [(n - 2) // 2 for n in script_calls(self.db, "auth_stats", "auth_sessions_count")]

    def fire(self, waves, between=None):
        """Runs one thread per outcome; all of them start together at a
        barrier, those of waves[1] only once between() has returned."""
        barrier = threading.Barrier(sum(map(len, waves)) + 1)
        second_wave = threading.Event()
        threads = []
        for number, wave in enumerate(waves):
            for outcome in wave:
                def go(outcome=outcome, later=number > 0):
                    barrier.wait()
                    if later:
                        second_wave.wait()
                    self.validate(outcome)
                threads.append(threading.Thread(target=go, daemon=True))
        for t in threads:
            t.start()
        barrier.wait()
        if between:
            between()
        second_wave.set()
        return threads

    def join(self, threads, timeout):
        deadline = time.monotonic() + timeout
        for t in threads:
            t.join(max(0, deadline - time.monotonic()))
        return [t for t in threads if t.is_alive()]

    def assertAnswered(self, outcomes):
        """Every request got an HTTP answer, none dropped or hung."""
        dropped = [(o.sid, o.error) for o in outcomes if o.status is None]
        self.assertEqual(dropped, [], "requests without an answer")

    def test_two_hundred_sessions_and_fifty_racers_at_once(self):
        sids = self.create_sessions(SINGLES + 1)
        raced = sids.pop()
        used_before = self.total_used()
        singles = [Outcome(sid) for sid in sids]
        racers = [Outcome(raced) for _ in range(RACERS)]
        self.assertEqual(self.join(self.fire([singles + racers]), 25), [])
        self.assertAnswered(singles + racers)

        for o in singles:
            self.assertEqual(o.status, 200, (o.sid, o.body))
            self.assertEqual(o.body["session_id"], o.sid)
            self.assertIsInstance(o.body["embed_token"], str)
            self.assertTrue(o.body["embed_token"])
        statuses = sorted(o.status for o in racers)
        self.assertEqual(statuses, [200] + [401] * (RACERS - 1))
        for o in racers:
            if o.status == 401:
                self.assertEqual(o.body["reason"], "already_used", o.body)
            else:
                self.assertEqual(o.body["session_id"], raced)

        self.assertEqual([sid for sid in sids + [raced] if not self.used(sid)], [])
        self.assertEqual(self.total_used() - used_before, SINGLES + 1)

    def test_redis_frozen_in_the_middle(self):
        sids = self.create_sessions(SINGLES + 1)
        raced = sids.pop()
        used_before = self.total_used()
        log_every_command(self.db)
        singles = [Outcome(sid) for sid in sids]
        racers = [Outcome(raced) for _ in range(RACERS)]
        half, racing_half = SINGLES // 2, RACERS // 2
        first = singles[:half] + racers[:racing_half]
        second = singles[half:] + racers[racing_half:]

        frozen_at = []

        def freeze_once_the_first_wave_runs():
            # Some of the first wave answered, the rest is in flight.
            wait_until(lambda: any(o.took is not None for o in first), 5, 0.001)
            self.redis.stop()
            frozen_at.append(time.monotonic())
        threads = self.fire([first, second], freeze_once_the_first_wave_runs)
        try:
            hung = self.join(threads, TIMEOUT_MS / 1000 + MARGIN_S + 5)
        finally:
            # Past every deadline: what Redis holds unread runs only now.
            self.redis.cont()
        self.assertEqual(hung, [], "requests still waiting for an answer")
        self.assertAnswered(singles + racers)

        everyone = singles + racers
        self.assertEqual(sorted({o.status for o in everyone} - {200, 401, 503}), [],
                         [(o.status, o.body) for o in everyone])
        for o in everyone:
            self.assertLess(o.took, TIMEOUT_MS / 1000 + MARGIN_S,
                            (o.sid, o.status))
            if o.status == 503:
                self.assertEqual(o.body, {"detail": "service temporarily unavailable",
                                          "redis_healthy": False})
        for o in singles:
            self.assertIn(o.status, (200, 503), (o.sid, o.body))
            if o.status == 200:
                self.assertEqual(o.body["session_id"], o.sid)
                self.assertTrue(o.body["embed_token"])
        # Every request sent to the frozen Redis waited for it: 503.
        self.assertEqual([o.status for o in second if o.status != 503], [])

        racer_wins = [o for o in racers if o.status == 200]
        self.assertLessEqual(len(racer_wins), 1)
        for o in racers:
            if o.status == 401:
                self.assertEqual(o.body["reason"], "already_used", o.body)
        # A racer of the first wave may have been carried out by Redis
        # just before it froze, its reply held up by the freeze: a 503
        # that used the session (the gap README's "Limits" describes).
        # A request sent once Redis was frozen never can.
        racer_maybe_used = any(o.status == 503 for o in racers[:racing_half])
        if any(o.status == 401 for o in racers):
            self.assertTrue(len(racer_wins) == 1 or racer_maybe_used)

        # Settle: Redis has run what it received while frozen.
        self.assertTrue(self.wait_healthy(self.svc, 5))
        time.sleep(2 * TIMEOUT_MS / 1000)
        hidden = [(o.sid, round(frozen_at[0] - o.sent, 3), round(o.took, 3))
                  for o in singles[half:] if self.used(o.sid)]
        self.assertEqual(hidden, [], "sent to a frozen Redis, answered 503, and "
                         "used all the same (id, seconds from sending to "
                         "SIGSTOP, seconds to the answer)")
        # Not a check: the first wave's 503s whose script Redis had run
        # when it froze, before it could write the reply.
        late = {o.sid for o in singles[:half]
                if o.status == 503 and self.used(o.sid)}
        print("first-wave validations answered 503 with the script run "
              "before the freeze: %d" % len(late))
        raced_used = self.used(raced)
        if not racer_wins:
            self.assertTrue(not raced_used or racer_maybe_used)
        else:
            self.assertTrue(raced_used)
        winners = {o.sid for o in everyone if o.status == 200}
        self.assertEqual([sid for sid in winners if not self.used(sid)], [])
        self.assertEqual(self.total_used() - used_before,
                         len(winners) + len(late) +
                         (1 if raced_used and not racer_wins else 0))
        # Every validation reached Redis, those sent to it frozen too (it
        # wakes before the link would move on, at two deadlines): the
        # sessions above were left unused by its refusal, not by chance.
        self.assertEqual(self.validations_run(), len(everyone))

        # A session that got 503 can still be validated, once.
        retried = sorted({o.sid for o in singles if o.status == 503} - late)
        self.assertTrue(retried)
        for sid in retried:
            r = self.svc.request("POST", "/auth/validate-session?session_id=" + sid)
            self.assertEqual(r.status, 200, (sid, r.body))
        r = self.svc.request("POST", "/auth/validate-session?session_id=" + raced)
        self.assertEqual(r.status, 401 if raced_used else 200, r.body)

    def test_one_turn_is_one_call_and_each_keeps_its_answer(self):
        # Validations read in one turn go to Redis together; each gets the
        # answer it would have got alone, whatever the mix and the order:
        # a fresh session 200, a session raced in the same call one 200
        # and 401s, a corrupt record 500, a missing one 401, and one whose
        # user's revoke-all key is of the wrong type (an error inside
        # Redis) 503, which touches none of the others.  Random mixes,
        # seeded and printed.
        seed = int(os.environ.get("BATCH_SEED", time.time()))
        print("BATCH_SEED=%d" % seed)
        rng = random.Random(seed)
        for _ in range(6):
            self.check_one_turn(rng)

    def test_a_long_call_holds_each_validation_to_its_own_deadline(self):
        # Sixty-four records of another writer, 512 KiB each, read the
        # general way (tens of milliseconds each): one call takes longer
        # than the whole deadline.  Each validation is still refused once
        # Redis's clock is past its limit, so the call ends in time and no
        # 503 hides a used session.  The deadline leaves the reply (a few
        # MiB: each 200 carries its record) half a second to be read.
        svc = self.healthy_service({"REDIS_TIMEOUT_MS": "1000"})
        sids = []
        for _ in range(64):
            r = svc.request("POST", "/auth/create-session")
            self.assertEqual(r.status, 200, r.body)
            sids.append(r.json()["session_id"])
        pad = "x" * 524288
        for sid in sids:
            self.db.call("SET", "auth_session:" + sid, json.dumps({
                "session_id": sid, "metadata": {"pad": pad}, "used": False,
                "iframe_opened": False, "created_at": "2026-11-22T10:00:00Z",
                "expires_at": "2099-01-01T00:00:00Z"}), "EX", "600")
        answers = one_turn(svc, [
            b"POST /auth/validate-session?session_id=%s HTTP/1.1\r\n"
            b"Host: x\r\nContent-Length: 0\r\n\r\n" % sid.encode() for sid in sids])
        statuses = [status for status, _ in answers]
        self.assertEqual(sorted(set(statuses) - {200, 503}), [], statuses)
        self.assertIn(503, statuses, "the call was not longer than half the deadline")
        wrong = [(sid, status) for sid, (status, _) in zip(sids, answers)
                 if self.used(sid) != (status == 200)]
        self.assertEqual(wrong, [], "answers that disagree with Redis")

    def test_creations_of_one_turn_are_one_call_and_keep_the_cap(self):
        # MAX_SESSIONS 10 with 4 live: of 12 creations read in one turn
        # (two with a user whose revoke-all key is of the wrong type, an
        # error inside Redis for each of them alone), the first 6 others
        # in the order read are written and the rest meet the cap.
        svc = self.healthy_service({"MAX_SESSIONS": "10"})
        for _ in range(4):
            self.assertEqual(svc.request("POST", "/auth/create-session").status, 200)
        self.db.call("HSET", "auth_user_gen:broken", "a", "1")
        log_every_command(self.db)
        bodies = [b"{}"] * 12
        bodies[3] = bodies[5] = b'{"user_id":"broken"}'
        answers = one_turn(svc, [
            b"POST /auth/create-session HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
            % (len(body), body) for body in bodies])
        calls = script_calls(self.db, "auth_stats", "auth_sessions_expiry")
        self.assertEqual(sum(n - 3 for n in calls), 12, calls)
        self.assertLessEqual(len(calls), 2, calls)
        statuses = [status for status, _ in answers]
        if len(calls) == 1:
            # In the order read, which is the order sent.
            self.assertEqual(statuses, [200] * 3 + [503, 200, 503] + [200] * 2 +
                             [429] * 4, answers)
        # A broken one meets the cap first when it comes after it.
        self.assertIn(statuses[3], (503, 429))
        self.assertIn(statuses[5], (503, 429))
        others = [st for i, st in enumerate(statuses) if i not in (3, 5)]
        self.assertEqual(sorted(others), [200] * 6 + [429] * 4)
        for status, body in answers:
            if status == 200:
                self.assertIn('"used":false', self.db.call(
                    "GET", "auth_session:" + body["session_id"]))
        status = svc.request("GET", "/auth/session-status").json()
        self.assertEqual((status["active_sessions"], status["total_created"]), (10, 10))
        exact = svc.request("GET", "/auth/session-status?exact=true").json()
        self.assertEqual(exact["active_sessions"], 10)

    def test_a_broken_counter_fails_no_validation(self):
        # A counts field that is no integer cannot be kept; the sessions
        # validated in the same call are answered as validated, and used.
        sids = self.create_sessions(3)
        record = json.loads(self.db.call("GET", "auth_session:" + sids[0]))
        self.db.call("HSET", "auth_sessions_count", "used:" + record["expires_at"], "garbage")
        answers = one_turn(self.svc, [
            b"POST /auth/validate-session?session_id=%s HTTP/1.1\r\n"
            b"Host: x\r\nContent-Length: 0\r\n\r\n" % sid.encode() for sid in sids])
        self.assertEqual([status for status, _ in answers], [200] * 3, answers)
        self.assertEqual([sid for sid in sids if not self.used(sid)], [])

    def test_a_broken_counter_fails_creations_and_keeps_the_cap(self):
        # A count that is no integer cannot be kept: creations fail as
        # each would alone, rather than go uncounted past MAX_SESSIONS.
        svc = self.healthy_service({"MAX_SESSIONS": "3"})
        for _ in range(3):
            self.assertEqual(svc.request("POST", "/auth/create-session").status, 200)
        self.db.call("HSET", "auth_sessions_count", "live", "1.5")
        statuses = [svc.request("POST", "/auth/create-session").status for _ in range(3)]
        self.assertNotIn(200, statuses)
        self.db.call("HSET", "auth_sessions_count", "live", "3")
        self.assertEqual(svc.request("POST", "/auth/create-session").status, 429)

    def check_one_turn(self, rng):
        fresh = self.create_sessions(rng.randint(0, 20))
        raced = {sid: rng.randint(2, 4) for sid in self.create_sessions(rng.randint(0, 3))}
        broken = []
        for _ in range(rng.randint(0, 2)):
            user = "u-broken-%d" % rng.randrange(1 << 30)
            r = self.svc.request("POST", "/auth/create-session",
                                 json.dumps({"user_id": user}),
                                 {"Content-Type": "application/json"})
            self.assertEqual(r.status, 200, r.body)
            broken.append(r.json()["session_id"])
            self.db.call("DEL", "auth_user_gen:" + user)
            self.db.call("HSET", "auth_user_gen:" + user, "a", "1")
        # Made by the service, then overwritten or deleted behind its back
        # (the counters are set right by the exact walk below).
        corrupt = self.create_sessions(rng.randint(0, 2))
        for sid in corrupt:
            self.db.call("SET", "auth_session:" + sid, "not a record", "EX", "600")
        missing = self.create_sessions(rng.randint(0, 2))
        for sid in missing:
            self.db.call("DEL", "auth_session:" + sid)
        if corrupt or missing:
            self.svc.request("GET", "/auth/session-status?exact=true")
        ids = fresh + [sid for sid, n in raced.items() for _ in range(n)] + \
            broken + corrupt + missing
        if not ids:
            return
        rng.shuffle(ids)
        used_before = self.total_used()
        status_before = self.svc.request("GET", "/auth/session-status").json()
        log_every_command(self.db)

        answers = one_turn(self.svc, [
            b"POST /auth/validate-session?session_id=%s HTTP/1.1\r\n"
            b"Host: x\r\nContent-Length: 0\r\n\r\n" % sid.encode() for sid in ids])

        calls = self.validate_calls()
        self.assertEqual(sum(calls), len(ids), calls)
        self.assertLessEqual(len(calls), 2, calls)
        by_id = {}
        for sid, answer in zip(ids, answers):
            by_id.setdefault(sid, []).append(answer)
        for sid in fresh:
            (status, body), = by_id[sid]
            self.assertEqual(status, 200, body)
            self.assertEqual(body["session_id"], sid)
        for sid, n in raced.items():
            statuses = sorted(status for status, _ in by_id[sid])
            self.assertEqual(statuses, [200] + [401] * (n - 1), by_id[sid])
        for sid in broken:
            self.assertEqual(by_id[sid], [(503, {"detail": "service temporarily unavailable",
                                                 "redis_healthy": False})])
            self.assertFalse(self.used(sid))
        for sid in corrupt:
            self.assertEqual(by_id[sid], [(500, {"detail": "corrupt session record"})])
            self.assertEqual(self.db.call("GET", "auth_session:" + sid), "not a record")
            self.db.call("DEL", "auth_session:" + sid)  # never counted
        for sid in missing:
            (status, body), = by_id[sid]
            self.assertEqual((status, body["reason"]), (401, "not_found"))
        self.assertEqual(self.total_used() - used_before, len(fresh) + len(raced))
        # The counters moved with them, as the exact walk sees it.
        status = self.svc.request("GET", "/auth/session-status").json()
        self.assertEqual(status["used_sessions"] - status_before["used_sessions"],
                         len(fresh) + len(raced))
        exact = self.svc.request("GET", "/auth/session-status?exact=true").json()
        for field in ("total_sessions", "active_sessions", "used_sessions"):
            self.assertEqual(status[field], exact[field], field)

if __name__ == "__main__":
    main()

"""Records written by anyone (SPEC §4) and the MAX_SESSIONS count that
must survive them, against a real Redis.  Records are written straight
into Redis the way other writers lay them out: the Python service this one
replaces (json.dumps defaults), another field order, unknown fields,
already used ones; and values that are no record at all."""

import base64
import hashlib
import json
import os
import sys
import threading
import time
import uuid

sys.path.insert(0, os.path.dirname(__file__))
from harness import ServiceTest, main, wait_until  # noqa: E402

# Fields no reader of this service knows; each must come back byte for
# byte, in value and spacing: numbers as written, '/' unescaped, [] kept.
UNKNOWN = ('"x_extra": {"nested": [1, 2.50, 1E3, -0.0, [], {}], '
           '"url": "https://a.example/b/c", "s": "\\u00e9\\n\\"}", '
           '"expires_at": "2000-01-01T00:00:00Z", "big": 123456789012345678901}')


def python_record(sid, used=False, user_id="u-42", metadata=None, extra=True,
                  created="2026-11-22T10:30:00.123456",
                  expires="2099-11-22T11:00:00.123456"):
    """A record as the Python service writes one: json.dumps defaults
    (", " and ": "), its field order, microseconds and no Z."""
    rec = {"session_id": sid, "created_at": created, "expires_at": expires,
           "used": used, "iframe_opened": False, "user_id": user_id,
           "metadata": metadata if metadata is not None else
           {"plan": "pro", "expires_at": "1999-01-01T00:00:00Z"}}
    if used:
        rec["used_at"] = "2026-11-22T10:31:00.5"
    text = json.dumps(rec)
    if extra:
        text = text[:-1] + ", " + UNKNOWN + "}"
    return text


def reordered_record(sid):
    """Another order, compact in places and loose in others, metadata
    first holding an "expires_at" and a "used" of its own."""
    return ('{ "metadata" : {"expires_at":"1999-01-01T00:00:00Z","used":true},'
            '"iframe_opened":false , "expires_at":"2099-01-01T00:00:00Z",\n'
            '\t"created_at":"2026-01-01T00:00:00Z","used" :false,'
            '"session_id":"%s", "tags": []}' % sid)


class RecordTest(ServiceTest):
    env = {"MAX_SESSIONS": "0"}

    def setUp(self):
        super().setUp()
        self.svc = self.healthy_service(self.env)
        self.db = self.redis_client()

    def put(self, value, sid=None, ttl=600):
        sid = sid or str(uuid.uuid4())
        self.db.call("SET", "auth_session:" + sid, value, "EX", ttl)
        return sid

    def put_record(self, make=python_record, **kw):
        """A record made by make, under its own session_id."""
        sid = str(uuid.uuid4())
        return self.put(make(sid, **kw), sid)

    def get(self, sid):
        return self.db.call("GET", "auth_session:" + sid)

    def validate(self, sid):
        return self.svc.request("POST", "/auth/validate-session?session_id=" + sid)

    def total_used(self):
        return int(self.db.call("HGET", "auth_stats", "total_used") or 0)

    def status(self, exact=False):
        path = "/auth/session-status" + ("?exact=true" if exact else "")
        body = self.assertJsonResponse(self.svc.get(path), 200)
        self.assertEqual(body.get("exact", False), exact)
        return body


class ForeignLayouts(RecordTest):
    def test_python_record_validates_once_and_keeps_every_byte(self):
        sid = str(uuid.uuid4())
        before = python_record(sid)
        self.put(before, sid, ttl=500)
        r = self.validate(sid)
        body = self.assertJsonResponse(r, 200)
        self.assertEqual(set(body), {"valid", "embed_token",
                                     "embed_expires_at", "session_id",
                                     "created_at", "expires_at", "used_at",
                                     "user_id", "metadata"})
        self.assertIs(body["valid"], True)
        self.assertEqual(body["session_id"], sid)
        self.assertEqual(body["created_at"], "2026-11-22T10:30:00.123456")
        self.assertEqual(body["expires_at"], "2099-11-22T11:00:00.123456")
        self.assertEqual(body["user_id"], "u-42")
        self.assertEqual(body["metadata"], {"plan": "pro",
                                            "expires_at": "1999-01-01T00:00:00Z"})
        after = self.get(sid)
        rec = json.loads(after)
        self.assertIs(rec["used"], True)
        self.assertEqual(rec["used_at"], body["used_at"])
        # Only the flag changed and used_at arrived: every other byte,
        # the unknown fields' included, is where it was.
        self.assertEqual(after, before.replace(
            '"used": false', '"used": true,"used_at":"%s"' % body["used_at"]))
        self.assertIn(UNKNOWN, after)
        ttl = self.db.call("TTL", "auth_session:" + sid)
        self.assertTrue(0 < ttl <= 500, ttl)
        self.assertEqual(self.total_used(), 1)
        again = self.assertJsonResponse(self.validate(sid), 401)
        self.assertEqual(again["reason"], "already_used")
        self.assertEqual(self.get(sid), after)

    def test_other_order_and_spacing(self):
        sid = str(uuid.uuid4())
        before = reordered_record(sid)
        self.put(before, sid)
        body = self.assertJsonResponse(self.validate(sid), 200)
        self.assertEqual(body["metadata"], {"expires_at": "1999-01-01T00:00:00Z",
                                            "used": True})
        self.assertEqual(body["expires_at"], "2099-01-01T00:00:00Z")
        self.assertNotIn("user_id", body)
        # The top-level flag changed, not the one in metadata.
        self.assertEqual(self.get(sid), before.replace(
            '"used" :false', '"used" :true,"used_at":"%s"' % body["used_at"]))
        self.assertEqual(self.validate(sid).json()["reason"], "already_used")

    def test_same_answer_as_for_the_service_own_record(self):
        mine = self.svc.request("POST", "/auth/create-session", body=json.dumps(
            {"user_id": "u-1", "metadata": {"a": [1, {"b": "c/d"}]}})).json()["session_id"]
        own = json.loads(self.get(mine))
        theirs = str(uuid.uuid4())
        self.put(json.dumps({"session_id": theirs, "created_at": own["created_at"],
                             "expires_at": own["expires_at"], "used": False,
                             "iframe_opened": False, "user_id": "u-1",
                             "metadata": {"a": [1, {"b": "c/d"}]}}), theirs)
        a = self.assertJsonResponse(self.validate(mine), 200)
        b = self.assertJsonResponse(self.validate(theirs), 200)
        for body in (a, b):
            del body["session_id"], body["used_at"], body["embed_token"]
            del body["embed_expires_at"]
        self.assertEqual(a, b)

    def test_escaped_backslash_before_u0000_is_no_nul(self):
        # "\\u0000" in JSON is a backslash and the text u0000: legal in
        # any record, unlike the escape of a NUL.
        for user in ("\\u0000", "\u00e9\\u0000n"):
            created = self.svc.request("POST", "/auth/create-session",
                                       body=json.dumps({"user_id": user}))
            sid = self.assertJsonResponse(created, 200)["session_id"]
            body = self.assertJsonResponse(self.validate(sid), 200)
            self.assertEqual(body["user_id"], user)
            theirs = str(uuid.uuid4())
            self.put(json.dumps({"session_id": theirs, "created_at": "2026-11-22T10:30:00",
                                 "expires_at": "2026-11-22T11:30:00", "used": False,
                                 "iframe_opened": False, "user_id": user}), theirs)
            body = self.assertJsonResponse(self.validate(theirs), 200)
            self.assertEqual(body["user_id"], user)

    def test_already_used_foreign_record(self):
        for record in (python_record, lambda s: python_record(s, extra=False)):
            sid = str(uuid.uuid4())
            before = record(sid).replace('"used": false', '"used": true')
            before = before.replace('"iframe_opened"', '"used_at": "2026-11-22T10:31:00", "iframe_opened"')
            self.put(before, sid)
            body = self.assertJsonResponse(self.validate(sid), 401)
            self.assertEqual(body["reason"], "already_used")
            self.assertEqual(self.get(sid), before)
        self.assertEqual(self.total_used(), 0)

    def test_concurrent_validations_of_a_foreign_record_one_success(self):
        for _ in range(10):
            sid = self.put_record()
            results = []
            barrier = threading.Barrier(30)

            def go():
                barrier.wait()
                results.append(self.validate(sid).status)
            threads = [threading.Thread(target=go) for _ in range(30)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(30)
            self.assertEqual(sorted(results), [200] + [401] * 29)
        self.assertEqual(self.total_used(), 10)

    def test_status_listing_and_revoke(self):
        unused = [self.put_record() for _ in range(2)]
        used = self.put_record(used=True)
        other = self.put_record(reordered_record)
        own = self.svc.request("POST", "/auth/create-session").json()["session_id"]
        # The counters count the service's own records; the exact walk
        # counts every writer's.
        body = self.status()
        self.assertEqual((body["total_sessions"], body["active_sessions"],
                          body["used_sessions"]), (1, 1, 0))
        body = self.status(exact=True)
        self.assertEqual((body["total_sessions"], body["active_sessions"],
                          body["used_sessions"]), (5, 4, 1))
        self.assertEqual(self.status()["total_sessions"], 1)
        listed = {s["session_id"]: s for s in
                  self.assertJsonResponse(self.svc.get("/auth/sessions"), 200)["sessions"]}
        self.assertEqual(set(listed), set(unused) | {used, other, own})
        self.assertIs(listed[used]["used"], True)
        self.assertIs(listed[unused[0]]["used"], False)
        self.assertEqual(listed[unused[0]]["created_at"], "2026-11-22T10:30:00.123456")
        self.assertEqual(listed[other]["expires_at"], "2099-01-01T00:00:00Z")
        self.assertTrue(0 < listed[other]["ttl_seconds"] <= 600)
        for sid in (used, other):
            self.assertEqual(self.svc.request("DELETE", "/auth/sessions/" + sid).status, 204)
            self.assertIsNone(self.get(sid))
        self.assertEqual(self.status(exact=True)["total_sessions"], 3)
        self.assertEqual(self.status()["total_sessions"], 1)

    def test_serving_the_page_marks_a_foreign_record_opened(self):
        for make in (python_record, reordered_record):
            sid = str(uuid.uuid4())
            before = make(sid)
            self.put(before, sid, ttl=400)
            r = self.svc.get("/client/iframe.html?session_id=" + sid)
            self.assertEqual(r.status, 200)
            self.assertTrue(wait_until(lambda: json.loads(self.get(sid))["iframe_opened"], 3))
            after = self.get(sid)
            self.assertEqual(after, before.replace('"iframe_opened": false', '"iframe_opened": true')
                             .replace('"iframe_opened":false', '"iframe_opened":true'))
            # Only the top-level flag: metadata keeps its own "used".
            self.assertIs(json.loads(after)["used"], False)
            ttl = self.db.call("TTL", "auth_session:" + sid)
            self.assertTrue(0 < ttl <= 400, ttl)


class Corrupt(RecordTest):
    VALUES = [
        "not json",
        "[1, 2]",
        '"a string"',
        "42",
        "{}",
        '{"session_id": "x", "used": false}',
        '{"session_id": "x", "created_at": "c", "expires_at": "e", '
        '"used": "no", "iframe_opened": false}',
        '{"session_id": "x", "created_at": "c", "expires_at": "e", '
        '"used": false, "iframe_opened": false, "n": 0x10}',
        '{"session_id": "x", "created_at": "c", "expires_at": "e", '
        '"used": false, "iframe_opened": false, "n": NaN}',
        '{"session_id": "x", "created_at": "c", "expires_at": "e", '
        '"used": false, "iframe_opened": false, "s": "\\u0000"}',
        '{"session_id": "x", "created_at": "c", "expires_at": "e", '
        '"used": false, "iframe_opened": false} trailing',
        '{"used":false,"iframe_opened":false,"session_id":"x"',
    ]

    def test_corrupt_record_is_500_and_left_alone(self):
        for value in self.VALUES:
            sid = self.put(value)
            r = self.validate(sid)
            self.assertEqual(self.assertJsonResponse(r, 500),
                             {"detail": "corrupt session record"}, value)
            self.assertEqual(self.get(sid), value)
            self.assertIn("corrupt session record session=" + sid[:8], self.svc.logs())
            self.assertNotIn(sid, self.svc.logs())
        self.assertEqual(self.total_used(), 0)
        self.assertEqual(self.db.call("KEYS", "auth_embed:*"), [])
        # Redis is healthy and so is the link: nothing says otherwise.
        self.assertEqual(self.svc.get("/auth/redis-health").status, 200)
        self.assertIs(self.status()["redis_healthy"], True)
        metrics = self.svc.get("/metrics").body.decode()
        self.assertIn("\niframe_auth_redis_up 1\n", metrics)
        # Nor do they stop the readers of the others.
        self.assertEqual(self.status(exact=True)["total_sessions"], len(self.VALUES))
        sid = self.svc.request("POST", "/auth/create-session").json()["session_id"]
        self.assertEqual(self.validate(sid).status, 200)
        self.assertEqual(self.svc.request("DELETE", "/auth/sessions/" + self.put("[]")).status, 204)

    def test_session_key_of_another_type_is_corrupt_not_redis_down(self):
        # Writers that keep a session as a hash, or anything but a string,
        # under the same key name.
        hashed, listed = str(uuid.uuid4()), str(uuid.uuid4())
        self.db.call("HSET", "auth_session:" + hashed, "session_id", hashed, "used", "0")
        self.db.call("RPUSH", "auth_session:" + listed, "x")
        own = self.svc.request("POST", "/auth/create-session").json()["session_id"]
        self.assertEqual(self.assertJsonResponse(self.validate(hashed), 500),
                         {"detail": "corrupt session record"})
        self.assertIn("corrupt session record session=" + hashed[:8], self.svc.logs())
        self.assertEqual(self.svc.get("/client/iframe.html?session_id=" + hashed).status, 200)
        seen, cursor = [], None
        while cursor != "0":
            page = self.assertJsonResponse(
                self.svc.get("/auth/sessions?count=1000&cursor=" + (cursor or "0")), 200)
            seen += [s["session_id"] for s in page["sessions"]]
            cursor = page["cursor"]
        self.assertEqual(seen, [own])
        self.assertEqual(self.svc.request("DELETE", "/auth/sessions/" + listed).status, 204)
        self.assertEqual(self.db.call("EXISTS", "auth_session:" + listed), 0)
        self.assertEqual(self.db.call("HGET", "auth_session:" + hashed, "used"), "0")
        self.assertEqual(self.svc.get("/auth/redis-health").status, 200)
        self.assertEqual(self.validate(own).status, 200)


def embed_key(token):
    return "auth_embed:" + hashlib.sha256(token.encode()).hexdigest()


class ForeignEmbed(RecordTest):
    """The embed session opened from another writer's record: verify reads
    it as it reads one opened from the service's own."""

    # Metadata as the other writer wrote it: its spacing, a number with a
    # trailing zero, '/' unescaped, an escape, [] and {}, a repeated key
    # (the last counts, as for every reader of records).
    METADATA = ('{"plan": "pro", "n": 1.50, "url": "https://a.example/b", '
                '"s": "\\u00e9", "e": [], "o": {}, "k": 1, "k": 2}')

    def verify(self, token):
        return self.svc.request("GET", "/auth/verify",
                                headers={"Authorization": "Bearer " + token})

    def test_python_record_opens_an_embed_session_verify_accepts(self):
        sid = str(uuid.uuid4())
        before = python_record(sid, user_id="alice@example.com",
                               metadata={"m": 1})
        before = before.replace('{"m": 1}', self.METADATA)
        before = before[:-1] + ', "return_to": "/app/?x=1"}'
        self.put(before, sid)
        body = self.assertJsonResponse(self.validate(sid), 200)
        self.assertEqual(body["return_to"], "/app/?x=1")
        self.assertEqual(body["user_id"], "alice@example.com")
        token = body["embed_token"]
        self.assertEqual(len(token), 43)
        self.assertEqual(self.assertJsonResponse(self.validate(sid), 401)["reason"],
                         "already_used")
        self.assertEqual(self.db.call("KEYS", "auth_embed:*"), [embed_key(token)])
        rec = self.db.call("GET", embed_key(token))
        self.assertIsNotNone(rec)
        # The service's embed layout, the record's members as it had them.
        self.assertTrue(rec.startswith('{"expires_at_unix":'), rec)
        self.assertIn(',"session_id":"%s","created_at":"%s","expires_at":"%s",'
                      '"generation":0,"user_id":"alice@example.com",'
                      '"return_to":"/app/?x=1","metadata":%s}'
                      % (sid, body["used_at"], body["embed_expires_at"],
                         self.METADATA), rec)
        r = self.verify(token)
        self.assertEqual(self.assertJsonResponse(r, 200)["user_id"],
                         "alice@example.com")
        self.assertEqual(r.header("x-auth-user"), "alice@example.com")
        self.assertEqual(r.header("x-auth-session"), sid[:8])
        self.assertEqual(r.header("x-auth-expires"), body["embed_expires_at"])
        meta = base64.urlsafe_b64decode(
            r.header("x-auth-metadata") + "=" * (-len(r.header("x-auth-metadata")) % 4))
        self.assertEqual(json.loads(meta), json.loads(self.METADATA))
        self.assertIn(b'"n":1.50,', meta)
        self.assertIn(b'"k":2', meta)
        self.assertIn(b'"url":"https://a.example/b"', meta)

    def test_other_order_and_no_user(self):
        sid = str(uuid.uuid4())
        self.put(reordered_record(sid), sid)
        body = self.assertJsonResponse(self.validate(sid), 200)
        r = self.verify(body["embed_token"])
        self.assertEqual(self.assertJsonResponse(r, 200)["user_id"], None)
        self.assertIsNone(r.header("x-auth-user"))
        meta = r.header("x-auth-metadata")
        self.assertEqual(json.loads(base64.urlsafe_b64decode(meta + "=" * (-len(meta) % 4))),
                         {"expires_at": "1999-01-01T00:00:00Z", "used": True})

    def test_refused_foreign_validations_leave_no_embed_key(self):
        sid = str(uuid.uuid4())
        self.assertEqual(self.validate(self.put(python_record(sid, used=True), sid)).status,
                         401)
        self.assertEqual(self.validate(self.put("[1]")).status, 500)
        self.assertEqual(self.db.call("KEYS", "auth_embed:*"), [])
        self.assertEqual(self.total_used(), 0)


class CapAndForeignRecords(RecordTest):
    env = {"MAX_SESSIONS": "3"}

    def test_revoking_foreign_records_leaves_the_count_alone(self):
        own = [self.svc.request("POST", "/auth/create-session").json()["session_id"]
               for _ in range(2)]
        mine = json.loads(self.get(own[0]))
        # Foreign records whose metadata (or a field before the real one)
        # names the second the service's own sessions expire in.
        decoys = []
        for make in (python_record, reordered_record):
            sid = str(uuid.uuid4())
            text = make(sid).replace("1999-01-01T00:00:00Z", mine["expires_at"])
            decoys.append(self.put(text, sid))
        # A foreign record that really expires in that second: no create of
        # this service counted it, so its revoke uncounts nothing.
        sid = str(uuid.uuid4())
        decoys.append(self.put(python_record(sid, expires=mine["expires_at"]), sid))
        # The own layout's head, then not: "live" is no second to count.
        decoys.append(self.put(
            '{"used":false,"metadata":{"expires_at":"%s"},"iframe_opened":false,'
            '"session_id":"x","created_at":"c","expires_at":"live"}' % mine["expires_at"]))
        for sid in decoys:
            self.assertEqual(self.svc.request("DELETE", "/auth/sessions/" + sid).status, 204)
        self.assertEqual(self.db.call("HGET", "auth_sessions_count", "live"), "2")
        self.svc.request("POST", "/auth/create-session")
        r = self.svc.request("POST", "/auth/create-session")
        self.assertEqual(r.status, 429, r.body)


class CapHealing(RecordTest):
    env = {"MAX_SESSIONS": "3"}

    def create(self, status=200, ttl=None):
        body = json.dumps({"ttl_seconds": ttl}) if ttl else None
        r = self.svc.request("POST", "/auth/create-session", body=body)
        self.assertEqual(r.status, status, r.body)
        return r.json()

    def test_expiry_set_deleted_creates_recover(self):
        ids = [self.create()["session_id"] for _ in range(3)]
        self.create(status=429)
        for sid in ids:
            self.db.call("DEL", "auth_session:" + sid)
        self.db.call("DEL", "auth_sessions_expiry")
        # The counts alone can never come down: the create resets them.
        self.create()
        self.assertEqual(self.db.call("HGET", "auth_sessions_count", "live"), "1")
        self.create()
        self.create()
        self.create(status=429)

    def test_lost_counts_come_back_with_the_exact_walk(self):
        live = [self.create()["session_id"] for _ in range(2)]
        self.db.call("DEL", "auth_sessions_expiry", "auth_sessions_count")
        # Too low now: two creates would pass the cap of three.
        self.assertEqual(self.status()["total_sessions"], 0)
        self.assertEqual(self.status(exact=True)["total_sessions"], 2)
        self.assertEqual(self.status()["total_sessions"], 2)
        self.assertEqual(self.db.call("HGET", "auth_sessions_count", "live"), "2")
        self.create()
        self.create(status=429)
        self.assertEqual(len(live), 2)

    def test_walk_raises_nothing_while_creates_and_revokes_run(self):
        uncapped = self.service({"MAX_SESSIONS": "0"})
        self.assertTrue(self.wait_healthy(uncapped))
        # Enough keys for a walk of several batches.
        for _ in range(300):
            self.assertEqual(uncapped.request("POST", "/auth/create-session").status, 200)
        stop = threading.Event()

        def churn():
            while not stop.is_set():
                sid = uncapped.request("POST", "/auth/create-session").json()["session_id"]
                uncapped.request("DELETE", "/auth/sessions/" + sid)
        t = threading.Thread(target=churn)
        t.start()
        try:
            for _ in range(5):
                self.assertGreaterEqual(self.status(exact=True)["total_sessions"], 300)
        finally:
            stop.set()
            t.join(30)
        # Every create and revoke was counted as it happened, and the
        # walks undid none of them.
        self.assertEqual(self.db.call("HGET", "auth_sessions_count", "live"), "300")
        self.assertEqual(self.status()["total_sessions"], 300)

    def test_expired_sessions_free_their_place_once_redis_expired_them(self):
        # Wherever in the second they were made, three 1-second sessions
        # free their places within a small margin of their expiry.
        # The service used to free them only once the second after their
        # expiry second had begun: up to 2 s after they were made.
        margin = 0.25
        for offset in (0.05, 0.3, 0.55, 0.8, 0.95):
            time.sleep((offset - time.time() % 1) % 1)
            ids = [self.create(ttl=1)["session_id"] for _ in range(3)]
            made = time.monotonic()  # every one expires by made + 1
            self.create(status=429)
            time.sleep(max(0, made + 1 + margin - time.monotonic()))
            # Redis has expired them (PTTL answers -2 for a key gone).
            for sid in ids:
                self.assertEqual(self.db.call("PTTL", "auth_session:" + sid), -2)
            for _ in range(3):
                self.create(ttl=1)
            # Let those go too before the next round.
            time.sleep(1 + margin)


if __name__ == "__main__":
    main()

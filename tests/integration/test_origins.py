"""Many customers, one service (§11): sessions bound to their sites with
allowed_origins (create-session's checks, the page's frame-ancestors per
session, validation's origin_mismatch), and revoke-all of a user's
sessions (DELETE /auth/users/<user_id>/sessions, revoked on validate)."""

import hashlib
import json
import os
import re
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
from harness import ServiceTest, main  # noqa: E402

A = "http://a.example:8001"
B = "http://b.example:8002"
KEY = "k-origins"
AUTH = {"Authorization": "Bearer " + KEY}
JSON = {"Content-Type": "application/json"}
FRAME_ANCESTORS = "'self' %s %s https://*.c.example" % (A, B)
GLOBAL_CSP = "default-src 'self'; frame-ancestors " + FRAME_ANCESTORS
TIMEOUT_MS = 500
# Room for a loaded machine on top of a deadline.
MARGIN = 0.7


class OriginTest(ServiceTest):
    env = {}

    def setUp(self):
        super().setUp()
        env = {"FRAME_ANCESTORS": FRAME_ANCESTORS, "API_KEY": KEY,
               "PUBLIC_BASE_URL": "http://auth.example:8000",
               "REDIS_TIMEOUT_MS": str(TIMEOUT_MS)}
        env.update(self.env)
        self.svc = self.healthy_service(env)
        self.db = self.redis_client()

    def create(self, body=None, status=200):
        r = self.svc.request("POST", "/auth/create-session",
                             body=json.dumps(body or {}),
                             headers=dict(AUTH, **JSON))
        self.assertEqual(r.status, status, r.body)
        return r.json()

    def validate(self, sid, parent_origin=None, method="POST"):
        if method == "GET":
            return self.svc.get("/auth/validate-session?session_id=" + sid)
        body = {"session_id": sid}
        if parent_origin is not None:
            body["parent_origin"] = parent_origin
        return self.svc.request("POST", "/auth/validate-session",
                                body=json.dumps(body), headers=JSON)

    def revoke_user(self, encoded, headers=AUTH):
        return self.svc.request("DELETE", "/auth/users/%s/sessions" % encoded,
                                headers=headers)

    def record(self, sid):
        raw = self.db.call("GET", "auth_session:" + sid)
        return None if raw is None else json.loads(raw)

    def metric(self, series):
        text = self.svc.get("/metrics").body.decode()
        m = re.search("\n" + re.escape(series) + r" (\d+)\n", text)
        self.assertIsNotNone(m, series)
        return int(m.group(1))

    def page(self, sid):
        start = time.monotonic()
        r = self.svc.get("/client/iframe.html?session_id=" + sid)
        return r, time.monotonic() - start


class AllowedOrigins(OriginTest):
    def test_each_origin_is_checked_and_named(self):
        cases = [
            ([], "allowed_origins: must be an array of 1 to 8"),
            ("http://a.example:8001", "allowed_origins: must be an array"),
            ([A] * 4 + ["https://%d.c.example" % i for i in range(5)],
             "allowed_origins: must be an array of 1 to 8"),
            ([A, 5], "allowed_origins: each item must be a string"),
            ([A, "http://a.example:8001/app"],
             'allowed_origins: "http://a.example:8001/app" is not an origin'),
            (["garbage"], 'allowed_origins: "garbage" is not an origin'),
            (["ftp://a.example:8001"], 'allowed_origins: "ftp://a.example:8001"'),
            (["http://evil.example"],
             "allowed_origins: http://evil.example is not allowed by "
             "FRAME_ANCESTORS"),
            # The port must be B's, and the wildcard is https only.
            (["http://b.example"], "allowed_origins: http://b.example is not"),
            (["http://x.c.example"], "allowed_origins: http://x.c.example is not"),
            (["https://c.example"], "allowed_origins: https://c.example is not"),
        ]
        keys_before = self.db.call("DBSIZE")
        for origins, detail in cases:
            body = self.create({"allowed_origins": origins}, status=400)
            self.assertTrue(body["detail"].startswith(detail),
                            "%r: %s" % (origins, body["detail"]))
        self.assertEqual(self.db.call("DBSIZE"), keys_before)

    def test_stored_in_canonical_form_with_an_odd_id(self):
        sid = self.create({"allowed_origins": [
            "HTTP://A.Example:8001/", "https://X.c.example:443",
            "http://a.example:8001", "http://auth.example:8000"]})["session_id"]
        self.assertEqual(self.record(sid)["allowed_origins"],
                         [A, "https://x.c.example", "http://auth.example:8000"])
        self.assertIn(sid[-1], "13579bdf")
        for _ in range(8):
            sid = self.create()["session_id"]
            self.assertIn(sid[-1], "02468ace")
            self.assertNotIn("allowed_origins", self.record(sid))


class OriginBinding(OriginTest):
    def test_mismatch_does_not_consume_then_the_right_origin_gets_200(self):
        sid = self.create({"user_id": "ann",
                           "allowed_origins": [A, "https://x.c.example"]})["session_id"]
        tries = [self.validate(sid, B), self.validate(sid),
                 self.validate(sid, "null"), self.validate(sid, ""),
                 self.validate(sid, "https://y.c.example"),
                 self.validate(sid, method="GET")]
        for r in tries:
            body = self.assertJsonResponse(r, 401)
            self.assertEqual(body["reason"], "origin_mismatch", body)
            self.assertIs(body["valid"], False)
        self.assertIs(self.record(sid)["used"], False)
        self.assertEqual(self.metric(
            'iframe_auth_validations_total{result="origin_mismatch"}'), len(tries))
        logs = self.svc.logs()
        self.assertIn("WARNING", logs)
        self.assertRegex(logs, "not bound to.*session=%s parent_origin=%s"
                         % (sid[:8], re.escape(B)))
        self.assertNotIn(sid, logs)
        # The right origin, in any spelling of it.
        r = self.validate(sid, "HTTP://A.example:8001/")
        body = self.assertJsonResponse(r, 200)
        self.assertIs(body["valid"], True)
        self.assertEqual(body["user_id"], "ann")
        # The service's own members stay in Redis.
        self.assertNotIn("allowed_origins", body)
        self.assertNotIn("generation", body)
        self.assertIs(self.record(sid)["used"], True)
        self.assertEqual(self.validate(sid, A).json()["reason"], "already_used")

    def test_a_session_without_origins_ignores_parent_origin(self):
        for parent in (B, "null", None):
            sid = self.create()["session_id"]
            self.assertJsonResponse(self.validate(sid, parent), 200)

    def test_parent_origin_must_be_a_string(self):
        sid = self.create({"allowed_origins": [A]})["session_id"]
        for data in ('{"session_id": "%s", "parent_origin": 5}' % sid,
                     '{"session_id": "%s", "parent_origin": null}' % sid,
                     '{"session_id": "%s", "origin": "%s"}' % (sid, A)):
            r = self.svc.request("POST", "/auth/validate-session", body=data,
                                 headers=JSON)
            self.assertJsonResponse(r, 400)
        # The id in the query, the origin in the body.
        r = self.svc.request("POST", "/auth/validate-session?session_id=" + sid,
                             body=json.dumps({"parent_origin": A}), headers=JSON)
        self.assertJsonResponse(r, 200)


class ForeignRecords(OriginTest):
    """Records in another writer's layout (json.dumps defaults, another
    order) go the general path, and are bound and revoked all the same."""

    def put(self, sid, **fields):
        record = {"session_id": sid, "created_at": "2026-11-22T10:30:00",
                  "expires_at": "2099-11-22T10:30:00", "used": False,
                  "iframe_opened": False, "x_extra": [1]}
        record.update(fields)
        self.db.call("SET", "auth_session:" + sid, json.dumps(record), "EX", 600)

    def test_origins_and_generation_of_a_foreign_record(self):
        bound = "550e8400-e29b-41d4-a716-446655440005"
        self.put(bound, allowed_origins=[A], user_id="py")
        r, _ = self.page(bound)
        self.assertEqual(r.header("content-security-policy"),
                         GLOBAL_CSP + ", frame-ancestors " + A)
        self.assertIs(self.record(bound)["iframe_opened"], True)
        self.assertEqual(self.validate(bound, B).json()["reason"], "origin_mismatch")
        self.assertIs(self.record(bound)["used"], False)
        self.assertJsonResponse(self.revoke_user("py"), 200)
        self.assertEqual(self.validate(bound, A).json()["reason"], "revoked")
        self.assertIs(self.record(bound)["used"], False)
        # Recorded in the generation of the revoke: valid again.
        self.put(bound, allowed_origins=[A], user_id="py", generation=1)
        token = self.assertJsonResponse(self.validate(bound, A), 200)["embed_token"]
        self.assertIs(self.record(bound)["used"], True)
        key = "auth_embed:" + hashlib.sha256(token.encode()).hexdigest()
        embed = json.loads(self.db.call("GET", key))
        self.assertEqual((embed["generation"], embed["allowed_origins"]), (1, [A]))
        self.assertJsonResponse(self.revoke_user("py"), 200)
        r = self.svc.get("/auth/verify", headers={"Authorization": "Bearer " + token})
        self.assertEqual(self.assertJsonResponse(r, 401)["reason"], "revoked")


class PagePolicy(OriginTest):
    def test_bound_sessions_get_their_own_frame_ancestors(self):
        sid = self.create({"allowed_origins": [A, "https://x.c.example"]})["session_id"]
        r, _ = self.page(sid)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header("content-security-policy"),
                         GLOBAL_CSP + ", frame-ancestors %s https://x.c.example" % A)
        self.assertIs(self.record(sid)["iframe_opened"], True)
        # Opened already: the policy stays the session's.
        r, _ = self.page(sid)
        self.assertIn(", frame-ancestors %s https://x.c.example" % A,
                      r.header("content-security-policy"))
        # HEAD sends the same policy, and marks nothing.
        other = self.create({"allowed_origins": [A]})["session_id"]
        r = self.svc.request("HEAD", "/client/iframe.html?session_id=" + other)
        self.assertEqual((r.status, r.body), (200, b""))
        self.assertEqual(r.header("content-security-policy"),
                         GLOBAL_CSP + ", frame-ancestors " + A)
        self.assertIs(self.record(other)["iframe_opened"], False)

    def test_other_pages_keep_the_global_policy(self):
        sid = self.create()["session_id"]
        for path in ("/client/iframe.html?session_id=" + sid,
                     "/client/iframe.html",
                     # An odd id that names no session.
                     "/client/iframe.html?session_id=550e8400-e29b-41d4-a716-446655440001"):
            r = self.svc.get(path)
            self.assertEqual(r.status, 200)
            self.assertEqual(r.header("content-security-policy"), GLOBAL_CSP, path)
        self.assertIs(self.record(sid)["iframe_opened"], True)

    def test_a_foreign_record_never_puts_garbage_in_the_header(self):
        sid = "550e8400-e29b-41d4-a716-446655440003"
        self.db.call("SET", "auth_session:" + sid, json.dumps({
            "session_id": sid, "created_at": "2026-11-22T10:30:00Z",
            "expires_at": "2099-11-22T10:30:00Z", "used": False,
            "iframe_opened": False,
            "allowed_origins": ["http://x.example\r\nX-Evil: 1", "nope"]}))
        r, _ = self.page(sid)
        self.assertEqual(r.header("content-security-policy"),
                         GLOBAL_CSP + ", frame-ancestors 'none'")
        self.assertIsNone(r.header("x-evil"))

    def test_redis_stopped_gives_the_global_policy_within_the_deadline(self):
        bound = self.create({"allowed_origins": [A]})["session_id"]
        unbound = self.create()["session_id"]
        self.redis.stop()
        try:
            r, took = self.page(bound)
            self.assertEqual(r.status, 200)
            self.assertEqual(r.header("content-security-policy"), GLOBAL_CSP)
            # It waited for the record, and no longer than the deadline.
            self.assertGreater(took, TIMEOUT_MS / 1000 * 0.8)
            self.assertLess(took, TIMEOUT_MS / 1000 + MARGIN)
            r, took = self.page(unbound)
            self.assertEqual(r.status, 200)
            self.assertEqual(r.header("content-security-policy"), GLOBAL_CSP)
            self.assertLess(took, TIMEOUT_MS / 1000 * 0.8)
        finally:
            self.redis.cont()
        self.assertIn("global frame-ancestors", self.svc.logs())


class RevokeAll(OriginTest):
    def test_ends_unredeemed_sessions_of_that_user_only(self):
        ann1 = self.create({"user_id": "ann"})["session_id"]
        ann2 = self.create({"user_id": "ann", "allowed_origins": [A]})["session_id"]
        bob = self.create({"user_id": "bob"})["session_id"]
        nobody = self.create()["session_id"]
        self.assertEqual(self.record(ann1)["generation"], 0)
        self.assertNotIn("generation", self.record(nobody))
        r = self.revoke_user("ann")
        self.assertEqual(self.assertJsonResponse(r, 200),
                         {"user_id": "ann", "generation": 1})
        for sid, parent in ((ann1, None), (ann2, A)):
            body = self.assertJsonResponse(self.validate(sid, parent), 401)
            self.assertEqual(body["reason"], "revoked")
            self.assertIs(self.record(sid)["used"], False)
        self.assertJsonResponse(self.validate(bob), 200)
        self.assertJsonResponse(self.validate(nobody), 200)
        later = self.create({"user_id": "ann"})["session_id"]
        self.assertEqual(self.record(later)["generation"], 1)
        self.assertJsonResponse(self.validate(later), 200)
        self.assertEqual(self.metric(
            'iframe_auth_validations_total{result="revoked"}'), 2)
        self.assertEqual(self.metric("iframe_auth_revoke_alls_total"), 1)
        self.assertEqual(self.revoke_user("ann").json()["generation"], 2)

    def verify(self, token):
        return self.svc.get("/auth/verify",
                            headers={"Authorization": "Bearer " + token})

    def embed_record(self, token):
        key = "auth_embed:" + hashlib.sha256(token.encode()).hexdigest()
        return json.loads(self.db.call("GET", key))

    def test_ends_embed_sessions_of_that_user_only(self):
        ann = self.create({"user_id": "ann", "allowed_origins": [A]})["session_id"]
        bob = self.create({"user_id": "bob"})["session_id"]
        ann_token = self.assertJsonResponse(self.validate(ann, A), 200)["embed_token"]
        bob_token = self.assertJsonResponse(self.validate(bob), 200)["embed_token"]
        # The embed session carries the generation and the origins.
        record = self.embed_record(ann_token)
        self.assertEqual(record["generation"], 0)
        self.assertEqual(record["allowed_origins"], [A])
        self.assertEqual(record["user_id"], "ann")
        self.assertJsonResponse(self.verify(ann_token), 200)
        ttl_before = self.db.call("PTTL", "auth_embed:" + hashlib.sha256(
            ann_token.encode()).hexdigest())

        self.assertEqual(self.revoke_user("ann").json()["generation"], 1)
        r = self.verify(ann_token)
        body = self.assertJsonResponse(r, 401)
        self.assertEqual(body["reason"], "revoked")
        self.assertEqual(r.header("www-authenticate"), "Bearer")
        self.assertJsonResponse(self.verify(bob_token), 200)
        self.assertEqual(self.metric(
            'iframe_auth_verifications_total{result="revoked"}'), 1)
        # Not slid by the refused verify.
        ttl_after = self.db.call("PTTL", "auth_embed:" + hashlib.sha256(
            ann_token.encode()).hexdigest())
        self.assertLessEqual(ttl_after, ttl_before)

        # A session made after the revoke opens an embed session that works.
        later = self.create({"user_id": "ann"})["session_id"]
        token = self.assertJsonResponse(self.validate(later), 200)["embed_token"]
        self.assertEqual(self.embed_record(token)["generation"], 1)
        body = self.assertJsonResponse(self.verify(token), 200)
        self.assertEqual(body["user_id"], "ann")

    def test_escaped_user_ids_and_lookalikes_in_metadata(self):
        # A user_id that JSON escapes is read by decoding, on validate and
        # on verify.
        odd = 'o"b\\c'
        redeemed = self.create({"user_id": odd})["session_id"]
        token = self.assertJsonResponse(self.validate(redeemed), 200)["embed_token"]
        waiting = self.create({"user_id": odd})["session_id"]
        # Names that only metadata carries are no user and no origins.
        lookalike = self.create({"metadata": {"user_id": odd,
                                              "allowed_origins": [B]}})["session_id"]
        r = self.revoke_user(urllib.parse.quote(odd, safe=""))
        self.assertEqual(self.assertJsonResponse(r, 200)["user_id"], odd)
        self.assertEqual(self.validate(waiting).json()["reason"], "revoked")
        r = self.verify(token)
        self.assertEqual(self.assertJsonResponse(r, 401)["reason"], "revoked")
        body = self.assertJsonResponse(self.validate(lookalike, A), 200)
        self.assertEqual(body["metadata"]["user_id"], odd)

    def test_a_record_from_before_revoke_all_counts_as_generation_0(self):
        sid = "550e8400-e29b-41d4-a716-446655440004"
        self.db.call("SET", "auth_session:" + sid, json.dumps({
            "used": False, "iframe_opened": False, "session_id": sid,
            "created_at": "2026-11-22T10:30:00Z",
            "expires_at": "2099-11-22T10:30:00Z", "user_id": "old"},
            separators=(",", ":")), "EX", 600)
        self.assertJsonResponse(self.revoke_user("old"), 200)
        self.assertEqual(self.validate(sid).json()["reason"], "revoked")

    def test_needs_the_api_key(self):
        r = self.revoke_user("ann", headers={})
        self.assertJsonResponse(r, 401)
        r = self.revoke_user("ann", headers={"Authorization": "Bearer nope"})
        self.assertJsonResponse(r, 401)
        self.assertIsNone(self.db.call("GET", "auth_user_gen:ann"))

    def test_user_ids_are_percent_decoded_from_the_path(self):
        users = ["a/b", "100%", "with space", "\u00e9l\u00e8ve \u20ac \U0001F600",
                 "plus+sign", "x" * 256]
        for user in users:
            sid = self.create({"user_id": user})["session_id"]
            r = self.revoke_user(urllib.parse.quote(user, safe=""))
            body = self.assertJsonResponse(r, 200)
            self.assertEqual(body, {"user_id": user, "generation": 1})
            self.assertEqual(self.db.call("GET", "auth_user_gen:" + user), "1")
            self.assertEqual(self.validate(sid).json()["reason"], "revoked", user)
        # A '/' may also come as it is: the id runs to the last /sessions.
        r = self.revoke_user("a/b")
        self.assertEqual(self.assertJsonResponse(r, 200)["generation"], 2)
        r = self.revoke_user("x/sessions")
        self.assertEqual(self.assertJsonResponse(r, 200)["user_id"], "x/sessions")

    def test_bad_user_ids_are_400_and_touch_nothing(self):
        keys_before = self.db.call("DBSIZE")
        for encoded in ("%", "a%2", "%zz", "a%00b", "a%0Ab", "%7F", "%ff",
                        "%C3", "%ED%A0%80", "x" * 257, "%78" * 257):
            r = self.revoke_user(encoded)
            body = self.assertJsonResponse(r, 400)
            self.assertTrue(body["detail"].startswith("user_id"), encoded)
        self.assertEqual(self.db.call("DBSIZE"), keys_before)

    def test_other_methods_and_paths(self):
        r = self.svc.get("/auth/users/ann/sessions", headers=AUTH)
        self.assertEqual(r.status, 405)
        self.assertEqual(r.header("allow"), "DELETE")
        for path in ("/auth/users/ann", "/auth/users/ann/sessions/x",
                     "/auth/users/sessions", "/auth/users/ann/session"):
            r = self.svc.request("DELETE", path, headers=AUTH)
            self.assertEqual(r.status, 404, path)


if __name__ == "__main__":
    main()

"""The embed session of §11 against a real Redis, without nginx: the
token that validate hands out and the hash that Redis keeps, idle and
absolute expiry, /auth/verify and its headers, the credential's order,
logout, fail-closed answers, and the round trips a malformed token does
not make."""

import base64
import hashlib
import json
import os
import re
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import (BIN, ServiceTest, log_every_command, main,  # noqa: E402
                     one_turn, script_calls, wait_until)

TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
COOKIE = "__Host-iframe-auth"
ATTRIBUTES = "Path=/; Secure; HttpOnly; SameSite=None; Partitioned"


def embed_key(token):
    return "auth_embed:" + hashlib.sha256(token.encode()).hexdigest()


class EmbedTest(ServiceTest):
    env = {}

    def setUp(self):
        super().setUp()
        self.svc = self.healthy_service(self.env)
        self.db = self.redis_client()

    def create(self, body=None):
        r = self.svc.request("POST", "/auth/create-session",
                             body=json.dumps(body) if body else None)
        self.assertEqual(r.status, 200, r.body)
        return r.json()["session_id"]

    def validate(self, sid):
        return self.svc.request("POST",
                                "/auth/validate-session?session_id=" + sid)

    def redeem(self, body=None):
        """A new session, validated: (validate's response, its token)."""
        r = self.validate(self.create(body))
        self.assertEqual(r.status, 200, r.body)
        return r, r.json()["embed_token"]

    def verify(self, token=None, method="GET", headers=None):
        h = dict(headers or {})
        if token is not None:
            h["Authorization"] = "Bearer " + token
        return self.svc.request(method, "/auth/verify", headers=h)

    def embed_keys(self):
        keys, cursor = [], "0"
        while True:
            cursor, batch = self.db.call("SCAN", cursor, "MATCH",
                                         "auth_embed:*", "COUNT", "1000")
            keys += batch
            if cursor == "0":
                return keys

    def commandstats(self):
        info = self.db.call("INFO", "commandstats")
        return {m.group(1): int(m.group(2)) for m in
                re.finditer(r"cmdstat_(\w+):calls=(\d+)", info)}

    def assertUnauthenticated(self, r, reason):
        body = self.assertJsonResponse(r, 401)
        self.assertEqual(body["authenticated"], False)
        self.assertEqual(body["reason"], reason)
        self.assertEqual(r.header("www-authenticate"), "Bearer")
        self.assertIsNone(r.header("location"))
        self.assertIsNone(r.header("x-auth-user"))
        self.assertEqual(r.header("cache-control"), "no-store")


class Opened(EmbedTest):
    def test_validate_hands_out_a_token_and_redis_keeps_only_its_hash(self):
        r, token = self.redeem({"user_id": "alice", "metadata": {"team": 7},
                                "return_to": "/app/?x=1"})
        body = r.json()
        self.assertRegex(token, TOKEN)
        self.assertRegex(body["embed_expires_at"], ISO)
        self.assertEqual(body["return_to"], "/app/?x=1")
        self.assertEqual(r.header("set-cookie"),
                         "%s=%s; %s; Max-Age=3600" % (COOKIE, token, ATTRIBUTES))
        self.assertEqual(self.embed_keys(), [embed_key(token)])
        rec = json.loads(self.db.call("GET", embed_key(token)))
        self.assertEqual(rec["session_id"], body["session_id"])
        self.assertEqual(rec["user_id"], "alice")
        self.assertEqual(rec["metadata"], {"team": 7})
        self.assertEqual(rec["created_at"], body["used_at"])
        self.assertEqual(rec["expires_at"], body["embed_expires_at"])
        self.assertEqual(rec["generation"], 0)
        # The token itself is nowhere in Redis.
        cursor = "0"
        while True:
            cursor, keys = self.db.call("SCAN", cursor, "COUNT", "1000")
            for k in keys:
                self.assertNotIn(token, k)
                if self.db.call("TYPE", k) == "string":
                    self.assertNotIn(token, self.db.call("GET", k))
            if cursor == "0":
                break
        pttl = self.db.call("PTTL", embed_key(token))
        self.assertTrue(890_000 < pttl <= 900_000, pttl)

    def test_no_return_to_when_the_session_has_none(self):
        r, _ = self.redeem()
        self.assertNotIn("return_to", r.json())

    def test_refused_validations_leave_no_embed_key(self):
        sid = self.create()
        self.assertEqual(self.validate(sid).status, 200)
        self.assertEqual(len(self.embed_keys()), 1)
        self.assertEqual(self.validate(sid).status, 401)   # already used
        self.assertEqual(self.validate("3fa85f64-5717-4562-b3fc-2c963f66afa6").status,
                         401)                               # not found
        self.assertEqual(len(self.embed_keys()), 1)

    def test_fifty_concurrent_validations_yield_one_token(self):
        for _ in range(5):
            sid = self.create()
            results = []
            barrier = threading.Barrier(50)

            def go():
                barrier.wait()
                r = self.validate(sid)
                results.append((r.status, r.body))
            threads = [threading.Thread(target=go) for _ in range(50)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(30)
            ok = [json.loads(b) for s, b in results if s == 200]
            self.assertEqual(len(results), 50)
            self.assertEqual(len(ok), 1, [s for s, _ in results])
            self.assertEqual(sum(1 for b in results if b[0] == 401), 49)
            token = ok[0]["embed_token"]
            self.assertIn(embed_key(token), self.embed_keys())
        self.assertEqual(len(self.embed_keys()), 5)

    def test_metrics(self):
        _, token = self.redeem()
        self.verify(token)
        self.verify()
        self.verify("x" * 43 + "=")
        self.svc.request("POST", "/auth/logout",
                         headers={"Authorization": "Bearer " + token})
        self.svc.request("POST", "/auth/logout")
        m = self.svc.get("/metrics").body.decode()
        self.assertIn("\niframe_auth_embed_sessions_opened_total 1\n", m)
        self.assertIn('\niframe_auth_verifications_total{result="ok"} 1\n', m)
        self.assertIn('\niframe_auth_verifications_total{result="missing"} 1\n', m)
        self.assertIn('\niframe_auth_verifications_total{result="invalid"} 1\n', m)
        self.assertIn('\niframe_auth_logouts_total{result="ended"} 1\n', m)
        self.assertIn('\niframe_auth_logouts_total{result="none"} 1\n', m)


class Verify(EmbedTest):
    def test_200_with_the_headers(self):
        _, token = self.redeem({"user_id": "alice@example.com",
                                "metadata": {"role": "viewer", "n": [1, 2]}})
        r = self.verify(token)
        body = self.assertJsonResponse(r, 200)
        self.assertEqual(body["authenticated"], True)
        self.assertEqual(body["user_id"], "alice@example.com")
        self.assertEqual(len(body["session_id"]), 8)
        self.assertRegex(body["expires_at"], ISO)
        self.assertEqual(r.header("x-auth-user"), "alice@example.com")
        self.assertEqual(r.header("x-auth-session"), body["session_id"])
        self.assertEqual(r.header("x-auth-expires"), body["expires_at"])
        meta = r.header("x-auth-metadata")
        self.assertNotIn("=", meta)
        self.assertEqual(json.loads(base64.urlsafe_b64decode(meta + "=" * (-len(meta) % 4))),
                         {"role": "viewer", "n": [1, 2]})
        self.assertEqual(r.header("cache-control"), "no-store")

    def test_without_user_or_metadata_those_headers_are_absent(self):
        _, token = self.redeem()
        r = self.verify(token)
        body = self.assertJsonResponse(r, 200)
        self.assertIsNone(body["user_id"])
        self.assertIsNone(r.header("x-auth-user"))
        self.assertIsNone(r.header("x-auth-metadata"))
        self.assertIsNotNone(r.header("x-auth-session"))

    def test_every_method_same_answer_body_never_read(self):
        _, token = self.redeem({"user_id": "u"})
        for method in ("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"):
            r = self.svc.request(method, "/auth/verify", body="ignored",
                                 headers={"Authorization": "Bearer " + token})
            self.assertEqual(r.status, 200, method)
            self.assertEqual(r.header("x-auth-user"), "u", method)
        r = self.verify(token, method="HEAD")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, b"")
        self.assertEqual(self.verify(method="HEAD").status, 401)

    def test_cookie_among_others(self):
        _, token = self.redeem({"user_id": "c"})
        r = self.verify(headers={"Cookie": "theme=dark;  %s=%s ; lang=en" % (COOKIE, token)})
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.header("x-auth-user"), "c")

    def test_header_beats_cookie_even_when_wrong(self):
        _, token = self.redeem({"user_id": "cookie-user"})
        _, other = self.redeem({"user_id": "header-user"})
        cookie = {"Cookie": "%s=%s" % (COOKIE, token)}
        r = self.verify(other, headers=cookie)
        self.assertEqual(r.header("x-auth-user"), "header-user")
        self.assertUnauthenticated(self.verify("A" * 43, headers=cookie), "invalid")
        self.assertUnauthenticated(self.verify("garbage", headers=cookie), "invalid")
        r = self.verify(headers={"Authorization": "Basic Zm9vOmJhcg==", **cookie})
        self.assertUnauthenticated(r, "invalid")

    def test_401_missing_invalid(self):
        self.assertUnauthenticated(self.verify(), "missing")
        self.assertUnauthenticated(self.verify(headers={"Cookie": "a=b"}), "missing")
        self.assertUnauthenticated(self.verify("A" * 43), "invalid")
        self.assertUnauthenticated(self.verify("A" * 42), "invalid")
        self.assertUnauthenticated(self.verify("A" * 42 + "+"), "invalid")
        r = self.verify(headers={"Cookie": "%s=short" % COOKIE})
        self.assertUnauthenticated(r, "invalid")

    def test_401_expired_when_a_key_outlives_its_absolute_expiry(self):
        # The TTL normally ends a session first; a key whose TTL was
        # extended by something else (an operator, a restore) still
        # ends at its absolute expiry, on Redis's clock.
        _, token = self.redeem({"user_id": "u"})
        key = embed_key(token)
        rec = self.db.call("GET", key)
        past = int(self.db.call("TIME")[0]) - 1
        rec = re.sub(r'^\{"expires_at_unix":\d+,', '{"expires_at_unix":%d,' % past, rec)
        self.db.call("SET", key, rec, "EX", "100")
        self.assertUnauthenticated(self.verify(token), "expired")
        self.assertIsNone(self.db.call("GET", key))
        self.assertUnauthenticated(self.verify(token), "invalid")

    def test_record_not_in_our_layout_is_invalid_and_logged(self):
        token = "B" * 43
        self.db.call("SET", embed_key(token), '{"session_id":"x"}')
        self.assertUnauthenticated(self.verify(token), "invalid")
        self.assertIn("embed session record is not in the service's format",
                      self.svc.logs())

    def test_one_turn_is_one_call_and_each_keeps_its_answer(self):
        # Verifications read in one turn go to Redis together; each gets
        # the answer it would have got alone: live tokens 200 (one of them
        # three times), an unknown one, one past its absolute expiry, one
        # of a revoked user and one whose key is of another type 401.
        live = [self.redeem({"user_id": "u%d" % i})[1] for i in range(5)]
        expired = self.redeem()[1]
        rec = self.db.call("GET", embed_key(expired))
        past = int(self.db.call("TIME")[0]) - 1
        self.db.call("SET", embed_key(expired), re.sub(
            r'^\{"expires_at_unix":\d+,', '{"expires_at_unix":%d,' % past, rec), "EX", "100")
        revoked = self.redeem({"user_id": "gone"})[1]
        self.assertEqual(self.svc.request("DELETE", "/auth/users/gone/sessions").status, 200)
        wrong_type = "D" * 43
        self.db.call("HSET", embed_key(wrong_type), "a", "1")
        unknown = "C" * 43
        log_every_command(self.db)
        tokens = live + [live[0]] * 2 + [expired, revoked, wrong_type, unknown]

        answers = one_turn(self.svc, [
            b"GET /auth/verify HTTP/1.1\r\nHost: x\r\n"
            b"Authorization: Bearer %s\r\n\r\n" % t.encode() for t in tokens])

        calls = script_calls(self.db)
        self.assertEqual(sum(calls), len(tokens), calls)
        self.assertLessEqual(len(calls), 2, calls)
        for t, (status, body) in zip(tokens, answers):
            if t in live:
                self.assertEqual(status, 200, body)
                self.assertEqual(body["user_id"], "u%d" % live.index(t))
            else:
                self.assertEqual(status, 401, body)
        reasons = [body["reason"] for _, body in answers[len(live) + 2:]]
        self.assertEqual(reasons, ["expired", "revoked", "invalid", "invalid"])
        self.assertIsNone(self.db.call("GET", embed_key(expired)))
        self.assertEqual(self.db.call("TYPE", embed_key(wrong_type)), "hash")

    def test_malformed_token_makes_no_redis_round_trip(self):
        _, token = self.redeem()
        before = self.commandstats()
        for bad in ("", "A" * 42, "A" * 44, "A" * 42 + "/", "A" * 42 + "=",
                    "%41" * 14 + "A"):
            self.assertUnauthenticated(self.verify(bad), "invalid")
            r = self.verify(headers={"Cookie": "%s=%s" % (COOKIE, bad)})
            self.assertEqual(r.status, 401)
            r = self.svc.request("POST", "/auth/logout",
                                 headers={"Authorization": "Bearer " + bad})
            self.assertEqual(r.status, 204)
        self.assertUnauthenticated(self.verify(), "missing")
        after = self.commandstats()
        for cmd in ("evalsha", "eval", "get", "del", "pexpire"):
            self.assertEqual(after.get(cmd, 0), before.get(cmd, 0), cmd)
        # A well-formed one makes exactly one script call.
        self.assertEqual(self.verify(token).status, 200)
        self.assertEqual(self.commandstats().get("evalsha", 0),
                         after.get("evalsha", 0) + 1)

    def test_503_with_redis_stopped_fails_closed(self):
        _, token = self.redeem()
        self.redis.stop()
        try:
            t0 = time.monotonic()
            r = self.verify(token)
            self.assertEqual(r.status, 503, r.body)
            self.assertEqual(r.json()["redis_healthy"], False)
            self.assertIsNone(r.header("x-auth-user"))
            # REDIS_TIMEOUT_MS=500 plus a fixed margin.
            self.assertLess(time.monotonic() - t0, 0.5 + 2.0)
        finally:
            self.redis.cont()
        self.redis.kill()
        self.assertTrue(wait_until(
            lambda: self.svc.get("/auth/redis-health").status == 503, 5))
        r = self.verify(token)
        self.assertEqual(r.status, 503, r.body)
        r = self.svc.request("POST", "/auth/logout",
                             headers={"Authorization": "Bearer " + token})
        self.assertEqual(r.status, 503)
        self.assertIsNone(r.header("set-cookie"))
        # Nothing to ask Redis: still a plain 401.
        self.assertUnauthenticated(self.verify(), "missing")


class Lifetimes(EmbedTest):
    env = {"EMBED_IDLE_TIMEOUT_SECONDS": "2", "EMBED_SESSION_TTL_SECONDS": "4"}

    def redis_ms(self):
        """Now on Redis's clock (ms), the one that expires keys."""
        seconds, micros = self.db.call("TIME")
        return int(seconds) * 1000 + int(micros) // 1000

    def test_idle_slides_on_verify_and_the_absolute_expiry_holds(self):
        # Each attempt either decides or proves that the machine stalled
        # for longer than the idle timeout, which ends any session.
        for _ in range(3):
            if self.slide_to_the_absolute_end():
                return
        self.fail("stalled past the idle timeout in every attempt")

    def slide_to_the_absolute_end(self):
        """Verifies every 0.2 s until the absolute end, all on Redis's
        clock (expiry times from PEXPIRETIME); False when stalled."""
        opened = self.redis_ms()
        r, token = self.redeem()
        self.assertTrue(r.header("set-cookie").endswith("; Max-Age=4"))
        key = embed_key(token)
        record = self.db.call("GET", key)
        end = int(re.match(r'{"expires_at_unix":(\d+),', record).group(1)) * 1000
        # The end is in whole seconds: 3 to 4 s after the opening, and a
        # second more for the service's reckoning of Redis's clock.
        self.assertGreater(end, opened + 3000)
        self.assertLessEqual(end, self.redis_ms() + 4000 + 1000)
        first_idle_end = self.db.call("PEXPIRETIME", key)
        self.assertLessEqual(first_idle_end, min(self.redis_ms() + 2000, end))
        expiry, slid, capped = first_idle_end, False, False
        while True:
            before = self.redis_ms()
            if before > end:
                break
            r = self.verify(token)
            if r.status != 200:
                # Only a key past its idle timeout may be gone.
                self.assertGreater(self.redis_ms(), expiry, r.body)
                return False
            expiry = self.db.call("PEXPIRETIME", key)
            after = self.redis_ms()
            if expiry < 0:
                return False  # expired right after the verify
            # Slid to 2 s after the verify, never past the absolute end.
            self.assertGreaterEqual(expiry, min(before + 2000, end))
            self.assertLessEqual(expiry, min(after + 2000, end))
            slid |= before > first_idle_end
            capped |= expiry == end
            time.sleep(0.2)
        self.assertTrue(slid, "the idle timeout did not slide")
        self.assertTrue(capped, "no TTL was capped by the absolute end")
        # Gone at the absolute end, where the idle timeout alone would
        # keep it for up to 2 s more.
        self.assertEqual(self.db.call("EXISTS", key), 0)
        self.assertUnauthenticated(self.verify(token), "invalid")
        return True

    def test_idle_timeout_ends_an_unused_session(self):
        _, token = self.redeem()
        self.assertEqual(self.verify(token).status, 200)
        time.sleep(2.3)
        self.assertUnauthenticated(self.verify(token), "invalid")
        self.assertEqual(self.embed_keys(), [])


class Logout(EmbedTest):
    def test_logout_ends_the_session_and_expires_the_cookie(self):
        _, token = self.redeem()
        r = self.svc.request("POST", "/auth/logout",
                             headers={"Cookie": "%s=%s" % (COOKIE, token)})
        self.assertEqual(r.status, 204)
        self.assertEqual(r.body, b"")
        self.assertEqual(r.header("set-cookie"),
                         "%s=; %s; Max-Age=0" % (COOKIE, ATTRIBUTES))
        self.assertEqual(self.embed_keys(), [])
        self.assertUnauthenticated(self.verify(token), "invalid")

    def test_logout_by_bearer_and_when_nothing_to_end(self):
        _, token = self.redeem()
        h = {"Authorization": "Bearer " + token}
        self.assertEqual(self.svc.request("POST", "/auth/logout", headers=h).status, 204)
        r = self.svc.request("POST", "/auth/logout", headers=h)
        self.assertEqual(r.status, 204)
        self.assertEqual(r.header("set-cookie"), "%s=; %s; Max-Age=0" % (COOKIE, ATTRIBUTES))
        self.assertEqual(self.svc.request("POST", "/auth/logout").status, 204)

    def test_logout_is_post_only(self):
        r = self.svc.request("GET", "/auth/logout")
        self.assertEqual(r.status, 405)
        self.assertEqual(r.header("allow"), "POST")


class NoCookie(EmbedTest):
    env = {"EMBED_COOKIE": "false", "EMBED_COOKIE_NAME": "emb"}

    def test_no_cookie_set_or_read(self):
        r, token = self.redeem()
        self.assertIsNone(r.header("set-cookie"))
        self.assertUnauthenticated(self.verify(headers={"Cookie": "emb=" + token}),
                                   "missing")
        self.assertEqual(self.verify(token).status, 200)
        r = self.svc.request("POST", "/auth/logout",
                             headers={"Authorization": "Bearer " + token})
        self.assertEqual(r.status, 204)
        self.assertIsNone(r.header("set-cookie"))


class CookieName(EmbedTest):
    env = {"EMBED_COOKIE_NAME": "emb"}

    def test_configured_name(self):
        r, token = self.redeem()
        self.assertTrue(r.header("set-cookie").startswith("emb=" + token + "; "))
        self.assertEqual(self.verify(headers={"Cookie": "emb=" + token}).status, 200)


class NoRandomBytes(EmbedTest):
    def test_validate_answers_503_and_leaves_the_session_unused(self):
        sid = self.create()
        # A second service on the same Redis whose getrandom(2) fails.
        broken = self.service({
            "LD_PRELOAD": os.environ["IFRAME_AUTH_NO_GETRANDOM"],
            "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "") +
            ":verify_asan_link_order=0"})
        self.assertTrue(self.wait_healthy(broken))
        r = broken.request("POST", "/auth/validate-session?session_id=" + sid)
        self.assertEqual(self.assertJsonResponse(r, 503),
                         {"detail": "no random bytes for an embed token"})
        self.assertEqual(r.header("retry-after"), "1")
        self.assertEqual(self.embed_keys(), [])
        self.assertEqual(self.validate(sid).status, 200)


class Config(ServiceTest):
    start_redis = False

    def test_bad_values_stop_start_up_naming_the_key(self):
        for key, value in (("EMBED_SESSION_TTL_SECONDS", "0"),
                           ("EMBED_IDLE_TIMEOUT_SECONDS", "soon"),
                           ("EMBED_COOKIE", "maybe"),
                           ("EMBED_COOKIE_NAME", "a b"),
                           ("EMBED_COOKIE_NAME", "")):
            env = {"PATH": os.environ["PATH"], key: value}
            p = subprocess.run([BIN], env=env, capture_output=True,
                               text=True, timeout=10, cwd=self.workdir)
            self.assertNotEqual(p.returncode, 0, key)
            self.assertIn(key, p.stderr, key)


if __name__ == "__main__":
    main()

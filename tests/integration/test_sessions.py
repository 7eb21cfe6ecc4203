"""The session API of §4 and §5 against a real Redis: every route, status
code and field, the stored record and its TTL, counters, one-time use
under concurrency, the cap, API keys, listing and revoking."""

import json
import os
import re
import socket
import sys
import threading
import time
import uuid

sys.path.insert(0, os.path.dirname(__file__))
from harness import ServiceTest, main, wait_until  # noqa: E402

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
JSON = {"Content-Type": "application/json"}


class SessionTest(ServiceTest):
    env = {}

    def setUp(self):
        super().setUp()
        self.svc = self.healthy_service(self.env)
        self.db = self.redis_client()

    def create(self, body=None, headers=None, status=200):
        data = json.dumps(body) if isinstance(body, dict) else body
        r = self.svc.request("POST", "/auth/create-session", body=data,
                             headers=headers or {})
        self.assertEqual(r.status, status, r.body)
        return r.json()

    def validate(self, sid, method="POST", headers=None):
        return self.svc.request(method, "/auth/validate-session?session_id=" + sid,
                                headers=headers or {})

    def record(self, sid):
        raw = self.db.call("GET", "auth_session:" + sid)
        return None if raw is None else json.loads(raw)

    def commandstats(self):
        info = self.db.call("INFO", "commandstats")
        return {m.group(1): int(m.group(2)) for m in
                re.finditer(r"cmdstat_(\w+):calls=(\d+)", info)}

    def open_connections(self):
        metrics = self.svc.get("/metrics").body.decode()
        return int(re.search(r"\niframe_auth_open_connections (\d+)\n", metrics).group(1))

    def stats(self):
        h = self.db.call("HGETALL", "auth_stats")
        d = dict(zip(h[::2], h[1::2]))
        return int(d.get("total_created", 0)), int(d.get("total_used", 0))


class Create(SessionTest):
    env = {"SESSION_TTL_SECONDS": "600"}

    def test_defaults_and_every_field(self):
        before = time.time()
        r = self.svc.request("POST", "/auth/create-session")
        body = self.assertJsonResponse(r, 200)
        self.assertEqual(r.header("cache-control"), "no-store")
        self.assertEqual(set(body), {"session_id", "expires_in_minutes",
                                     "expires_in_seconds", "expires_at",
                                     "iframe_url", "storage"})
        sid = body["session_id"]
        self.assertRegex(sid, UUID4)
        self.assertEqual(body["expires_in_seconds"], 600)
        self.assertEqual(body["expires_in_minutes"], 10)
        self.assertRegex(body["expires_at"], ISO)
        exp = time.mktime(time.strptime(body["expires_at"], "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
        self.assertAlmostEqual(exp, before + 600, delta=3)
        self.assertEqual(body["iframe_url"], "/client/iframe.html?session_id=" + sid)
        self.assertEqual(body["storage"], "redis")
        rec = self.record(sid)
        self.assertEqual(rec["session_id"], sid)
        self.assertIs(rec["used"], False)
        self.assertIs(rec["iframe_opened"], False)
        self.assertEqual(rec["expires_at"], body["expires_at"])
        self.assertRegex(rec["created_at"], ISO)
        self.assertNotIn("used_at", rec)
        self.assertNotIn("user_id", rec)
        ttl = self.db.call("TTL", "auth_session:" + sid)
        self.assertTrue(595 <= ttl <= 600, ttl)

    def test_user_id_metadata_ttl(self):
        meta = {"plan": "pro", "nested": {"list": [1, 2.5, "x"], "empty": []}}
        body = self.create({"user_id": "ålice \"q\"", "metadata": meta,
                            "ttl_seconds": 119})
        self.assertEqual(body["expires_in_seconds"], 119)
        self.assertEqual(body["expires_in_minutes"], 1)
        rec = self.record(body["session_id"])
        self.assertEqual(rec["user_id"], "ålice \"q\"")
        self.assertEqual(rec["metadata"], meta)
        ttl = self.db.call("TTL", "auth_session:" + body["session_id"])
        self.assertTrue(115 <= ttl <= 119, ttl)

    def test_each_violation_is_400_naming_the_field(self):
        cases = [
            ('{"user_id": 5}', "user_id"),
            (json.dumps({"user_id": "x" * 257}), "user_id"),
            ('{"user_id": "a\\u0000b"}', "user_id: the escape"),
            ('{"metadata": {"k": "\\u0000"}}', "metadata: the escape"),
            ('{"user_id": "a", "user_id": "b"}', "user_id: duplicate key"),
            ('{"metadata": {"k": 1, "k": 2}}', 'metadata: duplicate key "k"'),
            ('{"metadata": {"a": NaN}}', "body"),
            (b'{"user_id": "\xed\xa0\x80"}', "body"),
            ('{"metadata": [1]}', "metadata"),
            ('{"metadata": "x"}', "metadata"),
            (json.dumps({"metadata": {"k": "v" * 4100}}), "metadata"),
            ('{"ttl_seconds": 0}', "ttl_seconds"),
            ('{"ttl_seconds": 86401}', "ttl_seconds"),
            ('{"ttl_seconds": 1.5}', "ttl_seconds"),
            ('{"ttl_seconds": "60"}', "ttl_seconds"),
            ('{"ttl_seconds": true}', "ttl_seconds"),
            ('{"color": "red"}', "color"),
            ("not json", "body"),
            ("[1, 2]", "body"),
            ('"str"', "body"),
            ("{} trailing", "body"),
            ('{"user_id": "\x01"}', "user_id"),
            (b'{"user_id": "\xff\xfe"}', "body"),
        ]
        created = self.stats()[0]
        for data, field in cases:
            r = self.svc.request("POST", "/auth/create-session", body=data)
            body = self.assertJsonResponse(r, 400)
            self.assertTrue(body["detail"].startswith(field), (data, body))
        self.assertEqual(self.stats()[0], created)
        self.assertEqual(self.db.call("KEYS", "auth_session:*"), [])

    def test_body_over_8k_is_413(self):
        big = json.dumps({"user_id": "x", "metadata": {"k": "v" * 9000}})
        r = self.svc.request("POST", "/auth/create-session", body=big)
        self.assertJsonResponse(r, 413)
        self.assertEqual(self.db.call("KEYS", "auth_session:*"), [])

    def test_wrong_method(self):
        r = self.svc.get("/auth/create-session")
        self.assertJsonResponse(r, 405)
        self.assertEqual(r.header("allow"), "POST")


class PublicBaseUrl(SessionTest):
    env = {"PUBLIC_BASE_URL": "https://auth.example.com"}

    def test_absolute_iframe_url(self):
        body = self.create()
        self.assertEqual(body["iframe_url"],
                         "https://auth.example.com/client/iframe.html?session_id="
                         + body["session_id"])


class Validate(SessionTest):
    def test_post_query_then_already_used(self):
        sid = self.create({"user_id": "u-1", "metadata": {"a": 1}})["session_id"]
        r = self.validate(sid)
        body = self.assertJsonResponse(r, 200)
        self.assertEqual(r.header("cache-control"), "no-store")
        self.assertEqual(set(body), {"valid", "session_id", "created_at",
                                     "expires_at", "used_at", "user_id",
                                     "metadata", "embed_token",
                                     "embed_expires_at"})
        self.assertIs(body["valid"], True)
        self.assertEqual(body["session_id"], sid)
        self.assertEqual(body["user_id"], "u-1")
        self.assertEqual(body["metadata"], {"a": 1})
        self.assertRegex(body["used_at"], ISO)
        rec = self.record(sid)
        self.assertIs(rec["used"], True)
        self.assertEqual(rec["used_at"], body["used_at"])
        r = self.validate(sid)
        body = self.assertJsonResponse(r, 401)
        self.assertEqual(body["reason"], "already_used")
        self.assertIs(body["valid"], False)
        self.assertIn("detail", body)
        log = self.svc.logs()
        self.assertRegex(log, r"level=WARNING .*already used.*session=" + sid[:8])
        self.assertNotIn(sid, log)

    def test_without_user_data_has_no_user_fields(self):
        sid = self.create()["session_id"]
        body = self.validate(sid).json()
        self.assertEqual(set(body), {"valid", "session_id", "created_at",
                                     "expires_at", "used_at", "embed_token",
                                     "embed_expires_at"})

    def test_post_json_body_and_get(self):
        sid = self.create()["session_id"]
        r = self.svc.request("POST", "/auth/validate-session",
                             body=json.dumps({"session_id": sid}), headers=JSON)
        self.assertEqual(self.assertJsonResponse(r, 200)["session_id"], sid)
        sid = self.create()["session_id"]
        r = self.validate(sid.upper(), method="GET")
        self.assertEqual(self.assertJsonResponse(r, 200)["session_id"], sid)

    def test_repeated_key_in_body_is_400_and_consumes_nothing(self):
        sid = self.create()["session_id"]
        other = self.create()["session_id"]
        for data in ('{"session_id": "%s", "session_id": "%s"}' % (other, sid),
                     '{"session_id": "%s", "session\\u005fid": "%s"}' % (sid, sid)):
            r = self.svc.request("POST", "/auth/validate-session", body=data,
                                 headers=JSON)
            body = self.assertJsonResponse(r, 400)
            self.assertEqual(body["detail"], "session_id given more than once")
        r = self.svc.request("POST", "/auth/validate-session", body=(
            '{"session_id": "%s", "parent_origin": "https://a.example", '
            '"parent_origin": "https://b.example"}' % sid), headers=JSON)
        self.assertEqual(self.assertJsonResponse(r, 400)["detail"],
                         "parent_origin given more than once")
        self.assertIs(self.record(sid)["used"], False)
        self.assertIs(self.record(other)["used"], False)

    def test_not_found(self):
        for sid in (str(uuid.uuid4()),):
            body = self.assertJsonResponse(self.validate(sid), 401)
            self.assertEqual(body["reason"], "not_found")
            self.assertIs(body["valid"], False)

    def test_expired_is_not_found(self):
        sid = self.create({"ttl_seconds": 1})["session_id"]
        time.sleep(2.1)
        self.assertEqual(self.validate(sid).json()["reason"], "not_found")

    def test_bad_ids_are_400_without_any_redis_command(self):
        good = str(uuid.uuid4())
        queries = [
            "", "?session_id=", "?session_id", "?other=1",
            "?session_id=%s&session_id=%s" % (good, good),
            "?session_id=" + good[:-1], "?session_id=" + good + "0",
            "?session_id=" + good + "%00", "?session_id=" + good.replace("-", "%2d"),
            "?session_id=" + "".join("%%%02x" % ord(c) for c in good),
            "?session_id=550e8400-e29b-11d4-a716-446655440000",  # v1
            "?session_id=00000000-0000-0000-0000-000000000000",  # nil
            "?session_id=550e8400-e29b-41d4-c716-446655440000",  # variant
            "?session_id=" + good.replace("-", ""),
            "?session_id=" + good + "&session_id=",
            "?session_id=%20" + good,
        ]
        before = self.commandstats()
        for q in queries:
            r = self.svc.request("POST", "/auth/validate-session" + q)
            body = self.assertJsonResponse(r, 400)
            self.assertIs(body["valid"], False, q)
            self.assertIn("detail", body)
        for data in ('{"session_id": 5}', '{"session_id": "%s", "x": 1}' % good,
                     '{"session_id": "%s", "parent_origin": 5}' % good,
                     "[]", "nope", '{"session_id": "%s"}' % good[:-1]):
            r = self.svc.request("POST", "/auth/validate-session", body=data)
            self.assertJsonResponse(r, 400)
        r = self.svc.request("POST", "/auth/validate-session?session_id=" + good,
                             body=json.dumps({"session_id": good}))
        self.assertJsonResponse(r, 400)
        after = self.commandstats()
        after.pop("info", None)
        before.pop("info", None)
        self.assertEqual(before, after)

    def test_the_iframe_pages_body_with_parent_origin(self):
        sid = self.create()["session_id"]
        r = self.svc.request("POST", "/auth/validate-session", body=json.dumps(
            {"session_id": sid, "parent_origin": "https://host.example"}))
        self.assertIs(self.assertJsonResponse(r, 200)["valid"], True)

    def test_head_and_prefetch_do_not_consume(self):
        sid = self.create()["session_id"]
        r = self.svc.request("HEAD", "/auth/validate-session?session_id=" + sid)
        self.assertEqual(r.status, 405)
        self.assertEqual(r.header("allow"), "GET, POST")
        self.assertEqual(r.body, b"")
        for h in ({"Sec-Purpose": "prefetch"}, {"Purpose": "prefetch"},
                  {"Sec-Purpose": "prefetch;prerender"}):
            r = self.validate(sid, method="GET", headers=h)
            self.assertJsonResponse(r, 400)
        self.assertIs(self.record(sid)["used"], False)
        self.assertEqual(self.validate(sid).status, 200)

    def test_ttl_is_not_extended_by_use(self):
        sid = self.create({"ttl_seconds": 100})["session_id"]
        self.db.call("EXPIRE", "auth_session:" + sid, 40)
        self.assertEqual(self.validate(sid).status, 200)
        ttl = self.db.call("PTTL", "auth_session:" + sid)
        self.assertTrue(0 < ttl <= 40000, ttl)

    def test_record_without_the_fields_is_500_and_left_unused(self):
        # More in test_records.py: records of other writers, corrupt ones.
        sid = str(uuid.uuid4())
        foreign = '{"used":false,"session_id":"%s"}' % sid
        self.db.call("SET", "auth_session:" + sid, foreign, "EX", 600)
        r = self.validate(sid)
        self.assertEqual(self.assertJsonResponse(r, 500),
                         {"detail": "corrupt session record"})
        self.assertEqual(self.db.call("GET", "auth_session:" + sid), foreign)
        self.assertEqual(self.stats()[1], 0)
        self.assertIn("corrupt session record session=" + sid[:8], self.svc.logs())

    def test_script_flush_falls_back_to_eval(self):
        sid = self.create()["session_id"]
        self.db.call("SCRIPT", "FLUSH")
        self.assertEqual(self.validate(sid).status, 200)
        self.assertEqual(self.validate(sid).json()["reason"], "already_used")
        self.assertEqual(self.create()["storage"], "redis")

    def test_fifty_concurrent_validations_one_success(self):
        for _ in range(20):
            sid = self.create()["session_id"]
            results = []
            barrier = threading.Barrier(50)

            def go():
                barrier.wait()
                results.append(self.validate(sid).status)
            threads = [threading.Thread(target=go) for _ in range(50)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(30)
            self.assertEqual(len(results), 50)
            self.assertEqual(results.count(200), 1, results)
            self.assertEqual(results.count(401), 49, results)
        self.assertEqual(self.stats(), (20, 20))


class Counters(SessionTest):
    env = {"MAX_SESSIONS": "0"}

    def test_counters_exact_after_mixed_run(self):
        ids = [self.create()["session_id"] for _ in range(12)]
        for sid in ids[:7]:
            self.assertEqual(self.validate(sid).status, 200)
        for sid in ids[:3]:
            self.assertEqual(self.validate(sid).status, 401)
        self.validate(str(uuid.uuid4()))
        self.svc.request("POST", "/auth/validate-session?session_id=bad")
        self.svc.request("POST", "/auth/create-session", body="{bad")
        r = self.svc.request("DELETE", "/auth/sessions/" + ids[11])
        self.assertEqual(r.status, 204)
        self.assertEqual(self.stats(), (12, 7))
        body = self.assertJsonResponse(self.svc.get("/auth/session-status"), 200)
        self.assertEqual(body, {
            "total_sessions": 11, "active_sessions": 4, "used_sessions": 7,
            "total_created": 12, "total_used": 7, "max_sessions": 0,
            "storage": "redis", "redis_healthy": True})

    def test_status_when_empty(self):
        body = self.assertJsonResponse(self.svc.get("/auth/session-status"), 200)
        self.assertEqual(body["total_sessions"], 0)
        self.assertEqual(body["total_created"], 0)
        self.assertEqual(body["total_used"], 0)

    def test_concurrent_status_requests_share_one_walk(self):
        # 5000 keys take several SCAN batches.
        rec = '{"used":false,"iframe_opened":false,"session_id":"x","created_at":"x","expires_at":"x"}'
        for chunk in range(5):
            args = []
            for i in range(1000):
                args += ["auth_session:%08d-0000-4000-8000-000000000000" % (chunk * 1000 + i), rec]
            self.db.call("MSET", *args)
        results = []

        def ask():
            body = self.svc.get("/auth/session-status?exact=true").json()
            self.assertTrue(body["exact"])
            results.append(body["total_sessions"])

        def batches(requests):
            before = self.commandstats().get("evalsha", 0)
            threads = [threading.Thread(target=ask) for _ in range(requests)]
            # Redis holds the first batch until every request is in.
            self.redis.stop()
            try:
                for t in threads:
                    t.start()
                wait_until(lambda: self.open_connections() > requests, 0.4)
            finally:
                self.redis.cont()
            for t in threads:
                t.join(30)
            return self.commandstats()["evalsha"] - before
        one = batches(1)
        ten = batches(10)
        self.assertEqual(results, [5000] * 11)
        # Ten separate walks would take ten times the batches of one.
        self.assertGreater(one, 1)
        self.assertEqual(ten, one)


class Limit(SessionTest):
    env = {"MAX_SESSIONS": "3"}

    def test_cap_then_room_after_revoke_and_expiry(self):
        before = self.commandstats()
        first = self.create({"ttl_seconds": 1})["session_id"]
        used = self.create()["session_id"]
        last = self.create()["session_id"]
        self.assertEqual(self.validate(used).status, 200)
        body = self.create(status=429)
        self.assertEqual(body, {"detail": "session limit reached", "max_sessions": 3})
        self.assertEqual(self.stats()[0], 3)
        self.assertEqual(self.svc.request("DELETE", "/auth/sessions/" + last).status, 204)
        # Revoking twice frees one place only.
        self.assertEqual(self.svc.request("DELETE", "/auth/sessions/" + last).status, 404)
        self.create()
        self.create(status=429)
        time.sleep(2.1)  # first expires
        self.assertIsNone(self.record(first))
        self.create()
        # The used session still counts: it is live until it expires.
        self.create(status=429)
        self.assertEqual(self.stats()[0], 5)
        # The cap never walks the keys.
        after = self.commandstats()
        for walk in ("scan", "keys", "dbsize"):
            self.assertEqual(after.get(walk, 0), before.get(walk, 0), walk)

    def test_sessions_created_with_the_cap_off_count_when_it_is_on(self):
        uncapped = self.service({"MAX_SESSIONS": "0"})
        self.assertTrue(self.wait_healthy(uncapped))
        for _ in range(3):
            r = uncapped.request("POST", "/auth/create-session")
            self.assertEqual(r.status, 200, r.body)
        self.create(status=429)
        # Revoking one of them makes room for exactly one.
        sid = r.json()["session_id"]
        self.assertEqual(self.svc.request("DELETE", "/auth/sessions/" + sid).status, 204)
        self.create()
        self.create(status=429)

    def test_cap_accounting_costs_no_memory_per_session(self):
        for _ in range(3):
            self.create({"ttl_seconds": 600})
        # Sessions created in one second share one entry.
        self.assertLessEqual(self.db.call("ZCARD", "auth_sessions_expiry"), 2)
        self.assertEqual(self.db.call("HGET", "auth_sessions_count", "live"), "3")

    def test_many_passed_seconds_are_retired_at_once(self):
        # As after a quiet night: more passed seconds than one batch of
        # the create script retires.
        past = int(self.db.call("TIME")[0]) - 10
        cmds = [("HSET", "auth_sessions_count", "live", 2500, "next", past - 2499)]
        for i in range(2500):
            cmds.append(("ZADD", "auth_sessions_expiry", past - i, "past-%d" % i))
            cmds.append(("HSET", "auth_sessions_count", "past-%d" % i, 1))
        self.db.pipeline(cmds)
        sid = self.create({"ttl_seconds": 600})["session_id"]
        self.assertEqual(self.db.call("ZCARD", "auth_sessions_expiry"), 1)
        # live, used, next and the new session's second.
        self.assertEqual(self.db.call("HLEN", "auth_sessions_count"), 4)
        self.assertEqual(self.db.call("HGET", "auth_sessions_count", "used"), "0")
        self.assertEqual(self.db.call("HGET", "auth_sessions_count", "live"), "1")
        expiry = self.db.call("ZRANGE", "auth_sessions_expiry", 0, 0, "WITHSCORES")
        self.assertEqual(expiry[0], self.record(sid)["expires_at"])
        self.assertEqual(float(self.db.call("HGET", "auth_sessions_count", "next")),
                         float(expiry[1]))


class NoRandomBytes(SessionTest):
    # ASan must come first among the libraries; the preloaded one is
    # harmless to it.
    env = {"LD_PRELOAD": os.environ["IFRAME_AUTH_NO_GETRANDOM"],
           "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "") +
           ":verify_asan_link_order=0"}

    def test_create_answers_503_and_writes_nothing(self):
        before = self.commandstats().get("evalsha", 0)
        r = self.svc.request("POST", "/auth/create-session")
        self.assertEqual(self.assertJsonResponse(r, 503),
                         {"detail": "no random bytes for a session id"})
        self.assertEqual(r.header("retry-after"), "1")
        self.assertEqual(self.commandstats().get("evalsha", 0), before)
        self.assertEqual(self.stats(), (0, 0))
        self.assertIn("no random bytes from the kernel", self.svc.logs())


class ApiKeys(SessionTest):
    env = {"API_KEY": "key-one,key-two"}

    def test_protected_routes(self):
        sid = None
        for key in ("key-one", "key-two"):
            h = {"Authorization": "Bearer " + key}
            sid = self.create(headers=h)["session_id"]
            self.assertEqual(self.svc.get("/auth/session-status", headers=h).status, 200)
            self.assertEqual(self.svc.get("/auth/sessions", headers=h).status, 200)
        bad_headers = [{}, {"Authorization": "Bearer key-three"},
                       {"Authorization": "Bearer key-on"},
                       {"Authorization": "Bearer key-one2"},
                       {"Authorization": "Basic key-one"},
                       {"Authorization": "key-one"},
                       {"Authorization": "Bearer key-one,key-two"},
                       {"Authorization": "Bearer "}]
        for h in bad_headers:
            for method, path in (("POST", "/auth/create-session"),
                                 ("GET", "/auth/session-status"),
                                 ("GET", "/auth/sessions"),
                                 ("DELETE", "/auth/sessions/" + sid)):
                r = self.svc.request(method, path, headers=h)
                body = self.assertJsonResponse(r, 401)
                self.assertEqual(body, {"detail": "invalid or missing API key"})
        self.assertIsNotNone(self.record(sid))
        self.assertEqual(self.stats()[0], 2)
        # Never protected:
        self.assertEqual(self.validate(sid).status, 200)
        self.assertEqual(self.svc.get("/auth/redis-health").status, 200)
        self.assertEqual(self.svc.get("/healthz").status, 200)
        self.assertEqual(self.svc.get("/metrics").status, 200)
        self.assertEqual(self.svc.get("/client/iframe.html").status, 200)
        self.assertNotIn("key-one", self.svc.logs())
        self.assertNotIn("API_KEY is empty", self.svc.logs())


class OpenWarning(SessionTest):
    def test_empty_api_key_warns(self):
        self.assertRegex(self.svc.logs(), r"level=WARNING API_KEY is empty")


class Admin(SessionTest):
    env = {"MAX_SESSIONS": "0"}

    def test_list_250_in_pages_of_100(self):
        ids = {self.create({"ttl_seconds": 500})["session_id"] for _ in range(250)}
        self.validate(next(iter(ids)))
        seen = []
        cursor = "0"
        pages = 0
        while True:
            r = self.svc.get("/auth/sessions?cursor=%s&count=100" % cursor)
            body = self.assertJsonResponse(r, 200)
            self.assertEqual(set(body), {"cursor", "sessions"})
            for s in body["sessions"]:
                self.assertEqual(set(s), {"session_id", "created_at", "expires_at",
                                          "used", "iframe_opened", "ttl_seconds"})
                self.assertTrue(0 < s["ttl_seconds"] <= 500)
                seen.append(s["session_id"])
            cursor = body["cursor"]
            pages += 1
            if cursor == "0":
                break
            self.assertLess(pages, 50)
        self.assertEqual(len(seen), 250)
        self.assertEqual(set(seen), ids)
        self.assertGreaterEqual(pages, 2)

    def test_list_defaults_and_bad_parameters(self):
        self.create()
        body = self.assertJsonResponse(self.svc.get("/auth/sessions"), 200)
        self.assertEqual(body["cursor"], "0")
        self.assertEqual(len(body["sessions"]), 1)
        for q in ("count=0", "count=1001", "count=x", "count=", "cursor=abc",
                  "cursor=-1", "cursor=123456789012345678901",
                  "cursor=18446744073709551616", "cursor=99999999999999999999"):
            self.assertJsonResponse(self.svc.get("/auth/sessions?" + q), 400)

    def test_revoke(self):
        sid = self.create()["session_id"]
        r = self.svc.request("DELETE", "/auth/sessions/" + sid)
        self.assertEqual(r.status, 204)
        self.assertEqual(r.body, b"")
        self.assertIsNone(self.record(sid))
        self.assertEqual(self.validate(sid).json()["reason"], "not_found")
        r = self.svc.request("DELETE", "/auth/sessions/" + sid)
        self.assertEqual(self.assertJsonResponse(r, 404)["detail"], "session not found")
        for bad in ("nope", sid + "x", sid.replace("-", "")):
            r = self.svc.request("DELETE", "/auth/sessions/" + bad)
            self.assertJsonResponse(r, 400)
        r = self.svc.request("GET", "/auth/sessions/" + sid)
        self.assertEqual(r.status, 405)
        self.assertEqual(r.header("allow"), "DELETE")


class RedisDown(SessionTest):
    env = {"REDIS_TIMEOUT_MS": "300"}

    def test_every_redis_route_is_503(self):
        for stop in (self.redis.kill, self.redis.stop):
            sid = self.create()["session_id"]
            stop()
            for method, path in (("POST", "/auth/create-session"),
                                 ("POST", "/auth/validate-session?session_id=" + sid),
                                 ("GET", "/auth/validate-session?session_id=" + sid),
                                 ("GET", "/auth/session-status"),
                                 ("GET", "/auth/sessions"),
                                 ("DELETE", "/auth/sessions/" + sid)):
                started = time.monotonic()
                r = self.svc.request(method, path)
                # The deadline (0.3 s) and a fixed margin.
                self.assertLess(time.monotonic() - started, 0.7)
                body = self.assertJsonResponse(r, 503)
                self.assertEqual(body, {"detail": "service temporarily unavailable",
                                        "redis_healthy": False})
                self.assertEqual(r.header("retry-after"), "1")
            if stop == self.redis.kill:
                self.redis.start()
                self.assertTrue(self.wait_healthy(self.svc, 5))
                self.db = self.redis.client()
        self.redis.cont()
        self.assertTrue(self.wait_healthy(self.svc, 5))
        # Fail closed: nothing was consumed while Redis was frozen.
        self.assertEqual(self.validate(sid).status, 200)


class Metrics(SessionTest):
    def metrics(self):
        r = self.svc.get("/metrics")
        self.assertEqual(r.status, 200)
        self.assertTrue(r.header("content-type").startswith("text/plain"))
        values = {}
        for line in r.body.decode().splitlines():
            if line.startswith("#"):
                self.assertRegex(line, r"^# (HELP|TYPE) iframe_auth_\w+ ")
                continue
            m = re.match(r'^(iframe_auth_\w+)(\{[^}]*\})? ([0-9.e+-]+)$', line)
            self.assertIsNotNone(m, line)
            values[m.group(1) + (m.group(2) or "")] = float(m.group(3))
        return values

    def test_counters_move_without_redis(self):
        before = self.metrics()
        sid = self.create()["session_id"]
        self.validate(sid)
        self.validate(sid)
        self.validate(str(uuid.uuid4()))
        self.svc.request("POST", "/auth/validate-session?session_id=x")
        self.validate(sid, "GET", {"Sec-Purpose": "prefetch"})
        self.svc.get("/nope")

        def redis_commands():  # all but the INFO that reads them
            stats = self.commandstats()
            stats.pop("info", None)
            return stats
        stats = redis_commands()
        after = self.metrics()
        self.assertEqual(redis_commands(), stats)

        def delta(name):
            return after.get(name, 0) - before.get(name, 0)
        self.assertEqual(delta("iframe_auth_sessions_created_total"), 1)
        self.assertEqual(delta('iframe_auth_validations_total{result="ok"}'), 1)
        self.assertEqual(delta('iframe_auth_validations_total{result="already_used"}'), 1)
        self.assertEqual(delta('iframe_auth_validations_total{result="not_found"}'), 1)
        self.assertEqual(delta('iframe_auth_validations_total{result="invalid"}'), 2)
        self.assertEqual(delta('iframe_auth_requests_total{route="create_session",status="200"}'), 1)
        self.assertEqual(delta('iframe_auth_requests_total{route="validate_session",status="401"}'), 2)
        self.assertEqual(delta('iframe_auth_requests_total{route="unmatched",status="404"}'), 1)
        self.assertEqual(after["iframe_auth_redis_up"], 1)
        self.assertGreater(delta("iframe_auth_redis_round_trip_seconds_count"), 3)
        self.assertEqual(after['iframe_auth_request_duration_seconds_bucket{route="validate_session",le="+Inf"}'],
                         after['iframe_auth_request_duration_seconds_count{route="validate_session"}'])
        for route in ("healthz", "metrics", "redis_health", "create_session",
                      "validate_session", "session_status", "list_sessions",
                      "revoke_session"):
            self.assertIn('iframe_auth_request_duration_seconds_count{route="%s"}' % route, after)
        self.redis.kill()
        wait_until(lambda: self.metrics()["iframe_auth_redis_up"] == 0, 3)
        self.assertEqual(self.metrics()["iframe_auth_redis_up"], 0)

    def test_open_connections_gauge(self):
        base = self.metrics()["iframe_auth_open_connections"]
        self.assertGreaterEqual(base, 1)  # this request's own
        socks = [socket.create_connection(("127.0.0.1", self.svc.port))
                 for _ in range(5)]
        for s in socks:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        try:
            self.assertTrue(wait_until(
                lambda: self.metrics()["iframe_auth_open_connections"] == base + 5, 3))
        finally:
            for s in socks:
                s.close()
        self.assertTrue(wait_until(
            lambda: self.metrics()["iframe_auth_open_connections"] == base, 3))


if __name__ == "__main__":
    main()

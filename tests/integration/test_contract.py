"""The contract itself: docs/openapi.yaml is a valid OpenAPI 3.1 document
(against the official JSON Schema, vendored in tests/openapi/), the
service serves exactly it at /openapi.json, and the response check that
the harness runs on every response does refuse what the document does
not allow.  That every route is documented, and nothing else, is
tests/unit/test_openapi.c, against the route table itself."""

import copy
import json
import os
import re
import sys

import jsonschema
import yaml

sys.path.insert(0, os.path.dirname(__file__))
import contract  # noqa: E402
from harness import REPO, ServiceTest, main  # noqa: E402

SCHEMA = os.path.join(REPO, "tests", "openapi", "openapi-3.1-schema.json")


def schemas_in(node):
    """Every Schema Object of the document: each `schema` of a parameter,
    header or media type, and each of components/schemas."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "schema" and isinstance(value, dict):
                yield value
            elif key == "schemas" and isinstance(value, dict):
                yield from value.values()
            yield from schemas_in(value)
    elif isinstance(node, list):
        for item in node:
            yield from schemas_in(item)


class Document(ServiceTest):
    start_redis = False

    def setUp(self):
        super().setUp()
        with open(SCHEMA) as f:
            self.validator = jsonschema.Draft202012Validator(json.load(f))
        self.doc = contract.document()

    def errors(self, doc):
        return sorted(self.validator.iter_errors(doc), key=lambda e: list(e.path))

    def test_is_openapi_3_1(self):
        self.assertEqual(self.doc["openapi"], "3.1.0")
        errors = self.errors(self.doc)
        self.assertEqual(errors, [], "\n".join(
            "%s: %s" % ("/".join(map(str, e.path)), e.message) for e in errors[:10]))

    def test_the_schema_check_can_fail(self):
        broken = copy.deepcopy(self.doc)
        del broken["paths"]["/healthz"]["get"]["responses"]["200"]["description"]
        self.assertNotEqual(self.errors(broken), [])

    def test_every_schema_is_json_schema_2020_12(self):
        count = 0
        for schema in schemas_in(self.doc):
            jsonschema.Draft202012Validator.check_schema(schema)
            count += 1
        self.assertGreater(count, 30)

    def test_every_local_reference_resolves(self):
        text = json.dumps(self.doc)
        for ref in set(part.split('"')[0] for part in text.split('"$ref": "')[1:]):
            node = self.doc
            for key in ref.lstrip("#/").split("/"):
                self.assertIn(key, node, ref)
                node = node[key]

    def test_served_at_openapi_json(self):
        svc = self.service()
        r = svc.get("/openapi.json")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header("content-type"), "application/json")
        self.assertEqual(r.json(), self.doc)
        self.assertEqual(svc.request("HEAD", "/openapi.json").status, 405)


class ResponseCheck(ServiceTest):
    """check_response, which the harness runs on every response."""

    start_redis = False
    OK_HEADERS = {"content-type": "application/json",
                  "x-content-type-options": "nosniff",
                  "cache-control": "no-store"}

    def refused(self, method, target, status, headers, body):
        with self.assertRaises(contract.ContractError):
            contract.check_response(method, target, status, headers, body)

    def test_accepts_a_documented_answer(self):
        contract.check_response("GET", "/healthz", 200, self.OK_HEADERS,
                                b'{"status":"ok"}')
        contract.check_response("DELETE", "/auth/sessions/abc?x=1", 404,
                                self.OK_HEADERS, b'{"detail":"session not found"}')
        contract.check_response("PUT", "/healthz", 405,
                                dict(self.OK_HEADERS, allow="GET"),
                                b'{"detail":"method not allowed"}')

    def test_refuses_what_the_document_does_not_allow(self):
        self.refused("GET", "/healthz", 418, self.OK_HEADERS, b'{"detail":"x"}')
        self.refused("GET", "/healthz", 200, self.OK_HEADERS, b'{"status":"fine"}')
        self.refused("GET", "/healthz", 200,
                     {"content-type": "application/json"}, b'{"status":"ok"}')
        self.refused("GET", "/healthz", 200,
                     dict(self.OK_HEADERS, **{"content-type": "text/plain"}),
                     b'{"status":"ok"}')
        self.refused("PUT", "/healthz", 405, self.OK_HEADERS,
                     b'{"detail":"method not allowed"}')  # no Allow
        self.refused("GET", "/no/such/path", 200, self.OK_HEADERS, b"{}")
        self.refused("GET", "/auth/session-status", 401, self.OK_HEADERS,
                     b'{"detail":"invalid or missing API key"}')  # no WWW-Authenticate
        self.refused("POST", "/auth/create-session", 503, self.OK_HEADERS,
                     b'{"detail":"service temporarily unavailable","redis_healthy":false}')
        self.refused("GET", "/auth/validate-session", 401, self.OK_HEADERS,
                     b'{"valid":false,"reason":"expired","detail":"x"}')


class ReadmeAlertRules(ServiceTest):
    """The alert rules that README's Production section suggests name
    metrics that /metrics has."""

    def rules(self):
        with open(os.path.join(REPO, "README.md")) as f:
            text = f.read()
        section = text[text.index("### What to monitor"):]
        block = re.search(r"```yaml\n(.*?)```", section, re.S).group(1)
        return yaml.safe_load(block)["groups"][0]["rules"]

    def test_every_metric_in_the_rules_exists(self):
        svc = self.service()
        exposed = set(re.findall(r"(?m)^# TYPE (\w+) ", svc.get("/metrics").body.decode()))
        rules = self.rules()
        self.assertGreater(len(rules), 5)
        for rule in rules:
            for name in re.findall(r"\biframe_auth_\w+", rule["expr"]):
                self.assertIn(re.sub(r"_(bucket|sum|count)$", "", name), exposed,
                              rule["alert"])


if __name__ == "__main__":
    main()

"""The API contract, docs/openapi.yaml, applied to real responses.

The harness hands every response it receives to check_response(), so that
every integration test also checks the contract: the path template, the
method and the status must be documented, the documented headers present
and valid, and a JSON body valid against the response's schema.  Unknown
paths answer the documented 404, known paths with another method the
documented 405.  Validators are compiled once per (template, method,
status) and kept.

Needs python3-yaml and python3-jsonschema (scripts/setup.sh).
"""

import functools
import json
import os
import re

import jsonschema
import yaml

DOC_PATH = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "docs", "openapi.yaml")
METHODS = ("get", "head", "post", "put", "delete", "options", "patch", "trace")


class ContractError(AssertionError):
    """A response that docs/openapi.yaml does not allow."""


@functools.lru_cache(maxsize=1)
def document():
    with open(DOC_PATH, encoding="utf-8") as f:
        return yaml.load(f, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def _resolve(node, doc):
    """node with every local $ref replaced by what it points to (the
    document has no recursive references), so that the validators need
    no reference resolver, whichever jsonschema version is installed."""
    if isinstance(node, list):
        return [_resolve(item, doc) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        target = doc
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        merged = dict(_resolve(target, doc))
        merged.update({k: _resolve(v, doc) for k, v in node.items() if k != "$ref"})
        return merged
    return {k: _resolve(v, doc) for k, v in node.items()}


@functools.lru_cache(maxsize=None)
def _templates(parameter):
    """(regex, template) for each documented path, literal paths first as
    OpenAPI matches them; parameter is what a {parameter} matches."""
    out = []
    for template in document()["paths"]:
        regex = "^" + re.sub(r"\\\{[^}]+\\\}", parameter, re.escape(template)) + "$"
        out.append(("{" in template, re.compile(regex), template))
    return [(regex, template) for _, regex, template in sorted(out, key=lambda t: t[0])]


def template_of(path):
    """The documented path that path is.  A parameter is one segment, as
    OpenAPI has it; failing that, any run of characters, '/' included,
    which the service takes as one value (e.g. a user_id with a '/' that
    the client did not encode)."""
    for parameter in ("[^/]+", ".+"):
        for regex, template in _templates(parameter):
            if regex.match(path):
                return template
    return None


class _CompiledResponse:
    def __init__(self, response):
        self.headers = []
        for name, header in (response.get("headers") or {}).items():
            schema = header.get("schema", {})
            self.headers.append((name.lower(), header.get("required", False),
                                 jsonschema.Draft202012Validator(schema)))
        self.content = {}
        for media, spec in (response.get("content") or {}).items():
            schema = spec.get("schema")
            self.content[media] = (jsonschema.Draft202012Validator(schema)
                                   if schema is not None else None)


@functools.lru_cache(maxsize=None)
def _component_response(name):
    doc = document()
    return _CompiledResponse(_resolve(doc["components"]["responses"][name], doc))


@functools.lru_cache(maxsize=None)
def _operation_response(template, method, status):
    """The compiled response, or None when the operation does not
    document that status."""
    doc = document()
    responses = doc["paths"][template][method]["responses"]
    response = responses.get(str(status), responses.get("default"))
    if response is None:
        return None
    return _CompiledResponse(_resolve(response, doc))


def _fail(method, path, status, why, body=b""):
    raise ContractError("%s %s -> %d: %s (docs/openapi.yaml)\nbody: %r"
                        % (method.upper(), path, status, why, body[:400]))


def _check(compiled, method, path, status, headers, body):
    for name, required, validator in compiled.headers:
        value = headers.get(name)
        if value is None:
            if required:
                _fail(method, path, status, "header %s missing" % name, body)
            continue
        errors = list(validator.iter_errors(value))
        if errors:
            _fail(method, path, status, "header %s: %r: %s"
                  % (name, value, errors[0].message), body)
    if not compiled.content:
        if body:
            _fail(method, path, status, "a body where none is documented", body)
        return
    media = headers.get("content-type")
    if media not in compiled.content:
        _fail(method, path, status, "Content-Type %r is not one of %s"
              % (media, sorted(compiled.content)), body)
    validator = compiled.content[media]
    if method == "head" or validator is None or media != "application/json":
        return
    try:
        value = json.loads(body)
    except ValueError as e:
        _fail(method, path, status, "body is not JSON: %s" % e, body)
    errors = sorted(validator.iter_errors(value), key=lambda e: list(e.path))
    if errors:
        e = errors[0]
        _fail(method, path, status, "body at %s: %s"
              % ("/".join(map(str, e.path)) or "(top)", e.message), body)


def _is_static_file(static_dir, path):
    """A file of a STATIC_DIR that a test made: the document lists the
    project's static files, not each one a test may create."""
    if not static_dir or ".." in path.split("/"):
        return False
    return os.path.isfile(os.path.join(static_dir, path.lstrip("/")))


def check_response(method, target, status, headers, body, static_dir=None):
    """Raises ContractError when the response breaks the contract.
    headers: lower-case names; target: the request-target as sent;
    static_dir: the service's STATIC_DIR."""
    method = method.lower()
    path = target.split("?", 1)[0]
    template = template_of(path)
    operation = document()["paths"][template].get(method) if template else None
    compiled = _operation_response(template, method, status) if operation else None
    if compiled is not None:
        pass
    elif status == 404:
        # The router's answer to a path it does not serve (a documented
        # static file missing from a test's STATIC_DIR included).
        compiled = _component_response("NotFound")
    elif status == 405 and template is not None and operation is None:
        compiled = _component_response("MethodNotAllowed")
    elif template is None and status == 200 and _is_static_file(static_dir, path):
        if headers.get("x-content-type-options") != "nosniff":
            _fail(method, path, status, "no X-Content-Type-Options: nosniff")
        return
    elif template is None:
        _fail(method, path, status, "no such path is documented", body)
    else:
        _fail(method, path, status, "status not documented for %s %s"
              % (method.upper(), template), body)
    _check(compiled, method, path, status, headers, body)

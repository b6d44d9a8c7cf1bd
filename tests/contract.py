"""GitHub's published REST description as a contract: which operations exist, what their
request bodies may be, what their responses look like (OpenAPI 3.0: ``nullable``, so the
OAS 3.0 validator, not plain JSON Schema)."""

from __future__ import annotations

import copy
import gzip
import json
import re
from functools import lru_cache

from openapi_schema_validator import OAS30Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from .data import REST_OPENAPI
URI = "urn:github-rest"


@lru_cache(maxsize=1)
def spec() -> dict:
    with gzip.open(REST_OPENAPI) as handle:
        return json.load(handle)


@lru_cache(maxsize=1)
def _registry() -> Registry:
    return Registry().with_resource(URI, Resource(contents=spec(), specification=DRAFT4))


# Parameters that may contain slashes: a git ref (heads/feature/x) and a file path.
_GREEDY = {"{ref}", "{path}"}


@lru_cache(maxsize=1)
def _templates() -> list[tuple[re.Pattern, str]]:
    out = []
    for template in spec()["paths"]:
        parts = []
        for segment in template.split("/"):
            if segment in _GREEDY:
                parts.append(".+")
            elif segment.startswith("{") and segment.endswith("}"):
                parts.append("[^/]+")
            else:
                parts.append(re.escape(segment))
        out.append((re.compile("^" + "/".join(parts) + "$"), template))
    # Literal segments win over parameters: /git/refs before /git/{x}
    out.sort(key=lambda item: -len(re.sub(r"\{[^}]+\}", "", item[1])))
    return out


def operation(method: str, path: str) -> tuple[str, dict] | None:
    """The path template and operation GitHub documents for this request, if any."""
    for pattern, template in _templates():
        if pattern.match(path):
            op = spec()["paths"][template].get(method.lower())
            if op is not None:
                return template, op
    return None


def _pointer(*parts: str) -> str:
    return "#/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


def _validator(pointer: str) -> OAS30Validator:
    return OAS30Validator({"$ref": URI + pointer}, registry=_registry())


def _deref(node: dict) -> dict:
    while "$ref" in node:
        parts = node["$ref"].lstrip("#/").split("/")
        node = spec()
        for part in parts:
            node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def request_errors(method: str, path: str, body) -> list[str]:
    found = operation(method, path)
    if found is None:
        return [f"{method} {path}: no such operation in GitHub's REST description"]
    template, op = found
    content = op.get("requestBody", {}).get("content", {}).get("application/json")
    if content is None:
        return [] if body is None else [f"{method} {template}: takes no JSON body"]
    if body is None:
        return [f"{method} {template}: a JSON body is required"] if op["requestBody"].get("required") else []
    pointer = _pointer("paths", template, method.lower(), "requestBody", "content", "application/json", "schema")
    return [f"{method} {template}: {e.message}" for e in _validator(pointer).iter_errors(body)][:5]


def unknown_fields(method: str, template: str, body) -> list[str]:
    """Body fields the operation does not document. GitHub ignores them, so a misspelt or
    invented field would do nothing while the app believes it does something."""
    content = spec()["paths"][template][method.lower()].get("requestBody", {}).get("content", {})
    schema = content.get("application/json", {}).get("schema")
    if schema is None:
        return []
    return [f"{method} {template}: no body field {where!r}" for where in _unknown(schema, body, "")][:5]


def _unknown(schema: dict, value, where: str) -> list[str]:
    """Paths in `value` (`tree[0].encoding`) that no variant of the schema has a property for."""
    schema = _deref(schema)
    variants = [_deref(v) for v in schema.get("oneOf", []) + schema.get("anyOf", [])] or [schema]
    if isinstance(value, list):
        items = next((v["items"] for v in variants if "items" in v), None)
        if items is None:
            return []
        return [path for i, item in enumerate(value) for path in _unknown(items, item, f"{where}[{i}]")]
    if not isinstance(value, dict):
        return []
    objects = [v for v in variants if "properties" in v]
    if not objects or any(v.get("additionalProperties") not in (None, False) for v in objects):
        return []  # free-form (a map): any key goes
    known = {name: prop for v in objects for name, prop in v["properties"].items()}
    out = []
    for key, inner in value.items():
        path = f"{where}.{key}" if where else key
        out += _unknown(known[key], inner, path) if key in known else [path]
    return out


def query_errors(method: str, template: str, query: list[tuple[str, str]]) -> list[str]:
    """Query parameters the operation does not document, or values its schema refuses. GitHub
    ignores a parameter it does not know: the app would believe it filters when it does not."""
    op = spec()["paths"][template][method.lower()]
    documented = {p["name"]: p for p in map(_deref, op.get("parameters", [])) if p["in"] == "query"}
    errors = []
    for name, text in query:
        parameter = documented.get(name)
        if parameter is None:
            errors.append(f"{method} {template}: no query parameter {name!r}")
            continue
        schema = _deref(parameter.get("schema", {}))
        value: object = text
        if schema.get("type") == "integer":
            value = int(text) if text.lstrip("-").isdigit() else text
        elif schema.get("type") == "boolean":
            value = {"true": True, "false": False}.get(text, text)
        errors += [f"{method} {template}: query {name}={text}: {e.message}"
                   for e in OAS30Validator(schema).iter_errors(value)]
    return errors[:5]


def response_errors(method: str, template: str, status: int, body) -> list[str]:
    responses = spec()["paths"][template][method.lower()]["responses"]
    if str(status) not in responses:
        return [f"{method} {template}: status {status} is not documented"]
    response = _deref(responses[str(status)])
    if "content" not in response or "application/json" not in response["content"]:
        return []
    schema = response["content"]["application/json"].get("schema")
    if schema is None:
        return []
    ref = responses[str(status)].get("$ref")
    pointer = (ref[1:] if ref else _pointer("paths", template, method.lower(), "responses", str(status))[1:])
    pointer = "#" + pointer + "/content/application~1json/schema"
    return [f"{method} {template} {status}: {e.message[:200]}" for e in _validator(pointer).iter_errors(body)][:5]


def error_body_errors(method: str, template: str, status: int, body) -> list[str]:
    """An error answer: as the operation documents that status, or else GitHub's `basic-error`
    (a 401 or 404 is possible on any operation, documented or not)."""
    if str(status) in spec()["paths"][template][method.lower()]["responses"]:
        return response_errors(method, template, status, body)
    return [f"{method} {template} {status}: {e.message[:200]}"
            for e in _validator("#/components/schemas/basic-error").iter_errors(body)][:5]


def example(method: str, template: str, status: int, name: str | None = None):
    """A documented example response, to build the sandbox's answers from (a fresh copy)."""
    response = _deref(spec()["paths"][template][method.lower()]["responses"][str(status)])
    media = response["content"]["application/json"]
    examples = media.get("examples") or {}
    chosen = examples.get(name) if name else next(iter(examples.values()), None)
    value = _deref(chosen)["value"] if chosen else media.get("example")
    return copy.deepcopy(value)

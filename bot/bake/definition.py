"""Bake definitions (HCL or JSON) as plain data, and the values in them.

HCL is parsed with python-hcl2, which returns each attribute's source form: a quoted string
literal (``"\\"linux/arm64\\""``), a bare expression (``PLATFORMS``) or an interpolation
(``"${split(\\",\\", PLATFORMS)}"``). Literals become Python values; a string with ``${...}``
becomes a ``Template`` and anything else an ``Expr``, both resolved later against the
definition's variables (``resolve.py``). JSON bake files interpolate ``${...}`` in strings too.
Pure: the texts come in, nothing is read here.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

DEFAULT_FILES = ("compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml", "docker-bake.json",
                 "docker-bake.hcl", "docker-bake.override.json", "docker-bake.override.hcl")
COMPOSE_FILES = DEFAULT_FILES[:4]


class BakeError(ValueError):
    """A bake definition that cannot be read, or a value that cannot be known; one line."""


@dataclass(frozen=True)
class Template:
    """A string with ``${...}`` interpolations (as written, escapes already undone)."""

    text: str


@dataclass(frozen=True)
class Expr:
    """An HCL expression that is not a literal: a variable, a function call, a condition."""

    text: str


@dataclass
class Definition:
    """The blocks of one or more bake files, merged in order (a later file's attribute wins)."""

    variables: dict[str, dict[str, Any]] = field(default_factory=dict)
    targets: dict[str, dict[str, Any]] = field(default_factory=dict)
    groups: dict[str, dict[str, Any]] = field(default_factory=dict)
    functions: set[str] = field(default_factory=set)

    def merge(self, other: "Definition") -> None:
        for mine, theirs in ((self.variables, other.variables), (self.targets, other.targets),
                             (self.groups, other.groups)):
            for name, attrs in theirs.items():
                mine.setdefault(name, {}).update(attrs)
        self.functions |= other.functions


def is_bake_file(path: str) -> bool:
    """The files read as possible bake definitions (the CLI's checkout and the App's snapshot
    alike): every ``*.hcl``, and JSON files named like bake's (``docker-bake*.json``, ``*.bake.json``).
    Compose files are not read: a definition that includes one is declined."""
    name = path.rsplit("/", 1)[-1].lower()
    return name.endswith(".hcl") or (name.endswith(".json") and "bake" in name)


def bake_candidates(paths, limit: int) -> list[str]:
    """The bake files to read, at most ``limit``: files named like bake's first (a repository of
    Terraform or Packer ``.hcl`` files must not crowd out its ``docker-bake.hcl``), then by depth."""
    found = [p for p in paths if is_bake_file(p)]
    return sorted(found, key=lambda p: ("bake" not in p.rsplit("/", 1)[-1].lower(), p.count("/"), p))[:limit]


def parse(path: str, text: str) -> Definition:
    if path.lower().endswith(".json"):
        return _parse_json(path, text)
    return _parse_hcl(path, text)


# -- HCL --------------------------------------------------------------------------------------

_QUOTED = re.compile(r'^"(.*)"$', re.DOTALL)
_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "t": "\t", "r": "\r"}


def _parse_hcl(path: str, text: str) -> Definition:
    import hcl2  # only where a bake file is read: diagnosis never needs it

    try:
        data = hcl2.loads(text)
    except Exception as exc:  # noqa: BLE001 - the parser raises many types (lark, its own); all mean "not HCL"
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise BakeError(f"{path} is not HCL that python-hcl2 can parse ({first[:120]})") from None
    out = Definition()
    for kind, blocks in data.items():
        if kind not in ("variable", "target", "group", "function"):
            continue
        for block in blocks if isinstance(blocks, list) else [blocks]:
            for raw_name, attrs in (block.items() if isinstance(block, dict) else ()):
                name = _hcl_name(raw_name)
                if kind == "function":
                    out.functions.add(name)
                    continue
                values = {k: _hcl_value(v) for k, v in attrs.items() if not k.startswith("__")}
                getattr(out, kind + "s").setdefault(name, {}).update(values)
    return out


def _hcl_name(raw: str) -> str:
    m = _QUOTED.match(raw)
    return m.group(1) if m else raw


def _hcl_value(raw: Any) -> Any:
    if isinstance(raw, list):
        return [_hcl_value(v) for v in raw]
    if isinstance(raw, dict):
        return {_hcl_name(k): _hcl_value(v) for k, v in raw.items() if not str(k).startswith("__")}
    if not isinstance(raw, str):
        return raw  # numbers, booleans, null
    m = _QUOTED.match(raw)
    if m is None or m.group(1).startswith("<<"):
        return Expr(raw)  # a bare expression, a ${...} expression, a heredoc template
    return _string(_unescape(m.group(1)))


def _unescape(body: str) -> str:
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(0)), body)


def _string(text: str) -> str | Template:
    """A literal, or a template when it interpolates (``$${`` and ``%%{`` are escapes)."""
    if re.search(r"(?<!\$)\$\{|(?<!%)%\{", text):
        return Template(text)
    return text.replace("$${", "${").replace("%%{", "%{")


# -- JSON -------------------------------------------------------------------------------------


def _parse_json(path: str, text: str) -> Definition:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise BakeError(f"{path} is not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise BakeError(f"{path}: a bake file must be a JSON object")
    out = Definition()
    for kind, store in (("variable", out.variables), ("target", out.targets), ("group", out.groups)):
        blocks = data.get(kind) or {}
        if not isinstance(blocks, dict):
            raise BakeError(f"{path}: `{kind}` must be an object of named blocks")
        for name, attrs in blocks.items():
            if not isinstance(attrs, dict):
                raise BakeError(f"{path}: {kind} `{name}` must be an object")
            store[name] = {k: _json_value(v) for k, v in attrs.items()}
    out.functions |= set((data.get("function") or {}) if isinstance(data.get("function"), dict) else ())
    return out


def _json_value(raw: Any) -> Any:
    if isinstance(raw, list):
        return [_json_value(v) for v in raw]
    if isinstance(raw, dict):
        return {k: _json_value(v) for k, v in raw.items()}
    return _string(raw) if isinstance(raw, str) else raw

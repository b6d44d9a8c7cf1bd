"""Resolving a bake definition as ``docker buildx bake`` would: groups to targets, ``inherits``,
and the values of attributes, as far as they can be known before the run.

A variable's value is its ``default``, unless the job's environment sets it (bake reads the
environment): a value the workflow writes out is used, one computed by an expression is not
known. Variables the runner sets (``GITHUB_*``, ``RUNNER_*``) are not known either. A value
that needs anything else (a function, a condition, an unknown variable) raises ``Unknown``: the
caller declines rather than guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .definition import BakeError, Definition, Expr, Template

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_INTERPOLATION = re.compile(r"(?<!\$)\$\{\s*(.*?)\s*\}")
_RUNNER_SET = ("GITHUB_", "RUNNER_", "BAKE_")
MAX_DEPTH = 32  # inherits and groups nest this deep at most (cycles are errors, as in bake)


class Unknown(BakeError):
    """A value that cannot be known before the run (computed, or set by the runner)."""


@dataclass
class Resolver:
    definition: Definition
    env: dict[str, str | None]  # variables the job's environment sets; None: computed at run time

    # -- values ---------------------------------------------------------------------------------

    def variable(self, name: str, seen: tuple[str, ...] = ()) -> Any:
        if name in self.env:
            if self.env[name] is None:
                raise Unknown(f"variable `{name}` is set by an expression in the workflow's `env:`")
            return self.env[name]
        if name.startswith(_RUNNER_SET):
            raise Unknown(f"variable `{name}` is set by the runner")
        if name not in self.definition.variables:
            raise Unknown(f"`{name}` is not a variable of the bake file")
        if name in seen or len(seen) > MAX_DEPTH:
            raise BakeError(f"variable `{name}` refers to itself")
        attrs = self.definition.variables[name]
        if "default" not in attrs:
            return ""  # bake: a variable without a default is the empty string
        return self.value(attrs["default"], seen + (name,))

    def value(self, raw: Any, seen: tuple[str, ...] = ()) -> Any:
        if isinstance(raw, list):
            return [self.value(v, seen) for v in raw]
        if isinstance(raw, dict):
            return {k: self.value(v, seen) for k, v in raw.items()}
        if isinstance(raw, Template):
            if "%{" in raw.text.replace("%%{", ""):
                raise Unknown(f"`{raw.text}` uses a template directive")
            return _INTERPOLATION.sub(lambda m: self._interpolate(m.group(1), raw.text, seen), raw.text) \
                .replace("$${", "${")
        if isinstance(raw, Expr):
            text = raw.text.strip()
            inner = text[2:-1].strip() if text.startswith("${") and text.endswith("}") else text
            if _IDENT.fullmatch(inner) and inner not in ("null", "true", "false"):
                return self.variable(inner, seen)
            raise Unknown(f"`{_short(text)}` is computed by an expression")
        return raw

    def _interpolate(self, inner: str, whole: str, seen: tuple[str, ...]) -> str:
        if not _IDENT.fullmatch(inner):
            raise Unknown(f"`{_short(whole)}` is computed by an expression")
        value = self.variable(inner, seen)
        if isinstance(value, (list, dict)):
            raise Unknown(f"`{_short(whole)}` interpolates a list")
        return "" if value is None else str(value).lower() if isinstance(value, bool) else str(value)

    # -- targets --------------------------------------------------------------------------------

    def expand(self, names: list[str], depth: int = 0) -> list[str]:
        """Targets (in order, once each) that these target or group names build."""
        if depth > MAX_DEPTH:
            raise BakeError("groups nest in a cycle")
        out: list[str] = []
        for name in names:
            if name in self.definition.groups:
                members = self.value(self.definition.groups[name].get("targets", []))
                if not isinstance(members, list):
                    raise BakeError(f"group `{name}`'s targets are not a list")
                found = self.expand([str(m) for m in members], depth + 1)
            elif name in self.definition.targets:
                found = [name]
            elif name == "default":
                raise BakeError("the bake file has no `default` group or target, and the step names no `targets`")
            else:
                raise BakeError(f"the bake file has no target or group `{name}`")
            out += [t for t in found if t not in out]
        return out

    def target(self, name: str) -> dict[str, Any]:
        """The target's attributes with ``inherits`` applied (raw values: resolve with ``value``)."""
        return self._target(name, ())

    def _target(self, name: str, chain: tuple[str, ...]) -> dict[str, Any]:
        if name in chain or len(chain) > MAX_DEPTH:
            raise BakeError(f"target `{name}` inherits from itself")
        if name not in self.definition.targets:
            raise BakeError(f"target `{chain[-1]}` inherits `{name}`, which is not a target of the bake file")
        own = self.definition.targets[name]
        merged: dict[str, Any] = {}
        parents = self.value(own.get("inherits", []))
        for parent in parents if isinstance(parents, list) else []:
            merged.update(self._target(str(parent), chain + (name,)))
        merged.update({k: v for k, v in own.items() if k != "inherits"})
        merged["__inherits__"] = set(merged.get("__inherits__", set())) | {str(p) for p in parents or []}
        return merged

    def strings(self, raw: Any, what: str) -> list[str] | None:
        """A list-of-strings attribute (``platforms``, ``tags``, ``output``); None when unset."""
        if raw is None:
            return None
        value = self.value(raw)
        if value is None:
            return None
        if isinstance(value, str):
            value = [value]  # bake accepts one string where a list is expected
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise BakeError(f"{what} is not a list of strings")
        return value


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 80 else text[:77] + "..."

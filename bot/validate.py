"""Checks on every file a fix writes, before anything is shown or published (fail closed).

Workflows re-parse and gain no error against GitHub's workflow schema nor a finding of zizmor or
actionlint (``lint``, where they are installed); Dockerfiles re-parse
with BuildKit's parser and gain no error-level hadolint finding (hadolint also flags valid
files, so the edit is compared with the original, not required to be clean).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from functools import lru_cache
from importlib import resources

import jsonschema

from . import lint
from .dockerfile.model import DockerfileError
from .dockerfile.model import parse as parse_dockerfile
from .workflows.yamldoc import YamlError, load, plain


class ValidationError(ValueError):
    """The edited file fails a check the original passed; nothing is written."""


@lru_cache(maxsize=1)
def _workflow_validator() -> jsonschema.Draft7Validator:
    schema = json.loads(resources.files("bot").joinpath("schemas/github-workflow.json").read_text())
    return jsonschema.Draft7Validator(schema)


@lru_cache(maxsize=256)  # the original is checked once per remedy tried
def workflow_errors(path: str, text: str) -> frozenset[str]:
    try:
        data = plain(load(text, path))
    except YamlError as exc:
        return frozenset({str(exc)})
    return frozenset(f"{'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message[:200]}"
                     for e in _workflow_validator().iter_errors(data))


def check_workflow(path: str, old: str, new: str) -> None:
    added = workflow_errors(path, new) - workflow_errors(path, old)
    if added:
        raise ValidationError(f"{path}: the edited workflow fails GitHub's workflow schema: "
                              + "; ".join(sorted(added)[:3]))
    linted = lint.new_findings(path, old, new)  # zizmor and actionlint, where installed
    if linted:
        raise ValidationError(f"{path}: the edit adds linter findings: " + "; ".join(map(str, linted[:3])))


@lru_cache(maxsize=256)
def hadolint_errors(text: str) -> frozenset[str] | None:
    """Error-level hadolint findings (code and instruction text), or None without hadolint."""
    binary = shutil.which("hadolint")
    if binary is None:
        return None
    run = subprocess.run([binary, "--no-fail", "-f", "json", "-"], input=text, capture_output=True,
                         text=True, timeout=60)
    try:
        results = json.loads(run.stdout or "[]")
    except json.JSONDecodeError:
        return None
    lines = text.splitlines()
    return frozenset(f"{r['code']}: {lines[r['line'] - 1].strip() if 0 < r['line'] <= len(lines) else ''}"
                     for r in results if r.get("level") == "error")


def check_dockerfile(path: str, old: str, new: str) -> None:
    try:
        parse_dockerfile(path, new)
    except DockerfileError as exc:
        raise ValidationError(f"{path}: the edited Dockerfile does not parse: {exc}") from None
    before, after = hadolint_errors(old), hadolint_errors(new)
    if before is not None and after is not None and after - before:
        raise ValidationError(f"{path}: the edit adds hadolint errors: " + "; ".join(sorted(after - before)[:3]))

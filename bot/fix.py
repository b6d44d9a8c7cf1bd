"""The fix engine: findings + repository files in, edited files + explanation out.

diagnose -> locate -> plan -> apply -> validate, all pure: the CLI and the GitHub layer read
the files and pass them in. Fails closed: an edit that does not re-parse, breaks the workflow
schema, adds a hadolint error, or is not idempotent is never returned.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from .config import Config
from .diagnosis import EMULATION_FAMILY, Finding
from .explain import explanation
from .locate import Location, locate, parse_workflows
from .planning import plan
from .remedies import REMEDIES, Change, Decline, Situation
from .validate import ValidationError, check_dockerfile, check_workflow
from .workflows.remote_builders import elsewhere


class NoFix(Exception):
    """No finding, or no remedy applies: the message says why (CLI exit 3)."""


@dataclass
class FixRequest:
    findings: list[Finding]
    workflows: dict[str, str]  # path -> text, every workflow of the repository
    dockerfiles: dict[str, str]  # path -> text, the repository's Dockerfiles
    config: Config
    repo_files: frozenset[str] = frozenset()
    bake_files: dict[str, str] = field(default_factory=dict)  # path -> text, the repository's bake files
    private: bool = False
    ghes: bool = False  # GitHub Enterprise Server: native Arm runners only where the config names one
    remedy: str | None = None  # forced (--remedy)
    skip: tuple[str, ...] = ()  # tried or declined before (the ladder's input)
    policy: str | None = None  # overrides the config's
    workflow: str | None = None  # forced (--workflow)


@dataclass
class FixResult:
    signature: str
    remedy: str
    companions: list[str]
    files: dict[str, str]  # path -> new content, changed files only
    originals: dict[str, str]
    diff: str
    explanation: str
    next_remedy: str | None
    declined: dict[str, str] = field(default_factory=dict)  # remedies passed over, and why

    def to_json(self) -> dict:
        return {"signature": self.signature, "remedy": self.remedy, "companions": self.companions,
                "files": self.files, "diff": self.diff, "explanation": self.explanation}


def _runner_arch(location: Location) -> str:
    if location.build is None:
        return "amd64"
    return "arm64" if "arm" in str(location.build.job.get("runs-on", "")).lower() else "amd64"


def _situation(request: FixRequest, location: Location) -> Situation:
    return Situation(
        finding=request.findings[0], findings=request.findings, config=request.config,
        private=request.private, ghes=request.ghes, workflow=location.workflow, build=location.build,
        build_ordinal=location.build_ordinal, dockerfile=location.dockerfile,
        instruction=location.instruction, repo_files=request.repo_files, dockerfiles=request.dockerfiles,
        bake_files=request.bake_files,
    )


def _validate(originals: dict[str, str], files: dict[str, str]) -> None:
    for path, text in files.items():
        if path in originals and path.startswith(".github/workflows/"):
            check_workflow(path, originals[path], text)
        else:
            check_dockerfile(path, originals.get(path, ""), text)


def _idempotent(situation: Situation, applied: list[str]) -> None:
    """Applying the same remedies to the result changes nothing."""
    for remedy in applied:
        try:
            again = REMEDIES[remedy](situation)
        except Decline:
            continue
        current = {p: t for p, t in again.files.items()}
        if any(_text_of(situation, p) != t for p, t in current.items()):
            raise ValidationError(f"`{remedy}` would change its own result again; nothing was written")


def _text_of(situation: Situation, path: str) -> str | None:
    if situation.dockerfile is not None and situation.dockerfile.path == path:
        return situation.dockerfile.text
    if situation.workflow is not None and situation.workflow.path == path:
        return situation.workflow.doc.text
    return None


def fix(request: FixRequest) -> FixResult:
    if not request.findings:
        raise NoFix("the log shows no known multi-platform build failure; nothing to fix")
    if not request.config.enabled:
        raise NoFix("the app is disabled by the repository's config (`enabled: false`)")
    workflows = parse_workflows(request.workflows, request.workflow, request.config.ignore_workflows)
    location = locate(request.findings, workflows, request.dockerfiles, request.bake_files, request.repo_files)
    finding = request.findings[0]
    if location.build is not None and finding.signature in EMULATION_FAMILY and not request.remedy:
        # The failing platform is built by a remote builder with native machines (Depot, Build Cloud).
        remote = elsewhere(location.build, finding.platform)
        if remote:
            raise NoFix(remote)
    situation = _situation(request, location)
    the_plan = plan(request.findings, request.config, request.policy, request.skip, _runner_arch(location))
    ladder = [request.remedy] if request.remedy else the_plan.ladder
    if request.remedy and request.remedy not in REMEDIES:
        raise NoFix(f"unknown remedy `{request.remedy}`; known: {', '.join(REMEDIES)}")
    declined: dict[str, str] = {}
    main: Change | None = None
    originals = {**request.workflows, **request.dockerfiles}
    for remedy in ladder:
        try:
            main = REMEDIES[remedy](situation)
            # A rung whose result fails a check (schema, linters) gives way to the next one.
            _validate(originals, {p: t for p, t in main.files.items() if originals.get(p) != t})
            break
        except Decline as exc:
            declined[remedy] = str(exc)
        except ValidationError as exc:
            declined[remedy] = f"its result failed validation: {exc}"
            main = None
    if main is None:
        reasons = "; ".join(f"{r}: {why}" for r, why in declined.items())
        context = f" ({location.why})" if location.why and location.build is None else ""
        raise NoFix(f"no remedy applies to `{request.findings[0].signature}`{context}"
                    + (f": {reasons}" if reasons else f": {the_plan.note}"))

    changes = [main]
    try:
        current = situation.updated(main.files)
        companions = [] if request.remedy else the_plan.companions
        for companion in companions:
            try:
                change = REMEDIES[companion](current)
            except Decline as exc:
                declined[companion] = str(exc)
                continue
            changes.append(change)
            current = current.updated(change.files)
    except ValueError as exc:  # an edited file that no longer parses: fail closed
        raise NoFix(f"the change failed validation, so none is proposed: {exc}") from None

    files: dict[str, str] = {}
    for change in changes:
        files.update(change.files)
    files = {p: t for p, t in files.items() if originals.get(p) != t}
    if not files:
        raise NoFix(f"`{main.remedy}` would change nothing")
    try:
        _validate(originals, files)
        _idempotent(current, [c.remedy for c in changes])
    except ValidationError as exc:
        raise NoFix(f"the change failed validation, so none is proposed: {exc}") from None

    next_remedy = None
    if not request.remedy:
        rest = the_plan.ladder[the_plan.ladder.index(main.remedy) + 1:]
        next_remedy = rest[0] if rest else None
    applied = [c.remedy for c in changes]
    passed_over = {r: why for r, why in declined.items() if r in ladder[:ladder.index(main.remedy)]}
    text = explanation(
        request.findings, main.remedy, [s for c in changes for s in c.summary],
        [n for c in changes for n in c.notes], next_remedy, location.why, passed_over, main.emulated,
    )
    return FixResult(
        signature=request.findings[0].signature, remedy=main.remedy, companions=applied[1:],
        files=files, originals={p: originals.get(p, "") for p in files}, diff=unified_diff(originals, files),
        explanation=text, next_remedy=next_remedy, declined=declined,
    )


def unified_diff(originals: dict[str, str], files: dict[str, str]) -> str:
    out = []
    for path in sorted(files):
        old = originals.get(path, "")
        out += difflib.unified_diff(old.splitlines(keepends=True), files[path].splitlines(keepends=True),
                                    f"a/{path}", f"b/{path}")
    return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in out)

"""Locate the failing build: which workflow step built it, which Dockerfile and instruction.

When several builds could have produced the log, the one with the most evidence wins (it
builds the failing platform; its Dockerfile has the failing instruction in the named stage),
and the explanation says why. Pure: the caller supplies the files.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .bake import BakeError, read_step
from .diagnosis import Finding
from .dockerfile.model import Dockerfile, DockerfileError, Instruction
from .dockerfile.model import parse as parse_dockerfile
from .workflows.model import Build, Workflow, canonical_platform, reusable_call


class LocateError(ValueError):
    """Bad input: a workflow that is not YAML, or a --workflow that does not exist."""


@dataclass
class Location:
    workflow: Workflow | None = None
    build: Build | None = None
    build_ordinal: int = 0
    dockerfile: Dockerfile | None = None
    instruction: Instruction | None = None
    why: str = ""
    notes: list[str] = field(default_factory=list)


def _matches_path(path: str, wanted: str) -> bool:
    wanted = wanted.removeprefix("./")
    return path == wanted or path.endswith("/" + wanted) or path.rsplit("/", 1)[-1] == wanted


def parse_workflows(workflows: dict[str, str], only: str | None, ignore: tuple[str, ...]) -> list[Workflow]:
    """The workflows to look in: all (less the ignored ones), or the one that failed and the
    reusable workflows of this repository it calls (the build is often in one of those)."""
    chosen = {p: t for p, t in workflows.items() if only is None or _matches_path(p, only)}
    if only is not None and not chosen:
        raise LocateError(f"no workflow {only} in this repository")
    parsed: dict[str, Workflow] = {}
    queue = sorted(chosen)
    while queue:
        path = queue.pop(0)
        if path in parsed or path not in workflows:
            continue
        if only is None and any(_matches_path(path, i) for i in ignore):
            continue
        try:
            workflow = Workflow.parse(path, workflows[path])
        except ValueError as exc:
            raise LocateError(str(exc)) from None
        parsed[path] = workflow
        if only is not None:
            queue += [call.removeprefix("./").split("@")[0] for job in workflow.jobs.values()
                      if (call := reusable_call(job)) and call.startswith("./")]
    return list(parsed.values())


def _dockerfiles(texts: dict[str, str], notes: list[str]) -> dict[str, Dockerfile]:
    parsed = {}
    for path, text in texts.items():
        try:
            parsed[path] = parse_dockerfile(path, text)
        except DockerfileError as exc:
            notes.append(str(exc))
    return parsed


def _find_instruction(df: Dockerfile, finding: Finding) -> Instruction | None:
    step = finding.step or {}
    if not step.get("instruction"):
        return None
    found = df.find(step["instruction"], step.get("stage"))
    if not found and step.get("stage"):
        found = df.find(step["instruction"])  # stage names in the log can be "stage-1"
    return found[0] if len(found) >= 1 else None


def _bake_facts(build: Build, bake_files: dict[str, str], repo_files: frozenset[str]) -> tuple[list[str] | None, str | None]:
    """(platforms, Dockerfile) of a bake-action step, read from its bake files where they can be
    ([] when they set none: the runner's own platform; None when they cannot be read)."""
    try:
        view = read_step(build.workflow, build, bake_files, repo_files)
    except BakeError:
        return None, None
    dockerfiles = {t.dockerfile for t in view.targets}
    return view.platforms or [], dockerfiles.pop() if len(dockerfiles) == 1 else None


def locate(findings: list[Finding], workflows: list[Workflow], dockerfile_texts: dict[str, str],
           bake_files: dict[str, str] | None = None, repo_files: frozenset[str] = frozenset()) -> Location:
    finding = findings[0]
    notes: list[str] = []
    dockerfiles = _dockerfiles(dockerfile_texts, notes)
    builds = [b for wf in workflows for b in wf.builds]
    if not builds:
        # The build is in a composite action or a script: Dockerfile remedies can still apply
        # when exactly one Dockerfile has the failing instruction.
        why = ("no workflow step builds an image (docker/build-push-action, docker/bake-action or "
               "`docker buildx build`)")
        matches = [(d, i) for d in dockerfiles.values() if (i := _find_instruction(d, finding))]
        if len(matches) == 1:
            df, instruction = matches[0]
            return Location(dockerfile=df, instruction=instruction, notes=notes,
                            why=f"{why}; {df.path} is the one Dockerfile with `{instruction.original.strip()[:60]}`")
        return Location(why=why, notes=notes)
    scored = []
    for build in builds:
        score, reasons = 0, []
        platforms, dockerfile = build.platforms, build.dockerfile
        if build.kind == "bake-action" and platforms is None:
            # Its platforms and Dockerfile are in the bake file: a lint or test target of the same
            # file is not the image build that failed.
            platforms, dockerfile = _bake_facts(build, bake_files or {}, repo_files)
        if finding.platform and platforms and canonical_platform(finding.platform) in map(
                canonical_platform, platforms):
            score += 4
            reasons.append(f"it builds {finding.platform}")
        elif platforms is None:
            score += 1
        if platforms and len(platforms) > 1:
            score += 1
        if finding.signature == "docker-exporter-manifest-list" and build.load:
            score += 3
            reasons.append("it loads a multi-platform image")
        if finding.signature == "arm-runner-unavailable" and "arm" in str(build.job.get("runs-on", "")):
            score += 4
            reasons.append("its job asks for an Arm runner")
        df = dockerfiles.get(dockerfile) if dockerfile else None
        instruction = _find_instruction(df, finding) if df else None
        if df is None and dockerfile is None:
            # bake or a computed file: the Dockerfile that has the failing instruction, if only one does
            matches = [(d, i) for d in dockerfiles.values() if (i := _find_instruction(d, finding))]
            if len(matches) == 1:
                df, instruction = matches[0]
        if instruction is not None:
            score += 4
            reasons.append(f"{df.path} has `{instruction.original.strip()[:60]}`")
        scored.append((score, build, df, instruction, reasons))
    scored.sort(key=lambda item: -item[0])
    best = scored[0]
    score, build, df, instruction, reasons = best
    ties = [s for s in scored[1:] if s[0] == score]
    why = f"{build.describe()}" + (f", because {' and '.join(reasons)}" if reasons else "")
    if ties:
        why += (f"; {len(ties)} other build(s) fit as well ("
                + ", ".join(t[1].describe() for t in ties[:3]) + "): the first is taken, `--workflow` chooses")
    if build.dockerfile and build.dockerfile not in dockerfile_texts:
        notes.append(f"{build.dockerfile}, the build's Dockerfile, is not in the repository")
    ordinal = [b for b in build.workflow.builds if b.job_id == build.job_id].index(build)
    return Location(build.workflow, build, ordinal, df, instruction, why, notes)

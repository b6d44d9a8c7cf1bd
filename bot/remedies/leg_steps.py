"""Steps that run in some legs only, when a job split per platform builds different platforms.

A job may build two images for different platform lists (a distroless variant for amd64, arm64
and riscv64, an alpine one for those and 32-bit Arm too). The legs are the union of the lists,
and each build step runs only in the legs of the platforms it had (a step `if:` on the leg's
platform), with its digest steps; each image is merged from exactly its own legs' digests.

A job may also build one platform before the multi-platform push: a "build and export to
Docker" step that loads the runner's platform for a test, or a bake test target. Split per
platform, it would run in every leg. It runs in the one leg of the platform it built before
(the original runner's, for a build without `platforms`), on a runner of the same kind, with
the steps that use its image (the test) and the steps between them that nothing else reads
(the test's set-up): the test runs exactly as it did, once. The other legs push only their
image; the merge job needs every leg, so the tags are still written only after the test passed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..workflows import edit as wedit
from ..workflows.model import SETUP_BUILDX, SETUP_QEMU, Build, StepRef, Workflow, canonical_platform
from ..workflows.yamldoc import plain
from .base import Decline
from .images import both, label, step_condition
from .references import LOGIN

# Steps every leg needs whatever it builds: they stay in every leg, as in the original job.
_SHARED_ACTIONS = {"actions/checkout", SETUP_QEMU, SETUP_BUILDX, LOGIN, "docker/metadata-action"}
_WRITES_JOB_STATE = re.compile(r"\bGITHUB_(?:ENV|PATH|OUTPUT)\b")


def leg_platform_condition(platforms: list[str], legs: list[str]) -> str | None:
    """The `if:` expression (without `${{ }}`) that holds in the legs of ``platforms``; None when
    they are every leg's."""
    wanted = {canonical_platform(p) for p in platforms}
    chosen = [p for p in legs if canonical_platform(p) in wanted]
    if len(chosen) == len(legs):
        return None
    return " || ".join(f"matrix.platform == '{p}'" for p in chosen)


def union(builds: list[Build]) -> list[str]:
    """The legs of builds with different platform lists: every platform once, in the order the
    job's build steps first name them."""
    seen: dict[str, str] = {}
    for b in sorted(builds, key=lambda b: b.step.index):
        for p in b.platforms or []:
            seen.setdefault(canonical_platform(p), p)
    return list(seen.values())


def runner_platform(job) -> str:
    """The platform a build without `platforms` builds: the job's runner's. The job being split
    emulated its Arm leg, so its runner is x64 unless its label says Arm; an expression may be
    either, which is declined."""
    runs_on = plain(job.get("runs-on"))
    text = str(runs_on)
    if "${{" in text:
        raise Decline(f"a build step without `platforms` builds the runner's own platform, and the job's runner "
                      f"(`{text}`) is chosen at run time")
    return "linux/arm64" if re.search(r"arm|aarch64", text, re.IGNORECASE) else "linux/amd64"


def bake_side_platform(workflow: Workflow, other: Build, bake_files: dict, repo_files: frozenset) -> str | None:
    """The one platform another bake step of the job builds, when it is a side build (a test or
    lint target of the runner's platform that pushes and exports nothing); else declined."""
    from ..bake import BakeError, read_step  # the bake reader: only bake jobs need it
    name = label(other.step)
    try:
        view = read_step(workflow, other, bake_files, repo_files)
    except BakeError as exc:
        raise Decline(f"job `{other.job_id}` also builds with bake step `{name}`, whose targets cannot be read: "
                      f"{exc}") from None
    platforms = view.platforms or []
    if len(platforms) > 1:
        raise Decline(f"job `{other.job_id}` has several multi-platform bake steps (`{name}` too); splitting them "
                      "per platform needs a merge for each image, which is not done automatically")
    pushes = other.push is not None and other.push.strip().lower() != "false"
    outputs = [o for t in view.targets for o in t.output] + [line for line in (other.step.input("set") or "").splitlines()
                                                              if ".output=" in line]
    if pushes or outputs or other.load:
        raise Decline(f"bake step `{name}` builds a single platform and pushes, loads or exports it; in a job split "
                      "per platform that is not moved to one leg automatically")
    return platforms[0] if platforms else None


@dataclass
class SidePlan:
    """A single-platform build and the steps that go with it, all in the leg of ``platform``."""

    build: Build
    platform: str
    steps: list[StepRef] = field(default_factory=list)  # in job order, the build first
    users: list[StepRef] = field(default_factory=list)  # the steps that use its image


def _image_words(workflow: Workflow, side: Build) -> list[str]:
    """How later steps name the side build's image: its tags as written, as their `env.X`
    resolves, and the variable itself (`$X`, `${X}`)."""
    raw = side.step.input("tags") or ""
    words = []
    for tag in filter(None, (t.strip() for t in re.split(r"[,\n]", raw))):
        words.append(tag)
        for name in re.findall(r"\$\{\{\s*env\.([A-Za-z_][\w-]*)\s*\}\}", tag):
            words += [f"env.{name}", f"${name}", f"${{{name}}}"]
            value = workflow.env_value(name, side.job_id, side.step)[0]
            if value and "${{" not in value:
                words.append(value)
    return list(dict.fromkeys(words))


def _uses(step: StepRef, words: list[str], side_id: str | None) -> bool:
    text = str(plain(step.node))
    if side_id and re.search(rf"\bsteps\.{re.escape(side_id)}\.", text):
        return True
    for word in words:
        if word.startswith("$"):
            if re.search(re.escape(word) + r"(?![\w])", text):
                return True
        elif re.search(rf"(?<![\w./-]){re.escape(word)}(?![\w/-])", text):
            return True
    return False


def _shared(step: StepRef, steps: list[StepRef], users: list[StepRef]) -> bool:
    """A step in the side build's stretch that other steps need: a set-up every leg runs, or one
    whose outputs or written environment a later step may read (any later step but the ones
    that use the side image, which run in the same leg: a push build in the stretch too)."""
    if step.action in _SHARED_ACTIONS:
        return True
    if _WRITES_JOB_STATE.search(str(plain(step.node.get("run", "")))):
        return True
    sid = step.node.get("id")
    return bool(sid) and any(re.search(rf"\bsteps\.{re.escape(str(sid))}\.", str(plain(st.node)))
                             for st in steps[step.index + 1:] if st not in users)


def plan(workflow: Workflow, side: Build, platform: str, legs: list[str], builds: list[Build],
         moved: list[StepRef], pushed: tuple[str, ...] = ()) -> SidePlan:
    """The single-platform build ``side`` and the stretch of steps up to its image's last use.
    ``pushed``: the names of the images the legs push by digest, which it must not use (they are
    tagged only by the merge job; a build-push-action job checks its Dockerfiles the same way)."""
    if canonical_platform(platform) not in {canonical_platform(p) for p in legs}:
        raise Decline(f"step `{label(side.step)}` builds {platform} alone, which none of the per-platform legs "
                      "builds, so there is no leg to run it in")
    text = str(plain(side.step.node))
    used = next((n for n in pushed if n and re.search(rf"(?<![\w./-]){re.escape(n)}(?=[:@\s\"',]|$)", text)), None)
    if used:
        raise Decline(f"step `{label(side.step)}` uses `{used}`, which the legs push by digest only until the merge "
                      "job tags it")
    steps = workflow.steps(side.job_id)
    words = _image_words(workflow, side)
    side_id = str(side.step.node["id"]) if side.step.node.get("id") else None
    main = {b.step.index for b in builds}
    users = [st for st in steps[side.step.index + 1:] if st.index not in main and _uses(st, words, side_id)]
    moved_at = {st.index for st in moved}
    for st in users:
        if st.index in moved_at:
            raise Decline(f"step `{label(st)}` uses both the single-platform image of step `{label(side.step)}` and "
                          "the pushed image, so it has no one place in a job split per platform")
    end = users[-1].index if users else side.step.index
    stretch = [side.step]
    for st in steps[side.step.index + 1:end + 1]:
        if st.index in main or st.index in moved_at:
            continue
        if not _shared(st, steps, users):
            stretch.append(st)
        elif st in users:
            raise Decline(f"step `{label(st)}` uses the single-platform image of step `{label(side.step)}`, and "
                          "later steps read what it writes, so it cannot run in one leg only")
    return SidePlan(side, platform, stretch, users)


def condition_edits(steps: list[StepRef], condition: str) -> list[wedit.Edit]:
    """Each step's `if:` becomes its own condition and ``condition`` (no step index moves)."""
    edits = []
    for st in steps:
        own = step_condition(st)
        value = f"${{{{ {both(own, condition)} }}}}"
        after = "name" if "name" in st.node else ("id" if "id" in st.node else None)
        edits.append(wedit.set_key(st.path, "if", value, after=after,
                                   describe=f"run step `{label(st)}` in its platform's leg only"))
    return edits


def side_note(plans: list[SidePlan]) -> list[str]:
    """What the PR says about the single-platform builds."""
    return [SIDE_NOTE.format(step=label(p.build.step), platform=p.platform,
                             users=", ".join(f"`{label(u)}`" for u in p.users) or "none")
            for p in plans]


def subset_note(builds: list[Build]) -> list[str]:
    return [SUBSET_NOTE.format(step=label(b.step), platforms=", ".join(b.platforms or [])) for b in builds]


SIDE_NOTE = ("Step `{step}` builds {platform} alone: it runs only in the {platform} leg, on a runner of the same "
             "kind as before, with the steps that use its image ({users}) and their set-up; the merge job waits "
             "for every leg, so the tags are still written only after they passed.")
SUBSET_NOTE = "Step `{step}` builds {platforms}: it runs only in those legs, and its image is merged from their digests."

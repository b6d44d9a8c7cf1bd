"""Workflow remedies: ``pin-qemu``, ``add-buildx``, ``load-single-platform``,
``timeout-minutes`` and ``drop-platform``."""

from __future__ import annotations

from ..workflows import edit as wedit
from ..workflows.model import SETUP_BUILDX, SETUP_QEMU, Build, Workflow, canonical_platform, reusable_call
from ..workflows.yamldoc import get
from ..versions import qemu_evidence
from .base import Change, Decline, Situation

def _job_steps_before(workflow: Workflow, build: Build, action: str):
    return [st for st in workflow.steps(build.job_id)[:build.step.index] if st.action == action]


def _check_editable(workflow: Workflow, build: Build) -> None:
    if reusable_call(workflow.jobs[build.job_id]):
        raise Decline(f"job `{build.job_id}` calls another workflow; the build is not in this file")


def _apply(workflow: Workflow, edits: list[wedit.Edit]) -> str:
    try:
        return wedit.apply(workflow, edits).doc.text
    except wedit.EditError as exc:
        raise Decline(str(exc)) from None


def pin_qemu(s: Situation) -> Change:
    workflow, build = s.require_workflow()
    _check_editable(workflow, build)
    image = s.config.qemu_image
    evidence = qemu_evidence(image)
    qemu = _job_steps_before(workflow, build, SETUP_QEMU)
    if qemu:
        step = qemu[-1]
        current = step.input("image")
        if current and current.strip() == image:
            raise Decline(f"the job already installs QEMU from `{image}`")
        edit = wedit.set_key(step.path + ("with",), "image", image,
                             describe=f"pin the QEMU image of step {step.index + 1}")
        summary = (f"`{workflow.path}` job `{build.job_id}`: `{SETUP_QEMU}` now installs `{image}`"
                   + (f" instead of `{current}`" if current else " instead of its default (`tonistiigi/binfmt:latest`)"))
    else:
        buildx = _job_steps_before(workflow, build, SETUP_BUILDX)
        before = buildx[0].index if buildx else build.step.index
        ref, release = wedit.uses(workflow, SETUP_QEMU)
        edit = wedit.insert_step(workflow, build.job_id, before, [
            ("name", "Set up QEMU"), ("uses", ref), ("with", [("image", image)])],
            {"uses": release} if release else None)
        summary = (f"`{workflow.path}` job `{build.job_id}`: a `{SETUP_QEMU}` step with `image: {image}` "
                   "now registers that QEMU before buildx starts")
    notes = ["The build stays emulated: a pin is the fallback when no native runner can be had, not a promised "
             "cure (raaymax/quack#313: a pin that cured a SIGILL locally did not in CI).",
             "A pinned emulator stays the same until someone changes it: the tag is in the workflow "
             "for the next upgrade."]
    if evidence:
        notes.append("Evidence for this tag: " + "; ".join(evidence) + ".")
    return Change("pin-qemu", {workflow.path: _apply(workflow, [edit])}, [summary + "."], notes)


def add_buildx(s: Situation) -> Change:
    workflow, build = s.require_workflow()
    _check_editable(workflow, build)
    buildx = _job_steps_before(workflow, build, SETUP_BUILDX)
    if buildx:
        step = buildx[-1]
        driver = (step.input("driver") or "").strip()
        if driver != "docker":
            raise Decline(f"job `{build.job_id}` already sets up buildx (step {step.index + 1})")
        edit = wedit.set_key(step.path + ("with",), "driver", "docker-container",
                             describe="use the docker-container driver")
        summary = (f"`{workflow.path}` job `{build.job_id}`: `{SETUP_BUILDX}` now uses the "
                   "`docker-container` driver instead of `docker`")
    else:
        ref, release = wedit.uses(workflow, SETUP_BUILDX)
        edit = wedit.insert_step(workflow, build.job_id, build.step.index,
                                 [("name", "Set up Docker Buildx"), ("uses", ref)],
                                 {"uses": release} if release else None)
        summary = (f"`{workflow.path}` job `{build.job_id}`: a `{SETUP_BUILDX}` step before the build "
                   "creates a builder that can build several platforms")
    return Change("add-buildx", {workflow.path: _apply(workflow, [edit])}, [summary + "."],
                  ["The build now runs in a BuildKit container: images it builds are not in the local "
                   "`docker images` unless a step loads them."])


def _native_platform(workflow: Workflow, build: Build) -> str:
    runs_on = str(workflow.jobs[build.job_id].get("runs-on") or "")
    return "linux/arm64" if "arm" in runs_on.lower() else "linux/amd64"


def load_single_platform(s: Situation) -> Change:
    workflow, build = s.require_workflow()
    _check_editable(workflow, build)
    if build.kind != "build-push-action":
        raise Decline(f"the build is a {build.kind} step; only docker/build-push-action's `load` is edited")
    if not build.load:
        raise Decline("the build step does not set `load: true`")
    if build.platforms is not None and not build.multi_platform:
        raise Decline("the build step loads a single platform already")
    native = _native_platform(workflow, build)
    inputs = build.step.with_ or {}
    keep = [(k, str(v)) for k, v in inputs.items()
            if k not in ("platforms", "load", "push", "outputs", "cache-to") and v is not None]
    fields = [("name", f"Load the {native} image for this job"), ("uses", build.step.uses),
              ("with", keep + [("platforms", native), ("load", True)])]
    edits = [wedit.remove_key(build.step.path + ("with",), "load"),
             wedit.insert_step(workflow, build.job_id, build.step.index + 1, fields)]
    return Change(
        "load-single-platform", {workflow.path: _apply(workflow, edits)},
        [f"`{workflow.path}` job `{build.job_id}`: the multi-platform build no longer sets `load: true`; "
         f"a second step builds and loads only {native}, the runner's platform, for the steps that "
         "need a local image."],
        ["The second step reuses the first one's build cache, so it costs little; a local Docker image "
         "can only hold one platform."],
    )


def timeout_minutes(s: Situation) -> Change:
    workflow, build = s.require_workflow()
    _check_editable(workflow, build)
    job = workflow.jobs[build.job_id]
    if "timeout-minutes" in job:
        raise Decline(f"job `{build.job_id}` already has `timeout-minutes: {job['timeout-minutes']}`")
    minutes = s.config.timeout_minutes
    edit = wedit.set_key(("jobs", build.job_id), "timeout-minutes", minutes, after="runs-on",
                         describe=f"limit job `{build.job_id}` to {minutes} minutes")
    return Change("timeout-minutes", {workflow.path: _apply(workflow, [edit])},
                  [f"`{workflow.path}` job `{build.job_id}`: `timeout-minutes: {minutes}`, so a wedged "
                   "emulated step fails within the hour instead of after six."],
                  [f"A legitimate build longer than {minutes} minutes would now fail: raise the limit "
                   "(config `timeout-minutes`) if the job needs it."])


def drop_platform(s: Situation) -> Change:
    workflow, build = s.require_workflow()
    _check_editable(workflow, build)
    platform = s.platform
    if platform is None:
        raise Decline("the log does not say which platform failed")
    if build.matrix_platform:
        raise Decline(f"the platforms come from the job's matrix; remove the {platform} leg there")
    if build.platforms is None or build.platforms_path is None:
        raise Decline(f"the build's platforms cannot be edited here: {build.platforms_note}")
    if canonical_platform(platform) not in map(canonical_platform, build.platforms):
        raise Decline(f"{platform} is not in the build's platforms ({', '.join(build.platforms)})")
    rest = [p for p in build.platforms if canonical_platform(p) != canonical_platform(platform)]
    if not rest:
        raise Decline(f"{platform} is the only platform this build has")
    original = str(get(workflow.root, build.platforms_path))
    separator = ", " if ", " in original else ","
    edit = wedit.set_value(build.platforms_path, separator.join(rest),
                           describe=f"remove {platform} from the platforms")
    return Change("drop-platform", {workflow.path: _apply(workflow, [edit])},
                  [f"`{workflow.path}`: {platform} removed from the platforms ({build.platforms_note}); "
                   f"the image is built for {', '.join(rest)}."],
                  [f"Users on {platform} get no image from this workflow any more: a last resort."])

"""Build steps that run on a remote builder service with native machines for each architecture.

`depot/build-push-action` and `depot/bake-action` build on Depot's builders (native Intel and
Arm machines), and `docker/setup-buildx-action` with `driver: cloud` sends every build of the
job to Docker Build Cloud (native amd64 and arm64 builders). Their linux/arm64 legs are not
emulated by the workflow's runner, so an emulation failure on arm64 cannot come from them, and
no restructure of ours would make them more native. A job may build a single-platform test
image with docker/build-push-action beside such a step (logto's release job): that step, not
the remote one, is then the only build the engine sees, and it does not build linux/arm64.
"""

from __future__ import annotations

from .model import SETUP_BUILDX, Build, StepRef, Workflow, canonical_platform, split_platforms

# The service, and the platforms it builds on machines of their own architecture.
REMOTE_ACTIONS = {"depot/build-push-action": "Depot", "depot/bake-action": "Depot"}
NATIVE_REMOTE = {"linux/amd64", "linux/arm64"}


def _builds(step: StepRef, platform: str) -> bool:
    raw = step.input("platforms")
    if raw is None:  # bake: the platforms are in its bake file
        return step.action == "depot/bake-action"
    return canonical_platform(platform) in {canonical_platform(p) for p in split_platforms(raw)}


def remote_native_step(workflow: Workflow, job_id: str, platform: str) -> tuple[StepRef, str] | None:
    """The step of the job that builds ``platform`` natively on a remote builder, with the
    service's name; None when there is none."""
    if canonical_platform(platform) not in NATIVE_REMOTE:
        return None
    for step in workflow.steps(job_id):
        service = REMOTE_ACTIONS.get(step.action or "")
        if service and _builds(step, platform):
            return step, service
        if step.action == SETUP_BUILDX and str(step.input("driver") or "").strip() == "cloud":
            return step, "Docker Build Cloud"
    return None


def elsewhere(build: Build, platform: str | None) -> str | None:
    """Why an emulation failure of ``platform`` is not the located ``build``'s: it does not
    build that platform, and a remote builder step of its job builds it natively. None otherwise."""
    if not platform or (build.platforms and canonical_platform(platform) in map(canonical_platform, build.platforms)):
        return None
    found = remote_native_step(build.workflow, build.job_id, platform)
    if found is None:
        return None
    step, service = found
    name = step.node.get("name") or step.node.get("id") or step.uses
    return REMOTE_NOTE.format(platform=platform, job=build.job_id, step=name, action=step.action, service=service)


REMOTE_NOTE = ("the {platform} image of job `{job}` is built by step `{step}` ({action}) on {service}'s native "
               "builders, not under QEMU on the job's runner; the workflow's own build steps do not build "
               "{platform}, so there is nothing of this workflow to take off emulation")

"""``github-builder``: the build job becomes a call of Docker's reusable workflow
``docker/github-builder/.github/workflows/build.yml`` (``bake.yml`` for a docker/bake-action
build, mapped in ``github_builder_bake``), which builds each platform on its native
runner (linux/arm64 and linux/arm on ``ubuntu-24.04-arm``, QEMU off) and merges by digest.

Only where the job fits the workflow's limits (its README and ``build.yml`` at the pinned
release): nothing but checkout, QEMU/Buildx setup, registry logins and metadata before the
build, which runs from the Git context; no build secrets, SSH or custom outputs; GitHub-hosted
Linux runners on github.com. Each limit that is hit is the reason of the decline. The logins
become its ``registry-auths`` secret, the metadata step's inputs its ``meta-*`` inputs; the
caller job gets the permissions the README documents (``contents: read``, ``id-token: write``,
and ``packages: write`` to push to GHCR with the workflow's token).
"""

from __future__ import annotations

import re
from typing import Any

from .. import versions
from ..workflows import edit as wedit
from ..workflows.model import SETUP_BUILDX, SETUP_QEMU, Build, StepRef, Workflow, reusable_call
from ..workflows.yamldoc import plain
from .base import Change, Decline, Situation
from .github_builder_bake import bake_inputs
from .github_builder_values import CALL_CONTEXTS, EXPRESSION, METADATA_INPUTS, call_value, contexts_in, literal_tags
from .job_comments import carried_comments
from .references import LOGIN
from .restructure import METADATA
from .restructure import _push as restructure_push
from .runners import arm_runner_note, native_on_arm64

WORKFLOW = "docker/github-builder/.github/workflows/build.yml"
BAKE_WORKFLOW = "docker/github-builder/.github/workflows/bake.yml"
CHECKOUT = "actions/checkout"
BEFORE_THE_BUILD = {CHECKOUT, SETUP_QEMU, SETUP_BUILDX, LOGIN, METADATA}
# build-push-action inputs and the build.yml input each becomes (None: handled below).
SAME_INPUTS = {"context": "context", "file": "file", "platforms": "platforms", "build-args": "build-args",
               "target": "target", "shm-size": "shm-size", "ulimit": "ulimit", "annotations": "annotations",
               "labels": "labels"}
HANDLED_INPUTS = {"push", "tags", "cache-from", "cache-to", "sbom", "provenance", "github-token"}
LIMITS = {"secrets": "build secrets", "secret-files": "build secrets", "secret-envs": "build secrets",
          "ssh": "SSH", "outputs": "custom outputs", "load": "loading the image into the job"}
LOGIN_INPUTS = {"registry", "username", "password"}
CALL_JOB_KEYS = {"name", "needs", "if", "permissions", "concurrency"}
# What the caller grants (docker/github-builder README: "to fetch the repository content" and
# "for signing attestations and cache entries with GitHub OIDC").
PERMISSIONS = {"contents": "read", "id-token": "write"}
def _registry_auths(workflow: Workflow, job_id: str, logins: list[StepRef], push_condition: str | None) -> str:
    entries = []
    for login in logins:
        inputs = {k: str(v) for k, v in (login.with_ or {}).items()}
        extra = set(inputs) - LOGIN_INPUTS
        if extra:
            raise Decline(f"the login step `{login.node.get('name') or login.uses}` sets {', '.join(sorted(extra))}, "
                          "which github-builder's `registry-auths` cannot express")
        if login.node.get("if") is not None and push_condition is None:
            raise Decline(f"the login step `{login.node.get('name') or login.uses}` is conditional while the build "
                          "always pushes")
        entry = [f"- registry: {inputs.get('registry', 'docker.io')}"]
        for key in ("username", "password"):
            if key in inputs:
                value = inputs[key]
                bad = contexts_in(value) - (CALL_CONTEXTS | {"secrets"})
                if bad:
                    raise Decline(f"the login's {key} uses `{', '.join(sorted(bad))}` at run time")
                entry.append(f"  {key}: {value}")
        entries += entry
    return "\n".join(entries) + "\n"


def _tags(build: Build, meta: StepRef | None) -> tuple[dict[str, str], bool]:
    """The `meta-*` inputs, and whether the build's labels come from the metadata step."""
    raw = build.step.input("tags")
    if raw is None:
        raise Decline("the build has no `tags`, and github-builder needs the image names (`meta-images`)")
    m = re.fullmatch(r"\$\{\{\s*steps\.([\w-]+)\.outputs\.tags\s*\}\}", raw.strip())
    if m:
        if meta is None or meta.node.get("id") != m.group(1):
            raise Decline(f"the tags come from step `{m.group(1)}`, which is not a docker/metadata-action step")
        inputs = {k: str(v) for k, v in (meta.with_ or {}).items()}
        extra = set(inputs) - set(METADATA_INPUTS)
        if extra:
            raise Decline(f"the metadata step sets {', '.join(sorted(extra))}, which github-builder does not take")
        return {METADATA_INPUTS[k]: v for k, v in inputs.items()}, True
    if contexts_in(raw) - CALL_CONTEXTS - {"env"}:
        raise Decline(f"the tags are computed by the job at run time (`{raw.strip()}`)")
    return literal_tags([t.strip() for t in re.split(r"[,\n]", raw) if t.strip()]), False


def _cache(build: Build) -> dict[str, Any]:
    cache_from, cache_to = build.step.input("cache-from") or "", build.step.input("cache-to") or ""
    if not cache_from and not cache_to:
        return {}
    entries = [e.strip() for e in (cache_from + "\n" + cache_to).split("\n") if e.strip()]
    if any("type=gha" not in e for e in entries):
        raise Decline("the build uses a cache other than GitHub Actions' (`type=gha`), which github-builder does not "
                      "take")
    out: dict[str, Any] = {"cache": True}
    if "mode=max" in cache_to:
        out["cache-mode"] = "max"
    scope = re.search(r"scope=([^,\s]+)", cache_to or cache_from)
    if scope:
        out["cache-scope"] = scope.group(1)
    return out


def _push(build: Build) -> tuple[Any, str | None]:
    """The call's `push` input: the build's own value (an expression stays an expression), and
    the condition, read as the restructure reads it."""
    pushes, condition = restructure_push(build)
    return (build.push.strip() if condition else pushes), condition


def _check_job(s: Situation, workflow: Workflow, build: Build) -> list[StepRef]:
    job_id, job = build.job_id, workflow.jobs[build.job_id]
    if s.ghes:
        raise Decline("github-builder runs on GitHub-hosted runners of github.com, and this is GitHub Enterprise Server")
    if s.config.restructure == "matrix":
        raise Decline("the config prefers the written-out matrix (`restructure: matrix`)")
    if reusable_call(job):
        raise Decline(f"job `{job_id}` calls another workflow; the build is not in this file")
    if build.kind not in ("build-push-action", "bake-action"):
        raise Decline(f"the build is a {build.kind} step; only docker/build-push-action and docker/bake-action "
                      "builds are mapped to github-builder")
    runs_on = job.get("runs-on")
    hosted = versions.runner_labels("x64") | versions.runner_labels("arm64")
    if not isinstance(runs_on, str) or runs_on not in hosted:
        raise Decline(f"job `{job_id}` runs on `{plain(runs_on)}`, not a GitHub-hosted Linux runner")
    for key in ("strategy", "container", "services", "environment", "continue-on-error", "defaults"):
        if key in job:
            raise Decline(f"job `{job_id}` sets `{key}`, which a reusable workflow call cannot keep")
    if build.kind == "build-push-action" and build.platforms is None:
        raise Decline(f"the build's platforms are not known from the workflow: {build.platforms_note}")
    if build.kind == "build-push-action" and len(build.platforms) < 2:
        raise Decline("the build has a single platform")
    steps = workflow.steps(job_id)
    after = [st for st in steps if st.index > build.step.index]
    if after:
        raise Decline(f"step `{after[0].node.get('name') or after[0].uses or 'run'}` runs after the build in the same "
                      "job, and github-builder's job has no steps of ours")
    before = [st for st in steps if st.index < build.step.index]
    for st in before:
        if st.action not in BEFORE_THE_BUILD:
            raise Decline(f"step `{st.node.get('name') or st.uses or 'run'}` runs before the build; github-builder "
                          "builds from the Git context with nothing but checkout, QEMU/Buildx setup, registry logins "
                          "and metadata before it")
        if st.action == CHECKOUT and st.with_ and set(st.with_) - {"persist-credentials"}:
            raise Decline("the checkout step sets " + ", ".join(sorted(set(st.with_) - {"persist-credentials"}))
                          + "; github-builder builds the commit of the run")
    if build.step.node.get("if") is not None:
        raise Decline("the build step is conditional")
    if build.kind == "bake-action":
        return before
    inputs = build.step.with_ or {}
    for key in inputs:
        if key in LIMITS:
            raise Decline(f"the build uses {LIMITS[key]} (`{key}`), which github-builder does not take")
        if key not in SAME_INPUTS and key not in HANDLED_INPUTS:
            raise Decline(f"the build sets `{key}`, which github-builder's build.yml has no input for")
    return before


def _outputs(workflow: Workflow, job_id: str, build: Build, meta: StepRef | None) -> None:
    """Jobs that read the build job's outputs get the reusable workflow's `digest` and `meta-json`."""
    outputs = workflow.jobs[job_id].get("outputs")
    if not outputs:
        return
    build_id, meta_id = build.step.node.get("id"), meta.node.get("id") if meta else None
    for name, value in plain(outputs).items():
        wanted = {"digest": f"steps.{build_id}.outputs.digest", "meta-json": f"steps.{meta_id}.outputs.json"}
        m = EXPRESSION.fullmatch(str(value).strip())
        if name not in wanted or not m or m.group(1) != wanted[name]:
            raise Decline(f"job `{job_id}` has the output `{name}` (`{value}`); github-builder's outputs are `digest` "
                          "and `meta-json`")


def _build_inputs(workflow: Workflow, build: Build, meta: StepRef | None, push: Any) -> tuple[dict[str, Any], set[str]]:
    """build.yml's `with:` from a docker/build-push-action step, and the step's inputs it keeps by name."""
    job_id = build.job_id
    meta_inputs, meta_labels = _tags(build, meta)
    with_: dict[str, Any] = {"output": "image"}
    for key, target in SAME_INPUTS.items():
        value = build.step.input(key)
        if value is None:
            continue
        if key == "labels" and meta_labels and re.fullmatch(r"\$\{\{\s*steps\.[\w-]+\.outputs\.labels\s*\}\}",
                                                            value.strip()):
            with_["set-meta-labels"] = True
            continue
        if key == "annotations" and re.fullmatch(r"\$\{\{\s*steps\.[\w-]+\.outputs\.annotations\s*\}\}",
                                                 value.strip()):
            with_["set-meta-annotations"] = True
            continue
        with_[target] = call_value(value, f"the build's `{key}`", workflow, job_id, build.step)
    if push is not False:
        with_["push"] = True if push is True else call_value(push, "the build's `push`", workflow, job_id, build.step)
    for key in ("sbom",):
        if (build.step.input(key) or "").strip().lower() == "true":
            with_[key] = True
    with_.update(_cache(build))
    for key, value in meta_inputs.items():
        with_[key] = call_value(value, f"the metadata's `{key.removeprefix('meta-')}`", workflow, job_id, meta)
    return with_, {k for k in SAME_INPUTS if SAME_INPUTS[k] in with_}


def github_builder(s: Situation) -> Change:
    workflow, build = s.require_workflow()
    job_id = build.job_id
    job = workflow.jobs[job_id]
    before = _check_job(s, workflow, build)
    meta = next((st for st in before if st.action == METADATA), None)
    logins = [st for st in before if st.action == LOGIN]
    _outputs(workflow, job_id, build, meta)
    push, condition = _push(build)
    if build.kind == "bake-action":
        with_, kept, platforms = bake_inputs(s, workflow, build, meta, push)
        workflow_file = BAKE_WORKFLOW
    else:
        with_, kept = _build_inputs(workflow, build, meta, push)
        platforms, workflow_file = build.platforms, WORKFLOW
    arm = s.config.arm_label(s.ghes)
    if arm != versions.runner("arm64"):
        with_["runner"] = f"default={versions.runner('x64')}\nlinux/arm={arm}\nlinux/arm64={arm}\n"
    emulated = [p for p in platforms if p not in ("linux/amd64", "linux/386") and not native_on_arm64(p)]
    if emulated:
        with_["setup-qemu"] = True

    permissions = dict(PERMISSIONS)
    auths = _registry_auths(workflow, job_id, logins, condition) if logins else None
    if auths and "ghcr.io" in auths and "GITHUB_TOKEN" in auths or any(
            "ghcr.io" in v for k, v in with_.items() if k == "meta-images"):
        permissions["packages"] = "write"

    pin = versions.pin(workflow_file)
    new_job: dict[str, Any] = {k: plain(job[k]) for k in job if k in CALL_JOB_KEYS - {"permissions"}}
    new_job["permissions"] = permissions
    new_job["uses"] = pin.uses
    new_job["with"] = with_
    if auths:
        new_job["secrets"] = {"registry-auths": auths}
    dropped = [k for k in job if k not in CALL_JOB_KEYS | {"runs-on", "steps", "outputs", "env"}]

    doc = workflow.doc
    col = doc.start(("jobs", job_id))[1]
    unit, dash = doc.indent_unit(), wedit.dash_offset(doc)
    comments = carried_comments(doc, job_id, job, set(new_job) & set(job), build.step.index, kept,
                                "github-builder's call replaces", set(permissions))

    def lines_for(_doc) -> list[str]:
        lines = wedit.block_lines(job_id, new_job, col, unit, dash)
        lines = [line + f" # {pin.version}" if line.strip() == f"uses: {pin.uses}" else line for line in lines]
        return comments.place(lines, col, unit)

    def expect(data: Any) -> None:
        data["jobs"][job_id] = new_job

    try:
        result = wedit.apply(workflow, [wedit.replace_entry(("jobs", job_id), lines_for, expect,
                                                            f"call docker/github-builder from job `{job_id}`")])
    except wedit.EditError as exc:
        raise Decline(str(exc)) from None

    runners = ", ".join(f"{p} on `{arm if native_on_arm64(p) else versions.runner('x64')}`"
                        + (" (QEMU)" if p in emulated else "") for p in platforms)
    summary = [f"`{workflow.path}` job `{job_id}` now calls Docker's reusable workflow `{workflow_file}` "
               f"({pin.version}, pinned to its commit), which builds each platform on its own runner ({runners}), "
               "pushes by digest and merges the multi-platform image.",
               f"Its inputs come from the {'bake' if build.kind == 'bake-action' else 'build'} and metadata steps ("
               + ", ".join(f"`{k}`" for k in with_) + ")"
               + (", the logins became its `registry-auths` secret" if auths else "")
               + "; the job grants what the workflow documents: "
               + ", ".join(f"`{k}: {v}`" for k, v in permissions.items()) + "."]
    if dropped:
        summary.append("A reusable workflow call cannot keep " + ", ".join(f"`{k}`" for k in dropped)
                       + "; github-builder sets its own limits.")
    notes = [arm_runner_note(s) + " Each platform is its own job in the reusable workflow.",
             "The build runs from the Git context of the commit (github-builder checks out nothing else): files "
             "generated by earlier steps of the old job are not in it.",
             "github-builder signs its provenance attestations with GitHub OIDC (`id-token: write`) and its "
             "release is pinned by commit; Dependabot or `docker-build-fixer versions --refresh` moves it on."]
    if emulated:
        notes.append("Platforms without a native hosted runner stay emulated (`setup-qemu: true`): "
                     + ", ".join(emulated) + ".")
    return Change("github-builder", {workflow.path: result.doc.text}, summary, notes, emulated=emulated)

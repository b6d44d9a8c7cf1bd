"""``native-runners`` and ``platform-matrix`` for a ``docker/bake-action`` build.

Docker's bake variant of "Distribute build across multiple runners": one leg per platform, each
running bake with ``set: *.platform=<leg>`` and ``*.output=type=image,...,push-by-digest=true``,
reading the digest from bake-action's ``metadata`` output and uploading it; the merge job (the
same as for docker/build-push-action) creates the image with the original tags.

Only what the workflow states is used: the platforms from a ``*.platform=`` line of ``set:``, a
single target (``targets:``, or bake's ``default``), and the tags from ``*.tags=`` lines or from a
docker/metadata-action step whose bake file is in ``files:``. Platforms or tags kept in the bake
file itself are declined with a reason.
"""

from __future__ import annotations

import re

from ..validate import ValidationError
from ..workflows import edit as wedit
from ..workflows.model import BAKE, SETUP_QEMU, Build, Workflow, reusable_call
from ..workflows.yamldoc import plain
from .base import Change, Decline, Situation
from .references import image_names, moved_steps, refers
from .images import Image, Tags
from .merge_job import insert_after_key, merge_job, merged_tags
from .restructure import (METADATA, _change, _dependents, _digest_steps, _drop_step, _image_name, _legs,
                          _metadata_tags, _push, _scoped_cache, _unique_id)

_SET_LINE = re.compile(r"^(?P<target>[\w*.-]+?)\.(?P<attr>[\w-]+)=(?P<value>.*)$")
_BAKE_FILE = re.compile(r"\$\{\{\s*steps\.([\w-]+)\.outputs\.bake-file(?:-tags)?\s*\}\}")


def _set_lines(build: Build) -> list[tuple[str, str, str, str]]:
    """(line, target, attribute, value) for each line of the step's ``set:``."""
    out = []
    for line in (build.step.input("set") or "").split("\n"):
        if not line.strip():
            continue
        m = _SET_LINE.match(line.strip())
        if m is None:
            raise Decline(f"the bake step's `set:` line `{line.strip()}` is not `<target>.<attribute>=<value>`")
        out.append((line.strip(), m.group("target"), m.group("attr"), m.group("value")))
    return out


def _target(build: Build) -> str:
    targets = [t for t in re.split(r"[\s,]+", build.step.input("targets") or "") if t]
    if len(targets) > 1:
        raise Decline(f"the bake step builds {len(targets)} targets ({', '.join(targets)}); splitting several "
                      "targets per platform needs a merge for each image, which is not done automatically")
    return targets[0] if targets else "default"


def _platforms(sets: list[tuple[str, str, str, str]], target: str) -> list[str]:
    found = [v for _, t, a, v in sets if a == "platform" and t in ("*", target)]
    if not found:
        raise Decline("the bake step's platforms are in the bake file, not in its `set:` lines; the bake file "
                      "is not read")
    if "${{" in found[-1]:
        raise Decline(f"the bake step's platforms (`{found[-1]}`) are computed at run time")
    return [p.strip() for p in found[-1].split(",") if p.strip()]


def _bake_tags(workflow: Workflow, build: Build, sets: list, target: str) -> Tags:
    literal = [t.strip() for _, tg, a, v in sets if a == "tags" and tg in ("*", target) for t in v.split(",")
               if t.strip()]
    metas = _BAKE_FILE.findall(build.step.input("files") or "")
    if literal and metas:
        raise Decline("the bake step sets `*.tags` and reads the metadata step's bake file; which tags win is "
                      "not decided automatically")
    if metas:
        return _metadata_tags(workflow, build, metas[0])
    if not literal:
        raise Decline("the bake step's tags are in the bake file, not in its `set:` lines or a "
                      f"{METADATA} step; the bake file is not read")
    if any("${{" in t for t in literal):
        raise Decline("the bake step's tags are computed at run time")
    return Tags(list(dict.fromkeys(_image_name(t) for t in literal)), literal, None, [])


def _new_set(sets: list, names: list[str], push: str | None, job_id: str) -> str:
    """The leg's ``set:``: its platform, push by digest, its own cache; other lines as they were."""
    lines = []
    for line, target, attr, value in sets:
        if attr in ("platform", "tags", "output"):
            continue
        if attr in ("cache-from", "cache-to"):
            line = f"{target}.{attr}={_scoped_cache(value, job_id).strip()}"
        lines.append(line)
    lines.append("*.platform=${{ matrix.platform }}")
    if push is not None:
        name = f'"name={",".join(names)}"'
        lines.append(f"*.output=type=image,{name},push-by-digest=true,name-canonical=true,push={push}")
    return "\n".join(lines) + "\n"


def _check(result: Workflow, job_id: str, merge_id: str | None, tags: Tags | None) -> None:
    job = plain(result.jobs[job_id])
    bakes = [s for s in job["steps"] if str(s.get("uses", "")).startswith(BAKE)]
    sets = str(bakes[0].get("with", {}).get("set", "")) if len(bakes) == 1 else ""
    if "*.platform=${{ matrix.platform }}" not in sets.split("\n"):
        raise ValidationError("the bake step does not build the leg's platform")
    if merge_id is None:
        return
    if "*.tags=" in sets or "push-by-digest=true" not in sets:
        raise ValidationError("a leg pushes a tag instead of a digest")
    if tags.meta is None and merged_tags(plain(result.jobs[merge_id])) != tags.literal:
        raise ValidationError("the merge job's tags differ from the original's")


def split_bake(s: Situation, mode: str) -> Change:
    workflow, build = s.require_workflow()
    job_id = build.job_id
    job = workflow.jobs[job_id]
    if reusable_call(job):
        raise Decline(f"job `{job_id}` calls another workflow; the build is not in this file")
    if [b for b in workflow.builds if b.job_id == job_id and b is not build]:
        raise Decline(f"job `{job_id}` has several build steps; splitting them per platform needs a merge for "
                      "each image, which is not done automatically")
    if "strategy" in job:
        raise Decline(f"job `{job_id}` already has a `strategy`; a bake build is split per platform only in a job "
                      "without one")
    if build.load:
        raise Decline("the bake step loads the image into the job (`load: true`)")
    target = _target(build)
    sets = _set_lines(build)
    if any(a == "output" for _, _, a, _ in sets):
        raise Decline("the bake step sets its own `*.output`, which a per-platform build would replace")
    platforms = _platforms(sets, target)
    if len(platforms) < 2:
        raise Decline("the build has a single platform")
    legs = _legs(s, workflow, build, platforms, mode)
    pushes, condition = _push(build)
    tags = _bake_tags(workflow, build, sets, target) if pushes else None

    doc = workflow.doc
    steps = workflow.steps(job_id)
    step_ids = {str(st.node.get("id")) for st in steps if st.node.get("id")}
    build_id = str(build.step.node.get("id") or _unique_id(step_ids, "bake"))
    merge_id = _unique_id(set(workflow.jobs), "merge") if pushes else None
    unit, dash = doc.indent_unit(), wedit.dash_offset(doc)
    key_col = doc.start(("jobs", job_id, next(iter(job))))[1]
    steps_line, steps_col = doc.start(build.step.path)
    step_dash = doc._dash(steps_line, steps_col)
    b = build.step.index
    names = image_names(workflow.root.get("env"), job.get("env"), tags.names) if pushes else ()
    moved = moved_steps(steps, b, build_id, tags.meta, tuple(tags.computing), names) if pushes else []
    if "outputs" in job and any(refers(job["outputs"], f"steps.{i}.") for i in
                                {build_id} | {str(st.node.get("id")) for st in moved}):
        raise Decline(f"job `{job_id}`'s outputs read the bake step, which would move to the merge job")
    push_value = f"${{{{ {condition} }}}}" if condition else "true"
    edits: list[wedit.Edit] = []
    if pushes:
        edits += merge_job(workflow, job_id, merge_id, [Image(build_id, tags, condition)], moved, False, unit, dash,
                           {}, key_col, step_dash, steps_col)
        edits += _dependents(workflow, job_id, merge_id, False)
        for st in reversed(moved):
            edits.append(wedit.remove_entry(st.path, _drop_step(job_id, st.index), f"move step {st.index + 1}"))
        # bake-action's metadata is keyed by target.
        digest = f"${{{{ fromJSON(steps.{build_id}.outputs.metadata)['{target}']['containerimage.digest'] }}}}"
        edits += _digest_steps(workflow, job_id, b, len(steps) - len(moved), condition, digest, f"digests-{job_id}-")

    with_path = build.step.path + ("with",)
    new_set = _new_set(sets, tags.names if tags else [], push_value if pushes else None, job_id)
    set_col = doc.start(with_path + ("set",))[1]

    def expect_set(data: dict) -> None:
        data["jobs"][job_id]["steps"][b]["with"]["set"] = new_set

    # Written as a literal block, one override a line, as bake-action's documentation does.
    edits.append(wedit.replace_entry(with_path + ("set",), lambda d: wedit.block_lines("set", new_set, set_col, unit, dash),
                                     expect_set, "build the leg's platform"))
    if pushes and build.step.input("push") is not None:
        edits.append(wedit.remove_key(with_path, "push"))
    if "id" not in build.step.node:
        edits.append(wedit.set_key(build.step.path, "id", build_id,
                                   after="name" if "name" in build.step.node else "uses", describe="name the bake step"))
    qemu_steps = [st for st in steps[:b] if st.action == SETUP_QEMU]
    if mode == "native-runners" and qemu_steps:
        if not any(leg.qemu for leg in legs):
            for st in reversed(qemu_steps):
                edits.append(wedit.remove_entry(st.path, _drop_step(job_id, st.index), "remove QEMU"))
        else:
            for st in qemu_steps:
                if st.node.get("if"):
                    raise Decline("the QEMU step has its own `if:`")
                edits.append(wedit.set_key(st.path, "if", "${{ matrix.qemu }}",
                                           after="name" if "name" in st.node else "uses",
                                           describe="set up QEMU on emulated legs"))
    include = [{"platform": leg.platform, "pair": leg.pair} | ({"runner": leg.runner} if mode == "native-runners" else {})
               | ({"qemu": True} if mode == "native-runners" and leg.qemu else {}) for leg in legs]
    strategy = {"fail-fast": False, "matrix": {"include": include}}
    anchor = "runs-on" if "runs-on" in job else next(iter(job))
    edits.append(wedit.insert_block_after(
        ("jobs", job_id, anchor), lambda d: wedit.block_lines("strategy", strategy, key_col, unit, dash),
        lambda data: insert_after_key(data["jobs"][job_id], anchor, "strategy", strategy), "one leg per platform"))
    if mode == "native-runners":
        edits.append(wedit.set_value(("jobs", job_id, "runs-on"), "${{ matrix.runner }}",
                                     "run each leg on its platform's runner", keep_comment=False))
    try:
        result = wedit.apply(workflow, edits)
        _check(result, job_id, merge_id, tags)
    except (wedit.EditError, ValidationError) as exc:
        raise Decline(str(exc)) from None
    return _change(s, mode, workflow, job_id, merge_id, legs, tags, condition, moved, result)

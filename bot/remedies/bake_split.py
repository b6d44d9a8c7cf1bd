"""``native-runners`` and ``platform-matrix`` for a ``docker/bake-action`` build.

Docker's bake variant of "Distribute build across multiple runners": one leg per platform, each
running bake with ``set: *.platform=<leg>`` and ``*.output=type=image,...,push-by-digest=true``,
reading the digest from bake-action's ``metadata`` output and uploading it; the merge job (the
same as for docker/build-push-action) creates the image with the original tags.

The step's target, platforms and tags come from its ``set:`` lines where they are there, else
from its bake files as bake resolves them (``bot/bake``: ``targets:`` or the ``default`` group,
``inherits``, variables), and the tags from ``*.tags=`` lines, a docker/metadata-action step whose
bake file is in ``files:``, or the target's literal ``tags``. Anything computed, several targets,
and targets that write their result into the workspace are declined with a reason.
"""

from __future__ import annotations

import re
from dataclasses import replace

from ..bake import BakeError, BakeTarget, read_step
from ..bake.step import META_TARGET, matrix_platforms, set_lines
from ..validate import ValidationError
from ..workflows import edit as wedit
from ..workflows.model import BAKE, Build, Workflow
from ..workflows.yamldoc import plain
from . import matrix_axes
from .base import Change, Decline, Situation
from . import leg_steps
from .references import image_names, moved_steps, refers
from . import merge_condition
from .images import Image, Tags, other_suffix
from .merge_job import merge_job, merged_tags
from .restructure import (METADATA, _change, _dependents, _digest_steps, _drop_step, _image_name, _leg_edits, _legs,
                          _matrix_key, _metadata_tags, _other_axes, _push, _qemu_edits, _runners_in_place,
                          _scoped_cache, _unique_id)

_BAKE_FILE = re.compile(r"\$\{\{\s*steps\.([\w-]+)\.outputs\.bake-file(?:-tags)?\s*\}\}")
# Outputs that leave nothing in the job's workspace for later steps to read.
_NO_LOCAL_RESULT = re.compile(r"^(?:type=(?:image|registry|cacheonly|docker)\b)")


def _only_target(s: Situation, workflow: Workflow, build: Build) -> BakeTarget:
    """The one target the step builds, as its bake files and ``set:`` lines define it."""
    targets = [t for t in re.split(r"[\s,]+", build.step.input("targets") or "") if t]
    if len(targets) > 1:
        raise Decline(f"the bake step builds {len(targets)} targets ({', '.join(targets)}); splitting several "
                      "targets per platform needs a merge for each image, which is not done automatically")
    try:
        view = read_step(workflow, build, s.bake_files, s.repo_files)
    except BakeError as exc:
        # The workflow alone may say enough: a `*.platform=` line and one named target.
        sets = set_lines(build)
        found = [v for _, t, a, v in sets if a == "platform" and t in ("*", *targets)]
        if not found:
            raise Decline(f"the bake step's platforms are not in its `set:` lines, and its bake file cannot be "
                          f"read: {exc}") from None
        if "${{" in found[-1]:
            raise Decline(f"the bake step's platforms (`{found[-1]}`) are computed at run time") from None
        return BakeTarget(targets[0] if targets else "default", [p.strip() for p in found[-1].split(",") if p.strip()],
                          None, None, unread=str(exc))
    if len(view.targets) > 1:
        names = ", ".join(t.name for t in view.targets)
        raise Decline(f"the bake step builds {len(view.targets)} targets ({names}); splitting several targets per "
                      "platform needs a merge for each image, which is not done automatically")
    target = view.targets[0]
    local = [o for o in target.output if not _NO_LOCAL_RESULT.match(o.replace(" ", ""))]
    if local:
        raise Decline(f"bake target `{target.name}` writes its result to `{local[0]}` in the job's workspace; "
                      "legs on other runners would each hold one platform's part of it")
    return target


def _bake_tags(workflow: Workflow, build: Build, sets: list, target: BakeTarget) -> Tags:
    literal = [t.strip() for _, tg, a, v in sets if a == "tags" and tg in ("*", target.name) for t in v.split(",")
               if t.strip()]
    metas = _BAKE_FILE.findall(build.step.input("files") or "")
    if literal and metas:
        raise Decline("the bake step sets `*.tags` and reads the metadata step's bake file; which tags win is "
                      "not decided automatically")
    if metas and (target.unread or _inherits_meta(workflow, build, metas[0], target)):
        return _metadata_tags(workflow, build, metas[0])
    if not literal and target.unread:
        raise Decline(f"the bake step's tags are not in its `set:` lines or a {METADATA} step, and its bake file "
                      f"cannot be read: {target.unread}")
    if not literal and target.tags_unknown:
        raise Decline(f"the tags of bake target `{target.name}` are not known before the run: {target.tags_unknown}")
    literal = literal or list(target.tags or [])
    if not literal:
        raise Decline(f"the bake step pushes bake target `{target.name}`, which has no tags in its bake file, its "
                      f"`set:` lines or a {METADATA} step")
    if any("${{" in t for t in literal):
        raise Decline("the bake step's tags are computed at run time")
    return Tags(list(dict.fromkeys(_image_name(t) for t in literal)), literal, None, [])


def _inherits_meta(workflow: Workflow, build: Build, step_id: str, target: BakeTarget) -> bool:
    """Does the target take the metadata step's tags (it inherits that step's bake target)?"""
    meta = next((st for st in workflow.steps(build.job_id) if st.node.get("id") == step_id), None)
    name = ((meta.input("bake-target") if meta is not None else None) or META_TARGET).strip()
    return name in target.inherits or name == target.name


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


def _set_edit(doc, build: Build, new_set: str, unit: int, dash: int) -> wedit.Edit:
    """The step's ``set:`` replaced (or added) as a literal block, one override a line, as
    bake-action's documentation writes it."""
    job_id, b = build.job_id, build.step.index
    with_path = build.step.path + ("with",)
    with_ = build.step.with_

    def expect(data: dict) -> None:
        step = data["jobs"][job_id]["steps"][b]
        step.setdefault("with", {})["set"] = new_set

    if with_ is not None and "set" in with_:
        col = doc.start(with_path + ("set",))[1]
        return wedit.replace_entry(with_path + ("set",), lambda d: wedit.block_lines("set", new_set, col, unit, dash),
                                   expect, "build the leg's platform")
    if with_ is not None and with_ and not with_.fa.flow_style():
        last = list(with_.keys())[-1]
        col = doc.start(with_path + (last,))[1]
        return wedit.insert_block_after(with_path + (last,), lambda d: wedit.block_lines("set", new_set, col, unit, dash),
                                        expect, "build the leg's platform")
    if "with" in build.step.node:
        raise Decline("the bake step's `with:` is empty or a flow mapping; its `set:` is not added automatically")
    last = list(build.step.node.keys())[-1]
    col = doc.start(build.step.path + (last,))[1]
    return wedit.insert_block_after(build.step.path + (last,),
                                    lambda d: wedit.block_lines("with", {"set": new_set}, col, unit, dash),
                                    expect, "build the leg's platform")


def _check(result: Workflow, job_id: str, merge_id: str | None, tags: Tags | None, sides: int = 0) -> None:
    job = plain(result.jobs[job_id])
    bakes = [s for s in job["steps"] if str(s.get("uses", "")).startswith(BAKE)]
    legs = [b for b in bakes if "*.platform=${{ matrix.platform }}" in str(b.get("with", {}).get("set", "")).split("\n")]
    single = [b for b in bakes if b not in legs]
    if len(legs) != 1 or len(single) != sides or any("matrix.platform ==" not in str(b.get("if", "")) for b in single):
        raise ValidationError("the bake step does not build the leg's platform")
    sets = str(legs[0].get("with", {}).get("set", ""))
    if merge_id is None:
        return
    if "*.tags=" in sets or "push-by-digest=true" not in sets:
        raise ValidationError("a leg pushes a tag instead of a digest")
    if tags.meta is None and merged_tags(plain(result.jobs[merge_id])) != tags.literal:
        raise ValidationError("the merge job's tags differ from the original's")


def _per_platform_matrix(s: Situation, workflow: Workflow, build: Build, sets: list, platforms: list[str],
                         mode: str) -> Change:
    """A matrix that already builds one platform per leg: right when the legs push by digest (or
    push nothing); then only their runners can change."""
    key = _matrix_key(build)
    outputs = [v for _, _, a, v in sets if a == "output"]
    by_digest = any("push-by-digest=true" in v.replace(" ", "") for v in outputs)
    if _push(build)[0] and not by_digest:
        raise Decline(f"job `{build.job_id}` already builds one platform per leg (`matrix.{key}`), but each leg "
                      "pushes the same tags, so the last one wins; rewriting it to push by digest is not done "
                      "automatically")
    return _runners_in_place(s, workflow, replace(build, platforms=platforms, matrix_platform=True), mode)


def split_bake(s: Situation, mode: str) -> Change:
    workflow, build = s.require_workflow()
    job_id = build.job_id
    job = workflow.jobs[job_id]  # not a reusable call: _restructure, which hands bake steps here, declines those
    sides: list[tuple[Build, str | None]] = []  # single-platform test builds: one leg each (leg_steps)
    for other in (b for b in workflow.builds if b.job_id == job_id and b is not build):
        if other.kind != "bake-action":
            raise Decline(f"job `{job_id}` has several build steps; splitting them per platform needs a merge for "
                          "each image, which is not done automatically")
        sides.append((other, leg_steps.bake_side_platform(workflow, other, s.bake_files, s.repo_files)))
    if build.load:
        raise Decline("the bake step loads the image into the job (`load: true`)")
    try:
        sets = set_lines(build)
    except BakeError as exc:
        raise Decline(str(exc)) from None
    strategy = job.get("strategy")
    matrix = strategy.get("matrix") if isinstance(strategy, dict) else None
    if strategy is not None and not isinstance(matrix, dict):
        raise Decline(f"job `{job_id}` has a `strategy` without a matrix this app can extend")
    other: dict[str, list] = {}  # another dimension of the matrix: one merged image per value
    if matrix is not None:
        per_platform = matrix_platforms(build, sets)
        if per_platform:
            return _per_platform_matrix(s, workflow, build, sets, per_platform, mode)
        other = _other_axes(job_id, matrix)
    if any(a == "output" for _, _, a, _ in sets):
        raise Decline("the bake step sets its own `*.output`, which a per-platform build would replace")
    target = _only_target(s, workflow, build)
    platforms = target.platforms or []
    if len(platforms) < 2:
        raise Decline("the build has a single platform")
    legs = _legs(s, workflow, build, platforms, mode)
    pushes, condition = _push(build)
    if other and condition and "matrix." in condition:
        raise Decline(f"the push condition `{condition}` reads the matrix, which a merge job's `if:` cannot")
    tags = _bake_tags(workflow, build, sets, target) if pushes else None
    if other and tags is not None and not refers(plain(tags.meta.node) if tags.meta is not None else tags.literal,
                                                 "matrix."):
        raise Decline(f"job `{job_id}` builds one image per {', '.join(other)}, all with the same tags; one merged "
                      "image per value would overwrite the others")
    legs_suffix = other_suffix(matrix_axes.named(other))

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
    moved = moved_steps(steps, b, build_id, tags.meta, tuple(tags.computing), names, tuple(other)) if pushes else []
    if "outputs" in job and any(refers(job["outputs"], f"steps.{i}.") for i in
                                {build_id} | {str(st.node.get("id")) for st in moved}):
        raise Decline(f"job `{job_id}`'s outputs read the bake step, which would move to the merge job")
    push_value = f"${{{{ {condition} }}}}" if condition else "true"
    edits: list[wedit.Edit] = []
    side_plans = [leg_steps.plan(workflow, other, platform or leg_steps.runner_platform(job),
                                 [leg.platform for leg in legs], [build], moved, names) for other, platform in sides]
    for side in side_plans:  # first: no step has moved yet
        edits += leg_steps.condition_edits(side.steps, f"matrix.platform == '{side.platform}'")
    if pushes:
        image = Image(build_id, tags, condition)
        pushed = merge_condition.pass_on(workflow, job_id, [image], build.step.index)
        edits += merge_job(workflow, job_id, merge_id, [image], moved, False, unit, dash,
                           other, key_col, step_dash, steps_col, passed=pushed)
        edits += merge_condition.output_edits(pushed, False)
        edits += _dependents(workflow, job_id, merge_id, False)
        for st in reversed(moved):
            edits.append(wedit.remove_entry(st.path, _drop_step(job_id, st.index), f"move step {st.index + 1}"))
        # bake-action's metadata is keyed by target.
        digest = f"${{{{ fromJSON(steps.{build_id}.outputs.metadata)['{target.name}']['containerimage.digest'] }}}}"
        edits += _digest_steps(workflow, job_id, b, len(steps) - len(moved), condition, digest,
                               f"digests-{job_id}-{legs_suffix}")

    with_path = build.step.path + ("with",)
    new_set = _new_set(sets, tags.names if tags else [], push_value if pushes else None, job_id)
    edits.append(_set_edit(doc, build, new_set, unit, dash))
    if pushes and build.step.input("push") is not None:
        edits.append(wedit.remove_key(with_path, "push"))
    if "id" not in build.step.node:
        edits.append(wedit.set_key(build.step.path, "id", build_id,
                                   after="name" if "name" in build.step.node else "uses", describe="name the bake step"))
    edits += _qemu_edits(steps[:b], job_id, legs, mode)
    edits += _leg_edits(workflow, job_id, legs, mode, {}, other, key_col, unit, dash)
    try:
        result = wedit.apply(workflow, edits)
        _check(result, job_id, merge_id, tags, len(sides))
    except (wedit.EditError, ValidationError) as exc:
        raise Decline(str(exc)) from None
    change = _change(s, mode, workflow, job_id, merge_id, legs, tags, condition, moved, result)
    change.notes += leg_steps.side_note(side_plans)
    return change

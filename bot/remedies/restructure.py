"""``native-runners`` and ``platform-matrix``: one job per platform, push by digest, merge.

Follows Docker's "Distribute build across multiple runners": each leg of a matrix builds one
platform and, where the original pushed, pushes it by digest and uploads the digest; a merge
job downloads the digests and creates the multi-platform image with exactly the original tags.
A matrix whose legs push the same tag would overwrite itself (docker/build-push-action#671).

A job that builds several images has each leg run every build step for its platform, each
pushing build upload its digest to an artifact of its own, and the merge job create each image
(images.py, merge_job.py).

The job is rewritten with the same splice edits as every other remedy (each checked against
the intended data change); steps that move to the merge job are copied as written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .. import versions
from ..validate import ValidationError
from ..workflows import edit as wedit
from ..workflows.model import BAKE, BUILD_PUSH, SETUP_QEMU, Build, StepRef, Workflow, canonical_platform, reusable_call
from ..workflows.yamldoc import Doc, comment_of, plain
from . import build_outputs, check_builds, image_free, leg_steps, matrix_axes, merge_condition
from . import images as multi
from .base import Change, Decline, Situation
from .images import Image, Tags
from .merge_job import DEFAULT_X64, insert_after_key, merge_job, merged_tags
from .references import copied_ids, image_names, kept_matrix_keys, moved_steps, refers, resolvable
from .runners import arm_runner_note, native_on_arm64, x64_runner

__all__ = ["Tags", "merged_tags", "native_runners", "platform_matrix"]

METADATA = "docker/metadata-action"
NATIVE_ON_X64 = {"linux/amd64", "linux/386"}
_EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
# Expression contexts that mean the same in the merge job as in the build job.
ANYWHERE_CONTEXTS = {"github", "env", "vars", "inputs", "secrets", "needs"}


@dataclass
class Leg:
    platform: str
    runner: Any  # a label, or the original runs-on value
    qemu: bool

    @property
    def pair(self) -> str:
        return self.platform.replace("/", "-")


def _legs(s: Situation, workflow: Workflow, build: Build, platforms: list[str], mode: str) -> list[Leg]:
    runs_on = workflow.jobs[build.job_id].get("runs-on")
    if mode == "platform-matrix":
        return [Leg(p, runs_on, canonical_platform(p) not in NATIVE_ON_X64) for p in platforms]
    arm = s.config.arm_label(s.ghes)
    if arm is None:
        raise Decline("native Arm runners are not available: GitHub Enterprise Server has no hosted Arm runners "
                      "and the config names no `arm-runner`")
    if not any(native_on_arm64(p) for p in platforms):
        raise Decline(f"none of the platforms ({', '.join(platforms)}) has a native hosted runner besides x64")
    x64 = x64_runner(runs_on)
    return [Leg(p, arm if native_on_arm64(p) else x64, canonical_platform(p) not in NATIVE_ON_X64 and not native_on_arm64(p))
            for p in platforms]


def _image_name(tag: str) -> str:
    tag = tag.split("@", 1)[0]
    last = tag.rsplit("/", 1)[-1]
    return tag[:tag.rfind(":")] if ":" in last else tag


def _tags(workflow: Workflow, build: Build, matrix_ok: bool = False, other: dict | None = None,
          raw: str | None = None) -> Tags:
    """The tags of the build (``raw``: as a shell build's `-t` words say them, comma-separated)."""
    from . import runtime_tags  # imported here: it builds on this module's helpers
    raw = build.step.input("tags") if raw is None else raw
    try:
        tags = _static_tags(workflow, build, matrix_ok, raw)
    except runtime_tags.ComputedTags:
        return runtime_tags.computed_tags(workflow, build, matrix_ok, other or {}, raw)
    if tags.computing:
        return runtime_tags.passed_on(workflow, build, tags, other or {})
    return tags


def _static_tags(workflow: Workflow, build: Build, matrix_ok: bool, raw: str | None) -> Tags:
    from .runtime_tags import ComputedTags
    if raw is None:
        raise Decline("the build pushes without `tags`, so there is no name for the merged image")
    # A tag list a step computes as a whole (a script's output, not a metadata step's): runtime_tags.
    m = re.fullmatch(r"\$\{\{\s*steps\.([\w-]+)\.outputs\.tags\s*\}\}", raw.strip())
    if m:
        return _metadata_tags(workflow, build, m.group(1))
    contexts = {c for expr in _EXPR.findall(raw) for c in re.findall(r"(?<![\w.-])([a-z_]+)\.", expr)}
    allowed = ANYWHERE_CONTEXTS | {"steps"} | ({"matrix"} if matrix_ok else set())
    if contexts - allowed or any("," in expr for expr in _EXPR.findall(raw)):
        raise ComputedTags(f"the tags are computed by this job at run time (`{raw.strip()}`)")
    literal = [t.strip() for t in re.split(r"[,\n]", raw) if t.strip()]
    from_matrix = matrix_axes.tags_from_matrix(workflow.jobs[build.job_id], literal, _image_name)
    if from_matrix:
        raise ComputedTags(from_matrix)
    try:
        names = list(dict.fromkeys(_tag_image_name(workflow, build.job_id, t) for t in literal))
    except Decline as exc:
        # A tag a step computes, or writes to $GITHUB_ENV, as a whole: the legs derive the names
        # (runtime_tags), or it declines there, saying which value the merge job cannot know.
        if re.search(r"(?<![\w.-])(?:steps|env)\.", raw):
            raise ComputedTags(str(exc)) from None
        raise
    if any("steps." in n for n in names):
        raise ComputedTags("the image names depend on other steps of the job")
    return Tags(names, literal, None, _computing_steps(workflow, build, raw))


_ENV_EXPR = re.compile(r"\$\{\{\s*env\.([A-Za-z_][\w-]*)\s*\}\}")


def _tag_image_name(workflow: Workflow, job_id: str, tag: str) -> str:
    """The image name of one tag, which the legs push their digests to. A tag that is an
    expression as a whole (``${{ env.IMAGE }}``) may hold its own ``:tag`` at run time, and a
    tagged name cannot be pushed by digest: the value is read from the workflow's or the job's
    `env:`; one set at run time is declined."""
    name = _image_name(tag)
    if name != tag.split("@", 1)[0]:
        return name  # the tag is written after a literal `:`
    resolved = _ENV_EXPR.sub(lambda m: workflow.env_value(m.group(1), job_id)[0] or m.group(0), tag)
    unknown = any(re.search(r"(?<![\w.-])(?:env|steps)\.", expr) for expr in _EXPR.findall(resolved))
    shape = _EXPR.sub("x", resolved)
    if unknown or ("${{" in resolved and _image_name(shape) != shape):
        raise Decline(f"the tag `{tag}` is computed at run time as a whole, so the image name the legs would "
                      "push by digest is not known (a name with a tag cannot be pushed by digest)")
    return _image_name(resolved) if _image_name(resolved) != resolved else name


def _metadata_tags(workflow: Workflow, build: Build, step_id: str) -> Tags:
    """The tags of docker/metadata-action step ``step_id``: the merge job repeats it."""
    from .runtime_tags import ComputedTags
    meta = next((st for st in workflow.steps(build.job_id) if st.node.get("id") == step_id), None)
    if meta is None or meta.action != METADATA or not meta.input("images"):
        raise ComputedTags(f"the tags come from step `{step_id}`, which is not a docker/metadata-action step "
                           "with `images`")
    names = []
    for item in _image_items(meta.input("images")):
        fields = _image_fields(item)
        if fields.get("enable", "true").strip() != "false":
            names.append(fields["name"].strip())
    if any("steps." in n for n in names):
        raise ComputedTags("the image names depend on other steps of the job")
    return Tags(names, [], meta, _computing_steps(workflow, build, plain(meta.node)))


def _other_axes(job_id: str, matrix: Any) -> dict[str, list]:
    """A matrix over something else (Node versions, image variants): the platform becomes one
    more dimension (matrix_axes: plain lists as they are, `include`/`exclude` exactly)."""
    return matrix_axes.other_axes(job_id, matrix)


def _computing_steps(workflow: Workflow, build: Build, node: Any) -> list[StepRef]:
    """The steps before the build whose outputs ``node`` reads (and the steps those read), for the
    merge job to repeat. Declined when one of them is or reads the build, or comes after it."""
    steps = workflow.steps(build.job_id)
    by_id = {str(st.node.get("id")): st for st in steps if st.node.get("id") is not None}
    build_id = build.step.node.get("id")
    # `env.X` that neither the workflow nor the job sets is written to $GITHUB_ENV by a step: the
    # merge job, a job of its own, has it only when it repeats that step.
    known = {str(k) for scope in (workflow.root.get("env"), workflow.jobs[build.job_id].get("env"))
             if isinstance(scope, dict) for k in scope}
    found: dict[int, StepRef] = {}
    pending = [node]
    while pending:
        item = pending.pop()
        text = str(plain(item))
        for ref in re.findall(r"steps\.([A-Za-z_][\w-]*)\.", text):
            step = by_id.get(ref)
            if step is None or ref == build_id or step.index >= build.step.index:
                raise Decline(f"the tags depend on step `{ref}`, which is not a step before the build")
            if step.action in (BUILD_PUSH, BAKE) or step.index in found:
                continue
            found[step.index] = step
            pending.append(step.node)
        own = {str(k) for k in item.get("env") or {}} if isinstance(item, dict) and isinstance(item.get("env"), dict) \
            else set()
        for name in sorted(set(re.findall(r"(?<![\w.-])env\.([A-Za-z_][\w-]*)", text)) - known - own):
            writers = [st for st in steps[:build.step.index] if _writes_env(st, name)]
            if not writers:
                raise Decline(f"the tags read `env.{name}`, which neither the workflow's nor the job's `env:` sets "
                              "(it is set at run time), so the merge job cannot know it")
            for step in writers:
                if step.index not in found:
                    found[step.index] = step
                    pending.append(step.node)
        from .runtime_tags import env_writers_of
        for step in env_writers_of(workflow, build, text):  # also `$X` a repeated script reads
            if step.index not in found:
                found[step.index] = step
                pending.append(step.node)
    # (A step that needs a tool a fresh runner lacks is not repeated: runtime_tags.variant passes
    # its value on as a job output instead.)
    return sorted(found.values(), key=lambda st: st.index)


_SHELL_WORDS = {"if", "then", "else", "elif", "fi", "for", "in", "do", "done", "while", "until", "case", "esac",
                "function", "{", "}", "(", ")", "!", "time"}


def _commands(script: str) -> list[str]:
    """The commands a `run:` script runs: the first word of each pipeline part, after variable
    assignments and shell keywords (`$(...)` substitutions included)."""
    text = re.sub(r"\\\n", " ", script)
    text = re.sub(r"(?m)(^|\s)#.*$", "", text)  # comments
    text = re.sub(r"'[^']*'", "''", _EXPR.sub("x", text))  # single-quoted words and expressions run nothing
    found = []
    for part in re.split(r"\$\(|`|&&|\|\||[;|&\n]|\bthen\b|\bdo\b|\belse\b", text):
        # shell keywords and leading assignments (`VERSION="a b"`, `while IFS= read`), in any order
        while True:
            stripped = re.sub(r'^\s*(?:[A-Za-z_]\w*(?:\[[^]]*\])?\+?=(?:"[^"]*"?|\S*)\s*)+', "", part)
            words = [w for w in stripped.replace(")", " ").split() if w]
            if words and words[0] == "for":  # `for NAME in WORDS`: no command
                words = []
            if not words or words[0] not in _SHELL_WORDS:
                break
            part = stripped.lstrip()[len(words[0]):] if stripped.lstrip().startswith(words[0]) else " ".join(words[1:])
        if words and not words[0].startswith(("\"", "$", "'", ">", "<", "-")) and not words[0].isdigit():
            found.append(words[0])
    return found


def _self_contained(step: StepRef) -> None:
    """A step the merge job repeats must compute the same there: a `run:` step that runs a command
    a fresh runner lacks (`npm run`, a tool an earlier step installed) is declined."""
    script = step.node.get("run")
    if not isinstance(script, str):
        return  # an action: it brings what it runs
    missing = [c for c in _commands(script) if c not in versions.runner_commands()]
    if missing:
        raise Decline(f"step `{step.node.get('name') or step.node.get('id')}` computes the tags with `{missing[0]}`, "
                      "which a fresh runner may not have (an earlier step of the job may install it); the merge job "
                      "would repeat it without them")


def _writes_env(step: StepRef, name: str) -> bool:
    """Does the `run:` script of ``step`` write ``name`` to $GITHUB_ENV?"""
    script = str(step.node.get("run") or "")
    return "GITHUB_ENV" in script and bool(re.search(rf"(?<![\w-]){re.escape(name)}=", script))


def _image_items(images: str) -> list[str]:
    """The entries of docker/metadata-action's ``images``: one per line; a single line of bare
    names separated by commas (``a/b,ghcr.io/a/b``, the action's older format) is several; a
    line that starts with ``#`` is a comment to the action."""
    lines = [line.strip() for line in images.split("\n") if line.strip() and not line.strip().startswith("#")]
    if len(lines) != 1:
        return lines
    # Commas inside an expression (`${{ format('{0},{1}', ...) }}`) do not separate names.
    parts = [p.strip() for p in _EXPR.sub(lambda m: m.group(0).replace(",", "\0"), lines[0]).split(",")]
    parts = [p.replace("\0", ",") for p in parts if p]
    if len(parts) > 1 and not any(re.match(r"^[a-z-]+=", p) for p in parts):
        return parts
    return lines


def _image_fields(item: str) -> dict[str, str]:
    """One ``images`` entry of docker/metadata-action: ``name=...,enable=...`` or a bare name
    (which may be an expression with ``=`` and ``,`` in it)."""
    if not re.match(r"^\s*[a-z-]+=", item):
        return {"name": item}
    fields = {}
    for part in item.split(","):
        key, _, value = part.partition("=")
        fields[key.strip()] = value
    fields.setdefault("name", "")
    return fields


def _push(build: Build) -> tuple[bool, str | None]:
    """(does it push, the condition when that is an expression)."""
    raw = (build.push or "").strip()
    if not raw or raw.lower() == "false":
        return False, None
    if raw.lower() == "true":
        return True, None
    m = _EXPR.fullmatch(raw)
    if m:
        return True, _as_boolean(m.group(1))
    raise Decline(f"`push: {raw}` is neither true, false nor an expression")


# A value read as it is (`inputs.push`, `steps.x.outputs.push`, `env.PUSH`), or picked by `&&`/`||`
# between string literals (`... && 'true' || 'false'`).
_REFERENCE = re.compile(r"[A-Za-z_][\w-]*(?:\.[\w*-]+|\[[^\]]*\])*")
_PICKS_STRING = re.compile(r"(?:&&|\|\|)\s*'")


def _as_boolean(expression: str) -> str:
    """A `push:` expression as the condition of an `if:`. build-push-action reads its input as a
    boolean string (`false` is false), while an `if:` takes any non-empty string as true, `false`
    included: a value that may be a string is compared with 'true' (GitHub compares strings
    ignoring case, as the action reads `True`)."""
    expression = expression.strip()
    if _REFERENCE.fullmatch(expression) or _PICKS_STRING.search(expression):
        return f"format('{{0}}', {expression}) == 'true'"
    return expression


def _digest_steps(workflow: Workflow, job_id: str, b: int, steps_left: int, condition: str | None,
                  digest: str, artifact: str, key: str | None = None, label: str | None = None) -> list[wedit.Edit]:
    """After each leg's build (step ``b``): export the digest to a file and upload it as the
    leg's artifact (``<artifact><pair>``), which the merge job downloads. ``digest`` is the
    expression that reads it; it reaches the script through env (no expression inside `run:`).
    In a job that builds several images each has its folder (``key``) and its steps' ``label``."""
    when = [("if", f"${{{{ {condition} }}}}")] if condition else []
    folder = f"digests/{key}" if key else "digests"
    named = f" ({label})" if label else ""
    ref, release = wedit.uses(workflow, "actions/upload-artifact")
    upload = [("name", f"Upload digest{named}")] + when + [
        ("uses", ref), ("with", [("name", f"{artifact}${{{{ matrix.pair }}}}"),
                                 ("path", f"${{{{ runner.temp }}}}/{folder}/*"),
                                 ("if-no-files-found", "error"), ("retention-days", 1)])]
    export = [("name", f"Export digest{named}")] + when + [
        ("env", [("DIGEST", digest)]),
        ("run", f"mkdir -p \"$RUNNER_TEMP/{folder}\"\n"
                f"touch \"$RUNNER_TEMP/{folder}/${{DIGEST#sha256:}}\"\n")]
    upload_step = (upload, {"uses": release} if release else None)
    if b + 1 < steps_left:
        # Inserted in front of the step after the build: the last insert comes first.
        return [wedit.insert_step(workflow, job_id, b + 1, *upload_step),
                wedit.insert_step(workflow, job_id, b + 1, export)]
    return [wedit.insert_step(workflow, job_id, None, export),
            wedit.insert_step(workflow, job_id, None, *upload_step)]


def _scoped_cache(value: str, job_id: str) -> str:
    """Each leg gets its own cache: scope for gha, a ref suffix for registry caches."""
    out = []
    for line in value.split("\n"):
        entry = line.strip()
        if not entry:
            continue
        if "type=gha" in entry:
            if "scope=" in entry:
                entry = re.sub(r"scope=([^,]+)", r"scope=\1-${{ matrix.pair }}", entry)
            else:
                entry += f",scope={job_id}-${{{{ matrix.pair }}}}"
        elif "type=registry" in entry:
            entry = re.sub(r"ref=([^,]+)", r"ref=\1-${{ matrix.pair }}", entry)
        out.append(entry)
    return "\n".join(out) + ("\n" if "\n" in value.strip() else "")


def _unique_id(taken: set[str], wanted: str) -> str:
    candidate, n = wanted, 2
    while candidate in taken:
        candidate, n = f"{wanted}-{n}", n + 1
    return candidate


def _outputs(names: list[str], push: str, kept: list[str] = ()) -> str:
    """The leg's exporter; ``kept``: attributes of the build's own exporter that still apply."""
    name = f'"name={",".join(names)}"' if len(names) > 1 else f"name={names[0]}"
    extra = "".join(f',"{a}"' if any(c in a for c in ',"') else f",{a}" for a in kept)
    return f"type=image,{name},push-by-digest=true,name-canonical=true,push={push}{extra}"


def _check(workflow: Workflow, job_id: str, merge_id: str | None, legs: list[Leg], images: list[Image],
           pairs_suffix: str = "", sides: int = 0) -> None:
    """Structure of the result: one platform per leg, every build builds the leg's platform, no
    leg pushes a tag, each image's download pattern picks its own digests only, and the merge
    job makes exactly each image's original tags."""
    job = plain(workflow.jobs[job_id])
    include = matrix_axes.expand(job["strategy"]["matrix"])
    if {e["platform"] for e in include} != {leg.platform for leg in legs} or any(
            "," in e["platform"] for e in include):
        raise ValidationError("the legs do not build one platform each")
    builds = [s for s in job["steps"] if str(s.get("uses", "")).startswith(BUILD_PUSH)]
    single = [b for b in builds if (b.get("with") or {}).get("platforms") != "${{ matrix.platform }}"]
    if len(single) != sides or any("matrix.platform ==" not in str(b.get("if", "")) for b in single):
        raise ValidationError("the build step does not build the leg's platform")
    builds = [b for b in builds if b not in single]
    if not builds:
        raise ValidationError("the build step does not build the leg's platform")
    if merge_id is None:
        return
    merge = plain(workflow.jobs[merge_id])
    by_id = {b.get("id"): b for b in builds}
    ours = f"digests-{job_id}-"  # the job's other artifacts are not the digests
    uploads = [name for s in job["steps"] if str(s.get("uses", "")).startswith("actions/upload-artifact")
               for name in [str((s.get("with") or {}).get("name", ""))] if name.startswith(ours)]
    patterns = [pattern for s in merge["steps"] if str(s.get("uses", "")).startswith("actions/download-artifact")
                for pattern in [str((s.get("with") or {}).get("pattern", ""))] if pattern.startswith(ours)]
    if len(uploads) != len(images) or len(patterns) != len(images):
        raise ValidationError("each image needs one digest upload per leg and one download")
    for image, upload, pattern in zip(images, uploads, patterns):
        leg = by_id.get(image.build_id)
        if leg is None or "tags" in leg["with"] or "push-by-digest=true" not in leg["with"].get("outputs", ""):
            raise ValidationError("a leg pushes a tag instead of a digest")
        if image.tags.names_from is not None and f"steps.{image.names_id}.outputs.names" not in leg["with"]["outputs"]:
            raise ValidationError("a leg does not push to the names its tags give")
        if not upload.startswith(pattern.rstrip("*")) or any(
                other.startswith(pattern.rstrip("*")) for other in uploads if other != upload):
            raise ValidationError("a download pattern picks another image's digests")
        if image.tags.runtime is not None:
            create = next((s for s in merge["steps"] if s.get("id") == image.build_id), {})
            if (create.get("env") or {}).get("MERGED_TAGS") != image.tags.runtime:
                raise ValidationError("the merge job does not read the tags the build computes")
        elif image.tags.meta is not None:
            if not any(s.get("id") == image.tags.meta.node.get("id") for s in merge["steps"]):
                raise ValidationError("the merge job lost the metadata step that names the tags")
        elif merged_tags(merge, image.build_id if len(images) > 1 else None) != image.tags.literal:
            raise ValidationError("the merge job's tags differ from the original's")


def _by_digest(build: Build) -> bool:
    return "push-by-digest=true" in (build.step.input("outputs") or "").replace(" ", "")


def _image(workflow: Workflow, build: Build, build_id: str, push_condition: str | None, other: dict,
           exporter: build_outputs.Exporter) -> Image:
    """A pushing build as an image of the merge job: its tags, and when it pushes (its step's
    `if:` and its `push:` expression, both of which the merge job must repeat)."""
    step_if = multi.step_condition(build.step)
    multi.check_condition(step_if, build.step)
    condition = multi.both(step_if, push_condition)
    tags = _tags(workflow, build, matrix_ok=bool(other), other=other)
    tags.annotations = exporter.merge_annotations
    # The merge job repeats these steps; its matrix has only the other dimension's keys.
    for st in ([tags.meta] if tags.meta else []) + tags.computing:
        reads = sorted(set(re.findall(r"\bmatrix\.([\w-]+)", str(plain(st.node)))) - set(other))
        if reads:
            raise Decline(f"step `{st.node.get('name') or st.node.get('id') or st.uses}` names the tags from "
                          f"`matrix.{reads[0]}`, which the merge job, a job without that matrix, does not have")
    # (A condition the merge job cannot read itself is passed on by the legs: merge_condition.)
    return Image(build_id, tags, condition, None, str(build.step.node.get("name") or build_id))


def _build_edits(build: Build, build_id: str, job_id: str, image: Image | None, add_id: bool,
                 exporter: build_outputs.Exporter) -> list[wedit.Edit]:
    """The build step in a leg: the leg's platform; where it pushes, by digest (no tags); its
    own cache per leg."""
    with_path = build.step.path + ("with",)
    edits = [wedit.set_key(with_path, "platforms", "${{ matrix.platform }}", describe="build the leg's platform",
                           keep_comment=False)]
    if image is not None:
        push_value = _push(build)[1]
        edits.append(wedit.remove_key(with_path, "tags"))
        if build.step.input("push") is not None:
            edits.append(wedit.remove_key(with_path, "push"))
        from .runtime_tags import leg_outputs
        push = "true" if push_value is None or exporter.pushes else f"${{{{ {push_value} }}}}"
        edits.append(wedit.set_key(with_path, "outputs", leg_outputs(image.tags, image.names_id, push, exporter),
                                   describe="push the leg by digest"))
    for cache in ("cache-from", "cache-to"):
        value = build.step.input(cache)
        if value:
            edits.append(wedit.set_key(with_path, cache, _scoped_cache(value, job_id),
                                       describe=f"give each leg its own {cache}"))
    if add_id and "id" not in build.step.node:
        edits.append(wedit.set_key(build.step.path, "id", build_id,
                                   after="name" if "name" in build.step.node else "uses", describe="name the build step"))
    return edits


def _restructure(s: Situation, mode: str) -> Change:
    workflow, build = s.require_workflow()
    job_id = build.job_id
    job = workflow.jobs[job_id]
    if reusable_call(job):
        raise Decline(f"job `{job_id}` calls another workflow; the build is not in this file")
    if build.kind == "bake-action":
        from .bake_split import split_bake  # it builds on this module's helpers
        return split_bake(s, mode)
    if build.kind == "shell":
        from . import restructure_shell  # imported here: it builds on this module's helpers
        return restructure_shell.restructure(s, mode, workflow, build)
    if build.kind != "build-push-action":
        raise Decline(f"the build is a {build.kind} step; only docker/build-push-action, docker/bake-action and "
                      "one-command `docker buildx build` scripts are split per platform automatically")
    if not build.matrix_platform and "matrix." in str(build.step.input("platforms")) and _already_native(job, workflow):
        # (a matrix another job computes, whose runners that job's script names)
        raise Decline(f"job `{job_id}` already builds each platform on its native runner "
                      f"(`runs-on: {plain(job.get('runs-on'))}`)")
    in_job = [b for b in workflow.builds if b.job_id == job_id]
    outputs_input = build.step.input("outputs") or ""
    strategy = job.get("strategy") if isinstance(job.get("strategy"), dict) else {}
    matrix = strategy.get("matrix") if isinstance(strategy.get("matrix"), dict) else None
    other: dict[str, list] = {}  # another dimension of the matrix: one merged image per value
    if build.matrix_platform:
        # Legs that push by digest, or push nothing, are already right: only their runners can change.
        # Legs that push the same tag overwrite each other (docker/build-push-action#671): redo them.
        key = _matrix_key(build)
        if matrix_axes.per_combination(matrix, key):  # `platforms: a,b` per entry: legs per (entry, platform)
            only = len(re.findall(rf"\bmatrix\.{re.escape(key)}(?![\w-])", str(plain(job)))) == 1
            other = matrix_axes.other_axes(job_id, matrix, key, only)
            platforms = matrix_axes.union_platforms(other)
        elif _by_digest(build) or not _push(build)[0]:
            for b in in_job:
                if b.kind != "build-push-action" or not b.matrix_platform or (_push(b)[0] and not _by_digest(b)):
                    raise Decline(f"job `{job_id}` builds one platform per leg, but step `{multi.label(b.step)}` "
                                  "does not build the leg's platform by digest; only the runners of such a job are "
                                  "changed automatically")
            return _runners_in_place(s, workflow, build, mode)
        if len(in_job) > 1:
            raise Decline(f"job `{job_id}` has {len(in_job)} build steps in a per-platform matrix whose legs push "
                          "the same tags; splitting them needs a merge for each image, which is not done automatically")
        if not other:
            platforms = build.platforms
            other_axes = [k for k in matrix if k not in ("platform", "include", "exclude")] if matrix else []
            if other_axes:
                raise Decline(f"job `{job_id}` has a matrix over {', '.join(other_axes)} as well as platforms")
    else:
        if matrix:
            other = _other_axes(job_id, matrix)
        if build.platforms is None:
            raise Decline(f"the build's platforms are not known from the workflow: {build.platforms_note}")
        platforms = build.platforms
    if len(platforms) < 2:
        raise Decline("the build has a single platform")
    # The build's own `outputs` exporter: its attributes stay on the legs (build_outputs).
    own_exporter = build_outputs.exporter(outputs_input if "push-by-digest" not in outputs_input else None)
    if build.load:
        raise Decline("the build loads the image into the job (`load: true`); a per-platform job cannot also "
                      "hand it to the job's later steps")
    checks = check_builds.leg_checks(workflow.steps(job_id), build, in_job, platforms)
    others, sides = multi.others_in_job(workflow, build, frozenset(checks))
    builds = sorted([build] + others, key=lambda b: b.step.index)
    several = len(builds) > 1
    if others:  # builds of different platform lists: legs over their union (leg_steps)
        platforms = leg_steps.union(builds)
    legs = _legs(s, workflow, build, platforms, mode)
    leg_platforms = [leg.platform for leg in legs]
    leg_if = {b.step.index: leg_steps.leg_platform_condition(b.platforms or [], leg_platforms) for b in builds}

    doc = workflow.doc
    steps = workflow.steps(job_id)
    taken = {str(st.node.get("id")) for st in steps if st.node.get("id")}
    ids: dict[int, str] = {}
    for b in builds:
        ids[b.step.index] = str(b.step.node.get("id") or _unique_id(taken, "build"))
        taken.add(ids[b.step.index])
    image_of: dict[int, Image] = {}
    exporter_of = {b.step.index: own_exporter if b is build else build_outputs.exporter(None) for b in builds}
    for b in builds:
        pushes, condition = _push(b)
        if exporter_of[b.step.index].pushes:  # `type=registry` or `push=true` pushes whatever `push` says
            pushes, condition = True, None
        if not pushes:
            continue
        if other and condition and "matrix." in condition:
            raise Decline(f"the push condition `{condition}` reads the matrix, which a merge job's `if:` cannot")
        image_of[b.step.index] = _image(workflow, b, ids[b.step.index], condition, other, exporter_of[b.step.index])
    images = list(image_of.values())
    for image in images:
        if image.tags.names_from is not None:  # the legs' step that derives the names (runtime_tags)
            image.names_id = _unique_id(taken, "image-names")
            taken.add(image.names_id)
    pushed = merge_condition.pass_on(workflow, job_id, images, min(b.step.index for b in builds))
    build_at = {b.step.index: b for b in builds}
    resolved = {i: image_names(workflow.root.get("env"), job.get("env"), image.tags.names)
                + (multi.script_names(_computing_steps(workflow, build_at[i], image.tags.names_from))
                   if image.tags.names_from is not None else ())
                for i, image in image_of.items()}
    if several or sides:
        multi.check_independent(sorted(builds + sides, key=lambda b: b.step.index), resolved, {i: image.tags.meta.node.get("id") if image.tags.meta else None
                                                   for i, image in image_of.items()}, s.dockerfiles)
    if len(images) > 1:
        keys = multi.artifact_keys([image.build_id for image in images], job_id, [leg.pair for leg in legs],
                                  matrix_axes.named(other))
        for image, key in zip(images, keys):
            image.key = key
    legs_suffix = multi.other_suffix(matrix_axes.named(other))

    merge_id = _unique_id(set(workflow.jobs), "merge") if images else None
    unit = doc.indent_unit()
    dash = wedit.dash_offset(doc)
    key_col = doc.start(("jobs", job_id, next(iter(job))))[1]
    steps_line, steps_col = doc.start(build.step.path)
    step_dash = doc._dash(steps_line, steps_col)
    first = builds[0].step.index
    computing = tuple(st for image in images for st in image.tags.computing)
    metas = [image.tags.meta for image in images if image.tags.meta is not None]
    names = tuple(dict.fromkeys(n for i in image_of for n in resolved[i]))
    moved = moved_steps(steps, first, tuple(image.build_id for image in images), metas, computing, names,
                        tuple(other), tuple(b.step.index for b in builds)) if images else []
    moved_ids = {image.build_id for image in images} | {str(st.node["id"]) for st in moved if st.node.get("id")}
    from .runtime_tags import check_tag_readers, pure_script
    check_builds.check_moved(checks, moved)
    for index, image in image_of.items():
        check_tag_readers(steps, index, moved, image.tags.names_from)
    if any(image.tags.names_from is not None for image in images):
        # A step that only echoes and reshapes its environment cannot use the image; any other may,
        # by a name only known at run time.
        staying = [st for st in steps[first + 1:] if st.index not in ids and st not in moved
                   and not (st.uses is None and pure_script(str(st.node.get("run", ""))))
                   and not image_free.cannot_use_image(st)]
        if staying:
            raise Decline(f"step `{multi.label(staying[0])}` runs after a build whose image names a script computes "
                          "at run time, so whether it uses the pushed image (which exists only once the merge job "
                          "tags it) cannot be told")
    side_plans = [leg_steps.plan(workflow, sb, sb.platforms[0] if sb.platforms else leg_steps.runner_platform(job),
                                 leg_platforms, builds, moved) for sb in sides]
    for b in builds + sides:  # a build that stays in the legs cannot read a step that moved
        read = next((i for i in moved_ids - {ids.get(b.step.index)} if refers(b.step.node, f"steps.{i}.")), None)
        if read:
            raise Decline(f"step `{multi.label(b.step)}` reads `steps.{read}`, which would move to the merge job")
    outputs_moved = bool(images) and "outputs" in job and any(refers(job["outputs"], f"steps.{i}.") for i in moved_ids)
    if outputs_moved:
        resolvable(plain(job["outputs"]), "the job's outputs", moved_ids | copied_ids(steps, metas, computing))
    edits: list[wedit.Edit] = []

    if images:
        edits += merge_job(workflow, job_id, merge_id, images, moved, outputs_moved, unit, dash, other, key_col,
                           step_dash, steps_col, passed=pushed)
        edits += _dependents(workflow, job_id, merge_id, outputs_moved)
    # Steps of some legs only first, then each build step in place (their positions still hold),
    # then the steps that move go.
    for side in side_plans:
        edits += leg_steps.condition_edits(side.steps, f"matrix.platform == '{side.platform}'")
    for b in builds:
        if leg_if[b.step.index]:
            edits += leg_steps.condition_edits([b.step], leg_if[b.step.index])
    for b in builds:
        edits += _build_edits(b, ids[b.step.index], job_id, image_of.get(b.step.index),
                              add_id=b.step.index in image_of or not several, exporter=exporter_of[b.step.index])
    for index, platform in checks.items():
        edits.append(wedit.set_key(steps[index].path, "if", check_builds.condition(steps[index], platform),
                                   after="name" if "name" in steps[index].node else None,
                                   describe=f"build the local check on the {platform} leg only"))
    for st in reversed(moved):
        edits.append(wedit.remove_entry(st.path, _drop_step(job_id, st.index), f"move step {st.index + 1}"))
    # Each image's digest after its build, the last build first: earlier positions do not move.
    for b in reversed(builds):
        image = image_of.get(b.step.index)
        if image is None:
            continue
        at = b.step.index - sum(1 for st in moved if st.index < b.step.index)
        edits += _digest_steps(workflow, job_id, at, len(steps) - len(moved),
                               multi.both(image.condition, leg_if[b.step.index]),
                               f"${{{{ steps.{image.build_id}.outputs.digest }}}}",
                               multi.artifact_prefix(job_id, image.key, legs_suffix), image.key,
                               image.label if image.key else None)

    edits += _qemu_edits(steps[:first], job_id, legs, mode)

    if outputs_moved:
        edits.append(wedit.remove_entry(("jobs", job_id, "outputs"),
                                        lambda data: data["jobs"][job_id].pop("outputs"), "move the job outputs"))
    key = _matrix_key(build) if build.matrix_platform else "platform"
    kept = kept_matrix_keys(matrix, mode, key) if not isinstance(other, matrix_axes.Axes) else {}
    if len(re.findall(rf"\bmatrix\.{re.escape(key)}(?![\w-])", str(plain(job)))) == 1:
        # Only the build read the key that listed the platforms: each leg now has its own `platform`.
        kept = {p: {k: v for k, v in extra.items() if k != key} for p, extra in kept.items()}
    edits += _leg_edits(workflow, job_id, legs, mode, kept, other, key_col, unit, dash)
    from .runtime_tags import computed_tag_edits
    edits += computed_tag_edits(workflow, job_id, images, outputs_moved)
    edits += merge_condition.output_edits(pushed, outputs_moved)
    try:
        result = wedit.apply(workflow, edits)
        _check(result, job_id, merge_id, legs, images, sides=len(sides))
    except (wedit.EditError, ValidationError) as exc:
        raise Decline(str(exc)) from None
    change = _change(s, mode, workflow, job_id, merge_id, legs, None, None, moved, result, images=images)
    change.notes += leg_steps.subset_note([b for b in builds if leg_if[b.step.index]]) + leg_steps.side_note(side_plans)
    if pushed.outputs:
        change.notes.append(merge_condition.note(job_id, pushed.outputs))
    return change


def _qemu_edits(before: list[StepRef], job_id: str, legs: list[Leg], mode: str) -> list[wedit.Edit]:
    """QEMU only where a leg still emulates (native-runners); platform-matrix keeps it as it was."""
    edits: list[wedit.Edit] = []
    qemu_steps = [st for st in before if st.action == SETUP_QEMU]
    if mode != "native-runners" or not qemu_steps:
        return edits
    if not any(leg.qemu for leg in legs):
        for st in reversed(qemu_steps):
            edits.append(wedit.remove_entry(st.path, _drop_step(job_id, st.index), "remove QEMU"))
        return edits
    for st in qemu_steps:
        old = st.node.get("if")
        cond = f"${{{{ matrix.qemu && ({_EXPR.sub(lambda m: m.group(1), str(old))}) }}}}" if old else \
            "${{ matrix.qemu }}"
        edits.append(wedit.set_key(st.path, "if", cond, after="name" if "name" in st.node else "uses",
                                   describe="set up QEMU on emulated legs"))
    return edits


def _leg_edits(workflow: Workflow, job_id: str, legs: list[Leg], mode: str, kept: dict, other: dict,
               key_col: int, unit: int, dash: int) -> list[wedit.Edit]:
    """The job's `strategy:` with one leg per platform, and (native-runners) each leg's runner."""
    job = workflow.jobs[job_id]
    edits: list[wedit.Edit] = []
    include = [{"platform": leg.platform} | kept.get(leg.platform, {}) | {"pair": leg.pair}
               | ({"runner": leg.runner} if mode == "native-runners" else {})
               | ({"qemu": True} if mode == "native-runners" and leg.qemu else {}) for leg in legs]
    new_strategy = {"fail-fast": False, "matrix": matrix_axes.legs_matrix(other, include, [leg.platform for leg in legs])}
    if not matrix_axes.check_legs(other, new_strategy["matrix"], include, [leg.platform for leg in legs]):
        raise Decline(f"job `{job_id}`'s matrix with one more dimension would not expand to its combinations "
                      "times their platforms")
    old_strategy = job.get("strategy") if isinstance(job.get("strategy"), dict) else {}
    # The job's own limits (`max-parallel`) still hold for its legs.
    new_strategy |= {str(k): plain(v) for k, v in old_strategy.items() if k not in ("matrix", "fail-fast")}
    if "strategy" in job:
        def strategy_lines(d: Doc) -> list[str]:
            # Comments inside the old strategy describe its matrix: they stay, above the new one.
            path = ("jobs", job_id, "strategy")
            inside = [c for j in range(d.start(path)[0], d.end_line(path) + 1) if (c := comment_of(d.lines[j]))]
            new_lines = wedit.block_lines("strategy", new_strategy, key_col, unit, dash)
            return [" " * key_col + c for c in inside] + new_lines

        edits.append(wedit.replace_entry(
            ("jobs", job_id, "strategy"), strategy_lines,
            lambda data: data["jobs"][job_id].__setitem__("strategy", new_strategy), "one leg per platform"))
    else:
        anchor = "runs-on" if "runs-on" in job else next(iter(job))
        edits.append(wedit.insert_block_after(
            ("jobs", job_id, anchor), lambda d: wedit.block_lines("strategy", new_strategy, key_col, unit, dash),
            lambda data: insert_after_key(data["jobs"][job_id], anchor, "strategy", new_strategy),
            "one leg per platform"))
    if mode == "native-runners":
        edits.append(wedit.set_value(("jobs", job_id, "runs-on"), "${{ matrix.runner }}",
                                     "run each leg on its platform's runner", keep_comment=False))
    return edits


def _drop_step(job_id: str, index: int):
    return lambda data: data["jobs"][job_id]["steps"].pop(index)


def _dependents(workflow: Workflow, job_id: str, merge_id: str, outputs_moved: bool) -> list[wedit.Edit]:
    """Jobs that needed the build now also need the merge (the image exists only after it)."""
    edits = []
    for other in workflow.jobs:
        if other == job_id or not isinstance(workflow.jobs[other], dict):
            continue
        needs = workflow.jobs[other].get("needs")
        listed = [needs] if isinstance(needs, str) else list(needs or [])
        if job_id not in listed:
            continue
        if outputs_moved and refers(workflow.jobs[other], f"needs.{job_id}.outputs"):
            raise Decline(f"job `{other}` reads the outputs of `{job_id}`, which would move to `{merge_id}`")
        new = listed + [merge_id]
        edits.append(wedit.Edit(
            f"make job `{other}` wait for `{merge_id}`",
            lambda doc, o=other, n=new: doc.replace_value(("jobs", o, "needs"), "[" + ", ".join(n) + "]"),
            lambda data, o=other, n=new: data["jobs"][o].__setitem__("needs", n)))
    return edits


def _matrix_key(build: Build) -> str:
    """The matrix key the build's platforms come from (``platform``, ``platforms``, ``arch``...)."""
    # build-push-action's `platforms:`, or bake-action's `*.platform=` line of `set:`
    source = build.step.input("platforms") or "".join(
        line for line in (build.step.input("set") or "").splitlines() if ".platform=" in line)
    m = re.search(r"matrix\.([A-Za-z_][A-Za-z0-9_-]*)", source)
    return m.group(1) if m else "platform"


def _already_native(job: Any, workflow: Workflow | None = None) -> bool:
    """Does the job pick an Arm runner per leg already, whatever its matrix keys are called?
    (The label may be in the matrix, an ``include`` entry, the ``runs-on`` expression, or the
    script of the job that computes a `fromJSON` matrix.)"""
    runs_on = str(plain(job.get("runs-on", "")))
    if "arm" in runs_on.lower():
        return True
    if "matrix." not in runs_on:
        return False
    strategy = job.get("strategy") if isinstance(job.get("strategy"), dict) else {}
    matrix = str(plain(strategy.get("matrix", "")))
    return bool(re.search(r"arm", matrix, re.IGNORECASE)) or (
        workflow is not None and matrix_axes.computed_arm_runner(workflow, matrix))


def _runner_expression(platform: str, legs: list[Leg]) -> str:
    """`runs-on` that picks each leg's runner from its platform (``platform``: the expression that
    reads it): the Arm label for the platforms Arm runs natively, the x64 one for the others."""
    arm = [leg for leg in legs if native_on_arm64(leg.platform)]
    x64 = next((leg.runner for leg in legs if not native_on_arm64(leg.platform)), DEFAULT_X64)
    chosen = " || ".join(f"{platform} == '{leg.platform}'" for leg in arm)
    return f"${{{{ {f'({chosen})' if len(arm) > 1 else chosen} && '{arm[0].runner}' || '{x64}' }}}}"


def _runners_in_place(s: Situation, workflow: Workflow, build: Build, mode: str) -> Change:
    """An existing per-platform matrix with digest merge: only the runner per leg changes."""
    if mode == "platform-matrix":
        raise Decline(f"job `{build.job_id}` already builds one platform per job")
    job_id = build.job_id
    job = workflow.jobs[job_id]
    if _already_native(job, workflow):
        raise Decline(f"job `{job_id}` already builds each platform on its native runner "
                      f"(`runs-on: {plain(job.get('runs-on'))}`)")
    legs = _legs(s, workflow, build, build.platforms, mode)
    matrix = job["strategy"]["matrix"]
    path = ("jobs", job_id, "strategy", "matrix")
    doc = workflow.doc
    unit, dash = doc.indent_unit(), wedit.dash_offset(doc)
    runner_of = {leg.platform: leg.runner for leg in legs}
    key = _matrix_key(build)
    runs_on = str(job.get("runs-on"))
    m = re.fullmatch(r"\$\{\{\s*matrix\.([A-Za-z_][A-Za-z0-9_-]*)\s*\}\}", runs_on.strip())
    if m is None and "matrix." in runs_on:
        raise Decline(f"job `{job_id}` chooses its runner with `{runs_on}`, which is not edited automatically")
    taken = {str(k) for k in matrix} | {str(k) for e in (matrix.get("include") or []) if isinstance(e, dict)
                                        for k in e}
    runner_key = m.group(1) if m else _unique_id(taken, "runner")
    edits: list[wedit.Edit] = []
    includes = matrix.get("include") if isinstance(matrix.get("include"), list) else []
    entries = [i for i, e in enumerate(includes) if isinstance(e, dict) and key in e]
    field = re.search(rf"matrix\.{re.escape(key)}\.([A-Za-z_][A-Za-z0-9_-]*)", build.step.input("platforms") or "")
    if field:
        # Each value of the matrix key is a mapping (`{platform: linux/arm64, cache: ...}`), often
        # a flow mapping inside a flow list: the matrix stays as written and `runs-on` picks the
        # runner from the platform.
        if m is not None:
            raise Decline(f"job `{job_id}` chooses its runner with `{runs_on}`, which is not edited automatically")
        edits.append(wedit.set_value(("jobs", job_id, "runs-on"), _runner_expression(f"matrix.{key}.{field.group(1)}", legs),
                                     "run each leg on its platform's runner"))
    elif entries:
        for i in entries:
            platform, current = str(includes[i][key]), includes[i].get(runner_key)
            wanted = runner_of.get(platform)
            if wanted is None:
                raise Decline(f"the matrix entry `{key}: {platform}` is not one platform")
            if not native_on_arm64(platform) and current and "arm" not in str(current):
                continue  # an x64 leg keeps the runner it names
            if current != wanted:
                edits.append(wedit.set_key(path + ("include", i), runner_key, wanted,
                                           describe="set the leg's runner"))
    elif isinstance(matrix.get(key), list):
        if "include" in matrix:
            raise Decline(f"the matrix lists `{key}` and has other `include` entries")
        col = doc.start(path + (key,))[1]
        include = [{key: leg.platform, runner_key: leg.runner} for leg in legs]
        edits.append(wedit.insert_block_after(
            path + (key,), lambda d: wedit.block_lines("include", include, col, unit, dash),
            lambda data: data["jobs"][job_id]["strategy"]["matrix"].__setitem__("include", include),
            "give each leg its runner"))
    else:
        raise Decline(f"the matrix key `{key}` is not a list of platforms this app can extend")
    if m is None and not field:
        edits.append(wedit.set_value(("jobs", job_id, "runs-on"), f"${{{{ matrix.{runner_key} }}}}",
                                     "run each leg on its platform's runner"))
    if not edits:
        raise Decline(f"job `{job_id}` already builds each platform on its native runner")
    try:
        result = wedit.apply(workflow, edits)
    except wedit.EditError as exc:
        raise Decline(str(exc)) from None
    return _change(s, mode, workflow, job_id, None, legs, None, None, [], result, in_place=True)


def _names_text(tags: Tags) -> str:
    if not tags.names:
        return "the image names of its tags (derived by the added step `Image names`)"
    return ", ".join(f"`{n}`" for n in tags.names)


def _tag_text(tags: Tags) -> str:
    if tags.runtime is not None:
        return f"the tags `{tags.runtime}` as they are when it runs"
    return "the tags of the metadata step" + (f" `{tags.meta.node.get('id')}`" if tags.meta.node.get("id") else "") \
        if tags.meta is not None else ", ".join(f"`{t}`" for t in tags.literal)


def _change(s: Situation, mode: str, workflow: Workflow, job_id: str, merge_id: str | None, legs: list[Leg], tags: Tags | None,
            condition: str | None, moved: list[StepRef], result: Workflow, in_place: bool = False,
            images: list[Image] | None = None) -> Change:
    runners = ", ".join(f"{leg.platform} on `{leg.runner}`" + (" (QEMU)" if leg.qemu else "") for leg in legs)
    if images is None:
        images = [Image("", tags, condition)] if tags is not None else []
    if in_place:
        summary = [f"`{workflow.path}` job `{job_id}`: each leg of its per-platform matrix now runs on its "
                   f"platform's runner: {runners}."]
    else:
        summary = [f"`{workflow.path}` job `{job_id}`: one leg per platform (`fail-fast: false`): {runners}."]
        if merge_id and len(images) == 1:
            image = images[0]
            summary.append(f"Each leg pushes its image by digest to {_names_text(image.tags)} "
                           "and uploads the digest; "
                           f"job `{merge_id}` creates the multi-platform image with {_tag_text(image.tags)}"
                           + (f", when `{image.condition}`" if image.condition else "") + ", and inspects it.")
        elif merge_id:
            summary.append(f"Each leg runs every build step of the job for its platform; the {len(images)} images "
                           f"are pushed by digest, each uploads its digest as an artifact of its own, and job "
                           f"`{merge_id}` creates each multi-platform image with its own tags, and inspects it.")
            summary += [f"Step `{image.label}`: {_names_text(image.tags)} with "
                        f"{_tag_text(image.tags)}" + (f", when `{image.condition}`" if image.condition else "") + "."
                        for image in images]
        else:
            summary.append("The original build does not push, so there is no merge job.")
        if moved:
            summary.append("Steps that use the pushed image (its digest or its tags) moved to the merge job, "
                           "after it is created: "
                           + ", ".join(f"`{st.node.get('name') or st.uses}`" for st in moved) + ".")
    notes = []
    if mode == "native-runners":
        notes.append(arm_runner_note(s) + " Each leg is its own job: the build now takes one runner per platform "
                     "at the same time.")
        if any(leg.qemu for leg in legs):
            notes.append("Platforms without a native hosted runner stay emulated: "
                         + ", ".join(leg.platform for leg in legs if leg.qemu) + ".")
    else:
        notes.append("QEMU is still used for the non-native legs: this isolates them (memory, time, logs) but "
                     "does not remove emulation.")
    if "its default is" in build_note(workflow, job_id):
        notes.append(f"The legs are the platforms of the input's default ({build_note(workflow, job_id)}): a caller or "
                     "a manual run that passes other platforms no longer changes them.")
    if "whose script writes" in build_note(workflow, job_id):
        notes.append(f"The legs are the platforms {build_note(workflow, job_id).split(' is computed at run time ')[-1]}: "
                     "when that script changes the list, the job's matrix must change with it.")
    if merge_id:
        notes.append("Tags are written only by the merge job, after every leg succeeded: a failing leg no "
                     "longer leaves a half-updated tag.")
        notes += list(dict.fromkeys(image.tags.note for image in images if image.tags.note))
    return Change(mode, {workflow.path: result.doc.text}, summary, notes,
                  emulated=[leg.platform for leg in legs if leg.qemu])


def build_note(workflow: Workflow, job_id: str) -> str:
    """How the build's platforms were found (the first build of the job)."""
    return next((b.platforms_note for b in workflow.builds if b.job_id == job_id), "")


def native_runners(s: Situation) -> Change:
    return _restructure(s, "native-runners")


def platform_matrix(s: Situation) -> Change:
    return _restructure(s, "platform-matrix")

"""``native-runners`` and ``platform-matrix``: one job per platform, push by digest, merge.

Follows Docker's "Distribute build across multiple runners": each leg of a matrix builds one
platform and, where the original pushed, pushes it by digest and uploads the digest; a merge
job downloads the digests and creates the multi-platform image with exactly the original tags.
A matrix whose legs push the same tag would overwrite itself (docker/build-push-action#671).

The job is rewritten with the same splice edits as every other remedy (each checked against
the intended data change); steps that move to the merge job are copied as written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .. import versions
from ..validate import ValidationError
from ..workflows import edit as wedit
from ..workflows.model import (BAKE, BUILD_PUSH, SETUP_BUILDX, SETUP_QEMU, Build, StepRef, Workflow, canonical_platform,
                               reusable_call)
from ..workflows.yamldoc import Doc, comment_of, plain
from .base import Change, Decline, Situation
from . import permissions_down
from .references import (LOGIN, copied_ids, image_names, installers, kept_matrix_keys, moved_steps, reads_workspace,
                         refers, resolvable)
from .runners import arm_runner_note, native_on_arm64

METADATA = "docker/metadata-action"
X64_LABELS = versions.runner_labels("x64")
DEFAULT_X64 = versions.runner("x64")
NATIVE_ON_X64 = {"linux/amd64", "linux/386"}
MERGE_PERMISSIONS = ("contents", "packages", "id-token", "attestations")
_EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
# Expression contexts that mean the same in the merge job as in the build job.
ANYWHERE_CONTEXTS = {"github", "env", "vars", "inputs", "secrets"}


@dataclass
class Leg:
    platform: str
    runner: Any  # a label, or the original runs-on value
    qemu: bool

    @property
    def pair(self) -> str:
        return self.platform.replace("/", "-")


@dataclass
class Tags:
    names: list[str]  # image names the legs push their digests to
    literal: list[str]  # the tags, when written out in the workflow
    meta: StepRef | None  # the metadata-action step, when the tags come from it
    # Steps before the build that compute the tags (or the metadata step's inputs): every leg runs
    # them to the same result, and the merge job repeats them under the same ids.
    computing: list[StepRef] = field(default_factory=list)


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
    x64 = str(runs_on) if isinstance(runs_on, str) and runs_on in X64_LABELS else DEFAULT_X64
    return [Leg(p, arm if native_on_arm64(p) else x64, canonical_platform(p) not in NATIVE_ON_X64 and not native_on_arm64(p))
            for p in platforms]


def _image_name(tag: str) -> str:
    tag = tag.split("@", 1)[0]
    last = tag.rsplit("/", 1)[-1]
    return tag[:tag.rfind(":")] if ":" in last else tag


def _tags(workflow: Workflow, build: Build, matrix_ok: bool = False) -> Tags:
    raw = build.step.input("tags")
    if raw is None:
        raise Decline("the build pushes without `tags`, so there is no name for the merged image")
    m = re.fullmatch(r"\$\{\{\s*steps\.([\w-]+)\.outputs\.tags\s*\}\}", raw.strip())
    if m:
        return _metadata_tags(workflow, build, m.group(1))
    contexts = {c for expr in _EXPR.findall(raw) for c in re.findall(r"(?<![\w.-])([a-z_]+)\.", expr)}
    allowed = ANYWHERE_CONTEXTS | {"steps"} | ({"matrix"} if matrix_ok else set())
    if contexts - allowed or any("," in expr for expr in _EXPR.findall(raw)):
        raise Decline(f"the tags are computed by this job at run time (`{raw.strip()}`), so the merge job "
                      "cannot know them")
    literal = [t.strip() for t in re.split(r"[,\n]", raw) if t.strip()]
    names = list(dict.fromkeys(_tag_image_name(workflow, build.job_id, t) for t in literal))
    if any("steps." in n for n in names):
        raise Decline("the image names depend on other steps of the job")
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
    meta = next((st for st in workflow.steps(build.job_id) if st.node.get("id") == step_id), None)
    if meta is None or meta.action != METADATA or not meta.input("images"):
        raise Decline(f"the tags come from step `{step_id}`, which is not a docker/metadata-action step "
                      "with `images`")
    names = []
    for item in _image_items(meta.input("images")):
        fields = _image_fields(item)
        if fields.get("enable", "true").strip() != "false":
            names.append(fields["name"].strip())
    if any("steps." in n for n in names):
        raise Decline("the image names depend on other steps of the job")
    return Tags(names, [], meta, _computing_steps(workflow, build, plain(meta.node)))


def _other_axes(job_id: str, matrix: Any) -> dict[str, list]:
    """A matrix over something else (Node versions, image variants) as plain lists: the platform
    becomes one more dimension. Anything richer (include, exclude, computed) is declined."""
    data = plain(matrix)
    simple = all(isinstance(v, list) and v and all(isinstance(x, (str, int, float)) for x in v) for v in data.values())
    if not simple or "include" in data or "exclude" in data:
        raise Decline(f"job `{job_id}` already has a matrix over {', '.join(map(str, data))} with `include`, "
                      "`exclude` or computed values; splitting it per platform as well is not done automatically")
    clash = [k for k in ("platform", "pair", "runner", "qemu") if k in data]
    if clash:
        raise Decline(f"job `{job_id}`'s matrix already has `{clash[0]}`, a key the per-platform legs need")
    return data


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
    for step in found.values():
        _self_contained(step)
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
        # leading assignments (`VERSION="a b"`), then shell keywords
        part = re.sub(r'^\s*(?:[A-Za-z_]\w*(?:\[[^]]*\])?\+?=(?:"[^"]*"?|\S*)\s*)+', "", part)
        words = [w for w in part.replace(")", " ").split() if w]
        while words and words[0] in _SHELL_WORDS:
            words.pop(0)
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
        return True, m.group(1)
    raise Decline(f"`push: {raw}` is neither true, false nor an expression")


def _digest_steps(workflow: Workflow, job_id: str, b: int, steps_left: int, condition: str | None,
                  digest: str, artifact: str) -> list[wedit.Edit]:
    """After each leg's build (step ``b``): export the digest to a file and upload it as the
    leg's artifact (``<artifact><pair>``), which the merge job downloads. ``digest`` is the
    expression that reads it; it reaches the script through env (no expression inside `run:`)."""
    when = [("if", f"${{{{ {condition} }}}}")] if condition else []
    ref, release = wedit.uses(workflow, "actions/upload-artifact")
    upload = [("name", "Upload digest")] + when + [
        ("uses", ref), ("with", [("name", f"{artifact}${{{{ matrix.pair }}}}"),
                                 ("path", "${{ runner.temp }}/digests/*"),
                                 ("if-no-files-found", "error"), ("retention-days", 1)])]
    export = [("name", "Export digest")] + when + [
        ("env", [("DIGEST", digest)]),
        ("run", "mkdir -p \"$RUNNER_TEMP/digests\"\n"
                "touch \"$RUNNER_TEMP/digests/${DIGEST#sha256:}\"\n")]
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


def _insert_after_key(data: dict, after: str, key: str, value: Any) -> None:
    items = list(data.items())
    position = [k for k, _ in items].index(after) + 1
    items.insert(position, (key, value))
    data.clear()
    data.update(items)


def _outputs(names: list[str], push: str) -> str:
    name = f'"name={",".join(names)}"' if len(names) > 1 else f"name={names[0]}"
    return f"type=image,{name},push-by-digest=true,name-canonical=true,push={push}"


@dataclass
class MergeScript:
    create: str  # the `run:` of the step that creates the image
    inspect: str  # the `run:` of the step that inspects it
    env: dict[str, str]  # values with expressions, which reach the scripts through `env:`
    tag_words: list[str]  # how each literal tag appears after `-t` (itself, or "$VAR")


def _shell_value(value: str, name: str, env: dict[str, str]) -> str:
    """A value for a `run:` script: as written when it is literal; an expression goes through
    `env:` (an expression expanded into a script is a template injection)."""
    if "${{" not in value:
        return value
    env[name] = value
    return f'"${name}"'


def _merge_script(tags: Tags) -> MergeScript:
    env: dict[str, str] = {}
    image = _shell_value(tags.names[0], "MERGED_IMAGE", env)
    image_word = image[1:-1] if image.startswith('"') else image
    sources = f"$(printf '{image_word}@sha256:%s ' *)" if image == tags.names[0] else \
        f"$(printf \"{image_word}@sha256:%s \" *)"
    tag_words: list[str] = []
    if tags.meta is not None:
        create = ("docker buildx imagetools create "
                  "$(jq -cr '.tags | map(\"-t \" + .) | join(\" \")' <<< \"$DOCKER_METADATA_OUTPUT_JSON\") \\\n"
                  f"  {sources}\n")
        first = "\"$(jq -r '.tags[0]' <<< \"$DOCKER_METADATA_OUTPUT_JSON\")\""
    else:
        tag_words = [_shell_value(t, f"MERGED_TAG_{i}", env) for i, t in enumerate(tags.literal, 1)]
        create = "docker buildx imagetools create " + " ".join(f"-t {t}" for t in tag_words) + f" \\\n  {sources}\n"
        first = tag_words[0] if tag_words[0].startswith('"') else f'"{tag_words[0]}"'
    digest = (f"echo \"digest=$(docker buildx imagetools inspect {first} --format '{{{{json .Manifest}}}}' "
              "| jq -r .digest)\" >> \"$GITHUB_OUTPUT\"\n")
    return MergeScript(create + digest, f"docker buildx imagetools inspect {first}\n", env, tag_words)


ATTEST_ACTIONS = ("actions/attest-build-provenance", "actions/attest")


def _permissions(workflow: Workflow, job_id: str, tags: Tags, moved: list[StepRef],
                 moved_down: bool = False) -> dict | None:
    """The merge job's `permissions:`: the build job's, less what merging does not need. Where
    neither the job nor the workflow sets any (GitHub's defaults, possibly write-all), the least
    it needs: read the repository, write GHCR packages when it pushes there, and OIDC and
    attestations for moved attestation steps. When the workflow's grant moves down into the
    jobs (permissions_down), the build job's is that grant."""
    job_permissions = workflow.jobs[job_id].get("permissions")
    if job_permissions is None and moved_down:
        job_permissions = permissions_down.grant(workflow)
    if isinstance(job_permissions, dict):
        kept = {k: str(v) for k, v in job_permissions.items() if k in MERGE_PERMISSIONS}
        return kept or {"contents": "read"}
    if job_permissions is not None or workflow.root.get("permissions") is not None:
        return None  # inherits the workflow's (or the job's read-all/write-all), as the build job did
    least = {"contents": "read"}
    job = workflow.jobs[job_id]
    # Names as they resolve: `${{ env.IMAGE }}` may be a GHCR image too.
    if any(n.startswith("ghcr.io/") for n in image_names(workflow.root.get("env"), job.get("env"), tags.names)):
        least["packages"] = "write"
    if any((st.action or "").startswith(ATTEST_ACTIONS) for st in moved):
        least.update({"id-token": "write", "attestations": "write"})
    # Keyless signing (`cosign sign` in a moved step) needs the OIDC token too.
    if any("cosign sign" in str(plain(st.node.get("run", ""))) for st in moved):
        least["id-token"] = "write"
    return least


def _check(workflow: Workflow, job_id: str, merge_id: str | None, legs: list[Leg], tags: Tags | None) -> None:
    """Structure of the result: one platform per leg, no leg pushes a tag, the merge job makes
    exactly the original tags."""
    job = plain(workflow.jobs[job_id])
    include = job["strategy"]["matrix"]["include"]
    if sorted(e["platform"] for e in include) != sorted(leg.platform for leg in legs) or any(
            "," in e["platform"] for e in include):
        raise ValidationError("the legs do not build one platform each")
    builds = [s for s in job["steps"] if str(s.get("uses", "")).startswith(BUILD_PUSH)]
    if len(builds) != 1 or builds[0]["with"]["platforms"] != "${{ matrix.platform }}":
        raise ValidationError("the build step does not build the leg's platform")
    if merge_id is None:
        return
    if "tags" in builds[0]["with"] or "push-by-digest=true" not in builds[0]["with"].get("outputs", ""):
        raise ValidationError("a leg pushes a tag instead of a digest")
    merge = plain(workflow.jobs[merge_id])
    if tags.meta is not None:
        if not any(s.get("id") == tags.meta.node.get("id") for s in merge["steps"]):
            raise ValidationError("the merge job lost the metadata step that names the tags")
    elif merged_tags(merge) != tags.literal:
        raise ValidationError("the merge job's tags differ from the original's")


def merged_tags(merge_job: dict) -> list[str]:
    """The tags the merge job's `imagetools create` writes, with `$VAR`s read from its step's env."""
    for step in merge_job.get("steps") or []:
        m = re.search(r"imagetools create ((?:-t \S+ )+)\\", str(step.get("run", "")))
        if m:
            env = step.get("env") or {}
            words = re.findall(r"-t (\S+)", m.group(1))
            return [str(env.get(w.strip('"').lstrip("$"), w)) if w.strip('"').startswith("$") else w for w in words]
    return []


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
        from . import restructure_shell  # it builds on this module's merge job
        return restructure_shell.restructure(s, mode, workflow, build)
    if build.kind != "build-push-action":
        raise Decline(f"the build is a {build.kind} step; only docker/build-push-action, docker/bake-action and "
                      "one-command `docker buildx build` scripts are split per platform automatically")
    others = [b for b in workflow.builds if b.job_id == job_id and b is not build]
    if others:
        raise Decline(f"job `{job_id}` has {len(others) + 1} build steps; splitting them per platform needs a "
                      "merge for each image, which is not done automatically")
    outputs_input = build.step.input("outputs") or ""
    strategy = job.get("strategy") if isinstance(job.get("strategy"), dict) else {}
    matrix = strategy.get("matrix") if isinstance(strategy.get("matrix"), dict) else None
    other: dict[str, list] = {}  # another dimension of the matrix: one merged image per value
    if build.matrix_platform:
        # Legs that push by digest, or push nothing, are already right: only their runners can change.
        # Legs that push the same tag overwrite each other (docker/build-push-action#671): redo them.
        if "push-by-digest=true" in outputs_input.replace(" ", "") or not _push(build)[0]:
            return _runners_in_place(s, workflow, build, mode)
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
    if outputs_input and "push-by-digest" not in outputs_input:
        raise Decline("the build step sets its own `outputs`, which a per-platform build would replace")
    if build.load:
        raise Decline("the build loads the image into the job (`load: true`); a per-platform job cannot also "
                      "hand it to the job's later steps")
    legs = _legs(s, workflow, build, platforms, mode)
    pushes, condition = _push(build)
    if other and condition and "matrix." in condition:
        raise Decline(f"the push condition `{condition}` reads the matrix, which a merge job's `if:` cannot")
    tags = _tags(workflow, build, matrix_ok=bool(other)) if pushes else None
    if tags:
        # The merge job repeats these steps; its matrix has only the other dimension's keys.
        for st in ([tags.meta] if tags.meta else []) + tags.computing:
            reads = sorted(set(re.findall(r"\bmatrix\.([\w-]+)", str(plain(st.node)))) - set(other))
            if reads:
                raise Decline(f"step `{st.node.get('name') or st.node.get('id') or st.uses}` names the tags from "
                              f"`matrix.{reads[0]}`, which the merge job, a job without that matrix, does not have")
    legs_suffix = "".join(f"${{{{ matrix.{k} }}}}-" for k in other)

    doc = workflow.doc
    steps = workflow.steps(job_id)
    step_ids = {str(st.node.get("id")) for st in steps if st.node.get("id")}
    build_id = str(build.step.node.get("id") or _unique_id(step_ids, "build"))
    merge_id = _unique_id(set(workflow.jobs), "merge") if pushes else None
    unit = doc.indent_unit()
    dash = wedit.dash_offset(doc)
    key_col = doc.start(("jobs", job_id, next(iter(job))))[1]
    steps_line, steps_col = doc.start(build.step.path)
    step_dash = doc._dash(steps_line, steps_col)
    b = build.step.index
    computing = tuple(tags.computing) if tags else ()
    names = image_names(workflow.root.get("env"), job.get("env"), tags.names) if pushes else ()
    moved = moved_steps(steps, b, build_id, tags.meta if tags else None, computing, names, tuple(other)) if pushes else []
    moved_ids = {build_id} | {str(st.node["id"]) for st in moved if st.node.get("id")}
    outputs_moved = pushes and "outputs" in job and any(refers(job["outputs"], f"steps.{i}.") for i in moved_ids)
    if outputs_moved:
        resolvable(plain(job["outputs"]), "the job's outputs", moved_ids | copied_ids(steps, tags.meta if tags else None, computing))
    push_value = f"${{{{ {condition} }}}}" if condition else "true"
    edits: list[wedit.Edit] = []

    if pushes:
        edits += _merge_job(workflow, job_id, merge_id, build_id, tags, condition, moved, outputs_moved, unit, dash, other,
                            key_col, step_dash, steps_col)
        edits += _dependents(workflow, job_id, merge_id, outputs_moved)
        for st in reversed(moved):
            edits.append(wedit.remove_entry(st.path, _drop_step(job_id, st.index), f"move step {st.index + 1}"))
        edits += _digest_steps(workflow, job_id, b, len(steps) - len(moved), condition,
                               f"${{{{ steps.{build_id}.outputs.digest }}}}", f"digests-{job_id}-{legs_suffix}")

    with_path = build.step.path + ("with",)
    edits.append(wedit.set_key(with_path, "platforms", "${{ matrix.platform }}",
                               describe="build the leg's platform", keep_comment=False))
    if pushes:
        edits.append(wedit.remove_key(with_path, "tags"))
        if build.step.input("push") is not None:
            edits.append(wedit.remove_key(with_path, "push"))
        edits.append(wedit.set_key(with_path, "outputs", _outputs(tags.names, push_value),
                                   describe="push the leg by digest"))
    for cache in ("cache-from", "cache-to"):
        value = build.step.input(cache)
        if value:
            edits.append(wedit.set_key(with_path, cache, _scoped_cache(value, job_id),
                                       describe=f"give each leg its own {cache}"))
    if "id" not in build.step.node:
        edits.append(wedit.set_key(build.step.path, "id", build_id,
                                   after="name" if "name" in build.step.node else "uses", describe="name the build step"))

    edits += _qemu_edits(steps[:b], job_id, legs, mode)

    if outputs_moved:
        edits.append(wedit.remove_entry(("jobs", job_id, "outputs"),
                                        lambda data: data["jobs"][job_id].pop("outputs"), "move the job outputs"))
    key = _matrix_key(build) if build.matrix_platform else "platform"
    kept = kept_matrix_keys(matrix, mode, key)
    if len(re.findall(rf"\bmatrix\.{re.escape(key)}(?![\w-])", str(plain(job)))) == 1:
        # Only the build read the key that listed the platforms: each leg now has its own `platform`.
        kept = {p: {k: v for k, v in extra.items() if k != key} for p, extra in kept.items()}
    edits += _leg_edits(workflow, job_id, legs, mode, kept, other, key_col, unit, dash)
    try:
        result = wedit.apply(workflow, edits)
        _check(result, job_id, merge_id, legs, tags)
    except (wedit.EditError, ValidationError) as exc:
        raise Decline(str(exc)) from None
    return _change(s, mode, workflow, job_id, merge_id, legs, tags, condition, moved, result)


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
    new_strategy = {"fail-fast": False, "matrix": (
        {**other, "platform": [leg.platform for leg in legs], "include": include} if other else {"include": include})}
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
            lambda data: _insert_after_key(data["jobs"][job_id], anchor, "strategy", new_strategy),
            "one leg per platform"))
    if mode == "native-runners":
        edits.append(wedit.set_value(("jobs", job_id, "runs-on"), "${{ matrix.runner }}",
                                     "run each leg on its platform's runner", keep_comment=False))
    return edits


def _drop_step(job_id: str, index: int):
    return lambda data: data["jobs"][job_id]["steps"].pop(index)


def _merge_job(workflow: Workflow, job_id: str, merge_id: str, build_id: str, tags: Tags, condition: str | None,
               moved: list[StepRef], outputs_moved: bool, unit: int, dash: int, other: dict, key_col: int,
               step_dash: int, step_col: int) -> list[wedit.Edit]:
    doc: Doc = workflow.doc
    job = workflow.jobs[job_id]
    steps = workflow.steps(job_id)
    runs_on = job.get("runs-on")
    x64 = str(runs_on) if isinstance(runs_on, str) and runs_on in X64_LABELS else DEFAULT_X64
    logins = [st for st in steps if st.action == LOGIN]
    buildx = [st for st in steps if st.action == SETUP_BUILDX][:1]
    copied = (logins + buildx + ([tags.meta] if tags.meta is not None else []) + tags.computing
              + installers(steps, min(st.index for st in moved) if moved else 0, moved))
    if tags.computing or any(reads_workspace(st) for st in moved):
        # The repeated or moved steps may read the repository (a version file, package.json).
        copied += [st for st in steps if (st.action or "") == "actions/checkout"]
    copied = sorted({st.index: st for st in copied}.values(), key=lambda st: st.index)
    script = _merge_script(tags)
    inspect_env = {k: v for k, v in script.env.items() if f"${k}" in script.inspect}
    alone = doc.dash_alone(steps[0].path)  # new steps follow the file's list style
    pad = " " * key_col
    # Repeated or moved steps (and the copied env) may read the outputs of the jobs the build job
    # needs: the merge job needs them too, or `needs.<job>` would not resolve there.
    read = str([plain(st.node) for st in copied + moved] + [plain(job.get(k)) for k in ("env", "environment")]
               + [condition or ""])
    upstream = [str(n) for n in ([job.get("needs")] if isinstance(job.get("needs"), str) else job.get("needs") or [])
                if re.search(rf"\bneeds\.{re.escape(str(n))}\.", read)]
    needs: Any = upstream + [job_id] if upstream else job_id
    data: dict[str, Any] = {"runs-on": x64, "needs": needs}
    lines = [" " * doc.start(("jobs", job_id))[1] + f"{merge_id}:", f"{pad}runs-on: {x64}",
             f"{pad}needs: " + (f"[{', '.join(needs)}]" if upstream else job_id)]
    if condition:
        data["if"] = f"${{{{ {condition} }}}}"
        lines.append(f"{pad}if: ${{{{ {condition} }}}}")
    if other:  # one merged image per value of the other dimension, with that value's tags
        data["strategy"] = {"matrix": other}
        lines += wedit.block_lines("strategy", {"matrix": other}, key_col, unit, dash)
    moved_down = permissions_down.applies(workflow)
    permissions = _permissions(workflow, job_id, tags, moved, moved_down)
    if permissions:
        data["permissions"] = permissions
        lines += wedit.block_lines("permissions", permissions, key_col, unit, dash)
    # The environment (with its secrets) and env the copied steps may read; outputs that moved.
    for key in ("environment", "env", "outputs"):
        if key in job and (key != "outputs" or outputs_moved):
            data[key] = plain(job[key])
            lines += doc.entry_text(("jobs", job_id, key))
    lines.append(f"{pad}steps:")
    download_ref, download_release = wedit.uses(workflow, "actions/download-artifact")
    generated_first = {"name": "Download digests", "uses": download_ref,
                       "with": {"path": "${{ runner.temp }}/digests", "pattern": f"digests-{job_id}-{''.join(f'${{{{ matrix.{k} }}}}-' for k in other)}*",
                                "merge-multiple": True}}
    first_lines = wedit.item_lines(generated_first, step_dash, unit, dash, step_col, alone)
    if download_release:
        first_lines = [line + f" # {download_release}" if line.strip().startswith("uses:") else line
                       for line in first_lines]
    lines += first_lines
    step_data = [generated_first]
    for st in copied:
        lines += doc.entry_text(st.path)
        step_data.append(plain(st.node))
    if not buildx:
        ref, release = wedit.uses(workflow, SETUP_BUILDX)
        item = {"name": "Set up Docker Buildx", "uses": ref}
        lines += [line + (f" # {release}" if release and "uses:" in line else "")
                  for line in wedit.item_lines(item, step_dash, unit, dash, step_col, alone)]
        step_data.append(item)
    for item in ({"name": "Create the multi-platform image", "id": build_id,
                  "working-directory": "${{ runner.temp }}/digests"} | ({"env": script.env} if script.env else {})
                 | {"run": script.create},
                 {"name": "Inspect the image"} | ({"env": inspect_env} if inspect_env else {}) | {"run": script.inspect}):
        lines += wedit.item_lines(item, step_dash, unit, dash, step_col, alone)
        step_data.append(item)
    for st in moved:
        lines += doc.entry_text(st.path)
        step_data.append(plain(st.node))
    data["steps"] = step_data

    # Separate the new job the way this file separates its jobs.
    after = doc.end_line(("jobs", job_id)) + 1
    if after < len(doc.lines) and not doc.lines[after].strip():
        lines.insert(0, "")

    def expect(expected: Any) -> None:
        _insert_after_key(expected["jobs"], job_id, merge_id, data)

    # A second job would inherit the workflow's writes: they move down into the jobs first.
    down = permissions_down.edits(workflow) if moved_down else []
    return down + [wedit.insert_block_after(("jobs", job_id), lambda d: lines, expect, f"add the `{merge_id}` job")]


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


def _already_native(job: Any) -> bool:
    """Does the job pick an Arm runner per leg already, whatever its matrix keys are called?
    (The label may be in the matrix, an ``include`` entry, or the ``runs-on`` expression.)"""
    runs_on = str(plain(job.get("runs-on", "")))
    if "arm" in runs_on.lower():
        return True
    if "matrix." not in runs_on:
        return False
    strategy = job.get("strategy") if isinstance(job.get("strategy"), dict) else {}
    return bool(re.search(r"arm", str(plain(strategy.get("matrix", ""))), re.IGNORECASE))


def _runners_in_place(s: Situation, workflow: Workflow, build: Build, mode: str) -> Change:
    """An existing per-platform matrix with digest merge: only the runner per leg changes."""
    if mode == "platform-matrix":
        raise Decline(f"job `{build.job_id}` already builds one platform per job")
    job_id = build.job_id
    job = workflow.jobs[job_id]
    if _already_native(job):
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
    if entries:
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
    if m is None:
        edits.append(wedit.set_value(("jobs", job_id, "runs-on"), f"${{{{ matrix.{runner_key} }}}}",
                                     "run each leg on its platform's runner"))
    if not edits:
        raise Decline(f"job `{job_id}` already builds each platform on its native runner")
    try:
        result = wedit.apply(workflow, edits)
    except wedit.EditError as exc:
        raise Decline(str(exc)) from None
    return _change(s, mode, workflow, job_id, None, legs, None, None, [], result, in_place=True)


def _change(s: Situation, mode: str, workflow: Workflow, job_id: str, merge_id: str | None, legs: list[Leg], tags: Tags | None,
            condition: str | None, moved: list[StepRef], result: Workflow, in_place: bool = False) -> Change:
    runners = ", ".join(f"{leg.platform} on `{leg.runner}`" + (" (QEMU)" if leg.qemu else "") for leg in legs)
    if in_place:
        summary = [f"`{workflow.path}` job `{job_id}`: each leg of its per-platform matrix now runs on its "
                   f"platform's runner: {runners}."]
    else:
        summary = [f"`{workflow.path}` job `{job_id}`: one leg per platform (`fail-fast: false`): {runners}."]
        if merge_id:
            tag_text = ("the tags of the metadata step" if tags.meta is not None else
                        ", ".join(f"`{t}`" for t in tags.literal))
            summary.append(f"Each leg pushes its image by digest to {', '.join(f'`{n}`' for n in tags.names)} "
                           "and uploads the digest; "
                           f"job `{merge_id}` creates the multi-platform image with {tag_text}"
                           + (f", when `{condition}`" if condition else "") + ", and inspects it.")
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
    if merge_id:
        notes.append("Tags are written only by the merge job, after every leg succeeded: a failing leg no "
                     "longer leaves a half-updated tag.")
    return Change(mode, {workflow.path: result.doc.text}, summary, notes,
                  emulated=[leg.platform for leg in legs if leg.qemu])


def build_note(workflow: Workflow, job_id: str) -> str:
    """How the build's platforms were found (the first build of the job)."""
    return next((b.platforms_note for b in workflow.builds if b.job_id == job_id), "")


def native_runners(s: Situation) -> Change:
    return _restructure(s, "native-runners")


def platform_matrix(s: Situation) -> Change:
    return _restructure(s, "platform-matrix")

"""The merge job of a per-platform restructure: it downloads each image's digests, creates each
multi-platform image with exactly the original tags (`docker buildx imagetools create`), and
inspects it. Steps that use the pushed images follow, once the tags exist.

A job that built several images gets one merge job with one download, one `imagetools create`
and one inspect step per image, each under the image's own condition, rather than a matrix over
the images: the images differ in their tags' source (literal lists, different metadata steps,
steps that compute them) and in their conditions, which a matrix entry could only carry as
strings for `run:` scripts to interpret, and steps that use the images run once, after all of
them exist.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from typing import Any

from .. import versions
from ..workflows import edit as wedit
from ..workflows.model import SETUP_BUILDX, StepRef, Workflow
from ..workflows.yamldoc import Doc, plain
from . import matrix_axes, merge_logins, permissions_down
from .merge_condition import Passed, copied_step, job_if, merged, unset_env
from .images import Image, Tags, artifact_prefix, either, other_suffix
from .references import image_names, installers, reads_workspace
from .runners import x64_runner

DEFAULT_X64 = versions.runner("x64")
MERGE_PERMISSIONS = ("contents", "packages", "id-token", "attestations")
ATTEST_ACTIONS = ("actions/attest-build-provenance", "actions/attest")
DIGESTS = "${{ runner.temp }}/digests"


@dataclass
class MergeScript:
    create: str  # the `run:` of the step that creates the image
    inspect: str  # the `run:` of the step that inspects it
    env: dict[str, str]  # values with expressions, which reach the scripts through `env:`
    tag_words: list[str]  # how each literal tag appears after `-t` (itself, or "$VAR")


def shell_value(value: str, name: str, env: dict[str, str]) -> str:
    """A value for a `run:` script: as written when it is literal; an expression goes through
    `env:` (an expression expanded into a script is a template injection)."""
    if "${{" not in value:
        return value
    env[name] = value
    return f'"${name}"'


def annotation_words(annotations: list[str], env: dict[str, str]) -> str:
    """`--annotation` options of the merged index (the build's own exporter's), one a line."""
    words = []
    for i, annotation in enumerate(annotations, 1):
        value = shell_value(annotation, f"MERGED_ANNOTATION_{i}", env)
        words.append(f"--annotation {value if value.startswith(chr(34)) else shlex.quote(value)} \\\n  ")
    return "".join(words)


def merge_script(tags: Tags, own_metadata: bool = False) -> MergeScript:
    """``own_metadata``: read the metadata step's `json` output rather than the variable
    metadata-action exports, which the job's next metadata step overwrites."""
    if tags.script is not None:  # a shell build's tags with shell variables (shell_tags)
        return tags.script
    env: dict[str, str] = {}
    json = "DOCKER_METADATA_OUTPUT_JSON"
    if tags.meta is not None and own_metadata:
        json = "METADATA_JSON"
        env[json] = f"${{{{ steps.{tags.meta.node.get('id')}.outputs.json }}}}"
    if tags.runtime is not None or tags.names_from is not None:
        from .runtime_tags import runtime_merge_script  # tags read at run time
        return runtime_merge_script(tags, env, json)
    image = shell_value(tags.names[0], "MERGED_IMAGE", env)
    image_word = image[1:-1] if image.startswith('"') else image
    sources = f"$(printf '{image_word}@sha256:%s ' *)" if image == tags.names[0] else \
        f"$(printf \"{image_word}@sha256:%s \" *)"
    sources = annotation_words(tags.annotations, env) + sources
    tag_words: list[str] = []
    if tags.meta is not None:
        create = ("docker buildx imagetools create "
                  f"$(jq -cr '.tags | map(\"-t \" + .) | join(\" \")' <<< \"${json}\") \\\n"
                  f"  {sources}\n")
        first = f"\"$(jq -r '.tags[0]' <<< \"${json}\")\""
    else:
        tag_words = [shell_value(t, f"MERGED_TAG_{i}", env) for i, t in enumerate(tags.literal, 1)]
        create = "docker buildx imagetools create " + " ".join(f"-t {t}" for t in tag_words) + f" \\\n  {sources}\n"
        first = tag_words[0] if tag_words[0].startswith('"') else f'"{tag_words[0]}"'
    digest = (f"echo \"digest=$(docker buildx imagetools inspect {first} --format '{{{{json .Manifest}}}}' "
              "| jq -r .digest)\" >> \"$GITHUB_OUTPUT\"\n")
    return MergeScript(create + digest, f"docker buildx imagetools inspect {first}\n", env, tag_words)


def permissions(workflow: Workflow, job_id: str, names: list[str], moved: list[StepRef],
                moved_down: bool = False, computed: tuple[str, ...] = ()) -> dict | None:
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
    # ``computed``: names computed at run time: GHCR when the tags or the steps computing them say so.
    if any(n.startswith("ghcr.io/") for n in image_names(workflow.root.get("env"), job.get("env"), names)) or any(
            "ghcr.io" in text for text in computed):
        least["packages"] = "write"
    if any((st.action or "").startswith(ATTEST_ACTIONS) for st in moved):
        least.update({"id-token": "write", "attestations": "write"})
    # Keyless signing (`cosign sign` in a moved step) needs the OIDC token too.
    if any("cosign sign" in str(plain(st.node.get("run", ""))) for st in moved):
        least["id-token"] = "write"
    return least


def merged_tags(merge_job: dict, step_id: str | None = None) -> list[str]:
    """The tags the merge job's `imagetools create` writes (in step ``step_id``, else the first
    that creates one), with `$VAR`s read from its step's env."""
    for step in merge_job.get("steps") or []:
        if step_id is not None and step.get("id") != step_id:
            continue
        m = re.search(r"imagetools create ((?:-t \S+ )+)\\", str(step.get("run", "")))
        if m:
            env = step.get("env") or {}
            words = re.findall(r"-t (\S+)", m.group(1))
            return [str(env.get(w.strip('"').lstrip("$"), w)) if w.strip('"').startswith("$") else w for w in words]
    return []


def insert_after_key(data: dict, after: str, key: str, value: Any) -> None:
    items = list(data.items())
    position = [k for k, _ in items].index(after) + 1
    items.insert(position, (key, value))
    data.clear()
    data.update(items)


def _named(what: str, image: Image, several: bool) -> str:
    return f"{what} ({image.label})" if several else what


def merge_job(workflow: Workflow, job_id: str, merge_id: str, images: list[Image], moved: list[StepRef],
              outputs_moved: bool, unit: int, dash: int, other: dict, key_col: int, step_dash: int,
              step_col: int, passed: Passed | None = None) -> list[wedit.Edit]:
    """``passed``: the build job's outputs that carry conditions the merge job cannot evaluate
    (merge_condition), to which a copied step's condition may be added."""
    doc: Doc = workflow.doc
    job = workflow.jobs[job_id]
    steps = workflow.steps(job_id)
    several = len(images) > 1
    runs_on = job.get("runs-on")
    x64 = x64_runner(runs_on)
    logins = merge_logins.logins(steps, len(steps))  # docker/login-action and `docker login` scripts
    buildx = [st for st in steps if st.action == SETUP_BUILDX][:1]
    metas = [image.tags.meta for image in images if image.tags.meta is not None]
    computing = [st for image in images for st in image.tags.computing]
    copied = (logins + buildx + metas + computing
              + installers(steps, min(st.index for st in moved) if moved else 0, moved))
    if computing or any(reads_workspace(st) for st in moved):
        # The repeated or moved steps may read the repository (a version file, package.json).
        copied += [st for st in steps if (st.action or "") == "actions/checkout"]
    copied = sorted({st.index: st for st in copied}.values(), key=lambda st: st.index)
    condition = either([merged(image) for image in images])
    alone = doc.dash_alone(steps[0].path)  # new steps follow the file's list style
    pad = " " * key_col
    # Repeated or moved steps (and the copied env) may read the outputs of the jobs the build job
    # needs: the merge job needs them too, or `needs.<job>` would not resolve there.
    read = str([plain(st.node) for st in copied + moved] + [plain(job.get(k)) for k in ("env", "environment")]
               + [condition or ""] + [(i.tags.literal, i.tags.runtime, i.tags.names) for i in images])
    upstream = [str(n) for n in ([job.get("needs")] if isinstance(job.get("needs"), str) else job.get("needs") or [])
                if re.search(rf"\bneeds\.{re.escape(str(n))}\.", read)]
    needs: Any = upstream + [job_id] if upstream else job_id
    data: dict[str, Any] = {"runs-on": x64, "needs": needs}
    lines = [" " * doc.start(("jobs", job_id))[1] + f"{merge_id}:", f"{pad}runs-on: {x64}",
             f"{pad}needs: " + (f"[{', '.join(needs)}]" if upstream else job_id)]
    job_condition = job_if(workflow, job_id, upstream, condition)
    if job_condition:
        data["if"] = f"${{{{ {job_condition} }}}}"
        lines.append(f"{pad}if: ${{{{ {job_condition} }}}}")
    if other:  # one merged image per value of the other dimension, with that value's tags
        data["strategy"] = {"matrix": matrix_axes.merge_matrix(other)}
        lines += wedit.block_lines("strategy", data["strategy"], key_col, unit, dash)
    moved_down = permissions_down.applies(workflow)
    computed = tuple(str(plain([image.tags.names_from] + [st.node for st in ([image.tags.meta] if image.tags.meta else [])
                                                          + image.tags.computing]))
                     for image in images if image.tags.names_from is not None)
    grant = permissions(workflow, job_id, [n for image in images for n in image.tags.names], moved, moved_down, computed)
    if grant:
        data["permissions"] = grant
        lines += wedit.block_lines("permissions", grant, key_col, unit, dash)
    # The environment (with its secrets) and env the copied steps may read; outputs that moved.
    for key in ("environment", "env", "outputs"):
        if key in job and (key != "outputs" or outputs_moved):
            data[key] = plain(job[key])
            lines += doc.entry_text(("jobs", job_id, key))
    lines.append(f"{pad}steps:")
    step_data: list[Any] = []

    def when(image: Image) -> dict:
        """Each image's steps run when it was pushed (the job's `if:` covers a shared condition)."""
        return {"if": f"${{{{ {merged(image)} }}}}"} if several and merged(image) and merged(image) != condition \
            else {}

    def add(item: dict, release: str | None = None) -> None:
        nonlocal lines
        new = wedit.item_lines(item, step_dash, unit, dash, step_col, alone)
        if release:
            new = [line + f" # {release}" if line.strip().startswith("uses:") else line for line in new]
        lines += new
        step_data.append(item)

    download_ref, download_release = wedit.uses(workflow, "actions/download-artifact")
    suffix = other_suffix(matrix_axes.named(other))
    for image in images:
        path = DIGESTS + (f"/{image.key}" if several else "")
        add({"name": _named("Download digests", image, several)} | when(image)
            | {"uses": download_ref, "with": {"path": path, "pattern": artifact_prefix(job_id, image.key, suffix) + "*",
                                               "merge-multiple": True}}, download_release)
    merge_ids = {str(st.node.get("id")) for st in copied if st.node.get("id")}
    unset = unset_env(steps, copied)
    for st in copied:
        text, node = copied_step(doc, st, merge_ids, passed, unset)
        lines += text
        step_data.append(node)
    if not buildx:
        ref, release = wedit.uses(workflow, SETUP_BUILDX)
        add({"name": "Set up Docker Buildx", "uses": ref}, release)
    for image in images:
        script = merge_script(image.tags, own_metadata=several)
        inspect_env = {k: v for k, v in script.env.items() if re.search(rf"\$\{{?{k}\b", script.inspect)}
        add({"name": _named("Create the multi-platform image", image, several), "id": image.build_id} | when(image)
            | {"working-directory": DIGESTS + (f"/{image.key}" if several else "")}
            | ({"env": script.env} if script.env else {}) | {"run": script.create})
        add({"name": _named("Inspect the image", image, several)} | when(image)
            | ({"env": inspect_env} if inspect_env else {}) | {"run": script.inspect})
    for st in moved:
        lines += doc.entry_text(st.path)
        step_data.append(plain(st.node))
    data["steps"] = step_data

    # Separate the new job the way this file separates its jobs.
    after = doc.end_line(("jobs", job_id)) + 1
    if after < len(doc.lines) and not doc.lines[after].strip():
        lines.insert(0, "")

    def expect(expected: Any) -> None:
        insert_after_key(expected["jobs"], job_id, merge_id, data)

    # A second job would inherit the workflow's writes: they move down into the jobs first.
    down = permissions_down.edits(workflow) if moved_down else []
    return down + [wedit.insert_block_after(("jobs", job_id), lambda d: lines, expect, f"add the `{merge_id}` job")]

"""Tags the build job computes at run time, for the per-platform restructure's merge job.

Every leg runs the steps before the build, so every leg computes the same tags; the merge job
needs them too, and gets them one of two ways:

- **repeat**: when the steps that compute them are self-contained (docker/metadata-action, or a
  short script with nothing but checkout, QEMU/Buildx set-up and logins before it), the merge
  job runs them again under the same ids. Cheap, and reads exactly as the build job did.
- **job output**: when a step may depend on the job's earlier work (it runs after a set-up or
  install step, or is an action of unknown cost and effect) or is costly itself (a package
  manager or build tool), the build job exposes the values the tags read as job outputs and
  the merge job reads ``needs.<job>.outputs.<name>``. With a matrix, a job output is the value
  of whichever leg finished last: right here only because every leg computes the same value,
  which is why a computation that reads the matrix or the runner is declined.

Where the image names themselves are computed (a step writes the whole tag list, an expression
with ``||``), each leg first derives its push-by-digest names from the tags (an added step),
and the merge job splits the tag list at run time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .. import versions
from ..workflows import edit as wedit
from ..workflows.model import BAKE, BUILD_PUSH, SETUP_BUILDX, SETUP_QEMU, Build, StepRef, Workflow
from ..workflows.yamldoc import Doc, plain
from . import restructure as rs
from .base import Decline
from .build_outputs import Exporter
from .images import Image, Tags
from .merge_job import MergeScript, annotation_words, shell_value
from .merge_logins import is_docker_login
from .references import LOGIN

METADATA = "docker/metadata-action"
# Steps the merge job has too (or that leave nothing a later step reads): a step after only
# these can be repeated there.
PREPARATION = {"actions/checkout", SETUP_QEMU, SETUP_BUILDX, LOGIN, METADATA}
# A script that runs a package manager or a build tool is costly, and its result may depend on
# what it downloads: computed once per leg and passed on, not repeated.
COSTLY = re.compile(r"\b(?:npm|npx|yarn|pnpm|bun|gradlew?|mvnw?|make|cargo|go\s+(?:build|run|generate)|pip3?|"
                    r"poetry|uv|bundle|composer|dotnet|docker\s+(?:build|buildx\s+build|run|pull|compose))\b")
_STEP_VALUE = re.compile(r"\bsteps\.([A-Za-z_][\w-]*)\.(outputs\.[A-Za-z_][\w-]*|outcome|conclusion)\b")
# One tag's tag part (`:1.2`, never a registry's port, which a `/` follows).
NAMES_SCRIPT = ("names=\"$(tr ', ' '\\n\\n' <<< \"$TAGS\" | sed -e '/^$/d' -e 's/:[^:/]*$//' | sort -u | paste -sd, -)\"\n"
                "echo \"names=$names\" >> \"$GITHUB_OUTPUT\"\n")


_ENV_WRITE = re.compile(r"\b([A-Za-z_]\w*)=[^\n]*>>\s*\"?\$\{?GITHUB_ENV\b")
_ENV_READ = re.compile(r"\benv\.([A-Za-z_]\w*)\b")
# Commands a script may run and still read nothing but its environment (no file, no network):
# such a script computes the same wherever it runs.
PURE_COMMANDS = {"echo", "printf", "if", "then", "else", "elif", "fi", "[", "[[", "test", "true", "false", "basename",
                 "dirname", "date", "tr", "cut", "export", "case", "esac", "for", "do", "done", "in", "while", ""}
_SEGMENT = re.compile(r"\$\(|[|;&\n`(]|\b(?:then|else|do)\b")


def run_time_env(steps: list[StepRef], before: int) -> dict[str, list[StepRef]]:
    """Variables the steps before step ``before`` write to `$GITHUB_ENV` (the `env` context of
    the later steps of this job only), with the steps that write them."""
    written: dict[str, list[StepRef]] = {}
    for st in steps[:before]:
        for name in _ENV_WRITE.findall(str(st.node.get("run", ""))):
            written.setdefault(name, []).append(st)
    return written


def env_writers(steps: list[StepRef], before: int, text: str, static_env: set[str]) -> list[StepRef]:
    """The steps that write the run-time `env.X` that ``text`` reads (an `env:` of the workflow or
    the job the merge job has too)."""
    written = run_time_env(steps, before)
    # Read as `env.X` in an expression, or as `$X` in a script the merge job repeats.
    read = [name for name in written if name not in static_env
            and re.search(rf"\benv\.{name}\b|\${{?{name}\b", text)]
    return [st for name in read for st in written[name]]


def pure_script(script: str) -> bool:
    """Whether a script only echoes, tests and reshapes its environment (reads no file)."""
    words = {segment.strip().lstrip("{(!").split(" ")[0].strip("\"')}") for segment in _SEGMENT.split(script)}
    return all(w in PURE_COMMANDS or re.fullmatch(r"[A-Za-z_]\w*=.*", w) for w in words)


class ComputedTags(Decline):
    """The tag list (not only a tag's value) is computed at run time: handled here."""


@dataclass
class Variant:
    repeat: bool
    why: str  # for the PR text


def one_line(text: str) -> str:
    """A tag list as one line (the shell splits it at commas and newlines alike)."""
    return ",".join(t.strip() for t in text.split("\n") if t.strip())


def _prepared_before(steps: list[StepRef], step: StepRef, computing: set[int]) -> bool:
    return all((st.action or "") in PREPARATION or st.index in computing or is_docker_login(st)
               for st in steps[:step.index])


def _runner_commands_only(script: str) -> bool:
    """Whether every command the script runs is on a fresh runner (so the merge job has it too)."""
    return all(c in versions.runner_commands() for c in rs._commands(script))


def variant(steps: list[StepRef], computing: list[StepRef], other: dict) -> Variant:
    """Repeat the computing steps in the merge job, or pass their values on as job outputs."""
    indexes = {st.index for st in computing}
    for st in computing:
        label = f"`{st.node.get('id') or st.node.get('name')}`"
        action = st.action or ""
        if not _reads_only(st, other):
            return Variant(False, f"step {label} reads the job's matrix")
        if action in (LOGIN, SETUP_BUILDX, METADATA):
            continue
        if st.uses is not None:
            return Variant(False, f"step {label} is an action whose cost and effects are not known")
        script = str(st.node.get("run", ""))
        try:
            rs._self_contained(st)
        except Decline as exc:  # a tool an earlier step installed: computed once per leg, passed on
            return Variant(False, str(exc).split(" (an earlier step")[0])
        if COSTLY.search(script):
            return Variant(False, f"step {label} runs a package manager or build tool")
        if not (pure_script(script) or _prepared_before(steps, st, indexes) or _runner_commands_only(script)):
            return Variant(False, f"step {label} runs after steps whose work it may read")
    return Variant(True, "")


def _reads_only(step: StepRef, other: dict) -> bool:
    """Whether the step reads no matrix value the merge job lacks (it has the other dimensions)."""
    keys = set(re.findall(r"\bmatrix\.([\w-]+)", str(plain(step.node))))
    return keys <= set(other)


def job_outputs(job_id: str, text: str, taken: set[str], computing: list[StepRef],
                run_env: set[str] = frozenset(), why: str = "") -> tuple[str, dict[str, str]]:
    """``text`` with each `steps.<id>.<value>` (and `env.X` of ``run_env``, written at run time)
    it reads replaced by a job output of ``job_id``, and those outputs (name -> expression).
    Declined where the legs could differ (``why``: why the steps are not repeated instead)."""
    try:
        return _job_outputs(job_id, text, taken, computing, run_env)
    except Decline as exc:
        raise Decline(f"{exc} (and they are not repeated in the merge job: {why})" if why else str(exc)) from None


def _job_outputs(job_id: str, text: str, taken: set[str], computing: list[StepRef],
                 run_env: set[str]) -> tuple[str, dict[str, str]]:
    for st in computing:
        if re.search(r"\b(matrix|runner)\.", str(plain(st.node))):
            raise Decline(f"the tags are computed by step `{st.node.get('id')}` from the leg's matrix or runner: "
                          "the legs could compute different tags, and a job output holds only one leg's")
    if re.search(r"\b(matrix|runner)\.", text):
        raise Decline("the tags read the leg's matrix or runner, so a job output (one leg's value) cannot carry them")
    if any("secrets." in str(plain(st.node)) for st in computing):
        # GitHub does not pass on a job output that holds a secret (it is masked on the runner).
        raise Decline("the tags are computed from a secret by a step that cannot be repeated in the merge job, "
                      "and GitHub does not pass a job output that holds a secret")
    outputs: dict[str, str] = {}

    def replace(m: re.Match) -> str:
        step, value = m.group(1), m.group(2).removeprefix("outputs.")
        name = f"{step}-{value}"
        n = 2
        while name in taken and outputs.get(name) != m.group(0):
            name, n = f"{step}-{value}-{n}", n + 1
        outputs[name] = f"${{{{ {m.group(0)} }}}}"
        taken.add(name)
        return f"needs.{job_id}.outputs.{name}"

    def replace_env(m: re.Match) -> str:
        if m.group(1) not in run_env:
            return m.group(0)
        name = m.group(1)
        while name in taken and outputs.get(name) != m.group(0):
            name += "-env"
        outputs[name] = f"${{{{ {m.group(0)} }}}}"
        taken.add(name)
        return f"needs.{job_id}.outputs.{name}"

    text = _STEP_VALUE.sub(replace, text)
    return _ENV_READ.sub(replace_env, text), outputs


def names_step(names_id: str, tags_text: str, label: str = "", condition: str | None = None) -> list:
    """The step each leg runs before the build: the image names of its tags, for the push by
    digest (a pushed name carries no tag). ``label``: the build's, in a job of several images."""
    return ([("name", "Image names" + (f" ({label})" if label else ""))]
            + ([("if", f"${{{{ {condition} }}}}")] if condition else [])
            + [("id", names_id), ("env", [("TAGS", one_line(tags_text))]), ("run", NAMES_SCRIPT)])


def names_expression(names_id: str) -> str:
    return f"${{{{ steps.{names_id}.outputs.names }}}}"


def tag_array(meta: bool, json: str = "DOCKER_METADATA_OUTPUT_JSON") -> str:
    """Shell that reads the merged image's tags into the array ``tags`` (``json``: the variable
    that holds the metadata step's JSON)."""
    if meta:
        return f"mapfile -t tags < <(jq -r '.tags[]' <<< \"${json}\")\n"
    return "read -ra tags <<< \"$(tr ',\\n' '  ' <<< \"$MERGED_TAGS\")\"\n"


def merge_scripts(meta: bool, static_image: str | None, annotations: str,
                  json: str = "DOCKER_METADATA_OUTPUT_JSON") -> tuple[str, str]:
    """(create, inspect) scripts of the merge job for tags read at run time. ``static_image``: the
    pushed name when the workflow writes it out (a `$VAR` or a literal), else derived from the
    first tag; ``annotations``: `--annotation` words, each ending in a line continuation."""
    image = static_image or "$image"
    derive = "" if static_image else "image=\"$(sed 's/:[^:/]*$//' <<< \"${tags[0]}\")\"\n"
    create = (tag_array(meta, json) + derive
              + "docker buildx imagetools create \"${tags[@]/#/--tag=}\" \\\n"
              + f"  {annotations}$(printf \"{image}@sha256:%s \" *)\n"
              + "echo \"digest=$(docker buildx imagetools inspect \"${tags[0]}\" --format '{{json .Manifest}}' "
              + "| jq -r .digest)\" >> \"$GITHUB_OUTPUT\"\n")
    inspect = tag_array(meta, json) + "docker buildx imagetools inspect \"${tags[0]}\"\n"
    return create, inspect


def check_refs(workflow: Workflow, build: Build, text: str) -> None:
    """Every step the tags read is a step before the build (not the build itself)."""
    steps = {str(st.node.get("id")): st for st in workflow.steps(build.job_id) if st.node.get("id")}
    for ref in re.findall(r"\bsteps\.([A-Za-z_][\w-]*)\.", text):
        st = steps.get(ref)
        if st is None:
            raise Decline(f"the tags read step `{ref}`, which job `{build.job_id}` does not have")
        if st.index >= build.step.index or st.action in (BUILD_PUSH, BAKE):
            raise Decline(f"the tags depend on step `{ref}`, which is not a step before the build")


def _normalised(text: str) -> str:
    return re.sub(r"\$\{\{\s*(.*?)\s*\}\}", r"${{ \1 }}", text)


def _first_words(script: str, most: int = 60) -> str:
    line = script.strip().split("\n")[0]
    return line if len(line) <= most else line[:most].rsplit(" ", 1)[0] + " ..."


def check_tag_readers(steps: list[StepRef], build_index: int, moved: list[StepRef], tags_text: str | None) -> None:
    """With tags computed at run time, a step after the build that writes one of them out uses
    the pushed tag, which only the merge job creates; the steps that move with the image are
    found by its names, which are not known here: such a step is declined, not left to run
    before the tag exists."""
    if tags_text is None:
        return
    tags = [_normalised(t.strip()) for t in re.split(r"[,\n]", tags_text) if t.strip()]
    moved_indexes = {st.index for st in moved}
    for st in steps[build_index + 1:]:
        text = _normalised(str(plain(st.node)))
        if st.index not in moved_indexes and any(t in text for t in tags):
            label = st.node.get("name") or st.node.get("id") or st.uses or _first_words(str(st.node.get("run", "")))
            raise Decline(f"step {st.index + 1} (`{label}`) reads the pushed tag, which is computed at run time and exists only once the "
                          "merge job has created it; a step that reads it is not moved automatically")


# -- the restructure's hooks ---------------------------------------------------------------


def job_output_note(job_id: str, computing: list[StepRef], why: str) -> str:
    steps = ", ".join(f"`{st.node.get('id') or st.node.get('name')}`" for st in computing)
    return (f"Every leg computes the tags (step {steps}; {why}, so it is not repeated), and job `{job_id}` "
            "passes them to the merge job as job outputs. With a matrix, a job output is the value of "
            "whichever leg finished last: that is right here only because every leg computes the same value.")


def repeat_note(computing: list[StepRef]) -> str:
    steps = ", ".join(f"`{st.node.get('id') or st.node.get('name')}`" for st in computing)
    return (f"The merge job repeats the steps that compute the tags ({steps}): they do not depend on the "
            "build, so they compute the same tags there.")


def passed_on(workflow: Workflow, build: Build, tags: Tags, other: dict) -> Tags:
    """Tags whose values read steps before the build: repeated in the merge job when those are
    self-contained, else passed on as the build job's outputs."""
    steps = workflow.steps(build.job_id)
    chosen = variant(steps, tags.computing, other)
    if chosen.repeat:
        tags.note = repeat_note(tags.computing)
        return tags
    job = workflow.jobs[build.job_id]
    taken = {str(k) for k in job.get("outputs") or {}}
    computing = ([tags.meta] if tags.meta else []) + tags.computing
    note = job_output_note(build.job_id, computing, chosen.why)
    if tags.meta is not None:
        text, outputs = job_outputs(build.job_id, f"${{{{ steps.{tags.meta.node['id']}.outputs.tags }}}}", taken,
                                       computing, run_env(workflow, build), chosen.why)
        return Tags(tags.names, [], None, [], tags.annotations, runtime=text, job_outputs=outputs, note=note)
    literal, outputs = [], {}
    for tag in tags.literal:
        text, more = job_outputs(build.job_id, tag, taken, computing, run_env(workflow, build), chosen.why)
        literal.append(text)
        outputs.update(more)
    return Tags(tags.names, literal, None, [], tags.annotations, job_outputs=outputs, note=note)


def computed_tags(workflow: Workflow, build: Build, matrix_ok: bool, other: dict, raw: str) -> Tags:
    """A tag list computed at run time (a step writes it, an expression chooses it): the legs
    derive their names from it, and the merge job splits it when it runs."""
    raw = raw.strip()
    contexts = {c for expr in rs._EXPR.findall(raw) for c in re.findall(r"(?<![\w.-])([a-z_]+)\.", expr)}
    allowed = rs.ANYWHERE_CONTEXTS | {"steps"} | ({"matrix"} if matrix_ok else set())
    if contexts - allowed:
        raise Decline(f"the tags are computed by this job at run time (`{raw}`) from "
                      f"{', '.join(f'`{c}`' for c in sorted(contexts - allowed))}, which the merge job does not have")
    check_refs(workflow, build, raw)
    m = re.fullmatch(r"\$\{\{\s*steps\.([\w-]+)\.outputs\.tags\s*\}\}", raw)
    meta = next((st for st in workflow.steps(build.job_id) if m and st.node.get("id") == m.group(1)
                 and st.action == METADATA and st.input("images")), None)
    computing = rs._computing_steps(workflow, build, plain(meta.node) if meta else raw)
    steps = workflow.steps(build.job_id)
    chosen = variant(steps, computing, other)
    if chosen.repeat:
        note = repeat_note(([meta] if meta else []) + computing)
        if meta:
            return Tags([], [], meta, computing, names_from=raw, note=note)
        return Tags([], [], None, computing, runtime=one_line(raw), names_from=raw, note=note)
    job = workflow.jobs[build.job_id]
    taken = {str(k) for k in job.get("outputs") or {}}
    everything = ([meta] if meta else []) + computing
    text, outputs = job_outputs(build.job_id, one_line(raw), taken, everything, run_env(workflow, build),
                                   chosen.why)
    return Tags([], [], None, [], runtime=text, names_from=raw, job_outputs=outputs,
                note=job_output_note(build.job_id, everything, chosen.why))


def static_env(workflow: Workflow, job_id: str) -> set[str]:
    """Variables of the workflow's and the job's `env:` (the merge job has them too)."""
    scopes = (workflow.root.get("env"), workflow.jobs[job_id].get("env"))
    return {str(k) for scope in scopes if isinstance(scope, dict) for k in scope}


def env_writers_of(workflow: Workflow, build: Build, text: str) -> list[StepRef]:
    return env_writers(workflow.steps(build.job_id), build.step.index, text, static_env(workflow, build.job_id))


def run_env(workflow: Workflow, build: Build) -> set[str]:
    """Variables written to $GITHUB_ENV before the build that no `env:` of the merge job sets."""
    return set(run_time_env(workflow.steps(build.job_id), build.step.index)) - static_env(workflow, build.job_id)


def runtime_merge_script(tags: Tags, env: dict[str, str], json: str) -> MergeScript:
    """The merge job's scripts for a tag list read at run time (``env``: what the metadata JSON
    comes from when it is not the variable metadata-action exports, ``json``)."""
    if tags.runtime is not None:
        env.pop(json, None)
        env["MERGED_TAGS"] = tags.runtime
    image = None
    if tags.names:
        image = shell_value(tags.names[0], "MERGED_IMAGE", env).strip('"')
    annotations = annotation_words(tags.annotations, env)
    create, inspect = merge_scripts(tags.runtime is None, image, annotations, json)
    return MergeScript(create, inspect, env, [])


def names_id(step_ids: set[str]) -> str:
    return rs._unique_id(step_ids, "image-names")


def leg_outputs(tags: Tags, names_step_id: str | None, push: str, own: Exporter) -> str:
    """The leg's exporter: its names as written, or (computed) as its added step derives them."""
    if tags.names_from is None:
        return rs._outputs(tags.names, push, own.leg_attributes)
    quoted = f'"name={names_expression(str(names_step_id))}"'
    return rs._outputs(["-"], push, own.leg_attributes).replace("name=-", quoted, 1)


def computed_tag_edits(workflow: Workflow, job_id: str, images: list[Image], outputs_moved: bool) -> list[wedit.Edit]:
    """The build job's outputs that pass computed tags on, and the legs' step in front of each
    build that derives the image names from them (under the image's condition). Last of the
    edits: the step goes in front of the build wherever the other edits left it."""
    edits: list[wedit.Edit] = []
    passed = {name: value for image in images for name, value in image.tags.job_outputs.items()}
    if passed and outputs_moved:
        raise Decline(f"job `{job_id}`'s outputs move to the merge job, and would also have to pass the tags to it")
    for name, value in passed.items():
        edits.append(wedit.set_key(("jobs", job_id, "outputs"), name, value,
                                   describe="pass the computed tags on to the merge job"))
    for image in images:
        if image.tags.names_from is not None:
            fields = names_step(str(image.names_id), image.tags.names_from, image.label if image.key else "",
                                image.condition)
            edits.append(insert_before_step(workflow, job_id, image.build_id, fields))
    return edits


def insert_before_step(workflow: Workflow, job_id: str, step_id: str, fields: list) -> wedit.Edit:
    """A new step in front of the step ``step_id``, found where the earlier edits left it."""
    def index(steps) -> int:
        return next(i for i, st in enumerate(steps) if isinstance(st, dict) and st.get("id") == step_id)

    def splice(doc: Doc) -> Doc:
        steps = plain(doc.root)["jobs"][job_id]["steps"]
        return wedit.insert_step(workflow, job_id, index(steps), fields).splice(doc)

    def expect(data: Any) -> None:
        steps = data["jobs"][job_id]["steps"]
        wedit.insert_step(workflow, job_id, index(steps), fields).expect(data)

    return wedit.Edit(f"add the step `{dict(fields)['name']}` to job `{job_id}`", splice, expect)

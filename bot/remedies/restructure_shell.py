"""``native-runners`` / ``platform-matrix`` for builds written as `docker buildx build` in `run:`.

A `run:` step whose script (read by shell_parse) holds one ``docker buildx build ...
--platform a,b ... --push`` among statements whose effect is known becomes one leg per
platform: each leg runs the same script for its own platform and pushes by digest
(``--output type=image,...,push-by-digest=true``, ``--metadata-file`` to read the digest),
every other byte as written, and the merge job of the build-push-action restructure creates
the image with exactly the original ``-t`` words (shell_tags, when they read shell variables).
Several such steps in one job are each their own image, under their own condition. Anything
the parsed script cannot say for certain is declined, naming it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..validate import ValidationError
from ..workflows import edit as wedit
from ..workflows.model import Build, Workflow, canonical_platform
from ..workflows.yamldoc import Doc, plain
from . import restructure as rs
from .base import Change, Decline, Situation
from . import images, matrix_axes, merge_condition, merge_logins, runtime_tags, shell_parse, shell_tags
from .build_outputs import Exporter
from .images import Image
from .merge_job import merge_job, merged_tags
from .references import moved_steps
from .runtime_tags import check_tag_readers

METADATA_FILE = '"$RUNNER_TEMP/build-metadata.json"'
EXPORT_DIGEST = ("mkdir -p \"$RUNNER_TEMP/digests\"\n"
                 f"digest=\"$(jq -r '.\"containerimage.digest\"' {METADATA_FILE})\"\n"
                 "touch \"$RUNNER_TEMP/digests/${digest#sha256:}\"\n")


class Command:
    """The one ``docker buildx build`` of a script (shell_parse), and the script around it."""

    def __init__(self, script: str):
        self.script = shell_parse.parse(script)
        if len(self.script.builds) != 1:
            raise Decline("the `run:` script holds several `docker buildx build` commands; splitting them needs a "
                          "merge for each image")
        self.build = self.script.builds[0]
        self.options = self.build.options

    def all(self, *names: str) -> list[str | None]:
        return [None if w is None else w.value for w in self.build.all(*names)]

    def words(self, *names: str) -> list[shell_parse.Word]:
        return [w for w in self.build.all(*names) if w is not None]

    def rewritten(self, platform_var: str, output_var: str, metadata: str = METADATA_FILE) -> str:
        """The script with the leg's platform, push by digest and the metadata file in place of
        ``--platform``, the tags and ``--push``; every other byte as written. The added options
        follow ``--platform``, separated from it as it is from the word before it; a run of
        removed options goes with the space on one side of it, so no line is left empty."""
        data = self.script.data
        words = self.build.words
        removed = [any(o.start <= w.start < o.end for o in self.options if o.name in ("--tag", "-t", "--push"))
                   for w in words]
        edits: list[tuple[int, int, bytes]] = []
        for option in self.options:
            if option.name == "--platform":
                i = next(k for k, w in enumerate(words) if w.start == option.start)
                prev_end = words[i - 1].end if i else self.build.start + len(b"docker buildx build")
                sep = data[prev_end:option.start].decode()
                text = (f'--platform "${platform_var}"{sep}--output "${output_var}"{sep}'
                        f"--metadata-file {metadata}")
                edits.append((option.start, option.end, text.encode()))
        i = 0
        while i < len(words):
            if not removed[i]:
                i += 1
                continue
            j = i
            while j + 1 < len(words) and removed[j + 1]:
                j += 1
            prev_end = words[i - 1].end if i else self.build.start + len(b"docker buildx build")
            if j + 1 == len(words):
                edits.append((prev_end, words[j].end, b""))
            else:
                after = data[words[j].end:words[j + 1].start]
                keep = after if b"\n" in after else data[prev_end:words[i].start]
                edits.append((prev_end, words[j + 1].start, keep))
            i = j + 1
        for start, end, text in sorted(edits, reverse=True):
            data = data[:start] + text + data[end:]
        return data.decode()


# Contexts whose values a pull request, an issue or a release author can choose: expanded into a
# script they are a template injection (zizmor's finding on the whole script, which any change to
# the script would make new), so the rewritten script reads them from `env:` instead.
_UNTRUSTED = re.compile(r"\$\{\{\s*((?:github\.event|github\.head_ref|inputs|steps|needs|env|vars)\b[^}]*?)\s*\}\}")


def untrusted_to_env(script: str, taken: set[str]) -> tuple[str, dict[str, str]]:
    """``script`` with each expression over an untrusted context replaced by a variable, and
    those variables' values (named after the value's last two parts: `RELEASE_TAG_NAME`)."""
    moved: dict[str, str] = {}
    quoted = shell_parse.single_quoted(script)

    def replace(m: re.Match) -> str:
        if any(start <= m.start() < end for start, end in quoted):
            return m.group(0)  # in single quotes a variable would not be expanded: left as written
        expression = f"${{{{ {m.group(1).strip()} }}}}"
        found = next((k for k, v in moved.items() if v == expression), None)
        if found is None:
            parts = re.findall(r"[A-Za-z_][A-Za-z0-9_]*", m.group(1))
            wanted = found = "_".join(parts[-2:]).upper() or "VALUE"
            n = 2
            while found in taken or found in moved:
                found, n = f"{wanted}_{n}", n + 1
            moved[found] = expression
        return "${" + found + "}"

    return _UNTRUSTED.sub(replace, script), moved


def _other_dimensions(job_id: str, job: dict, workflow: Workflow) -> dict[str, list]:
    """The job's matrix over something else (image variants, services): the platform becomes one
    more dimension, and the merge job a matrix over the others (as for build-push-action)."""
    strategy = job.get("strategy")
    if strategy is None:
        return {}
    matrix = strategy.get("matrix") if isinstance(strategy, dict) else None
    if rs._already_native(job, workflow):
        raise Decline(f"job `{job_id}` already builds each platform on its native runner "
                      f"(`runs-on: {plain(job.get('runs-on'))}`)")
    if not isinstance(matrix, dict):
        raise Decline(f"job `{job_id}`'s `strategy` has no matrix of lists (`{plain(strategy)}`), which is not "
                      "extended automatically")
    return rs._other_axes(job_id, matrix)


def _tags(workflow: Workflow, build: Build, command: Command, other: dict) -> rs.Tags:
    literal = [t for value in command.all("--tag", "-t") for t in (value or "").split(",") if t]
    if not literal:
        raise Decline("the build command pushes without `-t`, so there is no name for the merged image")
    from_shell = shell_tags.shell_tags(workflow, build, command.script, command.build, other)
    if from_shell is not None:  # the tags read shell variables: the merge job sets them the same way
        return from_shell
    for tag in literal:
        if "$" in rs._EXPR.sub("", tag):
            raise Decline(f"the tag `{tag}` reads a shell variable, which the merge job cannot know")
        contexts = {c for expr in rs._EXPR.findall(tag) for c in re.findall(r"(?<![\w.-])([a-z_]+)\.", expr)}
        if contexts - rs.ANYWHERE_CONTEXTS - {"steps"} - ({"matrix"} if other else set()):
            raise Decline(f"the tag `{tag}` is computed by this job at run time, so the merge job cannot know it")
    # Values other steps compute (their outputs, `$GITHUB_ENV`) as for build-push-action's `tags`.
    return rs._tags(workflow, build, bool(other), other, raw=",".join(literal))


def _platforms(command: Command) -> list[str]:
    words = command.words("--platform")
    if len(words) != 1 or len(command.all("--platform")) != 1:
        raise Decline("the build command does not set `--platform` exactly once")
    if "$" in words[0].raw or "`" in words[0].raw:
        raise Decline(f"the platform list `{words[0].raw}` reads a variable, so the legs are not known")
    platforms = [p.strip() for p in words[0].value.split(",") if p.strip()]
    if len(platforms) < 2:
        raise Decline("the build has a single platform")
    return platforms


@dataclass
class _Step:
    """One shell build step of the job, prepared: its command, tags and names in the legs."""

    build: Build
    command: Command
    image: Image
    platforms: list[str]


def _prepare(workflow: Workflow, build: Build, other: dict, build_id: str) -> _Step:
    script = build.step.node.get("run")
    if not isinstance(script, str):
        raise Decline("the build step's `run:` is not a script")
    command = Command(script)
    pushes = command.all("--push")
    if not pushes or any(value not in (None, "true") for value in pushes):
        raise Decline("the build command does not `--push`; a per-platform build of an image that is not pushed "
                      "has nothing to merge")
    if command.all("--output", "-o", "--load", "--metadata-file"):
        raise Decline("the build command sets its own `--output`, `--load` or `--metadata-file`, which a "
                      "per-platform build would replace")
    platforms = _platforms(command)
    tags = _tags(workflow, build, command, other)
    condition = images.step_condition(build.step)
    images.check_condition(condition, build.step)
    image = Image(build_id, tags, condition, None, images.label(build.step))
    return _Step(build, command, image, platforms)


def _job_builds(workflow: Workflow, build: Build) -> list[Build]:
    """The job's shell build steps, split together (each its own image, merged under its own
    condition); a job that also builds another way is declined."""
    builds = [b for b in workflow.builds if b.job_id == build.job_id]
    for other in builds:
        if other.kind != "shell":
            raise Decline(f"job `{build.job_id}` has several build commands and step `{images.label(other.step)}` "
                          f"is a {other.kind} step; splitting them needs a merge for each image")
    return builds


def restructure(s: Situation, mode: str, workflow: Workflow, build: Build) -> Change:
    job_id = build.job_id
    job = workflow.jobs[job_id]
    other = _other_dimensions(job_id, job, workflow)
    steps = workflow.steps(job_id)
    step_ids = {str(st.node.get("id")) for st in steps if st.node.get("id")}
    prepared: list[_Step] = []
    for b in _job_builds(workflow, build):
        build_id = str(b.step.node.get("id") or rs._unique_id(step_ids, "build"))
        step_ids.add(build_id)
        prepared.append(_prepare(workflow, b, other, build_id))
    several = len(prepared) > 1
    platforms = prepared[0].platforms
    for p in prepared[1:]:
        if sorted(map(canonical_platform, p.platforms)) != sorted(map(canonical_platform, platforms)):
            raise Decline(f"step `{p.image.label}` builds {', '.join(p.platforms)} and step "
                          f"`{prepared[0].image.label}` {', '.join(platforms)}; legs for different platform lists "
                          "are not made automatically")
    first, last = prepared[0].build.step.index, prepared[-1].build.step.index
    if not merge_logins.logins(steps, first):
        raise Decline(f"job `{job_id}` does not log in to a registry before the build (with docker/login-action or "
                      "`docker login`), so the merge job would not know how to")
    legs = rs._legs(s, workflow, build, platforms, mode)
    all_images = [p.image for p in prepared]
    if several:
        keys = images.artifact_keys([i.build_id for i in all_images], job_id, [leg.pair for leg in legs], other)
        for image, key in zip(all_images, keys):
            image.key = key

    doc = workflow.doc
    merge_id = rs._unique_id(set(workflow.jobs), "merge")
    unit, dash = doc.indent_unit(), wedit.dash_offset(doc)
    key_col = doc.start(("jobs", job_id, next(iter(job))))[1]
    steps_line, steps_col = doc.start(build.step.path)
    step_dash = doc._dash(steps_line, steps_col)
    build_ids = tuple(i.build_id for i in all_images)
    moved = moved_steps(steps, first, build_ids if several else build_ids[0], None, matrix_keys=tuple(other),
                        builds=tuple(p.build.step.index for p in prepared))
    if any(st.index < last for st in moved):
        raise Decline(f"step `{images.label(next(st for st in moved if st.index < last))}` uses a pushed image "
                      "between two build steps; it is not moved to the merge job automatically")
    for p in prepared:
        check_tag_readers(steps, p.build.step.index, moved, p.image.tags.names_from)
        if "outputs" in job and rs.refers(job["outputs"], f"steps.{p.image.build_id}."):
            raise Decline(f"job `{job_id}`'s outputs read the build step, which would move to `{merge_id}`")
        if p.image.tags.names_from is not None:
            p.image.names_id = runtime_tags.names_id(step_ids)
            step_ids.add(p.image.names_id)

    pushed = merge_condition.pass_on(workflow, job_id, all_images, first)
    edits: list[wedit.Edit] = merge_job(workflow, job_id, merge_id, all_images, moved, False, unit,
                                        dash, other, key_col, step_dash, steps_col, passed=pushed)
    edits += merge_condition.output_edits(pushed, False)
    edits += rs._dependents(workflow, job_id, merge_id, False)
    platform_vars: dict[str, str] = {}
    for p in prepared:
        edits += _leg_build_edits(doc, workflow, job, p, several, platform_vars)
    for st in reversed(moved):
        edits.append(wedit.remove_entry(st.path, rs._drop_step(job_id, st.index), f"move step {st.index + 1}"))
    ref, release = wedit.uses(workflow, "actions/upload-artifact")
    for p in reversed(prepared):
        key, b = p.image.key, p.build.step.index
        digests = "$RUNNER_TEMP/digests" + (f"/{key}" if key else "")
        when = [("if", p.build.step.node["if"])] if "if" in p.build.step.node else []
        upload = [("name", "Upload digest" + (f" ({p.image.label})" if several else ""))] + when + [
            ("uses", ref),
            ("with", [("name", images.artifact_prefix(job_id, key, images.other_suffix(other))
                       + "${{ matrix.pair }}"),
                      ("path", "${{ runner.temp }}/" + digests.removeprefix("$RUNNER_TEMP/") + "/*"),
                      ("if-no-files-found", "error"), ("retention-days", 1)])]
        metadata = _metadata_file(p, several)
        export = [("name", "Export digest" + (f" ({p.image.label})" if several else ""))] + when + [
            ("run", f"mkdir -p \"{digests}\"\n"
                    f"digest=\"$(jq -r '.\"containerimage.digest\"' {metadata})\"\n"
                    f"touch \"{digests}/${{digest#sha256:}}\"\n")]
        upload_step = (upload, {"uses": release} if release else None)
        if b + 1 < len(steps) - len(moved):
            edits.append(wedit.insert_step(workflow, job_id, b + 1, *upload_step))
            edits.append(wedit.insert_step(workflow, job_id, b + 1, export))
        else:
            edits.append(wedit.insert_step(workflow, job_id, None, export))
            edits.append(wedit.insert_step(workflow, job_id, None, *upload_step))
    edits += rs._qemu_edits(steps[:first], job_id, legs, mode)
    edits += rs._leg_edits(workflow, job_id, legs, mode, {}, other, key_col, unit, dash)
    edits += runtime_tags.computed_tag_edits(workflow, job_id, all_images, False)
    try:
        result = wedit.apply(workflow, edits)
        for p in prepared:
            _check(result, job_id, merge_id, legs, p, platform_vars[p.image.build_id], several)
    except (wedit.EditError, ValidationError) as exc:
        raise Decline(str(exc)) from None
    if several:
        return rs._change(s, mode, workflow, job_id, merge_id, legs, None, None, moved, result, images=all_images)
    return rs._change(s, mode, workflow, job_id, merge_id, legs, all_images[0].tags, None, moved, result)


def _metadata_file(p: _Step, several: bool) -> str:
    return METADATA_FILE if not several else f'"$RUNNER_TEMP/build-metadata-{p.image.key}.json"'


def _leg_build_edits(doc: Doc, workflow: Workflow, job: dict, p: _Step, several: bool,
                     platform_vars: dict[str, str]) -> list[wedit.Edit]:
    """The build step in the legs: its script for the leg's platform, pushing by digest, with
    the values it reads through `env:` (no expression inside `run:`)."""
    build = p.build
    taken = {str(k) for scope in (build.step.node.get("env"), job.get("env"), workflow.root.get("env"))
             if isinstance(scope, dict) for k in scope}
    platform_var = rs._unique_id(taken, "BUILD_PLATFORM")
    output_var = rs._unique_id(taken | {platform_var}, "BUILD_OUTPUT")
    platform_vars[p.image.build_id] = platform_var
    leg_script, moved_expressions = untrusted_to_env(
        p.command.rewritten(platform_var, output_var, _metadata_file(p, several)), taken | {platform_var, output_var})
    edits = [_run_edit(doc, build, leg_script)]
    for name, expression in moved_expressions.items():
        edits.append(wedit.set_key(build.step.path + ("env",), name, expression,
                                   describe="pass a value the script read as an expression through env"))
    edits.append(wedit.set_key(build.step.path + ("env",), platform_var, "${{ matrix.platform }}",
                               describe="the leg's platform"))
    edits.append(wedit.set_key(build.step.path + ("env",), output_var,
                               runtime_tags.leg_outputs(p.image.tags, p.image.names_id, "true", Exporter()),
                               describe="push the leg by digest"))
    if "id" not in build.step.node:
        edits.append(wedit.set_key(build.step.path, "id", p.image.build_id,
                                   after="name" if "name" in build.step.node else "run", describe="name the build step"))
    return edits


def _run_edit(doc: Doc, build: Build, script: str) -> wedit.Edit:
    """The build step's new `run:`, a literal block when the script is over several lines (the
    key's line keeps what is before it, such as the step's dash)."""
    path = build.step.path + ("run",)
    describe = "build the leg's platform and push it by digest"
    if "\n" not in script.rstrip("\n"):
        return wedit.set_value(path, script, describe, keep_comment=False)
    unit, dash = doc.indent_unit(), wedit.dash_offset(doc)

    def lines_for(d) -> list[str]:
        first, col = d.start(path)
        lines = wedit.block_lines("run", script, col, unit, dash)
        return [d.lines[first].rstrip("\r\n")[:col] + lines[0][col:]] + lines[1:]

    def expect(data) -> None:
        data["jobs"][build.job_id]["steps"][build.step.index]["run"] = script

    return wedit.replace_entry(path, lines_for, expect, describe)


def _check(workflow: Workflow, job_id: str, merge_id: str, legs: list, p: _Step, platform_var: str,
           several: bool) -> None:
    """Structure of the result: one platform per leg, the legs push digests only, the merge job
    makes exactly the original tags."""
    tags, build_id = p.image.tags, p.image.build_id
    job = plain(workflow.jobs[job_id])
    include = matrix_axes.expand(job["strategy"]["matrix"])
    if {e.get("platform") for e in include} != {leg.platform for leg in legs}:
        raise ValidationError("the legs do not build one platform each")
    step = next(st for st in job["steps"] if st.get("id") == build_id)
    leg = Command(step["run"])
    if [w.raw for w in leg.words("--platform")] != [f'"${platform_var}"'] or leg.words("--tag", "-t") \
            or leg.build.has("--push"):
        raise ValidationError("a leg pushes a tag instead of a digest")
    if "push-by-digest=true" not in step["env"][leg.words("--output")[0].raw.strip('"').lstrip("$")]:
        raise ValidationError("a leg does not push by digest")
    merge = plain(workflow.jobs[merge_id])
    create_id = build_id
    if tags.runtime is not None:
        create = next((s for s in merge["steps"] if s.get("id") == create_id), {})
        if (create.get("env") or {}).get("MERGED_TAGS") != tags.runtime:
            raise ValidationError("the merge job does not read the tags the build computes")
    elif tags.script is not None:
        if merged_tags(merge, create_id) != tags.script.tag_words:
            raise ValidationError("the merge job's tags differ from the original's")
    elif merged_tags(merge, create_id) != tags.literal:
        raise ValidationError("the merge job's tags differ from the original's")

"""``native-runners`` / ``platform-matrix`` for a build written as one shell command.

A `run:` step whose whole script is one ``docker buildx build ... --platform a,b ... --push``
becomes one leg per platform: each leg runs the same command for its own platform and pushes
by digest (``--output type=image,...,push-by-digest=true``, ``--metadata-file`` to read the
digest), and the merge job of the build-push-action restructure creates the image with exactly
the original ``-t`` tags. Anything a single parsed command cannot say for certain (several
commands, operators, substitutions, variables in the platform list, no ``--push``) is declined.
"""

from __future__ import annotations

import re
import shlex

from ..validate import ValidationError
from ..workflows import edit as wedit
from ..workflows.model import Build, Workflow
from ..workflows.yamldoc import Doc, plain
from . import restructure as rs
from .base import Change, Decline, Situation
from . import matrix_axes, merge_logins, runtime_tags
from .build_outputs import Exporter
from .images import Image
from .merge_job import merge_job, merged_tags
from .references import moved_steps
from .runtime_tags import check_tag_readers

# One shell word as written: unquoted characters and quoted runs, side by side.
_RAW_WORD = re.compile(r"""(?:[^\s'"\\]|\\.|'[^']*'|"(?:\\.|[^"\\])*")+""")
_OPERATOR = re.compile(r"^[;&|<>()]+$")
# Options that take a value (as the next word or after `=`); the rest of buildx's are flags.
_VALUED = {"--platform", "--tag", "-t", "--file", "-f", "--build-arg", "--output", "-o", "--cache-from",
           "--cache-to", "--target", "--label", "--secret", "--builder", "--metadata-file", "--iidfile",
           "--progress", "--ssh", "--build-context", "--attest", "--sbom", "--provenance", "--network",
           "--annotation", "--shm-size", "--ulimit", "--add-host", "--allow", "--call", "--cgroup-parent"}
METADATA_FILE = '"$RUNNER_TEMP/build-metadata.json"'
EXPORT_DIGEST = ("mkdir -p \"$RUNNER_TEMP/digests\"\n"
                 f"digest=\"$(jq -r '.\"containerimage.digest\"' {METADATA_FILE})\"\n"
                 "touch \"$RUNNER_TEMP/digests/${digest#sha256:}\"\n")


class Command:
    """The one ``docker buildx build`` of a script, as raw words (to write back as written) and
    the options this restructure reads or replaces."""

    def __init__(self, script: str):
        joined = re.sub(r"\\\r?\n[ \t]*", " ", script)
        lines = [line for line in joined.splitlines() if line.strip()]
        if len(lines) != 1:
            raise Decline("the `run:` script holds several commands; only a script that is a single "
                          "`docker buildx build` is split per platform")
        # GitHub expands `${{ }}` before the shell runs: each is one opaque piece of a word.
        expressions: list[str] = []

        def hide(m: re.Match) -> str:
            expressions.append(m.group(0))
            return f"GHEXPR{len(expressions) - 1}X"

        line = rs._EXPR.sub(hide, lines[0].strip())
        if "`" in line or "$(" in line:
            raise Decline("the build command uses a command substitution, which is not rewritten automatically")
        try:
            lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
            lexer.whitespace_split = True
            tokens = list(lexer)
            values = shlex.split(line, comments=True)
        except ValueError as exc:
            raise Decline(f"the build command cannot be parsed as one shell command ({exc})") from None
        if any(_OPERATOR.match(t) for t in tokens) or "#" in line and values != shlex.split(line):
            raise Decline("the `run:` script chains, redirects or comments its build command; only a single "
                          "`docker buildx build` is split per platform")
        self.raw = _RAW_WORD.findall(line)
        if [shlex.split(w)[0] if shlex.split(w) else "" for w in self.raw] != values:
            raise Decline("the build command's words cannot be told apart safely")
        if values[:3] != ["docker", "buildx", "build"]:
            raise Decline(f"the command is `{' '.join(values[:3])}`, not `docker buildx build`")
        joined_short = [w for w in values[3:] if re.match(r"^-[A-Za-z]{2,}", w)]
        if joined_short:
            raise Decline(f"the build command's `{joined_short[0]}` joins a short option and its value, which is "
                          "not rewritten automatically")

        def show(text: str) -> str:
            return re.sub(r"GHEXPR(\d+)X", lambda m: expressions[int(m.group(1))], text)

        self.raw = [show(w) for w in self.raw]
        values = [show(v) for v in values]
        self.values = values
        self.options: list[tuple[str, str | None, int, int]] = []  # (option, value, first word, last word)
        i = 3
        while i < len(values):
            word, value, first = values[i], None, i
            if word.startswith("--") and "=" in word:
                word, value = word.split("=", 1)
            elif word in _VALUED:
                if i + 1 >= len(values):
                    raise Decline(f"`{word}` has no value in the build command")
                i += 1
                value = values[i]
            if word.startswith("-"):
                self.options.append((word, value, first, i))
            i += 1

    def all(self, *names: str) -> list[str | None]:
        return [value for name, value, _, _ in self.options if name in names]

    def rewritten(self, platform_var: str, output_var: str, continued: bool) -> str:
        """The command with the leg's platform, push by digest and the metadata file in place of
        ``--platform``, the tags and ``--push``; every other word as written. ``continued``: one
        option a line, as a script written over continuation lines was."""
        groups = [["docker buildx build"], [f'--platform "${platform_var}"'], [f'--output "${output_var}"'],
                  [f"--metadata-file {METADATA_FILE}"]]
        starts = {first: (name, last) for name, _, first, last in self.options}
        j = 3
        while j < len(self.raw):
            name, last = starts.get(j, (None, j))
            if name not in ("--platform", "--tag", "-t", "--push"):
                groups.append(self.raw[j:last + 1])
            j = last + 1
        if not continued:
            return " ".join(w for group in groups for w in group)
        return " \\\n  ".join(" ".join(group) for group in groups) + "\n"


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
    literal = [t for value in command.all("--tag", "-t") for t in value.split(",") if t]
    if not literal:
        raise Decline("the build command pushes without `-t`, so there is no name for the merged image")
    for tag in literal:
        if "$" in rs._EXPR.sub("", tag):
            raise Decline(f"the tag `{tag}` reads a shell variable, which the merge job cannot know")
        contexts = {c for expr in rs._EXPR.findall(tag) for c in re.findall(r"(?<![\w.-])([a-z_]+)\.", expr)}
        if contexts - rs.ANYWHERE_CONTEXTS - {"steps"} - ({"matrix"} if other else set()):
            raise Decline(f"the tag `{tag}` is computed by this job at run time, so the merge job cannot know it")
    # Values other steps compute (their outputs, `$GITHUB_ENV`) as for build-push-action's `tags`.
    return rs._tags(workflow, build, bool(other), other, raw=",".join(literal))


def _platforms(command: Command) -> list[str]:
    values = command.all("--platform")
    if len(values) != 1:
        raise Decline("the build command does not set `--platform` exactly once")
    if "$" in values[0]:
        raise Decline(f"the platform list `{values[0]}` reads a variable, so the legs are not known")
    platforms = [p.strip() for p in values[0].split(",") if p.strip()]
    if len(platforms) < 2:
        raise Decline("the build has a single platform")
    return platforms


def restructure(s: Situation, mode: str, workflow: Workflow, build: Build) -> Change:
    job_id = build.job_id
    job = workflow.jobs[job_id]
    other = _other_dimensions(job_id, job, workflow)
    if [b for b in workflow.builds if b.job_id == job_id and b is not build]:
        raise Decline(f"job `{job_id}` has several build commands; splitting them needs a merge for each image")
    script = build.step.node.get("run")
    if not isinstance(script, str):
        raise Decline("the build step's `run:` is not a script")
    command = Command(script)
    pushes = [value for name, value, _, _ in command.options if name == "--push"]
    if not pushes or any(value not in (None, "true") for value in pushes):
        raise Decline("the build command does not `--push`; a per-platform build of an image that is not pushed "
                      "has nothing to merge")
    if command.all("--output", "-o", "--load", "--metadata-file"):
        raise Decline("the build command sets its own `--output`, `--load` or `--metadata-file`, which a "
                      "per-platform build would replace")
    platforms = _platforms(command)
    tags = _tags(workflow, build, command, other)
    steps = workflow.steps(job_id)
    if not merge_logins.logins(steps, build.step.index):
        raise Decline(f"job `{job_id}` does not log in to a registry before the build (with docker/login-action or "
                      "`docker login`), so the merge job would not know how to")
    legs = rs._legs(s, workflow, build, platforms, mode)

    doc = workflow.doc
    step_ids = {str(st.node.get("id")) for st in steps if st.node.get("id")}
    build_id = str(build.step.node.get("id") or rs._unique_id(step_ids, "build"))
    merge_id = rs._unique_id(set(workflow.jobs), "merge")
    unit, dash = doc.indent_unit(), wedit.dash_offset(doc)
    key_col = doc.start(("jobs", job_id, next(iter(job))))[1]
    steps_line, steps_col = doc.start(build.step.path)
    step_dash = doc._dash(steps_line, steps_col)
    b = build.step.index
    moved = moved_steps(steps, b, build_id, None, matrix_keys=tuple(other))
    check_tag_readers(steps, b, moved, tags.names_from)
    if "outputs" in job and rs.refers(job["outputs"], f"steps.{build_id}."):
        raise Decline(f"job `{job_id}`'s outputs read the build step, which would move to `{merge_id}`")

    taken = {str(k) for scope in (build.step.node.get("env"), job.get("env"), workflow.root.get("env"))
             if isinstance(scope, dict) for k in scope}
    platform_var = rs._unique_id(taken, "BUILD_PLATFORM")
    output_var = rs._unique_id(taken | {platform_var}, "BUILD_OUTPUT")

    image = Image(build_id, tags, None,
                  names_id=runtime_tags.names_id(step_ids) if tags.names_from is not None else None)
    edits: list[wedit.Edit] = merge_job(workflow, job_id, merge_id, [image], moved, False, unit,
                                        dash, other, key_col, step_dash, steps_col)
    edits += rs._dependents(workflow, job_id, merge_id, False)
    for st in reversed(moved):
        edits.append(wedit.remove_entry(st.path, rs._drop_step(job_id, st.index), f"move step {st.index + 1}"))
    ref, release = wedit.uses(workflow, "actions/upload-artifact")
    upload = [("name", "Upload digest"), ("uses", ref),
              ("with", [("name", f"digests-{job_id}-{''.join(f'${{{{ matrix.{k} }}}}-' for k in other)}${{{{ matrix.pair }}}}"), ("path", "${{ runner.temp }}/digests/*"),
                        ("if-no-files-found", "error"), ("retention-days", 1)])]
    export = [("name", "Export digest"), ("run", EXPORT_DIGEST)]
    upload_step = (upload, {"uses": release} if release else None)
    if b + 1 < len(steps) - len(moved):
        edits.append(wedit.insert_step(workflow, job_id, b + 1, *upload_step))
        edits.append(wedit.insert_step(workflow, job_id, b + 1, export))
    else:
        edits.append(wedit.insert_step(workflow, job_id, None, export))
        edits.append(wedit.insert_step(workflow, job_id, None, *upload_step))

    # The leg's values reach the script through `env:` (no expression inside `run:`).
    edits.append(_run_edit(doc, build, command.rewritten(platform_var, output_var, "\\\n" in script)))
    edits.append(wedit.set_key(build.step.path + ("env",), platform_var, "${{ matrix.platform }}",
                               describe="the leg's platform"))
    edits.append(wedit.set_key(build.step.path + ("env",), output_var, runtime_tags.leg_outputs(tags, image.names_id, "true", Exporter()),
                               describe="push the leg by digest"))
    if "id" not in build.step.node:
        edits.append(wedit.set_key(build.step.path, "id", build_id, after="name" if "name" in build.step.node else "run",
                                   describe="name the build step"))
    edits += rs._qemu_edits(steps[:b], job_id, legs, mode)
    edits += rs._leg_edits(workflow, job_id, legs, mode, {}, other, key_col, unit, dash)
    edits += runtime_tags.computed_tag_edits(workflow, job_id, [image], False)
    try:
        result = wedit.apply(workflow, edits)
        _check(result, job_id, merge_id, legs, tags, build_id, platform_var)
    except (wedit.EditError, ValidationError) as exc:
        raise Decline(str(exc)) from None
    return rs._change(s, mode, workflow, job_id, merge_id, legs, tags, None, moved, result)


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


def _check(workflow: Workflow, job_id: str, merge_id: str, legs: list, tags: rs.Tags, build_id: str,
           platform_var: str) -> None:
    """Structure of the result: one platform per leg, the legs push digests only, the merge job
    makes exactly the original tags."""
    job = plain(workflow.jobs[job_id])
    include = matrix_axes.expand(job["strategy"]["matrix"])
    if {e.get("platform") for e in include} != {leg.platform for leg in legs}:
        raise ValidationError("the legs do not build one platform each")
    step = next(st for st in job["steps"] if st.get("id") == build_id)
    leg = Command(step["run"])
    if leg.all("--platform") != [f"${platform_var}"] or leg.all("--tag", "-t") or "--push" in leg.values:
        raise ValidationError("a leg pushes a tag instead of a digest")
    if "push-by-digest=true" not in step["env"][leg.all("--output")[0].lstrip("$")]:
        raise ValidationError("a leg does not push by digest")
    merge = plain(workflow.jobs[merge_id])
    if tags.runtime is not None:
        create = next((s for s in merge["steps"] if "imagetools create" in str(s.get("run", ""))), {})
        if (create.get("env") or {}).get("MERGED_TAGS") != tags.runtime:
            raise ValidationError("the merge job does not read the tags the build computes")
    elif merged_tags(merge) != tags.literal:
        raise ValidationError("the merge job's tags differ from the original's")

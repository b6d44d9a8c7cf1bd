"""Workflows as the fix engine sees them: jobs, steps, and the steps that build images."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from .yamldoc import Doc, YamlError

BUILD_PUSH = "docker/build-push-action"
BAKE = "docker/bake-action"
SETUP_QEMU = "docker/setup-qemu-action"
SETUP_BUILDX = "docker/setup-buildx-action"

_EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
_SHELL_BUILD = re.compile(r"\bdocker\s+(?:buildx\s+build|build|buildx\s+bake)\b")


def action_name(uses: str | None) -> tuple[str | None, str | None]:
    """``docker/build-push-action@v6`` -> ("docker/build-push-action", "v6")."""
    if not uses or not isinstance(uses, str):
        return None, None
    name, _, ref = uses.strip().partition("@")
    return name.lower(), ref or None


@dataclass
class StepRef:
    job_id: str
    index: int
    node: CommentedMap

    @property
    def path(self) -> tuple:
        return ("jobs", self.job_id, "steps", self.index)

    @property
    def uses(self) -> str | None:
        value = self.node.get("uses")
        return str(value) if value is not None else None

    @property
    def action(self) -> str | None:
        return action_name(self.uses)[0]

    @property
    def with_(self) -> CommentedMap | None:
        value = self.node.get("with")
        return value if isinstance(value, CommentedMap) else None

    def input(self, key: str) -> str | None:
        w = self.with_
        if w is None or key not in w or w[key] is None:
            return None
        return str(w[key])


@dataclass
class Build:
    """One step that builds an image, with what the fix engine needs to know about it."""

    workflow: "Workflow"
    job_id: str
    step: StepRef
    kind: str  # build-push-action | bake-action | shell
    platforms: list[str] | None  # None: not known from the workflow text
    platforms_path: tuple | None  # where the literal list lives (with.platforms or an env var)
    platforms_note: str  # how the platforms were found, for explanations and declines
    context: str
    dockerfile: str | None
    push: str | None  # "true", "false", an expression, or None (not pushing)
    load: bool
    matrix_platform: bool = False  # platforms come from a matrix that is already per-platform

    @property
    def job(self) -> CommentedMap:
        return self.workflow.jobs[self.job_id]

    @property
    def multi_platform(self) -> bool:
        return bool(self.platforms) and len(self.platforms) > 1

    def describe(self) -> str:
        return f"{self.workflow.path} job `{self.job_id}` step {self.step.index + 1} ({self.kind})"


@dataclass
class Workflow:
    path: str
    doc: Doc
    builds: list[Build] = field(default_factory=list)

    @classmethod
    def parse(cls, path: str, text: str) -> "Workflow":
        doc = Doc.parse(path, text)
        if not isinstance(doc.root, CommentedMap):
            raise YamlError(f"{path}: a workflow must be a mapping")
        workflow = cls(path, doc)
        workflow.builds = find_builds(workflow)
        return workflow

    @property
    def root(self) -> CommentedMap:
        return self.doc.root

    @property
    def jobs(self) -> CommentedMap:
        jobs = self.root.get("jobs")
        return jobs if isinstance(jobs, CommentedMap) else CommentedMap()

    def steps(self, job_id: str) -> list[StepRef]:
        steps = self.jobs[job_id].get("steps")
        if not isinstance(steps, CommentedSeq):
            return []
        return [StepRef(job_id, i, s) for i, s in enumerate(steps) if isinstance(s, CommentedMap)]

    def env_value(self, name: str, job_id: str, step: StepRef | None = None) -> tuple[str | None, tuple | None]:
        """Resolve ``env.NAME`` from the step, job or workflow env, with where it is set."""
        scopes = []
        if step is not None:
            scopes.append((step.node.get("env"), step.path + ("env",)))
        scopes.append((self.jobs[job_id].get("env"), ("jobs", job_id, "env")))
        scopes.append((self.root.get("env"), ("env",)))
        for env, path in scopes:
            if isinstance(env, CommentedMap) and name in env:
                return str(env[name]), path + (name,)
        return None, None


# Spellings of one platform: BuildKit normalises them the same way (containerd's platforms package).
_PLATFORM_ALIASES = {"linux/arm64/v8": "linux/arm64", "linux/aarch64": "linux/arm64", "linux/x86_64": "linux/amd64",
                     "linux/x86-64": "linux/amd64", "linux/amd64/v1": "linux/amd64", "linux/arm/v8": "linux/arm64"}


def canonical_platform(platform: str) -> str:
    """``linux/arm64/v8`` is ``linux/arm64``; ``linux/x86_64`` is ``linux/amd64``."""
    key = platform.strip().lower()
    return _PLATFORM_ALIASES.get(key, key)


def split_platforms(text: str) -> list[str]:
    return [p.strip() for p in re.split(r"[,\n]", text) if p.strip()]


def _resolve_platforms(workflow: Workflow, job_id: str, step: StepRef) -> tuple[list[str] | None, tuple | None, str, bool]:
    raw = step.input("platforms")
    path = step.path + ("with", "platforms")
    if raw is None:
        return None, None, "no `platforms` input: the runner's own platform", False
    m = _EXPRESSION.fullmatch(raw.strip())
    if m:
        expr = m.group(1)
        env = re.fullmatch(r"env\.([A-Za-z_][A-Za-z0-9_]*)", expr)
        if env:
            value, env_path = workflow.env_value(env.group(1), job_id, step)
            if value is None:
                return None, None, f"`{raw.strip()}` is not set in the workflow", False
            if _EXPRESSION.search(value):
                return None, None, f"`{raw.strip()}` is computed at run time", False
            return split_platforms(value), env_path, f"from `{raw.strip()}`", False
        inp = re.fullmatch(r"(?:inputs|github\.event\.inputs)\.([A-Za-z_][A-Za-z0-9_-]*)", expr)
        if inp:
            default = input_default(workflow, inp.group(1))
            if default and not _EXPRESSION.search(default):
                # Known for a run with the default; a caller or a dispatch may pass others, so the
                # text is not edited (platforms_path stays None).
                return (split_platforms(default), None,
                        f"`{raw.strip()}` is computed at run time; its default is `{default}`", False)
            return None, None, f"`{raw.strip()}` is computed at run time", False
        matrix = re.fullmatch(r"matrix\.([A-Za-z_][A-Za-z0-9_-]*)(?:\.([A-Za-z_][A-Za-z0-9_-]*))?", expr)
        if matrix:
            legs = _matrix_values(workflow.jobs[job_id], matrix.group(1), matrix.group(2))
            if legs:
                return legs, None, f"one per matrix leg (`{raw.strip()}`)", True
        output = re.fullmatch(r"steps\.([A-Za-z_][\w-]*)\.outputs\.([A-Za-z_][\w-]*)", expr)
        if output:
            written = _written_output(workflow, job_id, step, output.group(1), output.group(2))
            if written:
                # Known from the script; the text stays the script's (platforms_path stays None).
                return (split_platforms(written), None, f"`{raw.strip()}` is computed at run time by step "
                        f"`{output.group(1)}`, whose script writes `{written}`", False)
        return None, None, f"`{raw.strip()}` is computed at run time", False
    if _EXPRESSION.search(raw):
        return None, None, f"`{raw.strip()}` is partly computed at run time", False
    return split_platforms(raw), path, "from the step's `platforms` input", False


def _written_output(workflow: Workflow, job_id: str, step: StepRef, step_id: str, name: str) -> str | None:
    """The value a `run:` step before ``step`` writes to output ``name`` when its script states
    it literally: one write (``echo "name=linux/amd64,linux/arm64" >> $GITHUB_OUTPUT``), its
    value literal or a variable the script sets once, literally. Else None (computed)."""
    source = next((st for st in workflow.steps(job_id) if st.node.get("id") == step_id and st.index < step.index), None)
    script = source.node.get("run") if source is not None and source.uses is None else None
    if not isinstance(script, str):
        return None
    writes = re.findall(rf"""^\s*(?:echo|printf)\s+["']?{re.escape(name)}=([^"'\n>]*)["']?\s*>>\s*"?\$\{{?GITHUB_OUTPUT\b""",
                        script, re.MULTILINE)
    if len(writes) != 1 or len(re.findall(rf"\b{re.escape(name)}=", script)) != 1:
        return None
    value = writes[0].strip()
    variable = re.fullmatch(r"\$\{?([A-Za-z_]\w*)\}?", value)
    if variable:
        assigned = re.findall(rf"""^\s*(?:export\s+|readonly\s+)?{variable.group(1)}=(.*)$""", script, re.MULTILINE)
        if len(assigned) != 1:
            return None
        value = assigned[0].strip().strip("\"'")
    if not value or re.search(r"[$`\s]", value) or not all(re.fullmatch(r"[a-z0-9]+/[\w/.-]+", p)
                                                           for p in split_platforms(value)):
        return None
    return value


def input_default(workflow: Workflow, name: str) -> str | None:
    """The default of a ``workflow_dispatch`` / ``workflow_call`` input (None when unset or when
    the two triggers disagree)."""
    on = workflow.root.get("on")
    defaults = set()
    if isinstance(on, dict):
        for trigger in ("workflow_dispatch", "workflow_call"):
            inputs = (on.get(trigger) or {}).get("inputs") if isinstance(on.get(trigger), dict) else None
            spec = inputs.get(name) if isinstance(inputs, dict) else None
            if isinstance(spec, dict) and spec.get("default") is not None:
                defaults.add(str(spec["default"]))
    return defaults.pop() if len(defaults) == 1 else None


def _matrix_values(job: CommentedMap, key: str, field: str | None = None) -> list[str]:
    """The platforms of ``matrix.<key>`` (or ``matrix.<key>.<field>`` where each value of the
    matrix key is a mapping, such as ``{platform: linux/arm64, cache: ...}``)."""
    matrix = (job.get("strategy") or {}).get("matrix") if isinstance(job.get("strategy"), dict) else None
    if not isinstance(matrix, dict):
        return []
    if field is not None:
        entries = matrix.get(key)
        if not isinstance(entries, list) or not all(isinstance(e, dict) and field in e for e in entries) \
                or "include" in matrix:
            return []
        return [p for e in entries for p in split_platforms(str(e[field]))]
    values = []
    if isinstance(matrix.get(key), list):
        values += [str(v) for v in matrix[key]]
    for entry in matrix.get("include") or []:
        if isinstance(entry, dict) and key in entry:
            values.append(str(entry[key]))
    return [p for v in values for p in split_platforms(v)]


def _dockerfile_path(context: str, file: str | None) -> str | None:
    """build-push-action's defaults: context = the repository, file = {context}/Dockerfile."""
    if file and _EXPRESSION.search(file):
        return None
    if context and _EXPRESSION.search(context) or context.startswith(("http://", "https://", "git@")):
        return _clean_path(file) if file else None
    if file:
        return _clean_path(file)
    return _clean_path(f"{context}/Dockerfile")


def _clean_path(path: str) -> str:
    parts = []
    for part in path.replace("\\", "/").split("/"):
        if part in ("", "."):
            continue
        if part == ".." and parts:
            parts.pop()
            continue
        parts.append(part)
    return "/".join(parts)


def _shell_build(workflow: Workflow, job_id: str, step: StepRef) -> Build | None:
    script = step.node.get("run")
    if not isinstance(script, str) or not _SHELL_BUILD.search(script):
        return None
    joined = re.sub(r"\\\n\s*", " ", script)
    for line in joined.splitlines():
        m = _SHELL_BUILD.search(line)
        if not m:
            continue
        try:
            words = shlex.split(line[m.start():], comments=True)
        except ValueError:
            words = line[m.start():].split()
        platforms, file, context, push, load = None, None, ".", None, False
        positional = []
        i = 0
        while i < len(words):
            word = words[i]
            value = None
            if "=" in word and word.startswith("--"):
                word, value = word.split("=", 1)
            if word in ("--platform", "--file", "-f", "--tag", "-t", "--build-arg", "--output", "-o",
                        "--cache-from", "--cache-to", "--target", "--label", "--secret", "--builder"):
                if value is None:
                    i += 1
                    value = words[i] if i < len(words) else ""
                if word == "--platform":
                    platforms = split_platforms(value)
                elif word in ("--file", "-f"):
                    file = value
            elif word == "--push":
                push = "true"
            elif word == "--load":
                load = True
            elif word in ("&&", "||", ";", "|"):
                break
            elif not word.startswith("-") and word not in ("docker", "buildx", "build", "bake"):
                positional.append(word)
            i += 1
        if positional:
            context = positional[-1]
        note = "from `--platform` in a shell command" if platforms else "no `--platform` in the shell command"
        return Build(workflow, job_id, step, "shell", platforms, None, note, context,
                     _dockerfile_path(context, file), push, load)
    return None


def find_builds(workflow: Workflow) -> list[Build]:
    builds = []
    for job_id in workflow.jobs:
        job = workflow.jobs[job_id]
        if not isinstance(job, CommentedMap):
            continue
        for step in workflow.steps(job_id):
            action = step.action
            if action == BUILD_PUSH:
                platforms, path, note, matrix = _resolve_platforms(workflow, job_id, step)
                context = step.input("context") or "."
                push = step.input("push")
                outputs = step.input("outputs") or ""
                if push is None and "push=true" in outputs.replace(" ", ""):
                    push = "true"
                builds.append(Build(
                    workflow, job_id, step, "build-push-action", platforms, path, note, context,
                    _dockerfile_path(context, step.input("file")), push,
                    (step.input("load") or "").strip().lower() == "true", matrix,
                ))
            elif action == BAKE:
                builds.append(Build(workflow, job_id, step, "bake-action", None, None,
                                    "set in the bake file", step.input("workdir") or ".", None,
                                    step.input("push"), (step.input("load") or "").lower() == "true"))
            else:
                shell = _shell_build(workflow, job_id, step)
                if shell:
                    builds.append(shell)
    return builds


def reusable_call(job: Any) -> str | None:
    """The workflow a job calls (``uses:`` at job level), if any."""
    if isinstance(job, dict) and isinstance(job.get("uses"), str):
        return job["uses"]
    return None

"""Tags a shell build writes with shell variables (`-t "acme/app:${VERSION#v}"`), for the merge job.

Every leg runs the script to the same values, and the merge job creates the image with the tag
words exactly as written: its create step sets the same variables the same way, by repeating
the script's assignments the tags read (in order, as written) and the build step's `env:`
entries they read. The job's and the workflow's `env:` and GitHub's own run-wide variables
(`GITHUB_REF`, `GITHUB_SHA`, ...) are there anyway. A tag that reads a value the merge job
cannot know the same way is declined: a command substitution (`$(git describe)`, `$(date)`),
a variable an earlier step wrote to `$GITHUB_ENV` or the runner sets per machine, a `${{ }}`
expression over a context the merge job does not have.

`${{ }}` expressions in the repeated text reach the merge job's script through `env:` (an
expression expanded into a script is a template injection).
"""

from __future__ import annotations

import re

from ..workflows.model import Build, Workflow
from .base import Decline
from .images import Tags
from .merge_job import MergeScript
from .shell_parse import BuildCommand, Script, Word

_EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}", re.DOTALL)
_READ = re.compile(r"\$\{?#?!?([A-Za-z_]\w*)")
# Set by GitHub to the same value in every job of a run (not GITHUB_JOB, not RUNNER_*).
RUN_WIDE = {"GITHUB_REF", "GITHUB_REF_NAME", "GITHUB_REF_TYPE", "GITHUB_REF_PROTECTED", "GITHUB_SHA",
            "GITHUB_REPOSITORY", "GITHUB_REPOSITORY_OWNER", "GITHUB_REPOSITORY_ID", "GITHUB_REPOSITORY_OWNER_ID",
            "GITHUB_RUN_ID", "GITHUB_RUN_NUMBER", "GITHUB_RUN_ATTEMPT", "GITHUB_EVENT_NAME", "GITHUB_ACTOR",
            "GITHUB_ACTOR_ID", "GITHUB_TRIGGERING_ACTOR", "GITHUB_WORKFLOW", "GITHUB_WORKFLOW_REF",
            "GITHUB_WORKFLOW_SHA", "GITHUB_HEAD_REF", "GITHUB_BASE_REF", "GITHUB_SERVER_URL", "GITHUB_API_URL",
            "GITHUB_GRAPHQL_URL", "CI", "GITHUB_ACTIONS"}
ALLOWED_CONTEXTS = {"github", "vars", "inputs", "secrets", "env"}


def _unexpressed(text: str) -> str:
    return _EXPR.sub("", text)


def reads(text: str) -> list[str]:
    """The shell variables ``text`` reads (outside `${{ }}` and single quotes)."""
    outside = re.sub(r"'[^']*'", "", _unexpressed(text))
    return list(dict.fromkeys(_READ.findall(outside)))


def repository(word: Word) -> str:
    """The image name of a tag word whose name part is literal (`"acme/app:${VERSION}"`)."""
    shape = _EXPR.sub(lambda m: "E" * len(m.group(0)), word.raw)
    cut = min([i for i in (shape.find("$"), shape.find("`")) if i >= 0], default=len(shape))
    prefix = word.raw[:cut].replace('"', "").replace("'", "")
    head = _EXPR.sub("E", prefix)
    if ":" not in head.rsplit("/", 1)[-1]:
        raise Decline(f"the image name of the tag `{word.raw}` reads a shell variable, so the name the legs push "
                      "by digest is not known from the workflow")
    return prefix[:prefix.rfind(":")]


def shell_tags(workflow: Workflow, build: Build, script: Script, command: BuildCommand, other: dict) -> Tags | None:
    """The build's tags when some read shell variables (None when none does: the literal path)."""
    words = [w for w in command.all("--tag", "-t") if w is not None]
    if not any(w.expands for w in words):
        return None
    for word in words:
        if word.substitutes:
            raise Decline(f"the tag `{word.raw}` is computed by a command substitution, which the merge job would "
                          "not compute the same way")
    names = list(dict.fromkeys(repository(w) for w in words))
    step_env = build.step.node.get("env") if isinstance(build.step.node.get("env"), dict) else {}
    static = {str(k) for scope in (workflow.root.get("env"), workflow.jobs[build.job_id].get("env"))
              if isinstance(scope, dict) for k in scope}
    assigned: dict[str, list[str]] = {}
    for name, statement in script.assignments:
        assigned.setdefault(name, []).append(statement)
    statements: list[str] = []
    env: dict[str, str] = {}
    pending = [(v, w.raw) for w in words for v in reads(w.raw)]
    seen: set[str] = set()
    while pending:
        var, where = pending.pop(0)
        if var in seen:
            continue
        seen.add(var)
        if var in assigned:
            for statement in assigned[var]:
                if "$(" in _unexpressed(statement) or "`" in _unexpressed(statement):
                    raise Decline(f"the tag `{where}` reads `{var}`, which the script computes with a command "
                                  "substitution; the merge job would not compute it the same way")
                if statement not in statements:
                    statements.append(statement)
                pending += [(v, where) for v in reads(statement)]
        elif var in step_env:
            env[var] = str(step_env[var])
        elif var not in static and var not in RUN_WIDE:
            raise Decline(f"the tag `{where}` reads the shell variable `{var}`, which the merge job cannot know "
                          "(it is not set by the script, the step's or the job's `env:`, or GitHub for the whole run)")
    statements.sort(key=lambda s: next(i for i, (_, t) in enumerate(script.assignments) if t == s))
    allowed = ALLOWED_CONTEXTS | ({"matrix"} if other else set())
    for text in [*statements, *(w.raw for w in words), *env.values()]:
        for expr in _EXPR.findall(text):
            contexts = set(re.findall(r"(?<![\w.-])([a-z_]+)\.", expr))
            if contexts - allowed:
                raise Decline(f"the tags read `${{{{ {expr} }}}}`, which the merge job does not have")
    expressions: dict[str, str] = {}

    def hide(text: str) -> str:
        def name(m: re.Match) -> str:
            found = next((k for k, v in expressions.items() if v == m.group(0)), None)
            key = found or f"MERGED_EXPR_{len(expressions) + 1}"
            expressions[key] = m.group(0)
            return "${" + key + "}"
        return _EXPR.sub(name, text)

    prefix = "".join(hide(s).rstrip("\n") + "\n" for s in statements)
    tag_words = [hide(w.raw) for w in words]
    env.update(expressions)
    image = hide(names[0])
    create = (prefix + "docker buildx imagetools create " + " ".join(f"-t {t}" for t in tag_words) + " \\\n"
              + f"  $(printf \"{image}@sha256:%s \" *)\n"
              + f"echo \"digest=$(docker buildx imagetools inspect {tag_words[0]} --format '{{{{json .Manifest}}}}' "
              + "| jq -r .digest)\" >> \"$GITHUB_OUTPUT\"\n")
    inspect = prefix + f"docker buildx imagetools inspect {tag_words[0]}\n"
    script_out = MergeScript(create, inspect, env, tag_words)
    return Tags(names, [w.raw for w in words], None, [], script=script_out,
                note="The merge job repeats the assignments the tags read, so its tags are the script's.")

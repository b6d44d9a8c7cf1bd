"""A local check build after the pushing build: kept in the one leg of the platform it builds.

Jobs often build the image once more after pushing it, for one platform and only locally (a
`docker buildx build --platform linux/amd64 --load` to report the image's size, or to run a smoke
test on it). Such a step does not use the pushed image and pushes nothing, so a per-platform
split need not move it to the merge job: it stays in the legs, restricted by `if:` to the leg
of the platform it names, where it runs natively, once, as it did in the single job.

The script is read with the Bash grammar (shell_parse's parser), every word of it, so options
kept in an array (`args=(--platform linux/amd64 --load)`) count. A step that may push (`--push`,
a registry `--output`, `docker push`, `imagetools create`, bake, compose), names no platform or
several, or whose outputs a later step reads, is not such a check build: it stays declined.
"""

from __future__ import annotations

import re

from tree_sitter import Node

from ..workflows.model import Build, StepRef, canonical_platform
from .base import Decline
from .images import both, step_condition
from .shell_parse import syntax_tree

_WORD_NODES = {"word", "string", "raw_string", "concatenation", "number"}
# Docker commands that may publish an image or run a build whose outputs are not on the command line.
_PUBLISHING = (("push",), ("image", "push"), ("manifest", "push"), ("buildx", "imagetools", "create"),
               ("buildx", "bake"), ("bake",), ("compose",), ("buildx", "build", "--push"))


def _words(root: Node, hidden: bytes) -> list[str]:
    """Every word of the script in order, unquoted (an expansion stays as written)."""
    found: list[str] = []

    def walk(node: Node) -> None:
        if node.type in _WORD_NODES:
            found.append(hidden[node.start_byte:node.end_byte].decode().strip("'\""))
            return
        for child in node.named_children:
            walk(child)
    walk(root)
    return found


def _docker_args(root: Node, hidden: bytes) -> list[list[str]]:
    commands: list[list[str]] = []

    def walk(node: Node) -> None:
        if node.type == "command":
            parts = [hidden[c.start_byte:c.end_byte].decode().strip("'\"") for c in node.named_children
                     if c.type != "variable_assignment"]
            if parts and parts[0] == "docker":
                commands.append(parts[1:])
        for child in node.named_children:
            walk(child)
    walk(root)
    return commands


def built_platform(script: str) -> str | None:
    """The one platform a script builds locally and pushes nowhere; None when it is not such a script."""
    parsed = syntax_tree(script)
    if parsed is None:
        return None
    root, hidden = parsed
    words = _words(root, hidden)
    if "--push" in words:
        return None
    platforms: set[str] = set()
    for i, word in enumerate(words):
        name, _, value = word.partition("=")
        if name in ("--output", "-o") and not value and i + 1 < len(words):
            value = words[i + 1]
        if name in ("--output", "-o") and re.search(r"registry|push=true|type=image", value):
            return None
        if name == "--platform":
            platforms.add(value or (words[i + 1] if i + 1 < len(words) else ""))
    for args in _docker_args(root, hidden):
        if any(tuple(args[:len(p)]) == p for p in _PUBLISHING) or "push" in args:
            return None
    if len(platforms) != 1:
        return None
    platform = platforms.pop()
    if "," in platform or "$" in platform or not re.fullmatch(r"[\w.]+/[\w.]+(/[\w.]+)?", platform):
        return None
    return platform


def leg_checks(steps: list[StepRef], build: Build, others: list[Build], platforms: list[str]) -> dict[int, str]:
    """The job's other builds that are local check builds after ``build``: step index -> the
    platform (as the legs spell it) whose leg keeps the step."""
    legs = {canonical_platform(p): p for p in platforms}
    checks: dict[int, str] = {}
    for other in others:
        if other.kind != "shell" or other.step.index < build.step.index:
            continue
        platform = built_platform(str(other.step.node.get("run", "")))
        if platform is None or canonical_platform(platform) not in legs:
            continue
        own_id = other.step.node.get("id")
        if own_id and any(f"steps.{own_id}." in str(st.node) for st in steps[other.step.index + 1:]):
            continue  # a later step reads its outputs, which the other legs would not have
        checks[other.step.index] = legs[canonical_platform(platform)]
    return checks


def check_moved(checks: dict[int, str], moved: list[StepRef]) -> None:
    for st in moved:
        if st.index in checks:
            raise Decline(f"step `{st.node.get('name') or st.index + 1}` builds {checks[st.index]} locally and also "
                          "uses the pushed image; it belongs to neither a leg nor the merge job alone")


def condition(step: StepRef, platform: str) -> str:
    """The step's `if:` in the legs: its own condition and the leg of ``platform``."""
    return f"${{{{ {both(f'matrix.platform == {platform!r}', step_condition(step))} }}}}"

"""Steps after a build that cannot use the pushed image (bot/data/image_free_steps.json).

When the image names are computed at run time, whether a later step uses the pushed image
cannot be told from its text, so the restructure declines on any step it cannot place. Two
kinds can be placed all the same: actions that publish a README or description beside the
image (they read the repository, never the image: the merge job runs them once, after the image
exists), and scripts that only move the runner's files about (a cache directory rotated after
the build: they stay in each leg, where the files are).
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

from ..workflows.model import StepRef
from .shell_parse import syntax_tree


@cache
def _data() -> dict:
    return json.loads(resources.files("bot").joinpath("data/image_free_steps.json").read_text())


def _action(step: StepRef) -> dict | None:
    return {k.lower(): v for k, v in _data()["actions"].items()}.get(step.action or "")


def moves_to_merge(step: StepRef) -> bool:
    """An action that publishes beside the image: it runs once, in the merge job."""
    entry = _action(step)
    return bool(entry) and entry["where"] == "merge"


def reads_repository(step: StepRef) -> bool:
    entry = _action(step)
    return bool(entry) and bool(entry.get("reads_repository"))


def files_only(script: str) -> bool:
    """Whether every command of ``script`` (read with the Bash grammar) only handles the runner's
    files or its own variables: no command that could reach a registry or the Docker daemon."""
    from .runtime_tags import PURE_COMMANDS  # here: runtime_tags builds on the restructure, which uses this
    allowed = set(_data()["file_commands"]) | PURE_COMMANDS
    parsed = syntax_tree(script)
    if parsed is None:
        return False
    root, hidden = parsed
    names: list[str] = []

    def walk(node) -> None:
        if node.type == "command_name":
            names.append(hidden[node.start_byte:node.end_byte].decode())
        for child in node.named_children:
            walk(child)
    walk(root)
    return bool(names) and all(name in allowed for name in names)


def cannot_use_image(step: StepRef) -> bool:
    """A step that cannot use the pushed image: one that moves to the merge job by its kind, or a
    script that only handles files."""
    return moves_to_merge(step) or (step.uses is None and files_only(str(step.node.get("run", ""))))

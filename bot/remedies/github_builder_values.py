"""Values of a docker/github-builder call's `with:`: what a reusable workflow call can be given
(it sees no `env`, `steps` or `secrets`), and tags written out as its metadata inputs."""

from __future__ import annotations

import re

from ..workflows.model import StepRef, Workflow
from .base import Decline

# Contexts a reusable workflow call's `with:` may use (no `env`, no `secrets`, no `steps`).
CALL_CONTEXTS = {"github", "needs", "strategy", "matrix", "inputs", "vars"}
# docker/metadata-action's inputs and the call's input each becomes.
METADATA_INPUTS = {"images": "meta-images", "tags": "meta-tags", "flavor": "meta-flavor",
                   "labels": "meta-labels", "annotations": "meta-annotations"}
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def contexts_in(value: str) -> set[str]:
    return {c for expr in EXPRESSION.findall(value) for c in re.findall(r"(?<![\w.-])([a-z_]+)\.", expr)}


def call_value(value: str, what: str, workflow: Workflow, job_id: str, step: StepRef | None) -> str:
    """A value for the call's `with:`: `env.X` set literally in the file is written out; other
    contexts a reusable workflow call cannot see decline."""
    def resolve(m: re.Match) -> str:
        env = re.fullmatch(r"env\.([A-Za-z_][A-Za-z0-9_]*)", m.group(1))
        if env:
            value, _ = workflow.env_value(env.group(1), job_id, step)
            if value is not None and "${{" not in value:
                return value
        return m.group(0)

    value = EXPRESSION.sub(resolve, value)
    bad = contexts_in(value) - CALL_CONTEXTS
    if bad:
        raise Decline(f"{what} uses `{', '.join(sorted(bad))}` at run time (`{value.strip()}`), which a reusable "
                      "workflow call cannot pass on")
    return value


def literal_tags(tags: list[str]) -> dict[str, str]:
    """`meta-images` and `meta-tags` (`type=raw`) for tags written out: every image must have
    the same tags, since github-builder tags each of its images with the one list."""
    by_image: dict[str, set[str]] = {}
    for tag in tags:
        last = tag.rsplit("/", 1)[-1]
        image, version = (tag[:tag.rfind(":")], tag[tag.rfind(":") + 1:]) if ":" in last else (tag, "latest")
        by_image.setdefault(image, set()).add(version)
    if len({frozenset(v) for v in by_image.values()}) > 1:
        raise Decline("the images are tagged differently, which github-builder's one tag list cannot express")
    versions_ = sorted(next(iter(by_image.values())), key=[t.rsplit(":", 1)[-1] for t in tags].index)
    return {"meta-images": "\n".join(by_image) + ("\n" if len(by_image) > 1 else ""),
            "meta-tags": "\n".join(f"type=raw,value={v}" for v in versions_) + ("\n" if len(versions_) > 1 else "")}

"""Which hosted runner builds which platform, and what the PR says about the Arm runner."""

from __future__ import annotations

import re

from .. import versions
from ..workflows.model import canonical_platform
from .base import Situation


def native_on_arm64(platform: str) -> bool:
    """The Arm64 runners' CPUs run 32-bit Arm code too: docker/github-builder maps every
    `linux/arm` platform (v6, v7) to `ubuntu-24.04-arm` with QEMU off. (`linux/arm64/v8` is arm64.)"""
    platform = canonical_platform(platform)
    return platform == "linux/arm64" or platform == "linux/arm" or platform.startswith("linux/arm/")


def x64_runner(runs_on: object) -> str:
    """The runner of the legs (and the merge job) that stay on x64: the job's own label when it
    names one runner of its own, the hosted default otherwise. The arm64 leg was emulated, so
    the job's runner is x64; a `self-hosted` or third-party label (Ubicloud, larger runners) is
    the maintainer's choice of machine, network and bill, which a move to GitHub's would undo.
    An expression, a list of labels or an Arm-looking label gives the hosted default."""
    if not isinstance(runs_on, str) or "${{" in runs_on or not runs_on.strip():
        return versions.runner("x64")
    label = runs_on.strip()
    if label in versions.runner_labels("arm64") or re.search(r"arm|aarch64", label, re.IGNORECASE):
        return versions.runner("x64")
    return label


ARM_CONFIGURED = "The Arm legs run on `{label}`, the runner the config names."
ARM_PUBLIC = ("On public repositories GitHub's standard Arm64 runners (`{label}`, {size}) cost nothing, like "
              "the x64 ones.")
ARM_PRIVATE = ("On a private repository GitHub's standard Arm64 runners (available to private repositories since "
               "{since}) are the smaller {size} machines, and their minutes count against the plan's included "
               "minutes at the Arm rate.")


def arm_runner_note(s: Situation) -> str:
    """What the Arm runner costs and how big it is, for the PR's risk section."""
    runners = versions.data()["runners"]
    if s.config.arm_runner and s.config.arm_runner not in versions.runner_labels("arm64"):
        return ARM_CONFIGURED.format(label=s.config.arm_runner)
    label = s.config.arm_label(s.ghes)
    if s.private:
        return ARM_PRIVATE.format(since=runners["arm64-private-since"], size=runners["arm64-sizes"]["private"])
    return ARM_PUBLIC.format(label=label, size=runners["arm64-sizes"]["public"])

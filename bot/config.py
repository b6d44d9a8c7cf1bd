"""``.github/docker-build-fixer.yml``: read, validated against the schema shipped in the
package (``bot/schemas/config.json``), with defaults. Invalid config is an error that says
exactly which key is wrong; the app then does nothing else."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources

import jsonschema

from . import versions
from .workflows.yamldoc import YamlError, load, plain

CONFIG_PATH = ".github/docker-build-fixer.yml"
DEFAULT_QEMU_IMAGE = versions.default_qemu_image()
DEFAULT_ARM_RUNNER = versions.runner("arm64")
DEFAULT_X64_RUNNER = versions.runner("x64")
OPT_IN_REMEDIES = frozenset({"drop-platform"})


class ConfigError(ValueError):
    """The config file is invalid; the message names the key and the problem."""


@dataclass(frozen=True)
class Config:
    enabled: bool = True
    policy: str = "evidence"
    remedies: dict = field(default_factory=dict)
    arm_runner: str | None = None  # None: not set in the file (github.com's standard label applies)
    qemu_image: str = DEFAULT_QEMU_IMAGE
    node_max_old_space_size: int = 4096
    branches: tuple = ()
    labels: tuple = ("docker-build-fixer", "ci")
    open_pull_requests_limit: int = 1
    timeout_minutes: int = 60
    ignore_workflows: tuple = ()
    restructure: str = "github-builder"  # or "matrix": write the per-platform matrix out

    def allows(self, remedy: str) -> bool:
        if remedy in self.remedies:
            return bool(self.remedies[remedy])
        return remedy not in OPT_IN_REMEDIES

    def arm_label(self, ghes: bool) -> str | None:
        """The Arm runner label to use, or None when native Arm runners are not available.

        On github.com public and private repositories have the standard Arm64 runners (private
        ones since 2026-01-29); GitHub Enterprise Server has no hosted Arm runners, so there
        only a label the config names counts."""
        if self.arm_runner:
            return self.arm_runner
        return None if ghes else DEFAULT_ARM_RUNNER


def _schema() -> dict:
    return json.loads(resources.files("bot").joinpath("schemas/config.json").read_text())


def parse_config(text: str | None, name: str = CONFIG_PATH) -> Config:
    if text is None or not text.strip():
        return Config()
    try:
        data = plain(load(text, name))
    except YamlError as exc:
        raise ConfigError(str(exc)) from None
    if data is None:
        return Config()
    validator = jsonschema.Draft7Validator(_schema())
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        problems = []
        for error in errors[:5]:
            where = ".".join(str(p) for p in error.absolute_path) or "(top level)"
            message = error.message
            if error.validator == "additionalProperties" and not error.absolute_path:
                message = f"unknown key: {message.split('(')[-1].rstrip(')')}"
            problems.append(f"{where}: {message}")
        raise ConfigError(f"{name} is invalid: " + "; ".join(problems))
    return Config(
        enabled=data.get("enabled", True),
        policy=data.get("policy", "evidence"),
        remedies=dict(data.get("remedies") or {}),
        arm_runner=data.get("arm-runner"),
        qemu_image=data.get("qemu-image", DEFAULT_QEMU_IMAGE),
        node_max_old_space_size=data.get("node-max-old-space-size", 4096),
        branches=tuple(data.get("branches") or ()),
        labels=tuple(data.get("labels") or ("docker-build-fixer", "ci")),
        open_pull_requests_limit=data.get("open-pull-requests-limit", 1),
        timeout_minutes=data.get("timeout-minutes", 60),
        ignore_workflows=tuple(data.get("ignore-workflows") or ()),
        restructure=data.get("restructure", "github-builder"),
    )

"""The versions the app writes (``bot/data/versions.json``): each action's current release and
its commit, the binfmt images with their evidence, the hosted runner labels.

Facts that change live in the data file, not in code; ``docker-build-fixer versions --refresh``
rewrites it from GitHub's tags (``bot/github/tags.py``). Pure: reading package data only.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

SHA = re.compile(r"^[0-9a-f]{40}$")
VERSION = re.compile(r"^v(\d+)\.(\d+)\.(\d+)$")


@dataclass(frozen=True)
class Pin:
    name: str  # owner/repo, or owner/repo/path for a reusable workflow
    version: str  # vX.Y.Z
    sha: str  # the release's commit

    @property
    def repo(self) -> str:
        return "/".join(self.name.split("/")[:2])

    @property
    def major(self) -> str:
        return self.version.split(".")[0]

    @property
    def uses(self) -> str:
        return f"{self.name}@{self.sha}"

    def uses_line(self) -> str:
        """The value of a ``uses:`` line with its version comment."""
        return f"{self.uses} # {self.version}"


def data_path() -> Path:
    return Path(str(resources.files("bot").joinpath("data/versions.json")))


@lru_cache(maxsize=1)
def data() -> dict:
    return json.loads(resources.files("bot").joinpath("data/versions.json").read_text())


def pins(source: dict | None = None) -> dict[str, Pin]:
    actions = (source or data())["actions"]
    return {name: Pin(name, entry["version"], entry["sha"]) for name, entry in actions.items()}


def pin(name: str) -> Pin:
    return pins()[name]


def default_qemu_image() -> str:
    return data()["binfmt"]["default"]


def qemu_evidence(image: str) -> list[str]:
    return list(data()["binfmt"]["images"].get(image, []))


def runner(kind: str) -> str:
    """The default hosted label for ``x64`` or ``arm64``."""
    return data()["runners"][kind]


def runner_commands() -> frozenset[str]:
    """Commands a fresh hosted Linux runner has (shell builtins, coreutils, git, jq, curl): a step
    that runs only these computes the same in any job of the workflow."""
    return frozenset(data()["runners"]["commands"])


def runner_labels(kind: str) -> frozenset[str]:
    """Hosted labels of ``x64`` or ``arm64`` runners."""
    return frozenset(data()["runners"][f"{kind}-labels"])


def problems(source: dict) -> list[str]:
    """What is wrong with a versions document (empty when it is sound)."""
    out = []
    for name, entry in source.get("actions", {}).items():
        if not VERSION.match(str(entry.get("version", ""))):
            out.append(f"{name}: version {entry.get('version')!r} is not vX.Y.Z")
        if not SHA.match(str(entry.get("sha", ""))):
            out.append(f"{name}: sha {entry.get('sha')!r} is not a 40-hex commit")
    binfmt = source.get("binfmt", {})
    if binfmt.get("default") not in binfmt.get("images", {}):
        out.append("binfmt: the default image has no evidence entry")
    return out


TABLE_HEADER = ("action", "version", "commit")


def table(source: dict | None = None) -> str:
    """The table ``docker-build-fixer versions`` prints."""
    source = source or data()
    rows = [TABLE_HEADER] + [(p.name, p.version, p.sha) for p in pins(source).values()]
    width = [max(len(r[i]) for r in rows) for i in range(2)]
    lines = [f"{r[0]:<{width[0]}}  {r[1]:<{width[1]}}  {r[2]}" for r in rows]
    binfmt = source["binfmt"]
    lines.append("")
    lines.append(f"binfmt image (pin-qemu default): {binfmt['default']}")
    for evidence in binfmt["images"].get(binfmt["default"], []):
        lines.append(f"  - {evidence}")
    return "\n".join(lines) + "\n"


def dump(source: dict) -> str:
    """The data file's text (as ``--refresh`` writes it)."""
    return json.dumps(source, indent=2, ensure_ascii=False) + "\n"

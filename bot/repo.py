"""Reading a repository checkout for the fix engine (the CLI's I/O; the App reads via the API)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from .bake.definition import bake_candidates, is_bake_file
from .config import CONFIG_PATH

WORKFLOW_DIR = ".github/workflows"
MAX_FILE = 1 << 20  # larger "Dockerfiles" or workflows are not what they claim to be
MAX_DOCKERFILES = 200
MAX_BAKE_FILES = 50
MAX_PATHS = 20_000
SKIP_DIRS = {".git", "node_modules", ".venv", "venv", "vendor", "__pycache__", ".tox", "dist", "target"}
# What people name Dockerfiles: `Dockerfile`, `Dockerfile.alpine`, `Dockerfile-slim`,
# `Dockerfile_dev`, `dockerfile`, `web.Dockerfile`, `Containerfile`; not BuildKit's per-Dockerfile
# ignore files (`Dockerfile.dockerignore`) nor notes and scripts about them (`dockerfile.md`).
_NOT_DOCKERFILE = (".dockerignore", ".md", ".rst", ".txt", ".adoc", ".html", ".json", ".yml", ".yaml",
                   ".sh", ".py", ".js", ".ts")
_DOCKERFILE_NAME = re.compile(r"^(?:(?:[Dd]ockerfile|Containerfile)(?:[.\-_].+)?|.+\.(?:[Dd]ockerfile|[Cc]ontainerfile))$")


def is_dockerfile(path: str) -> bool:
    """Whether a file, by its name (a path's directories aside), is a Dockerfile."""
    name = path.rsplit("/", 1)[-1]
    return bool(_DOCKERFILE_NAME.match(name)) and not name.lower().endswith(_NOT_DOCKERFILE)


class RepoError(OSError):
    """The checkout cannot be read as needed."""


@dataclass
class RepoFiles:
    workflows: dict[str, str]
    dockerfiles: dict[str, str]
    config: str | None
    paths: frozenset[str]
    bake_files: dict[str, str] = field(default_factory=dict)  # what bake-action steps may read


def _read(root: str, path: str) -> str:
    full = os.path.join(root, path)
    if os.path.getsize(full) > MAX_FILE:
        raise RepoError(f"{path} is larger than {MAX_FILE // 1024} KB")
    with open(full, "rb") as handle:
        data = handle.read()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise RepoError(f"{path} is not UTF-8 text") from None


def read_repo(root: str) -> RepoFiles:
    if not os.path.isdir(root):
        raise RepoError(f"{root} is not a directory")
    workflows: dict[str, str] = {}
    directory = os.path.join(root, WORKFLOW_DIR)
    if os.path.isdir(directory):
        for name in sorted(os.listdir(directory)):
            if name.endswith((".yml", ".yaml")) and os.path.isfile(os.path.join(directory, name)):
                try:
                    workflows[f"{WORKFLOW_DIR}/{name}"] = _read(root, f"{WORKFLOW_DIR}/{name}")
                except OSError as exc:
                    raise RepoError(f"cannot read {WORKFLOW_DIR}/{name}: {exc.strerror or exc}") from None
    config = None
    if os.path.isfile(os.path.join(root, CONFIG_PATH)):
        config = _read(root, CONFIG_PATH)
    dockerfiles: dict[str, str] = {}
    bake_files: dict[str, str] = {}
    bake_paths: list[str] = []
    paths: set[str] = set()
    for current, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not os.path.islink(os.path.join(current, d)))
        rel_dir = os.path.relpath(current, root)
        for name in sorted(files):
            rel = name if rel_dir == "." else f"{rel_dir}/{name}".replace(os.sep, "/")
            if len(paths) < MAX_PATHS:
                paths.add(rel)
            if is_dockerfile(name) and len(dockerfiles) < MAX_DOCKERFILES:
                try:
                    dockerfiles[rel] = _read(root, rel)
                except (OSError, RepoError):
                    continue  # an unreadable or binary "Dockerfile" is not a candidate
            elif is_bake_file(rel):
                bake_paths.append(rel)
    for rel in bake_candidates(bake_paths, MAX_BAKE_FILES):
        try:
            bake_files[rel] = _read(root, rel)
        except (OSError, RepoError):
            continue  # the bake step that names it declines: "was not read"
    return RepoFiles(workflows, dockerfiles, config, frozenset(paths), bake_files)


def write_files(root: str, files: dict[str, str]) -> None:
    for path, text in files.items():
        full = os.path.join(root, path)
        with open(full, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)

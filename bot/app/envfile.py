"""The env file the setup page writes GitHub's credentials to (``.env`` by default), and reads at
start: what Probot, Foreman and Heroku-style hosts use. Values already in the environment win."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Mapping

from dotenv import dotenv_values


def load(path: str) -> dict[str, str]:
    """The file's variables (an absent file has none)."""
    if not Path(path).is_file():
        return {}
    return {k: v for k, v in dotenv_values(path).items() if v is not None}


def merged_environment(path: str, environ: Mapping[str, str]) -> dict[str, str]:
    """The environment, with the file's variables filling in what it does not set."""
    return {**load(path), **environ}


def save(path: str, values: Mapping[str, str]) -> None:
    """Set ``values`` in the file, keeping its other lines; written to a new file of mode 0600
    and renamed over the old one, so the secrets are never readable by others, not even briefly."""
    target = Path(path)
    kept = []
    if target.is_file():
        ours = re.compile(r"^\s*(?:export\s+)?(" + "|".join(map(re.escape, values)) + r")\s*=")
        kept = [line for line in target.read_text(encoding="utf-8").splitlines() if not ours.match(line)]
    lines = kept + [f'{key}="{_quote(value)}"' for key, value in values.items()]
    descriptor, temporary = tempfile.mkstemp(dir=target.parent or Path("."), prefix=".env-")
    try:
        os.fchmod(descriptor, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write("\n".join(lines) + "\n")
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _quote(value: str) -> str:
    """A double-quoted dotenv value on one line (a PEM's newlines become \\n, as GitHub's
    settings pages and our settings accept)."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")

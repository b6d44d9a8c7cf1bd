"""The vendored real excerpts in ``tests/data/real-logs/`` (see its README): each file starts
with ``# source:``, ``# expect:`` (primary signature first, or ``none``) and ``# platform:``
(``-`` where the log does not name one), then the excerpt verbatim."""

from __future__ import annotations

from dataclasses import dataclass

from .data import REAL_LOGS
HEADER_KEYS = ("source", "expect", "platform")


@dataclass(frozen=True)
class RealLog:
    name: str
    split: str  # tune | heldout
    source: str
    expected: tuple[str, ...]
    platform: str | None
    text: str  # the excerpt, header removed

    def __str__(self) -> str:
        return f"{self.split}/{self.name}"


def parse(path: Path) -> RealLog:
    lines = path.read_text(encoding="utf-8").split("\n")
    header = {}
    for key, line in zip(HEADER_KEYS, lines):
        prefix = f"# {key}: "
        if not line.startswith(prefix):
            raise ValueError(f"{path}: line {len(header) + 1} should start with {prefix!r}")
        header[key] = line[len(prefix):].strip()
    expected = () if header["expect"] == "none" else tuple(header["expect"].split())
    platform = None if header["platform"] == "-" else header["platform"]
    return RealLog(path.name, path.parent.name, header["source"], expected, platform,
                   "\n".join(lines[len(HEADER_KEYS):]))


def real_logs(split: str | None = None) -> list[RealLog]:
    splits = [split] if split else ["tune", "heldout"]
    return [parse(p) for s in splits for p in sorted((REAL_LOGS / s).glob("*.log"))]

"""``native-runners`` and ``platform-matrix``: one job per platform, push by digest, merge."""

from __future__ import annotations

from .base import Change, Decline, Situation


def native_runners(s: Situation) -> Change:
    raise Decline("the per-platform restructure is not available in this version")


def platform_matrix(s: Situation) -> Change:
    raise Decline("the per-platform restructure is not available in this version")

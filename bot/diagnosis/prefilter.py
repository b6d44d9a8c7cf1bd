"""Find the few interesting lines in a large block of log bytes, fast.

Hyperscan (Intel's multi-pattern matcher) scans at memory speed and reports where each
pattern ends; where it is not installed, one compiled ``re`` alternation does the same job
more slowly. Both return the offsets at which a pattern match ends, in ascending order.
"""

from __future__ import annotations

import re

try:  # pragma: no cover - which branch runs depends on the machine
    import hyperscan
except ImportError:  # pragma: no cover
    hyperscan = None


class Prefilter:
    """Matches two groups of patterns at once: ``first`` (a frequent, cheap-to-handle kind)
    and ``rest``; ``scan`` returns the end offsets of each group's matches, sorted."""

    def __init__(self, first: list[bytes], rest: list[bytes]):
        patterns = first + rest
        self._group = [0] * len(first) + [1] * len(rest)
        self.engine = "hyperscan" if hyperscan is not None else "re"
        if hyperscan is not None:
            self._db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
            self._db.compile(expressions=patterns, ids=list(range(len(patterns))),
                             flags=[0] * len(patterns))
        else:
            self._first = re.compile(b"|".join(b"(?:" + p + b")" for p in first))
            self._rest = re.compile(b"|".join(b"(?:" + p + b")" for p in rest))

    def scanner(self):
        """A scan function with its own scratch space (hyperscan needs one per concurrent scan)."""
        if hyperscan is None:
            def scan_re(data) -> tuple[list[int], list[int]]:
                return ([m.end() for m in self._first.finditer(data)],
                        [m.end() for m in self._rest.finditer(data)])
            return scan_re

        scratch = hyperscan.Scratch(self._db)
        group, db = self._group, self._db

        def scan_hs(data) -> tuple[list[int], list[int]]:
            found: tuple[list[int], list[int]] = ([], [])

            def on_match(pattern_id, _start, end, _flags, _ctx):
                found[group[pattern_id]].append(end)

            db.scan(data, match_event_handler=on_match, scratch=scratch)
            found[0].sort()
            found[1].sort()
            return found

        return scan_hs

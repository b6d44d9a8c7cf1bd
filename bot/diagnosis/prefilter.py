"""Find the few interesting lines in a large block of log bytes, fast.

Hyperscan (Intel's multi-pattern matcher) scans at memory speed and reports where each
pattern ends; where it is not installed, one compiled ``re`` alternation does the same job
more slowly. Both return the offsets at which a pattern match ends, in ascending order.
The matcher is built on first use, from the serialized database cached by ``dbcache`` when
there is one, so that a process that diagnoses one small log does not pay for compiling it.
"""

from __future__ import annotations

import re

from . import dbcache, nativescan

_UNLOADED = object()
_hyperscan = _UNLOADED


def python_hyperscan():
    """python-hyperscan, or None where it is not installed; imported on first use (tens of
    milliseconds), which a log file scanned by ``nativescan`` never needs."""
    global _hyperscan
    if _hyperscan is _UNLOADED:
        try:  # pragma: no cover - which branch runs depends on the machine
            import hyperscan
        except ImportError:  # pragma: no cover
            hyperscan = None
        _hyperscan = hyperscan
    return _hyperscan


class Prefilter:
    """Matches two groups of patterns at once: ``first`` (a frequent, cheap-to-handle kind)
    and ``rest``; ``scan`` returns the end offsets of each group's matches, sorted."""

    def __init__(self, first: list[bytes], rest: list[bytes]):
        self._first, self._rest = first, rest
        self._group = [0] * len(first) + [1] * len(rest)
        self.loaded_from_cache: bool | None = None  # set when the hyperscan database is built
        self._db = None
        self._regexes = None

    @property
    def engine(self) -> str:
        return "hyperscan" if python_hyperscan() is not None else "re"

    def _database(self):
        if self._db is None:
            hyperscan = python_hyperscan()
            patterns = self._first + self._rest
            path = dbcache.cache_path(patterns, f"hyperscan-{getattr(hyperscan, '__version__', '?')}")
            data = dbcache.load(path)
            if data is not None:
                try:
                    self._db = hyperscan.loadb(data, hyperscan.HS_MODE_BLOCK)
                    self.loaded_from_cache = True
                except Exception:  # another Hyperscan or CPU, or a damaged file: rebuild it
                    self._db = None
            if self._db is None:
                db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
                db.compile(expressions=patterns, ids=list(range(len(patterns))), flags=[0] * len(patterns))
                dbcache.store(path, hyperscan.dumpb(db))
                self._db, self.loaded_from_cache = db, False
        return self._db

    def file_scanner(self):
        """``nativescan.scanner`` for the patterns of ``rest`` (``first`` is not scanned): the
        whole file in C on two threads, where the system Hyperscan extension is built; else None."""
        return nativescan.scanner(self._rest)

    def scanner(self):
        """A scan function with its own scratch space (hyperscan needs one per concurrent scan)."""
        hyperscan = python_hyperscan()
        if hyperscan is None:
            if self._regexes is None:
                self._regexes = tuple(re.compile(b"|".join(b"(?:" + p + b")" for p in group)) if group else None
                                      for group in (self._first, self._rest))
            first, rest = self._regexes

            def scan_re(data) -> tuple[list[int], list[int]]:
                return ([m.end() for m in first.finditer(data)] if first else [],
                        [m.end() for m in rest.finditer(data)] if rest else [])
            return scan_re

        db = self._database()
        scratch = hyperscan.Scratch(db)
        group = self._group

        def scan_hs(data) -> tuple[list[int], list[int]]:
            found: tuple[list[int], list[int]] = ([], [])

            def on_match(pattern_id, _start, end, _flags, _ctx):
                found[group[pattern_id]].append(end)

            db.scan(data, match_event_handler=on_match, scratch=scratch)
            found[0].sort()
            found[1].sort()
            return found

        return scan_hs

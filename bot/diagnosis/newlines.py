"""Where the lines are: line numbers for the few lines the prefilter found, and the newline
count of everything scanned (the next line number).

Counting newlines is the one pass over every byte of a log besides the scan itself. The C
extension ``_newlines`` (built at install where a compiler is present) counts 32 bytes per
instruction with the GIL released; without it ``bytes.count`` gives the same numbers at about
a byte a cycle.
"""

from __future__ import annotations

try:
    from ._newlines import SIMD as NATIVE
    from ._newlines import count as _native_count
except ImportError:  # not built on this machine: the pure-Python path
    NATIVE, _native_count = None, None


def _python_count(buf, start: int, end: int) -> int:
    if hasattr(buf, "count"):
        return buf.count(b"\n", start, end)
    with memoryview(buf) as view:  # a mapped file has no count()
        return bytes(view[start:end]).count(b"\n")


count = _native_count or _python_count


def hit_lines(buf, start: int, end: int, ends: list[int], line_no: int) -> tuple[list[tuple[int, int, int]], int]:
    """The lines of ``buf[start:end]`` (which starts at a line start, line ``line_no``) in which
    a match ended (``ends``: sorted offsets from ``start``), each once, as (line start, line end,
    line number), and the line number at ``end``. A line's end is its newline, or ``end``."""
    found: list[tuple[int, int, int]] = []
    counted_to, last_start = start, -1
    for offset in ends:
        at = start + offset
        line_start = buf.rfind(b"\n", start, at) + 1 or start
        if line_start == last_start:
            continue
        last_start = line_start
        line_no += count(buf, counted_to, line_start)
        counted_to = line_start
        line_end = buf.find(b"\n", line_start, end)
        found.append((line_start, end if line_end < 0 else line_end, line_no))
    return found, line_no + count(buf, counted_to, end)

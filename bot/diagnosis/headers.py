"""BuildKit step headers (``#24 [linux/arm64 builder 6/6] RUN npm ci``): what a step is.

A streamed log (the app's) remembers every header as it passes, because the bytes are gone
afterwards. A log file need not: buildx reprints a step's header whenever its output resumes,
so headers are a few percent of all lines, and matching them all costs as much as the rest of
the scan. For a file the scan skips them, and the few steps a finding needs are looked up
afterwards, searching back from the end of what was read; the platforms built before a
cancel (rare) come from one header-only pass over the part of the file before it.
"""

from __future__ import annotations

from .logline import clean

MAX_STEPS = 4096
BACK_BLOCK = 1 << 20


def collect_headers(buf, start: int, end: int, header_ends: list[int], base: int,
                    headers: dict[int, tuple[int, bytes]]) -> None:
    """Remember, per step number, where its header (the latest text) was first seen and that
    text from ``[`` on. ``header_ends`` are offsets from ``start`` just after ``#N [``."""
    for offset in header_ends:
        at = start + offset
        mark = buf.rfind(b"#", start, at)
        line_end = buf.find(b"\n", at, end)
        text = bytes(buf[at - 1:end if line_end < 0 else line_end])
        step_no = int(buf[mark + 1:at - 2])
        known = headers.get(step_no)
        if known is not None and known[1] == text:
            continue  # buildx prints a step's header again whenever its output resumes
        if not _at_line_start(buf, start, mark):
            continue
        headers[step_no] = (base + at, text)
    while len(headers) > MAX_STEPS:
        del headers[next(iter(headers))]  # the oldest step: it finished long ago


def _at_line_start(buf, start: int, mark: int) -> bool:
    """``#`` at the start of its line, after a timestamp (colour codes, paste prefixes) if any."""
    if buf[mark - 2:mark] == b"Z " or mark == start or buf[mark - 1] == 10:
        return True
    line_start = buf.rfind(b"\n", start, mark) + 1 or start
    return clean(bytes(buf[line_start:mark + 1]))[1] == "#"


def headers_before(path: str, upto: int, scanner) -> dict[int, tuple[int, bytes]]:
    """All headers in the file before byte ``upto``, as a streaming scan would have kept them."""
    headers: dict[int, tuple[int, bytes]] = {}
    base, carry = 0, b""
    with open(path, "rb") as handle:
        while base + len(carry) < upto:
            data = handle.read(min(4 << 20, upto - base - len(carry)))
            if not data:
                break
            buf = carry + data
            cut = buf.rfind(b"\n") + 1 if base + len(buf) < upto else len(buf)
            if cut == 0:
                carry = buf
                continue
            collect_headers(buf, 0, cut, scanner(memoryview(buf)[:cut])[0], base, headers)
            base, carry = base + cut, buf[cut:]
    return headers


def last_header(path: str, step_no: int, upto: int) -> tuple[int, bytes] | None:
    """The last header of ``step_no`` before byte ``upto``, searching back from there."""
    needle = b"#%d [" % step_no
    with open(path, "rb") as handle:
        end = upto
        while end > 0:
            start = max(0, end - BACK_BLOCK)
            handle.seek(start)
            # Read past ``end`` to the end of the line, and a little before ``start`` so a
            # header cut by the block edge is whole in one of the two blocks.
            buf = handle.read(end - start + (1 << 16))
            limit = end - start
            at = buf.rfind(needle, 0, limit)
            while at >= 0:
                if at + len(needle) <= limit and _at_line_start(buf, 0, at) and (at > 0 or start == 0):
                    line_end = buf.find(b"\n", at)
                    text = buf[at + len(needle) - 1:line_end if line_end >= 0 else len(buf)]
                    return start + at + len(needle), text.rstrip(b"\n")
                at = buf.rfind(needle, 0, at)
            end = start + len(needle) if start > 0 else 0
    return None

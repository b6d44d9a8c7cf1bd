"""When each leg of a multi-platform build ran, from the timestamps of its step headers
(``2026-11-02T10:00:01.1Z #6 [linux/arm64 build 1/3] ...``): for the PR's "ran 41 min before
it failed; linux/amd64 reached its last step after 6 min".

A stream (the app) records them while scanning (``leg_stamp``, byte slices only); a file is
scanned without headers and looked up afterwards (``leg_stamps``): each leg's first header
reading forward to the block after the first header (the legs start together), its last one
searching back from where the log was read to.
"""

from __future__ import annotations

import re

FORWARD_BLOCK = 1 << 20  # legs start together: the block of the first header, and the next
BACK_BLOCK = 1 << 20
BACK_LIMIT = 64 << 20  # how far back a leg's last header is looked for
# A header's line start: timestamp, then colour codes or nothing, then ``#N``.
_PREFIX = re.compile(rb"(?:\xef\xbb\xbf)?\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[^\n#]{0,40}#\d+ $")


def leg_stamp(buf, line_start: int, at: int) -> tuple[bytes | None, bytes | None]:
    """(platform, timestamp) of the header whose ``#N [`` ends at ``at``, or (None, None)."""
    prefix = buf[line_start:line_start + 22]
    stamp = bytes(prefix[3:22] if prefix[:3] == b"\xef\xbb\xbf" else prefix[:19])
    if stamp[4:5] != b"-" or stamp[10:11] != b"T":
        return None, None
    platform = bytes(buf[at:at + 48]).split(b" ", 1)[0]
    if not platform.startswith(b"linux/") or b"]" in platform:
        return None, None
    return platform, stamp


def _header_at(block: bytes, bracket: int) -> tuple[bytes | None, bytes | None]:
    """(platform, timestamp) when ``block[bracket]`` is the ``[`` of a timestamped step header."""
    line_start = block.rfind(b"\n", 0, bracket) + 1
    if bracket - line_start > 80 or not _PREFIX.match(block, line_start, bracket):
        return None, None
    return leg_stamp(block, line_start, bracket + 1)


def leg_stamps(path: str, upto: int) -> dict[bytes, list[bytes]]:
    """platform -> [first, last] header timestamp, in the first ``upto`` bytes of the file.
    Literal searches (``bytes.find``), not a regex over megabytes: this runs after the scan."""
    stamps: dict[bytes, list[bytes]] = {}
    seen_as: list[bytes] = []  # b"linux/arm64 " of each platform found
    try:
        with open(path, "rb") as handle:
            read, extra = 0, None
            while read < upto and (extra is None or extra > 0):
                block = handle.read(min(FORWARD_BLOCK, upto - read) + 256)
                if not block:
                    break
                block = block[:block.rfind(b"\n") + 1] or block  # whole lines
                read += len(block)
                handle.seek(read)
                at = block.find(b" [linux/")
                while at >= 0:
                    if any(block.startswith(known, at + 2) for known in seen_as):  # its first is known
                        at = block.find(b" [linux/", at + 8)
                        continue
                    platform, stamp = _header_at(block, at + 1)
                    if platform is not None and platform not in stamps:
                        stamps[platform] = [stamp, stamp]
                        seen_as.append(platform + b" ")
                    at = block.find(b" [linux/", at + 8)
                if stamps:
                    extra = 1 if extra is None else extra - 1
            for platform, seen in stamps.items():
                last = _last(handle, platform, upto)
                if last is not None:
                    seen[1] = last
    except OSError:
        return {}
    return stamps


def _last(handle, platform: bytes, upto: int) -> bytes | None:
    needle = b" [" + platform + b" "
    end = upto
    while end > 0 and upto - end < BACK_LIMIT:
        start = max(0, end - BACK_BLOCK)
        handle.seek(start)
        block = handle.read(end - start + 256)  # a header cut by the block's end is whole
        at = block.rfind(needle, 0, end - start)
        while at >= 0:
            found, stamp = _header_at(block, at + 1)
            if found == platform and (start == 0 or block.rfind(b"\n", 0, at) >= 0):
                return stamp
            at = block.rfind(needle, 0, at)
        end = start + 256 if start > 0 else 0  # overlap: a header cut by this block's start
        if end >= upto:
            break
    return None

"""Reading a log file for diagnosis: whole lines in blocks, and windows around the lines found.

A reader thread maps the next block of the file and counts its newlines (which also brings its
pages in) while the diagnosing thread scans the block before, in place: no copy of the file is
made, and both the scan and the count release the GIL, so on two cores they overlap. Blocks end
at a line's end, so no match is cut in two, and at most ``BLOCKS`` are mapped at a time, so
memory does not grow with the file. The Hyperscan binding serialises all scans behind one
process-wide lock, which is why the file is not split for two scanners instead.
"""

from __future__ import annotations

import mmap
import os
import stat
import threading
from _queue import SimpleQueue
from collections.abc import Iterator

from . import newlines

BLOCK = 2 << 20  # fits the L2 cache of the core that scans it
BLOCKS = 3  # mapped at a time: one being scanned, one counted, one ready
WINDOW = 256 << 10  # at least this much is read around a line the engine looks at


def is_regular(path: str) -> bool:
    """A file that can be mapped and read again (not a pipe, a terminal or a device)."""
    return stat.S_ISREG(os.stat(path).st_mode)


def blocks(path: str, block: int = BLOCK) -> Iterator[tuple[object, int, int, int]]:
    """(buffer, start, end, newlines) for each run of whole lines ``buffer[start:end]`` of the
    file, in order; a buffer is valid until the next block is asked for. A line longer than
    ``block`` is cut."""
    handle = open(path, "rb", buffering=0)
    try:
        size = os.fstat(handle.fileno()).st_size
        if size < 2 * block:  # nothing to overlap: one read (to the end, should it have grown)
            data = handle.readall()
            yield data, 0, len(data), newlines.count(data, 0, len(data))
            return
        yield from _map_ahead(handle.fileno(), size, block)
    finally:
        handle.close()


def _map_ahead(fd: int, size: int, block: int) -> Iterator[tuple[object, int, int, int]]:
    ready: SimpleQueue = SimpleQueue()
    free: SimpleQueue = SimpleQueue()  # a token per block that may be mapped ahead
    for _ in range(BLOCKS - 1):
        free.put(True)

    def reader() -> None:
        start = 0
        try:
            while start < size and free.get():
                offset = start - start % mmap.ALLOCATIONGRANULARITY
                length = min(start - offset + block, size - offset)
                view = mmap.mmap(fd, length, offset=offset, access=mmap.ACCESS_READ)
                low = start - offset
                high = length if offset + length == size else (view.rfind(b"\n", low) + 1 or length)
                ready.put((view, low, high, newlines.count(view, low, high)))
                start = offset + high
            ready.put(None)
        except BaseException as exc:  # handed to the diagnosing thread, which raises it
            ready.put(exc)

    thread = threading.Thread(target=reader, name="log-reader", daemon=True)
    thread.start()
    item = None
    try:
        while (item := ready.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            try:
                yield item
            finally:
                item[0].close()
            free.put(True)
    finally:
        free.put(False)  # stops the reader if the consumer stopped early
        thread.join()
        if item is not None and not isinstance(item, BaseException):  # stopped early
            while (item := ready.get()) is not None and not isinstance(item, BaseException):
                item[0].close()  # mapped ahead and never used


class Windows:
    """Bytes of the file around the lines the engine looks at, read with ``pread`` and kept
    for the next line (hits cluster)."""

    def __init__(self, path: str):
        self._fd = os.open(path, os.O_RDONLY)
        self._start, self._data = 0, b""

    def get(self, start: int, end: int) -> tuple[int, bytes]:
        """(offset of the bytes, bytes) covering the file's ``[start, end)`` (less at its end)."""
        if not (self._start <= start and end <= self._start + len(self._data)) or not self._data:
            self._start = start
            self._data = os.pread(self._fd, max(end - start, WINDOW), start)
        return self._start, self._data

    def close(self) -> None:
        os.close(self._fd)

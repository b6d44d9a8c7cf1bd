"""Reading a log file for diagnosis: whole lines in blocks, and windows around the lines found.

A reader thread reads the next block and counts its newlines while the diagnosing thread scans
the one before (the scan, the read and the count all release the GIL, so on two cores they
overlap). Blocks end at a line's end, so no match is cut in two, and come from a few reused
buffers, so memory does not grow with the file. The Hyperscan binding serialises all scans
behind one process-wide lock, which is why the file is not split for two scanners instead.
"""

from __future__ import annotations

import os
import threading
from _queue import SimpleQueue
from collections.abc import Iterator

from . import newlines

BLOCK = 2 << 20  # fits the L2 cache of the core that scans it, with room to spare
BUFFERS = 3  # one being scanned, one being read, one ready
WINDOW = 256 << 10  # at least this much is read around a line the engine looks at


def blocks(path: str, block: int = BLOCK) -> Iterator[tuple[bytes | bytearray, int, int]]:
    """(buffer, length, newlines) for each run of whole lines of the file, in order; a
    buffer is valid until the next block is asked for. A line longer than ``block`` is cut."""
    handle = open(path, "rb", buffering=0)
    try:
        size = os.fstat(handle.fileno()).st_size
        if size < 2 * block:  # nothing to overlap: one read (to the end, should it have grown)
            data = handle.readall()
            yield data, len(data), newlines.count(data, 0, len(data))
            return
        yield from _read_ahead(handle, block)
    finally:
        handle.close()


def _read_ahead(handle, block: int) -> Iterator[tuple[bytearray, int, int]]:
    free: SimpleQueue = SimpleQueue()
    ready: SimpleQueue = SimpleQueue()
    for _ in range(BUFFERS):
        free.put(bytearray(block))

    def reader() -> None:
        carry = b""
        try:
            while True:
                buffer = free.get()
                if buffer is None:
                    return
                with memoryview(buffer) as view:
                    view[:len(carry)] = carry
                    got = handle.readinto(view[len(carry):])
                total = len(carry) + got
                cut = total if not got else (buffer.rfind(b"\n", 0, total) + 1 or total)
                carry = bytes(buffer[cut:total])
                ready.put((buffer, cut, newlines.count(buffer, 0, cut)))
                if not got:
                    ready.put(None)
                    return
        except BaseException as exc:  # handed to the diagnosing thread, which raises it
            ready.put(exc)

    thread = threading.Thread(target=reader, name="log-reader", daemon=True)
    thread.start()
    try:
        while (item := ready.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            buffer, length, count = item
            if length:
                yield buffer, length, count
            free.put(buffer)
    finally:
        free.put(None)  # stops the reader if the consumer stopped early
        thread.join()


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

"""Scanning a log file with the system's Hyperscan, on two threads, and starting early.

``_hsscan`` (built at install where Debian's libhyperscan-dev is present) scans a whole file in
C: line-aligned blocks taken in turn by two threads with the GIL released, each with its own
scratch space, newlines counted in the same pass. python-hyperscan cannot do that (its scans
share one process-wide lock); where the extension is not built, ``Diagnoser.scan_file`` scans
with python-hyperscan instead, with the same findings.

``start`` begins the scan of the log named on the command line in a thread before the rest of
diagnosis is imported, so that the scan overlaps the imports (the rules' regular expressions
are compiled meanwhile); ``take`` hands its result to the engine. This module therefore
imports nothing of the rules, nor ``re``.
"""

from __future__ import annotations

import os
import stat

from . import dbcache
from .filescan import BLOCK
from .patterns import FILE_PATTERNS

try:
    from . import _hsscan
except ImportError:  # not built on this machine: python-hyperscan scans
    _hsscan = None

THREADS = 2
# Compiled for no particular CPU features: on this project's AVX-512 machine the AVX2 and
# AVX-512 databases of the system Hyperscan scanned the 210 MB benchmark log in 105-109 ms of
# CPU, the generic one in 64 ms (python-hyperscan's bundled build is generic too).
CPU_FEATURES = 0

_databases: dict[tuple[bytes, ...], object] = {}
_pending: dict[str, _Scan] = {}


def database(patterns: list[bytes]):
    """The compiled database of ``patterns`` (ids in order, no flags), from the user's cache
    when it is there (``dbcache``), else compiled and stored."""
    key = tuple(patterns)
    db = _databases.get(key)
    if db is None:
        path = dbcache.cache_path(patterns, f"libhs-{_hsscan.VERSION}-{CPU_FEATURES}")
        data = dbcache.load(path)
        if data is not None:
            try:
                db = _hsscan.load(data)
            except ValueError:  # another Hyperscan or CPU, or a damaged file: rebuild it
                db = None
        if db is None:
            data = _hsscan.compile(patterns, CPU_FEATURES)
            dbcache.store(path, data)
            db = _hsscan.load(data)
        _databases[key] = db
    return db


def scanner(patterns: list[bytes]):
    """``scan(fd, size, block)`` -> (hits, newlines): each hit (line start, line end, newlines
    before it) a line of the file's first ``size`` bytes in which a pattern matched, in order;
    blocks of about ``block`` bytes of whole lines. None where the extension is not built."""
    if _hsscan is None:
        return None
    db = database(patterns)

    def scan_file(fd: int, size: int, block: int) -> tuple[list[tuple[int, int, int]], int]:
        return _hsscan.scan_file(db, fd, size, block, THREADS)
    return scan_file


class _Scan:
    """One file being scanned in a background thread (the scan itself runs without the GIL)."""

    def __init__(self, fd: int, identity: tuple[int, int, int], block: int, scan):
        import threading  # only when a scan is started early

        self.identity, self.block = identity, block
        self._fd, self._result, self._error = fd, None, None
        self._thread = threading.Thread(target=self._run, args=(scan,), name="log-scan", daemon=True)
        self._thread.start()

    def _run(self, scan) -> None:
        try:
            self._result = scan(self._fd, self.identity[2], self.block)
        except BaseException as exc:  # raised where the result is taken
            self._error = exc
        finally:
            os.close(self._fd)

    def result(self):
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._result


def _identity(st: os.stat_result) -> tuple[int, int, int]:
    return st.st_dev, st.st_ino, st.st_size


def start(path: str, block: int = BLOCK) -> None:
    """Begin scanning the log file ``path`` for ``Diagnoser.scan_file``, if it is a regular
    file and the extension is built. Any problem is left for diagnosis to report as usual."""
    if _hsscan is None or path in _pending:
        return
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            os.close(fd)
            return
        scan = scanner(FILE_PATTERNS)
    except BaseException:
        os.close(fd)
        raise
    _pending[path] = _Scan(fd, _identity(st), block, scan)


def take(path: str, block: int, st: os.stat_result):
    """The result of the scan ``start`` began for this file, or None if none was begun for it
    (or for the same file and size: it changed since)."""
    scan = _pending.pop(path, None)
    if scan is None:
        return None
    result = scan.result()
    return result if scan.identity == _identity(st) and scan.block == block else None

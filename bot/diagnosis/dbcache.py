"""The compiled prefilter, kept between runs (the one file diagnosis writes).

Compiling the Hyperscan database takes tens of milliseconds, several times what the rest of a
small diagnosis costs; loading a serialized one takes microseconds. The database is stored
under the user's cache directory, keyed by a hash of the patterns, the binding's version and
the machine, so a changed pattern or an upgrade never loads a stale one, and Hyperscan itself
refuses a database built for another version or CPU. Any failure to read or write the cache
only means compiling, as without it.
"""

from __future__ import annotations

import os
import zlib

CACHE_ENV = "DBF_CACHE_DIR"


def cache_dir() -> str:
    """``$DBF_CACHE_DIR``, else ``$XDG_CACHE_HOME/docker-build-fixer``, else ``~/.cache/...``."""
    explicit = os.environ.get(CACHE_ENV)
    if explicit:
        return explicit
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "docker-build-fixer")


def cache_path(patterns: list[bytes], engine_version: str) -> str:
    # Two independent 32-bit checksums of everything the database depends on (zlib is built
    # in; hashlib would cost more to import than the rest of this module).
    key = b"\0".join([engine_version.encode(), os.uname().machine.encode(), *patterns])
    return os.path.join(cache_dir(), f"prefilter-{zlib.crc32(key):08x}{zlib.adler32(key):08x}-{len(key)}.hsdb")


def load(path: str) -> bytes | None:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError:
        return None


def store(path: str, data: bytes) -> None:
    """Write atomically (a concurrent reader sees the old file or the new one, never half)."""
    import tempfile  # only when the cache is (re)written

    try:
        directory = os.path.dirname(path)
        os.makedirs(directory, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".prefilter-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError:
        pass  # a read-only or full cache directory: compile next time too

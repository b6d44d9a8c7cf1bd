"""Diagnosis: job log text in, findings out (SPEC section 3). Pure; no I/O but reading a path.

The names below are imported on first use (PEP 562), so that ``bot.diagnosis.nativescan``
can start scanning a log file before the engine and its rules are imported.
"""

import sys

_EXPORTS = {
    "Diagnoser": "engine",
    "EMULATION_FAMILY": "catalogue",
    "Finding": "engine",
    "NETWORK_FAMILY": "catalogue",
    "SIGNATURES": "catalogue",
    "Signature": "catalogue",
    "diagnose_bytes": "engine",
    "diagnose_chunks": "engine",
    "diagnose_file": "engine",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:  # a submodule (``from bot.diagnosis import filescan``) is imported then
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    __import__(f"{__name__}.{module}")
    value = getattr(sys.modules[f"{__name__}.{module}"], name)
    globals()[name] = value
    return value

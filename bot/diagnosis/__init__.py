"""Diagnosis: job log text in, findings out (SPEC section 3). Pure; no I/O but reading a path."""

from .catalogue import EMULATION_FAMILY, NETWORK_FAMILY, SIGNATURES, Signature
from .engine import Diagnoser, Finding, diagnose_bytes, diagnose_chunks, diagnose_file

__all__ = [
    "Diagnoser",
    "EMULATION_FAMILY",
    "Finding",
    "NETWORK_FAMILY",
    "SIGNATURES",
    "Signature",
    "diagnose_bytes",
    "diagnose_chunks",
    "diagnose_file",
]

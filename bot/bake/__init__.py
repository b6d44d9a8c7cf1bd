"""Bake definitions: parsing (HCL, JSON), resolving, and what a bake-action step builds."""

from .definition import BakeError, bake_candidates, is_bake_file
from .step import BakeTarget, BakeView, read_step

__all__ = ["BakeError", "bake_candidates", "BakeTarget", "BakeView", "is_bake_file", "read_step"]

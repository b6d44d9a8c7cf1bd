"""Line-splicing edits on a parsed Dockerfile: only the lines an edit owns change."""

from __future__ import annotations

import re

from .model import Dockerfile, Instruction, Stage

_FROM = re.compile(r"^(\s*FROM\s+)", re.IGNORECASE)
# RUN and its flags, which may continue over lines: "RUN --mount=... \\\n    npm ci"
_RUN_HEAD = re.compile(r"^(\s*RUN(?:[ \t]+|\\\n)+(?:--\S+(?:[ \t]+|\\\n\s*)+)*)", re.IGNORECASE)


def segment(df: Dockerfile, ins: Instruction) -> str:
    """The instruction's raw text, exactly as in the file (its lines, with their newlines)."""
    return "".join(df.lines[ins.start_line - 1:ins.end_line])


def replace_segment(df: Dockerfile, ins: Instruction, new: str) -> str:
    lines = df.lines
    return "".join(lines[:ins.start_line - 1]) + new + "".join(lines[ins.end_line:])


def insert_before(df: Dockerfile, ins: Instruction, line: str) -> str:
    lines = df.lines
    first = lines[ins.start_line - 1]
    indent = first[:len(first) - len(first.lstrip())]
    newline = "\r\n" if first.endswith("\r\n") else "\n"
    return "".join(lines[:ins.start_line - 1]) + indent + line + newline + "".join(lines[ins.start_line - 1:])


def add_build_platform(df: Dockerfile, stage: Stage) -> str:
    """``FROM node:22 AS build`` -> ``FROM --platform=$BUILDPLATFORM node:22 AS build``."""
    ins = stage.from_instruction
    raw = segment(df, ins)
    new = _FROM.sub(lambda m: m.group(1) + "--platform=$BUILDPLATFORM ", raw, count=1)
    return replace_segment(df, ins, new)


def run_command_start(raw: str) -> int | None:
    """Offset in a RUN instruction's raw text where its shell command begins (after flags)."""
    m = _RUN_HEAD.match(raw)
    return m.end() if m else None

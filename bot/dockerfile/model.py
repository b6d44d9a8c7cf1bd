"""A Dockerfile as stages and instructions with their line ranges (BuildKit's parser).

Edits never re-serialise the file: they replace or insert whole lines by number, so comments,
continuation lines, heredocs, parser directives and every untouched byte survive.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import dockerfile as buildkit

from ..diagnosis.logline import normalise_instruction


class DockerfileError(ValueError):
    """The Dockerfile cannot be parsed."""


@dataclass
class Instruction:
    cmd: str  # upper case: RUN, COPY, ...
    original: str  # as BuildKit joins it (continuations folded)
    start_line: int  # 1-based, inclusive
    end_line: int
    flags: tuple[str, ...]
    value: tuple[str, ...]
    json: bool
    heredoc: bool
    stage: int  # index of the stage it belongs to (-1: before the first FROM)

    def flag(self, name: str) -> str | None:
        prefix = f"--{name}="
        return next((f[len(prefix):] for f in self.flags if f.startswith(prefix)), None)


@dataclass
class Stage:
    index: int
    name: str | None
    base: str
    platform_flag: str | None
    start_line: int
    instructions: list[Instruction] = field(default_factory=list)

    @property
    def from_instruction(self) -> Instruction:
        return self.instructions[0]


@dataclass
class Dockerfile:
    path: str
    text: str
    stages: list[Stage]
    preamble: list[Instruction]  # ARGs before the first FROM

    @property
    def lines(self) -> list[str]:
        return self.text.splitlines(keepends=True)

    @property
    def final_stage(self) -> Stage:
        return self.stages[-1]

    def stage_named(self, ref: str) -> Stage | None:
        """A stage by name (case-insensitive, as BuildKit) or by index."""
        for stage in self.stages:
            if stage.name and stage.name.lower() == ref.lower():
                return stage
        if ref.isdigit() and int(ref) < len(self.stages):
            return self.stages[int(ref)]
        return None

    def find(self, instruction: str, stage: str | None = None) -> list[Instruction]:
        """Instructions matching the text a build log shows for a step."""
        wanted = _log_form(instruction)
        found = []
        for st in self.stages:
            if stage and not (st.name and st.name.lower() == stage.lower()) and stage != f"stage-{st.index}":
                continue
            for ins in st.instructions:
                if _matches(_log_form(ins.original), wanted):
                    found.append(ins)
        return found


def _log_form(text: str) -> str:
    """What BuildKit prints for an instruction: one line, heredocs shortened to their first line."""
    first = text.split("\n", 1)[0] if "<<" in text else text
    return normalise_instruction(first)


def _matches(candidate: str, wanted: str) -> bool:
    if candidate == wanted:
        return True
    # BuildKit prints "RUN <<EOF (apt-get update...)" for heredocs, and long lines cut short.
    wanted_core = re.sub(r"\s*\(.*\.\.\.\)$", "", wanted)
    if wanted_core.endswith("..."):
        wanted_core = wanted_core[:-3]
    return len(wanted_core) >= 8 and candidate.lower().startswith(wanted_core.lower())


def parse(path: str, text: str) -> Dockerfile:
    try:
        commands = buildkit.parse_string(text)
    except buildkit.GoParseError as exc:
        raise DockerfileError(f"{path}: BuildKit cannot parse it: {exc}") from None
    stages: list[Stage] = []
    preamble: list[Instruction] = []
    for command in commands:
        cmd = command.cmd.upper()
        if cmd == "FROM":
            value = list(command.value)
            name = value[2] if len(value) >= 3 and value[1].lower() == "as" else None
            platform = next((f.split("=", 1)[1] for f in command.flags if f.startswith("--platform=")), None)
            stages.append(Stage(len(stages), name, value[0] if value else "", platform, command.start_line))
        instruction = Instruction(
            cmd=cmd, original=command.original, start_line=command.start_line,
            end_line=command.end_line, flags=tuple(command.flags), value=tuple(command.value),
            json=command.json, heredoc=bool(command.heredocs), stage=len(stages) - 1,
        )
        (stages[-1].instructions if stages else preamble).append(instruction)
    if not stages:
        raise DockerfileError(f"{path}: no FROM instruction")
    return Dockerfile(path, text, stages, preamble)

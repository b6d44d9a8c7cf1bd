"""One line of a GitHub Actions job log: cleaning and BuildKit structure.

Job logs put an ISO timestamp before every line, may carry ANSI colour codes and
``##[error]``-style workflow commands, and buildx prints steps as
``#24 [linux/arm64 builder 6/6] RUN npm ci`` followed by ``#24 5.313 output`` lines,
an error summary `` > [linux/arm64 builder 6/6] RUN npm ci:`` and
``ERROR: process "/bin/sh -c npm ci" did not complete successfully: exit code: 132``.
The legacy builder prints ``Step 19/23 : RUN npm install`` instead.
"""

from __future__ import annotations

import re

from .record import Record

_TIMESTAMP = re.compile(r"^\ufeff?(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.\d+)?Z ?")
# How people paste job logs into issues: each line behind a Markdown link to its line in the
# job ("> [191](https://github.com/o/r/actions/runs/1/jobs/2#step:6:192) "), in a Markdown
# quote ("> "; not before "[", which is BuildKit's error summary), or behind a time of day,
# bracketed or not ("[02:38:45] ", "02:38:45 ", "[2024-02-14T16:54:15.692Z] ").
_JSON_STREAM = re.compile(r'^\{"stream":\s*"((?:[^"\\]|\\.)*)"\}\s*$')
_PASTE_LINK = re.compile(r"^>? ?\[\d+\]\(https?://[^)\s]*\) ?")
_PASTE_QUOTE = re.compile(r"^> (?!\[)")
_PASTE_TIME = re.compile(
    r"^\[(\d{4}-\d\d-\d\d[T ])?(\d\d:\d\d:\d\d)(?:[.,]\d+)?Z?\] ?"
    r"|^()()(\d\d:\d\d:\d\d)(?:\.\d+)? (?=\S)"
)
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")
_WORKFLOW_COMMAND = re.compile(r"^##\[(?:error|warning|notice|debug|group|endgroup|command|section)\] ?")
_STEP_PREFIX = re.compile(r"^#(\d+) ")
# BuildKit's elapsed-time column: "12.34 ", "1639. " (it keeps 4 significant digits); pasted
# logs that lost the "#N" may keep the space before it.
_ELAPSED = re.compile(r"^ ?\d+\.\d* ")

_HEADER = re.compile(r"^\[([^\]]+)\] (.+)$")
_SUMMARY = re.compile(r"^\s*> \[([^\]]+)\] (.+?):?\s*$")
_PROGRESS_ERROR = re.compile(r"^\s*=> ERROR \[([^\]]+)\] (.+?)(?:\s+\d+(?:\.\d+)?s)?\s*$")
_LEGACY_STEP = re.compile(r"^(?:Step \d+/\d+ : |STEP \d+/\d+: )(.+)$")
_PROCESS_FAILED = (
    re.compile(r'process "(.*)" did not complete successfully: exit code: (\d+)'),
    re.compile(r"executor failed running \[(.*)\]: (?:exit code: |.*exit code )(\d+)"),
    re.compile(r"The command '(.*)' returned a non-zero code: (\d+)"),
)
_PLATFORM = re.compile(
    r"^((?:linux|windows|darwin|freebsd)/[a-z0-9_]+(?:/v\d+)?)(?:->([a-z0-9_]+(?:/v\d+)?))?$"
)
_INDEX = re.compile(r"^\d+/\d+$")
# What a step header names after its bracket: a Dockerfile instruction (yarn's "[1/4] Resolving
# packages" is not one).
_INSTRUCTION = re.compile(
    r"^(?:FROM|RUN|COPY|ADD|WORKDIR|ENV|ARG|USER|LABEL|EXPOSE|VOLUME|SHELL|ENTRYPOINT|CMD"
    r"|HEALTHCHECK|ONBUILD|STOPSIGNAL|MAINTAINER)\b",
    re.IGNORECASE,
)

BUNDLED_EMULATOR = "/dev/.buildkit_qemu_emulator"


def clean(raw: bytes) -> tuple[str | None, str]:
    """Decode leniently; return (timestamp or None, text without timestamp, colours, markers)."""
    text = raw.decode("utf-8", "replace").rstrip("\r\n")
    stamp = None
    m = _TIMESTAMP.match(text)
    if m:
        stamp = m.group(1)
        text = text[m.end():]
    if "\x1b" in text:
        text = _ANSI.sub("", text)
    if text[:1] in ">[0123456789":
        text, pasted_stamp = _strip_paste_prefix(text)
        stamp = stamp or pasted_stamp
    if text.startswith('{"stream"'):
        text = _json_stream_text(text)
    if text.startswith("##["):
        text = _WORKFLOW_COMMAND.sub("", text, count=1)
    if "\r" in text:
        # A progress bar redrawn with carriage returns: what a terminal shows is the last part.
        parts = [p for p in text.split("\r") if p.strip()]
        text = parts[-1] if parts else ""
    return stamp, text


def _json_stream_text(text: str) -> str:
    """The Docker API's build output (``{"stream":"Step 5/18 : RUN npm ci\\n"}``), as tools that
    drive the API print it: the text of the stream, without its colour codes."""
    m = _JSON_STREAM.match(text)
    if not m:
        return text
    try:
        import json  # only for logs printed from the Docker API

        inner = json.loads(f'"{m.group(1)}"')
    except ValueError:
        return text
    return _ANSI.sub("", inner).strip("\r\n")


def _strip_paste_prefix(text: str) -> tuple[str, str | None]:
    """Remove the prefixes a pasted log carries; return the text and the time it gave, if any
    (a time of day alone is dated 1970-01-01, which is enough to measure silences)."""
    stamp = None
    for _ in range(3):  # a quoted paste of a pasted log carries two prefixes
        before = text
        m = _PASTE_LINK.match(text)
        if m:
            text = text[m.end():]
        elif _PASTE_QUOTE.match(text):
            text = text[2:]
        m = _PASTE_TIME.match(text)
        if m:
            day, time = (m.group(1) or m.group(3)), (m.group(2) or m.group(5))
            stamp = stamp or f"{(day or '1970-01-01T')[:10]}T{time}"
            text = text[m.end():]
        if text == before or text[:1] not in ">[0123456789":
            break
    return text, stamp


def parse_timestamp(stamp: str | None) -> float | None:
    if not stamp:
        return None
    from datetime import datetime  # only when a cancel's silence is measured

    try:
        return datetime.fromisoformat(stamp).timestamp()
    except ValueError:
        return None


def seconds_between(then: str | None, now: str | None) -> float | None:
    """Seconds from one line's time to a later line's; a time of day alone wraps at midnight."""
    a, b = parse_timestamp(then), parse_timestamp(now)
    if a is None or b is None:
        return None
    gap = b - a
    if gap < 0 and now.startswith("1970-01-01"):
        gap += 86400
    return gap


def split_step(text: str) -> tuple[int | None, str, bool]:
    """``#24 5.313 qemu: ...`` -> (24, "qemu: ...", True): step number, payload, and whether
    the payload is process output (it had an elapsed-time column) rather than BuildKit's own."""
    step = None
    m = _STEP_PREFIX.match(text)
    if m:
        # "#0" is BuildKit's own preamble ("#0 building with ... instance"), and some front
        # ends (compose, older buildx) print every line as "#0": it names no Dockerfile step.
        step = int(m.group(1)) or None
        text = text[m.end():]
    m = _ELAPSED.match(text)
    if m:
        return step, text[m.end():], True
    return step, text, False


class Step(Record):
    """A Dockerfile step as the log names it."""

    platform: str | None = None  # the platform the step builds for (the leg)
    run_platform: str | None = None  # where it executes (differs for FROM --platform=$BUILDPLATFORM)
    stage: str | None = None
    instruction: str | None = None
    emulator: bool = False  # its process ran under BuildKit's bundled QEMU
    qemu_seen: bool = False  # a qemu: line was printed in it
    foreign: bool = False  # the builder warned that its image's platform is not the host's
    exit_code: int | None = None

    def merge(self, other: "Step") -> None:
        for name in ("platform", "run_platform", "stage", "instruction", "exit_code"):
            if getattr(self, name) is None:
                setattr(self, name, getattr(other, name))
        self.emulator |= other.emulator
        self.qemu_seen |= other.qemu_seen
        self.foreign |= other.foreign

    def run_foreign(self, platform: str) -> None:
        """The legacy builder warned that this step's image is ``platform``, not the host's."""
        if self.platform is None:
            self.platform = self.run_platform = platform
        self.foreign = True


def parse_bracket(bracket: str, instruction: str) -> Step | None:
    """``linux/arm64 builder 6/6`` + ``RUN npm ci`` -> Step; None for ``[internal]`` steps."""
    if not _INSTRUCTION.match(instruction):
        return None
    tokens = bracket.split()
    index = next((i for i, t in enumerate(tokens) if _INDEX.match(t)), None)
    if index is None:
        return None
    platform = run_platform = None
    for token in tokens[:index]:
        m = _PLATFORM.match(token)
        if m:
            run_platform = m.group(1)
            if m.group(2):
                os_name = run_platform.split("/", 1)[0]
                platform = f"{os_name}/{m.group(2)}"
            else:
                platform = run_platform
    # The stage name stands just before "k/n" (bake puts its target name first:
    # "[target linux/arm64 stage k/n]").
    stage = None
    if index > 0 and not _PLATFORM.match(tokens[index - 1]):
        stage = tokens[index - 1]
    return Step(platform=platform, run_platform=run_platform, stage=stage,
                instruction=instruction.strip())


def parse_header(payload: str) -> Step | None:
    m = _HEADER.match(payload)
    return parse_bracket(m.group(1), m.group(2)) if m else None


def parse_summary(text: str) -> Step | None:
    """The error summary `` > [stage k/n] RUN x:`` or progress ``=> ERROR [stage k/n] RUN x  1.2s``."""
    m = _SUMMARY.match(text) or _PROGRESS_ERROR.match(text)
    return parse_bracket(m.group(1), m.group(2)) if m else None


def parse_legacy_step(payload: str) -> Step | None:
    m = _LEGACY_STEP.match(payload)
    return Step(instruction=m.group(1).strip()) if m else None


def parse_process_failure(payload: str) -> Step | None:
    """A failed process report -> Step with instruction, exit code and emulator flag."""
    for pattern in _PROCESS_FAILED:
        m = pattern.search(payload)
        if m:
            command = m.group(1).replace('\\"', '"')
            emulator = BUNDLED_EMULATOR in command
            command = command.replace(BUNDLED_EMULATOR, "").strip()
            if command.startswith("/bin/sh -c "):
                command = command[len("/bin/sh -c "):]
            return Step(instruction=f"RUN {command}", emulator=emulator, exit_code=int(m.group(2)))
    return None


def normalise_instruction(text: str) -> str:
    return " ".join(text.split())


def same_instruction(a: str | None, b: str | None) -> bool:
    """The summary prints the Dockerfile text (with --mount flags); a process report only the command."""
    if not a or not b:
        return False
    a, b = normalise_instruction(a), normalise_instruction(b)
    if a == b:
        return True
    a_cmd = a[4:] if a.startswith("RUN ") else a
    b_cmd = b[4:] if b.startswith("RUN ") else b
    return bool(a_cmd) and bool(b_cmd) and (a_cmd.endswith(b_cmd) or b_cmd.endswith(a_cmd))

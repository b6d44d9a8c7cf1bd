"""The streaming diagnosis engine: log bytes in, findings out.

Feed it a log chunk by chunk, as it is read from disk or downloaded; memory stays bounded
(a window of a few tens of KB around the scan position, plus bounded tables of steps and
candidate findings), so a 1 GB log costs what a 1 MB one does. Decisions that need the
whole log (was the failing step emulated? which step did an unnumbered line belong to? did
the build fail after that warning?) are taken in ``finish``.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterable

from .catalogue import EMULATION_FAMILY, SIGNAL_EXIT_CODES, SIGNATURES
from .logline import (
    Step,
    clean,
    parse_header,
    parse_legacy_step,
    parse_process_failure,
    parse_summary,
    parse_timestamp,
    same_instruction,
    seconds_between,
    split_step,
)
from . import filescan, newlines
from .headers import MAX_STEPS, collect_headers, headers_before, last_header
from .legs import leg_stamp, leg_stamps
from .prefilter import Prefilter
from .record import Record, field
from .rules import HEADER_PATTERN, SIGNATURE_PATTERNS, STRUCTURE_PATTERNS, classify, foreign_platform

# What the engine may look at around a line it found: the lines that start at most KEEP_BEHIND
# bytes before it, and LOOKAHEAD bytes after it. Fixed windows, not whatever happens to be in
# memory, so that the findings do not depend on how the log was cut into chunks or blocks.
LOOKAHEAD = 16 * 1024  # bytes kept unscanned so that excerpts can show the lines after a hit
KEEP_BEHIND = 16 * 1024  # bytes kept before the scan position for the lines before a hit
MAX_LINE = 64 * 1024  # longer lines are classified on their first 64 KB
CONTEXT_BEFORE, CONTEXT_AFTER = 3, 3
EXCERPT_WIDTH = 300
MAX_CANDIDATES = 32  # per signature; the earliest ones are kept
MAX_EVIDENCE = 256
PROXIMITY = 50  # lines: how near unnumbered evidence must be to count for a finding
SILENCE_SECONDS = 300  # a cancel after this long without output is a wedged job

_NATIVE = {"amd64": {"amd64", "386"}, "arm64": {"arm64"}}

LOOKBACK_LINES = 64  # how far an unnumbered line looks back for the step it belongs to

PREFILTER = Prefilter([HEADER_PATTERN], STRUCTURE_PATTERNS + SIGNATURE_PATTERNS)
# For a log file: the same without step headers (looked up in the file when needed), and the
# headers alone (for the platforms built before a cancel).
HEADLESS_PREFILTER = Prefilter([], STRUCTURE_PATTERNS + SIGNATURE_PATTERNS)
HEADER_PREFILTER = Prefilter([HEADER_PATTERN], [])


class Finding(Record):
    signature: str
    platform: str | None
    step: dict | None
    line: int
    excerpt: list[str]
    file: str | None = None
    # Seconds each leg ran, from the timestamps of its step headers: the failing leg until this
    # finding's line, the others until their last step started. Empty without timestamps.
    legs: dict[str, float] = field(default_factory=dict, compare=False)

    def to_json(self) -> dict:
        return {
            "signature": self.signature,
            "platform": self.platform,
            "step": self.step,
            "line": self.line,
            "excerpt": self.excerpt,
            "file": self.file,
        }


class _Candidate(Record):
    signature: str
    line: int
    step_no: int | None
    context: Step | None
    excerpt: list[str]
    stamp: str | None = None  # the line's timestamp
    weak: bool = False
    needs_emulation: bool = False
    self_evident: bool = False  # the line itself shows emulation (a qemu: line)
    network_manager_unknown: bool = False
    process: Step | None = None
    needs_stale_hint: bool = False


class _Resolved(Record):
    candidate: _Candidate
    step: Step | None
    key: tuple = ()


class Diagnoser:
    """Streaming diagnosis of one job log. ``feed`` chunks, then ``finish`` once."""

    def __init__(self, file: str | None = None, source: str | None = None):
        """``source``: the path of the log file being fed, which the engine may read again to
        look up step headers instead of tracking them all while scanning (``headers``)."""
        self.file = file
        self._source = source
        self._looked_up: set[int] = set()
        self._buf = bytearray()
        self._pos = 0  # index in _buf of the first unscanned byte (always a line start)
        self._line = 1  # line number at _pos
        self._scan_fn = (PREFILTER if source is None else HEADLESS_PREFILTER).scanner()
        # Step headers are frequent (buildx re-prints them whenever output switches legs), so
        # only their raw text is kept while streaming; they are parsed when a finding needs one.
        self._raw_headers: dict[int, tuple[int, bytes]] = {}  # step -> (where in the log, text)
        self._trimmed = 0  # bytes dropped from the front of _buf so far
        # The window of _buf the line being looked at may see (see KEEP_BEHIND).
        self._floor, self._ceil = 0, 0
        self._parsed: dict[bytes, Step | None] = {}
        self._steps: dict[int, Step] = {}  # what output lines told about a step
        self._summaries: deque[Step] = deque(maxlen=64)
        self._context: Step | None = None  # latest unnumbered step (summary, legacy, bare header)
        self._candidates: dict[str, list[_Candidate]] = {}
        # (line, seconds of silence before it, platforms built before it, platform of a step
        # that started just before it and printed nothing, excerpt)
        self._cancels: list[tuple[int, float | None, tuple[str, ...], str | None, list[str]]] = []
        self._emulation_lines: deque[int] = deque(maxlen=MAX_EVIDENCE)
        self._stale_hints: deque[tuple[int, int | None]] = deque(maxlen=MAX_EVIDENCE)
        self._runner_arch: str | None = None
        self._leg_stamps: dict[bytes, list[bytes]] = {}  # platform -> [first, last] header timestamps
        # Reported failures: (line, step number or None, the failed instruction or None).
        self._failures: deque[tuple[int, int | None, str | None]] = deque(maxlen=MAX_EVIDENCE)
        self._context_platforms: dict[str, int] = {}  # platform of unnumbered steps -> where last seen
        self._result: list[Finding] | None = None
        self.bytes_read = 0

    # -- feeding ---------------------------------------------------------------------------

    def feed(self, data: bytes) -> None:
        if self._result is not None:
            raise RuntimeError("feed() after finish()")
        if data:
            self.bytes_read += len(data)
            self._buf += data
            self._scan(final=False)

    def finish(self) -> list[Finding]:
        if self._result is None:
            self._scan(final=True)
            self._result = self._decide()
            self._buf = bytearray()
        return self._result

    def _scan(self, final: bool) -> None:
        buf = self._buf
        start = self._pos
        if final:
            end = len(buf)
        else:
            limit = len(buf) - LOOKAHEAD
            if limit <= start:
                return
            newline = buf.rfind(b"\n", start, limit)
            if newline >= 0:
                end = newline + 1
            elif limit - start >= MAX_LINE:
                end = limit  # a huge line with no newline yet: scan what there is
            else:
                return
        if end <= start:
            return
        with memoryview(buf) as whole, whole[start:end] as region:
            header_ends, ends = self._scan_fn(region)
        self._keep_headers(start, end, header_ends)
        lines, self._line = newlines.hit_lines(buf, start, end, ends, self._line)
        for line_start, line_end, line_no in lines:
            self._look_at(line_no, line_start, line_end)
        self._pos = end
        if self._pos > 2 * KEEP_BEHIND:
            cut = self._pos - KEEP_BEHIND - 1  # what a window can reach back to (_look_at)
            del buf[:cut]
            self._pos -= cut
            self._trimmed += cut

    def _look_at(self, line_no: int, start: int, end: int) -> None:
        """Look at the line ``_buf[start:end]``, seeing only its window: from the first line
        that starts KEEP_BEHIND bytes or less before it to LOOKAHEAD bytes after its end.
        ``_buf`` holds the byte before the window's earliest start, and the window's end."""
        reach = self._trimmed + start - KEEP_BEHIND
        if reach <= 0:
            self._floor = 0  # the log's first byte (nothing was trimmed yet)
        else:
            newline = self._buf.find(b"\n", reach - 1 - self._trimmed, start)
            self._floor = start if newline < 0 else newline + 1
        self._ceil = min(len(self._buf), end + LOOKAHEAD)
        self._on_line(line_no, start, end)

    def scan_file(self, block: int = filescan.BLOCK) -> None:
        """Diagnose the whole file ``source``: the same findings as feeding it, faster. Blocks
        are scanned where they were read; the engine then looks at each line found in a window
        of the file around it, as ``_look_at`` would have seen it in the stream."""
        if self._source is None or self.bytes_read:
            raise RuntimeError("scan_file() needs a Diagnoser made with source= and nothing fed")
        windows = filescan.Windows(self._source)
        try:
            read = 0  # where in the file the block starts
            for buffer, low, high, count in filescan.blocks(self._source, block):
                with memoryview(buffer) as whole, whole[low:high] as region:
                    _, ends = self._scan_fn(region)  # no header patterns: looked up later
                if ends:
                    origin = read - low  # where in the file buffer[0] is
                    for line_start, line_end, line_no in newlines.hit_lines(buffer, low, high, ends, self._line)[0]:
                        at, end = origin + line_start, origin + line_end
                        self._trimmed, self._buf = windows.get(max(0, at - KEEP_BEHIND - 1), end + LOOKAHEAD)
                        self._look_at(line_no, at - self._trimmed, end - self._trimmed)
                self._line += count
                read += high - low
                self.bytes_read = read
        finally:
            windows.close()
            self._buf, self._trimmed, self._pos = bytearray(), self.bytes_read, 0

    def _keep_headers(self, start: int, end: int, header_ends: list[int]) -> None:
        """``#N [linux/arm64 build 3/5] RUN npm ci``: remember the bracket and instruction of N."""
        if header_ends:
            collect_headers(self._buf, start, end, header_ends, self._trimmed, self._raw_headers)
        if header_ends and self._source is None:
            self._leg_times(start, header_ends)

    def _leg_times(self, start: int, header_ends: list[int]) -> None:
        """When each leg was at each of its steps (streams only; a file is looked up afterwards,
        ``legs.leg_stamps``). Hot path (every re-printed header): byte slices only."""
        buf, stamps = self._buf, self._leg_stamps
        for offset in header_ends:
            at = start + offset  # just after "#N ["
            line_start = buf.rfind(b"\n", start, at) + 1 or start
            platform, stamp = leg_stamp(buf, line_start, at)
            if platform is None:
                continue
            seen = stamps.get(platform)
            if seen is None:
                stamps[platform] = [stamp, stamp]
            else:
                seen[1] = stamp

    def _legs(self, platform: str | None, stamp: str | None, upto: int) -> dict[str, float]:
        """Seconds each leg ran: the failing one until ``stamp``, the others until their last step."""
        if self._source is not None and platform is not None and stamp is not None and not self._leg_stamps:
            self._leg_stamps = leg_stamps(self._source, upto)
        stamps = {p.decode("ascii", "replace"): (parse_timestamp(a.decode("ascii", "replace")),
                                                 parse_timestamp(b.decode("ascii", "replace")))
                  for p, (a, b) in self._leg_stamps.items()}
        if platform not in stamps or stamp is None:
            return {}
        start, end = stamps[platform][0], parse_timestamp(stamp)
        if start is None or end is None or end < start:
            return {}
        legs = {platform: end - start}
        for other, (a, b) in stamps.items():
            if other != platform and a is not None and b is not None and b >= a:
                legs[other] = b - a
        return legs

    def _header(self, step_no: int) -> Step | None:
        if step_no not in self._raw_headers:
            if self._source is None or step_no in self._looked_up:
                return None
            self._looked_up.add(step_no)
            found = last_header(self._source, step_no, self.bytes_read)
            if found is None:
                return None
            self._raw_headers[step_no] = found
        return self._parse_header(self._raw_headers[step_no][1])

    def _parse_header(self, raw: bytes) -> Step | None:
        if raw not in self._parsed:
            self._parsed[raw] = parse_header(clean(raw[:MAX_LINE])[1])
        step = self._parsed[raw]
        return step.copy() if step else None

    def _known_step(self, step_no: int) -> Step | None:
        """A numbered step as its header names it, with what its output told."""
        header, facts = self._header(step_no), self._steps.get(step_no)
        if header is None and facts is None:
            return None
        step = header or Step()
        if facts is not None:
            step.merge(facts)
        return step

    def _platforms_before(self, position: int) -> tuple[str, ...]:
        """Platforms of the steps printed before ``position`` in the log, the latest last."""
        headers = self._raw_headers if self._source is None else headers_before(
            self._source, position, HEADER_PREFILTER.scanner())
        seen = {step.run_platform: where for n, (where, raw) in list(headers.items())
                if where < position and (step := self._parse_header(raw)) and step.run_platform}
        for platform, where in self._context_platforms.items():
            seen[platform] = max(where, seen.get(platform, -1))
        return tuple(sorted(seen, key=seen.__getitem__))

    def _unnumbered_context(self, start: int) -> Step | None:
        """The step an unnumbered line belongs to: the nearest summary, legacy ``Step k/n``
        or bare header before it (excerpts often lose the ``#N`` prefixes), with the platform
        of a legacy "requested image's platform" warning printed in between."""
        buf, cursor, foreign = self._buf, start, None
        for _ in range(LOOKBACK_LINES):
            if cursor <= self._floor:
                break
            prev = self._line_before(cursor)
            text = clean(bytes(buf[prev:min(cursor - 1, prev + MAX_LINE)]))[1]
            cursor = prev
            if text.startswith("#"):
                continue
            step = parse_summary(text) or parse_legacy_step(text) or (
                parse_header(text) if text.startswith("[") else None)
            if step is not None:
                if foreign:
                    step.run_foreign(foreign)
                return step
            foreign = foreign or foreign_platform(text)
        if foreign:
            step = Step()
            step.run_foreign(foreign)
            return step
        return self._context

    # -- one interesting line --------------------------------------------------------------

    def _on_line(self, line_no: int, start: int, end: int) -> None:
        stamp, text = clean(bytes(self._buf[start:min(end, start + MAX_LINE)]))
        step_no, payload, is_output = split_step(text)

        # Structure: step headers, summaries and legacy steps carry no signature themselves
        # (a RUN line's own text must not count as its output).
        if step_no is not None and not is_output:
            if parse_header(payload) is not None:
                return  # kept by _keep_headers
        elif step_no is None:
            step = parse_summary(text) or parse_legacy_step(payload)
            if step is not None:
                self._context = step
                self._summaries.append(step)
                return

        if step_no is not None:
            owner = self._step(step_no)
        else:
            owner = self._context = self._unnumbered_context(start)
        if owner is not None and step_no is None and owner.run_platform:
            self._context_platforms[owner.run_platform] = self._trimmed + start
        process = parse_process_failure(payload)
        if process is not None or "buildx failed with" in payload or "failed to solve" in payload:
            self._failures.append((line_no, step_no, process.instruction if process else None))
        if process is not None and owner is not None and step_no is not None:
            owner.merge(process)

        excerpt: list[str] | None = None

        def add(signature: str, **kw) -> None:
            nonlocal excerpt
            bucket = self._candidates.setdefault(signature, [])
            if len(bucket) >= MAX_CANDIDATES:
                return
            if excerpt is None:
                excerpt = self._excerpt(start, end, step_no)
            bucket.append(_Candidate(signature, line_no, step_no, self._context, excerpt, stamp, **kw))

        if process is not None:
            signal = SIGNAL_EXIT_CODES.get(process.exit_code or 0)
            if signal:
                add(signal, needs_emulation=True, self_evident=process.emulator, process=process)
            elif process.emulator:
                add("stale-bundled-emulator", process=process, needs_stale_hint=True)

        for hit in classify(payload, in_build_step=owner is not None):
            if hit.kind == "finding":
                add(hit.signature, weak=hit.weak, needs_emulation=hit.needs_emulation,
                    self_evident=hit.signature in ("qemu-sigill", "qemu-sigsegv", "qemu-sigtrap",
                                                   "qemu-internal-crash") and not hit.needs_emulation,
                    network_manager_unknown=hit.manager == "unknown", process=process)
            elif hit.kind == "emulation":
                self._emulation_lines.append(line_no)
                if owner is not None:
                    owner.qemu_seen = True
            elif hit.kind == "stale-hint":
                self._stale_hints.append((line_no, step_no))
            elif hit.kind == "runner" and self._runner_arch is None:
                self._runner_arch = hit.value
            elif hit.kind == "foreign-platform":
                if owner is None:
                    owner = self._context = Step()
                owner.run_foreign(hit.value)
                self._context_platforms[hit.value] = self._trimmed + start
            elif hit.kind == "cancel":
                self._cancels.append((line_no, self._silence_before(start, stamp),
                                      self._platforms_before(self._trimmed + start),
                                      self._silent_step_before(start), self._excerpt(start, end, step_no)))

    def _step(self, step_no: int) -> Step:
        step = self._steps.get(step_no)
        if step is None:
            if len(self._steps) >= MAX_STEPS:
                del self._steps[next(iter(self._steps))]
            step = self._steps[step_no] = Step()
        return step

    def _excerpt(self, start: int, end: int, step_no: int | None) -> list[str]:
        """The hit line with up to three lines of the same step before and after it."""
        buf = self._buf

        def keep(raw: bytes) -> str | None:
            text = clean(raw[:MAX_LINE])[1]
            other_step = split_step(text)[0]
            # Another leg interleaved with this one is noise here.
            if not text.strip() or (step_no is not None and other_step not in (None, step_no)):
                return None
            return text

        before: list[str] = []
        cursor, looked = start, 0
        while len(before) < CONTEXT_BEFORE and cursor > self._floor and looked < 4 * CONTEXT_BEFORE:
            prev = self._line_before(cursor)
            text = keep(bytes(buf[prev:cursor - 1]))
            if text is not None:
                before.insert(0, text)
            cursor, looked = prev, looked + 1
        after: list[str] = []
        cursor, looked, ceil = end + 1, 0, self._ceil
        while len(after) < CONTEXT_AFTER and cursor < ceil and looked < 4 * CONTEXT_AFTER:
            nxt = buf.find(b"\n", cursor, ceil)
            nxt = ceil if nxt < 0 else nxt
            text = keep(bytes(buf[cursor:nxt]))
            if text is not None:
                after.append(text)
            cursor, looked = nxt + 1, looked + 1
        hit = clean(bytes(buf[start:min(end, start + MAX_LINE)]))[1]
        return [t if len(t) <= EXCERPT_WIDTH else t[:EXCERPT_WIDTH] + " …"
                for t in before + [hit] + after]

    def _line_before(self, cursor: int) -> int:
        """Where the line before the one starting at ``cursor`` starts, within the window."""
        newline = self._buf.rfind(b"\n", self._floor, cursor - 1)
        return self._floor if newline < 0 else newline + 1

    def _silent_step_before(self, start: int) -> str | None:
        """The platform of a step whose header is the last thing printed before ``start``."""
        buf, cursor = self._buf, start
        for _ in range(4):
            if cursor <= self._floor:
                return None
            prev = self._line_before(cursor)
            text = clean(bytes(buf[prev:min(cursor - 1, prev + MAX_LINE)]))[1]
            cursor = prev
            if not text.strip():
                continue
            step_no, payload, is_output = split_step(text)
            header = parse_header(payload) if not is_output else None
            return header.run_platform if header else None
        return None

    def _silence_before(self, start: int, stamp: str | None) -> float | None:
        """Seconds between this line and the one before, when both carry timestamps."""
        if start <= self._floor or stamp is None:
            return None
        prev = self._line_before(start)
        prev_stamp = clean(bytes(self._buf[prev:start - 1])[:256])[0]
        return seconds_between(prev_stamp, stamp)

    # -- decisions that need the whole log -------------------------------------------------

    def _native(self, platform: str | None) -> bool:
        if platform is None:
            return True  # a single-platform build for the runner itself
        arch = platform.split("/")[1] if "/" in platform else platform
        return arch in _NATIVE.get(self._runner_arch or "amd64", {self._runner_arch})

    def _resolve_step(self, c: _Candidate) -> Step | None:
        step = self._known_step(c.step_no) if c.step_no is not None else None
        process = c.process
        if process is None and c.step_no is None and (c.context is None or c.context.instruction is None):
            process = self._failure_after(c.line)
        instruction = (step.instruction if step else None) or (process.instruction if process else None)
        if step is None or step.platform is None and step.stage is None:
            # No header for this step in the log: its error summary names it.
            for summary in reversed(self._summaries):
                if same_instruction(summary.instruction, instruction):
                    merged = summary.copy()
                    if step is not None:
                        merged.emulator |= step.emulator
                        merged.qemu_seen |= step.qemu_seen
                    step = merged
                    break
        if (step is None or step.instruction is None) and c.context is not None:
            merged = c.context.copy()
            if step is not None:
                merged.emulator |= step.emulator
                merged.qemu_seen |= step.qemu_seen
            step = merged
        if step is None and process is not None:
            # "buildx failed with: ... process "/bin/sh -c npm ci" ...": the step that failed so.
            for step_no in reversed(self._steps):
                known = self._known_step(step_no)
                if known.exit_code == process.exit_code and same_instruction(
                        known.instruction, process.instruction):
                    return known
            step = process.copy()
        return step

    def _failed_after(self, c: _Candidate, step: Step | None) -> bool:
        """Whether the build failed after this warning, in the step that printed it: a retry
        warning in a step that went on to finish is not why a later step failed."""
        instruction = step.instruction if step else None
        for line, step_no, failed in self._failures:
            if line <= c.line:
                continue
            if c.step_no is None or instruction is None or step_no == c.step_no \
                    or same_instruction(failed, instruction):
                return True
        return False

    def _failure_after(self, line: int) -> Step | None:
        """The first failed process reported after ``line``: where an unnumbered line with no
        step of its own most likely belongs."""
        for failed_line, _, instruction in self._failures:
            if failed_line > line and instruction:
                return Step(instruction=instruction)
        return None

    def _near_emulation(self, line: int) -> bool:
        return any(abs(line - seen) <= PROXIMITY for seen in self._emulation_lines)

    def _emulated(self, c: _Candidate, step: Step | None) -> bool:
        if c.self_evident:
            return True
        if step is not None:
            if step.emulator or step.qemu_seen or step.foreign or not self._native(step.run_platform):
                return True
            if step.run_platform is not None or step.stage is not None:
                return False
        return self._near_emulation(c.line)

    def _accept(self, c: _Candidate, step: Step | None) -> str | None:
        """The signature this candidate stands for, or None if it does not count."""
        signature = c.signature
        if c.weak and not self._failed_after(c, step):
            return None  # a warning the build survived
        if c.network_manager_unknown:
            instruction = (step.instruction if step else "") or ""
            for tool in ("pnpm", "yarn", "npm"):
                if tool in instruction:
                    signature = f"{tool}-network"
                    break
            else:
                return None
        if c.needs_emulation and not self._emulated(c, step):
            return None
        if c.needs_stale_hint:
            if not any(
                (step_no == c.step_no if c.step_no is not None else 0 <= c.line - line <= PROXIMITY)
                for line, step_no in self._stale_hints
            ):
                return None
        return signature

    def _decide(self) -> list[Finding]:
        accepted: list[tuple[str, _Resolved]] = []
        for bucket in self._candidates.values():
            for c in bucket:
                step = self._resolve_step(c)
                signature = self._accept(c, step)
                if signature:
                    key = ("n", c.step_no) if c.step_no is not None else ("c", id(c.context))
                    accepted.append((signature, _Resolved(c, step, key)))

        # A crashed emulator or compiler explains the segfault the shell then reports, and a
        # signal explains why the bundled emulator's process failed.
        def subsumed(signature: str, r: _Resolved) -> bool:
            for other_sig, other in accepted:
                if other.key != r.key or other is r:
                    continue
                if other_sig == "qemu-internal-crash" and signature in ("qemu-sigsegv", "qemu-sigill", "qemu-sigtrap"):
                    return True
                if other_sig == "emulated-compiler-crash" and signature == "qemu-sigsegv":
                    return True
                if signature == "stale-bundled-emulator" and other_sig in EMULATION_FAMILY:
                    return True
            return False

        accepted = [(s, r) for s, r in accepted if not subsumed(s, r)]

        emulation_lines = [r.candidate.line for s, r in accepted if s in EMULATION_FAMILY]
        for line, gap, platforms, silent_step, excerpt in self._cancels:
            crashed_before = any(line > seen for seen in emulation_lines)
            emulated = [p for p in platforms if not self._native(p)]
            went_silent = gap is not None and gap >= SILENCE_SECONDS and bool(emulated)
            if gap is None and silent_step and not self._native(silent_step):
                # No times to measure the silence (a pasted excerpt): an emulated step that
                # started and printed nothing at all before the cancel is the wedged one.
                went_silent, emulated = True, [silent_step]
            if crashed_before or went_silent:
                c = _Candidate("job-timeout", line, None, None, excerpt)
                # Without a crash to name the leg, the wedged one is the latest emulated step.
                step = None if crashed_before else Step(platform=emulated[-1], run_platform=emulated[-1])
                accepted.append(("job-timeout", _Resolved(c, step)))
                break

        findings: dict[tuple[str, str | None], Finding] = {}
        for signature, r in sorted(accepted, key=lambda item: item[1].candidate.line):
            platform = r.step.platform if r.step else None
            if signature == "job-timeout" and platform is None:
                platform = next((f.platform for f in findings.values() if f.platform), None)
            key = (signature, platform)
            if key in findings:
                continue
            step = None
            if r.step is not None and (r.step.stage or r.step.instruction):
                step = {"stage": r.step.stage, "instruction": r.step.instruction}
            findings[key] = Finding(signature, platform, step, r.candidate.line,
                                    r.candidate.excerpt, self.file, self._legs(platform, r.candidate.stamp, self.bytes_read))
        # A finding that names no platform adds nothing beside the same one that does.
        named = {signature for signature, platform in findings if platform}
        result = [f for (signature, platform), f in findings.items() if platform or signature not in named]
        return sorted(result, key=lambda f: (SIGNATURES[f.signature].rank, f.line))


def diagnose_chunks(chunks: Iterable[bytes], file: str | None = None) -> list[Finding]:
    engine = Diagnoser(file)
    for chunk in chunks:
        engine.feed(chunk)
    return engine.finish()


def diagnose_bytes(data: bytes, file: str | None = None) -> list[Finding]:
    return diagnose_chunks([data], file)


def read_chunks(path: str, size: int = 4 << 20) -> Iterable[memoryview]:
    """The file in pieces, read into one reused buffer: each piece is valid until the next
    one is asked for (``Diagnoser.feed`` copies what it keeps). Reading into fresh ``bytes``
    would make the kernel map and zero new pages for every megabyte."""
    with open(path, "rb", buffering=0) as handle:
        # A small log needs no 4 MB buffer (allocating one costs more than diagnosing it).
        buffer = bytearray(max(1 << 16, min(size, os.fstat(handle.fileno()).st_size + 1)))
        view = memoryview(buffer)
        while count := handle.readinto(buffer):
            yield view[:count]


def diagnose_file(path: str) -> list[Finding]:
    if not filescan.is_regular(path):  # a pipe or a device: read once, streamed as the app does
        return diagnose_chunks(read_chunks(path), path)
    engine = Diagnoser(path, source=path)
    engine.scan_file()
    return engine.finish()

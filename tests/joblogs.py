"""Make log excerpts look like real GitHub Actions job logs, and generate big ones.

A real job log puts an ISO timestamp on every line, colours some of them, groups steps with
``##[group]``, has thousands of lines of set-up and build output around the failure, and
buildx interleaves the other platform's leg with the failing one.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from typing import Iterator

CORPUS_STEP_BASE = 200  # step numbers used by generated noise; the corpus stays below

START = datetime(2025, 2, 11, 10, 0, 0, tzinfo=timezone.utc)


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond:06d}0Z "


def runner_preamble() -> list[str]:
    return [
        "Current runner version: '2.321.0'",
        "##[group]Operating System",
        "Ubuntu",
        "24.04.1",
        "LTS",
        "##[endgroup]",
        "##[group]Runner Image",
        "Image: ubuntu-24.04",
        "Version: 20250105.1.0",
        "##[endgroup]",
        "##[group]Run actions/checkout@v4",
        "with:",
        "  repository: octo/app",
        "##[endgroup]",
        "Syncing repository: octo/app",
        "##[group]Run docker/setup-qemu-action@v3",
        "Installing QEMU static binaries...",
        '  "supported": ["linux/amd64", "linux/arm64", "linux/riscv64", "linux/arm/v7"],',
        '  "emulators": ["qemu-aarch64", "qemu-arm", "qemu-riscv64"]',
        "##[endgroup]",
        "##[group]Run docker/setup-buildx-action@v3",
        "Name:          builder-1",
        "Driver:        docker-container",
        "Nodes:",
        "Name:      builder-10",
        "Status:    running",
        "BuildKit version: v0.18.2",
        "Platforms: linux/amd64, linux/amd64/v2, linux/amd64/v3, linux/arm64, linux/riscv64, linux/arm/v7",
        "##[endgroup]",
        "##[group]Run docker/build-push-action@v6",
        "/usr/bin/docker buildx build --platform linux/amd64,linux/arm64 --push .",
        "#0 building with \"builder-1\" instance using docker-container driver",
        "#1 [internal] load build definition from Dockerfile",
        "#1 transferring dockerfile: 812B done",
        "#1 DONE 0.0s",
        "#2 [linux/amd64 internal] load metadata for docker.io/library/node:20-bookworm",
        "#3 [linux/arm64 internal] load metadata for docker.io/library/node:20-bookworm",
        "#2 DONE 0.9s",
        "#3 DONE 0.9s",
        "WARNING: current commit information was not captured by the build: unknown/unknown",
    ]


def build_noise(count: int, rng: random.Random, step_base: int = CORPUS_STEP_BASE) -> list[str]:
    """Ordinary buildx output of both legs: headers, npm output, DONE lines."""
    lines: list[str] = []
    step = step_base
    elapsed = 0.0
    while len(lines) < count:
        step += 1
        platform = rng.choice(["linux/amd64", "linux/arm64"])
        lines.append(f"#{step} [{platform} deps {rng.randint(1, 5)}/6] RUN npm ci --omit=dev")
        for _ in range(rng.randint(3, 30)):
            elapsed += rng.random()
            lines.append(f"#{step} {elapsed:.2f} " + rng.choice([
                "npm warn deprecated inflight@1.0.6: This module is not supported",
                "added 812 packages, and audited 813 packages in 14s",
                "found 0 vulnerabilities",
                "> app@1.0.0 build",
                "> tsc -p tsconfig.build.json && vite build",
                "vite v5.4.11 building for production...",
                "transforming (1024) src/components/Button.tsx",
                "dist/assets/index-4f2a9c1e.js   512.33 kB │ gzip: 160.12 kB",
                "Unknown QEMU_IFLA_INFO_KIND ipip",
                "Get:1 http://deb.debian.org/debian bookworm InRelease [151 kB]",
            ]))
        lines.append(f"#{step} DONE {elapsed:.1f}s")
    return lines[:count]


def other_leg(rng: random.Random, count: int) -> Iterator[str]:
    """The amd64 leg of the same build, to interleave with the failing one."""
    step = CORPUS_STEP_BASE + 90
    yield f"#{step} [linux/amd64 builder 5/6] RUN npm ci"
    elapsed = 1.0
    for _ in range(count):
        elapsed += rng.random()
        yield f"#{step} {elapsed:.2f} " + rng.choice([
            "npm warn deprecated glob@7.2.3: Glob versions prior to v9 are no longer supported",
            "added 1 package in 2s",
            "> esbuild@0.21.5 postinstall",
        ])


def wrap(excerpt: str, seed: int = 0, noise: int = 3000, colour: bool = True,
         interleave: bool = True, crlf: bool = False,
         pause_before: str | None = None) -> tuple[bytes, dict[int, int]]:
    """Wrap an excerpt like a real job log. Returns the log and a map from each excerpt line
    number (1-based) to its line number in the wrapped log. ``pause_before``: lines containing
    this text come after six hours of silence (how a job that hit its time limit is dated)."""
    rng = random.Random(seed)
    body = excerpt.splitlines()
    before = runner_preamble() + build_noise(noise, rng)
    after = build_noise(noise // 3, rng, CORPUS_STEP_BASE + 500) + [
        "##[endgroup]",
        "Post job cleanup.",
        "Cleaning up orphan processes",
    ]
    leg = other_leg(rng, len(body) * 2)
    out: list[str] = list(before)
    positions: dict[int, int] = {}
    for index, line in enumerate(body, start=1):
        if interleave and rng.random() < 0.5:
            out.append(next(leg))
        if colour and rng.random() < 0.3:
            line = f"\x1b[36;1m{line}\x1b[0m"
        out.append(line)
        positions[index] = len(out)
    out += after
    moment = START
    stamped = []
    for line in out:
        moment += timedelta(milliseconds=rng.randint(1, 900))
        if pause_before and pause_before in line:
            moment += timedelta(hours=6)
        stamped.append(stamp(moment) + line)
    newline = "\r\n" if crlf else "\n"
    return (newline.join(stamped) + newline).encode("utf-8"), positions


def generated_log(target_bytes: int, seed: int = 1, variety: int = 4) -> Iterator[bytes]:
    """A realistic job log of about ``target_bytes``, chunk by chunk, with two interleaved
    buildx legs and a QEMU SIGILL in ``npm ci`` for linux/arm64 near the end. A few distinct
    blocks of about 512 KB are generated once and repeated, so that making the log costs
    little beside reading it."""
    rng = random.Random(seed)
    yield ("\n".join(stamp(START) + line for line in runner_preamble()) + "\n").encode()
    moment = START
    step = 10
    blocks = []
    for _ in range(variety):
        block = []
        for _ in range(6000):
            moment += timedelta(milliseconds=rng.randint(1, 50))
            step += 1 if rng.random() < 0.02 else 0
            platform = "linux/arm64" if step % 2 else "linux/amd64"
            if rng.random() < 0.03:
                text = f"#{step % 9000} [{platform} builder 3/6] RUN npm run build"
            else:
                text = f"#{step % 9000} {rng.random() * 500:.2f} " + rng.choice([
                    "\x1b[32mtransforming\x1b[39m (1024) src/components/Button.tsx",
                    "dist/assets/index-4f2a9c1e.js   512.33 kB │ gzip: 160.12 kB",
                    "npm warn deprecated glob@7.2.3: Glob versions prior to v9 are no longer supported",
                    "Setting up libssl3:arm64 (3.0.15-1~deb12u1) ...",
                    "Unknown QEMU_IFLA_INFO_KIND ipip",
                    "PASS src/utils/date.test.ts (12.1 s)",
                    "Get:42 http://deb.debian.org/debian bookworm/main arm64 libgcc-s1 arm64 12.2.0-14 [39.5 kB]",
                ])
            block.append(stamp(moment) + text)
        blocks.append(("\n".join(block) + "\n").encode())
    produced = 0
    while produced < target_bytes:
        data = blocks[(produced // len(blocks[0])) % variety]
        produced += len(data)
        yield data
    tail = [
        "#9999 [linux/arm64 builder 4/6] RUN npm ci",
        "#9999 412.3 npm warn deprecated inflight@1.0.6: This module is not supported",
        "#9999 530.1 qemu: uncaught target signal 4 (Illegal instruction) - core dumped",
        "#9999 530.9 Illegal instruction (core dumped)",
        '#9999 ERROR: process "/bin/sh -c npm ci" did not complete successfully: exit code: 132',
        "##[error]buildx failed with: ERROR: failed to solve: process \"/bin/sh -c npm ci\" did "
        "not complete successfully: exit code: 132",
    ]
    yield ("\n".join(stamp(moment) + line for line in tail) + "\n").encode()


def paste_prefixed(excerpt: str, style: str, seed: int = 0, pause_before: str | None = None) -> str:
    """An excerpt the way people paste job logs into issues: every line behind a Markdown
    link to its line in the job (``> [191](https://github.com/o/r/actions/runs/1/jobs/2#step:6:192) ``),
    behind a bracketed time of day, or in a Markdown quote."""
    rng = random.Random(seed)
    out = []
    moment = START
    for number, line in enumerate(excerpt.splitlines(), start=191):
        moment += timedelta(milliseconds=rng.randint(1, 900))
        if pause_before and pause_before in line:
            moment += timedelta(hours=6)
        if style == "markdown-link":
            out.append(f"> [{number}](https://github.com/o/r/actions/runs/1/jobs/2#step:6:{number + 1}) {line}")
        elif style == "bracket-time":
            out.append(moment.strftime("[%H:%M:%S] ") + line)
        elif style == "quote":
            out.append(f"> {line}")
        else:
            raise ValueError(f"unknown paste style {style!r}")
    return "\n".join(out) + "\n"

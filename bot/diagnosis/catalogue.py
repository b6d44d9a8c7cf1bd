"""The signature catalogue (SPEC section 3): ids, what each means, how they rank.

This module is vocabulary only; the line rules that recognise each signature live in
``rules.py`` and the state machine that applies them in ``engine.py``.
"""

from __future__ import annotations

from .record import Record


class Signature(Record, frozen=True):
    id: str
    title: str
    meaning: str
    # "emulation" signatures are the QEMU family the remedy ladder treats together.
    family: str
    # Lower rank = closer to the root cause; used to put the primary finding first.
    rank: int
    # The qemu-* ids need evidence of emulation; emulated-* ids carry their own.
    needs_emulation: bool = False


_SIGNATURES = [
    Signature(
        "qemu-internal-crash",
        "QEMU itself crashed",
        "The emulator (not the program it ran) hit a fatal signal while emulating the build step.",
        "emulation", 10, needs_emulation=True,
    ),
    Signature(
        "emulated-compiler-crash",
        "The compiler crashed under emulation",
        "gcc/g++ (cc1) died with a signal while running under QEMU; the code compiles natively.",
        "emulation", 20,
    ),
    Signature(
        "node-heap-oom",
        "Node.js ran out of heap",
        "V8 reached its heap limit (this happens natively too, and sooner under emulation).",
        "memory", 25,
    ),
    Signature(
        "emulated-alloc-failure",
        "Memory allocation failed in a 32-bit emulated guest",
        "A 32-bit Arm guest under QEMU ran out of address space, not of machine memory.",
        "emulation", 26,
    ),
    Signature(
        "qemu-sigill",
        "Illegal instruction under QEMU",
        "An emulated process executed an instruction QEMU does not handle "
        "(typically Node/V8's JIT or a CPU-feature probe).",
        "emulation", 30, needs_emulation=True,
    ),
    Signature(
        "qemu-sigsegv",
        "Segmentation fault under QEMU",
        "An emulated process crashed with SIGSEGV: an emulation fault "
        "(the 2025 libc-bin/ldconfig wave came from QEMU 9.2.0 on the runner's kernel).",
        "emulation", 31, needs_emulation=True,
    ),
    Signature(
        "qemu-sigtrap",
        "Trace/breakpoint trap under QEMU",
        "V8 hit a deoptimization trap that QEMU turned into a fatal SIGTRAP.",
        "emulation", 32, needs_emulation=True,
    ),
    Signature(
        "emulated-fs-value-too-large",
        "32-bit guest could not read a 64-bit inode",
        "A 32-bit Arm program under QEMU got EOVERFLOW from readdir on the host's 64-bit file system.",
        "emulation", 33,
    ),
    Signature(
        "stale-bundled-emulator",
        "BuildKit's bundled emulator is too old",
        "The step ran under /dev/.buildkit_qemu_emulator (no QEMU registered on the host) "
        "and failed without a signal.",
        "emulator-setup", 40,
    ),
    Signature(
        "exec-format-error",
        "Foreign-architecture binary with no emulator",
        "The kernel refused to run a binary for another architecture: no QEMU binfmt handler is registered.",
        "emulator-setup", 41,
    ),
    Signature(
        "npm-network",
        "npm fetches failed on the network",
        "npm's registry requests timed out or were reset (slow emulated TLS makes this likelier).",
        "network", 50,
    ),
    Signature(
        "yarn-network",
        "yarn fetches failed on the network",
        "yarn's registry requests timed out or were reset.",
        "network", 51,
    ),
    Signature(
        "pnpm-network",
        "pnpm fetches failed on the network",
        "pnpm's registry requests timed out or were reset.",
        "network", 52,
    ),
    Signature(
        "docker-driver-multiplatform",
        "The docker driver cannot build several platforms",
        "The builder is the plain docker driver; multi-platform builds need a buildx builder "
        "(docker-container driver) or the containerd image store.",
        "builder", 60,
    ),
    Signature(
        "docker-exporter-manifest-list",
        "Cannot load a multi-platform image into Docker",
        "`load: true` (the docker exporter) with several platforms: a manifest list cannot be loaded.",
        "builder", 61,
    ),
    Signature(
        "arm-runner-unavailable",
        "Native Arm runner not available to this repository",
        "GitHub's hosted Arm runner labels are not available for private repositories on this plan.",
        "runner", 70,
    ),
    Signature(
        "job-timeout",
        "The job timed out",
        "The job hit its time limit or was cancelled after the build went silent "
        "(emulation is slow, or a crashed step wedged).",
        "timeout", 90,
    ),
]

SIGNATURES: dict[str, Signature] = {s.id: s for s in _SIGNATURES}

EMULATION_FAMILY = frozenset(s.id for s in _SIGNATURES if s.family == "emulation")
NETWORK_FAMILY = frozenset(s.id for s in _SIGNATURES if s.family == "network")

# Signals as shells and BuildKit report them: exit code 128 + signal number.
SIGNAL_EXIT_CODES = {132: "qemu-sigill", 133: "qemu-sigtrap", 139: "qemu-sigsegv"}

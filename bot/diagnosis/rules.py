"""Line rules: which signature, if any, one cleaned log line shows.

Two layers keep the scanner fast: ``PREFILTER`` is a handful of literal-ish patterns a
compiled multi-pattern matcher runs over the raw bytes (GB/s); only lines it hits reach
``classify``, which applies the precise rules below to the cleaned text. Every phrase a rule
needs must therefore be reachable through a prefilter pattern (``tests/test_rules.py`` checks).
"""

from __future__ import annotations

import re

from .record import Record

# The prefilter's patterns live in .patterns (imported by the early file scan without the
# rules' regular expressions); they are part of the rules' contract, so they are named here too.
from .patterns import HEADER_PATTERN, SIGNATURE_PATTERNS, STRUCTURE_PATTERNS  # noqa: E402,F401


class Hit(Record, frozen=True):
    kind: str  # finding | cancel | stale-hint | emulation | runner | foreign-platform
    signature: str | None = None
    weak: bool = False  # a warning that counts only if the build failed after it
    needs_emulation: bool = False
    manager: str | None = None  # for network lines that do not say which package manager
    value: str | None = None


def _finding(signature: str, **kw) -> Hit:
    return Hit("finding", signature, **kw)


_NETWORK_CODES = r"(?:ECONNRESET|ETIMEDOUT|ESOCKETTIMEDOUT|ERR_SOCKET_TIMEOUT|EAI_AGAIN|EPIPE|ECONNABORTED)"
_NETWORK_WORDS = (
    rf"(?:{_NETWORK_CODES}|socket hang up|Socket timeout|before secure TLS connection"
    r"|timeout awaiting|Request timed out|network timeout)"
)

# Ordered: the first rule that matches a line decides what it shows.
_RULES: list[tuple[re.Pattern[str], Hit]] = [
    (re.compile(r"QEMU internal SIG[A-Z]+|\bqemu[\w.-]*: (?:fatal|unhandled CPU exception)"),
     _finding("qemu-internal-crash")),
    (re.compile(r"internal compiler error: (?:Segmentation fault|Illegal instruction|Bus error)"),
     _finding("emulated-compiler-crash")),
    # rustc/cargo report a crashed compiler or build script this way; natively it is rare,
    # so it needs the same evidence of emulation as the qemu-* ids.
    (re.compile(r"\(signal: 11, SIGSEGV: invalid memory reference\)"),
     _finding("emulated-compiler-crash", needs_emulation=True)),
    # A linker (cc, ld) that rustc or a build tool ran, killed by a signal: a compiler crash too.
    (re.compile(r"linking with `[^`]+` failed: signal: 11\b|\bld(?:\.\w+)? terminated with signal 11\b"),
     _finding("emulated-compiler-crash", needs_emulation=True)),
    (re.compile(r"\(signal: 4, SIGILL: illegal instruction\)"),
     _finding("qemu-sigill", needs_emulation=True)),
    (re.compile(r"\bqemu[\w.-]*: uncaught target signal 4\b"), _finding("qemu-sigill")),
    (re.compile(r"\bqemu[\w.-]*: uncaught target signal 11\b"), _finding("qemu-sigsegv")),
    (re.compile(r"\bqemu[\w.-]*: uncaught target signal 5\b"), _finding("qemu-sigtrap")),
    (re.compile(r"exec format error", re.IGNORECASE), _finding("exec-format-error")),
    (re.compile(r"JavaScript heap out of memory|Reached heap limit|Ineffective mark-compacts near heap limit"
                r"|<--- Last few GCs --->|<--- JS stacktrace --->"),
     _finding("node-heap-oom")),
    (re.compile(r"Couldn.t allocate enough memory|Out of memory allocating", re.IGNORECASE),
     _finding("emulated-alloc-failure")),
    (re.compile(r"Value too large for defined data type"), _finding("emulated-fs-value-too-large")),
    (re.compile(r"not supported for the docker driver|multiple platforms feature is currently not supported"
                r" for docker driver|not (?:currently )?supported (?:for|by) (?:the )?docker driver",
                re.IGNORECASE),
     _finding("docker-driver-multiplatform")),
    (re.compile(r"docker exporter does not (?:currently )?support exporting manifest lists"),
     _finding("docker-exporter-manifest-list")),
    (re.compile(r"-arm\b.*not supported (?:yet )?for private repositories"
                r"|not supported (?:yet )?for private repositories.*-arm\b"),
     _finding("arm-runner-unavailable")),
    (re.compile(r"has exceeded the maximum execution time|The action '.*' has timed out after \d+ minutes"),
     _finding("job-timeout")),
    (re.compile(r"^(?:Error: )?The operation was canceled\.?$"), Hit("cancel")),
    # QEMU's own loader error ("Error while loading %s: %s" in linux-user): the emulator could
    # not open the program it was asked to run, which is how BuildKit's bundled emulator fails
    # when a process it runs starts another one (no binfmt registration on the host).
    (re.compile(r"^Error while loading /\S+: No such file or directory"), _finding("stale-bundled-emulator")),
    # Package managers, most specific wording first.
    (re.compile(r"ERR_PNPM_(?:META_FETCH_FAIL|TARBALL_FETCH_FAIL|FETCH_FAIL|ECONNRESET|ETIMEDOUT"
                r"|ESOCKETTIMEDOUT|ERR_SOCKET_TIMEOUT|SOCKET_TIMEOUT|EAI_AGAIN)"),
     _finding("pnpm-network")),
    (re.compile(rf"\bWARN\s+GET \S+ error \({_NETWORK_CODES}\)"), _finding("pnpm-network", weak=True)),
    # pnpm's reporter prints an error as its code, two spaces, the message (then node-fetch's
    # "FetchError: request to ... failed" and a stack).
    (re.compile(rf"^\s*{_NETWORK_CODES}\s{{2,}}request to \S+ failed"), _finding("pnpm-network")),
    (re.compile(rf"\bnpm (?:ERR!|error) (?:code|errno) {_NETWORK_CODES}\b"
                rf"|\bnpm (?:ERR!|error) network\b|\bnpm (?:ERR!|error) .*{_NETWORK_WORDS}"),
     _finding("npm-network")),
    # yarn 1 prefixes its errors with "error " ("error Error: https://...: ESOCKETTIMEDOUT",
    # "error https://...: ESOCKETTIMEDOUT", "error An unexpected error occurred: ..."); berry
    # reports them as YN0001.
    (re.compile(rf"^error .*{_NETWORK_WORDS}|error An unexpected error occurred: .*{_NETWORK_WORDS}"
                rf"|\bYN0001: .*{_NETWORK_WORDS}"),
     _finding("yarn-network")),
    (re.compile(r"There appears to be trouble with your network connection"),
     _finding("yarn-network", weak=True)),
    (re.compile(_NETWORK_WORDS), _finding("npm-network", weak=True, manager="unknown")),
    # Signal reports from package managers and runtimes (npm, yarn, Go, Python, the JVM).
    (re.compile(r"\bsignal:? \"?SIGILL\b|^SIGILL: illegal instruction|#\s+SIGILL \(0x4\)"),
     _finding("qemu-sigill", needs_emulation=True)),
    (re.compile(r"\bsignal:? \"?SIGSEGV\b|\[signal SIGSEGV: segmentation violation|Fatal Python error: Segmentation fault"
                r"|#\s+SIGSEGV \(0xb\)"),
     _finding("qemu-sigsegv", needs_emulation=True)),
    (re.compile(r"\bsignal:? \"?SIGTRAP\b"), _finding("qemu-sigtrap", needs_emulation=True)),
    # Bare signal reports from a shell or dpkg: QEMU findings only with evidence of emulation.
    # Anchored so that a test named "handles Illegal instruction" is not one.
    (re.compile(r"(?:^|:\s+|\d\s+)Illegal instruction\b(?!\s*[a-z])|exit status 132\b"),
     _finding("qemu-sigill", needs_emulation=True)),
    (re.compile(r"(?:^|:\s+|\d\s+)Segmentation fault\b(?!\s*[a-z])|exit status 139\b"),
     _finding("qemu-sigsegv", needs_emulation=True)),
    (re.compile(r"(?:^|:\s+|\d\s+)Trace/breakpoint trap\b(?!\s*[a-z])|exit status 133\b"),
     _finding("qemu-sigtrap", needs_emulation=True)),
]

_EMULATION_EVIDENCE = re.compile(
    r"\bqemu[\w.-]*: |QEMU internal|-binfmt-[A-Z]*: |/dev/\.buildkit_qemu_emulator"
    r"|^Error while loading /\S+: No such file or directory"
)
# How a process under BuildKit's bundled emulator fails when it cannot start another program:
# execve errors, exit 127, a failed platform probe, dpkg unable to run its helpers.
_STALE_HINT = re.compile(
    r"execve: No such file or directory|exited with error 127\b|exit (?:code|status):? 127\b"
    r"|non-zero code: 127\b|lsb_release|dpkg: error processing|Sub-process /usr/bin/dpkg returned"
)
# The legacy builder (and `docker run`) warn when a container runs an image of another platform:
# the requested platform is the emulated one.
_PLATFORM_WARNING = re.compile(
    r"requested image's platform \(([a-z0-9]+/[a-z0-9_]+(?:/v\d+)?)\) does not match the detected host platform"
)
_RUNNER_ARCH = (
    (re.compile(r"^\s*Platforms:\s+(linux/[a-z0-9_]+)"), None),
    (re.compile(r"^\s*Image: \S*\barm(?:64)?\b", re.IGNORECASE), "arm64"),
    (re.compile(r"^\s*Architecture: (aarch64|arm64|x86_64|amd64)\s*$"), None),
    (re.compile(r"RUNNER_ARCH:? (ARM64|X64)\b"), None),
    # The set-up step of a hosted job: "OS: Linux (arm64)".
    (re.compile(r"\bLinux \((arm64|ARM64|x64|X64)\)"), None),
)
_ARCH_NAMES = {"aarch64": "arm64", "arm64": "arm64", "ARM64": "arm64",
               "x86_64": "amd64", "amd64": "amd64", "X64": "amd64", "x64": "amd64"}


def runner_arch(payload: str) -> str | None:
    """The runner's own architecture, where a line tells it (buildx inspect, docker info, runner image)."""
    for pattern, fixed in _RUNNER_ARCH:
        m = pattern.search(payload)
        if m:
            if fixed:
                return fixed
            value = m.group(1)
            return _ARCH_NAMES.get(value) or value.split("/", 1)[-1]
    return None


def classify(payload: str, in_build_step: bool = False) -> list[Hit]:
    """What one cleaned line shows: at most one finding, plus evidence the engine keeps.

    ``in_build_step``: the line belongs to a Docker build step (a ``#N`` line or one after a
    step header), where an exec format error can only come from the container's process.
    """
    hits: list[Hit] = []
    for pattern, hit in _RULES:
        if pattern.search(payload):
            if hit.signature == "exec-format-error" and not (
                in_build_step or _CONTAINER_EXEC.search(payload)
            ):
                continue
            hits.append(hit)
            break
    if _EMULATION_EVIDENCE.search(payload):
        hits.append(Hit("emulation"))
    if _STALE_HINT.search(payload):
        hits.append(Hit("stale-hint"))
    arch = runner_arch(payload)
    if arch:
        hits.append(Hit("runner", value=arch))
    m = _PLATFORM_WARNING.search(payload)
    if m:
        hits.append(Hit("foreign-platform", value=m.group(1)))
    return hits


def foreign_platform(payload: str) -> str | None:
    """The platform of the legacy builder's "requested image's platform" warning, if this is one."""
    m = _PLATFORM_WARNING.search(payload)
    return m.group(1) if m else None


# runc's wording, unlike a test program's "fork/exec ./x: exec format error".
_CONTAINER_EXEC = re.compile(
    r"^exec \S+: exec format error|exec user process caused|standard_init_linux|failed to create shim"
)

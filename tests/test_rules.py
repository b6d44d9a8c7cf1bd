"""Each line rule recognises its wording, and the prefilter lets every such line through
(a phrase the prefilter misses would never reach the rules)."""

import pytest

from bot.diagnosis.engine import PREFILTER
from bot.diagnosis.logline import parse_bracket, parse_process_failure, same_instruction
from bot.diagnosis.rules import classify, runner_arch

LINES = {
    "qemu: uncaught target signal 4 (Illegal instruction) - core dumped": "qemu-sigill",
    "qemu-aarch64: uncaught target signal 11 (Segmentation fault) - core dumped": "qemu-sigsegv",
    "qemu: uncaught target signal 5 (Trace/breakpoint trap) - core dumped": "qemu-sigtrap",
    "aarch64-binfmt-P: QEMU internal SIGSEGV {code=MAPERR, addr=0x20}": "qemu-internal-crash",
    "qemu: fatal: Unhandled instruction": "qemu-internal-crash",
    "cc: internal compiler error: Segmentation fault signal terminated program cc1": "emulated-compiler-crash",
    "exec /bin/sh: exec format error": "exec-format-error",
    'standard_init_linux.go:228: exec user process caused: exec format error': "exec-format-error",
    "FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory": "node-heap-oom",
    "<--- Last few GCs --->": "node-heap-oom",
    "➤ YN0001: │ Error: @app/web@npm:1.0.0: Couldn't allocate enough memory": "emulated-alloc-failure",
    "Out of memory allocating 4096 bytes": "emulated-alloc-failure",
    "could not read directory '/usr/local/cargo/registry': Value too large for defined data type":
        "emulated-fs-value-too-large",
    "ERROR: Multi-platform build is not supported for the docker driver.": "docker-driver-multiplatform",
    "ERROR: docker exporter does not currently support exporting manifest lists":
        "docker-exporter-manifest-list",
    "ubuntu-24.04-arm is not supported yet for private repositories": "arm-runner-unavailable",
    "The job has exceeded the maximum execution time of 30m0s": "job-timeout",
    "npm ERR! code ECONNRESET": "npm-network",
    "npm error code ETIMEDOUT": "npm-network",
    "npm error network request to https://registry.npmjs.org/x failed, reason: socket hang up": "npm-network",
    'error An unexpected error occurred: "https://registry.yarnpkg.com/x.tgz: ESOCKETTIMEDOUT".': "yarn-network",
    "➤ YN0001: │ RequestError: connect ETIMEDOUT 104.16.2.35:443": "yarn-network",
    " ERR_PNPM_META_FETCH_FAIL  GET https://registry.npmjs.org/x: request failed": "pnpm-network",
    "Illegal instruction (core dumped)": "qemu-sigill",
    "/bin/sh: line 1:    12 Illegal instruction     (core dumped) node build.js": "qemu-sigill",
    "Segmentation fault (core dumped)": "qemu-sigsegv",
    "installed libc-bin package post-installation script subprocess returned error exit status 139":
        "qemu-sigsegv",
}

NOT_FINDINGS = [
    "✓ reports Illegal instruction for undefined opcodes (3 ms)",
    "test_illegal_instruction_raises PASSED",
    "Unknown QEMU_IFLA_INFO_KIND ipip",
    "WARNING: current commit information was not captured by the build: unknown/unknown",
    "fork/exec ./bin/tool: exec format error",
    "Scavenge 676.2 (719.2) -> 675.5 (720.2) MB, 13.3 / 0.0 ms  allocation failure",
    "ERROR: failed to solve: ubuntu:22.04: no match for platform in manifest",
]


@pytest.mark.parametrize("line", LINES)
def test_rule_recognises(line):
    hits = [h for h in classify(line) if h.kind == "finding"]
    assert [h.signature for h in hits] == [LINES[line]]


@pytest.mark.parametrize("line", LINES)
def test_prefilter_lets_it_through(line):
    headers, others = PREFILTER.scanner()(f"2025-01-01T00:00:00.0000000Z #7 1.2 {line}\n".encode())
    assert others


@pytest.mark.parametrize("line", NOT_FINDINGS)
def test_not_a_finding(line):
    assert [h for h in classify(line) if h.kind == "finding"] == []


def test_brackets():
    step = parse_bracket("linux/arm64 builder 6/6", "RUN npm ci")
    assert (step.platform, step.run_platform, step.stage) == ("linux/arm64", "linux/arm64", "builder")
    cross = parse_bracket("linux/amd64->arm64 build 3/5", "RUN go build")
    assert (cross.platform, cross.run_platform, cross.stage) == ("linux/arm64", "linux/amd64", "build")
    bake = parse_bracket("webapp linux/arm/v7 deps 2/4", "COPY . .")
    assert (bake.platform, bake.stage) == ("linux/arm/v7", "deps")
    assert parse_bracket("3/3", "RUN apt-get upgrade").stage is None
    assert parse_bracket("internal", "load build definition from Dockerfile") is None
    assert parse_bracket("1/4", "Resolving packages...") is None  # yarn's progress, not a step


def test_process_failures():
    step = parse_process_failure(
        'ERROR: process "/dev/.buildkit_qemu_emulator /bin/sh -c npm ci" did not complete successfully: exit code: 132')
    assert (step.instruction, step.exit_code, step.emulator) == ("RUN npm ci", 132, True)
    legacy = parse_process_failure("The command '/bin/sh -c npm install' returned a non-zero code: 133")
    assert (legacy.instruction, legacy.exit_code, legacy.emulator) == ("RUN npm install", 133, False)
    old = parse_process_failure("executor failed running [/bin/sh -c cargo fetch]: exit code: 101")
    assert (old.instruction, old.exit_code) == ("RUN cargo fetch", 101)
    assert same_instruction("RUN --mount=type=cache,target=/root/.npm npm ci", "RUN npm ci")
    assert not same_instruction("RUN npm ci", "RUN npm run build")


def test_runner_arch():
    assert runner_arch("Platforms: linux/arm64, linux/arm/v7") == "arm64"
    assert runner_arch("Platforms: linux/amd64, linux/amd64/v2") == "amd64"
    assert runner_arch("Image: ubuntu-24.04-arm") == "arm64"
    assert runner_arch("Image: ubuntu-24.04") is None
    assert runner_arch("Architecture: aarch64") == "arm64"
    assert runner_arch("OS: Linux (arm64)") == "arm64"
    assert runner_arch("OS: Linux (x64)") == "amd64"

"""Variants of each signature that are not in the corpus, and native look-alikes that must
not be blamed on QEMU. Each log is written the way BuildKit and the tools print it."""

import pytest

from bot.diagnosis import diagnose_bytes

from .joblogs import wrap

AMD64_RUNNER = "Platforms: linux/amd64, linux/amd64/v2, linux/386\n"
ARM64_RUNNER = "Platforms: linux/arm64, linux/arm/v7, linux/arm/v6\n"


def leg(platform: str, body: str, instruction: str = "RUN npm ci", step: int = 14,
        exit_code: int | None = 1, stage: str = "build") -> str:
    lines = [f"#{step} [{platform} {stage} 3/5] {instruction}"]
    lines += [f"#{step} {10 + i}.{i:02d} {text}" for i, text in enumerate(body.strip("\n").splitlines())]
    if exit_code is not None:
        command = instruction.removeprefix("RUN ")
        lines.append(f'#{step} ERROR: process "/bin/sh -c {command}" did not complete successfully: '
                     f"exit code: {exit_code}")
    return "\n".join(lines) + "\n"


def findings(text: str):
    return [(f.signature, f.platform) for f in diagnose_bytes(text.encode())]


CASES = {
    # npm 10 says "npm error", npm <= 9 "npm ERR!"
    "npm10-econnreset": (
        AMD64_RUNNER + leg("linux/arm64", "npm error code ECONNRESET\nnpm error network aborted"),
        [("npm-network", "linux/arm64")],
    ),
    "npm10-etimedout": (
        leg("linux/arm64", "npm error code ETIMEDOUT\nnpm error errno ETIMEDOUT"),
        [("npm-network", "linux/arm64")],
    ),
    "npm-socket-timeout": (
        leg("linux/arm64", "npm ERR! network Socket timeout"),
        [("npm-network", "linux/arm64")],
    ),
    "yarn-berry-etimedout": (
        leg("linux/arm64", "➤ YN0001: │ RequestError: connect ETIMEDOUT 104.16.2.35:443",
            instruction="RUN yarn install --immutable"),
        [("yarn-network", "linux/arm64")],
    ),
    "yarn-berry-socket-hang-up": (
        leg("linux/arm/v7", "➤ YN0001: │ RequestError: socket hang up",
            instruction="RUN yarn install --immutable"),
        [("yarn-network", "linux/arm/v7")],
    ),
    "yarn1-trouble-then-failure": (
        leg("linux/arm64", "info There appears to be trouble with your network connection. Retrying...\n"
            "error Command failed with exit code 1.", instruction="RUN yarn install --frozen-lockfile"),
        [("yarn-network", "linux/arm64")],
    ),
    "pnpm-meta-fetch-fail": (
        leg("linux/arm64", " ERR_PNPM_META_FETCH_FAIL  GET https://registry.npmjs.org/typescript: "
            "request to https://registry.npmjs.org/typescript failed, reason: socket hang up",
            instruction="RUN pnpm install --frozen-lockfile"),
        [("pnpm-network", "linux/arm64")],
    ),
    "pnpm-warn-then-failure": (
        leg("linux/arm64", " WARN  GET https://registry.npmjs.org/react error (ECONNRESET). "
            "Will retry in 10 seconds. 2 retries left.", instruction="RUN pnpm install"),
        [("pnpm-network", "linux/arm64")],
    ),
    "bare-network-word-named-by-step": (
        leg("linux/arm64", "Error: Client network socket disconnected before secure TLS connection "
            "was established", instruction="RUN corepack enable && pnpm install"),
        [("pnpm-network", "linux/arm64")],
    ),
    "docker-driver-old-wording": (
        'ERROR: multiple platforms feature is currently not supported for docker driver. Please switch '
        'to a different driver (eg. "docker buildx create --use")\n',
        [("docker-driver-multiplatform", None)],
    ),
    "exporter-short": (
        "ERROR: docker exporter does not support exporting manifest lists\n",
        [("docker-exporter-manifest-list", None)],
    ),
    # Newer QEMU builds print no "qemu:" line: exit code 132 on an emulated leg says it.
    "exit-132-emulated-leg": (
        AMD64_RUNNER + leg("linux/arm64", "npm warn deprecated inflight@1.0.6", exit_code=132),
        [("qemu-sigill", "linux/arm64")],
    ),
    "exit-133-emulated-leg": (
        leg("linux/arm/v7", "# Fatal error in , line 0", exit_code=133, instruction="RUN npm install"),
        [("qemu-sigtrap", "linux/arm/v7")],
    ),
    "dpkg-139-emulated-leg": (
        leg("linux/arm64", "dpkg: error processing package libc-bin (--configure):\n"
            " installed libc-bin package post-installation script subprocess returned error exit status 139",
            instruction="RUN apt-get update && apt-get install -y curl", exit_code=100),
        [("qemu-sigsegv", "linux/arm64")],
    ),
    "legacy-emulated-exit-139": (
        "Step 4/9 : RUN apt-get install -y build-essential\n ---> Running in 2b1e\n"
        "qemu: uncaught target signal 11 (Segmentation fault) - core dumped\n"
        "The command '/bin/sh -c apt-get install -y build-essential' returned a non-zero code: 139\n",
        [("qemu-sigsegv", None)],
    ),
    "qemu-versioned-binary-name": (
        leg("linux/riscv64", "qemu-riscv64: uncaught target signal 4 (Illegal instruction) - core dumped",
            instruction="RUN cargo build --release", exit_code=132),
        [("qemu-sigill", "linux/riscv64")],
    ),
    "rustc-sigsegv-emulated": (
        leg("linux/arm64", "error: could not compile `serde` (lib)\n\nCaused by:\n  process didn't exit "
            "successfully: `rustc --crate-name serde` (signal: 11, SIGSEGV: invalid memory reference)",
            instruction="RUN cargo build --release", exit_code=101),
        [("emulated-compiler-crash", "linux/arm64")],
    ),
    "gxx-ice-illegal-instruction": (
        leg("linux/arm64", "g++: internal compiler error: Illegal instruction signal terminated program cc1plus",
            instruction="RUN make -j2", exit_code=2),
        [("emulated-compiler-crash", "linux/arm64")],
    ),
    "heap-fatal-error-line": (
        leg("linux/arm64", "FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory\n"
            " 1: 0xb8a2c0 node::Abort() [node]", instruction="RUN npm run build", exit_code=134),
        [("node-heap-oom", "linux/arm64")],
    ),
    "heap-oom-native-too": (
        leg("linux/amd64", "<--- Last few GCs --->\nFATAL ERROR: Ineffective mark-compacts near heap limit "
            "Allocation failed - JavaScript heap out of memory", instruction="RUN npm run build", exit_code=134),
        [("node-heap-oom", "linux/amd64")],
    ),
    "bake-target-prefix": (
        "#12 [webapp linux/arm64 build 3/5] RUN npm ci\n"
        "#12 31.2 qemu: uncaught target signal 4 (Illegal instruction) - core dumped\n",
        [("qemu-sigill", "linux/arm64")],
    ),
    "two-legs-two-signatures": (
        AMD64_RUNNER
        + leg("linux/arm64", "qemu: uncaught target signal 4 (Illegal instruction) - core dumped",
              exit_code=132, step=14)
        + leg("linux/arm/v7", "Value too large for defined data type", instruction="RUN cargo fetch",
              exit_code=101, step=15),
        [("qemu-sigill", "linux/arm64"), ("emulated-fs-value-too-large", "linux/arm/v7")],
    ),
    "arm-runner-private-wording": (
        "##[error]ubuntu-24.04-arm is not supported yet for private repositories\n",
        [("arm-runner-unavailable", None)],
    ),
    "timeout-annotation-wording": (
        "##[error]The job running on runner GitHub Actions 12 has exceeded the maximum execution time of 360 minutes.\n",
        [("job-timeout", None)],
    ),
    "stale-emulator-exit-127": (
        '#9 [linux/arm64 build 2/4] RUN apk add --no-cache git\n'
        "#9 1.02 ERROR: busybox-1.36.1-r29.trigger: script exited with error 127\n"
        '#9 ERROR: process "/dev/.buildkit_qemu_emulator /bin/sh -c apk add --no-cache git" did not '
        "complete successfully: exit code: 1\n",
        [("stale-bundled-emulator", "linux/arm64")],
    ),
    "npm-script-sigill": (
        leg("linux/arm64", "npm error path /app/node_modules/esbuild\nnpm error command failed\n"
            "npm error signal SIGILL\nnpm error command sh -c node install.js", exit_code=1),
        [("qemu-sigill", "linux/arm64")],
    ),
    "yarn-signal-sigsegv": (
        leg("linux/arm/v7", 'error Command failed with signal "SIGSEGV".', instruction="RUN yarn build"),
        [("qemu-sigsegv", "linux/arm/v7")],
    ),
    "go-runtime-sigsegv": (
        leg("linux/arm64", "fatal error: unexpected signal during runtime execution\n"
            "[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x4a1b2c]",
            instruction="RUN go build ./...", exit_code=2),
        [("qemu-sigsegv", "linux/arm64")],
    ),
    "python-fatal-sigsegv": (
        leg("linux/arm64", "Fatal Python error: Segmentation fault\n\nCurrent thread 0x0000ffff (most recent call first):",
            instruction="RUN pip install -r requirements.txt", exit_code=139),
        [("qemu-sigsegv", "linux/arm64")],
    ),
    "jvm-fatal-sigsegv": (
        leg("linux/arm64", "# A fatal error has been detected by the Java Runtime Environment:\n#\n"
            "#  SIGSEGV (0xb) at pc=0x0000ffff8, pid=7, tid=8", instruction="RUN ./gradlew build", exit_code=134),
        [("qemu-sigsegv", "linux/arm64")],
    ),
    "buildah-step-exit-status-132": (
        "STEP 4/6: RUN npm ci\nqemu: uncaught target signal 4 (Illegal instruction) - core dumped\n"
        'Error: building at STEP "RUN npm ci": while running runtime: exit status 132\n',
        [("qemu-sigill", None)],
    ),
    "step-timeout-annotation": (
        "##[error]The action 'Build and push' has timed out after 60 minutes.\n",
        [("job-timeout", None)],
    ),
    "error-prefixed-cancel-after-crash": (
        leg("linux/arm64", "qemu: uncaught target signal 4 (Illegal instruction) - core dumped", exit_code=None)
        + "Error: The operation was canceled.\n",
        [("qemu-sigill", "linux/arm64"), ("job-timeout", "linux/arm64")],
    ),
    # Native look-alikes and near misses.
    "native-npm-sigill-amd64": (
        AMD64_RUNNER + leg("linux/amd64", "npm error signal SIGILL", exit_code=1),
        [],
    ),
    "signal-word-in-prose": (
        "Handled SIGSEGV gracefully in test_signals.py::test_handler PASSED\n",
        [],
    ),
    "native-amd64-sigill": (
        AMD64_RUNNER + leg("linux/amd64", "Illegal instruction (core dumped)", exit_code=132,
                           instruction="RUN ./configure && make"),
        [],
    ),
    "arm-runner-native-arm64-sigill": (
        ARM64_RUNNER + leg("linux/arm64", "Illegal instruction (core dumped)", exit_code=132),
        [],
    ),
    "arm-runner-emulated-amd64-sigill": (
        ARM64_RUNNER + leg("linux/amd64", "Illegal instruction (core dumped)", exit_code=132),
        [("qemu-sigill", "linux/amd64")],
    ),
    "buildplatform-stage-is-native": (
        AMD64_RUNNER + leg("linux/amd64->arm64", "Illegal instruction (core dumped)", exit_code=132,
                           instruction="RUN npm run build"),
        [],
    ),
    "native-386-on-x64": (
        AMD64_RUNNER + leg("linux/386", "Segmentation fault (core dumped)", exit_code=139,
                           instruction="RUN ./run-tests"),
        [],
    ),
    "stale-emulator-ordinary-failure": (
        '#9 [linux/arm64 build 2/4] RUN pip install -r requirements.txt\n'
        "#9 3.1 ERROR: Could not find a version that satisfies the requirement torch==9.9\n"
        '#9 ERROR: process "/dev/.buildkit_qemu_emulator /bin/sh -c pip install -r requirements.txt" '
        "did not complete successfully: exit code: 1\n",
        [],
    ),
    "pnpm-warnings-recovered": (
        leg("linux/arm64", " WARN  GET https://registry.npmjs.org/react error (ECONNRESET). "
            "Will retry in 10 seconds. 2 retries left.\nDone in 41.2s", instruction="RUN pnpm install",
            exit_code=None)
        + "#14 DONE 42.0s\n",
        [],
    ),
    "go-test-exec-format-error": (
        "--- FAIL: TestCrossBinary (0.00s)\n    main_test.go:12: fork/exec ./bin/tool-arm64: exec format error\n"
        "FAIL\n##[error]Process completed with exit code 1.\n",
        [],
    ),
    "network-word-unknown-tool": (
        leg("linux/arm64", "curl: (28) Failed to connect: ETIMEDOUT", instruction="RUN ./fetch-assets.sh"),
        [],
    ),
    "numbers-and-signals-in-prose": (
        "Rebuilt 133 packages; exit code: 132 is documented in docs/signals.md\n"
        "The job was cancelled by octocat.\n",
        [],
    ),
}


@pytest.mark.parametrize("name", CASES)
def test_variant(name):
    text, expected = CASES[name]
    assert findings(text) == expected


# The wrapper's own preamble says the runner is x86-64, so cases on an Arm runner stay out.
@pytest.mark.parametrize("name", [n for n, (t, _) in CASES.items() if ARM64_RUNNER not in t])
def test_variant_in_a_real_job_log(name):
    text, expected = CASES[name]
    data, _ = wrap(text, seed=7)
    assert [(f.signature, f.platform) for f in diagnose_bytes(data)] == expected


def test_cancel_after_silent_emulated_build_is_a_timeout():
    log = (
        "2025-03-01T10:00:00.0000000Z Platforms: linux/amd64, linux/arm64\n"
        "2025-03-01T10:00:01.0000000Z #20 [linux/arm64 build 4/6] RUN npm ci\n"
        "2025-03-01T10:00:09.0000000Z #20 8.120 npm warn deprecated inflight@1.0.6\n"
        "2025-03-01T10:31:09.0000000Z ##[error]The operation was canceled.\n"
    )
    got = diagnose_bytes(log.encode())
    assert [(f.signature, f.line) for f in got] == [("job-timeout", 4)]


def test_cancel_without_silence_or_emulation_is_nothing():
    log = (
        "2025-03-01T10:00:01.0000000Z #20 [linux/amd64 build 4/6] RUN npm ci\n"
        "2025-03-01T10:31:09.0000000Z ##[error]The operation was canceled.\n"
        "2025-03-01T10:40:01.0000000Z #21 [linux/arm64 build 4/6] RUN npm ci\n"
        "2025-03-01T10:40:02.0000000Z ##[error]The operation was canceled.\n"
    )
    assert diagnose_bytes(log.encode()) == []

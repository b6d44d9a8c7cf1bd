"""Generated variants of each class of log the engine used to miss (issue 12), each checked as
written, wrapped like a job log, with CRLF line ends, cut into random chunks, and pasted the
ways people paste logs (Markdown links to job lines, bracketed times, quotes)."""

import random

import pytest

from bot.diagnosis import diagnose_bytes, diagnose_chunks

from .joblogs import paste_prefixed, wrap

AMD64_RUNNER = "Platforms: linux/amd64, linux/amd64/v2, linux/386\n"

YARN1_STACK = """\
{n} 237.6 info There appears to be trouble with your network connection. Retrying...
{n} 377.1 error Error: https://registry.yarnpkg.com/date-fns/-/date-fns-2.30.0.tgz: ESOCKETTIMEDOUT
{n} 377.1     at ClientRequest.<anonymous> (/usr/local/lib/node_modules/yarn/lib/cli.js:142037:19)
{n} 377.1     at Object.onceWrapper (node:events:632:28)
{n} 377.1     at TLSSocket.emitRequestTimeout (node:_http_client:849:9)
{n} 377.1 info Visit https://yarnpkg.com/en/docs/cli/install for documentation about this command.
"""

PNPM_FETCH = """\
{n} 131.6  ETIMEDOUT  request to https://registry.npmjs.org/ms/-/ms-2.1.3.tgz failed, reason: connect ETIMEDOUT 104.16.1.35:443
{n} 131.6
{n} 131.6 FetchError: request to https://registry.npmjs.org/ms/-/ms-2.1.3.tgz failed, reason: connect ETIMEDOUT 104.16.1.35:443
{n} 131.6     at ClientRequest.<anonymous> (/usr/local/lib/node_modules/pnpm/dist/pnpm.cjs:73746:18)
{n} 131.6     at process.processTicksAndRejections (node:internal/process/task_queues:82:21)
"""


def step(n: int, platform: str, instruction: str, body: str, exit_code: int | None = 1,
         emulator: bool = False, stage: str = "build") -> str:
    """A BuildKit step as buildx prints it: header, output, and the failure if it failed."""
    text = f"#{n} [{platform} {stage} 4/6] {instruction}\n" + body.format(n=f"#{n}")
    if exit_code is not None:
        command = instruction.removeprefix("RUN ")
        runner = "/dev/.buildkit_qemu_emulator " if emulator else ""
        text += (f'#{n} ERROR: process "{runner}/bin/sh -c {command}" did not complete successfully: '
                 f"exit code: {exit_code}\n")
    return text


def summary(platform: str, instruction: str, exit_code: int = 1) -> str:
    command = instruction.removeprefix("RUN ")
    return (f"------\n > [{platform} build 4/6] {instruction}:\n------\n"
            f'ERROR: failed to solve: process "/bin/sh -c {command}" did not complete successfully: '
            f"exit code: {exit_code}\n")


CASES = {
    "yarn1-error-error-stack": (
        AMD64_RUNNER + step(21, "linux/arm64", "RUN yarn install --frozen-lockfile", YARN1_STACK),
        [("yarn-network", "linux/arm64")],
    ),
    "yarn1-error-url-no-step-numbers": (
        YARN1_STACK.replace("{n} ", "") + summary("linux/arm/v7", "RUN yarn install"),
        [("yarn-network", "linux/arm/v7")],
    ),
    "pnpm-etimedout-fetcherror": (
        step(17, "linux/arm64", "RUN pnpm install --frozen-lockfile", PNPM_FETCH),
        [("pnpm-network", "linux/arm64")],
    ),
    "pnpm-etimedout-step0": (
        PNPM_FETCH.replace("{n}", "#0") + summary("linux/arm64", "RUN pnpm install --prod"),
        [("pnpm-network", "linux/arm64")],
    ),
    "linker-sigsegv-emulated": (
        AMD64_RUNNER + step(30, "linux/arm64", "RUN cargo build --release",
                            "{n} 410.2    Compiling app v0.1.0 (/src)\n"
                            "{n} 498.7 error: linking with `cc` failed: signal: 11 (SIGSEGV)\n"
                            '{n} 498.7   = note: LC_ALL="C" PATH="/usr/local/cargo/bin" "cc" "-Wl,--as-needed"\n',
                            exit_code=101),
        [("emulated-compiler-crash", "linux/arm64")],
    ),
    "linker-sigsegv-native-leg": (
        AMD64_RUNNER + step(30, "linux/amd64", "RUN cargo build --release",
                            "{n} 98.7 error: linking with `cc` failed: signal: 11 (SIGSEGV)\n", exit_code=101),
        [],
    ),
    "bundled-emulator-loader-error": (
        step(12, "linux/arm64", "RUN ./install-deps.sh",
             "{n} 0.175 Error while loading /usr/local/bin/bash: No such file or directory\n", emulator=True),
        [("stale-bundled-emulator", "linux/arm64")],
    ),
    "bundled-emulator-dpkg-errors": (
        step(7, "linux/arm/v7", "RUN apt-get update && apt-get install -y curl",
             "{n} 19.81 dpkg: error processing archive /var/cache/apt/archives/curl_7.88_armhf.deb (--unpack):\n"
             "{n} 19.81  dpkg-deb --control subprocess returned error exit status 1\n"
             "{n} 20.10 E: Sub-process /usr/bin/dpkg returned an error code (1)\n",
             exit_code=100, emulator=True),
        [("stale-bundled-emulator", "linux/arm/v7")],
    ),
    "summary-names-platform": (
        "#14 12.3 qemu: uncaught target signal 4 (Illegal instruction) - core dumped\n"
        + summary("linux/arm/v7", "RUN npm ci", exit_code=132),
        [("qemu-sigill", "linux/arm/v7")],
    ),
    "step-line-without-number": (
        "[linux/arm64 builder 13/16] RUN npm ci\nnpm error code ECONNRESET\nnpm error network read ECONNRESET\n",
        [("npm-network", "linux/arm64")],
    ),
    "legacy-platform-warning": (
        "Step 3/5 : RUN npm ci\n"
        " ---> [Warning] The requested image's platform (linux/arm64) does not match the detected host "
        "platform (linux/amd64) and no specific platform was requested\n"
        " ---> Running in 09e12406f53b\nIllegal instruction (core dumped)\n"
        "The command '/bin/sh -c npm ci' returned a non-zero code: 132\n",
        [("qemu-sigill", "linux/arm64")],
    ),
    "legacy-without-warning-is-native": (
        "Step 3/5 : RUN npm ci\n ---> Running in 09e12406f53b\nIllegal instruction (core dumped)\n"
        "The command '/bin/sh -c npm ci' returned a non-zero code: 132\n",
        [],
    ),
    "npm-retry-survived-then-unrelated-failure": (
        AMD64_RUNNER
        + step(11, "linux/arm64", "RUN npm ci",
               "{n} 30.1 npm warn retry will retry, error on last attempt: Error: read ECONNRESET\n"
               "{n} 64.0 added 812 packages in 64s\n", exit_code=None)
        + "#11 DONE 64.2s\n\n"
        + step(12, "linux/arm64", "RUN npm test", "{n} 3.1 FAIL src/app.test.ts\n{n} 3.2 Tests: 1 failed\n"),
        [],
    ),
    "npm-retry-then-failure-in-the-same-step": (
        step(11, "linux/arm64", "RUN npm ci",
             "{n} 30.1 npm warn retry will retry, error on last attempt: Error: read ECONNRESET\n"
             "{n} 90.4 npm error code ECONNRESET\n"),
        [("npm-network", "linux/arm64")],
    ),
}

WEDGED = (
    "02:08:40 #14 [linux/arm64 build 3/5] RUN npm ci\n"
    "02:08:41 #14 0.912 npm warn deprecated inflight@1.0.6: This module is not supported\n"
    "02:38:45 Error: The operation was canceled.\n"
)
WEDGED_NATIVE = WEDGED.replace("linux/arm64", "linux/amd64")
WEDGED_BRIEF = WEDGED.replace("02:38:45", "02:09:05")


def outcome(findings):
    return [(f.signature, f.platform) for f in findings]


def forms(text: str, seed: int):
    """The log as written, wrapped like a job log, CRLF in random chunks, and pasted."""
    yield "plain", [text.encode()]
    yield "wrapped", [wrap(text, seed=seed)[0]]
    data = wrap(text, seed=seed + 1, crlf=True, noise=200)[0]
    rng, chunks, at = random.Random(seed), [], 0
    while at < len(data):
        size = rng.randint(1, 4096)
        chunks.append(data[at:at + size])
        at += size
    yield "crlf-random-chunks", chunks
    for style in ("markdown-link", "bracket-time", "quote"):
        yield style, [paste_prefixed(text, style, seed).encode()]


@pytest.mark.parametrize("name", CASES)
def test_variant_in_every_form(name):
    text, expected = CASES[name]
    for form, chunks in forms(text, seed=len(name)):
        assert outcome(diagnose_chunks(chunks)) == expected, form


@pytest.mark.parametrize("style", ["plain", "markdown-link", "quote"])
def test_cancel_after_emulated_step_silent_half_an_hour(style):
    text = WEDGED if style == "plain" else paste_prefixed(WEDGED, style)
    assert outcome(diagnose_bytes(text.encode())) == [("job-timeout", "linux/arm64")]


def test_cancel_with_bracketed_times_of_day():
    text = "\n".join(f"[{line[:8]}] {line[9:]}" for line in WEDGED.splitlines()) + "\n"
    assert outcome(diagnose_bytes(text.encode())) == [("job-timeout", "linux/arm64")]


def test_cancel_after_midnight():
    text = WEDGED.replace("02:08:4", "23:58:4").replace("02:38:45", "00:29:01")
    assert outcome(diagnose_bytes(text.encode())) == [("job-timeout", "linux/arm64")]


@pytest.mark.parametrize("text", [WEDGED_NATIVE, WEDGED_BRIEF], ids=["native-step", "brief-silence"])
def test_cancel_that_is_not_a_wedged_emulated_job(text):
    assert outcome(diagnose_bytes(text.encode())) == []

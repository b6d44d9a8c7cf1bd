"""The PR text: evidence as links, how long the emulated leg ran against the native one (from
the log's timestamps), and "if it does not work" phrased for what stays emulated."""

from bot.diagnosis import diagnose_bytes, diagnose_file
from bot.explain import linkify

from .repos import NODE_SITE, WF, run, sigill_log
from .test_github_builder import WITH_OUTPUTS
from .test_restructure import STOREFRONT

TIMED = b"""\
2026-11-02T10:00:00.1000000Z #5 [linux/amd64 build 1/3] FROM docker.io/library/node:22
2026-11-02T10:00:01.1000000Z #6 [linux/arm64 build 1/3] FROM docker.io/library/node:22
2026-11-02T10:00:30.1000000Z \x1b[36m#7 [linux/amd64 build 2/3] RUN npm ci\x1b[0m
2026-11-02T10:06:00.1000000Z #9 [linux/amd64 build 3/3] RUN npm run build
2026-11-02T10:02:00.1000000Z #8 [linux/arm64 build 2/3] RUN npm ci
2026-11-02T10:41:01.2000000Z #8 2459.0 qemu: uncaught target signal 4 (Illegal instruction) - core dumped
2026-11-02T10:41:01.3000000Z #8 ERROR: process "/bin/sh -c npm ci" did not complete successfully: exit code: 132
"""


def test_references_become_links():
    assert linkify("see raaymax/quack#313 and docs.docker.com/build/ci/github-actions/multi-platform/.") == (
        "see [raaymax/quack#313](https://github.com/raaymax/quack/issues/313) and "
        "[docs.docker.com/build/ci/github-actions/multi-platform/]"
        "(https://docs.docker.com/build/ci/github-actions/multi-platform/).")
    linked = "[docker/github-builder](https://github.com/docker/github-builder)"
    assert linkify(linked) == linked
    result = run({WF: STOREFRONT}, {"Dockerfile": NODE_SITE}, sigill_log(), remedy="pin-qemu")
    assert "[raaymax/quack#313](https://github.com/raaymax/quack/issues/313)" in result.explanation
    assert "[tonistiigi/binfmt#243](https://github.com/tonistiigi/binfmt/issues/243)" in result.explanation


def test_the_log_excerpt_is_not_rewritten():
    log = sigill_log().replace(b"Illegal instruction (core dumped)", b"Illegal instruction (core dumped) acme/app#7")
    result = run({WF: STOREFRONT}, {"Dockerfile": NODE_SITE}, log, remedy="pin-qemu")
    assert "acme/app#7" in result.explanation and "https://github.com/acme/app" not in result.explanation


def test_how_long_each_leg_ran(tmp_path):
    [finding] = diagnose_bytes(TIMED, "job.log")  # a stream (the app): recorded while scanning
    assert finding.legs == {"linux/arm64": 2460.0, "linux/amd64": 360.0}
    log = tmp_path / "job.log"
    log.write_bytes(b"2026-11-02T09:59:00.0000000Z ##[group]Run docker/build-push-action\n" * 20000 + TIMED)
    [from_file] = diagnose_file(str(log))  # a file: looked up afterwards
    assert from_file.legs == {"linux/arm64": 2460.0, "linux/amd64": 360.0}
    result = run({WF: STOREFRONT}, {"Dockerfile": NODE_SITE}, TIMED)
    assert ("From the log's timestamps: `linux/arm64` ran 41 min before it failed; `linux/amd64` reached its "
            "last step after 6 min.") in result.explanation
    # Without timestamps nothing is claimed (nor for a leg that failed within the minute).
    assert diagnose_bytes(TIMED.replace(b"2026-11-02T", b"2026-11-02 "), "job.log")[0].legs == {}
    assert "From the log's timestamps" not in run({WF: STOREFRONT}, {"Dockerfile": NODE_SITE},
                                                   sigill_log()).explanation


def next_step(result) -> str:
    return result.explanation.split("## If it does not work\n\n", 1)[1]


def test_if_it_does_not_work_says_what_stays_emulated():
    base = dict(workflows={WF: STOREFRONT}, dockerfiles={"Dockerfile": NODE_SITE}, log=sigill_log())
    stage = run(**base)
    assert stage.remedy == "build-on-buildplatform"
    assert next_step(stage).startswith("After this change the failing stage runs natively on the runner; the other "
                                       "stages of the `linux/arm64` image are still built under QEMU. If the same "
                                       "failure comes back, the next step is **")
    builder = run(**base, skip=("build-on-buildplatform",))
    assert next_step(builder).startswith("After this change `linux/arm64` is built on a native runner: nothing of "
                                         "it is emulated. ")
    pinned = run(**base, remedy="pin-qemu")
    assert next_step(pinned).startswith("After this change `linux/arm64` is still built under QEMU, with the pinned "
                                        "release.")
    riscv = run({WF: WITH_OUTPUTS}, {"Dockerfile": NODE_SITE, "api/Dockerfile": NODE_SITE}, sigill_log(),
                remedy="github-builder")
    assert next_step(riscv).startswith("After this change `linux/arm64` is built on a native runner: nothing of it "
                                       "is emulated (`linux/riscv64` still is).")

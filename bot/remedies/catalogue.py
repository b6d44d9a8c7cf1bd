"""What each remedy is, why it works, and the public evidence for it (texts for PRs)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RemedyInfo:
    id: str
    title: str
    why: str
    evidence: tuple[str, ...] = ()


_INFO = [
    RemedyInfo(
        "build-on-buildplatform", "Build the failing stage on the build platform",
        "The failing stage only produces files that are the same on every architecture, so it can run "
        "natively on the runner (`FROM --platform=$BUILDPLATFORM`) and take QEMU out of the path: the "
        "crash cannot happen where nothing is emulated, and the stage runs several times faster.",
        ("ThinkWatchProject/ThinkWatch#24 (pnpm build: 260 s emulated, 23 s native)", "arthur-ai/arthur-engine#1859"),
    ),
    RemedyInfo(
        "github-builder", "Build with Docker's reusable workflow `docker/github-builder`",
        "The build job becomes a call of Docker's own reusable workflow, which builds each platform in its "
        "own job on a runner of that architecture (`ubuntu-24.04-arm` for linux/arm64 and linux/arm, with "
        "QEMU off), pushes by digest and merges the multi-platform image, with signed provenance. Nothing is "
        "emulated, so emulation crashes cannot happen, and Docker maintains the build steps.",
        ("docs.docker.com/build/ci/github-actions/multi-platform/ (Docker recommends it for distributed "
         "multi-platform builds)", "[docker/github-builder](https://github.com/docker/github-builder) (README: inputs, secrets, outputs, "
         "runner mapping)"),
    ),
    RemedyInfo(
        "native-runners", "Build each platform on its own native runner",
        "Each platform is built in its own job on a runner of that architecture (GitHub's "
        "`ubuntu-24.04-arm` for linux/arm64), pushed by digest, and a merge job assembles the "
        "multi-platform image with the original tags. Nothing is emulated, so emulation crashes cannot "
        "happen, and the arm64 build runs at native speed.",
        ("interledger/rafiki#3732", "mattogodoy/nametag#212",
         "docs.docker.com/build/ci/github-actions/multi-platform/ (Distribute build across multiple runners)"),
    ),
    RemedyInfo(
        "platform-matrix", "Build each platform in its own job (QEMU kept)",
        "Each platform is built in its own job, pushed by digest, and merged into one image. The "
        "emulated leg no longer shares the runner's memory and time with the others, and a failure "
        "names its platform. It does not remove emulation.",
        ("docs.docker.com/build/ci/github-actions/multi-platform/", "docker/build-push-action#671"),
    ),
    RemedyInfo(
        "pin-qemu", "Pin the current QEMU release",
        "`docker/setup-qemu-action` registers the emulator from `tonistiigi/binfmt`; without a pin it "
        "takes whatever `latest` is (or none, leaving BuildKit's older bundled emulator). The pin is the "
        "tag Docker's own `docker/github-builder` uses. It is the fallback for when no native runner can "
        "be had: the build stays emulated, and a newer emulator is not a promised cure (a pin that cured "
        "a SIGILL locally did not in CI, raaymax/quack#313).",
        ("tonistiigi/binfmt#243 (QEMU 9.2.2 fixed the 9.2.0 libc-bin segfaults)", "raaymax/quack#312",
         "raaymax/quack#313"),
    ),
    RemedyInfo(
        "add-buildx", "Set up a buildx builder",
        "The default `docker` driver cannot build several platforms in one build; "
        "`docker/setup-buildx-action` creates a `docker-container` builder that can.",
        ("docs.docker.com/build/builders/drivers/",),
    ),
    RemedyInfo(
        "load-single-platform", "Load only the runner's platform",
        "A multi-platform image cannot be loaded into the local Docker engine (`load: true` with several "
        "platforms). The multi-platform build stays as it was for pushing; a second build loads only "
        "the runner's platform for the steps that need a local image.",
        ("docs.docker.com/build/exporters/",),
    ),
    RemedyInfo(
        "node-heap", "Give Node a larger heap for the failing step",
        "V8 stopped at its default heap limit; `--max-old-space-size` raises it for that step. In a "
        "build stage it is an `ENV`; in the final stage it is set on the `RUN` alone, so the runtime "
        "image does not change.",
        ("nodejs.org/api/cli.html#--max-old-space-sizesize-in-mib",),
    ),
    RemedyInfo(
        "package-manager-network", "Make the package manager patient with the network",
        "The registry fetches timed out or were reset. Fewer parallel sockets, longer timeouts and "
        "more retries on the failing install command let slow (often emulated) TLS finish.",
        ("npm/cli#4652", "docker/build-push-action#471"),
    ),
    RemedyInfo(
        "timeout-minutes", "Fail a wedged job fast",
        "A crashed emulated process can leave the build silent until GitHub's six-hour limit; a job "
        "timeout turns that into a fast, visible failure.",
    ),
    RemedyInfo(
        "drop-platform", "Stop building the failing platform",
        "Removes the platform whose build keeps failing. A last resort: users on that platform get no "
        "image from this workflow.",
    ),
]

REMEDY_INFO: dict[str, RemedyInfo] = {r.id: r for r in _INFO}

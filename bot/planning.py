"""Choosing the remedy (SPEC section 5): the ladder for a signature under a policy.

The planner orders candidates; the fix engine tries them in that order and keeps the first
that applies. Skipped remedies (tried and not cured, or declined) and remedies the config
turns off never appear. Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

from .config import Config
from .diagnosis import EMULATION_FAMILY, NETWORK_FAMILY, Finding

EMULATION_LADDER = ["build-on-buildplatform", "github-builder", "native-runners", "pin-qemu", "platform-matrix",
                    "drop-platform"]
# The Arm64 runners run 32-bit Arm natively (their CPUs execute it; docker/github-builder maps
# linux/arm to ubuntu-24.04-arm with QEMU off): native runners first, a QEMU pin only where none
# can be had. Building the stage on the build platform is not tried: 32-bit failures are about
# the guest's address space, which the stage's outputs do not show.
ARM32_LADDER = ["github-builder", "native-runners", "pin-qemu", "drop-platform"]
MINIMAL_LADDER = ["pin-qemu", "platform-matrix", "native-runners", "drop-platform"]
DIRECT = {
    "exec-format-error": ["pin-qemu"],
    "stale-bundled-emulator": ["pin-qemu"],
    "docker-driver-multiplatform": ["add-buildx"],
    "docker-exporter-manifest-list": ["load-single-platform"],
    "node-heap-oom": ["node-heap"],
    "npm-network": ["package-manager-network"],
    "yarn-network": ["package-manager-network"],
    "pnpm-network": ["package-manager-network"],
}
# In the minimal policy, the tuning bundle rides with pin-qemu for a failing Node step.
TUNING_COMPANIONS = ["node-heap", "package-manager-network", "add-buildx"]
NODE_WORDS = ("npm", "yarn", "pnpm", "node", "npx", "corepack")


@dataclass
class Plan:
    ladder: list[str]  # remedies to try, in order
    companions: list[str]  # applied with the main remedy where they apply
    note: str  # why this ladder, for explanations


def is_arm32(platform: str | None) -> bool:
    return bool(platform) and platform.startswith(("linux/arm/v", "linux/arm/"))


def is_emulated(finding: Finding, runner_arch: str = "amd64") -> bool:
    """Did the failing leg run under emulation? (The runner is x86-64 unless the job says arm.)"""
    platform = finding.platform
    if finding.signature in EMULATION_FAMILY or finding.signature in ("stale-bundled-emulator", "exec-format-error"):
        return True
    if not platform:
        return False
    arch = platform.split("/")[1] if "/" in platform else platform
    return arch not in ({"amd64", "386"} if runner_arch == "amd64" else {"arm64"})


def _node_step(finding: Finding) -> bool:
    instruction = ((finding.step or {}).get("instruction") or "").lower()
    return any(word in instruction for word in NODE_WORDS)


def plan(findings: list[Finding], config: Config, policy: str | None = None, skip: tuple[str, ...] = (),
         runner_arch: str = "amd64") -> Plan:
    primary = findings[0]
    signature = primary.signature
    policy = policy or config.policy
    emulated = is_emulated(primary, runner_arch)
    signatures = {f.signature for f in findings}
    emulation = signature in EMULATION_FAMILY or (
        signature == "job-timeout" and (signatures & EMULATION_FAMILY or emulated))
    companions = ["timeout-minutes"] if "job-timeout" in signatures else []

    if signature == "arm-runner-unavailable":
        ladder = ["native-runners"] if config.arm_runner else ["platform-matrix"]
        note = ("the config names an Arm runner label" if config.arm_runner else
                "GitHub's Arm runners are not available to this repository, so each platform gets its own "
                "job on the original runner, QEMU kept")
    elif policy == "minimal" and (emulation or signature in NETWORK_FAMILY or signature == "node-heap-oom"):
        ladder = list(MINIMAL_LADDER)
        if _node_step(primary) or signature in NETWORK_FAMILY or signature == "node-heap-oom":
            companions = TUNING_COMPANIONS + companions
        else:
            companions = ["add-buildx"] + companions
        note = "policy `minimal`: the tuning bundle first, then one job per platform"
    elif emulation and is_arm32(primary.platform):
        ladder = list(ARM32_LADDER)
        note = (f"{primary.platform} is 32-bit Arm, which the Arm64 runners run natively; a QEMU pin only where "
                "no native runner can be had")
    elif emulation:
        ladder = list(EMULATION_LADDER)
        note = "an emulation failure: remove emulation where the evidence allows, else pin a known-good QEMU"
    elif signature in DIRECT:
        ladder = list(DIRECT[signature])
        # Only a failure on an emulated leg climbs to native runners; a native one has nowhere to go.
        if emulated and signature != "docker-driver-multiplatform":
            ladder += ["native-runners"]
        note = "this signature has a direct remedy" + (", then native runners" if len(ladder) > 1 else "")
    else:
        ladder, note = [], "no remedy is known for this failure"
    ladder = [r for r in ladder if r not in skip and config.allows(r)]
    companions = [r for r in companions if r not in skip and config.allows(r) and r not in ladder[:1]]
    return Plan(ladder, companions, note)

"""Dockerfile remedies: ``build-on-buildplatform``, ``node-heap``, ``package-manager-network``."""

from __future__ import annotations

import re

from ..dockerfile import edit
from ..dockerfile.model import Instruction, Stage
from .base import Change, Decline, Situation

# What a later stage may copy out of a stage built for the build platform: outputs that are the
# same on every architecture (bundled JS/CSS, static sites, documentation, JVM archives).
_ARCH_INDEPENDENT_DIRS = {
    "dist", "build", "out", "public", "static", "assets", "www", "html", "site", "docs", "storybook-static",
    "_site", "browser", "client",
}
_ARCH_INDEPENDENT_FILES = re.compile(
    r"\.(?:js|mjs|cjs|css|html?|json|map|svg|png|jpe?g|gif|webp|ico|woff2?|ttf|txt|md|xml|jar|war|wasm)$",
    re.IGNORECASE,
)
_ARCH_DEPENDENT = re.compile(r"(?:^|/)(?:node_modules|\.venv|venv|site-packages|target|bin|lib|vendor)(?:/|$)"
                             r"|\.(?:so|node|a|dylib|exe)$")


def _copy_sources(ins: Instruction) -> list[str]:
    """Source paths of a COPY (all its values but the destination)."""
    return list(ins.value[:-1]) if len(ins.value) >= 2 else []


def _arch_independent(path: str) -> bool:
    clean = path.strip().strip("\"'").rstrip("/")
    if not clean or _ARCH_DEPENDENT.search(clean):
        return False
    parts = [p for p in clean.split("/") if p not in ("", ".")]
    if not parts:
        return False  # the whole working directory
    if parts[-1].lower() in _ARCH_INDEPENDENT_DIRS or _ARCH_INDEPENDENT_FILES.search(parts[-1]):
        return True
    # ".next/static", "apps/web/dist/" and the like: an output directory inside
    return any(p.lower() in _ARCH_INDEPENDENT_DIRS for p in parts[1:]) or clean.endswith(".next/static")


def _cross_compiles(stage: Stage) -> bool:
    """A Go stage that already builds for $TARGETARCH produces the target's binary natively."""
    text = " ".join(i.original for i in stage.instructions)
    return bool(re.search(r"GOARCH=\$\{?TARGETARCH", text))


def _refers_to(ref: str | None, stage: Stage) -> bool:
    if ref is None:
        return False
    return (stage.name is not None and ref.lower() == stage.name.lower()) or ref == str(stage.index)


def build_on_buildplatform(s: Situation) -> Change:
    df, ins = s.require_instruction()
    stage = df.stages[ins.stage]
    label = f"stage `{stage.name}`" if stage.name else f"stage {stage.index}"
    if stage is df.final_stage:
        raise Decline(f"the failing step is in the final stage ({label}), whose files are the image itself")
    if stage.platform_flag:
        raise Decline(f"{label} already has `--platform={stage.platform_flag}`")
    copies: list[tuple[Stage, Instruction]] = []
    for later in df.stages[stage.index + 1:]:
        if _refers_to(later.base, stage):
            raise Decline(f"stage `{later.name or later.index}` is built FROM {label}, so it would inherit "
                          "files built for the wrong architecture")
        for other in later.instructions:
            if other.cmd == "COPY" and _refers_to(other.flag("from"), stage):
                copies.append((later, other))
            mount = " ".join(other.flags)
            if other.cmd == "RUN" and stage.name and re.search(rf"from={re.escape(stage.name)}\b", mount):
                raise Decline(f"a later RUN mounts {label}, and would run against files built for the wrong "
                              "architecture")
    if not copies:
        raise Decline(f"no later stage copies from {label}, so building it elsewhere changes nothing")
    cross = _cross_compiles(stage)
    for _, copy in copies:
        bad = [p for p in _copy_sources(copy) if not _arch_independent(p)]
        if bad and not cross:
            raise Decline(f"`{copy.original.strip()}` (line {copy.start_line}) copies {', '.join(bad)} out of "
                          f"{label}: that may hold architecture-specific files (node_modules, native "
                          "addons, binaries), which must be built for the target platform")
    text = edit.add_build_platform(df, stage)
    copied = ", ".join(sorted({p for _, c in copies for p in _copy_sources(c)}))
    return Change(
        "build-on-buildplatform",
        {df.path: text},
        [f"`{df.path}`: {label} now runs on the build platform (`FROM --platform=$BUILDPLATFORM`, "
         f"line {stage.start_line}); later stages copy only {copied} from it."],
        [f"{label[0].upper()}{label[1:]} now runs natively on the runner for every target platform. What later stages copy "
         f"from it ({copied}) must be the same on every architecture: check that no native addon or "
         "binary is built into it."],
    )


_NODE_OPTIONS = re.compile(r"NODE_OPTIONS[^\n]*max[-_]old[-_]space[-_]size", re.IGNORECASE)


def node_heap(s: Situation) -> Change:
    df, ins = s.require_instruction()
    size = s.config.node_max_old_space_size
    option = f"--max-old-space-size={size}"
    if ins.cmd != "RUN":
        raise Decline(f"the failing step is a {ins.cmd}, not a RUN")
    stage = df.stages[ins.stage]
    before = [i for i in stage.instructions if i.start_line < ins.start_line] + [ins]
    if any(_NODE_OPTIONS.search(i.original) for i in before if i.cmd in ("ENV", "RUN", "ARG")):
        raise Decline("the failing step already runs with a NODE_OPTIONS heap size")
    if stage is not df.final_stage:
        existing = any(i.cmd == "ENV" and "NODE_OPTIONS" in i.original for i in before)
        value = f'"${{NODE_OPTIONS}} {option}"' if existing else option
        text = edit.insert_before(df, ins, f"ENV NODE_OPTIONS={value}")
        where = f"`ENV NODE_OPTIONS={value}` before line {ins.start_line} in build stage `{stage.name or stage.index}`"
    else:
        if ins.json or ins.heredoc:
            raise Decline("the failing step is in the final stage and is not a plain shell RUN, so the heap "
                          "size cannot be set for that step alone without changing the runtime image")
        raw = edit.segment(df, ins)
        at = edit.run_command_start(raw)
        if at is None:
            raise Decline("the RUN instruction's command could not be found")
        # "VAR=x a && b" sets VAR for `a` only: a compound command exports it for all of them.
        compound = re.search(r"&&|\|\||;|\|", raw[at:])
        prefix = f"export NODE_OPTIONS={option} && " if compound else f"NODE_OPTIONS={option} "
        text = edit.replace_segment(df, ins, raw[:at] + prefix + raw[at:])
        where = f"`{prefix.strip(' &')}` on the failing RUN (line {ins.start_line}), the final stage"
    return Change(
        "node-heap", {df.path: text},
        [f"`{df.path}`: {where}, so V8 may use {size} MB of heap."],
        ["A larger heap needs the memory to be there: hosted runners have 16 GB (x64) and emulation "
         "adds overhead. If the build still runs out of memory, the next step removes emulation."],
    )


# -- package-manager-network ---------------------------------------------------------------

_NPM_INSTALL = re.compile(r"\bnpm\s+(?:ci|install|i)\b")
_PNPM_INSTALL = re.compile(r"\bpnpm\s+(?:install|i|fetch|add)\b")
_YARN = re.compile(r"\byarn\b(?:\s+(?:install|workspaces\s+focus)\b)?")
_YARN_NOT_INSTALL = re.compile(r"\s+(?!install\b|workspaces\s+focus\b|--|-)[a-z][\w:-]*")

NPM_FLAGS = ["--prefer-offline", "--no-audit", "--maxsockets=1", "--fetch-retries=5",
             "--fetch-retry-maxtimeout=120000"]
PNPM_FLAGS = ["--network-concurrency=1", "--fetch-retries=5", "--fetch-retry-maxtimeout=120000"]
YARN1_FLAGS = ["--network-timeout=600000"]
YARN_BERRY_ENV = ["YARN_HTTP_TIMEOUT=600000", "YARN_NETWORK_CONCURRENCY=1"]


def _yarn_berry(s: Situation) -> bool:
    if any(re.search(r"\bYN\d{4}\b", line) for f in s.findings for line in f.excerpt):
        return True
    return any(p == ".yarnrc.yml" or p.endswith("/.yarnrc.yml") or "/.yarn/releases/" in f"/{p}"
               for p in s.repo_files)


def _flag_name(flag: str) -> str:
    return flag.split("=", 1)[0]


def _insert_flags(raw: str, match: re.Match, flags: list[str]) -> tuple[str, list[str]]:
    """Append the flags the command does not have yet right after the matched command words."""
    # The rest of this command (up to &&, ;, | or the end) decides which flags are present.
    tail = re.split(r"&&|\|\||;|\|", raw[match.end():], maxsplit=1)[0]
    missing = [f for f in flags if not re.search(rf"(?<![\w-]){re.escape(_flag_name(f))}(?![\w-])", tail)]
    if not missing:
        return raw, []
    return raw[:match.end()] + " " + " ".join(missing) + raw[match.end():], missing


def _find_yarn_install(raw: str, start: int) -> re.Match | None:
    for m in _YARN.finditer(raw, start):
        if m.group(0) != "yarn" or not _YARN_NOT_INSTALL.match(raw, m.end()):
            return m
    return None


def package_manager_network(s: Situation) -> Change:
    df, ins = s.require_instruction()
    if ins.cmd != "RUN" or ins.json:
        raise Decline("the failing step is not a shell RUN instruction")
    manager = {"npm-network": "npm", "yarn-network": "yarn", "pnpm-network": "pnpm"}.get(s.finding.signature)
    if manager is None:
        manager = next((m for m, p in (("pnpm", _PNPM_INSTALL), ("npm", _NPM_INSTALL)) if p.search(ins.original)),
                       "yarn" if _YARN.search(ins.original) else None)
    raw = edit.segment(df, ins)
    start = edit.run_command_start(raw) or 0
    if manager == "npm":
        match = _NPM_INSTALL.search(raw, start)
        added, label = NPM_FLAGS, "npm"
    elif manager == "pnpm":
        match = _PNPM_INSTALL.search(raw, start)
        added, label = PNPM_FLAGS, "pnpm"
    elif manager == "yarn":
        match = _find_yarn_install(raw, start)
        berry = _yarn_berry(s)
        added, label = ([], "yarn (berry)") if berry else (YARN1_FLAGS, "yarn 1")
    else:
        raise Decline("the failing step runs no npm, yarn or pnpm install")
    if match is None:
        raise Decline(f"the failing step (line {ins.start_line}) does not run a {manager} install itself "
                      f"(`{ins.original.strip()[:80]}`); set the network options where it does")
    if manager == "yarn" and berry:
        prefix = raw[:match.start()]
        missing = [e for e in YARN_BERRY_ENV if _flag_name(e) not in raw]
        new_raw = prefix + "".join(e + " " for e in missing) + raw[match.start():] if missing else raw
    else:
        new_raw, missing = _insert_flags(raw, match, added)
    if not missing:
        raise Decline(f"the {label} install already has these network settings")
    return Change(
        "package-manager-network", {df.path: edit.replace_segment(df, ins, new_raw)},
        [f"`{df.path}` line {ins.start_line}: the {label} install now runs with `{' '.join(missing)}`: "
         "fewer parallel sockets, longer timeouts and more retries."],
        ["These settings make slow or flaky registry fetches survivable; they do not make them faster. "
         "`--prefer-offline` only helps when a cache is warm: BuildKit cache mounts are not exported "
         "by `cache-to` on hosted runners, so do not count on one."] if manager == "npm" else
        ["These settings make slow or flaky registry fetches survivable; they do not make them faster."],
    )

"""Real-world benchmark: the fix engine over a directory of real repositories.

    python bench/real_world.py DIR [--verbose]

DIR holds one directory per repository (``owner__name``) with its workflows, Dockerfiles,
package.json and bake files as the maintainers wrote them (collected with the library's
``fetch``; not part of this repository). For each one the benchmark picks the first workflow
build of several platforms with linux/arm64 (a bake step's platforms and Dockerfile as its bake
files define them, read by the engine's own ``bot.bake``), writes a synthetic job log in which
that build's linux/arm64 leg died of an emulated SIGILL (``qemu: uncaught target signal 4``) at
the first JS install step of its Dockerfile (``npm ci``, ``yarn install``, ``pnpm install``...;
the first ``RUN`` when there is none), shaped like ``examples/logs/arm64-npm-ci-sigill.log``,
and runs the same engine as ``docker-build-fixer fix`` on it. Every result is checked
independently of the engine's own checks:

  crash      an exception other than "no remedy applies" (an internal error)
  invalid    a written workflow that does not re-parse or gains a GitHub schema error or a
             build `outputs` BuildKit rejects, a Dockerfile BuildKit cannot parse
  lost       a comment of the original that the result no longer has
  lint       new zizmor / actionlint findings compared with the original (``bot.lint``)
  remedy     the remedy chosen, or the decline

and the share of builds emulated today (an arm64 leg on an x86-64 runner) that get a remedy
removing emulation (build-on-buildplatform, github-builder, native-runners).
"""

from __future__ import annotations

import argparse
import collections
import csv
import re
import sys
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.bake import BakeError, read_step  # noqa: E402
from bot.config import ConfigError, parse_config  # noqa: E402
from bot.diagnosis import diagnose_bytes  # noqa: E402
from bot.dockerfile.model import DockerfileError  # noqa: E402
from bot.dockerfile.model import parse as parse_dockerfile  # noqa: E402
from bot.fix import FixRequest, NoFix, fix  # noqa: E402
from bot.locate import LocateError  # noqa: E402
from bot.repo import read_repo  # noqa: E402
from bot.validate import workflow_errors  # noqa: E402
from bot.workflows.model import Workflow  # noqa: E402
from bot.workflows.remote_builders import elsewhere  # noqa: E402
from bot.workflows.yamldoc import YamlError, comment_of, plain  # noqa: E402

REMOVES_EMULATION = {"build-on-buildplatform", "github-builder", "native-runners"}
JS_INSTALL = re.compile(r"\b(?:npm\s+(?:ci|install|i)\b|yarn(?:\s+install)?\b|pnpm\s+(?:install|i)\b|bun\s+install\b)")
ARM64 = re.compile(r"linux/arm64(?:/v8)?\b|\barm64\b|aarch64")
SIGILL = ["qemu: uncaught target signal 4 (Illegal instruction) - core dumped", "Illegal instruction (core dumped)"]


# -- the synthetic log ----------------------------------------------------------------------


def sigill_log(stage: str | None, instruction: str, index: str) -> bytes:
    """The job log of a two-platform build whose emulated linux/arm64 leg died at ``instruction``."""
    bracket = " ".join(p for p in ("linux/arm64", stage, index) if p)
    command = instruction.removeprefix("RUN ").split("\n")[0]
    lines = [
        "##[group]Runner Image", "Image: ubuntu-24.04", "##[endgroup]",
        "##[group]Run docker/setup-buildx-action@v3",
        "Platforms: linux/amd64, linux/amd64/v2, linux/arm64, linux/arm/v7", "##[endgroup]",
        f"#11 [{bracket}] {instruction}",
        *[f"#11 {12.5 + i:.3f} {line}" for i, line in enumerate(SIGILL)],
        f'#11 ERROR: process "/bin/sh -c {command}" did not complete successfully: exit code: 132',
        "------", f" > [{bracket}] {instruction}:", "------",
        f'ERROR: failed to solve: process "/bin/sh -c {command}" did not complete successfully: exit code: 132',
    ]
    return ("\n".join(f"2026-11-20T09:14:{i % 60:02d}.0000000Z {line}" for i, line in enumerate(lines)) + "\n").encode()


def first_install(dockerfile) -> tuple[str | None, str, str, bool]:
    """(stage name, instruction as BuildKit prints it, "k/n", is a JS install) of the first JS
    install RUN, else of the first RUN."""
    # A stage already on $BUILDPLATFORM runs natively: an emulated crash happens elsewhere.
    runs = [(st, i) for st in dockerfile.stages for i in st.instructions
            if i.cmd == "RUN" and "BUILDPLATFORM" not in (st.platform_flag or "")]
    if not runs:
        raise LookupError("no RUN instruction")
    js = [(st, i) for st, i in runs if JS_INSTALL.search(i.original)]
    stage, ins = (js or runs)[0]
    position = stage.instructions.index(ins) + 1
    shown = ins.original.split("\n", 1)[0] if ins.heredoc else " ".join(ins.original.split())
    return stage.name or (f"stage-{stage.index}" if len(dockerfile.stages) > 1 else None), shown, \
        f"{position}/{len(stage.instructions)}", bool(js)


# -- picking the build ----------------------------------------------------------------------


def build_platforms(build, repo) -> list[str] | None:
    """The build's platforms: from the workflow, else (bake) as its bake files define them; None
    when they cannot be known."""
    if build.platforms is not None or build.kind != "bake-action":
        return build.platforms
    try:
        return read_step(build.workflow, build, repo.bake_files, repo.paths).platforms or []
    except BakeError:
        return None


def build_dockerfile(build, repo) -> str | None:
    if build.dockerfile is not None or build.kind != "bake-action":
        return build.dockerfile
    try:
        found = {t.dockerfile for t in read_step(build.workflow, build, repo.bake_files, repo.paths).targets}
    except BakeError:
        return None
    return found.pop() if len(found) == 1 else None


def arm64_build(workflows: dict[str, str], repo):
    """The first build of several platforms with arm64, as (workflow path, build). A bake step's
    platforms are its targets' (a lint or test target of the same bake file builds the runner's
    platform only, and is not the image build)."""
    candidates = []
    for path in sorted(workflows):
        try:
            workflow = Workflow.parse(path, workflows[path])
        except (YamlError, ValueError):
            continue
        for build in workflow.builds:
            platforms = build_platforms(build, repo)
            if platforms and len(platforms) > 1 and any(ARM64.search(p) for p in platforms):
                rank = 0
            elif platforms is None and ARM64.search(str(plain(build.job))):
                rank = 1
            else:
                continue
            candidates.append((rank, path, build))
    candidates.sort(key=lambda c: c[0])
    return (candidates[0][1], candidates[0][2]) if candidates else (None, None)


def emulated_today(build) -> bool:
    """Does the arm64 leg run on an x86-64 runner? (An Arm label in the job means native; so does
    a remote builder with native Arm machines building it, such as Depot's, beside a build of the
    runner's platform only.)"""
    if elsewhere(build, "linux/arm64"):
        return False
    job = plain(build.job)
    runs_on = str(job.get("runs-on", ""))
    matrix = str((job.get("strategy") or {}).get("matrix", "")) if isinstance(job.get("strategy"), dict) else ""
    return not re.search(r"arm", runs_on + (matrix if "matrix" in runs_on else ""), re.IGNORECASE)


# -- independent checks ---------------------------------------------------------------------


def comments(text: str, yaml: bool) -> collections.Counter:
    """Comment texts of a file (YAML: outside quotes; Dockerfile: comment lines)."""
    found = collections.Counter()
    for line in text.splitlines():
        if not yaml:
            if line.lstrip().startswith("#"):
                found[line.strip()] += 1
        elif (comment := comment_of(line)) is not None:
            found[comment] += 1
    return found


def check(originals: dict[str, str], files: dict[str, str]) -> tuple[list[str], list[str], list[str], list[str]]:
    invalid, lost, lint, removed = [], [], [], []
    for path, text in files.items():
        old = originals.get(path, "")
        is_workflow = path.startswith(".github/workflows/")
        if is_workflow:
            added = ((workflow_errors(path, text) | exporter_errors(text))
                     - (workflow_errors(path, old) | exporter_errors(old)))
            invalid += [f"{path}: {e}" for e in sorted(added)]
            lint += [f"{path}: {f}" for f in new_lint(path, old, text)]
        else:
            try:
                parse_dockerfile(path, text)
            except DockerfileError as exc:
                invalid.append(str(exc))
        missing = comments(old, is_workflow) - comments(text, is_workflow)
        gone = removed_step_comments(old, text) if is_workflow else set()
        lost += [f"{path}: {c}" for c in missing if c not in gone]
        removed += [f"{path}: {c}" for c in missing if c in gone]
    return invalid, lost, lint, removed


def exporter_errors(text: str) -> set[str]:
    """What BuildKit would reject in a docker/build-push-action step's `outputs`: a field of its
    CSV that is not key=value (several names unquoted), or a tagged name pushed by digest."""
    errors = set()
    try:
        jobs = (plain(Workflow.parse("w.yml", text).root).get("jobs") or {}).items()
    except (YamlError, ValueError):
        return errors
    for job_id, job in jobs:
        for step in (job.get("steps") or []) if isinstance(job, dict) else []:
            outputs = (step.get("with") or {}).get("outputs") if isinstance(step, dict) else None
            if not str(step.get("uses", "")).startswith("docker/build-push-action") or not isinstance(outputs, str):
                continue
            for line in filter(None, (o.strip() for o in outputs.split("\n"))):
                fields = next(csv.reader([line]))
                bad = [f for f in fields if "=" not in f]
                if bad:
                    errors.add(f"job `{job_id}`: outputs field `{bad[0]}` is not key=value")
                values = dict(f.split("=", 1) for f in fields if "=" in f)
                if values.get("push-by-digest") == "true":
                    for name in values.get("name", "").split(","):
                        if "${{" not in name and ":" in name.rsplit("/", 1)[-1]:
                            errors.add(f"job `{job_id}`: `{name}` is pushed by digest with a tag")
    return errors


PINNED_USES = re.compile(r"\s*(?:-\s+)?uses:\s*\S+@\S+\s+(#\s*(?:tag=)?v?\d+(?:\.\d+)*\S*)\s*$")


def removed_step_comments(old: str, new: str) -> set[str]:
    """Comments on or just above a QEMU step the remedy removed on purpose (no leg emulates),
    and version comments of pinned `uses:` lines the remedy removed: they describe that step
    or pin and go with it; counted apart from lost comments."""
    kept_lines = {line.strip() for line in new.splitlines()}
    found = {m.group(1) for line in old.splitlines()
             if (m := PINNED_USES.match(line)) and line.strip() not in kept_lines}
    if new.count("setup-qemu-action") >= old.count("setup-qemu-action"):
        return found
    lines = old.splitlines()
    for i, line in enumerate(lines):
        if "setup-qemu-action" in line:
            for near in lines[max(0, i - 3):i + 1]:
                if "#" in near:
                    found.add(near[near.index("#"):].strip())
    return found


def new_lint(path: str, old: str, new: str) -> list[str]:
    try:
        from bot.lint import new_findings
    except ImportError:
        return _zizmor_only(path, old, new)
    return [str(f) for f in new_findings(path, old, new)]


def _zizmor_only(path: str, old: str, new: str) -> list[str]:
    """Before the linter harness: zizmor's offline audits, compared by rule and source line."""
    import json
    import shutil
    import subprocess
    import tempfile

    binary = shutil.which("zizmor") or str(Path(sys.executable).parent / "zizmor")
    if not Path(binary).exists():
        return []

    def run(text: str) -> set[tuple[str, str]]:
        with tempfile.TemporaryDirectory() as tmp:
            target = Path(tmp) / ".github" / "workflows" / "w.yml"
            target.parent.mkdir(parents=True)
            target.write_text(text)
            out = subprocess.run([binary, "--offline", "--no-config", "--no-exit-codes", "--no-progress",
                                  "--format", "json", str(target)], capture_output=True, text=True)
        found = set()
        for result in json.loads(out.stdout or "[]"):
            for loc in result.get("locations", [])[:1]:
                found.add((result.get("ident"), loc.get("concrete", {}).get("feature", "").strip().split("\n")[0]))
        return found

    return [f"zizmor {rule}: `{text}`" for rule, text in sorted(run(new) - run(old))]


# -- the run --------------------------------------------------------------------------------


def bench_repo(repo_dir: Path) -> dict:
    row = {"repo": repo_dir.name, "crash": "", "invalid": [], "lost": [], "lint": [], "removed": [], "remedy": "",
           "why": "", "emulated": None, "js": False}
    try:
        repo = read_repo(str(repo_dir))
        path, build = arm64_build(repo.workflows, repo)
        if build is None:
            row["why"] = "no multi-platform arm64 build in the workflows"
            return row
        row["workflow"] = path
        dockerfile = build_dockerfile(build, repo)
        candidates = [dockerfile] if dockerfile in repo.dockerfiles else sorted(
            repo.dockerfiles, key=lambda p: (p.count("/"), p != "Dockerfile", p))
        target = None
        for candidate in candidates:
            try:
                target = (candidate, first_install(parse_dockerfile(candidate, repo.dockerfiles[candidate])))
                break
            except (DockerfileError, LookupError):
                continue
        if target is None:
            row["why"] = "no Dockerfile with a RUN outside $BUILDPLATFORM stages"
            return row
        stage, instruction, index, row["js"] = target[1]
        row["emulated"] = emulated_today(build)  # with a RUN that runs emulated
        log = sigill_log(stage, instruction, index)
        request = FixRequest(findings=diagnose_bytes(log, "job.log"), workflows=repo.workflows,
                             dockerfiles=repo.dockerfiles, config=parse_config(repo.config),
                             repo_files=repo.paths, bake_files=repo.bake_files, workflow=path)
        try:
            result = fix(request)
        except NoFix as exc:
            row["remedy"], row["why"] = "-", str(exc)
            return row
        row["remedy"] = result.remedy + (f" (+{', '.join(result.companions)})" if result.companions else "")
        row["main"] = result.remedy
        row["why"] = "; ".join(f"{r}: {why}" for r, why in result.declined.items())
        row["invalid"], row["lost"], row["lint"], row["removed"] = check(result.originals, result.files)
    except (LocateError, ConfigError) as exc:
        row["remedy"], row["why"] = "-", f"bad input: {exc}"
    except Exception as exc:  # noqa: BLE001 - counting internal errors is the point
        row["crash"] = f"{type(exc).__name__}: {exc}"
        row["trace"] = traceback.format_exc()
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dir", type=Path)
    parser.add_argument("--verbose", "-v", action="store_true", help="print declines, findings and traces")
    args = parser.parse_args()
    if not args.dir.is_dir():
        print(f"real_world: {args.dir} is not a directory", file=sys.stderr)
        return 2
    rows = [bench_repo(d) for d in sorted(p for p in args.dir.iterdir() if p.is_dir())]
    for row in rows:
        flags = [f"CRASH {row['crash']}" if row["crash"] else "",
                 f"INVALID {len(row['invalid'])}" if row["invalid"] else "",
                 f"LOST {len(row['lost'])}" if row["lost"] else "",
                 f"LINT {len(row['lint'])}" if row["lint"] else ""]
        emulated = {True: "emulated", False: "native  ", None: "n/a     "}[row["emulated"]]
        print(f"{row['repo'][:42]:42} {emulated} {row['remedy'] or '-':40} {' '.join(f for f in flags if f)}")
        if args.verbose:
            for key in ("why", "invalid", "lost", "removed", "lint", "trace"):
                if row.get(key):
                    print(f"    {key}: {row[key]}")
    emulated = [r for r in rows if r["emulated"]]
    removed = [r for r in emulated if r.get("main") in REMOVES_EMULATION]
    remedies = collections.Counter(r.get("main") or "declined" for r in rows if r.get("workflow"))
    print()
    print(f"repositories: {len(rows)}; with a multi-platform arm64 build: {sum(1 for r in rows if r.get('workflow'))}; "
          f"JS install in the Dockerfile: {sum(1 for r in rows if r['js'])}")
    print(f"crashes: {sum(1 for r in rows if r['crash'])}; invalid results: {sum(1 for r in rows if r['invalid'])}; "
          f"lost comments: {sum(len(r['lost']) for r in rows)} (and {sum(len(r['removed']) for r in rows)} removed with "
          f"the QEMU step they describe); new linter findings: {sum(len(r['lint']) for r in rows)}")
    print("remedies: " + ", ".join(f"{k} {v}" for k, v in remedies.most_common()))
    share = f"{100 * len(removed) / len(emulated):.0f}%" if emulated else "n/a"
    print(f"emulated arm64 builds: {len(emulated)}; emulation removed: {len(removed)} ({share})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

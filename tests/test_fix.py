"""The fix engine on fixture repositories: each remedy's golden diff, the validators, and
every decline with its message. Set UPDATE_GOLDEN=1 to rewrite the golden files (then read
them: they are what a maintainer would review)."""

import difflib
import os
from pathlib import Path

import pytest

from bot import lint
from bot.fix import NoFix
from bot.validate import check_dockerfile, check_workflow, workflow_errors
from bot.workflows.yamldoc import load, plain

from .repos import DOCKERFILES, NODE_SITE, REUSABLE_CALLEE, REUSABLE_CALLER, SIGILL, WF, WORKFLOWS, buildx_log, run, sigill_log

GOLDEN = Path(__file__).parent / "golden"
LINTERS = ("zizmor", "actionlint")


def golden(name: str, diff: str) -> None:
    path = GOLDEN / f"{name}.diff"
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.mkdir(exist_ok=True)
        path.write_bytes(diff.encode())
    assert path.exists(), f"no golden file {path.name}: run with UPDATE_GOLDEN=1 and review it"
    assert diff == path.read_bytes().decode()


def assert_valid(result) -> None:
    for path, text in result.files.items():
        old = result.originals[path]
        if path.startswith(".github/workflows/"):
            check_workflow(path, old, text)
            assert not workflow_errors(path, text), f"{path} fails the workflow schema"
            # Both linters, required here (never skipped in tests): nothing the original did not have.
            assert lint.new_findings(path, old, text, LINTERS) == []
        else:
            check_dockerfile(path, old, text)


def only_owned_lines_changed(old: str, new: str, most: int) -> None:
    """Every line of the original survives byte for byte, but for at most ``most`` it replaces."""
    matcher = difflib.SequenceMatcher(a=old.splitlines(keepends=True), b=new.splitlines(keepends=True),
                                      autojunk=False)
    lost = sum(i2 - i1 for tag, i1, i2, _, _ in matcher.get_opcodes() if tag in ("replace", "delete"))
    assert lost <= most, f"{lost} original lines changed"


WORKFLOW_REMEDIES = {"pin-qemu": 1, "timeout-minutes": 0, "drop-platform": 3}
EDITABLE = [name for name in WORKFLOWS if name not in (
    "bake", "shell-buildx", "reusable-remote", "script-only", "platform-matrix", "computed-platforms",
    "no-buildx", "load-multi", "has-timeout")]


@pytest.mark.parametrize("remedy", WORKFLOW_REMEDIES)
@pytest.mark.parametrize("shape", EDITABLE)
def test_workflow_remedy_on_every_shape(shape, remedy):
    workflows = {WF: WORKFLOWS[shape]}
    config = "remedies: {drop-platform: true}\n" if remedy == "drop-platform" else None
    result = run(workflows, {"Dockerfile": NODE_SITE}, sigill_log(), config=config, remedy=remedy)
    assert result.remedy == remedy
    assert list(result.files) == [WF]
    assert_valid(result)
    only_owned_lines_changed(WORKFLOWS[shape], result.files[WF], WORKFLOW_REMEDIES[remedy])
    golden(f"workflow-{shape}-{remedy}", result.diff)
    # Applying it again changes nothing: the result is a fixed point.
    with pytest.raises(NoFix):
        run({WF: result.files[WF]}, {"Dockerfile": NODE_SITE}, sigill_log(), config=config, remedy=remedy)


def test_drop_platform_keeps_the_data_but_the_platform():
    for shape in ("comma-spaces", "folded-block", "literal-block", "workflow-env", "job-env", "flow-with"):
        result = run({WF: WORKFLOWS[shape]}, {"Dockerfile": NODE_SITE}, sigill_log(),
                     config="remedies: {drop-platform: true}\n", remedy="drop-platform")
        before, after = plain(load(WORKFLOWS[shape])), plain(load(result.files[WF]))
        assert str(after).count("linux/arm64") == 0 and str(after).count("linux/amd64") == 1
        assert before.keys() == after.keys()


def test_evidence_policy_builds_on_buildplatform():
    result = run({WF: WORKFLOWS["comma-no-spaces"]}, {"Dockerfile": NODE_SITE}, sigill_log())
    assert (result.signature, result.remedy, result.next_remedy) == ("qemu-sigill", "build-on-buildplatform",
                                                                     "github-builder")
    assert "## Why this change" in result.explanation and "qemu: uncaught target signal 4" in result.explanation
    golden("dockerfile-node-site-build-on-buildplatform", result.diff)


DOCKERFILE_CASES = {
    # shape: (log instruction, stage, expected remedy under the evidence policy, forced remedy or None)
    "node-site": ("RUN npm ci", "build", "build-on-buildplatform", None),
    "lowercase-as": ("RUN npm ci", "build", "build-on-buildplatform", None),
    "arg-before-from": ("RUN npm ci", "build", "build-on-buildplatform", None),
    "digest-pinned": ("RUN npm ci", "build", "build-on-buildplatform", None),
    "cache-mount-continuation": ("RUN --mount=type=cache,target=/root/.npm     npm ci       --include=dev",
                                 "build", "build-on-buildplatform", None),
    "heredoc": ("RUN <<EOF (set -e...)", "build", "build-on-buildplatform", None),
    "go-cross": ("RUN CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH go build -o /out/server ./cmd/server",
                 "build", "build-on-buildplatform", None),
    "crlf": ("RUN npm ci", "build", "build-on-buildplatform", None),
    "single-stage": ("RUN npm ci && npm run build", None, "node-heap", "node-heap"),
    "cache-mount-continuation-heap": ("RUN --mount=type=cache,target=/root/.npm     npm ci       --include=dev",
                                      "build", "node-heap", "node-heap"),
    "yarn1": ("RUN yarn install --frozen-lockfile", "build", "package-manager-network", "package-manager-network"),
    "yarn-berry": ("RUN corepack enable && yarn install --immutable", "build", "package-manager-network",
                   "package-manager-network"),
    "pnpm": ("RUN --mount=type=cache,id=pnpm,target=/pnpm/store pnpm install --frozen-lockfile", "build",
             "package-manager-network", "package-manager-network"),
    "cache-mount-continuation-network": ("RUN --mount=type=cache,target=/root/.npm     npm ci       --include=dev",
                                         "build", "package-manager-network", "package-manager-network"),
}


@pytest.mark.parametrize("case", DOCKERFILE_CASES)
def test_dockerfile_shapes(case):
    instruction, stage, expected, forced = DOCKERFILE_CASES[case]
    shape = case.removesuffix("-heap").removesuffix("-network")
    dockerfile = DOCKERFILES[shape]
    paths = (".yarnrc.yml",) if shape == "yarn-berry" else ()
    result = run({WF: WORKFLOWS["comma-no-spaces"]}, {"Dockerfile": dockerfile},
                 sigill_log(instruction, stage), remedy=forced, paths=paths)
    assert result.remedy == expected
    assert list(result.files) == ["Dockerfile"]
    assert_valid(result)
    only_owned_lines_changed(dockerfile, result.files["Dockerfile"], 1)
    golden(f"dockerfile-{case}-{expected}", result.diff)
    with pytest.raises(NoFix):
        run({WF: WORKFLOWS["comma-no-spaces"]}, {"Dockerfile": result.files["Dockerfile"]},
            sigill_log(instruction, stage), remedy=expected, paths=paths)


def test_node_heap_in_a_build_stage_is_an_env_and_in_the_final_stage_inline():
    build_stage = run({WF: WORKFLOWS["comma-no-spaces"]}, {"Dockerfile": NODE_SITE},
                      sigill_log("RUN npm run build"), remedy="node-heap")
    assert "+ENV NODE_OPTIONS=--max-old-space-size=4096\n" in build_stage.diff
    final = run({WF: WORKFLOWS["comma-no-spaces"]}, {"Dockerfile": DOCKERFILES["single-stage"]},
                sigill_log("RUN npm ci && npm run build", None), remedy="node-heap",
                config="node-max-old-space-size: 6144\n")
    assert "+RUN export NODE_OPTIONS=--max-old-space-size=6144 && npm ci && npm run build\n" in final.diff
    assert "ENV" not in final.diff


DECLINES = {
    "copies-node-modules": ("build-on-buildplatform", "copies /app/node_modules"),
    "copies-whole-app": ("build-on-buildplatform", "copies /app out of"),
    "from-build-stage": ("build-on-buildplatform", "is built FROM stage `build`"),
    "already-buildplatform": ("build-on-buildplatform", "already has `--platform=$BUILDPLATFORM`"),
    "go-native": ("build-on-buildplatform", "copies /out/server"),
    "single-stage": ("build-on-buildplatform", "final stage"),
    "single-stage-exec-form": ("node-heap", "not a plain shell RUN"),
    "maven-frontend": ("package-manager-network", "does not run a npm install itself"),
}
DECLINE_INSTRUCTIONS = {"go-native": ("RUN go build -o /out/server ./cmd/server", "build"),
                        "single-stage": ("RUN npm ci && npm run build", None),
                        "single-stage-exec-form": ('RUN ["npm", "run", "build"]', None),
                        "maven-frontend": ("RUN mvn -B package -DskipTests", "build")}


@pytest.mark.parametrize("shape", DECLINES)
def test_dockerfile_declines_say_why(shape):
    remedy, message = DECLINES[shape]
    instruction, stage = DECLINE_INSTRUCTIONS.get(shape, ("RUN npm ci", "build"))
    log = sigill_log(instruction, stage) if remedy != "package-manager-network" else buildx_log(
        "linux/arm64", stage, instruction, ["[INFO] npm ERR! code ECONNRESET"], 1)
    with pytest.raises(NoFix) as caught:
        run({WF: WORKFLOWS["comma-no-spaces"]}, {"Dockerfile": DOCKERFILES[shape]}, log, remedy=remedy)
    assert message in str(caught.value)


WORKFLOW_DECLINES = {
    # shape, remedy, message
    "computed": ("computed-platforms", "drop-platform", "is computed at run time"),
    "matrix": ("platform-matrix", "drop-platform", "come from the job's matrix"),
    "shell": ("shell-buildx", "drop-platform", "from `--platform` in a shell command"),
    "bake": ("bake", "drop-platform", "set in the bake file"),
    "timeout-present": ("has-timeout", "timeout-minutes", "already has `timeout-minutes: 30`"),
    "buildx-present": ("comma-no-spaces", "add-buildx", "already sets up buildx"),
    "no-load": ("comma-no-spaces", "load-single-platform", "does not set `load: true`"),
    "remote-reusable": ("reusable-remote", "pin-qemu", "no workflow step builds an image"),
    "script": ("script-only", "pin-qemu", "no workflow step builds an image"),
}


@pytest.mark.parametrize("case", WORKFLOW_DECLINES)
def test_workflow_declines_say_why(case):
    shape, remedy, message = WORKFLOW_DECLINES[case]
    with pytest.raises(NoFix) as caught:
        run({WF: WORKFLOWS[shape]}, {"Dockerfile": NODE_SITE}, sigill_log(),
            config="remedies: {drop-platform: true}\n", remedy=remedy)
    assert message in str(caught.value)


def test_docker_driver_adds_buildx():
    log = b"ERROR: Multi-platform build is not supported for the docker driver.\n"
    result = run({WF: WORKFLOWS["no-buildx"]}, {"Dockerfile": NODE_SITE}, log)
    assert (result.remedy, result.next_remedy) == ("add-buildx", None)
    assert_valid(result)
    golden("workflow-no-buildx-add-buildx", result.diff)


def test_manifest_list_export_loads_one_platform():
    log = b"ERROR: docker exporter does not currently support exporting manifest lists\n"
    result = run({WF: WORKFLOWS["load-multi"]}, {"docker/Dockerfile": NODE_SITE}, log)
    assert result.remedy == "load-single-platform"
    assert_valid(result)
    golden("workflow-load-multi-load-single-platform", result.diff)


def test_reusable_workflow_is_edited_where_the_build_is():
    workflows = {".github/workflows/build.yml": REUSABLE_CALLEE, ".github/workflows/release.yml": REUSABLE_CALLER}
    result = run(workflows, {"Dockerfile": NODE_SITE}, sigill_log(), remedy="pin-qemu")
    assert list(result.files) == [".github/workflows/build.yml"]
    assert_valid(result)
    with pytest.raises(NoFix) as caught:
        run(workflows, {"Dockerfile": NODE_SITE}, sigill_log(), config="remedies: {drop-platform: true}\n",
            remedy="drop-platform")
    assert "`${{ inputs.platforms }}` is computed at run time" in str(caught.value)


def test_timeout_companion_after_a_wedged_crash():
    log = sigill_log() + b"2026-01-05T10:31:00.0000000Z ##[error]The operation was canceled.\n"
    result = run({WF: WORKFLOWS["comma-no-spaces"]}, {"Dockerfile": NODE_SITE}, log)
    assert (result.remedy, result.companions) == ("build-on-buildplatform", ["timeout-minutes"])
    assert set(result.files) == {WF, "Dockerfile"}
    assert_valid(result)


def test_minimal_policy_bundle():
    result = run({WF: WORKFLOWS["comma-no-spaces"]}, {"Dockerfile": NODE_SITE}, sigill_log(), policy="minimal")
    assert (result.remedy, result.companions) == ("pin-qemu", ["node-heap", "package-manager-network"])
    assert result.next_remedy == "platform-matrix"
    assert_valid(result)
    golden("minimal-bundle", result.diff)


def test_skip_climbs_the_ladder():
    # build-on-buildplatform tried; github-builder follows, then native-runners, on github.com.
    base = dict(workflows={WF: WORKFLOWS["comma-no-spaces"]}, dockerfiles={"Dockerfile": NODE_SITE}, log=sigill_log())
    assert run(**base, skip=("build-on-buildplatform",), private=True).remedy == "github-builder"
    base["skip"] = ("build-on-buildplatform", "github-builder")
    private = run(**base, private=True)
    assert (private.remedy, private.next_remedy) == ("native-runners", "pin-qemu")  # github.com: Arm for private too
    assert "2 vCPU / 8 GB" in private.explanation and "at the Arm rate" in private.explanation
    public = run(**base)
    assert "4 vCPU / 16 GB" in public.explanation and "Arm rate" not in public.explanation
    ghes = run(**base, ghes=True)
    assert ghes.remedy == "pin-qemu"  # no hosted Arm runner on GitHub Enterprise Server
    assert ghes.next_remedy == "platform-matrix"
    assert "GitHub Enterprise Server has no hosted Arm runners" in ghes.declined["native-runners"]
    labelled = run(**base, ghes=True, config="arm-runner: arm64-large\n")
    assert labelled.remedy == "native-runners" and "runner: arm64-large" in labelled.files[WF]
    assert "`arm64-large`, the runner the config names" in labelled.explanation


@pytest.mark.parametrize("platform", ["linux/arm/v7", "linux/arm/v6"])
@pytest.mark.parametrize("failure", [("RUN npm ci", SIGILL, 132),
                                     ("RUN cargo fetch", ["Value too large for defined data type"], 101),
                                     ("RUN cargo build", ["Couldn't allocate enough memory"], 1)])
def test_arm32_runs_natively_on_the_arm64_runner(platform, failure):
    instruction, body, code = failure
    log = buildx_log(platform, "build", instruction, body, code)
    dockerfile = NODE_SITE.replace("RUN npm ci", instruction)
    workflow = WORKFLOWS["comma-no-spaces"].replace("linux/arm64", platform)
    config = "remedies: {drop-platform: true}\n"
    assert run({WF: workflow}, {"Dockerfile": dockerfile}, log, config=config).remedy == "github-builder"
    result = run({WF: workflow}, {"Dockerfile": dockerfile}, log, config=config + "restructure: matrix\n")
    assert (result.remedy, result.next_remedy) == ("native-runners", "pin-qemu")
    new = plain(load(result.files[WF]))
    legs = {leg["platform"]: leg for leg in new["jobs"]["image"]["strategy"]["matrix"]["include"]}
    assert legs[platform]["runner"] == "ubuntu-24.04-arm" and "qemu" not in legs[platform]
    assert not [s for s in new["jobs"]["image"]["steps"] if "setup-qemu" in str(s.get("uses"))]  # QEMU off
    # Where no native runner can be had (GHES, no label): the QEMU pin, then dropping the platform.
    ghes = run({WF: workflow}, {"Dockerfile": dockerfile}, log, config=config, ghes=True)
    assert (ghes.remedy, ghes.next_remedy) == ("pin-qemu", "drop-platform")


def test_no_finding_and_disabled_config():
    with pytest.raises(NoFix, match="no known multi-platform build failure"):
        run({WF: WORKFLOWS["comma-no-spaces"]}, {"Dockerfile": NODE_SITE}, b"all good\n")
    with pytest.raises(NoFix, match="enabled: false"):
        run({WF: WORKFLOWS["comma-no-spaces"]}, {"Dockerfile": NODE_SITE}, sigill_log(), config="enabled: false\n")


def test_instruction_not_in_the_dockerfile():
    with pytest.raises(NoFix) as caught:
        run({WF: WORKFLOWS["comma-no-spaces"]}, {"Dockerfile": NODE_SITE}, sigill_log("RUN make all"),
            remedy="node-heap")
    assert "`RUN make all` from the log was not found in Dockerfile" in str(caught.value)


def test_chooses_the_workflow_by_evidence():
    other = WORKFLOWS["comma-no-spaces"].replace("linux/amd64,linux/arm64", "linux/amd64,linux/s390x").replace(
        "context: .", "context: ./api")
    workflows = {".github/workflows/api.yml": other, WF: WORKFLOWS["comma-no-spaces"]}
    result = run(workflows, {"Dockerfile": NODE_SITE, "api/Dockerfile": "FROM alpine\nRUN true\n"}, sigill_log(),
                 remedy="pin-qemu")
    assert list(result.files) == [WF]
    assert "because it builds linux/arm64" in result.explanation


def test_the_failing_workflow_calls_the_one_that_builds():
    workflows = {".github/workflows/build.yml": REUSABLE_CALLEE, ".github/workflows/release.yml": REUSABLE_CALLER}
    result = run(workflows, {"Dockerfile": NODE_SITE}, sigill_log(), remedy="pin-qemu",
                 workflow=".github/workflows/release.yml")
    assert list(result.files) == [".github/workflows/build.yml"]


def test_a_build_outside_workflows_still_gets_dockerfile_remedies():
    composite = WORKFLOWS["script-only"].replace("run: ./scripts/build-image.sh", "uses: ./.github/actions/image")
    result = run({WF: composite}, {"Dockerfile": NODE_SITE, "other/Dockerfile": "FROM alpine\nRUN true\n"},
                 sigill_log())
    assert (result.remedy, list(result.files)) == ("build-on-buildplatform", ["Dockerfile"])
    assert "is the one Dockerfile with `RUN npm ci`" in result.explanation
    with pytest.raises(NoFix, match="no workflow step builds an image"):
        run({WF: composite}, {"Dockerfile": NODE_SITE}, sigill_log(), remedy="pin-qemu")


def test_the_explanation_names_what_was_passed_over():
    dockerfile = NODE_SITE.replace("COPY --from=build /app/dist /usr/share/nginx/html",
                                   "COPY --from=build /app/node_modules ./node_modules")
    result = run({WF: WORKFLOWS["comma-no-spaces"]}, {"Dockerfile": dockerfile}, sigill_log())
    assert result.remedy == "github-builder"
    assert "Passed over, earlier on the ladder: `build-on-buildplatform` (" in result.explanation
    assert "copies /app/node_modules" in result.explanation

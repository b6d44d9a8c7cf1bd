"""``github-builder`` for docker/bake-action builds (issue 11): the job becomes a call of
docker/github-builder's bake.yml with the step's one target, files, `set:` lines, Git context
subdirectory, the bake variables its environment sets, the metadata (or the tags written out),
push, cache and logins mapped to its inputs (golden diffs, schema, zizmor and actionlint), and a
decline naming what has no counterpart; generated bake steps give a call or a decline, never an
internal error."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.fix import NoFix
from bot.versions import pin
from bot.workflows.yamldoc import load, plain

from .bake_shapes import BUILDER_SHAPES, HCL_REPO, JSON_REPO, META_TARGET_REPO, WORKDIR_REPO
from .repos import sigill_log
from .repos import run as run_engine
from .test_fix import assert_valid, golden

WF = ".github/workflows/docker.yml"
BAKE_YML = pin("docker/github-builder/.github/workflows/bake.yml")
# The inputs of bake.yml at the pinned release (v1.17.0, `on.workflow_call.inputs`): the call
# may give no other.
BAKE_YML_INPUTS = {
    "runner", "distribute", "fail-fast", "job-name-prefix", "setup-qemu", "artifact-name", "artifact-upload",
    "artifact-retention-days", "cache", "cache-scope", "cache-mode", "context", "files", "output", "push", "sbom",
    "set", "sign", "target", "vars", "registry-identities", "set-meta-annotations", "set-meta-labels",
    "meta-images", "meta-tags", "meta-flavor", "meta-labels", "meta-annotations", "meta-bake-target"}
JOB = {"hcl-meta": "image", "json-tags": "bake", "workdir-vars-set-cache": "release", "meta-bake-target": "image"}


def run(repo: dict, workflow: str | None = None, bake: dict | None = None, **options):
    workflows = {WF: workflow} if workflow is not None else repo["workflows"]
    bake = repo["bake"] if bake is None else bake
    return run_engine(workflows, repo["dockerfiles"], sigill_log("RUN npm ci"), bake_files=bake, paths=tuple(bake),
                      **options)


def call(result, job: str) -> dict:
    return plain(load(result.files[WF]))["jobs"][job]


@pytest.mark.parametrize("shape", BUILDER_SHAPES)
def test_bake_builds_call_bake_yml(shape):
    repo = BUILDER_SHAPES[shape]
    result = run(repo)
    assert result.remedy == "github-builder", result.declined  # first on the ladder where it fits
    assert_valid(result)  # schema, and no new zizmor or actionlint finding
    new = call(result, JOB[shape])
    assert new["uses"] == BAKE_YML.uses and f"{BAKE_YML.uses} # {BAKE_YML.version}" in result.files[WF]
    assert set(new["with"]) <= BAKE_YML_INPUTS and new["with"]["output"] == "image"
    assert {"runs-on", "steps", "env"}.isdisjoint(new)
    assert new["permissions"]["contents"] == "read" and new["permissions"]["id-token"] == "write"
    old = plain(load(repo["workflows"][WF]))
    for other in old["jobs"]:  # the rest of the workflow is as it was
        if other != JOB[shape]:
            assert plain(load(result.files[WF]))["jobs"][other] == old["jobs"][other]
    golden(f"github-builder-bake-{shape}", result.diff)
    try:  # a fixed point: the call is not built on again (another job's bake step may be fixed)
        again = run(repo, result.files[WF])
    except NoFix as exc:
        assert "no workflow step building this image" in str(exc)
    else:
        assert call(again, JOB[shape]) == new and f"job `{JOB[shape]}`" not in again.explanation


def test_the_inputs_are_the_steps():
    hcl = call(run(HCL_REPO), "image")
    # One target of the group-free step; the metadata step's bake file becomes bake.yml's own
    # metadata run (`bake-file` is its tags and labels).
    assert hcl["with"] == {
        "output": "image", "target": "image-all", "push": "${{ github.event_name != 'pull_request' }}",
        "meta-images": "ghcr.io/acme/app", "meta-tags": "type=ref,event=branch\ntype=semver,pattern={{version}}\n",
        "set-meta-labels": True}
    assert hcl["permissions"] == {"contents": "read", "id-token": "write", "packages": "write"}
    assert hcl["secrets"]["registry-auths"] == ("- registry: ghcr.io\n  username: ${{ github.actor }}\n"
                                                "  password: ${{ secrets.GITHUB_TOKEN }}\n")
    assert hcl["needs"] == ["validate", "test"]

    json_ = call(run(JSON_REPO), "bake")  # bake.yml's default file is docker-bake.hcl: the JSON one is named
    assert json_["with"] == {"output": "image", "files": "docker-bake.json\n", "target": "site", "push": True,
                             "meta-images": "ghcr.io/acme/site", "meta-tags": "type=raw,value=latest\ntype=raw,value=1\n"}

    result = run(WORKDIR_REPO)
    release = call(result, "release")
    assert release["with"] == {
        "output": "image", "context": "docker", "files": "docker-bake.hcl\ndocker-bake.override.hcl\n",
        "target": "release", "set": "*.args.BUILD_REF=${{ github.sha }}\n",
        # A reusable workflow does not inherit the caller's environment: the bake variables it set.
        "vars": "NODE_VERSION=22\nCHANNEL=${{ github.ref_name }}\n",
        "push": True, "cache": True, "cache-mode": "max", "cache-scope": "tool",
        "meta-images": "docker.io/acme/tool", "meta-tags": "type=raw,value=${{ github.ref_name }}\ntype=raw,value=latest\n",
        "setup-qemu": True}
    assert "linux/riscv64 on `ubuntu-24.04` (QEMU)" in result.explanation
    assert "docker/github-builder/.github/workflows/bake.yml" in result.explanation

    xx = call(run(META_TARGET_REPO), "image")
    assert xx["with"] == {
        "output": "image", "context": "src", "target": "xx-all", "set": "*.args.release=1\n",
        "push": "${{ github.event_name != 'pull_request' }}", "meta-images": "acme/xx\n",
        "meta-tags": "type=ref,event=branch\ntype=ref,event=pr\n", "meta-bake-target": "meta-helper",
        "set-meta-annotations": True}
    assert "setup-qemu" not in xx["with"]  # linux/arm/v7 runs natively on the Arm64 runners


def test_comments_on_the_kept_permissions_are_carried():
    result = run(HCL_REPO)
    assert "      contents: read # for the checkout\n" in result.files[WF]
    assert "      packages: write # to push to GHCR\n" in result.files[WF]
    xx = run(META_TARGET_REPO).files[WF]
    assert "      contents: read # same as global permissions\n" in xx


def test_the_matrix_preference_and_ghes_move_the_ladder_on():
    assert run(JSON_REPO, config="restructure: matrix\n").remedy == "native-runners"
    assert run(JSON_REPO, ghes=True, config="arm-runner: arm64-linux\n").remedy == "native-runners"


def _edit(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


JSON_WF, JSON_BAKE = JSON_REPO["workflows"][WF], JSON_REPO["bake"]["docker-bake.json"]
WORKDIR_WF = WORKDIR_REPO["workflows"][WF]
BAKE_STEP = "      - name: Bake\n        uses: docker/bake-action@v7\n        with:\n"
DECLINES = {
    "two-targets": (JSON_REPO, None, {"docker-bake.json": _edit(JSON_BAKE, '["site"]', '["site", "worker"]').replace(
        '"target": {', '"target": {"worker": {"platforms": ["linux/amd64"]},')},
        "builds 2 targets (site, worker); github-builder's bake.yml builds one"),
    "load": (JSON_REPO, JSON_WF + "          load: true\n", None, "sets `load`, which github-builder's bake.yml"),
    "no-cache": (JSON_REPO, JSON_WF + "          no-cache: true\n", None, "sets `no-cache`"),
    "set-output": (JSON_REPO, JSON_WF + "          set: '*.output=type=registry'\n", None,
                   "gives its own `output` (`*.output`)"),
    "set-secret": (JSON_REPO, JSON_WF + "          set: '*.secrets=id=npm,env=NPM_TOKEN'\n", None, "build secrets"),
    "target-secret": (JSON_REPO, None, {"docker-bake.json": _edit(JSON_BAKE, '"context": ".",',
                                                                  '"context": ".", "secret": ["id=npm,env=NPM"],')},
                      "bake target `site` sets build secrets (`secret`)"),
    "target-output": (JSON_REPO, None, {"docker-bake.json": _edit(JSON_BAKE, '"context": ".",',
                                                                  '"context": ".", "output": ["type=docker"],')},
                      "sets its own `output` (`output`)"),
    "step-after": (JSON_REPO, JSON_WF + "      - run: docker images\n", None, "runs after the build in the same job"),
    "step-before": (JSON_REPO, _edit(JSON_WF, BAKE_STEP, "      - run: make generate\n" + BAKE_STEP), None,
                    "step `run` runs before the build"),
    "conditional-step": (JSON_REPO, _edit(JSON_WF, BAKE_STEP, BAKE_STEP.replace(
        "        with:\n", "        if: github.event_name == 'push'\n        with:\n")), None, "the build step is conditional"),
    "single-platform": (JSON_REPO, None, {"docker-bake.json": _edit(JSON_BAKE, '"linux/amd64", "linux/arm64/v8"',
                                                                    '"linux/arm64"')}, "the build has a single platform"),
    "computed-platforms": (JSON_REPO, JSON_WF + "          set: '*.platform=${{ inputs.platforms }}'\n", None,
                           "cannot be read before the run"),
    "no-tags": (JSON_REPO, None, {"docker-bake.json": _edit(JSON_BAKE, ',\n      "tags": ["${REPO}:latest", "${REPO}:1"]',
                                                            "")}, "bake target `site` has no tags, and github-builder needs"),
    "step-output-tags": (JSON_REPO, JSON_WF + "          set: '*.tags=ghcr.io/acme/site:${{ steps.v.outputs.tag }}'\n",
                         None, "the tags are computed by the job at run time"),
    "registry-cache": (WORKDIR_REPO, WORKDIR_WF.replace("type=gha,scope=tool", "type=registry,ref=acme/cache"), None,
                       "a cache other than GitHub Actions'"),
    "variable-from-a-step": (WORKDIR_REPO, WORKDIR_WF.replace("${{ github.ref_name }}\n        with:",
                                                              "${{ steps.v.outputs.channel }}\n        with:"), None,
                             "the bake variable `CHANNEL` uses `steps` at run time"),
    "context-outside-workdir": (WORKDIR_REPO, None, {**WORKDIR_REPO["bake"], "docker/docker-bake.hcl": _edit(
        WORKDIR_REPO["bake"]["docker/docker-bake.hcl"], 'dockerfile = "Dockerfile"', 'context = ".."\n  dockerfile = "Dockerfile"')},
        "outside `docker`, the Git context subdirectory"),
    # crazy-max's image jobs (ddns-route53, diun, docker-samba, undock) check the pushed manifest
    # with the metadata step's version after the build: a call has no steps of ours.
    "verification-after": (HCL_REPO, HCL_REPO["workflows"][WF] + """\
      -
        name: Check manifest
        if: github.event_name != 'pull_request'
        run: |
          docker buildx imagetools inspect ghcr.io/acme/app:${{ steps.meta.outputs.version }}
""", None, "step `Check manifest` runs after the build in the same job"),
    "pull": (JSON_REPO, JSON_WF + "          pull: true\n", None, "sets `pull`, which github-builder's bake.yml"),
    "matrix": (JSON_REPO, _edit(JSON_WF, "    runs-on: ubuntu-latest\n",
                                "    runs-on: ubuntu-latest\n    strategy:\n      matrix:\n        v: [1, 2]\n"), None,
               "sets `strategy`"),
    "meta-not-inherited": (HCL_REPO, None, {"docker-bake.hcl": HCL_REPO["bake"]["docker-bake.hcl"].replace(
        'inherits = ["_common", "docker-metadata-action"]', 'inherits = ["_common"]')},
        "bake target `image-all` has no tags (it does not inherit `docker-metadata-action`"),
}


@pytest.mark.parametrize("case", DECLINES)
def test_declines_name_what_has_no_counterpart(case):
    repo, workflow, bake, message = DECLINES[case]
    with pytest.raises(NoFix) as caught:
        run(repo, workflow, bake, remedy="github-builder")
    assert message in str(caught.value)


# -- generated bake steps: a call bake.yml can take, or a decline ------------------------------

STEP_LINES = st.fixed_dictionaries({
    "targets": st.sampled_from([None, "site", "default", "site,worker", "${{ matrix.t }}", "nothing"]),
    "set": st.lists(st.sampled_from(["*.platform=linux/amd64,linux/arm64", "site.args.A=1", "*.tags=ghcr.io/a/b:1",
                                     "*.cache-to=type=gha,mode=max", "*.output=type=docker", "*.no-cache=true",
                                     "*.args.B=${{ github.sha }}", "*.args.C=${{ env.C }}", "nonsense"]),
                    max_size=3, unique=True),
    "files": st.sampled_from([None, "docker-bake.json", "./docker-bake.json\ncwd://${{ steps.meta.outputs.bake-file }}",
                              "missing.hcl"]),
    "push": st.sampled_from([None, "true", "false", "${{ github.event_name == 'push' }}"]),
    "env": st.sampled_from([None, "REPO: ghcr.io/acme/other", "REPO: ${{ vars.REPO }}", "REPO: ${{ steps.x.outputs.r }}"]),
    "extra": st.sampled_from([None, "sbom: true", "provenance: mode=max", "workdir: .", "source: .", "pull: true"]),
})


def _step(lines: dict) -> str:
    text = "      - name: Bake\n        uses: docker/bake-action@v7\n"
    if lines["env"]:
        text += f"        env:\n          {lines['env']}\n"
    text += "        with:\n"
    for key in ("targets", "push"):
        if lines[key] is not None:
            text += f"          {key}: \"{lines[key]}\"\n"
    if lines["files"]:
        text += "          files: |\n" + "".join(f"            {f}\n" for f in lines["files"].split("\n"))
    if lines["set"]:
        text += "          set: |\n" + "".join(f"            {s}\n" for s in lines["set"])
    if lines["extra"]:
        text += f"          {lines['extra']}\n"
    return text


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=STEP_LINES)
def test_generated_bake_steps_give_a_call_or_a_decline(lines):
    head = JSON_WF[:JSON_WF.index("      - name: Bake\n")]
    workflow = head + _step(lines)
    try:
        result = run(JSON_REPO, workflow, remedy="github-builder")
    except NoFix as exc:
        assert "github-builder: " in str(exc)  # a decline with its reason
        return
    new = call(result, "bake")
    assert new["uses"] == BAKE_YML.uses and set(new["with"]) <= BAKE_YML_INPUTS
    assert all("steps." not in str(v) and "env." not in str(v) for v in new["with"].values())
    assert "*.output" not in new["with"].get("set", "") and "*.tags" not in new["with"].get("set", "")

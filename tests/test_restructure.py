"""One job per platform (``native-runners``, ``platform-matrix``) on the workflow shapes of
SPEC section 7: golden diffs, the schema, the structure (one platform per leg, no leg pushes a
tag, the merge job makes exactly the original tags), untouched text outside the restructured
job, idempotence, and the declines."""

import re

import pytest

from bot.fix import NoFix
from bot.workflows.yamldoc import load, plain

from .repos import NODE_SITE, WF, WORKFLOWS, buildx_log, run, sigill_log, SIGILL
from .test_fix import assert_valid, golden

STOREFRONT = (__import__("pathlib").Path(__file__).parents[1] / "examples/storefront/.github/workflows/docker.yml"
              ).read_text()

MULTI_LINE_TAGS = WORKFLOWS["comma-no-spaces"].replace(
    "          tags: ghcr.io/acme/app:latest\n",
    "          tags: |\n            ghcr.io/acme/app:latest\n            ghcr.io/acme/app:${{ github.sha }}\n")
REGISTRIES = WORKFLOWS["comma-no-spaces"].replace(
    "          tags: ghcr.io/acme/app:latest\n",
    "          tags: |\n            ghcr.io/acme/app:latest\n            docker.io/acme/app:latest\n")
NO_PUSH = WORKFLOWS["comma-no-spaces"].replace(
    "          push: ${{ github.event_name != 'pull_request' }}\n", "")
QEMU_MATRIX_SAME_TAG = """\
name: image
on: push
jobs:
  build:
    runs-on: ubuntu-latest
    strategy:
      matrix:
        platform: [linux/amd64, linux/arm64]
    steps:
      - uses: actions/checkout@v5
      - uses: docker/setup-qemu-action@v3
      - uses: docker/setup-buildx-action@v3
      - uses: docker/build-push-action@v6
        with:
          platforms: ${{ matrix.platform }}
          push: true
          tags: acme/app:latest
"""
DIGEST_MERGE = """\
name: image
on: push
jobs:
  build:
    runs-on: ubuntu-latest
    strategy:
      fail-fast: false
      matrix:
        platform:
          - linux/amd64
          - linux/arm64
    steps:
      - uses: docker/setup-qemu-action@v3
      - uses: docker/setup-buildx-action@v3
      - id: build
        uses: docker/build-push-action@v6
        with:
          platforms: ${{ matrix.platform }}
          outputs: type=image,name=acme/app,push-by-digest=true,name-canonical=true,push=true
      - run: echo done
  merge:
    runs-on: ubuntu-latest
    needs: build
    steps:
      - run: docker buildx imagetools create -t acme/app:latest $(cat digests)
"""
SIGNED = """\
name: release
on:
  push:
    tags: ["v*"]
jobs:
  image:
    runs-on: ubuntu-24.04
    permissions:
      contents: read
      packages: write
      id-token: write
      attestations: write
      issues: write
    outputs:
      digest: ${{ steps.push.outputs.digest }}
    steps:
      - uses: actions/checkout@v5
      - uses: docker/setup-qemu-action@v3
      - uses: docker/setup-buildx-action@v3
      - uses: docker/login-action@v3
        with:
          registry: ghcr.io
          username: ${{ github.actor }}
          password: ${{ secrets.GITHUB_TOKEN }}
      - id: push
        uses: docker/build-push-action@v6
        with:
          platforms: linux/amd64,linux/arm64,linux/arm/v7
          push: true
          tags: ghcr.io/acme/app:${{ github.ref_name }}
      - name: Attest
        uses: actions/attest-build-provenance@v2
        with:
          subject-name: ghcr.io/acme/app
          subject-digest: ${{ steps.push.outputs.digest }}
          push-to-registry: true
  deploy:
    runs-on: ubuntu-latest
    needs: image
    steps:
      - run: echo deploying
"""

SHAPES = {
    # name: (workflow, expected merge job or None)
    "storefront-metadata-conditional": (STOREFRONT, "merge"),
    "push-on-branch-literal": (WORKFLOWS["four-space"], "merge"),
    "sha-pinned": (WORKFLOWS["sha-pinned"], "merge"),
    "multi-line-tags": (MULTI_LINE_TAGS, "merge"),
    "several-registries": (REGISTRIES, "merge"),
    "platforms-from-env": (WORKFLOWS["workflow-env"], "merge"),
    "quoted-and-comments": (WORKFLOWS["comments-and-blank-lines"], "merge"),
    "flow-with": (WORKFLOWS["flow-with"], "merge"),
    "qemu-matrix-same-tag": (QEMU_MATRIX_SAME_TAG, "merge"),
    "no-push": (NO_PUSH, None),
    "signed-with-outputs-and-dependents": (SIGNED, "merge"),
    "mixed-indent": (WORKFLOWS["mixed-indent"], "merge"),
}


def original_tags(workflow: dict, job: str) -> list[str]:
    for step in workflow["jobs"][job]["steps"]:
        if str(step.get("uses", "")).startswith("docker/build-push-action"):
            tags = step.get("with", {}).get("tags", "")
            return [t.strip() for t in str(tags).replace(",", "\n").split("\n") if t.strip()]
    return []


def structure(before: str, after: str, job: str, merge: str | None) -> None:
    old, new = plain(load(before)), plain(load(after))
    legs = new["jobs"][job]["strategy"]["matrix"]["include"]
    assert all("," not in leg["platform"] for leg in legs)
    assert new["jobs"][job]["strategy"]["fail-fast"] is False
    build = [s for s in new["jobs"][job]["steps"] if str(s.get("uses", "")).startswith("docker/build-push-action")]
    assert len(build) == 1 and build[0]["with"]["platforms"] == "${{ matrix.platform }}"
    if merge is None:
        assert set(new["jobs"]) == set(old["jobs"])
        return
    assert "tags" not in build[0]["with"], "a leg pushes a tag"
    assert "push-by-digest=true" in build[0]["with"]["outputs"]
    merged = new["jobs"][merge]
    assert merged["needs"] == job
    script = "\n".join(str(s.get("run", "")) for s in merged["steps"])
    assert "${{" not in script, "an expression inside a run: script"
    tags = original_tags(old, job)
    if tags and "${{ steps." not in tags[0]:
        create = next(s for s in merged["steps"] if "imagetools create" in str(s.get("run", "")))
        words = re.findall(r"-t (\S+)", create["run"])
        env = create.get("env", {})
        assert [env[w.strip('"')[1:]] if w.startswith('"$') else w for w in words] == tags
    else:  # the metadata step moved with the same inputs
        meta = [s for s in merged["steps"] if str(s.get("uses", "")).startswith("docker/metadata-action")]
        assert meta and meta[0] in old["jobs"][job]["steps"]
    # Everything else about the workflow is as it was.
    assert {k: v for k, v in new.items() if k != "jobs"} == {k: v for k, v in old.items() if k != "jobs"}
    for other in old["jobs"]:
        if other != job and "needs" not in old["jobs"][other]:
            assert new["jobs"][other] == old["jobs"][other]


def untouched_outside(before: str, after: str, job: str) -> None:
    """Lines before the job and the text of the jobs after it survive byte for byte."""
    lines = before.splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.strip().startswith(f"{job}:"))
    assert after.startswith("".join(lines[:start]))


@pytest.mark.parametrize("mode", ["native-runners", "platform-matrix"])
@pytest.mark.parametrize("shape", SHAPES)
def test_restructure(shape, mode):
    text, merge = SHAPES[shape]
    job = next(iter(load(text)["jobs"]))
    result = run({WF: text}, {"Dockerfile": NODE_SITE}, sigill_log(), remedy=mode)
    assert result.remedy == mode
    assert_valid(result)
    structure(text, result.files[WF], job, merge)
    untouched_outside(text, result.files[WF], job)
    golden(f"restructure-{shape}-{mode}", result.diff)
    with pytest.raises(NoFix):  # a fixed point
        run({WF: result.files[WF]}, {"Dockerfile": NODE_SITE}, sigill_log(), remedy=mode)


def test_native_runners_per_leg():
    result = run({WF: SIGNED}, {"Dockerfile": NODE_SITE}, sigill_log(), remedy="native-runners")
    new = plain(load(result.files[WF]))
    legs = {leg["platform"]: leg for leg in new["jobs"]["image"]["strategy"]["matrix"]["include"]}
    assert legs["linux/amd64"]["runner"] == "ubuntu-24.04"  # the job's own x64 label
    assert legs["linux/arm64"]["runner"] == "ubuntu-24.04-arm"
    # 32-bit Arm runs natively on the Arm64 runner: no leg emulates, so QEMU goes.
    assert legs["linux/arm/v7"] == {"platform": "linux/arm/v7", "pair": "linux-arm-v7", "runner": "ubuntu-24.04-arm"}
    assert not [s for s in new["jobs"]["image"]["steps"] if "setup-qemu" in str(s.get("uses"))]
    merge = new["jobs"]["merge"]
    # The attestation uses the pushed digest: it moved to the merge job, which names it the same.
    assert [s.get("name") for s in merge["steps"]][-1] == "Attest"
    assert any(s.get("id") == "push" for s in merge["steps"])
    assert merge["outputs"] == {"digest": "${{ steps.push.outputs.digest }}"} and "outputs" not in new["jobs"]["image"]
    assert merge["permissions"] == {"contents": "read", "packages": "write", "id-token": "write",
                                    "attestations": "write"}
    assert new["jobs"]["deploy"]["needs"] == ["image", "merge"]
    assert "linux/arm/v7 on `ubuntu-24.04-arm`" in result.explanation


def test_a_leg_without_a_native_runner_keeps_qemu():
    text = SIGNED.replace("linux/arm/v7", "linux/riscv64")
    result = run({WF: text}, {"Dockerfile": NODE_SITE}, sigill_log(), remedy="native-runners")
    new = plain(load(result.files[WF]))
    legs = {leg["platform"]: leg for leg in new["jobs"]["image"]["strategy"]["matrix"]["include"]}
    assert legs["linux/riscv64"] == {"platform": "linux/riscv64", "pair": "linux-riscv64", "runner": "ubuntu-24.04",
                                     "qemu": True}
    qemu = [s for s in new["jobs"]["image"]["steps"] if "setup-qemu" in str(s.get("uses"))]
    assert qemu[0]["if"] == "${{ matrix.qemu }}"
    assert "Platforms without a native hosted runner stay emulated: linux/riscv64." in result.explanation


def test_existing_digest_merge_gets_runners_in_place():
    result = run({WF: DIGEST_MERGE}, {"Dockerfile": NODE_SITE}, sigill_log(), remedy="native-runners")
    new = plain(load(result.files[WF]))
    assert new["jobs"]["build"]["runs-on"] == "${{ matrix.runner }}"
    assert new["jobs"]["build"]["strategy"]["matrix"]["include"] == [
        {"platform": "linux/amd64", "runner": "ubuntu-latest"},  # the job's own x64 label
        {"platform": "linux/arm64", "runner": "ubuntu-24.04-arm"}]
    assert new["jobs"]["merge"] == plain(load(DIGEST_MERGE))["jobs"]["merge"]
    golden("restructure-digest-merge-in-place", result.diff)
    with pytest.raises(NoFix, match="already builds one platform per job"):
        run({WF: DIGEST_MERGE}, {"Dockerfile": NODE_SITE}, sigill_log(), remedy="platform-matrix")
    with pytest.raises(NoFix, match="already builds each platform on its native runner"):
        run({WF: result.files[WF]}, {"Dockerfile": NODE_SITE}, sigill_log(), remedy="native-runners")


DECLINES = {
    # A matrix over another dimension is split per platform (test_realworld_shapes, also with
    # `include`/`exclude`: test_matrix_axes); one computed at run time is not.
    "node-matrix-computed": (WORKFLOWS["node-matrix"].replace(
        "        node: [20, 22]\n", "        node: ${{ fromJSON(vars.NODE_VERSIONS) }}\n"),
        "native-runners", "matrix is computed at run time (`fromJSON`)"),
    "bake": (WORKFLOWS["bake"], "native-runners", "platforms are not in its `set:` lines, and its bake file cannot be read"),
    "shell": (WORKFLOWS["shell-buildx"], "platform-matrix", "does not log in to a registry before the build"),
    # (a list the script writes literally is read: tests/test_runtime_shapes.py)
    "computed": (WORKFLOWS["computed-platforms"].replace('"list=linux/amd64,linux/arm64"', '"list=$(cat platforms)"'),
                 "native-runners", "is computed at run time"),
    "loads": (WORKFLOWS["load-multi"], "platform-matrix", "loads the image into the job"),
    "remote-reusable": (WORKFLOWS["reusable-remote"], "native-runners", "no workflow step builds an image"),
    "computed-tags": (WORKFLOWS["comma-no-spaces"].replace("ghcr.io/acme/app:latest", "${{ steps.v.outputs.tags }}"),
                      "native-runners", "the tags read step `v`, which job `image` does not have"),
}


@pytest.mark.parametrize("case", DECLINES)
def test_declines_say_why(case):
    text, remedy, message = DECLINES[case]
    with pytest.raises(NoFix) as caught:
        run({WF: text}, {"Dockerfile": NODE_SITE}, sigill_log(), remedy=remedy)
    assert message in str(caught.value)


def test_ghes_without_an_arm_label():
    with pytest.raises(NoFix, match="GitHub Enterprise Server has no hosted Arm runners and the config names no "):
        run({WF: STOREFRONT}, {"Dockerfile": NODE_SITE}, sigill_log(), remedy="native-runners", ghes=True)
    labelled = run({WF: STOREFRONT}, {"Dockerfile": NODE_SITE}, sigill_log(), remedy="native-runners",
                   ghes=True, config="arm-runner: arm64-large\n")
    assert "runner: arm64-large" in labelled.files[WF]
    private = run({WF: STOREFRONT}, {"Dockerfile": NODE_SITE}, sigill_log(), remedy="native-runners", private=True)
    assert "runner: ubuntu-24.04-arm" in private.files[WF]


def test_the_ladder_reaches_the_restructure():
    # Evidence policy: build-on-buildplatform does not apply (node_modules copied), so native runners.
    dockerfile = NODE_SITE.replace("COPY --from=build /app/dist /usr/share/nginx/html",
                                   "COPY --from=build /app/node_modules ./node_modules")
    public = run({WF: STOREFRONT}, {"Dockerfile": dockerfile}, sigill_log())
    assert (public.remedy, public.next_remedy) == ("github-builder", "native-runners")
    matrix = run({WF: STOREFRONT}, {"Dockerfile": dockerfile}, sigill_log(), config="restructure: matrix\n")
    assert (matrix.remedy, matrix.next_remedy) == ("native-runners", "pin-qemu")
    assert matrix.declined["github-builder"] == "the config prefers the written-out matrix (`restructure: matrix`)"
    private = run({WF: STOREFRONT}, {"Dockerfile": dockerfile}, sigill_log(), private=True, skip=("github-builder",))
    assert (private.remedy, private.next_remedy) == ("native-runners", "pin-qemu")
    ghes = run({WF: STOREFRONT}, {"Dockerfile": dockerfile}, sigill_log(), ghes=True, skip=("pin-qemu",))
    assert (ghes.remedy, ghes.next_remedy) == ("platform-matrix", None)
    # The log says the Arm runner is not available to this repository: the legs stay on the original
    # runner, unless the config names a label.
    log = b"ubuntu-24.04-arm is not supported yet for private repositories\n"
    unavailable = run({WF: STOREFRONT}, {"Dockerfile": NODE_SITE}, log, private=True)
    assert unavailable.remedy == "platform-matrix"
    labelled = run({WF: STOREFRONT}, {"Dockerfile": NODE_SITE}, log, private=True, config="arm-runner: arm-big\n")
    assert labelled.remedy == "native-runners" and "runner: arm-big" in labelled.files[WF]


def test_arm32_goes_to_the_arm64_runner():
    log = buildx_log("linux/arm/v7", "build", "RUN npm ci", SIGILL, 132)
    result = run({WF: WORKFLOWS["comma-no-spaces"].replace("linux/arm64", "linux/arm/v7")},
                 {"Dockerfile": NODE_SITE.replace("/app/dist", "/app/node_modules")}, log,
                 config="restructure: matrix\n")
    assert result.remedy == "native-runners"
    assert "linux/arm/v7 on `ubuntu-24.04-arm`" in result.explanation


CHAINED = SIGNED.replace("""          push-to-registry: true
""", """          push-to-registry: true
      - id: sbom
        env:
          DIGEST: ${{ steps.push.outputs.digest }}
        run: echo "ref=$DIGEST" >> "$GITHUB_OUTPUT"
      - name: Notify
        env:
          REF: ${{ steps.sbom.outputs.ref }}
        run: echo "$REF"
""").replace("      digest: ${{ steps.push.outputs.digest }}\n",
             "      digest: ${{ steps.push.outputs.digest }}\n      ref: ${{ steps.sbom.outputs.ref }}\n")


def test_steps_that_read_moved_steps_move_with_them():
    result = run({WF: CHAINED}, {"Dockerfile": NODE_SITE}, sigill_log(), remedy="native-runners")
    assert_valid(result)  # actionlint: every steps.<id> resolves in its job
    new = plain(load(result.files[WF]))
    assert [s.get("name") or s.get("id") for s in new["jobs"]["merge"]["steps"]][-3:] == ["Attest", "sbom", "Notify"]
    assert new["jobs"]["merge"]["outputs"] == {"digest": "${{ steps.push.outputs.digest }}",
                                               "ref": "${{ steps.sbom.outputs.ref }}"}
    assert not [s for s in new["jobs"]["image"]["steps"] if s.get("id") == "sbom" or s.get("name") == "Notify"]
    # A moved step that also reads a step staying behind cannot move: declined with the reason.
    staying = CHAINED.replace("      - name: Notify", "      - id: v\n        run: echo \"tag=1\" >> \"$GITHUB_OUTPUT\"\n"
                              "      - name: Notify").replace("REF: ${{ steps.sbom.outputs.ref }}",
                                                               "REF: ${{ steps.sbom.outputs.ref }}-${{ steps.v.outputs.tag }}")
    with pytest.raises(NoFix, match="step `Notify` would move to the merge job but reads `steps.v`, which stays"):
        run({WF: staying}, {"Dockerfile": NODE_SITE}, sigill_log(), remedy="native-runners")


SUFFIXED = QEMU_MATRIX_SAME_TAG.replace("""        platform: [linux/amd64, linux/arm64]
""", """        include:
          - platform: linux/amd64
            suffix: amd64
          - platform: linux/arm64
            suffix: arm64
""").replace("      - uses: actions/checkout@v5\n", "      - uses: actions/checkout@v5\n      - run: echo \"$S\"\n"
             "        env:\n          S: ${{ matrix.suffix }}\n")


def test_matrix_keys_resolve_and_never_collide():
    result = run({WF: SUFFIXED}, {"Dockerfile": NODE_SITE}, sigill_log(), remedy="native-runners")
    assert_valid(result)  # actionlint: matrix.suffix and matrix.runner resolve
    legs = plain(load(result.files[WF]))["jobs"]["build"]["strategy"]["matrix"]["include"]
    assert [(leg["platform"], leg["suffix"]) for leg in legs] == [("linux/amd64", "amd64"), ("linux/arm64", "arm64")]
    clashing = SUFFIXED.replace("suffix: amd64", "pair: amd64").replace("suffix: arm64", "pair: arm64")
    with pytest.raises(NoFix, match="the matrix already has a `pair` key"):
        run({WF: clashing}, {"Dockerfile": NODE_SITE}, sigill_log(), remedy="native-runners")


@pytest.mark.parametrize("label, x64", [("self-hosted", "self-hosted"), ("ubicloud-standard-4", "ubicloud-standard-4"),
                                        ("ubuntu-22.04", "ubuntu-22.04"), ("my-arm-box", "ubuntu-24.04")])
def test_the_x64_leg_and_the_merge_job_keep_the_jobs_own_runner(label, x64):
    # The arm64 leg was emulated, so the job's runner is an x64 machine the maintainer chose
    # (self-hosted, third-party): the x64 leg and the merge job stay on it; only the Arm leg
    # moves. An Arm-looking label cannot be that runner, so the hosted default is used.
    text = SIGNED.replace("runs-on: ubuntu-24.04", f"runs-on: {label}", 1)
    assert text != SIGNED
    result = run({WF: text}, {"Dockerfile": NODE_SITE}, sigill_log(), remedy="native-runners")
    assert_valid(result)
    new = plain(load(result.files[WF]))
    legs = {leg["platform"]: leg["runner"] for leg in new["jobs"]["image"]["strategy"]["matrix"]["include"]}
    assert legs == {"linux/amd64": x64, "linux/arm64": "ubuntu-24.04-arm", "linux/arm/v7": "ubuntu-24.04-arm"}
    assert new["jobs"]["merge"]["runs-on"] == x64

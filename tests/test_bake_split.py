"""The bake variant of one job per platform (issue 11): docker/bake-action with its platforms
and tags in the workflow is split into one leg per platform (`*.platform`, push by digest, digest
from bake-action's metadata) and a merge job with the original tags; golden diffs, the schema,
both linters, the structure; bakes whose platforms, tags or targets are not in the workflow are
declined with a reason."""

import pytest

from bot.fix import NoFix
from bot.remedies.restructure import merged_tags
from bot.workflows.yamldoc import load, plain

from .repos import NODE_SITE, WF, run, sigill_log
from .test_fix import assert_valid, golden

# Docker's documentation style: metadata-action's bake file in `files:`, platforms in `set:`.
BAKE_META = """\
name: ci

on:
  push:
    branches: [main]

jobs:
  bake:
    runs-on: ubuntu-latest
    permissions:
      contents: read
      packages: write
    steps:
      -
        name: Checkout
        uses: actions/checkout@v5
        with:
          persist-credentials: false
      -
        name: Docker meta
        id: meta
        uses: docker/metadata-action@v6
        with:
          images: ghcr.io/acme/app
          tags: |
            type=ref,event=branch
            type=sha
      -
        name: Login to GHCR
        uses: docker/login-action@v4
        with:
          registry: ghcr.io
          username: ${{ github.actor }}
          password: ${{ secrets.GITHUB_TOKEN }}
      -
        name: Set up QEMU
        uses: docker/setup-qemu-action@v4
      -
        name: Set up Docker Buildx
        uses: docker/setup-buildx-action@v4
      -
        name: Build and push
        uses: docker/bake-action@v7
        with:
          files: |
            ./docker-bake.hcl
            cwd://${{ steps.meta.outputs.bake-file }}
          targets: image
          # both platforms, cached in GitHub's cache
          set: |
            *.platform=linux/amd64,linux/arm64
            *.cache-from=type=gha
            *.cache-to=type=gha,mode=max
          push: true
"""

BAKE_TAGS = """\
name: image
on: push
permissions:
  contents: read
jobs:
  bake:
    runs-on: ubuntu-latest
    permissions:
      contents: read
      packages: write
    steps:
      - uses: actions/checkout@v5
        with:
          persist-credentials: false
      - uses: docker/setup-qemu-action@v4
      - uses: docker/setup-buildx-action@v4
      - uses: docker/login-action@v4
        with:
          registry: ghcr.io
          username: ${{ github.actor }}
          password: ${{ secrets.GITHUB_TOKEN }}
      - name: Bake
        uses: docker/bake-action@v7
        with:
          set: |
            *.platform=linux/amd64,linux/arm64
            *.tags=ghcr.io/acme/app:latest
          push: ${{ github.event_name != 'pull_request' }}
"""

BAKE_NO_PUSH = """\
name: image
on: pull_request
permissions:
  contents: read
jobs:
  bake:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v5
        with:
          persist-credentials: false
      - uses: docker/setup-qemu-action@v4
      - uses: docker/setup-buildx-action@v4
      - uses: docker/bake-action@v7
        with:
          targets: app
          set: app.platform=linux/amd64,linux/arm64
"""

SHAPES = {"meta": BAKE_META, "tags": BAKE_TAGS, "no-push": BAKE_NO_PUSH}


@pytest.mark.parametrize("mode", ["native-runners", "platform-matrix"])
@pytest.mark.parametrize("shape", SHAPES)
def test_bake_split(shape, mode):
    result = run({WF: SHAPES[shape]}, {"Dockerfile": NODE_SITE}, sigill_log(), remedy=mode)
    assert result.remedy == mode
    assert_valid(result)
    golden(f"restructure-bake-{shape}-{mode}", result.diff)
    data = plain(load(result.files[WF]))
    legs = data["jobs"]["bake"]["strategy"]["matrix"]["include"]
    assert [leg["platform"] for leg in legs] == ["linux/amd64", "linux/arm64"]
    if mode == "native-runners":
        assert data["jobs"]["bake"]["runs-on"] == "${{ matrix.runner }}"
        assert legs[1]["runner"] == "ubuntu-24.04-arm"
    bake = next(s for s in data["jobs"]["bake"]["steps"] if str(s.get("uses", "")).startswith("docker/bake-action"))
    sets = bake["with"]["set"].splitlines()
    assert "*.platform=${{ matrix.platform }}" in sets
    assert not any(line.split("=")[0].endswith(".tags") for line in sets)
    if shape == "no-push":
        assert "merge" not in data["jobs"]
        return
    assert "push" not in bake["with"]
    assert any("push-by-digest=true" in line and '"name=ghcr.io/acme/app"' in line for line in sets)
    export = next(s for s in data["jobs"]["bake"]["steps"] if s.get("name") == "Export digest")
    target = "image" if shape == "meta" else "default"
    assert f"outputs.metadata)['{target}']['containerimage.digest']" in export["env"]["DIGEST"]
    merge = data["jobs"]["merge"]
    if shape == "tags":
        assert merged_tags(merge) == ["ghcr.io/acme/app:latest"]
        assert merge["if"] == "${{ github.event_name != 'pull_request' }}"
    else:
        assert any(s.get("id") == "meta" for s in merge["steps"])
        assert any("-scope" in line or "scope=" in line for line in sets if "cache" in line)


def test_the_result_is_settled():
    # Run again on its own output: already one platform per job, nothing to split.
    first = run({WF: BAKE_TAGS}, {"Dockerfile": NODE_SITE}, sigill_log(), remedy="native-runners")
    with pytest.raises(NoFix):
        run({WF: first.files[WF]}, {"Dockerfile": NODE_SITE}, sigill_log(), remedy="native-runners")


DECLINES = {
    "platforms-in-bake-file": (BAKE_TAGS.replace("            *.platform=linux/amd64,linux/arm64\n", ""),
                               "platforms are not in its `set:` lines, and its bake file cannot be read"),
    "tags-in-bake-file": (BAKE_TAGS.replace("            *.tags=ghcr.io/acme/app:latest\n", ""),
                          "tags are not in its `set:` lines or a docker/metadata-action step, and its bake file"),
    "two-targets": (BAKE_NO_PUSH.replace("targets: app", "targets: app,worker"), "builds 2 targets"),
    "computed-platforms": (BAKE_TAGS.replace("linux/amd64,linux/arm64", "${{ inputs.platforms }}"),
                           "computed at run time"),
    "own-output": (BAKE_TAGS.replace("*.tags=ghcr.io/acme/app:latest", "*.output=type=registry"),
                   "sets its own `*.output`"),
    "matrix": (BAKE_TAGS.replace("    runs-on: ubuntu-latest\n",
                                 "    runs-on: ubuntu-latest\n    strategy:\n      matrix:\n        v: [1, 2]\n"),
               "all with the same tags"),
    "not-a-set-line": (BAKE_TAGS.replace("*.tags=ghcr.io/acme/app:latest", "nonsense"), "is not `<target>."),
}


@pytest.mark.parametrize("case", DECLINES)
def test_bake_declines_say_why(case):
    text, message = DECLINES[case]
    with pytest.raises(NoFix) as caught:
        run({WF: text}, {"Dockerfile": NODE_SITE}, sigill_log(), remedy="native-runners")
    assert message in str(caught.value)

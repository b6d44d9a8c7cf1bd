"""Bake shapes of the real-world corpus, each written here in that shape (no file of any
repository is copied): the platforms in the bake file, not in the workflow.

``HCL_META``: the image job bakes ``image-all`` from ``docker-bake.hcl`` and the metadata
step's bake file (`cwd://${{ steps.meta.outputs.bake-file }}`); the same workflow validates lint
targets in a matrix computed from the bake file (a job with a `strategy` that builds no image),
and tests a target that writes into the workspace.
``JSON_TAGS``: a JSON bake file found under bake's default name, with literal tags.
"""

from .repos import DOCKERFILES

HCL_WORKFLOW = """\
name: build

on:
  push:
    branches: [main]
  pull_request:

permissions:
  contents: read

jobs:
  prepare:
    runs-on: ubuntu-latest
    outputs:
      includes: ${{ steps.matrix.outputs.matrix }}
    steps:
      -
        name: Checkout
        uses: actions/checkout@v5
        with:
          persist-credentials: false
      -
        name: Validate matrix
        id: matrix
        uses: docker/bake-action/subaction/matrix@v7
        with:
          target: validate
          fields: platforms

  validate:
    runs-on: ubuntu-latest
    needs: prepare
    strategy:
      fail-fast: false
      matrix:
        include: ${{ fromJson(needs.prepare.outputs.includes) }}
    steps:
      -
        name: Validate
        uses: docker/bake-action@v7
        with:
          targets: ${{ matrix.target }}
          set: |
            *.platform=${{ matrix.platforms }}

  test:
    runs-on: ubuntu-latest
    steps:
      -
        name: Test
        uses: docker/bake-action@v7
        with:
          targets: test

  image:
    runs-on: ubuntu-latest
    needs: [validate, test]
    permissions:
      contents: read # for the checkout
      packages: write # to push to GHCR
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
            type=semver,pattern={{version}}
      -
        name: Set up QEMU
        uses: docker/setup-qemu-action@v4
      -
        name: Set up Docker Buildx
        uses: docker/setup-buildx-action@v4
      -
        name: Login to GHCR
        if: github.event_name != 'pull_request'
        uses: docker/login-action@v4
        with:
          registry: ghcr.io
          username: ${{ github.actor }}
          password: ${{ secrets.GITHUB_TOKEN }}
      -
        name: Build
        uses: docker/bake-action@v7
        with:
          source: .
          files: |
            ./docker-bake.hcl
            cwd://${{ steps.meta.outputs.bake-file }}
          targets: image-all
          push: ${{ github.event_name != 'pull_request' }}
"""

HCL_BAKE = """\
variable "NODE_VERSION" {
  default = "22"
}

variable "LINT_MULTIPLATFORM" {
  default = null
}

# metadata-action's bake file overrides these tags at run time
target "docker-metadata-action" {
  tags = ["app:local"]
}

group "default" {
  targets = ["image-local"]
}

target "_common" {
  args = {
    NODE_VERSION = NODE_VERSION
  }
}

target "image" {
  inherits = ["_common", "docker-metadata-action"]
}

target "image-local" {
  inherits = ["image"]
  output = ["type=docker"]
}

target "image-all" {
  inherits = ["image"]
  platforms = [
    "linux/amd64",
    "linux/arm64",
  ]
}

target "test" {
  inherits = ["_common"]
  target = "test"
  output = ["./coverage"]
}

group "validate" {
  targets = ["lint"]
}

target "lint" {
  dockerfile = "./hack/lint.Dockerfile"
  output = ["type=cacheonly"]
  platforms = LINT_MULTIPLATFORM != null ? ["linux/amd64", "linux/arm64"] : []
}
"""

LINT_DOCKERFILE = """\
FROM golangci/golangci-lint:v2.1 AS lint
WORKDIR /src
RUN --mount=target=. golangci-lint run
"""

# node_modules leave the failing stage, so only a workflow remedy removes emulation.
HCL_REPO = {"dockerfiles": {"Dockerfile": DOCKERFILES["copies-node-modules"], "hack/lint.Dockerfile": LINT_DOCKERFILE},
            "workflows": {".github/workflows/docker.yml": HCL_WORKFLOW}, "bake": {"docker-bake.hcl": HCL_BAKE}}

JSON_WORKFLOW = """\
name: image
on:
  push:
    branches: [main]
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
          push: true
"""

JSON_BAKE = """\
{
  "variable": {"REPO": {"default": "ghcr.io/acme/site"}},
  "group": {"default": {"targets": ["site"]}},
  "target": {
    "site": {
      "context": ".",
      "dockerfile": "Dockerfile",
      "platforms": ["linux/amd64", "linux/arm64/v8"],
      "tags": ["${REPO}:latest", "${REPO}:1"]
    }
  }
}
"""

JSON_REPO = {"dockerfiles": {"Dockerfile": DOCKERFILES["copies-node-modules"]},
             "workflows": {".github/workflows/docker.yml": JSON_WORKFLOW}, "bake": {"docker-bake.json": JSON_BAKE}}

SHAPES = {"hcl-meta": HCL_REPO, "json-tags": JSON_REPO}

# A matrix over image variants: each variant's tags come from the metadata step, which reads the
# matrix; the platforms are in the bake file.
VARIANT_WORKFLOW = """\
name: image
on:
  push:
    branches: [main]
permissions:
  contents: read
jobs:
  image:
    runs-on: ubuntu-latest
    permissions:
      contents: read
      packages: write
    strategy:
      fail-fast: false
      matrix:
        variant: [alpine, debian]
    steps:
      - uses: actions/checkout@v5
        with:
          persist-credentials: false
      - name: Docker meta
        id: meta
        uses: docker/metadata-action@v6
        with:
          images: ghcr.io/acme/tool
          tags: type=raw,value=${{ matrix.variant }}
      - uses: docker/setup-qemu-action@v4
      - uses: docker/setup-buildx-action@v4
      - uses: docker/login-action@v4
        with:
          registry: ghcr.io
          username: ${{ github.actor }}
          password: ${{ secrets.GITHUB_TOKEN }}
      - name: Build
        uses: docker/bake-action@v7
        env:
          VARIANT: ${{ matrix.variant }}
        with:
          files: |
            ./docker-bake.hcl
            cwd://${{ steps.meta.outputs.bake-file }}
          targets: image
          push: true
"""

VARIANT_BAKE = """\
variable "VARIANT" {
  default = "alpine"
}

target "docker-metadata-action" {}

target "image" {
  inherits = ["docker-metadata-action"]
  args = {
    VARIANT = VARIANT
  }
  platforms = ["linux/amd64", "linux/arm64"]
}
"""

VARIANT_REPO = {"dockerfiles": {"Dockerfile": DOCKERFILES["copies-node-modules"]},
                "workflows": {".github/workflows/docker.yml": VARIANT_WORKFLOW}, "bake": {"docker-bake.hcl": VARIANT_BAKE}}

# Docker's bake distribute example already: one platform per leg, pushed by digest.
PER_PLATFORM_WORKFLOW = """\
name: image
on:
  push:
    branches: [main]
permissions:
  contents: read
jobs:
  build:
    runs-on: ubuntu-latest
    permissions:
      contents: read
      packages: write
    strategy:
      fail-fast: false
      matrix:
        platform:
          - linux/amd64
          - linux/arm64
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
      - name: Build
        id: bake
        uses: docker/bake-action@v7
        with:
          targets: image
          set: |
            *.tags=ghcr.io/acme/tool
            *.platform=${{ matrix.platform }}
            *.output=type=image,push-by-digest=true,name-canonical=true,push=true
"""

PER_PLATFORM_REPO = {"dockerfiles": {"Dockerfile": DOCKERFILES["copies-node-modules"]},
                     "workflows": {".github/workflows/docker.yml": PER_PLATFORM_WORKFLOW},
                     "bake": {"docker-bake.hcl": 'target "image" {}\n'}}

# docker/github-builder's bake.yml (issue 11): shapes whose one target maps to its inputs.
# The bake files sit in `docker/` (bake-action's `workdir`), with an override file found under
# bake's default name; the job's environment sets a variable of the bake file; the tags are a
# `set:` line; the cache is GitHub's; linux/riscv64 has no native runner.
WORKDIR_WORKFLOW = """\
name: release
on:
  push:
    tags: ["v*"]
permissions:
  contents: read
env:
  NODE_VERSION: "22"
jobs:
  release:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@v5
        with:
          persist-credentials: false
      - uses: docker/setup-qemu-action@v4
      - uses: docker/setup-buildx-action@v4
      - uses: docker/login-action@v4
        with:
          username: ${{ vars.DOCKERHUB_USERNAME }}
          password: ${{ secrets.DOCKERHUB_TOKEN }}
      - name: Bake
        uses: docker/bake-action@v7
        env:
          CHANNEL: ${{ github.ref_name }}
        with:
          workdir: docker
          targets: release
          set: |
            *.args.BUILD_REF=${{ github.sha }}
            *.tags=docker.io/acme/tool:${{ github.ref_name }},docker.io/acme/tool:latest
            *.cache-from=type=gha,scope=tool
            *.cache-to=type=gha,scope=tool,mode=max
          push: true
"""

WORKDIR_BAKE = """\
variable "NODE_VERSION" {
  default = "20"
}

variable "CHANNEL" {
  default = "dev"
}

target "release" {
  dockerfile = "Dockerfile"
  args = {
    NODE_VERSION = NODE_VERSION
    CHANNEL = CHANNEL
  }
}
"""

WORKDIR_OVERRIDE = """\
target "release" {
  platforms = ["linux/amd64", "linux/arm64", "linux/riscv64"]
}
"""

WORKDIR_REPO = {"dockerfiles": {"docker/Dockerfile": DOCKERFILES["copies-node-modules"]},
                "workflows": {".github/workflows/docker.yml": WORKDIR_WORKFLOW},
                "bake": {"docker/docker-bake.hcl": WORKDIR_BAKE, "docker/docker-bake.override.hcl": WORKDIR_OVERRIDE}}

# tonistiigi/xx's shape: the metadata step's own bake target (`bake-target`), its tags and
# annotations files, a `set:` line for the release build, the Git context's subdirectory.
META_TARGET_WORKFLOW = """\
name: build
on:
  push:
    branches: [master]
  pull_request:
permissions:
  contents: read
jobs:
  image:
    runs-on: ubuntu-latest
    permissions:
      contents: read # same as global permissions
    steps:
      -
        name: Docker meta
        id: meta
        uses: docker/metadata-action@v6
        with:
          images: |
            acme/xx
          tags: |
            type=ref,event=branch
            type=ref,event=pr
          bake-target: meta-helper
      -
        name: Set up QEMU
        uses: docker/setup-qemu-action@v4
      -
        name: Set up Docker Buildx
        uses: docker/setup-buildx-action@v4
      -
        name: Login to DockerHub
        if: github.event_name != 'pull_request'
        uses: docker/login-action@v4
        with:
          username: ${{ secrets.DOCKERHUB_USERNAME }}
          password: ${{ secrets.DOCKERHUB_TOKEN }}
      -
        name: Build
        uses: docker/bake-action@v7
        with:
          source: "{{defaultContext}}:src"
          files: |
            ./docker-bake.hcl
            cwd://${{ steps.meta.outputs.bake-file-tags }}
            cwd://${{ steps.meta.outputs.bake-file-annotations }}
          targets: all
          set: |
            *.args.release=1
          push: ${{ github.event_name != 'pull_request' }}
"""

META_TARGET_BAKE = """\
target "meta-helper" {}

group "all" {
  targets = ["xx-all"]
}

target "xx-all" {
  inherits = ["meta-helper"]
  platforms = ["linux/amd64", "linux/arm64", "linux/arm/v7"]
}
"""

META_TARGET_REPO = {"dockerfiles": {"src/Dockerfile": DOCKERFILES["copies-node-modules"]},
                    "workflows": {".github/workflows/docker.yml": META_TARGET_WORKFLOW},
                    "bake": {"src/docker-bake.hcl": META_TARGET_BAKE}}

BUILDER_SHAPES = {"hcl-meta": HCL_REPO, "json-tags": JSON_REPO, "workdir-vars-set-cache": WORKDIR_REPO,
                  "meta-bake-target": META_TARGET_REPO}

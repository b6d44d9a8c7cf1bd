"""Workflow shapes the real-world corpus taught (bench/real_world.py), written for these tests:
each is the shape only, not any project's file."""

# Docker's documentation style: each step's dash alone on its line, the keys below it; a line
# of spaces between steps; a comment between the dash and the first key.
DOCS_STYLE = """\
name: ci
on:
  push:
    branches: [main]
jobs:
  docker:
    runs-on: ubuntu-latest
    steps:
      -
        name: Checkout
        uses: actions/checkout@v5
      - 
        name: Docker meta
        id: meta
        uses: docker/metadata-action@v5
        with:
          images: acme/web
      
      -
        name: Set up QEMU
        uses: docker/setup-qemu-action@v3
      -
        # the builder
        name: Build and push
        uses: docker/build-push-action@v6
        with:
          context: .
          platforms: linux/amd64,linux/arm64
          push: true
          tags: ${{ steps.meta.outputs.tags }}
      -
        name: Announce
        run: echo pushed
"""

# Platforms spelled linux/arm64/v8, and an image name that is an expression with `=` in it.
ARM64_V8_EXPRESSION_IMAGE = """\
name: release
on:
  push:
    tags: ["v*"]
jobs:
  image:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@v5
      - id: hub
        run: echo "enabled=true" >> "$GITHUB_OUTPUT"
      - id: meta
        uses: docker/metadata-action@v5
        with:
          images: |
            ${{ steps.hub.outputs.enabled == 'true' && 'acme/app' || '' }}
            ghcr.io/acme/app
      - uses: docker/setup-qemu-action@v3
      - uses: docker/setup-buildx-action@v3
      - uses: docker/build-push-action@v6
        with:
          platforms: linux/amd64,linux/arm64/v8
          push: true
          tags: ${{ steps.meta.outputs.tags }}
"""

ARM64_V8 = """\
name: release
on: push
jobs:
  image:
    runs-on: ubuntu-24.04
    steps:
      - uses: docker/setup-qemu-action@v3
      - uses: docker/setup-buildx-action@v3
      - uses: docker/build-push-action@v6
        with:
          platforms: linux/amd64,linux/arm64/v8
          push: true
          tags: ghcr.io/acme/app:edge
"""

# Already native, with matrix keys named `os` and `platforms` (no `runner`, no `platform`).
NATIVE_OS_PLATFORMS = """\
name: image
on: push
jobs:
  build:
    runs-on: ${{ matrix.os }}
    strategy:
      fail-fast: false
      matrix:
        include:
          - os: ubuntu-24.04
            platforms: linux/amd64
          - os: ubuntu-24.04-arm
            platforms: linux/arm64/v8
    steps:
      - uses: docker/setup-buildx-action@v3
      - id: build
        uses: docker/build-push-action@v6
        with:
          platforms: ${{ matrix.platforms }}
          outputs: type=image,name=acme/app,push-by-digest=true,name-canonical=true,push=true
"""

# Already native, the Arm label chosen by an expression.
NATIVE_EXPRESSION = """\
name: image
on: push
jobs:
  build:
    strategy:
      matrix:
        platform: [linux/amd64, linux/arm64]
    runs-on: ${{ fromJSON('["ubuntu-24.04", "ubuntu-24.04-arm"]')[matrix.platform == 'linux/arm64'] }}
    steps:
      - uses: docker/setup-buildx-action@v3
      - uses: docker/build-push-action@v6
        with:
          platforms: ${{ matrix.platform }}
          push: false
"""

# An emulated per-platform matrix under another key (`arch`), with a `runner` axis already
# in use: the new runner key must not collide.
EMULATED_ARCH_MATRIX = """\
name: image
on: push
jobs:
  build:
    runs-on: ubuntu-latest
    strategy:
      matrix:
        arch: [linux/amd64, linux/arm64/v8]
        runner: [default]
    steps:
      - uses: docker/setup-qemu-action@v3
      - id: build
        uses: docker/build-push-action@v6
        with:
          platforms: ${{ matrix.arch }}
          outputs: type=image,name=acme/app,push-by-digest=true,name-canonical=true,push=true
"""

# Two build steps in one job (an image and its variant): declined with the reason.
TWO_BUILDS = """\
name: image
on: push
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: docker/setup-qemu-action@v3
      - uses: docker/setup-buildx-action@v3
      - uses: docker/build-push-action@v6
        with:
          platforms: linux/amd64,linux/arm64
          push: true
          tags: acme/app:latest
      - uses: docker/build-push-action@v6
        with:
          target: alpine
          platforms: linux/amd64,linux/arm64
          push: true
          tags: acme/app:alpine
"""

# Tags computed by a step before the build (a version read from the repository): every leg
# computes the same tags; the merge job repeats the step (and the checkout it reads).
COMPUTED_TAGS = """\
name: release
on:
  push:
    branches: [main]
jobs:
  image:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v5
      - id: version
        run: echo "version=$(jq -r .version package.json)" >> "$GITHUB_OUTPUT"
      - uses: docker/setup-qemu-action@v3
      - uses: docker/setup-buildx-action@v3
      - uses: docker/build-push-action@v6
        with:
          platforms: linux/amd64,linux/arm64
          push: true
          tags: acme/app:latest, acme/app:${{ steps.version.outputs.version }}
"""

# The metadata step's tags read another step's output.
META_READS_A_STEP = """\
name: release
on: push
jobs:
  image:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v5
      - id: set-version
        run: echo "result=1.2.3" >> "$GITHUB_OUTPUT"
      - id: meta
        uses: docker/metadata-action@v5
        with:
          images: ghcr.io/acme/app
          tags: |
            type=raw,value=${{ steps.set-version.outputs.result }}
      - uses: docker/setup-qemu-action@v3
      - uses: docker/setup-buildx-action@v3
      - uses: docker/build-push-action@v6
        with:
          platforms: linux/amd64,linux/arm64
          push: true
          tags: ${{ steps.meta.outputs.tags }}
"""

# Platforms from a manual run's input with a default.
INPUT_DEFAULT = """\
name: image
on:
  workflow_dispatch:
    inputs:
      platforms:
        description: platforms to build
        default: linux/amd64,linux/arm64
        type: string
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: docker/setup-qemu-action@v3
      - uses: docker/setup-buildx-action@v3
      - uses: docker/build-push-action@v6
        with:
          platforms: ${{ inputs.platforms }}
          push: true
          tags: acme/app:latest
"""

# A matrix over another dimension (the Node version the image is built for), each value with
# its own tags.
OTHER_DIMENSION = """\
name: image
on:
  push:
    branches: [main]
jobs:
  build:
    runs-on: ubuntu-latest
    strategy:
      matrix:
        node: [20, 22]
    steps:
      - uses: actions/checkout@v5
      - uses: docker/setup-qemu-action@v3
      - uses: docker/setup-buildx-action@v3
      - uses: docker/build-push-action@v6
        with:
          platforms: linux/amd64,linux/arm64
          build-args: NODE=${{ matrix.node }}
          push: true
          tags: ghcr.io/acme/app:node${{ matrix.node }}
"""

# Flow collections spread over several lines, with trailing commas: the build's `with:` as a
# flow mapping (a comment on one entry), the QEMU step's too, and the triggers' branches.
FLOW_ACROSS_LINES = """\
name: image
on:
  push:
    branches: [
      main,
    ]
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v5
      - uses: docker/setup-qemu-action@v3
        with: {
          platforms: "arm64",
        }
      - uses: docker/setup-buildx-action@v3
      - name: Build and push
        uses: docker/build-push-action@v6
        with: {
          context: .,
          platforms: "linux/amd64,linux/arm64", # the Pi fleet is arm64
          push: true,
          tags: ghcr.io/acme/app:latest,
        }
"""

# A matrix over platforms written as a flow sequence over several lines with a trailing comma.
FLOW_MATRIX_ACROSS_LINES = """\
name: image
on:
  push:
    branches: [main,]
jobs:
  build:
    runs-on: ubuntu-latest
    strategy:
      matrix:
        platforms: [
          linux/amd64,
          linux/arm64,
        ]
    steps:
      - uses: actions/checkout@v5
      - uses: docker/setup-qemu-action@v3
      - uses: docker/setup-buildx-action@v3
      - uses: docker/build-push-action@v6
        with:
          context: .
          platforms: ${{ matrix.platforms }}
          push: true
          tags: ghcr.io/acme/app:latest
"""

# Two entries of a flow mapping over several lines on one line: removing one of them cannot be
# placed without rewriting the other's line.
FLOW_SHARED_LINE = FLOW_ACROSS_LINES.replace("          push: true,\n          tags: ghcr.io/acme/app:latest,\n",
                                             "          push: true, tags: ghcr.io/acme/app:latest,\n")

# One `docker buildx build ... --platform a,b ... --push` in a `run:` step, over continuation
# lines, with a tag that is an expression and a build argument that stays as written.
SHELL_BUILDX_PUSH = """\
name: image
on:
  push:
    branches: [main]
permissions: {}
jobs:
  image:
    runs-on: ubuntu-latest
    permissions:
      contents: read
      packages: write
    steps:
      - uses: actions/checkout@v5
      - uses: docker/setup-qemu-action@v3
      - uses: docker/setup-buildx-action@v3
      - uses: docker/login-action@v3  # GHCR
        with:
          registry: ghcr.io
          username: ${{ github.actor }}
          password: ${{ secrets.GITHUB_TOKEN }}
      - name: Build and push
        # every platform at once
        run: |
          docker buildx build \\
            --platform linux/amd64,linux/arm64 \\
            --build-arg "VERSION=1.2 beta" \\
            -t ghcr.io/acme/web:latest \\
            --tag ghcr.io/acme/web:${{ github.sha }} \\
            --push .
      - name: Announce
        run: echo pushed
"""

# Steps after the build that use the pushed image by its tags (crazy-max's "Check manifest" and
# "Inspect image", a scan by tag with the repository's scanner config, a keyless signature with
# the cosign the job installs):
# the legs push by digest only, so these run in the merge job once the tags exist.
TAG_USERS = """\
name: image
on:
  push:
    branches: [main]
env:
  GHCR_SLUG: ghcr.io/acme/app
jobs:
  build:
    runs-on: ubuntu-latest
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
          images: |
            ${{ env.GHCR_SLUG }}
          tags: |
            type=ref,event=branch
            type=sha
      -
        name: Set up QEMU
        uses: docker/setup-qemu-action@v4
      -
        name: Set up Docker Buildx
        uses: docker/setup-buildx-action@v4
      -
        name: Install cosign
        uses: sigstore/cosign-installer@v4.0.0
      -
        name: Login to GHCR
        uses: docker/login-action@v4
        with:
          registry: ghcr.io
          username: ${{ github.actor }}
          password: ${{ secrets.GITHUB_TOKEN }}
      -
        name: Build
        uses: docker/build-push-action@v7
        with:
          context: .
          platforms: linux/amd64,linux/arm64
          push: true
          tags: ${{ steps.meta.outputs.tags }}
          labels: ${{ steps.meta.outputs.labels }}
      -
        # the tag exists only once the image is pushed
        name: Check manifest
        run: |
          docker buildx imagetools inspect ${{ env.GHCR_SLUG }}:${{ steps.meta.outputs.version }}
      -
        name: Scan
        uses: aquasecurity/trivy-action@v0.33.1
        with:
          image-ref: ghcr.io/acme/app:main
          trivy-config: ./trivy.yaml
      -
        name: Sign
        env:
          TAGS: ${{ steps.meta.outputs.tags }}
        run: cosign sign --yes $TAGS
      -
        name: Announce
        run: echo built
"""

# The same with docker/bake-action: the tags come from the metadata step's bake file.
BAKE_TAG_USERS = """\
name: image
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
      - uses: actions/checkout@v5
        with:
          persist-credentials: false
      - id: meta
        uses: docker/metadata-action@v6
        with:
          images: ghcr.io/acme/app
      - uses: docker/setup-qemu-action@v4
      - uses: docker/setup-buildx-action@v4
      - uses: docker/login-action@v4
        with:
          registry: ghcr.io
          username: ${{ github.actor }}
          password: ${{ secrets.GITHUB_TOKEN }}
      - name: Build
        uses: docker/bake-action@v7
        with:
          files: |
            ./docker-bake.hcl
            cwd://${{ steps.meta.outputs.bake-file }}
          targets: image
          set: |
            *.platform=linux/amd64,linux/arm64
          push: true
      - name: Inspect image
        env:
          TAGS: ${{ steps.meta.outputs.tags }}
        run: |
          for tag in $TAGS; do docker pull "$tag"; done
"""
# A one-job workflow whose workflow-level `permissions:` writes (GHCR): a second job would
# inherit the writes, which zizmor flags (excessive-permissions).
WORKFLOW_LEVEL_WRITES = """\
name: publish
on:
  push:
    branches: [main]
# the token may publish images
permissions:
  contents: read
  packages: write  # GHCR
jobs:
  publish:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v5
      - uses: docker/setup-qemu-action@v3
      - uses: docker/setup-buildx-action@v3
      - uses: docker/login-action@v3
        with:
          registry: ghcr.io
          username: ${{ github.actor }}
          password: ${{ secrets.GITHUB_TOKEN }}
      - name: Build and push
        uses: docker/build-push-action@v6
        with:
          context: .
          platforms: linux/amd64,linux/arm64
          push: true
          tags: ghcr.io/acme/web:latest
"""

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

# Two images in one job, each with its own metadata step and both under a condition (a `:dev`
# image from the default branch, a release image from a published release); a step after the
# builds reads the first build's digest.
TWO_METADATA = """\
name: containers
on:
  push:
    branches: [main]
  release:
    types: [published]
jobs:
  publish:
    runs-on: ubuntu-latest
    permissions:
      contents: read
      packages: write
    steps:
      - uses: actions/checkout@v5
      - uses: docker/setup-qemu-action@v3
      - uses: docker/setup-buildx-action@v3
      - uses: docker/login-action@v3
        with:
          registry: ghcr.io
          username: ${{ github.actor }}
          password: ${{ secrets.GITHUB_TOKEN }}
      # default branch -> :dev
      - name: Docker meta dev
        if: github.event_name != 'release'
        id: meta_dev
        uses: docker/metadata-action@v5
        with:
          images: ghcr.io/acme/watch
          tags: type=raw,value=dev
      - name: Build dev
        id: build_dev
        if: ${{ github.event_name != 'release' }}
        uses: docker/build-push-action@v6
        with:
          platforms: linux/amd64,linux/arm64
          push: true
          tags: ${{ steps.meta_dev.outputs.tags }}
          cache-from: type=gha
          cache-to: type=gha,mode=max
      - name: Docker meta release
        if: github.event_name == 'release'
        id: meta
        uses: docker/metadata-action@v5
        with:
          images: ghcr.io/acme/watch
          tags: |
            type=semver,pattern={{version}}
            type=raw,value=latest
      - name: Build release
        id: build_release
        if: github.event_name == 'release'
        uses: docker/build-push-action@v6
        with:
          platforms: linux/amd64,linux/arm64
          push: true
          tags: ${{ steps.meta.outputs.tags }}
      - name: Show digest
        env:
          DIGEST: ${{ steps.build_dev.outputs.digest }}
        run: echo "$DIGEST"
"""

# Several variants of one image (default and alpine Dockerfiles) built one after the other,
# the version read from a file into $GITHUB_ENV, tags written out with `${{ env.VERSION }}`,
# registry caches shared by variants.
ENV_VERSION_VARIANTS = """\
name: build
on: workflow_dispatch
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - name: Checkout
        uses: actions/checkout@v5

      - name: Read version from file
        run: echo "VERSION=$(cat version.txt)" >> "$GITHUB_ENV"

      - name: Login to Docker Hub
        uses: docker/login-action@v3
        with:
          username: ${{ vars.DOCKERHUB_USERNAME }}
          password: ${{ secrets.DOCKERHUB_TOKEN }}

      - name: Set up QEMU
        uses: docker/setup-qemu-action@v3

      - name: Set up Docker Buildx
        uses: docker/setup-buildx-action@v3

      - name: Build latest
        uses: docker/build-push-action@v6
        with:
          file: ./docker/default.Dockerfile
          platforms: linux/amd64,linux/arm64,linux/arm/v7
          tags: |
            acme/bookmarks:latest
            acme/bookmarks:${{ env.VERSION }}
          push: true
          cache-from: type=registry,ref=acme/bookmarks:buildcache
          cache-to: type=registry,ref=acme/bookmarks:buildcache,mode=max

      - name: Build latest-alpine
        uses: docker/build-push-action@v6
        with:
          file: ./docker/alpine.Dockerfile
          platforms: linux/amd64,linux/arm64,linux/arm/v7
          tags: |
            acme/bookmarks:latest-alpine
            acme/bookmarks:${{ env.VERSION }}-alpine
          push: true
          cache-from: type=registry,ref=acme/bookmarks:buildcache-alpine
          cache-to: type=registry,ref=acme/bookmarks:buildcache-alpine,mode=max
"""

# A base image and a variant built FROM it in the same job: the variant reads the base's tag
# (through a build argument here; through its Dockerfile's FROM in the second test).
BASE_AND_VARIANT = """\
name: images
on: push
jobs:
  images:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v5
      - uses: docker/setup-qemu-action@v3
      - uses: docker/setup-buildx-action@v3
      - name: Build base
        uses: docker/build-push-action@v6
        with:
          platforms: linux/amd64,linux/arm64
          push: true
          tags: ghcr.io/acme/base:latest
      - name: Build variant
        uses: docker/build-push-action@v6
        with:
          file: variant.Dockerfile
          platforms: linux/amd64,linux/arm64
          push: true
          build-args: BASE=ghcr.io/acme/base:latest
          tags: ghcr.io/acme/variant:latest
"""

# A test build that does not push (every platform must build) before the build that pushes.
TEST_THEN_PUSH = """\
name: image
on:
  push:
    branches: [main]
  pull_request:
jobs:
  image:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v5
      - uses: docker/setup-qemu-action@v3
      - uses: docker/setup-buildx-action@v3
      - name: Test build
        uses: docker/build-push-action@v6
        with:
          target: test
          platforms: linux/amd64,linux/arm64
          push: false
          cache-from: type=gha,scope=test
      - name: Build and push
        uses: docker/build-push-action@v6
        with:
          platforms: linux/amd64,linux/arm64
          push: ${{ github.event_name != 'pull_request' }}
          tags: ghcr.io/acme/app:edge
"""

# A per-platform matrix whose values are mappings (a flow list of flow mappings across lines),
# two images each pushed by digest in every leg, and the job's own merge job: only the runner
# of each leg changes.
OBJECT_MATRIX_DIGESTS = """\
name: release
on:
  push:
    tags: ['*.*.*']
jobs:
  build:
    strategy:
      matrix:
        platform: [
          { platform: linux/amd64, cache: release-amd64, suffix: amd64 },
          { platform: linux/arm64, cache: release-arm64, suffix: arm64 },
        ]
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v5
      - name: Setup QEMU
        uses: docker/setup-qemu-action@v3
      - uses: docker/setup-buildx-action@v3
      - name: Build the backend by digest
        id: backend
        uses: docker/build-push-action@v6
        with:
          target: backend
          cache-from: type=gha,scope=${{ matrix.platform.cache }}
          platforms: |
            ${{ matrix.platform.platform }}
          tags: |
            acme/backend
          outputs: type=image,push-by-digest=true,name-canonical=true,push=true
      - name: Build the frontend by digest
        id: frontend
        uses: docker/build-push-action@v6
        with:
          target: app
          platforms: |
            ${{ matrix.platform.platform }}
          tags: |
            acme/frontend
          outputs: type=image,push-by-digest=true,name-canonical=true,push=true
      - name: Make digest files
        env:
          BACKEND: ${{ steps.backend.outputs.digest }}
          FRONTEND: ${{ steps.frontend.outputs.digest }}
        run: |
          mkdir -p digests/backend digests/frontend
          touch "digests/backend/${BACKEND#sha256:}" "digests/frontend/${FRONTEND#sha256:}"
      - uses: actions/upload-artifact@v4
        with:
          name: digests-${{ matrix.platform.suffix }}
          path: digests/*
  merge:
    runs-on: ubuntu-latest
    needs: build
    steps:
      - uses: actions/download-artifact@v4
        with:
          path: digests
          pattern: digests-*
          merge-multiple: true
      - uses: docker/setup-buildx-action@v3
      - name: Create the manifest lists
        run: |
          (cd digests/backend && docker buildx imagetools create -t acme/backend:latest $(printf 'acme/backend@sha256:%s ' *))
          (cd digests/frontend && docker buildx imagetools create -t acme/frontend:latest $(printf 'acme/frontend@sha256:%s ' *))
"""

# A script computes each registry's whole tag list (commas between tags) and the builds read
# its outputs; the second build, for the other registry, runs only in the upstream repository.
COMPUTED_TAG_LISTS = """\
name: images
on:
  push:
    tags: ["v*.*.*"]
jobs:
  build:
    runs-on: ubuntu-latest
    permissions:
      contents: read
      packages: write
    steps:
      - uses: actions/checkout@v5
      - uses: docker/setup-qemu-action@v3
      - uses: docker/setup-buildx-action@v3
      - name: Log into GHCR
        uses: docker/login-action@v3
        with:
          registry: ghcr.io
          username: ${{ github.actor }}
          password: ${{ secrets.GITHUB_TOKEN }}
      - name: Compute version tags
        id: compute
        env:
          REF_NAME: ${{ github.ref_name }}
        run: |
          VERSION="${REF_NAME#v}"
          echo "ghcr_tags=ghcr.io/acme/stats:$VERSION,ghcr.io/acme/stats:latest" >> "$GITHUB_OUTPUT"
          echo "hub_tags=acme/stats:$VERSION,acme/stats:latest" >> "$GITHUB_OUTPUT"
      - name: Build and push to GHCR
        uses: docker/build-push-action@v6
        with:
          platforms: linux/amd64,linux/arm64
          push: true
          tags: ${{ steps.compute.outputs.ghcr_tags }}
      - name: Build and push to Docker Hub
        if: github.repository == 'acme/stats'
        uses: docker/build-push-action@v6
        with:
          platforms: linux/amd64,linux/arm64
          push: true
          tags: ${{ steps.compute.outputs.hub_tags }}
"""

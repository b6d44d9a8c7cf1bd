"""Workflow shapes the second held-out corpus taught (bench/real_world.py over 56 more public
repositories): each is the shape only, written for these tests, not any project's file."""

# docker/metadata-action's older `images` format: one line, the names separated by commas.
IMAGES_ONE_LINE = """\
name: release
on:
  workflow_dispatch:
    inputs:
      tag:
        description: the image tag
        required: true
jobs:
  image:
    runs-on: ubuntu-latest
    permissions:
      contents: read
      packages: write
    steps:
      - uses: actions/checkout@v5
      - uses: docker/setup-buildx-action@v3
      - uses: docker/setup-qemu-action@v3
      - name: Docker meta
        id: meta
        uses: docker/metadata-action@v5
        with:
          images: acme/app,acme/app-legacy,ghcr.io/acme/app
          tags: |
            ${{ github.event.inputs.tag }}
      - name: Build and push
        uses: docker/build-push-action@v6
        with:
          platforms: linux/arm64,linux/amd64
          push: true
          tags: ${{ steps.meta.outputs.tags }}
          labels: ${{ steps.meta.outputs.labels }}
"""

# The whole tag written to $GITHUB_ENV by an earlier step, then `tags: ${{ env.X }}`.
TAG_FROM_GITHUB_ENV = """\
name: docker
on:
  push:
    tags: ["v*"]
permissions:
  contents: read
  packages: write
jobs:
  docker:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v5
      - name: Work out the tag
        run: |
          echo "APP_TAG=ghcr.io/acme/app:${GITHUB_REF_NAME}" >> "$GITHUB_ENV"
      - uses: docker/setup-qemu-action@v3
      - uses: docker/setup-buildx-action@v3
      - uses: docker/build-push-action@v6
        with:
          platforms: linux/amd64,linux/arm64/v8
          push: true
          tags: |
            ${{ env.APP_TAG }}
"""

# Only the version written to $GITHUB_ENV: the merge job repeats the step that writes it.
VERSION_FROM_GITHUB_ENV = """\
name: docker
on:
  push:
    tags: ["v*"]
jobs:
  docker:
    runs-on: ubuntu-latest
    permissions:
      contents: read
      packages: write
    steps:
      - uses: actions/checkout@v5
      # the version is the tag without its v
      - name: Version
        run: echo "VERSION=${GITHUB_REF_NAME#v}" >> "$GITHUB_ENV"
      - uses: docker/setup-qemu-action@v3
      - uses: docker/setup-buildx-action@v3
      - uses: docker/build-push-action@v6
        with:
          platforms: linux/amd64,linux/arm64
          push: true
          tags: ghcr.io/acme/app:${{ env.VERSION }},ghcr.io/acme/app:latest
"""

# The whole tag in the workflow's env: the legs push by digest to its name, without its tag.
TAG_IN_WORKFLOW_ENV = """\
name: docker
on:
  push:
    branches: [main]
env:
  IMAGE: ghcr.io/acme/app:edge
jobs:
  docker:
    runs-on: ubuntu-latest
    permissions:
      contents: read
      packages: write
    steps:
      - uses: actions/checkout@v5
      - uses: docker/setup-qemu-action@v3
      - uses: docker/setup-buildx-action@v3
      - uses: docker/build-push-action@v6
        with:
          platforms: linux/amd64,linux/arm64
          push: true
          tags: ${{ env.IMAGE }}
"""

# A release job after a gate job: the step that computes the version reads the gate's outputs.
VERSION_FROM_A_NEEDED_JOB = """\
name: release
on:
  workflow_dispatch:
    inputs:
      version:
        description: the version
        required: true
jobs:
  gate:
    runs-on: ubuntu-latest
    outputs:
      version: ${{ steps.check.outputs.version }}
    steps:
      - id: check
        env:
          VERSION: ${{ inputs.version }}
        run: echo "version=$VERSION" >> "$GITHUB_OUTPUT"

  release:
    runs-on: ubuntu-latest
    needs: gate
    permissions:
      contents: read
      packages: write
    steps:
      - uses: actions/checkout@v5
      - name: Set version
        id: set_version
        env:
          VERSION: ${{ needs.gate.outputs.version }}
        run: echo "VERSION=$VERSION" >> "$GITHUB_OUTPUT"
      - uses: docker/setup-buildx-action@v3
      - uses: docker/build-push-action@v6
        with:
          platforms: linux/amd64,linux/arm64,linux/arm/v7
          push: true
          tags: |
            acme/app:${{ steps.set_version.outputs.VERSION }}
            acme/app:latest
"""

# One `include` entry that names a build configuration, its platforms in a list of their own.
INCLUDE_ENTRY_CONFIG = """\
name: Build image
on: push
jobs:
  build:
    name: Build ${{ matrix.name }} image
    runs-on: ubuntu-latest
    continue-on-error: ${{ matrix.continue-on-error }}
    permissions:
      contents: read
      packages: write
    strategy:
      matrix:
        include:
          # the standard build
          - name: Standard
            dockerfile: Dockerfile
            platforms: linux/amd64,linux/arm64
            continue-on-error: false
    steps:
      - uses: actions/checkout@v5
      - uses: docker/setup-qemu-action@v3
      - uses: docker/setup-buildx-action@v3
      - name: Docker meta
        id: meta
        uses: docker/metadata-action@v5
        with:
          images: ghcr.io/acme/app
          tags: type=ref,event=branch
      - name: Build and push
        uses: docker/build-push-action@v6
        with:
          file: ${{ matrix.dockerfile }}
          platforms: ${{ matrix.platforms }}
          push: true
          tags: ${{ steps.meta.outputs.tags }}
"""

# The same, with the metadata step reading the entry (a suffix per build configuration).
INCLUDE_ENTRY_SUFFIX = INCLUDE_ENTRY_CONFIG.replace(
    "            continue-on-error: false\n",
    "            suffix: \"\"\n            continue-on-error: false\n").replace(
    "          tags: type=ref,event=branch\n",
    "          flavor: suffix=${{ matrix.suffix }}\n          tags: type=ref,event=branch\n")

# The step that computes the version also builds the project with a tool an earlier step installs.
VERSION_FROM_A_PROJECT_TOOL = """\
name: Docker
on: push
jobs:
  buildx:
    runs-on: ubuntu-latest
    permissions:
      contents: read
      packages: write
    steps:
      - uses: actions/checkout@v5
      - uses: actions/setup-node@v5
        with:
          node-version: 24.x
      - name: Install the task runner
        run: npm i -g redrun
      - name: Build
        id: build
        run: |
          redrun build
          VERSION=$(grep '"version":' package.json -m1 | cut -d\\" -f4)
          echo "version=$VERSION" >> "$GITHUB_OUTPUT"
      - uses: docker/setup-qemu-action@v3
      - uses: docker/setup-buildx-action@v3
      - uses: docker/build-push-action@v6
        with:
          platforms: linux/amd64,linux/arm64
          push: true
          tags: |
            acme/app:latest
            acme/app:${{ steps.build.outputs.version }}
"""

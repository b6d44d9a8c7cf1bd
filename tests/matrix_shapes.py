"""Jobs that already have a matrix over another dimension, in the shapes the real-world corpora
showed (include-only variants, per-entry platform lists, lists with include and exclude, a
computed matrix): each is the shape only, written for these tests, not any project's file."""

# Only `include` entries, one per image variant, each with its own comma-separated tag list.
INCLUDE_ONLY_VARIANTS = """\
name: images
on:
  push:
    branches: [main]
jobs:
  push:
    strategy:
      fail-fast: false
      matrix:
        include:
          # the web front end
          - name: app-web
            target: web
            tags: ghcr.io/acme/app-web:latest,ghcr.io/acme-old/app-web:latest
          - name: app-worker
            target: worker
            tags: ghcr.io/acme/app-worker:latest
    runs-on: ubuntu-latest
    permissions:
      contents: read
      packages: write
    steps:
      - uses: actions/checkout@v5
      - uses: docker/setup-buildx-action@v3
      - uses: docker/login-action@v3
        with:
          registry: ghcr.io
          username: ${{ github.actor }}
          password: ${{ secrets.GITHUB_TOKEN }}
      - name: Build ${{ matrix.name }}
        uses: docker/build-push-action@v6
        with:
          target: ${{ matrix.target }}
          platforms: linux/amd64,linux/arm64
          push: true
          tags: ${{ matrix.tags }}
"""

# A list of variants whose include entries give each its own platform list; the build only
# checks that they build (no push).
PER_ENTRY_PLATFORMS = """\
name: verify
on: pull_request
jobs:
  verify:
    runs-on: ubuntu-latest
    strategy:
      fail-fast: false # one variant failing does not stop the others
      matrix:
        variant: [alpine, debian]
        include:
          - variant: alpine
            platforms: linux/amd64,linux/arm64,linux/arm/v7
          - variant: debian
            platforms: linux/amd64,linux/arm64
    steps:
      - uses: actions/checkout@v5
      - uses: docker/setup-qemu-action@v3
      - uses: docker/setup-buildx-action@v3
      - name: Build
        uses: docker/build-push-action@v6
        with:
          file: docker/${{ matrix.variant }}/Dockerfile
          platforms: ${{ matrix.platforms }}
          push: false
"""

# Lists with `exclude`, an include entry that extends combinations and one that creates its own.
LISTS_INCLUDE_EXCLUDE = """\
name: node images
on:
  push:
    tags: ["v*"]
jobs:
  image:
    runs-on: ubuntu-latest
    permissions:
      contents: read
      packages: write
    strategy:
      max-parallel: 3
      matrix:
        node: [20, 22]
        variant: [slim, full]
        exclude:
          - node: 20
            variant: full
        include:
          - node: 22
            latest: true
          - node: 24
            variant: slim
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
          build-args: NODE=${{ matrix.node }}
          platforms: linux/amd64,linux/arm64
          push: true
          tags: ghcr.io/acme/app:${{ github.ref_name }}-node${{ matrix.node }}-${{ matrix.variant }}
"""

# A matrix another job computes (`fromJSON`): its combinations are only known at run time.
COMPUTED_MATRIX = """\
name: docker
on: push
jobs:
  prepare:
    runs-on: ubuntu-latest
    outputs:
      refs: ${{ steps.refs.outputs.refs }}
    steps:
      - id: refs
        run: |
          echo 'refs=[{"tag": "main"}]' >> "$GITHUB_OUTPUT"
  build:
    runs-on: ubuntu-latest
    needs: prepare
    strategy:
      matrix:
        refs: ${{ fromJSON(needs.prepare.outputs.refs) }}
    steps:
      - uses: actions/checkout@v5
      - uses: docker/setup-qemu-action@v3
      - uses: docker/setup-buildx-action@v3
      - uses: docker/login-action@v3
        with:
          username: ${{ secrets.DOCKERHUB_USERNAME }}
          password: ${{ secrets.DOCKERHUB_TOKEN }}
      - uses: docker/build-push-action@v6
        with:
          platforms: linux/amd64,linux/arm64
          push: true
          tags: acme/app:${{ matrix.refs.tag }}
"""

# Native already: a matrix of mappings that name each leg's runner under keys of their own.
NATIVE_OBJECT_MATRIX = """\
name: release
on:
  push:
    tags: ["v*"]
jobs:
  build:
    runs-on: ${{ matrix.arch.os }}
    strategy:
      matrix:
        arch:
          - platform: linux/amd64
            os: ubuntu-latest
          - platform: linux/arm64
            os: ubuntu-24.04-arm
    steps:
      - uses: actions/checkout@v5
      - uses: docker/setup-buildx-action@v3
      - name: Build and push by digest
        id: build
        uses: docker/build-push-action@v6
        with:
          platforms: ${{ matrix.arch.platform }}
          tags: ghcr.io/acme/app
          outputs: type=image,push-by-digest=true,name-canonical=true,push=true
"""

# A matrix a setup job computes (`fromJSON`), whose script gives each leg its runner.
COMPUTED_NATIVE_MATRIX = """\
name: docker
on: push
jobs:
  setup:
    runs-on: ubuntu-latest
    outputs:
      matrix: ${{ steps.legs.outputs.matrix }}
    steps:
      - id: legs
        run: |
          legs='[{"platform":"linux/amd64","runner":"ubuntu-24.04"},{"platform":"linux/arm64","runner":"ubuntu-24.04-arm"}]'
          echo "matrix={\\"include\\":$legs}" >> "$GITHUB_OUTPUT"
  build:
    runs-on: ${{ matrix.runner }}
    needs: setup
    strategy:
      matrix: ${{ fromJSON(needs.setup.outputs.matrix) }}
    steps:
      - uses: actions/checkout@v5
      - uses: docker/setup-buildx-action@v3
      - id: build
        uses: docker/build-push-action@v6
        with:
          platforms: ${{ matrix.platform }}
          tags: acme/app
          outputs: type=image,push-by-digest=true,name-canonical=true,push=true
"""

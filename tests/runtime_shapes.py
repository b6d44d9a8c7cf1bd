"""Workflow shapes of the per-platform restructure's run-time values that the real-world corpus
taught (bench/real_world.py): the build's own exporter, tags and platforms computed by steps,
a `docker login` script, a shell build in a matrix. Each is the shape only, written for these
tests, not any project's file."""

# The build's own exporter: an image with an index annotation (the description GHCR shows for
# a multi-platform image), OCI media types and a name the tags override.
OWN_EXPORTER = """\
name: publish
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
    steps:
      - uses: actions/checkout@v5
      - uses: docker/setup-qemu-action@v3
      - uses: docker/setup-buildx-action@v3
      - uses: docker/login-action@v3
        with:
          registry: ghcr.io
          username: ${{ github.actor }}
          password: ${{ secrets.GITHUB_TOKEN }}
      - id: meta
        uses: docker/metadata-action@v5
        with:
          images: ghcr.io/${{ github.repository }}
      - name: Build and push
        uses: docker/build-push-action@v6
        with:
          platforms: 'linux/amd64,linux/arm64'
          push: true
          tags: ${{ steps.meta.outputs.tags }}
          # shown on the package page
          outputs: type=image,name=target,oci-mediatypes=true,annotation-index.org.opencontainers.image.description=The web app for every platform
"""

# The exporter is chosen at run time between a push and an OCI tarball the job reads later.
EXPORTER_FROM_A_STEP = """\
name: artifacts
on:
  workflow_call:
    inputs:
      publish:
        type: boolean
        default: false
jobs:
  image:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v5
      - uses: docker/setup-qemu-action@v3
      - uses: docker/setup-buildx-action@v3
      - id: output
        run: |
          if [ "$PUBLISH" = true ]; then echo "value=type=image,push=true"; else echo "value=type=oci,dest=image.tar"; fi >> "$GITHUB_OUTPUT"
        env:
          PUBLISH: ${{ inputs.publish }}
      - id: build
        uses: docker/build-push-action@v6
        with:
          platforms: linux/amd64,linux/arm64
          tags: ghcr.io/acme/app:latest
          outputs: ${{ steps.output.outputs.value }}
"""

# The whole tag list written by a script step (a version read from the repository): self-
# contained, so the merge job repeats it; each leg derives its push-by-digest names from it.
TAGS_FROM_A_SCRIPT = """\
name: release
on:
  push:
    tags: ["v*"]
jobs:
  image:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v5
      - name: Version
        id: version
        run: |
          version="$(jq -r .version package.json)"
          echo "tags=acme/app:$version,acme/app:latest" >> "$GITHUB_OUTPUT"
      - uses: docker/setup-qemu-action@v3
      - uses: docker/setup-buildx-action@v3
      - uses: docker/login-action@v3
        with:
          username: ${{ vars.DOCKERHUB_USER }}
          password: ${{ secrets.DOCKERHUB_TOKEN }}
      - uses: docker/build-push-action@v6
        with:
          platforms: linux/amd64,linux/arm64
          push: true
          tags: ${{ steps.version.outputs.tags }}
"""

# The same list computed after a set-up step by the runtime it set up: each leg computes it, and
# the build job passes it on to the merge job as a job output.
TAGS_AFTER_A_SETUP = TAGS_FROM_A_SCRIPT.replace(
    "      - name: Version\n",
    "      - uses: actions/setup-node@v4\n        with:\n          node-version: 22\n      - name: Version\n").replace(
    'version="$(jq -r .version package.json)"', 'version="$(npm pkg get version | tr -d \'"\')"')

# Tags from a manual run's input, else from the metadata step: an expression with `||`.
TAGS_INPUT_OR_META = """\
name: image
on:
  workflow_dispatch:
    inputs:
      tags:
        description: tags to push instead of the computed ones
        type: string
  push:
    branches: [main]
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
      - uses: docker/login-action@v3
        with:
          registry: ghcr.io
          username: ${{ github.actor }}
          password: ${{ secrets.GITHUB_TOKEN }}
      - id: meta
        uses: docker/metadata-action@v5
        with:
          images: ghcr.io/${{ github.repository }}
      - uses: docker/build-push-action@v6
        with:
          platforms: linux/amd64,linux/arm64
          push: true
          tags: ${{ github.event.inputs.tags || steps.meta.outputs.tags }}
"""

# A release job that logs in with `docker login` in a script, computes its tag into
# `$GITHUB_ENV` with two echo steps, and builds with one `docker buildx build ... --push` line.
SHELL_DOCKER_LOGIN_ENV_TAG = """\
name: release
on:
  push:
    tags: ["*"]
jobs:
  release:
    runs-on: ubuntu-24.04
    defaults:
      run:
        working-directory: packages/os
    steps:
      - uses: actions/checkout@v5
      - name: Set up Docker Buildx
        uses: docker/setup-buildx-action@v3
      # the cache below needs the runtime token
      - uses: crazy-max/ghaction-github-runtime@v3
      - run: echo "VERSION=${GITHUB_REF#refs/*/}" >> "$GITHUB_ENV"
      - run: echo "TAG=v$VERSION" >> "$GITHUB_ENV"
      - name: Log in to GHCR
        env:
          TOKEN: ${{ secrets.GITHUB_TOKEN }}
        run: echo "$TOKEN" | docker login ghcr.io -u "$GITHUB_REPOSITORY_OWNER" --password-stdin
      - name: Build and push
        run: docker buildx build --platform linux/amd64,linux/arm64 --file os.Dockerfile --tag ghcr.io/acme/os:${{ env.TAG }} --push --cache-from type=gha ../../
      - uses: actions/setup-node@v4
        with:
          node-version: 22
      - run: npm run build:images
"""

# A matrix over the services of a monorepo, each built by one `docker buildx build` line for
# two platforms and pushed: the platform becomes one more dimension.
SHELL_BUILD_IN_A_MATRIX = """\
name: deploy
on:
  push:
    branches: [main]
jobs:
  images:
    runs-on: ubuntu-latest
    strategy:
      fail-fast: false
      matrix:
        service: [api, worker]
    steps:
      - uses: actions/checkout@v5
      - uses: docker/setup-qemu-action@v3
      - uses: docker/setup-buildx-action@v3
      - uses: docker/login-action@v3
        with:
          username: ${{ vars.DOCKERHUB_USER }}
          password: ${{ secrets.DOCKERHUB_TOKEN }}
      - name: Build and push
        run: |
          docker buildx build --platform linux/amd64,linux/arm64 \\
            -f apps/${{ matrix.service }}/Dockerfile \\
            -t acme/${{ matrix.service }}:${{ github.sha }} -t acme/${{ matrix.service }}:latest \\
            --push .
"""

# The platforms written by a preparation step's script (literally, or through a variable the
# script sets once), with the tags it computes too.
PLATFORMS_FROM_A_SCRIPT = """\
name: publish
on:
  push:
    branches: [master]
    tags: [v*]
jobs:
  docker:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v5
      - name: Prepare
        id: prepare
        run: |
          if [[ $GITHUB_REF == refs/tags/* ]]; then
            echo "tag=${GITHUB_REF#refs/tags/}" >> $GITHUB_OUTPUT
          else
            echo "tag=latest" >> $GITHUB_OUTPUT
          fi
          echo "platforms=linux/amd64,linux/arm64/v8,linux/arm/v7" >> $GITHUB_OUTPUT
      - uses: docker/setup-qemu-action@v3
      - uses: docker/setup-buildx-action@v3
      - uses: docker/login-action@v3
        with:
          username: ${{ secrets.DOCKER_USERNAME }}
          password: ${{ secrets.DOCKER_TOKEN }}
      - name: Build and push
        uses: docker/build-push-action@v6
        with:
          push: true
          platforms: ${{ steps.prepare.outputs.platforms }}
          tags: acme/app:${{ steps.prepare.outputs.tag }}
"""

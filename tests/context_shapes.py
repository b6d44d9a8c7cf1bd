"""Workflow shapes where the merge job of a per-platform restructure cannot simply copy what the
build job reads (its contexts, its needs, its names, its matrix values), as the tune corpora
showed them: each is the shape only, written for these tests, not any project's file."""

# The push condition reads the job's `env` (a secret's presence): a job's `if:` has no `env`.
PUSH_WHEN_ENV = """\
name: ci
on:
  push:
  pull_request:
permissions:
  contents: read
jobs:
  docker:
    runs-on: ubuntu-latest
    env:
      DOCKERHUB_USERNAME: ${{ secrets.DOCKERHUB_USERNAME }}
    strategy:
      matrix:
        flavour: [jvm, native]
    steps:
      - uses: actions/checkout@v5
      - uses: docker/setup-qemu-action@v3
      - uses: docker/setup-buildx-action@v3
      - name: Log in
        uses: docker/login-action@v3
        if: ${{ env.DOCKERHUB_USERNAME != '' }}
        with:
          username: ${{ secrets.DOCKERHUB_USERNAME }}
          password: ${{ secrets.DOCKERHUB_TOKEN }}
      # tags only on a release
      - name: Build and push
        uses: docker/build-push-action@v6
        if: ${{ github.ref_type == 'tag' }}
        with:
          platforms: linux/amd64,linux/arm64
          build-args: FLAVOUR=${{ matrix.flavour }}
          push: ${{ env.DOCKERHUB_USERNAME != '' }}
          tags: acme/app:${{ github.ref_name }}-${{ matrix.flavour }}
"""

# Two builds whose conditions read a step's output (a script that parses the release tag).
PUSH_WHEN_STEP_OUTPUT = """\
name: release
on:
  release:
    types: [published]
jobs:
  publish:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v5
      - uses: docker/setup-qemu-action@v3
      - uses: docker/setup-buildx-action@v3
      - uses: docker/login-action@v3
        with:
          username: ${{ secrets.DOCKERHUB_USERNAME }}
          password: ${{ secrets.DOCKERHUB_TOKEN }}
      - name: Parse the version
        id: version
        uses: actions/github-script@v7
        with:
          script: |
            const version = context.ref.substring(10).replace(/^v/, '');
            core.setOutput('version', version);
            core.setOutput('label', version.includes('-') ? version.split('-')[1] : '');
      - name: Build the pre-release
        if: ${{ steps.version.outputs.label != '' }}
        uses: docker/build-push-action@v6
        with:
          platforms: linux/amd64,linux/arm64
          push: true
          tags: acme/app:${{ steps.version.outputs.version }}
      - name: Build the release
        if: ${{ steps.version.outputs.label == '' }}
        uses: docker/build-push-action@v6
        with:
          platforms: linux/amd64,linux/arm64
          push: true
          tags: |
            acme/app:${{ steps.version.outputs.version }}
            acme/app:latest
"""

# The tags read a needed job's outputs, and the push waits for a step of the build job.
TAGS_FROM_NEEDED_JOB = """\
name: build
on:
  push:
    branches: [main]
jobs:
  tag-release:
    runs-on: ubuntu-latest
    permissions:
      contents: write
    outputs:
      version: ${{ steps.release.outputs.version }}
    steps:
      - uses: actions/checkout@v5
      - name: Release
        id: release
        run: echo "version=1.2.3" >> "$GITHUB_OUTPUT"

  docker-release:
    runs-on: ubuntu-latest
    needs: [tag-release]
    if: github.event_name == 'push'
    permissions:
      contents: read
    steps:
      - uses: actions/checkout@v5
      - name: Decide whether to push
        id: should_push
        env:
          VERSION: ${{ needs.tag-release.outputs.version }}
        run: |
          if [ -n "$VERSION" ]; then echo "push=true" >> "$GITHUB_OUTPUT"; else echo "push=false" >> "$GITHUB_OUTPUT"; fi
      - uses: docker/setup-qemu-action@v3
      - uses: docker/setup-buildx-action@v3
      - name: Log in to Docker Hub
        uses: docker/login-action@v3
        if: steps.should_push.outputs.push == 'true'
        with:
          username: ${{ secrets.DOCKERHUB_USERNAME }}
          password: ${{ secrets.DOCKERHUB_PASSWORD }}
      - name: Push to Docker Hub
        uses: docker/build-push-action@v6
        if: steps.should_push.outputs.push == 'true'
        with:
          platforms: linux/amd64,linux/arm64
          push: true
          tags: acme/app:${{ needs.tag-release.outputs.version }},acme/app:latest
"""

# A matrix over services whose values prefix one another (`api`, `api-v2`).
SIBLING_MATRIX_VALUES = """\
name: images
on:
  push:
    branches: [main]
permissions:
  contents: read
jobs:
  image:
    runs-on: ubuntu-latest
    strategy:
      matrix:
        service: [api, api-v2]
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
          build-args: SERVICE=${{ matrix.service }}
          push: true
          tags: acme/${{ matrix.service }}:latest
"""

# A shell build whose whole tag a step writes to $GITHUB_ENV, then a step that inspects the
# pushed tag into a file the job's later steps release.
SHELL_TAG_FROM_GITHUB_ENV = """\
name: release
on:
  push:
    tags: ["*"]
jobs:
  release:
    runs-on: ubuntu-latest
    permissions:
      contents: read
      packages: write
    steps:
      - uses: actions/checkout@v5
      - uses: docker/setup-buildx-action@v3
      - run: echo "TAG=${{ github.repository_owner }}/app:${GITHUB_REF_NAME}" >> $GITHUB_ENV
      - run: echo "${{ secrets.GITHUB_TOKEN }}" | docker login ghcr.io -u "${{ github.repository_owner }}" --password-stdin
      - name: Build and push Docker image
        run: docker buildx build --platform linux/amd64,linux/arm64 --tag ghcr.io/${{ env.TAG }} --push .
      - run: mkdir -p build && docker buildx imagetools inspect ghcr.io/${{ env.TAG }} > build/image.txt
      - uses: actions/upload-artifact@v4
        with:
          name: release
          path: build
"""

# The exporter chosen at run time between a push and a local export that later steps read.
OUTPUTS_CHOSEN_AT_RUN_TIME = """\
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
    permissions:
      contents: read
      packages: write
    steps:
      - uses: actions/checkout@v5
      - uses: docker/setup-qemu-action@v3
      - uses: docker/setup-buildx-action@v3
      - name: Determine build output
        id: build-output
        uses: haya14busa/action-cond@v1
        with:
          cond: ${{ inputs.publish }}
          if_true: type=image,push=true
          if_false: type=oci,dest=image.tar
      - name: Build
        uses: docker/build-push-action@v6
        with:
          platforms: linux/amd64,linux/arm64
          tags: ghcr.io/acme/app:edge
          outputs: ${{ steps.build-output.outputs.value }}
      - name: Scan the image
        if: ${{ !inputs.publish }}
        run: tar -tf image.tar
"""

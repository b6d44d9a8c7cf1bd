"""Jobs whose build steps build different platforms (tests/test_leg_steps.py), written in the
shapes the real-world corpora showed: two variants of one image for different platform lists
(legs over the union, each build in its own legs), and a single-platform "build and export to
Docker" for a test before the multi-platform push (it runs in one leg, with its test)."""

# Two variants of one image, each with its metadata step, for different platform lists: the
# alpine one also for 32-bit Arm and riscv64, the distroless one not for 32-bit Arm.
TWO_PLATFORM_LISTS = """\
name: docker
on:
  push:
    tags: ['[0-9]+.[0-9]+.[0-9]+']
  pull_request:
    branches: [main]
jobs:
  images:
    if: github.repository_owner == 'acme'
    permissions:
      packages: write
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v5

      - name: Alpine tags
        id: alpine_tags
        uses: docker/metadata-action@v5
        with:
          images: |
            ghcr.io/${{ github.repository_owner }}/app
          tags: type=semver,pattern={{raw}}

      - name: Distroless tags
        id: distroless_tags
        uses: docker/metadata-action@v5
        with:
          images: |
            ghcr.io/${{ github.repository_owner }}/app
          tags: type=semver,pattern={{raw}}
          flavor: suffix=-distroless,onlatest=true

      - uses: docker/setup-qemu-action@v3  # riscv64 stays emulated
      - uses: docker/setup-buildx-action@v3

      - name: Log in to GHCR
        if: ${{ github.event_name != 'pull_request' }}
        uses: docker/login-action@v3
        with:
          registry: ghcr.io
          username: ${{ github.repository_owner }}
          password: ${{ secrets.GITHUB_TOKEN }}

      # The alpine variant builds every platform.
      - name: Build alpine
        uses: docker/build-push-action@v6
        with:
          file: ./docker/alpine.Dockerfile
          platforms: linux/amd64,linux/arm/v7,linux/arm64,linux/riscv64
          push: ${{ github.event_name != 'pull_request' }}
          tags: ${{ steps.alpine_tags.outputs.tags }}

      - name: Build distroless
        uses: docker/build-push-action@v6
        with:
          file: ./docker/distroless.Dockerfile
          platforms: linux/amd64,linux/arm64,linux/riscv64
          push: ${{ github.event_name != 'pull_request' }}
          tags: ${{ steps.distroless_tags.outputs.tags }}
"""

# Docker's documentation style (a step's `-` alone on its line): a test image of the runner's
# platform loaded into the job, its test with a cache and a tool set-up in between, then the
# multi-platform push; after it a chart in another repository gets the pushed digest, in a
# working directory of its own, and the next step commits it there.
LOAD_TEST_THEN_PUSH = """\
name: docker
on:
  push:
    branches: [develop]
  pull_request:
env:
  TEST_TAG: acme/app:test
permissions:
  contents: read
jobs:
  docker:
    runs-on: ubuntu-latest
    steps:
      -
        name: Check out
        uses: actions/checkout@v5
      -
        name: Set up QEMU
        if: github.event_name == 'push'
        uses: docker/setup-qemu-action@v3
      -
        name: Set up Docker Buildx
        uses: docker/setup-buildx-action@v3
      -
        name: Build and export to Docker
        uses: docker/build-push-action@v6
        with:
          target: production
          load: true
          tags: ${{ env.TEST_TAG }}
          cache-from: type=gha
          cache-to: type=gha,mode=max
      - uses: actions/cache@v4
        name: Tool cache
        if: always()
        with:
          path: ~/.cache/tool
          key: ${{ runner.os }}-tool
      - name: Set up the test tool
        uses: acme/setup-tool@v1
      -
        name: Test
        run: |
          docker run --rm -d -p 9001:9001 --name test "$TEST_TAG"
          ./bin/wait-healthy.sh test
      -
        name: Docker meta
        if: github.event_name == 'push'
        id: meta
        uses: docker/metadata-action@v5
        with:
          images: acme/app
          tags: type=ref,event=branch
      -
        name: Log in to Docker Hub
        if: github.event_name == 'push'
        uses: docker/login-action@v3
        with:
          username: ${{ secrets.DOCKERHUB_USERNAME }}
          password: ${{ secrets.DOCKERHUB_TOKEN }}
      -
        name: Build and push
        id: build-docker
        if: github.event_name == 'push'
        uses: docker/build-push-action@v6
        with:
          target: production
          platforms: linux/amd64,linux/arm64
          push: true
          tags: ${{ steps.meta.outputs.tags }}
          labels: ${{ steps.meta.outputs.labels }}
      - name: Check out the charts
        if: github.event_name == 'push'
        uses: actions/checkout@v5
        with:
          path: charts
          repository: acme/charts
          token: ${{ secrets.CHARTS_TOKEN }}
      - name: Update the chart's image
        if: success() && github.ref == 'refs/heads/develop'
        working-directory: charts
        env:
          DIGEST: ${{ steps.build-docker.outputs.digest }}
        run: |
          sed -i "s/digest: .*/digest: $DIGEST/" values-dev.yaml
      - name: Commit and push the chart
        if: success() && github.ref == 'refs/heads/develop'
        working-directory: charts
        run: |
          git add values-dev.yaml
          git commit -m 'Update the develop image'
          git push
"""

# A bake file in a subdirectory of the Git context: a test target (no platforms: the runner's
# own) built by one bake step, then every platform of the image pushed by another, under a
# condition written with `format()`.
BAKE_TEST_THEN_PUBLISH = """\
name: helper
on:
  push:
    branches: [main]
  pull_request:
permissions:
  contents: read
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      -
        name: Login to Docker Hub
        if: ${{ github.ref == format('refs/heads/{0}', github.event.repository.default_branch) }}
        uses: docker/login-action@v3
        with:
          username: ${{ secrets.DOCKERHUB_USERNAME }}
          password: ${{ secrets.DOCKERHUB_TOKEN }}
      -
        name: Set up QEMU
        uses: docker/setup-qemu-action@v3
      -
        name: Set up Docker Buildx
        uses: docker/setup-buildx-action@v3
      -
        name: Test
        uses: docker/bake-action@v6
        with:
          source: "{{defaultContext}}:util/helper"
          targets: test
      -
        name: Publish
        uses: docker/bake-action@v6
        with:
          source: "{{defaultContext}}:util/helper"
          targets: all
          push: ${{ github.ref == format('refs/heads/{0}', github.event.repository.default_branch) }}
"""

BAKE_TEST_THEN_PUBLISH_HCL = """\
variable "REPO" {
  default = "acme/helper"
}

target "default" {
  tags = ["${REPO}"]
}

target "all" {
  inherits = ["default"]
  platforms = ["linux/amd64", "linux/arm64", "linux/arm/v7", "linux/s390x"]
}

target "test" {
  target = "test"
}
"""

# A release job that loads a test image of the runner's platform with docker/build-push-action
# and checks it, then builds every platform with Depot's action on Depot's own builders.
TEST_THEN_DEPOT = """\
name: release
on:
  push:
    tags: ['v*']
jobs:
  dockerize:
    runs-on: ubuntu-latest
    env:
      CHECK_IMAGE: app:release-check
    permissions:
      contents: read
      id-token: write
    steps:
      - uses: actions/checkout@v5
      - name: Docker meta
        id: meta
        uses: docker/metadata-action@v5
        with:
          images: ghcr.io/acme/app
          tags: type=semver,pattern={{version}}
      - uses: docker/setup-buildx-action@v3
      - name: Build the check image
        uses: docker/build-push-action@v6
        with:
          load: true
          tags: ${{ env.CHECK_IMAGE }}
      - name: Check the image
        run: docker run --rm "$CHECK_IMAGE" --version
      - uses: depot/setup-action@v1
      - name: Build and push
        uses: depot/build-push-action@v1
        with:
          project: abc123
          platforms: linux/amd64, linux/arm64
          push: true
          tags: ${{ steps.meta.outputs.tags }}
"""

# Two release builds whose push conditions read the job's env (a secret that may be unset) and
# the outputs of a step that parses the tag: a job's `if:` sees neither, so the merge job checks
# them step by step, after repeating the parsing step.
CONDITIONS_OF_THE_JOB = """\
name: release
on:
  release:
    types: [published]
jobs:
  publish:
    runs-on: ubuntu-latest
    permissions:
      contents: read
    env:
      DOCKERHUB_USERNAME: ${{ secrets.DOCKERHUB_USERNAME }}
    steps:
      - uses: actions/checkout@v5
      - name: Parse the tag
        id: version
        env:
          TAG: ${{ github.event.release.tag_name }}
        run: |
          label="${TAG#*-}"
          if [ "$label" = "$TAG" ]; then label=""; fi
          echo "label=$label" >> "$GITHUB_OUTPUT"
      - uses: docker/setup-qemu-action@v3
      - uses: docker/setup-buildx-action@v3
      - uses: docker/login-action@v3
        if: ${{ env.DOCKERHUB_USERNAME != '' }}
        with:
          username: ${{ secrets.DOCKERHUB_USERNAME }}
          password: ${{ secrets.DOCKERHUB_TOKEN }}
      - name: Push the pre-release
        if: ${{ steps.version.outputs.label != '' }}
        uses: docker/build-push-action@v6
        with:
          platforms: linux/amd64,linux/arm64
          push: ${{ env.DOCKERHUB_USERNAME != '' }}
          tags: acme/app:next
      - name: Push the release
        if: ${{ steps.version.outputs.label == '' }}
        uses: docker/build-push-action@v6
        with:
          platforms: linux/amd64,linux/arm64
          push: ${{ env.DOCKERHUB_USERNAME != '' }}
          tags: acme/app:latest
"""

"""Workflow shapes the fourth tune set taught (bench/real_world.py over /work/realworld-freshA):
each is the shape only, written for these tests, not any project's file."""

# After the multi-platform push, the job builds one platform once more, locally (`--load`, the
# options kept in a Bash array), to report the image's size.
LOCAL_CHECK_BUILD = """\
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
    steps:
      - uses: actions/checkout@v5
        with:
          persist-credentials: false
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
          tags: ghcr.io/acme/app:latest
      # the size of the amd64 image, for the run's log
      - name: Report amd64 image size
        run: |
          args=(--platform linux/amd64 --load -t app-size-check)
          docker buildx build "${args[@]}" .
          SIZE=$(docker image inspect app-size-check --format='{{.Size}}')
          echo "amd64 size: ${SIZE}"
          docker rmi app-size-check
"""

# Tags chosen at run time between two metadata steps; after the build, a README published to
# Docker Hub by an action and a local cache directory rotated by a script.
README_AFTER_RUNTIME_TAGS = """\
name: image
on:
  push:
    branches: ['**']
  workflow_dispatch:
permissions:
  contents: read
jobs:
  buildx:
    runs-on: ubuntu-latest
    permissions:
      contents: read
      packages: write
    steps:
      - uses: actions/checkout@v5
        with:
          persist-credentials: false
      - uses: docker/setup-qemu-action@v3
      - uses: docker/setup-buildx-action@v3
      - name: Cache Docker layers
        uses: actions/cache@v4
        with:
          path: /tmp/.buildx-cache
          key: ${{ runner.os }}-buildx-${{ github.sha }}
      - uses: docker/login-action@v3
        with:
          username: ${{ secrets.DOCKER_USERNAME }}
          password: ${{ secrets.DOCKER_PASSWORD }}
      - name: Release tags
        id: release
        if: github.event_name == 'workflow_dispatch'
        uses: docker/metadata-action@v5
        with:
          images: acme/app
          tags: |
            type=semver,pattern={{version}}
            type=sha
      - name: Branch tags
        id: branch
        if: github.event_name != 'workflow_dispatch'
        uses: docker/metadata-action@v5
        with:
          images: acme/app
          tags: type=ref,event=branch
      - name: Build and push
        id: docker_build
        uses: docker/build-push-action@v6
        with:
          push: true
          tags: ${{ github.event_name == 'workflow_dispatch' && steps.release.outputs.tags || steps.branch.outputs.tags }}
          cache-from: type=local,src=/tmp/.buildx-cache
          cache-to: type=local,dest=/tmp/.buildx-cache-new
          platforms: linux/amd64,linux/arm64
      - name: Update README
        uses: peter-evans/dockerhub-description@v4
        with:
          username: ${{ secrets.DOCKER_USERNAME }}
          password: ${{ secrets.DOCKER_PASSWORD }}
          repository: acme/app
      # keep the cache from growing without bound
      - name: Move cache
        run: |
          rm -rf /tmp/.buildx-cache
          mv /tmp/.buildx-cache-new /tmp/.buildx-cache
"""

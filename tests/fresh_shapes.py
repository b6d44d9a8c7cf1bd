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


"""`run:` scripts around a `docker buildx build --push` that the per-platform restructure splits
or declines (shell_parse, shell_tags), in the shapes real repositories write them: each is the
shape only, written for these tests, not any project's file."""

# A release script: builder set-up in a step of its own, a `docker login` script, the version
# from the step's env with its `v` cut off by the shell, a build date for a label, and tags that
# read the shell variables. The merge job repeats only the assignments the tags read.
SCRIPT_WITH_ASSIGNMENTS = """\
name: release
on:
  push:
    tags: [v*]
permissions: {}
jobs:
  image:
    runs-on: ubuntu-latest
    permissions:
      contents: read
    steps:
      - uses: actions/checkout@v5
      - name: Set up QEMU
        uses: docker/setup-qemu-action@v3
      - name: Set up the builder
        run: |
          docker buildx create --name release --driver docker-container --use
          docker buildx inspect --bootstrap
      - name: Log in to Docker Hub
        env:
          HUB_TOKEN: ${{ secrets.HUB_TOKEN }}
        run: echo "$HUB_TOKEN" | docker login --username acme --password-stdin
      - name: Build and push
        env:
          IMAGE_TAG: ${{ github.ref_name }}
        run: |
          set -euo pipefail
          BUILD_DATE="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
          VERSION="${IMAGE_TAG#v}"
          echo "building acme/app ${VERSION}"
          # one image for both platforms
          docker buildx build \\
            --file ./Dockerfile \\
            --platform linux/amd64,linux/arm64 \\
            --push \\
            --tag "acme/app:${VERSION}" \\
            --tag acme/app:latest \\
            --label org.opencontainers.image.created="${BUILD_DATE}" \\
            --label org.opencontainers.image.version="${VERSION}" \\
            .
"""

# The tag read from an expression assigned in the script (`TAG="${{ ... }}"`), and from GitHub's
# own `GITHUB_REF`, on two registries.
SCRIPT_WITH_EXPRESSION = """\
name: release
on:
  release:
    types: [published]
permissions:
  contents: read
  packages: write
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
      - name: Build and push the release
        run: |
          TAG="${{ github.event.release.tag_name }}"
          VERSION="${TAG#v}"
          docker buildx build --push \\
            --tag ghcr.io/acme/app:${VERSION} \\
            --tag ghcr.io/acme/app-mirror:${GITHUB_REF#refs/*/v} \\
            --platform linux/amd64,linux/arm64 .
"""

SCRIPT = SCRIPT_WITH_ASSIGNMENTS.rsplit("        run: |\n", 1)[1]
# Scripts the restructure declines, each with the reason it gives.
DECLINED_SCRIPTS = {
    "tag-from-a-substitution": (SCRIPT.replace('VERSION="${IMAGE_TAG#v}"', 'VERSION="$(git describe --tags)"'),
                                "computes with a command substitution"),
    "tag-from-an-earlier-step": (SCRIPT.replace('VERSION="${IMAGE_TAG#v}"\n', ""),
                                 "reads the shell variable `VERSION`, which the merge job cannot know"),
    "push-after-the-build": (SCRIPT + "          docker push acme/app:latest\n",
                             "runs `docker push acme/app:latest` after the build, which may use the pushed image"),
    "name-from-a-variable": (SCRIPT.replace('"acme/app:${VERSION}"', '"${OWNER}/app:${VERSION}"'),
                             "image name of the tag `\"${OWNER}/app:${VERSION}\"` reads a shell variable"),
    "conditional": (SCRIPT.replace("set -euo", "if [ -n \"$X\" ]; then echo x; fi\n          set -euo"),
                    "runs `if [ -n \"$X\" ]; then echo x; fi` before the build"),
    "build-in-a-list": (SCRIPT.replace("docker buildx build", "cd app && docker buildx build"),
                        "is part of a list"),
    "two-builds": (SCRIPT + "          docker buildx build --platform linux/amd64,linux/arm64 -t acme/b:1 --push .\n",
                   "holds several `docker buildx build` commands"),
}

# Several build steps in one job, each pushing the image under its own condition with its own
# tags (a testing tag from a branch, a version from a release, a git tag): each is its own image
# with its own digests, merged under the same condition.
SEVERAL_BUILD_STEPS = """\
name: images
on:
  push:
    branches: [main]
    tags: ['*']
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
          username: ${{ secrets.HUB_USER }}
          password: ${{ secrets.HUB_TOKEN }}
      - name: Push the testing tag
        if: github.event_name == 'push' && github.ref == 'refs/heads/main'
        run: |
          docker buildx build --push \\
            --tag acme/app:testing \\
            --platform linux/amd64,linux/arm64 .
      - name: Push the release
        if: github.event_name == 'release' && github.event.release.prerelease == false
        run: |
          TAG="${{ github.event.release.tag_name }}"
          VERSION="${TAG#v}"
          docker buildx build --push \\
            --tag acme/app:${VERSION} \\
            --tag acme/app:latest \\
            --platform linux/amd64,linux/arm64 .
      - name: Push the git tag
        if: startsWith(github.ref, 'refs/tags')
        run: |
          docker buildx build --push \\
            --tag acme/app:${GITHUB_REF#refs/*/v} \\
            --platform linux/amd64,linux/arm64 .
"""

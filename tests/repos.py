"""Fixture repositories in the shapes real projects have (SPEC section 7), and failure logs."""

from __future__ import annotations

from bot.config import parse_config
from bot.diagnosis import diagnose_bytes
from bot.fix import FixRequest, fix

WF = ".github/workflows/docker.yml"

BASIC = """\
name: Docker image

on:
  push:
    branches: [main]
  pull_request:

jobs:
  image:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v5
      - name: Set up QEMU
        uses: docker/setup-qemu-action@v3
      - name: Set up Docker Buildx
        uses: docker/setup-buildx-action@v3
      - name: Build and push
        uses: docker/build-push-action@v6
        with:
          context: .
          platforms: {platforms}
          push: ${{{{ github.event_name != 'pull_request' }}}}
          tags: ghcr.io/acme/app:latest
"""


def basic(platforms: str = "linux/amd64,linux/arm64") -> str:
    return BASIC.format(platforms=platforms)


WORKFLOWS: dict[str, str] = {
    "comma-no-spaces": basic(),
    "comma-spaces": basic("linux/amd64, linux/arm64"),
    "double-quoted": basic('"linux/amd64,linux/arm64"'),
    "single-quoted": basic("'linux/amd64,linux/arm64'"),
    "folded-block": basic(">-\n            linux/amd64,\n            linux/arm64"),
    "literal-block": basic("|\n            linux/amd64\n            linux/arm64"),
    "workflow-env": basic("${{ env.PLATFORMS }}").replace(
        "jobs:\n", "env:\n  PLATFORMS: linux/amd64,linux/arm64\n\njobs:\n"),
    "job-env": basic("${{ env.PLATFORMS }}").replace(
        "    runs-on: ubuntu-latest\n", "    runs-on: ubuntu-latest\n    env:\n      PLATFORMS: linux/amd64,linux/arm64\n"),
    "four-space": """\
name: image
on:
    push:
        branches: [main]
jobs:
    build:
        runs-on: ubuntu-24.04
        steps:
            -   uses: actions/checkout@v5
            -   uses: docker/setup-qemu-action@v3
            -   uses: docker/setup-buildx-action@v3
            -   uses: docker/build-push-action@v6
                with:
                    push: true
                    platforms: linux/amd64,linux/arm64
                    tags: docker.io/acme/app:edge
""",
    "mixed-indent": """\
name: image
on: [push]
jobs:
    build:
      runs-on: ubuntu-latest
      steps:
      - uses: actions/checkout@v5
      - uses: docker/setup-qemu-action@v3
      - uses: docker/setup-buildx-action@v3
      - uses: docker/build-push-action@v6
        with:
            platforms: linux/amd64,linux/arm64
            push: true
            tags: acme/app:latest
""",
    "flow-with": """\
name: image
on: push
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v5
      - uses: docker/setup-qemu-action@v3
      - uses: docker/setup-buildx-action@v3
      - uses: docker/build-push-action@v6
        with: { context: ., platforms: "linux/amd64,linux/arm64", push: true, tags: acme/app:latest }
""",
    "sha-pinned": """\
name: release
on:
  push:
    tags: ["v*"]
permissions:
  contents: read
jobs:
  docker:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@08c6903cd8c0fde910a37f88322edcfb5dd907a8 # v5.0.0
      - uses: docker/setup-buildx-action@e468171a9de216ec08956ac3ada2f0791b6bd435 # v3.11.1
      - uses: docker/build-push-action@263435318d21b8e681c14492fe198d362a7d2c83 # v6.18.0
        with:
          platforms: linux/amd64,linux/arm64
          push: true
          tags: ghcr.io/acme/app:${{ github.ref_name }}
""",
    "quoted-uses-and-on": """\
"name": "image"
"on":
  workflow_dispatch:
  push:
    branches: ["main"]
jobs:
  build:
    runs-on: "ubuntu-latest"
    steps:
      - uses: "actions/checkout@v5"
      - uses: "docker/setup-qemu-action@v3"
      - uses: "docker/setup-buildx-action@v3"
      - uses: "docker/build-push-action@v6"
        with:
          platforms: "linux/amd64,linux/arm64"
          push: true
          tags: "acme/app:latest"
""",
    "comments-and-blank-lines": """\
# Publishes the image.
name: image   # shown in the Actions tab

on:
  push:
    branches: [main]  # only main

jobs:
  # The one job.
  build:
    runs-on: ubuntu-latest  # x64

    steps:
      # Check out first.
      - uses: actions/checkout@v5

      # Emulation for arm64.
      - uses: docker/setup-qemu-action@v3   # default binfmt

      - uses: docker/setup-buildx-action@v3

      # Build both platforms.
      - uses: docker/build-push-action@v6
        with:
          # where the Dockerfile is
          context: .
          platforms: linux/amd64,linux/arm64   # both
          push: true
          tags: acme/app:latest
""",
    "node-matrix": """\
name: image
on: push
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
          build-args: NODE_VERSION=${{ matrix.node }}
          platforms: linux/amd64,linux/arm64
          push: true
          tags: acme/app:node${{ matrix.node }}
""",
    "platform-matrix": """\
name: image
on: push
jobs:
  build:
    runs-on: ubuntu-latest
    strategy:
      fail-fast: false
      matrix:
        platform: [linux/amd64, linux/arm64]
    steps:
      - uses: actions/checkout@v5
      - uses: docker/setup-qemu-action@v3
      - uses: docker/setup-buildx-action@v3
      - uses: docker/build-push-action@v6
        with:
          platforms: ${{ matrix.platform }}
          push: true
          tags: acme/app:latest
""",
    "computed-platforms": """\
name: image
on: push
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v5
      - id: plat
        run: echo "list=linux/amd64,linux/arm64" >> "$GITHUB_OUTPUT"
      - uses: docker/setup-qemu-action@v3
      - uses: docker/setup-buildx-action@v3
      - uses: docker/build-push-action@v6
        with:
          platforms: ${{ steps.plat.outputs.list }}
          push: true
          tags: acme/app:latest
""",
    "bake": """\
name: image
on: push
jobs:
  bake:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v5
      - uses: docker/setup-qemu-action@v3
      - uses: docker/setup-buildx-action@v3
      - uses: docker/bake-action@v6
        with:
          push: true
          targets: app
""",
    "shell-buildx": """\
name: image
on: push
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v5
      - uses: docker/setup-qemu-action@v3
      - uses: docker/setup-buildx-action@v3
      - name: Build
        run: |
          docker buildx build \\
            --platform linux/amd64,linux/arm64 \\
            --tag acme/app:latest \\
            --push .
""",
    "no-buildx": """\
name: image
on: push
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v5
      - uses: docker/build-push-action@v6
        with:
          platforms: linux/amd64,linux/arm64
          tags: acme/app:latest
""",
    "load-multi": """\
name: test image
on: pull_request
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v5
      - uses: docker/setup-qemu-action@v3
      - uses: docker/setup-buildx-action@v3
      - uses: docker/build-push-action@v6
        with:
          context: .
          file: docker/Dockerfile
          platforms: linux/amd64,linux/arm64
          load: true
          tags: acme/app:test
      - run: docker run --rm acme/app:test --version
""",
    "has-timeout": basic().replace("    runs-on: ubuntu-latest\n", "    runs-on: ubuntu-latest\n    timeout-minutes: 30\n"),
    "crlf": basic().replace("\n", "\r\n"),
    "no-final-newline": basic().rstrip("\n"),
    "reusable-remote": """\
name: image
on: push
jobs:
  build:
    uses: acme/shared-workflows/.github/workflows/docker.yml@v2
    with:
      platforms: linux/amd64,linux/arm64
""",
    "script-only": """\
name: image
on: push
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v5
      - run: ./scripts/build-image.sh
""",
}

# A reusable workflow and its caller: the build is in the called file.
REUSABLE_CALLEE = """\
name: build image
on:
  workflow_call:
    inputs:
      platforms:
        type: string
        default: linux/amd64,linux/arm64
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v5
      - uses: docker/setup-buildx-action@v3
      - uses: docker/build-push-action@v6
        with:
          platforms: ${{ inputs.platforms }}
          push: true
          tags: acme/app:latest
"""
REUSABLE_CALLER = """\
name: release
on: push
jobs:
  image:
    uses: ./.github/workflows/build.yml
    with:
      platforms: linux/amd64,linux/arm64
"""

NODE_SITE = """\
# syntax=docker/dockerfile:1
FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY . .
RUN npm run build

FROM nginx:1.27-alpine
COPY --from=build /app/dist /usr/share/nginx/html
"""

DOCKERFILES: dict[str, str] = {
    "node-site": NODE_SITE,
    "lowercase-as": NODE_SITE.replace("FROM node:22-bookworm-slim AS build", "from node:22-bookworm-slim as build"),
    "arg-before-from": "ARG NODE=22\n" + NODE_SITE.replace("node:22-bookworm-slim", "node:${NODE}-bookworm-slim"),
    "digest-pinned": NODE_SITE.replace(
        "node:22-bookworm-slim", "node:22-bookworm-slim@sha256:" + "5f6c1e0a" * 8),
    "cache-mount-continuation": NODE_SITE.replace(
        "RUN npm ci\n", "RUN --mount=type=cache,target=/root/.npm \\\n    npm ci \\\n      --include=dev\n"),
    "heredoc": NODE_SITE.replace("RUN npm run build\n", "RUN <<EOF\nset -e\nnpm run build\nEOF\n"),
    "copies-node-modules": NODE_SITE.replace(
        "COPY --from=build /app/dist /usr/share/nginx/html",
        "COPY --from=build /app/node_modules ./node_modules\nCOPY --from=build /app/dist ./dist"
    ).replace("FROM nginx:1.27-alpine", "FROM node:22-bookworm-slim"),
    "copies-whole-app": NODE_SITE.replace("COPY --from=build /app/dist /usr/share/nginx/html",
                                          "COPY --from=build /app /app"),
    "from-build-stage": NODE_SITE.replace("FROM nginx:1.27-alpine\nCOPY --from=build /app/dist /usr/share/nginx/html",
                                          "FROM build AS test\nRUN npm test"),
    "already-buildplatform": NODE_SITE.replace("FROM node", "FROM --platform=$BUILDPLATFORM node"),
    "single-stage": """\
FROM node:22-alpine
WORKDIR /app
COPY . .
RUN npm ci && npm run build
CMD ["node", "dist/server.js"]
""",
    "single-stage-exec-form": """\
FROM node:22-alpine
WORKDIR /app
COPY . .
RUN ["npm", "run", "build"]
CMD ["node", "dist/server.js"]
""",
    "go-cross": """\
FROM golang:1.23 AS build
ARG TARGETOS TARGETARCH
WORKDIR /src
COPY . .
RUN CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH go build -o /out/server ./cmd/server

FROM gcr.io/distroless/static
COPY --from=build /out/server /server
ENTRYPOINT ["/server"]
""",
    "go-native": """\
FROM golang:1.23 AS build
WORKDIR /src
COPY . .
RUN go build -o /out/server ./cmd/server

FROM debian:bookworm-slim
COPY --from=build /out/server /usr/local/bin/server
""",
    "yarn1": NODE_SITE.replace("package-lock.json", "yarn.lock").replace("RUN npm ci", "RUN yarn install --frozen-lockfile")
    .replace("RUN npm run build", "RUN yarn build"),
    "yarn-berry": NODE_SITE.replace("package-lock.json", "yarn.lock .yarnrc.yml").replace(
        "RUN npm ci", "RUN corepack enable && yarn install --immutable").replace("RUN npm run build", "RUN yarn build"),
    "pnpm": NODE_SITE.replace("package-lock.json", "pnpm-lock.yaml").replace(
        "RUN npm ci", "RUN --mount=type=cache,id=pnpm,target=/pnpm/store pnpm install --frozen-lockfile")
    .replace("RUN npm run build", "RUN pnpm build"),
    "maven-frontend": """\
FROM maven:3.9-eclipse-temurin-21 AS build
WORKDIR /code
COPY . .
RUN mvn -B package -DskipTests

FROM eclipse-temurin:21-jre
COPY --from=build /code/target/app.jar /app.jar
""",
    "crlf": NODE_SITE.replace("\n", "\r\n"),
}


def buildx_log(platform: str, stage: str | None, instruction: str, body: list[str], exit_code: int,
               index: str = "4/6") -> bytes:
    """A job log of a two-platform build whose ``platform`` leg failed at ``instruction``."""
    bracket = " ".join(p for p in (platform, stage, index) if p)
    command = instruction.removeprefix("RUN ").split("\n")[0]
    lines = [
        "Platforms: linux/amd64, linux/amd64/v2, linux/arm64, linux/arm/v7",
        "#10 [linux/amd64 build 4/6] RUN true",
        "#10 DONE 0.2s",
        f"#11 [{bracket}] {instruction}",
        *[f"#11 {12.5 + i:.2f} {line}" for i, line in enumerate(body)],
        f'#11 ERROR: process "/bin/sh -c {command}" did not complete successfully: exit code: {exit_code}',
        "------",
        f" > [{bracket}] {instruction}:",
        "------",
        f'ERROR: failed to solve: process "/bin/sh -c {command}" did not complete successfully: exit code: {exit_code}',
    ]
    return ("\n".join(f"2026-01-05T10:00:{i % 60:02d}.0000000Z {line}" for i, line in enumerate(lines)) + "\n").encode()


SIGILL = ["qemu: uncaught target signal 4 (Illegal instruction) - core dumped", "Illegal instruction (core dumped)"]


def sigill_log(instruction: str = "RUN npm ci", stage: str | None = "build", platform: str = "linux/arm64") -> bytes:
    return buildx_log(platform, stage, instruction, SIGILL, 132)


def run(workflows: dict[str, str], dockerfiles: dict[str, str], log: bytes, config: str | None = None,
        paths: tuple[str, ...] = (), **options):
    request = FixRequest(
        findings=diagnose_bytes(log, "job.log"), workflows=workflows, dockerfiles=dockerfiles,
        config=parse_config(config), repo_files=frozenset(list(workflows) + list(dockerfiles) + list(paths)),
        **options,
    )
    return fix(request)

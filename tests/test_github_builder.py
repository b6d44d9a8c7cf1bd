"""``github-builder``: the build job becomes a call of docker/github-builder's build.yml where the
job fits its limits (golden diffs, linted), its inputs, secret and permissions mapped from the
job, and a decline naming the limit wherever it does not fit."""

import pytest

from bot.fix import NoFix
from bot.versions import pin
from bot.workflows.yamldoc import load, plain

from .repos import NODE_SITE, WF, WORKFLOWS, run, sigill_log
from .test_fix import assert_valid, golden
from .test_restructure import STOREFRONT

BUILDER = pin("docker/github-builder/.github/workflows/build.yml")
WITH_OUTPUTS = """\
name: release
on:
  push:
    tags: ["v*"]
env:
  IMAGE: docker.io/acme/api
jobs:
  image:
    runs-on: ubuntu-24.04
    timeout-minutes: 90
    outputs:
      digest: ${{ steps.push.outputs.digest }}
    steps:
      - uses: actions/checkout@v5
        with:
          persist-credentials: false
      - uses: docker/setup-buildx-action@v3
      - uses: docker/login-action@v3
        with:
          username: ${{ vars.DOCKERHUB_USERNAME }}
          password: ${{ secrets.DOCKERHUB_TOKEN }}
      - id: push
        uses: docker/build-push-action@v6
        with:
          context: ./api
          file: ./api/Dockerfile
          platforms: linux/amd64,linux/arm64,linux/riscv64
          build-args: |
            VERSION=${{ github.ref_name }}
          target: runtime
          push: true
          tags: ${{ env.IMAGE }}:${{ github.ref_name }},${{ env.IMAGE }}:latest
  deploy:
    runs-on: ubuntu-latest
    needs: image
    steps:
      - run: echo "$DIGEST"
        env:
          DIGEST: ${{ needs.image.outputs.digest }}
"""
SHAPES = {
    "storefront-metadata-login-cache": STOREFRONT,
    "literal-tag": WORKFLOWS["comma-no-spaces"],
    "expression-tag": WORKFLOWS["sha-pinned"],
    "platforms-from-env": WORKFLOWS["workflow-env"],
    "outputs-dependents-env-riscv": WITH_OUTPUTS,
}


def call_of(text: str, job: str) -> dict:
    return plain(load(text))["jobs"][job]


@pytest.mark.parametrize("shape", SHAPES)
def test_github_builder(shape):
    text = SHAPES[shape]
    job = next(iter(load(text)["jobs"]))
    result = run({WF: text}, {"Dockerfile": NODE_SITE, "api/Dockerfile": NODE_SITE}, sigill_log(),
                 remedy="github-builder")
    assert result.remedy == "github-builder"
    assert_valid(result)  # schema, and no new zizmor or actionlint finding
    call = call_of(result.files[WF], job)
    assert call["uses"] == BUILDER.uses and f"{BUILDER.uses} # {BUILDER.version}" in result.files[WF]
    assert {"runs-on", "steps", "outputs", "env", "timeout-minutes"}.isdisjoint(call)
    assert call["permissions"]["contents"] == "read" and call["permissions"]["id-token"] == "write"
    assert call["with"]["output"] == "image"
    old = plain(load(text))
    for other in old["jobs"]:  # the rest of the workflow is as it was
        if other != job:
            assert plain(load(result.files[WF]))["jobs"][other] == old["jobs"][other]
    golden(f"github-builder-{shape}", result.diff)
    with pytest.raises(NoFix, match="no workflow step building this image"):  # a fixed point
        run({WF: result.files[WF]}, {"Dockerfile": NODE_SITE}, sigill_log(), remedy="github-builder")


def test_inputs_secret_and_permissions_come_from_the_job():
    storefront = call_of(run({WF: STOREFRONT}, {"Dockerfile": NODE_SITE}, sigill_log(),
                             remedy="github-builder").files[WF], "image")
    assert storefront["with"] == {
        "output": "image", "context": ".", "platforms": "linux/amd64,linux/arm64", "set-meta-labels": True,
        "push": "${{ github.event_name != 'pull_request' }}", "cache": True, "cache-mode": "max",
        "meta-images": "ghcr.io/acme/storefront"}
    assert storefront["secrets"] == {"registry-auths": "- registry: ghcr.io\n  username: ${{ github.actor }}\n"
                                                       "  password: ${{ secrets.GITHUB_TOKEN }}\n"}
    assert storefront["permissions"] == {"contents": "read", "id-token": "write", "packages": "write"}

    result = run({WF: WITH_OUTPUTS}, {"Dockerfile": NODE_SITE, "api/Dockerfile": NODE_SITE}, sigill_log(),
                 remedy="github-builder")
    api = call_of(result.files[WF], "image")
    assert api["with"]["meta-images"] == "docker.io/acme/api"  # `env.IMAGE` written out: a call cannot read env
    assert api["with"]["meta-tags"] == "type=raw,value=${{ github.ref_name }}\ntype=raw,value=latest\n"
    assert api["with"]["setup-qemu"] is True  # riscv64 has no native runner
    assert api["with"]["build-args"] == "VERSION=${{ github.ref_name }}\n"
    assert api["secrets"]["registry-auths"].startswith("- registry: docker.io\n")
    assert api["permissions"] == {"contents": "read", "id-token": "write"}
    # The dependent job reads the reusable workflow's own `digest` output.
    assert call_of(result.files[WF], "deploy")["steps"][0]["env"]["DIGEST"] == "${{ needs.image.outputs.digest }}"
    assert "linux/riscv64 on `ubuntu-24.04` (QEMU)" in result.explanation
    assert "`timeout-minutes`" in result.explanation  # what a call cannot keep is said


def test_a_configured_arm_label_becomes_the_runner_mapping():
    result = run({WF: STOREFRONT}, {"Dockerfile": NODE_SITE}, sigill_log(), remedy="github-builder",
                 config="arm-runner: ubuntu-24.04-arm-large\n")
    call = call_of(result.files[WF], "image")
    assert call["with"]["runner"] == ("default=ubuntu-24.04\nlinux/arm=ubuntu-24.04-arm-large\n"
                                      "linux/arm64=ubuntu-24.04-arm-large\n")


def _with_step(text: str, after: str, step: str) -> str:
    assert after in text
    return text.replace(after, after + step, 1)


BASIC = WORKFLOWS["comma-no-spaces"]
DECLINES = {
    "build-secrets": (BASIC + "          secrets: |\n            token=${{ secrets.NPM_TOKEN }}\n",
                      "the build uses build secrets (`secrets`)"),
    "ssh": (BASIC + "          ssh: default\n", "the build uses SSH (`ssh`)"),
    "custom-outputs": (BASIC + "          outputs: type=local,dest=out\n", "the build uses custom outputs (`outputs`)"),
    "step-before": (_with_step(BASIC, "      - uses: actions/checkout@v5\n", "      - run: npm run generate\n"),
                    "step `run` runs before the build; github-builder builds from the Git context"),
    "step-after": (BASIC + "      - run: echo done\n", "step `run` runs after the build in the same job"),
    "self-hosted": (BASIC.replace("runs-on: ubuntu-latest", "runs-on: [self-hosted, linux]"),
                    "not a GitHub-hosted Linux runner"),
    "job-outputs": (BASIC.replace("    runs-on: ubuntu-latest\n",
                                  "    runs-on: ubuntu-latest\n    outputs:\n      tag: ${{ steps.v.outputs.tag }}\n"),
                    "has the output `tag`"),
    "step-output-tags": (BASIC.replace("ghcr.io/acme/app:latest", "ghcr.io/acme/app:${{ steps.v.outputs.tag }}"),
                         "the tags are computed by the job at run time"),
    "matrix": (WORKFLOWS["node-matrix"], "sets `strategy`"),
    "bake-without-its-file": (WORKFLOWS["bake"], "the bake definition cannot be read before the run: no bake file"),
}


@pytest.mark.parametrize("case", DECLINES)
def test_declines_name_the_limit(case):
    text, message = DECLINES[case]
    with pytest.raises(NoFix) as caught:
        run({WF: text}, {"Dockerfile": NODE_SITE}, sigill_log(), remedy="github-builder")
    assert message in str(caught.value)


def test_ghes_and_the_matrix_preference_decline():
    with pytest.raises(NoFix, match="GitHub Enterprise Server"):
        run({WF: STOREFRONT}, {"Dockerfile": NODE_SITE}, sigill_log(), remedy="github-builder", ghes=True)
    with pytest.raises(NoFix, match="prefers the written-out matrix"):
        run({WF: STOREFRONT}, {"Dockerfile": NODE_SITE}, sigill_log(), remedy="github-builder",
            config="restructure: matrix\n")


def test_a_decline_moves_the_ladder_on():
    text = BASIC + "      - run: echo done\n"
    dockerfile = NODE_SITE.replace("COPY --from=build /app/dist /usr/share/nginx/html",
                                   "COPY --from=build /app/node_modules ./node_modules")
    result = run({WF: text}, {"Dockerfile": dockerfile}, sigill_log())
    assert result.remedy == "native-runners"
    assert "`github-builder` (step `run` runs after the build in the same job" in result.explanation


def test_the_restructure_setting_is_validated():
    from bot.config import ConfigError, parse_config

    assert parse_config(None).restructure == "github-builder"
    assert parse_config("restructure: matrix\n").restructure == "matrix"
    with pytest.raises(ConfigError, match="restructure: 'sideways' is not one of"):
        parse_config("restructure: sideways\n")
    assert parse_config("remedies: {github-builder: false}\n").allows("github-builder") is False


# Comments in a job github-builder replaces: on the job and its kept keys they go with the keys;
# inside the steps (wallabag/docker's "Documentation:" lines) they would be lost, so it declines.
COMMENTED_KEYS = BASIC.replace("""jobs:
  image:
    runs-on: ubuntu-latest
""", """jobs:
  # Publishes the image on every push to main.
  image: # the only image of this repository
    # Shown in the checks list.
    name: Build the image
    if: github.repository == 'acme/app' # not on forks
    runs-on: ubuntu-latest
""")
COMMENTED_STEPS = BASIC.replace("      - name: Set up Docker Buildx\n",
                                "      # Documentation: https://github.com/docker/setup-buildx-action\n"
                                "      - name: Set up Docker Buildx\n").replace(
    "          platforms: linux/amd64,linux/arm64\n",
    "          # Support for different platforms\n          platforms: linux/amd64,linux/arm64\n")


def _comments(text: str) -> list[str]:
    from bot.workflows.yamldoc import comment_of

    return sorted(c for line in text.splitlines() if (c := comment_of(line)))


def test_comments_on_the_job_and_its_kept_keys_are_carried():
    result = run({WF: COMMENTED_KEYS}, {"Dockerfile": NODE_SITE}, sigill_log(), remedy="github-builder")
    assert result.remedy == "github-builder"
    assert_valid(result)
    new = result.files[WF]
    assert set(_comments(COMMENTED_KEYS)) <= set(_comments(new))  # none lost
    assert "  image: # the only image of this repository\n" in new
    assert "    # Shown in the checks list.\n    name: Build the image\n" in new
    assert "    if: github.repository == 'acme/app' # not on forks\n" in new
    assert call_of(new, "image")["name"] == "Build the image"
    golden("github-builder-commented-keys", result.diff)


def test_comments_inside_the_steps_decline_and_native_runners_keeps_them():
    with pytest.raises(NoFix, match=r"job `image` has comments on what github-builder's call replaces "
                                    r"\(`# Documentation: https://github.com/docker/setup-buildx-action`\), "
                                    r"which would be lost"):
        run({WF: COMMENTED_STEPS}, {"Dockerfile": NODE_SITE}, sigill_log(), remedy="github-builder")
    dockerfile = NODE_SITE.replace("COPY --from=build /app/dist /usr/share/nginx/html",
                                   "COPY --from=build /app/node_modules ./node_modules")
    result = run({WF: COMMENTED_STEPS}, {"Dockerfile": dockerfile}, sigill_log())
    assert result.remedy == "native-runners"
    assert_valid(result)
    assert set(_comments(COMMENTED_STEPS)) <= set(_comments(result.files[WF]))

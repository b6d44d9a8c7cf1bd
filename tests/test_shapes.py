"""Never an internal error: on generated workflow shapes (styles, nesting, matrices, conditions,
anchors and aliases, builds of every kind), every remedy either gives a result that re-parses,
passes GitHub's workflow schema and keeps every comment, or declines with a reason."""

import collections
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.fix import NoFix
from bot.validate import workflow_errors

from .repos import NODE_SITE, WF, run, sigill_log

REMEDIES = [None, "native-runners", "platform-matrix", "pin-qemu", "add-buildx", "timeout-minutes",
            "drop-platform", "load-single-platform"]


def _comments(text: str) -> collections.Counter:
    return collections.Counter(m.group(0).strip() for m in re.finditer(r"(?m)(?<=\s)#[^\n]*$", text))


def _qemu_step_lines(text: str) -> list[str]:
    """The lines of the QEMU step (from its dash to the line that names the action)."""
    lines = text.replace("\r\n", "\n").split("\n")
    end = next(i for i, line in enumerate(lines) if "setup-qemu-action" in line)
    start = end
    while start > 0 and not lines[start].lstrip().startswith("-"):
        start -= 1
    return lines[start:end + 1]


@st.composite
def shapes(draw):
    unit = draw(st.sampled_from([2, 4]))
    i = " " * unit
    dash_in = draw(st.booleans())  # list dashes indented under their key, or flush
    docs_style = draw(st.booleans())  # Docker's documentation: the dash alone on its line
    comment = draw(st.sampled_from(["", "  # keep me"]))
    kind = draw(st.sampled_from(["build-push", "build-push", "build-push", "bake", "shell"]))
    platforms_from = draw(st.sampled_from(["literal", "flow-list", "workflow-env", "job-env", "matrix",
                                           "matrix-include", "input", "anchor"]))
    other_axis = draw(st.booleans())
    tags = draw(st.sampled_from(["literal", "meta", "computed", "block", "script-list"]))
    push = draw(st.sampled_from(["true", "${{ github.event_name != 'pull_request' }}", "false", None]))
    with_flow = draw(st.booleans())
    job_if = draw(st.booleans())
    runner = draw(st.sampled_from(["ubuntu-latest", "ubuntu-24.04", "${{ matrix.os }}", "[self-hosted, linux]"]))
    needs_after = draw(st.booleans())
    crlf = draw(st.booleans())
    platforms = draw(st.sampled_from(["linux/amd64,linux/arm64", "linux/amd64, linux/arm64/v8",
                                      "linux/arm64,linux/amd64,linux/arm/v7"]))
    # A second build step in the job: another image, a test build, a single-platform build, a
    # variant built FROM the first image, under a condition or not.
    second = draw(st.sampled_from([None, None, "push", "no-push", "single", "uses-first", "other-meta", "other-list",
                                   "load-test"]))
    second_if = draw(st.sampled_from([None, "github.event_name != 'pull_request'", "${{ github.ref == 'refs/heads/main' }}"]))

    steps_col = unit * 3 if dash_in else unit * 2
    dash = " " * steps_col

    def step(fields: list[str]) -> list[str]:
        """fields: lines relative to the step's key column."""
        if docs_style:
            return [dash + "-"] + [dash + "  " + f for f in fields]
        return [dash + "- " + fields[0]] + [dash + "  " + f for f in fields[1:]]

    top = ["name: image" + comment, "on:", f"{i}push:", f"{i}{i}branches: [main]"]
    if platforms_from == "input":
        top += [f"{i}workflow_dispatch:", f"{i}{i}inputs:", f"{i}{i}{i}platforms:",
                f"{i}{i}{i}{i}default: {platforms}", f"{i}{i}{i}{i}type: string"]
    if platforms_from in ("workflow-env", "anchor"):
        top += ["env:", f"{i}PLATFORMS: {'&plat ' if platforms_from == 'anchor' else ''}'{platforms}'"]
    job = [f"{i}build:"]
    if job_if:
        job.append(f"{i}{i}if: github.repository_owner == 'acme'")
    job.append(f"{i}{i}runs-on: {runner}")
    if comment:
        job.append(f"{i}{i}# the build job")
    if platforms_from == "job-env":
        job += [f"{i}{i}env:", f"{i}{i}{i}PLATFORMS: {platforms}"]
    matrix_lines = []
    if platforms_from in ("matrix", "matrix-include"):
        if platforms_from == "matrix":
            matrix_lines += [f"{i}{i}{i}{i}platform: [{', '.join(p.strip() for p in platforms.split(','))}]"]
        else:
            matrix_lines += [f"{i}{i}{i}{i}include:"] + [
                f"{i}{i}{i}{i}{i}- platform: {p.strip()}" for p in platforms.split(",")]
    if other_axis:
        matrix_lines.append(f"{i}{i}{i}{i}node: [20, 22]")
    if "matrix.os" in runner:
        matrix_lines.append(f"{i}{i}{i}{i}os: [ubuntu-latest]")
    if matrix_lines:
        job += [f"{i}{i}strategy:", f"{i}{i}{i}matrix:"] + matrix_lines
    job.append(f"{i}{i}steps:")
    steps = step(["uses: actions/checkout@v5"])
    steps += step(["name: Set up QEMU" + comment, "uses: docker/setup-qemu-action@v3"])
    steps += step(["uses: docker/setup-buildx-action@v3"])
    if tags == "meta":
        steps += step(["id: meta", "uses: docker/metadata-action@v5", "with:", f"{i}images: ghcr.io/acme/app"])
    if tags in ("computed", "script-list"):
        steps += step(["id: version", "run: echo \"tag=$(date +%s)\" >> \"$GITHUB_OUTPUT\""])
    value = {"literal": "${{ env.PLATFORMS }}", "workflow-env": "${{ env.PLATFORMS }}",
             "job-env": "${{ env.PLATFORMS }}", "anchor": "*plat", "matrix": "${{ matrix.platform }}",
             "matrix-include": "${{ matrix.platform }}", "input": "${{ inputs.platforms }}",
             "flow-list": platforms}[platforms_from]
    if platforms_from == "literal":
        value = platforms
    tag_value = {"literal": "ghcr.io/acme/app:latest", "meta": "${{ steps.meta.outputs.tags }}",
                 "computed": "ghcr.io/acme/app:${{ steps.version.outputs.tag }}",
                 "script-list": "${{ steps.version.outputs.tag }}",
                 "block": "|\n" + "\n".join(f"{dash}  {i}{i}ghcr.io/acme/app:{t}" for t in ("latest", "edge"))}[tags]
    if kind == "build-push":
        inputs = [("context", "."), ("platforms", value), ("tags", tag_value)] + (
            [("push", push)] if push is not None else [])
        if with_flow and tags != "block":
            flow = ", ".join(f"{k}: {repr(v) if ',' in v or '{' in v else v}" for k, v in inputs)
            steps += step(["name: Build" + comment, "id: build", "uses: docker/build-push-action@v6",
                           f"with: {{ {flow} }}"])
        else:
            steps += step(["name: Build" + comment, "uses: docker/build-push-action@v6", "with:"]
                          + [f"{i}{k}: {v}" for k, v in inputs])
        if second:
            second_platforms = {"single": "linux/amd64", "other-list": "linux/amd64,linux/arm64,linux/riscv64",
                                "load-test": None}.get(second, value)
            fields = ["name: Build second" + comment] + ([f"if: {second_if}"] if second_if else []) + [
                "uses: docker/build-push-action@v6", "with:"] + (
                [f"{i}platforms: {second_platforms}"] if second_platforms else [f"{i}load: true", f"{i}tags: app:test"])
            if second in ("push", "uses-first", "other-meta", "other-list"):
                fields += [f"{i}push: true", f"{i}tags: " + ("${{ steps.meta2.outputs.tags }}" if second == "other-meta"
                                                           else "ghcr.io/acme/app:alpine")]
            if second == "uses-first":
                fields.append(f"{i}build-args: BASE=ghcr.io/acme/app:latest")
            if second in ("no-push", "single"):
                fields.append(f"{i}push: false")
            if second == "other-meta":
                steps += step(["id: meta2", "uses: docker/metadata-action@v5", "with:",
                               f"{i}images: ghcr.io/acme/web"])
            steps += step(fields)
            if second == "load-test":
                steps += step(["name: Test" + comment, "run: docker run --rm app:test"])
    elif kind == "bake":
        steps += step(["name: Bake", "uses: docker/bake-action@v6", "with:", f"{i}targets: image",
                       f"{i}push: {push or 'false'}", f"{i}set: |", f"{i}{i}*.platform={platforms.replace(' ', '')}"])
    else:
        steps += step(["name: Build", "run: |",
                       f"{i}docker buildx build --platform {platforms.replace(' ', '')} -t ghcr.io/acme/app:latest "
                       + ("--push ." if push else ".")])
    steps += step(["if: ${{ always() }}", "run: echo \"${{ steps.build.outputs.digest }}\""])
    after = []
    if needs_after:
        after = [f"{i}deploy:", f"{i}{i}needs: build", f"{i}{i}runs-on: ubuntu-latest", f"{i}{i}steps:"] + \
            [dash + "- run: echo deployed"]
    text = "\n".join(top + ["jobs:"] + job + steps + after) + "\n"
    return text.replace("\n", "\r\n") if crlf else text


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(shapes(), st.sampled_from(REMEDIES))
def test_any_shape_gives_a_valid_result_or_a_reason(text, remedy):
    assert not workflow_errors(WF, text), "the generator wrote an invalid workflow"
    try:
        result = run({WF: text}, {"Dockerfile": NODE_SITE}, sigill_log(),
                     config="remedies: {drop-platform: true}\n", remedy=remedy)
    except NoFix as exc:
        assert str(exc).strip()  # declined, with the reason
        return
    new = result.files.get(WF)
    if new is None:
        return  # a Dockerfile remedy
    assert workflow_errors(WF, new) <= workflow_errors(WF, text)
    missing = _comments(text.replace("\r\n", "\n")) - _comments(new.replace("\r\n", "\n"))
    if "setup-qemu-action" not in new:  # removed on purpose (no leg emulates): its comments go with it
        missing -= _comments("\n".join(_qemu_step_lines(text)))
    assert not missing, f"{result.remedy} lost comments {missing}"
    if "\r\n" in text:
        assert new.count("\n") == new.count("\r\n")

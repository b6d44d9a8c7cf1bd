"""Property tests: on generated workflows of many shapes, every workflow remedy re-parses,
stays schema-valid, changes only the lines it owns, and is a fixed point."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.fix import NoFix
from bot.validate import workflow_errors
from bot.workflows.yamldoc import load, plain

from .repos import NODE_SITE, WF, run, sigill_log
from .test_fix import only_owned_lines_changed

SHA = {"actions/checkout": "08c6903cd8c0fde910a37f88322edcfb5dd907a8",
       "docker/setup-qemu-action": "29109295f81e9208d7d86ff1c6c12d2833863392",
       "docker/setup-buildx-action": "e468171a9de216ec08956ac3ada2f0791b6bd435",
       "docker/build-push-action": "263435318d21b8e681c14492fe198d362a7d2c83"}


@st.composite
def workflows(draw):
    unit = draw(st.sampled_from([2, 4]))
    dash_indented = draw(st.booleans())
    pinned = draw(st.booleans())
    quote = draw(st.sampled_from(["", '"', "'"]))
    flow = draw(st.booleans())
    blank = "\n" if draw(st.booleans()) else ""
    comment = draw(st.sampled_from(["", "  # note", " # v-ish"]))
    with_qemu = draw(st.booleans())
    with_buildx = draw(st.booleans())
    crlf = draw(st.booleans())
    platforms = draw(st.sampled_from(["linux/amd64,linux/arm64", "linux/amd64, linux/arm64",
                                      '"linux/amd64,linux/arm64"', "linux/arm64,linux/amd64,linux/arm/v7"]))
    i = " " * unit

    def uses(action, tag):
        ref = f"{action}@{SHA[action]} # {tag}.0.0" if pinned else f"{action}@{tag}"
        if pinned:
            return f"{ref}"
        return f"{quote}{ref}{quote}"

    steps_indent = i * 3 if dash_indented else i * 2
    key = steps_indent + "  " if unit == 2 or not dash_indented else steps_indent + "  "
    lines = ["name: image", "on:", f"{i}push:", f"{i * 2}branches: [main]", "jobs:", f"{i}build:",
             f"{i * 2}runs-on: ubuntu-latest{comment}", f"{i * 2}steps:"]
    step_lines = [[f"{steps_indent}- uses: {uses('actions/checkout', 'v5')}"]]
    if with_qemu:
        step_lines.append([f"{steps_indent}- name: QEMU{comment}", f"{key}uses: {uses('docker/setup-qemu-action', 'v3')}"])
    if with_buildx:
        step_lines.append([f"{steps_indent}- uses: {uses('docker/setup-buildx-action', 'v3')}"])
    build = [f"{steps_indent}- name: Build", f"{key}uses: {uses('docker/build-push-action', 'v6')}"]
    if flow:
        build.append(f"{key}with: {{ context: ., platforms: \"{platforms.strip(chr(34))}\", push: true }}")
    else:
        build += [f"{key}with:", f"{key}{i}context: .", f"{key}{i}platforms: {platforms}{comment}",
                  f"{key}{i}push: true"]
    step_lines.append(build)
    for group in step_lines:
        lines += group
        if blank:
            lines.append("")
    text = "\n".join(lines) + "\n"
    return text.replace("\n", "\r\n") if crlf else text


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(workflows(), st.sampled_from(["pin-qemu", "timeout-minutes", "drop-platform", "add-buildx"]))
def test_workflow_edits_are_minimal_valid_and_idempotent(text, remedy):
    assert not workflow_errors(WF, text)
    config = "remedies: {drop-platform: true}\n"
    try:
        result = run({WF: text}, {"Dockerfile": NODE_SITE}, sigill_log(), config=config, remedy=remedy)
    except NoFix as exc:
        # The only legitimate declines here: buildx already set up.
        assert remedy == "add-buildx" and "already sets up buildx" in str(exc)
        return
    new = result.files[WF]
    assert not workflow_errors(WF, new)
    only_owned_lines_changed(text, new, {"pin-qemu": 1, "timeout-minutes": 0, "drop-platform": 1,
                                         "add-buildx": 0}[remedy])
    before, after = plain(load(text)), plain(load(new))
    assert before["on"] == after["on"] and before["name"] == after["name"]
    if "\r\n" in text:
        assert new.count("\n") == new.count("\r\n")
    try:
        again = run({WF: new}, {"Dockerfile": NODE_SITE}, sigill_log(), config=config, remedy=remedy)
    except NoFix:
        return
    raise AssertionError(f"{remedy} changed its own result again:\n{again.diff}")


@settings(max_examples=500, deadline=None)
@given(st.one_of(st.text(max_size=40), st.booleans(), st.integers(-10**6, 10**6)), st.booleans())
def test_scalars_read_back_as_written(value, flow):
    from bot.workflows.yamldoc import scalar
    text = scalar(value, flow)
    document = f"k: {{ a: {text} }}\n" if flow else f"k: {text}\n"
    parsed = plain(load(document))["k"]
    assert (parsed["a"] if flow else parsed) == value

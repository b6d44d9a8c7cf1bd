"""Scripts around a `docker buildx build --push` (tests/shell_script_shapes.py): split per
platform with every byte of the script kept but the flags the legs change, the merge job
creating the image with the script's own tag words, or declined with the reason.

The tags are checked by running the scripts: the original build step's and the merge job's
create step's, each under bash with a `docker` on PATH that records its arguments."""

import os
import stat
import subprocess

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot import lint
from bot.fix import NoFix
from bot.workflows.yamldoc import load, plain

from .repos import NODE_SITE, WF, run, sigill_log
from .shell_script_shapes import DECLINED_SCRIPTS, SCRIPT, SCRIPT_WITH_ASSIGNMENTS, SCRIPT_WITH_EXPRESSION
from .test_fix import assert_valid, golden
from .test_lint import BOTH
from .test_realworld_shapes import fixed

# What GitHub would pass: the expressions the steps' env and scripts read, resolved.
CONTEXT = {"${{ github.ref_name }}": "v1.4.2", "${{ github.event.release.tag_name }}": "v2.0.1"}
RUN_ENV = {"GITHUB_REF": "refs/tags/v2.0.1"}


def _run(script: str, env: dict, tmp_path, name: str) -> list[list[str]]:
    """The `docker` commands ``script`` runs (expressions resolved first, as GitHub does)."""
    for expr, value in CONTEXT.items():
        script = script.replace(expr, value)
    bin_dir = tmp_path / f"bin-{name}"
    bin_dir.mkdir()
    log = tmp_path / f"{name}.log"
    docker = bin_dir / "docker"
    docker.write_text(f'#!/bin/bash\nprintf "%s\\n" "$@" >> {log}\necho "--" >> {log}\n')
    docker.chmod(docker.stat().st_mode | stat.S_IEXEC)
    work = tmp_path / f"work-{name}"
    work.mkdir()
    (work / ("a" * 64)).write_text("")  # one downloaded digest
    resolved = {k: CONTEXT.get(v, v) for k, v in env.items()}
    out = tmp_path / f"{name}.out"
    subprocess.run(["bash", "-e", "-c", script], cwd=work, check=True, timeout=30,
                   env={"PATH": f"{bin_dir}:{os.environ['PATH']}", "GITHUB_OUTPUT": str(out),
                        "RUNNER_TEMP": str(tmp_path), **RUN_ENV, **resolved})
    calls, call = [], []
    for line in log.read_text().splitlines():
        if line == "--":
            calls.append(call)
            call = []
        else:
            call.append(line)
    return calls


def _tags(words: list[str]) -> list[str]:
    return [words[i + 1] for i, w in enumerate(words[:-1]) if w in ("-t", "--tag")]


def _step(job: dict, name: str) -> dict:
    return next(s for s in job["steps"] if s.get("name") == name)


@pytest.mark.parametrize("text,job,step,name", [
    (SCRIPT_WITH_ASSIGNMENTS, "image", "Build and push", "assignments"),
    (SCRIPT_WITH_EXPRESSION, "publish", "Build and push the release", "expression"),
])
def test_a_script_around_the_build_is_split_and_merged_with_its_own_tags(text, job, step, name, tmp_path):
    result = fixed(text, "native-runners")
    golden(f"shell-script-{name}-native-runners", result.diff)
    assert lint.new_findings(WF, text, result.files[WF], BOTH) == []
    before, after = plain(load(text))["jobs"][job], plain(load(result.files[WF]))["jobs"]
    original = _step(before, step)
    [build] = [c for c in _run(original["run"], original.get("env") or {}, tmp_path, "original")
               if c[:2] == ["buildx", "build"]]
    # the leg: the same script, one platform, pushed by digest, no tags
    leg = _step(after[job], step)
    [leg_build] = [c for c in _run(leg["run"], {**(leg.get("env") or {}), "BUILD_PLATFORM": "linux/arm64"},
                                   tmp_path, "leg") if c[:2] == ["buildx", "build"]]
    assert leg_build[leg_build.index("--platform") + 1] == "linux/arm64"
    assert leg_build[leg_build.index("--output") + 1].startswith("type=image,")
    assert "push-by-digest=true" in leg["env"]["BUILD_OUTPUT"]
    assert not _tags(leg_build) and "--push" not in leg_build
    kept = [w for w in build if w not in ("--push", "--platform", "linux/amd64,linux/arm64")
            and w not in _tags(build) and w not in ("-t", "--tag")]
    assert [w for w in leg_build if w in kept] == kept  # every other word as the shell passes it
    # the merge job: the same tags, computed by the same shell words
    create = _step(after["merge"], "Create the multi-platform image")
    assert "${{" not in create["run"]
    [merged] = [c for c in _run(create["run"], create.get("env") or {}, tmp_path, "merge")
                if c[:3] == ["buildx", "imagetools", "create"]]
    assert _tags(merged) == _tags(build) and len(_tags(build)) == 2
    assert merged[-1].endswith("@sha256:" + "a" * 64)


def test_the_merge_job_repeats_only_the_assignments_the_tags_read():
    result = fixed(SCRIPT_WITH_ASSIGNMENTS, "native-runners")
    create = _step(plain(load(result.files[WF]))["jobs"]["merge"], "Create the multi-platform image")
    assert create["run"].startswith('VERSION="${IMAGE_TAG#v}"\ndocker buildx imagetools create')
    assert create["env"] == {"IMAGE_TAG": "${{ github.ref_name }}"}
    leg = _step(plain(load(result.files[WF]))["jobs"]["image"], "Build and push")
    assert leg["run"].startswith(SCRIPT.split("          docker buildx build")[0].replace("          ", ""))


@pytest.mark.parametrize("case", sorted(DECLINED_SCRIPTS))
def test_a_script_that_cannot_be_split_safely_is_declined_with_the_reason(case):
    script, reason = DECLINED_SCRIPTS[case]
    text = SCRIPT_WITH_ASSIGNMENTS.replace(SCRIPT, script)
    assert text != SCRIPT_WITH_ASSIGNMENTS
    with pytest.raises(NoFix) as exc:
        run({WF: text}, {"Dockerfile": NODE_SITE}, sigill_log(), remedy="native-runners")
    assert reason in str(exc.value)


def test_several_build_steps_are_each_their_own_image_under_their_own_condition(tmp_path):
    from .shell_script_shapes import SEVERAL_BUILD_STEPS
    result = fixed(SEVERAL_BUILD_STEPS, "native-runners")
    golden("shell-script-several-steps-native-runners", result.diff)
    assert lint.new_findings(WF, SEVERAL_BUILD_STEPS, result.files[WF], BOTH) == []
    before = plain(load(SEVERAL_BUILD_STEPS))["jobs"]["publish"]
    jobs = plain(load(result.files[WF]))["jobs"]
    legs = jobs["publish"]["steps"]
    merge = jobs["merge"]
    conditions = {s["name"]: s["if"] for s in before["steps"] if "if" in s}
    assert merge["if"] == "${{ " + " || ".join(f"({c})" for c in conditions.values()) + " }}"
    for n, (name, condition) in enumerate(conditions.items(), 1):
        original = _step(before, name)
        [build] = [c for c in _run(original["run"], {}, tmp_path, f"original-{n}") if c[:2] == ["buildx", "build"]]
        leg = next(s for s in legs if s.get("name") == name)
        export = _step(jobs["publish"], f"Export digest ({name})")
        upload = _step(jobs["publish"], f"Upload digest ({name})")
        assert leg["if"] == export["if"] == upload["if"] == condition  # no export after a skipped build
        create = next(s for s in merge["steps"] if s.get("id") == leg["id"])
        assert create["if"] == "${{ " + condition + " }}"
        [merged] = [c for c in _run(create["run"], create.get("env") or {}, tmp_path, f"merge-{n}")
                    if c[:3] == ["buildx", "imagetools", "create"]]
        assert _tags(merged) == _tags(build)
        assert upload["with"]["path"].endswith(create["working-directory"].rsplit("/", 1)[1] + "/*")


# -- generated scripts: a valid split or a decline with a reason, never an internal error ----

_STATEMENTS = [
    'VERSION="${IMAGE_TAG#v}"', "export CHANNEL=stable", "set -eux", "cd app", 'echo "v=$VERSION"',
    'printf "%s\\n" "$VERSION" >> "$GITHUB_STEP_SUMMARY"', 'echo "x=1" >> $GITHUB_OUTPUT', "# a comment",
    'STAMP="$(date +%s)"', "docker buildx inspect --bootstrap", "npm ci", 'if [ -n "$X" ]; then echo x; fi',
    "for f in a b; do echo $f; done", "echo done | tee out.txt", "docker push acme/app:latest",
    "docker buildx imagetools inspect acme/app:latest", "TAG=${{ github.event.release.tag_name }}",
    "echo 'unterminated", "make image &&", 'cat <<EOF\nhello\nEOF',
]
_OPTIONS = [
    "--platform linux/amd64,linux/arm64", "--platform=linux/amd64,linux/arm64", '--platform "$PLATFORMS"',
    "--push", "--push=false", "--load", "-t acme/app:latest", '--tag "acme/app:${VERSION}"',
    "--tag=acme/app:${{ github.sha }}", '-t "$OWNER/app:1"', "-t acme/app:$(git rev-parse HEAD)",
    '--label created="${STAMP}"', "--build-arg A=1", "-f ./Dockerfile", "--output type=local,dest=out",
    "--provenance=mode=max", "-tacme/app:joined", "--cache-from type=gha", "--tag",
]


@given(before=st.lists(st.sampled_from(_STATEMENTS), max_size=3),
       options=st.lists(st.sampled_from(_OPTIONS), min_size=1, max_size=6),
       after=st.lists(st.sampled_from(_STATEMENTS), max_size=1),
       continued=st.booleans())
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_a_generated_script_is_split_validly_or_declined(before, options, after, continued):
    join = " \\\n            " if continued else " "
    build = "docker buildx build" + join + join.join(options) + join + "."
    lines = "\n".join(before + [build] + after)
    script = "".join(f"          {line}\n" for line in lines.split("\n"))
    text = SCRIPT_WITH_ASSIGNMENTS.replace(SCRIPT, script)
    try:
        result = run({WF: text}, {"Dockerfile": NODE_SITE}, sigill_log(), remedy="native-runners")
    except NoFix as exc:
        assert "native-runners: " in str(exc)
        return
    assert_valid(result)
    jobs = plain(load(result.files[WF]))["jobs"]
    leg = _step(jobs["image"], "Build and push")
    assert "--push" not in leg["run"].split() and "push-by-digest=true" in leg["env"]["BUILD_OUTPUT"]


def test_untrusted_expressions_move_to_env_and_the_script_prints_the_same():
    from bot.remedies.restructure_shell import untrusted_to_env
    script = ("echo '${{ github.event.a }}' \"${{ github.event.release.tag_name }}\"\n"
              "V=${{ inputs.version }}\necho \"$V ${{ github.sha }}\"\n")
    moved, env = untrusted_to_env(script, {"RELEASE_TAG_NAME"})
    assert env == {"RELEASE_TAG_NAME_2": "${{ github.event.release.tag_name }}", "INPUTS_VERSION": "${{ inputs.version }}"}
    assert "'${{ github.event.a }}'" in moved and "${{ github.sha }}" in moved  # left as written
    values = {"${{ github.event.a }}": "$(id)", "${{ github.event.release.tag_name }}": "v1 $HOME",
              "${{ inputs.version }}": "2.0", "${{ github.sha }}": "abc"}

    def expand(text: str) -> str:  # what GitHub does before the shell runs
        for expr, value in values.items():
            text = text.replace(expr, value)
        return text

    def output(text: str, extra: dict) -> str:
        return subprocess.run(["bash", "-c", text], capture_output=True, text=True, check=True, timeout=30,
                              env={"PATH": os.environ["PATH"], "HOME": "/home/x", **extra}).stdout

    # the same output, except that the moved value is no longer re-read by the shell as code
    assert output(expand(moved), {k: expand(v) for k, v in env.items()}) == "$(id) v1 $HOME\n2.0 abc\n"
    assert output(expand(script), {}) == "$(id) v1 /home/x\n2.0 abc\n"

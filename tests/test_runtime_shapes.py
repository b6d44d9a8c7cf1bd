"""The per-platform restructure with values the job computes at run time (tests/runtime_shapes.py):
the build's own exporter, tags written by a step or chosen by an expression; golden diffs,
the generated scripts run by a real bash, and declines with a precise reason."""

import os
import re
import stat
import subprocess

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.fix import NoFix
from bot.remedies import runtime_tags
from bot.remedies.base import Decline
from bot.remedies.build_outputs import exporter
from bot.remedies.matrix_axes import expand
from bot.workflows.model import Workflow
from bot.workflows.yamldoc import load, plain

from . import runtime_shapes as shapes
from .repos import NODE_SITE, WF, run, sigill_log
from .test_fix import assert_valid, golden
from .test_shapes import _comments


def fixed(text: str, remedy: str = "native-runners"):
    result = run({WF: text}, {"Dockerfile": NODE_SITE}, sigill_log(), remedy=remedy)
    assert result.remedy == remedy
    assert_valid(result)
    assert not _comments(text) - _comments(result.files[WF]), "a comment was lost"
    return result


def declined(text: str, remedy: str = "native-runners") -> str:
    with pytest.raises(NoFix) as info:
        run({WF: text}, {"Dockerfile": NODE_SITE}, sigill_log(), remedy=remedy)
    return str(info.value)


def _step(steps: list, name: str) -> dict:
    return next(s for s in steps if s.get("name") == name)


def _build(steps: list) -> dict:
    return next(s for s in steps if str(s.get("uses", "")).startswith("docker/build-push-action"))


# -- the build's own exporter -----------------------------------------------------------


def test_the_build_s_own_image_exporter_is_kept_on_the_legs_and_its_index_annotation_merged():
    result = fixed(shapes.OWN_EXPORTER)
    golden("runtime-own-exporter-native-runners", result.diff)
    jobs = plain(load(result.files[WF]))["jobs"]
    outputs = _build(jobs["image"]["steps"])["with"]["outputs"]
    assert outputs == ("type=image,name=ghcr.io/${{ github.repository }},push-by-digest=true,name-canonical=true,"
                       "push=true,oci-mediatypes=true")
    create = _step(jobs["merge"]["steps"], "Create the multi-platform image")["run"]
    assert "--annotation 'index:org.opencontainers.image.description=The web app for every platform'" in create
    assert "name=target" not in result.files[WF]  # the tags named the image, as they did before


@pytest.mark.parametrize("entry,legs,merge,pushes", [
    ("type=registry", [], [], True),
    ("type=image,push=true,compression=zstd,force-compression=true", ["compression=zstd", "force-compression=true"],
     [], True),
    ("type=image,annotation.org.opencontainers.image.title=web", ["annotation.org.opencontainers.image.title=web"],
     [], False),
    ('type=image,"annotation-manifest-descriptor.org.opencontainers.image.source=https://x/y"', [],
     ["manifest-descriptor:org.opencontainers.image.source=https://x/y"], False),
    ("type=image,name=a/b,annotation-index.k=v,oci-mediatypes=true", ["oci-mediatypes=true"], ["index:k=v"], False),
])
def test_an_image_exporter_is_read_for_the_legs_and_the_merge(entry, legs, merge, pushes):
    found = exporter(entry)
    assert (found.leg_attributes, found.merge_annotations, found.pushes) == (legs, merge, pushes)


@pytest.mark.parametrize("entry,reason", [
    ("type=local,dest=out", "exports `type=local`"),
    ("type=docker", "exports `type=docker`"),
    ("type=oci,dest=image.tar", "exports `type=oci`"),
    ("type=tar,dest=image.tar", "exports `type=tar`"),
    ("type=image,push=true\ntype=local,dest=out", "sets 2 `outputs`"),
    ("${{ steps.x.outputs.value }}", "computed at run time"),
    ("type=image,annotation-index-descriptor.k=v", "OCI layout's own index"),
    ("type=image,annotation-index[linux/amd64].k=v", "for some platforms only"),
    ("type=image,unknown-thing=1", "sets `unknown-thing`"),
    ("name=a/b,push=true", "names no `type`"),
    ("-", "shorthand"),
    ('type=image,"name=a', "cannot be read"),
])
def test_an_exporter_a_push_by_digest_cannot_replace_is_declined_with_the_reason(entry, reason):
    with pytest.raises(Decline, match=reason.replace("[", r"\[").replace("(", r"\(")):
        exporter(entry)


def test_an_exporter_chosen_at_run_time_is_declined_naming_it():
    assert "the build's `outputs` is computed at run time (`${{ steps.output.outputs.value }}`)" in \
        declined(shapes.EXPORTER_FROM_A_STEP)


# -- tags computed at run time ----------------------------------------------------------


def test_a_tag_list_written_by_a_self_contained_script_is_repeated_in_the_merge_job():
    result = fixed(shapes.TAGS_FROM_A_SCRIPT)
    golden("runtime-tags-from-a-script-native-runners", result.diff)
    jobs = plain(load(result.files[WF]))["jobs"]
    legs = [s.get("name") or s.get("uses") for s in jobs["image"]["steps"]]
    build = _build(jobs["image"]["steps"])
    assert legs.index("Image names") == legs.index(build["uses"]) - 1
    assert build["with"]["outputs"].startswith('type=image,"name=${{ steps.image-names.outputs.names }}",push-by-digest=true')
    merge = jobs["merge"]["steps"]
    assert [s.get("id") for s in merge].index("version") < [s.get("id") for s in merge].index("build")
    assert _step(merge, "Create the multi-platform image")["env"] == {"MERGED_TAGS": "${{ steps.version.outputs.tags }}"}
    assert "outputs" not in jobs["image"]
    assert "merge job repeats the steps that compute the tags (`version`)" in result.explanation


def test_a_tag_list_computed_after_a_set_up_step_is_passed_on_as_a_job_output():
    result = fixed(shapes.TAGS_AFTER_A_SETUP)
    golden("runtime-tags-after-a-setup-native-runners", result.diff)
    jobs = plain(load(result.files[WF]))["jobs"]
    assert jobs["image"]["outputs"] == {"version-tags": "${{ steps.version.outputs.tags }}"}
    merge = jobs["merge"]["steps"]
    assert "version" not in [s.get("id") for s in merge]  # not repeated
    assert not any(str(s.get("uses", "")).startswith("actions/setup-node") for s in merge)
    assert _step(merge, "Create the multi-platform image")["env"] == {
        "MERGED_TAGS": "${{ needs.image.outputs.version-tags }}"}
    assert "whichever leg finished last" in result.explanation
    assert "every leg computes the same value" in result.explanation


def test_tags_from_an_input_or_the_metadata_step_are_split_when_the_merge_job_runs():
    result = fixed(shapes.TAGS_INPUT_OR_META)
    golden("runtime-tags-input-or-meta-native-runners", result.diff)
    jobs = plain(load(result.files[WF]))["jobs"]
    merge = jobs["merge"]
    assert "meta" in [s.get("id") for s in merge["steps"]]
    assert _step(merge["steps"], "Create the multi-platform image")["env"] == {
        "MERGED_TAGS": "${{ github.event.inputs.tags || steps.meta.outputs.tags }}"}
    assert merge["permissions"] == {"contents": "read", "packages": "write"}


@pytest.mark.parametrize("old,new,reason", [
    ('echo "tags=acme/app:$version,acme/app:latest"', 'echo "tags=acme/app:$version-$RUNNER_ARCH,acme/app:latest"\n'
     "          echo ${{ runner.arch }}", "from the leg's matrix or runner"),
    ('echo "tags=acme/app:$version,acme/app:latest"', 'echo "tags=${{ secrets.REPO }}:$version"',
     "GitHub does not pass a job output that holds a secret"),
    ("          tags: ${{ steps.version.outputs.tags }}\n", "          tags: ${{ steps.version.outputs.tags }}\n"
     "      - id: late\n        run: echo late\n", None),
])
def test_a_job_output_that_legs_could_disagree_on_is_declined(old, new, reason):
    text = shapes.TAGS_AFTER_A_SETUP.replace(old, new)
    assert text != shapes.TAGS_AFTER_A_SETUP
    if reason:
        message = declined(text)
        assert reason in message
        assert "not repeated in the merge job: step `Version` computes the tags with `npm`" in message
    else:
        fixed(text)  # a step after the build changes nothing


def test_tags_read_from_a_step_after_the_build_are_declined():
    text = shapes.TAGS_FROM_A_SCRIPT.replace("${{ steps.version.outputs.tags }}", "${{ steps.later.outputs.tags }}")
    text += "      - id: later\n        run: echo tags=a/b:1 >> \"$GITHUB_OUTPUT\"\n"
    assert "the tags depend on step `later`, which is not a step before the build" in declined(text)


def _bash(script: str, env: dict, cwd) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-e", "-c", script], env={**os.environ, **env}, cwd=cwd, capture_output=True,
                          text=True, check=True)


@pytest.mark.parametrize("tags,names", [
    ("acme/app:1.2,acme/app:latest", "acme/app"),
    ("ghcr.io/acme/app:1.2\nacme/app:1.2\n", "acme/app,ghcr.io/acme/app"),
    ("localhost:5000/app:1, localhost:5000/app", "localhost:5000/app"),
])
def test_the_legs_names_step_derives_tagless_names(tmp_path, tags, names):
    out = tmp_path / "out"
    _bash(runtime_tags.NAMES_SCRIPT, {"TAGS": tags, "GITHUB_OUTPUT": str(out)}, tmp_path)
    assert out.read_text() == f"names={names}\n"


def test_the_merge_script_creates_every_tag_from_every_digest(tmp_path):
    """The create script run by bash, against a `docker` that records its arguments."""
    result = fixed(shapes.TAGS_FROM_A_SCRIPT)
    step = _step(plain(load(result.files[WF]))["jobs"]["merge"]["steps"], "Create the multi-platform image")
    bin_dir, digests = tmp_path / "bin", tmp_path / "digests"
    bin_dir.mkdir()
    digests.mkdir()
    for d in ("aaa", "bbb"):
        (digests / d).touch()
    docker = bin_dir / "docker"
    docker.write_text('#!/bin/sh\nprintf "%s\\n" "$*" >> "$CALLS"\n'
                      'case "$*" in *inspect*) echo \'{"digest": "sha256:fff"}\';; esac\n')
    docker.chmod(docker.stat().st_mode | stat.S_IEXEC)
    calls, out = tmp_path / "calls", tmp_path / "out"
    _bash(step["run"], {"PATH": f"{bin_dir}:{os.environ['PATH']}", "CALLS": str(calls), "GITHUB_OUTPUT": str(out),
                        "MERGED_TAGS": "acme/app:1.2,acme/app:latest"}, digests)
    create, inspect = calls.read_text().splitlines()
    assert create == ("buildx imagetools create --tag=acme/app:1.2 --tag=acme/app:latest "
                      "acme/app@sha256:aaa acme/app@sha256:bbb")
    assert inspect.startswith("buildx imagetools inspect acme/app:1.2 ")
    assert out.read_text() == "digest=sha256:fff\n"


# -- any shape: a valid result or a reason ----------------------------------------------


@st.composite
def runtime_shapes(draw):
    text = draw(st.sampled_from([shapes.TAGS_FROM_A_SCRIPT, shapes.TAGS_AFTER_A_SETUP, shapes.TAGS_INPUT_OR_META,
                                 shapes.OWN_EXPORTER, shapes.SHELL_DOCKER_LOGIN_ENV_TAG, shapes.SHELL_BUILD_IN_A_MATRIX,
                                 shapes.PLATFORMS_FROM_A_SCRIPT, shapes.EXPORTER_FROM_A_STEP]))
    if draw(st.booleans()):  # a login script in place of the action, or one that does more
        text = re.sub(r"      - uses: docker/login-action@v3\n        with:\n(?:          .*\n)+?(?=      -|\Z)",
                      draw(st.sampled_from([
                          "      - env:\n          T: ${{ secrets.T }}\n        run: echo \"$T\" | docker login -u u --password-stdin\n",
                          "      - run: aws ecr get-login-password | docker login -u AWS --password-stdin r\n"])), text)
    if draw(st.booleans()):  # a value written to $GITHUB_ENV, read by the tags
        text = text.replace("      - uses: docker/setup-buildx-action@v3\n",
                            "      - uses: docker/setup-buildx-action@v3\n"
                            "      - run: echo \"IMAGE=acme/app\" >> \"$GITHUB_ENV\"\n", 1)
        text = text.replace("acme/app:", "${{ env.IMAGE }}:", 1)
    tags = draw(st.sampled_from([None, "${{ steps.version.outputs.tags }}", "acme/app:${{ steps.version.outputs.v }}",
                                 "${{ inputs.tags || 'acme/app:edge' }}", "${{ steps.meta.outputs.tags }}",
                                 "${{ matrix.tag }}", "acme/app:${{ runner.arch }}"]))
    if tags and "          tags: " in text:
        head, _, rest = text.partition("          tags: ")
        text = head + "          tags: " + tags + "\n" + rest.partition("\n")[2]
    outputs = draw(st.sampled_from([None, "type=image,oci-mediatypes=true", "type=registry,compression=zstd",
                                    "type=docker", "type=image,annotation-index.k=v v", "${{ inputs.out }}"]))
    if outputs and "outputs:" not in text:
        text = text.replace("          push: true\n", f"          push: true\n          outputs: {outputs}\n", 1)
    if draw(st.booleans()) and "strategy:" not in text:
        text = text.replace("    runs-on: ubuntu-latest\n", "    runs-on: ubuntu-latest\n    strategy:\n      matrix:\n"
                            "        variant: [slim, full]\n", 1)
    if draw(st.booleans()):
        text = text.replace("      - uses: actions/checkout@v5\n", "      - uses: actions/checkout@v5\n"
                            "      - uses: acme/prepare@v1\n", 1)
    if draw(st.booleans()):  # 4-space indentation (a step's keys 4 columns after its dash)
        text = "\n".join(re.sub(r"^( +)(- )?", lambda m: m.group(1) * 2 + ("-   " if m.group(2) else ""), line)
                         for line in text.split("\n"))
    return text


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(runtime_shapes())
def test_any_runtime_shape_gives_a_valid_result_or_a_reason(text):
    try:
        result = run({WF: text}, {"Dockerfile": NODE_SITE}, sigill_log(), remedy="native-runners")
    except NoFix as exc:
        assert str(exc).strip()
        return
    assert_valid(result)
    assert not _comments(text) - _comments(result.files[WF])


# -- a `docker login` script, a tag written to $GITHUB_ENV --------------------------------


def test_a_docker_login_script_and_env_written_tags_are_repeated_in_the_merge_job():
    result = fixed(shapes.SHELL_DOCKER_LOGIN_ENV_TAG)
    golden("runtime-shell-docker-login-env-tag-native-runners", result.diff)
    jobs = plain(load(result.files[WF]))["jobs"]
    merge = jobs["merge"]["steps"]
    runs = [s.get("run", "") for s in merge]
    login = next(i for i, r in enumerate(runs) if "docker login" in r)
    create = [s.get("name") for s in merge].index("Create the multi-platform image")
    # both steps that write the tag, in order, then the login, before the image is created
    assert [i for i, r in enumerate(runs) if "GITHUB_ENV" in r] == [login - 2, login - 1] and login < create
    assert merge[login]["env"] == {"TOKEN": "${{ secrets.GITHUB_TOKEN }}"}  # with the secret it reads
    assert merge[create]["env"] == {"MERGED_TAG_1": "ghcr.io/acme/os:${{ env.TAG }}"}
    assert jobs["merge"]["permissions"] == {"contents": "read", "packages": "write"}
    # the work after the build stays in the build job
    assert "npm run build:images" in [s.get("run") for s in jobs["release"]["steps"]]


@pytest.mark.parametrize("script", [
    'aws ecr get-login-password | docker login -u AWS --password-stdin "$REGISTRY"',
    'echo "${{ steps.token.outputs.value }}" | docker login ghcr.io -u me --password-stdin',
    'docker login ghcr.io -u me -p "$TOKEN" && docker pull ghcr.io/acme/base',
])
def test_a_login_script_the_merge_job_cannot_repeat_is_declined(script):
    text = shapes.SHELL_DOCKER_LOGIN_ENV_TAG.replace(
        'run: echo "$TOKEN" | docker login ghcr.io -u "$GITHUB_REPOSITORY_OWNER" --password-stdin', f"run: {script}")
    assert "logs in with a script that does more than `docker login`" in declined(text)


def test_a_build_push_action_job_that_logs_in_with_a_script_gets_the_login_in_the_merge_job():
    text = shapes.TAGS_FROM_A_SCRIPT.replace(
        "      - uses: docker/login-action@v3\n        with:\n          username: ${{ vars.DOCKERHUB_USER }}\n"
        "          password: ${{ secrets.DOCKERHUB_TOKEN }}\n",
        "      - name: Log in\n        env:\n          USER: ${{ vars.DOCKERHUB_USER }}\n"
        "          TOKEN: ${{ secrets.DOCKERHUB_TOKEN }}\n"
        "        run: printf '%s' \"$TOKEN\" | docker login -u \"$USER\" --password-stdin\n")
    assert text != shapes.TAGS_FROM_A_SCRIPT
    merge = plain(load(fixed(text).files[WF]))["jobs"]["merge"]["steps"]
    assert any("docker login" in s.get("run", "") and s.get("name") == "Log in" for s in merge)


# -- a shell build in a matrix; platforms a script writes ---------------------------------


def test_a_shell_build_in_a_matrix_gets_the_platform_as_one_more_dimension():
    result = fixed(shapes.SHELL_BUILD_IN_A_MATRIX)
    golden("runtime-shell-build-in-a-matrix-native-runners", result.diff)
    jobs = plain(load(result.files[WF]))["jobs"]
    matrix = jobs["images"]["strategy"]["matrix"]
    assert matrix["service"] == ["api", "worker"] and matrix["platform"] == ["linux/amd64", "linux/arm64"]
    upload = _step(jobs["images"]["steps"], "Upload digest")
    assert upload["with"]["name"] == "digests-images-${{ matrix.service }}-${{ matrix.pair }}"
    merge = jobs["merge"]
    assert merge["strategy"] == {"matrix": {"service": ["api", "worker"]}}  # one image per service
    assert merge["steps"][0]["with"]["pattern"] == "digests-images-${{ matrix.service }}-*"
    assert _step(merge["steps"], "Create the multi-platform image")["env"] == {
        "MERGED_IMAGE": "acme/${{ matrix.service }}", "MERGED_TAG_1": "acme/${{ matrix.service }}:${{ github.sha }}",
        "MERGED_TAG_2": "acme/${{ matrix.service }}:latest"}


def test_a_shell_build_in_a_matrix_with_include_keeps_the_entry_on_each_leg():
    text = shapes.SHELL_BUILD_IN_A_MATRIX.replace("        service: [api, worker]\n",
                                                  "        service: [api, worker]\n        include:\n"
                                                  "          - service: api\n            port: 80\n")
    jobs = plain(load(fixed(text).files[WF]))["jobs"]
    legs = expand(jobs["images"]["strategy"]["matrix"])
    assert sorted((leg["service"], leg["platform"], leg.get("port")) for leg in legs) == [
        ("api", "linux/amd64", 80), ("api", "linux/arm64", 80), ("worker", "linux/amd64", None),
        ("worker", "linux/arm64", None)]
    assert jobs["merge"]["strategy"]["matrix"] == {"service": ["api", "worker"],
                                                   "include": [{"service": "api", "port": 80}]}


def test_platforms_a_script_writes_literally_are_the_legs():
    result = fixed(shapes.PLATFORMS_FROM_A_SCRIPT)
    golden("runtime-platforms-from-a-script-native-runners", result.diff)
    legs = plain(load(result.files[WF]))["jobs"]["docker"]["strategy"]["matrix"]["include"]
    assert [e["platform"] for e in legs] == ["linux/amd64", "linux/arm64/v8", "linux/arm/v7"]
    assert "whose script writes `linux/amd64,linux/arm64/v8,linux/arm/v7`" in result.explanation


def test_platforms_a_script_sets_in_a_variable_are_read_too():
    text = shapes.PLATFORMS_FROM_A_SCRIPT.replace(
        '          echo "platforms=linux/amd64,linux/arm64/v8,linux/arm/v7" >> $GITHUB_OUTPUT\n',
        '          PLATFORMS="linux/amd64,linux/arm64"\n          echo "platforms=${PLATFORMS}" >> $GITHUB_OUTPUT\n')
    legs = plain(load(fixed(text).files[WF]))["jobs"]["docker"]["strategy"]["matrix"]["include"]
    assert [e["platform"] for e in legs] == ["linux/amd64", "linux/arm64"]


@pytest.mark.parametrize("line", [
    'echo "platforms=$(cat platforms.txt)" >> $GITHUB_OUTPUT',
    'echo "platforms=$PLATFORMS" >> $GITHUB_OUTPUT',
    'echo "platforms=linux/amd64" >> $GITHUB_OUTPUT\n          echo "platforms=linux/amd64,linux/arm64" >> $GITHUB_OUTPUT',
    'echo "platforms=all" >> $GITHUB_OUTPUT',
])
def test_platforms_a_script_computes_stay_unknown(line):
    text = shapes.PLATFORMS_FROM_A_SCRIPT.replace(
        'echo "platforms=linux/amd64,linux/arm64/v8,linux/arm/v7" >> $GITHUB_OUTPUT', line)
    assert "`${{ steps.prepare.outputs.platforms }}` is computed at run time" in declined(text)


def test_a_step_that_reads_a_computed_tag_after_the_build_is_declined_naming_it():
    text = shapes.TAGS_FROM_A_SCRIPT + "      - run: docker pull ${{ steps.version.outputs.tags }}\n"
    assert "step 7 (`docker pull ${{ steps.version.outputs.tags }}`) reads the pushed tag" in declined(text)
    with pytest.raises(Decline, match="reads the pushed tag, which is computed at run time"):
        runtime_tags.check_tag_readers(Workflow.parse(WF, text).steps("image"), 5, [], "${{steps.version.outputs.tags}}")


def test_a_shell_build_already_split_per_native_runner_is_recognised():
    text = shapes.SHELL_BUILD_IN_A_MATRIX.replace("    runs-on: ubuntu-latest\n", "    runs-on: ${{ matrix.runner }}\n").replace(
        "        service: [api, worker]\n", "        include:\n          - {platform: linux/amd64, runner: ubuntu-24.04}\n"
        "          - {platform: linux/arm64, runner: ubuntu-24.04-arm}\n")
    assert "already builds each platform on its native runner" in declined(text)

"""The shapes the real-world corpus taught (tests/realworld_shapes.py): golden diffs, valid
results that keep every comment, and declines with a reason."""

import re
import shlex

import pytest

from bot import lint

from bot.fix import NoFix
from bot.remedies.restructure import merged_tags
from bot.workflows.yamldoc import load, plain

from .realworld_shapes import (ARM64_V8, ARM64_V8_EXPRESSION_IMAGE, DOCS_STYLE, EMULATED_ARCH_MATRIX,
                               FLOW_ACROSS_LINES, FLOW_MATRIX_ACROSS_LINES, FLOW_SHARED_LINE, NATIVE_EXPRESSION,
                               NATIVE_OS_PLATFORMS)
from .repos import NODE_SITE, WF, run, sigill_log
from .test_fix import assert_valid, golden
from .test_lint import BOTH
from .test_shapes import _comments


def fixed(text: str, remedy: str | None = None, platform: str = "linux/arm64"):
    result = run({WF: text}, {"Dockerfile": NODE_SITE}, sigill_log(platform=platform), remedy=remedy)
    assert_valid(result)
    assert not _comments(text) - _comments(result.files[WF]), "a comment was lost"
    return result


@pytest.mark.parametrize("remedy", ["native-runners", "pin-qemu", "timeout-minutes"])
def test_docker_documentation_style_is_edited_in_its_own_style(remedy):
    result = fixed(DOCS_STYLE.replace("build-on-buildplatform", ""), remedy)
    golden(f"realworld-docs-style-{remedy}", result.diff)
    new = result.files[WF]
    # every new step has its dash alone on its line, like the file's own
    assert "      - name:" not in new and "      - uses:" not in new


def test_docker_documentation_style_gets_buildx_added():
    text = DOCS_STYLE.replace("      -\n        name: Set up QEMU\n        uses: docker/setup-qemu-action@v3\n", "")
    result = fixed(text, "add-buildx")
    steps = plain(load(result.files[WF]))["jobs"]["docker"]["steps"]
    names = [s.get("name") for s in steps]
    assert names.index("Set up Docker Buildx") == names.index("Build and push") - 1


def test_arm64_v8_is_arm64():
    result = fixed(ARM64_V8, "native-runners")
    include = plain(load(result.files[WF]))["jobs"]["image"]["strategy"]["matrix"]["include"]
    assert {e["platform"]: e["runner"] for e in include}["linux/arm64/v8"] == "ubuntu-24.04-arm"
    assert not any(e.get("qemu") for e in include)


def test_an_image_name_computed_by_a_step_is_derived_from_the_tags_at_run_time():
    result = fixed(ARM64_V8_EXPRESSION_IMAGE, "native-runners")
    jobs = plain(load(result.files[WF]))["jobs"]
    build = next(s for s in jobs["image"]["steps"] if s.get("id") == "build")
    assert '"name=${{ steps.image-names.outputs.names }}"' in build["with"]["outputs"]
    assert [s.get("id") for s in jobs["merge"]["steps"] if s.get("id") in ("hub", "meta")] == ["hub", "meta"]
    assert jobs["merge"]["permissions"] == {"contents": "read", "packages": "write"}  # one name is on GHCR


@pytest.mark.parametrize("text", [NATIVE_OS_PLATFORMS, NATIVE_EXPRESSION], ids=["os-platforms", "expression"])
def test_already_native_is_recognised_whatever_the_keys(text):
    with pytest.raises(NoFix, match="already builds each platform on its native runner"):
        run({WF: text}, {"Dockerfile": NODE_SITE}, sigill_log(), remedy="native-runners")


def test_new_matrix_keys_never_collide():
    result = fixed(EMULATED_ARCH_MATRIX, "native-runners")
    golden("realworld-arch-matrix-native-runners", result.diff)
    job = plain(load(result.files[WF]))["jobs"]["build"]
    assert job["runs-on"] == "${{ matrix.runner-2 }}"
    assert job["strategy"]["matrix"]["runner"] == ["default"]
    assert {e["arch"]: e["runner-2"] for e in job["strategy"]["matrix"]["include"]} == {
        "linux/amd64": "ubuntu-latest", "linux/arm64/v8": "ubuntu-24.04-arm"}


@pytest.mark.parametrize("name,text", [("computed-tags", "COMPUTED_TAGS"), ("meta-reads-a-step", "META_READS_A_STEP")])
def test_steps_that_compute_the_tags_are_repeated_in_the_merge_job(name, text):
    from . import realworld_shapes
    source = getattr(realworld_shapes, text)
    result = fixed(source, "native-runners")
    golden(f"realworld-{name}-native-runners", result.diff)
    jobs = plain(load(result.files[WF]))["jobs"]
    merge_steps = jobs["merge"]["steps"]
    ids = [s.get("id") for s in merge_steps]
    wanted = "version" if name == "computed-tags" else "set-version"
    assert wanted in ids and any(str(s.get("uses", "")).startswith("actions/checkout") for s in merge_steps)
    assert ids.index(wanted) < ids.index("build")  # computed before the image is created
    # the legs still compute it too (their outputs name the image)
    assert wanted in [s.get("id") for s in jobs["image"]["steps"]]


def test_platforms_from_an_input_default():
    from .realworld_shapes import INPUT_DEFAULT
    result = fixed(INPUT_DEFAULT, "native-runners")
    golden("realworld-input-default-native-runners", result.diff)
    include = plain(load(result.files[WF]))["jobs"]["build"]["strategy"]["matrix"]["include"]
    assert [e["platform"] for e in include] == ["linux/amd64", "linux/arm64"]
    assert "no longer changes them" in result.explanation
    with pytest.raises(NoFix, match="its default is"):
        run({WF: INPUT_DEFAULT}, {"Dockerfile": NODE_SITE}, sigill_log(), config="remedies: {drop-platform: true}\n",
            remedy="drop-platform")


def test_a_matrix_over_another_dimension_gets_the_platform_as_one_more():
    from .realworld_shapes import OTHER_DIMENSION
    result = fixed(OTHER_DIMENSION, "native-runners")
    golden("realworld-other-dimension-native-runners", result.diff)
    jobs = plain(load(result.files[WF]))["jobs"]
    matrix = jobs["build"]["strategy"]["matrix"]
    assert matrix["node"] == [20, 22] and matrix["platform"] == ["linux/amd64", "linux/arm64"]
    upload = next(s for s in jobs["build"]["steps"] if s.get("name") == "Upload digest")
    assert upload["with"]["name"] == "digests-build-${{ matrix.node }}-${{ matrix.pair }}"
    merge = jobs["merge"]
    assert merge["strategy"] == {"matrix": {"node": [20, 22]}}  # one merged image per Node version
    download = merge["steps"][0]
    assert download["with"]["pattern"] == "digests-build-${{ matrix.node }}-*"
    create = next(s for s in merge["steps"] if s.get("name") == "Create the multi-platform image")
    assert "ghcr.io/acme/app:node${{ matrix.node }}" in create["env"].values()


@pytest.mark.parametrize("remedy", ["drop-platform", "pin-qemu", "native-runners"])
def test_flow_collections_across_lines_are_edited_in_place(remedy):
    result = fixed(FLOW_ACROSS_LINES, remedy)
    assert result.remedy == remedy
    golden(f"realworld-flow-across-lines-{remedy}", result.diff)
    new = result.files[WF]
    assert "        with: {\n" in new and "    branches: [\n      main,\n    ]\n" in new  # the layout stays
    steps = plain(load(new))["jobs"]["build"]["steps"]
    build = next(s for s in steps if str(s.get("uses", "")).startswith("docker/build-push-action"))
    if remedy == "drop-platform":
        assert build["with"]["platforms"] == "linux/amd64"
    if remedy == "pin-qemu":
        qemu = next(s for s in steps if str(s.get("uses", "")).startswith("docker/setup-qemu-action"))
        assert qemu["with"]["platforms"] == "arm64" and qemu["with"]["image"].startswith("tonistiigi/binfmt:")
    if remedy == "native-runners":
        assert build["with"]["platforms"] == "${{ matrix.platform }}" and "push-by-digest=true" in build["with"]["outputs"]
        assert {"push", "tags"}.isdisjoint(build["with"])


def test_a_flow_sequence_matrix_across_lines_is_fixed():
    result = fixed(FLOW_MATRIX_ACROSS_LINES, "pin-qemu")
    golden("realworld-flow-matrix-across-lines-pin-qemu", result.diff)
    assert "        platforms: [\n          linux/amd64,\n          linux/arm64,\n        ]\n" in result.files[WF]
    with pytest.raises(NoFix, match="the platforms come from the job's matrix"):
        run({WF: FLOW_MATRIX_ACROSS_LINES}, {"Dockerfile": NODE_SITE}, sigill_log(), remedy="drop-platform")


def test_a_flow_entry_sharing_its_line_is_declined_with_the_reason():
    with pytest.raises(NoFix, match="cannot .*an entry that shares its line in a flow mapping over several lines"):
        run({WF: FLOW_SHARED_LINE}, {"Dockerfile": NODE_SITE}, sigill_log(), remedy="native-runners")
    assert fixed(FLOW_SHARED_LINE, "drop-platform").remedy == "drop-platform"  # a value alone is replaced in place


def _leg_command(step: dict) -> list[str]:
    """The leg's build command as the shell will run it: continuations joined, `$VAR`s from env."""
    words = shlex.split(step["run"].replace("\\\n", " "))
    return [re.sub(r"\$([A-Z_]+)", lambda m: step["env"].get(m.group(1), m.group(0)), w) for w in words]


@pytest.mark.parametrize("remedy", ["native-runners", "platform-matrix"])
def test_a_single_buildx_command_gets_one_leg_per_platform_and_a_merge(remedy):
    from .realworld_shapes import SHELL_BUILDX_PUSH
    result = fixed(SHELL_BUILDX_PUSH, remedy)
    golden(f"realworld-shell-buildx-{remedy}", result.diff)
    assert lint.new_findings(WF, SHELL_BUILDX_PUSH, result.files[WF], BOTH) == []
    jobs = plain(load(result.files[WF]))["jobs"]
    legs = jobs["image"]["strategy"]["matrix"]["include"]
    assert [e["platform"] for e in legs] == ["linux/amd64", "linux/arm64"]
    build = next(s for s in jobs["image"]["steps"] if s.get("name") == "Build and push")
    words = _leg_command(build)
    assert words[:3] == ["docker", "buildx", "build"] and words[-1] == "."
    assert words[words.index("--platform") + 1] == "${{ matrix.platform }}"
    assert words[words.index("--output") + 1] == \
        "type=image,name=ghcr.io/acme/web,push-by-digest=true,name-canonical=true,push=true"
    assert words[words.index("--build-arg") + 1] == "VERSION=1.2 beta"  # kept as written
    assert "--push" not in words and "-t" not in words and "--tag" not in words
    assert "${{" not in build["run"]  # the leg's values come through env
    names = [s.get("name") for s in jobs["image"]["steps"]]
    assert names.index("Export digest") == names.index("Build and push") + 1
    assert names.index("Upload digest") == names.index("Export digest") + 1
    assert "containerimage.digest" in jobs["image"]["steps"][names.index("Export digest")]["run"]
    assert merged_tags(jobs["merge"]) == ["ghcr.io/acme/web:latest", "ghcr.io/acme/web:${{ github.sha }}"]
    assert any(str(s.get("uses", "")).startswith("docker/login-action") for s in jobs["merge"]["steps"])
    qemu = any(str(s.get("uses", "")).startswith("docker/setup-qemu-action") for s in jobs["image"]["steps"])
    assert qemu == (remedy == "platform-matrix")


def test_a_one_line_buildx_command_on_the_dash_line_stays_one_line():
    from .realworld_shapes import SHELL_BUILDX_PUSH
    text = SHELL_BUILDX_PUSH.replace(
        "      - name: Build and push\n        # every platform at once\n        run: |\n"
        "          docker buildx build \\\n            --platform linux/amd64,linux/arm64 \\\n"
        "            --build-arg \"VERSION=1.2 beta\" \\\n            -t ghcr.io/acme/web:latest \\\n"
        "            --tag ghcr.io/acme/web:${{ github.sha }} \\\n            --push .\n",
        "      - run: docker buildx build --push --platform=linux/amd64,linux/arm64/v8 --tag=acme/web:1 .\n")
    assert text != SHELL_BUILDX_PUSH
    result = fixed(text, "native-runners")
    jobs = plain(load(result.files[WF]))["jobs"]
    build = next(s for s in jobs["image"]["steps"] if s.get("id") == "build")
    assert "\n" not in build["run"]
    assert _leg_command(build)[3:5] == ["--platform", "${{ matrix.platform }}"]
    assert {e["platform"]: e["runner"] for e in jobs["image"]["strategy"]["matrix"]["include"]} == {
        "linux/amd64": "ubuntu-latest", "linux/arm64/v8": "ubuntu-24.04-arm"}
    assert merged_tags(jobs["merge"]) == ["acme/web:1"]


_BUILD_LINES = ("          docker buildx build \\\n            --platform linux/amd64,linux/arm64 \\\n"
                "            --build-arg \"VERSION=1.2 beta\" \\\n            -t ghcr.io/acme/web:latest \\\n"
                "            --tag ghcr.io/acme/web:${{ github.sha }} \\\n            --push .\n")


@pytest.mark.parametrize("replacement,reason", [
    ("          npm test\n" + _BUILD_LINES, "runs `npm test` before the build"),
    (_BUILD_LINES.replace("--push .", "--push . && echo done"), "is part of a list"),
    (_BUILD_LINES.replace("linux/amd64,linux/arm64", "$PLATFORMS"), "reads a variable"),
    (_BUILD_LINES.replace("--push .", "."), "does not `--push`"),
    (_BUILD_LINES.replace("--push .", "--push=false ."), "does not `--push`"),
    (_BUILD_LINES.replace("-t ghcr.io", "-tghcr.io"), "joins a short option and its value"),
    (_BUILD_LINES.replace("--push .", "--push --load ."), "sets its own `--output`, `--load`"),
    (_BUILD_LINES.replace("web:latest", "web:$(git describe)"), "command substitution"),
    (_BUILD_LINES.replace("web:latest", "web:$VERSION"), "reads the shell variable `VERSION`, which the merge job"),
    (_BUILD_LINES.replace("--push .", "--push 'unterminated ."), "cannot be parsed"),
    (_BUILD_LINES.replace("docker buildx build", "docker build"), "not `docker buildx build`"),
], ids=["unknown-command", "chained", "variable-platforms", "no-push", "push-false", "short-joined", "load", "substitution", "shell-var-tag",
        "unparsable", "not-buildx"])
def test_anything_more_than_one_buildx_command_is_declined_with_the_reason(replacement, reason):
    from .realworld_shapes import SHELL_BUILDX_PUSH
    text = SHELL_BUILDX_PUSH.replace(_BUILD_LINES, replacement)
    assert text != SHELL_BUILDX_PUSH or replacement == _BUILD_LINES
    for remedy in ("native-runners", "platform-matrix"):
        with pytest.raises(NoFix, match=re.escape(reason)):
            run({WF: text}, {"Dockerfile": NODE_SITE}, sigill_log(), remedy=remedy)


def test_two_buildx_lines_in_two_steps_are_two_images():
    from .realworld_shapes import SHELL_BUILDX_PUSH
    text = SHELL_BUILDX_PUSH.replace("        run: echo pushed\n",
                                     "        run: docker buildx build --platform linux/amd64,linux/arm64 -t a/b:1 --push .\n")
    jobs = plain(load(fixed(text, "native-runners").files[WF]))["jobs"]
    assert merged_tags(jobs["merge"], "build") == ["ghcr.io/acme/web:latest", "ghcr.io/acme/web:${{ github.sha }}"]
    assert merged_tags(jobs["merge"], "build-2") == ["a/b:1"]


@pytest.mark.parametrize("name,text,job", [("tag-users", "TAG_USERS", "build"),
                                           ("bake-tag-users", "BAKE_TAG_USERS", "bake")])
def test_steps_that_use_the_pushed_tags_move_to_the_merge_job(name, text, job):
    from . import realworld_shapes
    result = fixed(getattr(realworld_shapes, text), "native-runners")
    golden(f"realworld-{name}-native-runners", result.diff)
    jobs = plain(load(result.files[WF]))["jobs"]
    leg_names = [s.get("name") for s in jobs[job]["steps"]]
    merge_names = [s.get("name") for s in jobs["merge"]["steps"]]
    users = ["Check manifest", "Scan", "Sign"] if name == "tag-users" else ["Inspect image"]
    assert not set(users) & set(leg_names)
    # after the image (and so its tags) is created, in their original order
    assert [n for n in merge_names if n in users] == users
    assert merge_names.index(users[0]) > merge_names.index("Create the multi-platform image")
    if name == "tag-users":
        assert "Announce" in leg_names  # it does not use the image
        # the scanner reads ./trivy.yaml, so the merge job checks the repository out
        assert str(jobs["merge"]["steps"][1].get("uses", "")).startswith("actions/checkout")
        # the image name is `${{ env.GHCR_SLUG }}` (workflow env, seen by the merge job too): GHCR
        # and keyless signing needs the OIDC token
        assert jobs["merge"]["permissions"] == {"contents": "read", "packages": "write", "id-token": "write"}
        # cosign is installed in the merge job too, before the signature
        assert merge_names.index("Install cosign") < merge_names.index("Sign")
    assert "use the pushed image (its digest or its tags) moved" in result.explanation


TAG_USER_DECLINES = {
    "reads-the-build-metadata": (
        "        name: Announce\n        run: echo built\n",
        "        name: Announce\n        env:\n          META: ${{ steps.build.outputs.metadata }}\n"
        "        run: docker pull ghcr.io/acme/app:main && echo \"$META\"\n",
        r"step `Announce` uses the pushed image and reads the build's `metadata` output"),
    "reads-the-matrix": (
        "          trivy-config: ./trivy.yaml\n",
        "          trivy-config: ./trivy-${{ matrix.flavour }}.yaml\n",
        r"step `Scan` uses the pushed image and reads `matrix.flavour`"),
    "reads-a-step-that-stays": (
        "          trivy-config: ./trivy.yaml\n",
        "          trivy-config: ${{ steps.config.outputs.path }}\n",
        r"step `Scan` would move to the merge job but reads `steps.config`"),
}
# A step that stays in the legs (for the last case); a reference to a step the job does not
# have at all reads as empty in either job, and does not stop the move.
CONFIG_STEP = ("        name: Build\n",
               "        name: Config\n        id: config\n        run: echo \"path=./trivy.yaml\" >> \"$GITHUB_OUTPUT\"\n"
               "      -\n        name: Build\n")


@pytest.mark.parametrize("case", TAG_USER_DECLINES)
def test_a_tag_user_that_cannot_move_is_declined_naming_it(case):
    from .realworld_shapes import TAG_USERS
    old, new, reason = TAG_USER_DECLINES[case]
    assert old in TAG_USERS
    text = TAG_USERS.replace(old, new)
    if case == "reads-the-build-metadata":
        text = text.replace("        name: Build\n", "        name: Build\n        id: build\n")
    if case == "reads-a-step-that-stays":
        text = text.replace(*CONFIG_STEP)
    with pytest.raises(NoFix, match=reason):
        run({WF: text}, {"Dockerfile": NODE_SITE}, sigill_log(), remedy="native-runners")


def _effective_permissions(text: str) -> dict:
    """Each job's permissions as GitHub applies them: its own, else the workflow's."""
    data = plain(load(text))
    return {job_id: job.get("permissions", data.get("permissions")) for job_id, job in data["jobs"].items()}


@pytest.mark.parametrize("remedy", ["native-runners", "platform-matrix"])
def test_a_workflow_level_grant_moves_into_the_jobs_when_the_merge_job_is_added(remedy):
    from .realworld_shapes import WORKFLOW_LEVEL_WRITES
    result = fixed(WORKFLOW_LEVEL_WRITES, remedy)
    assert result.remedy == remedy  # not the pin-qemu fallback
    golden(f"realworld-workflow-level-writes-{remedy}", result.diff)
    new = result.files[WF]
    assert lint.new_findings(WF, WORKFLOW_LEVEL_WRITES, new, BOTH) == []
    before, after = _effective_permissions(WORKFLOW_LEVEL_WRITES), _effective_permissions(new)
    assert {job: after[job] for job in before} == before  # every original job keeps its grant
    assert "permissions" not in plain(load(new))
    assert after["merge"] == {"contents": "read", "packages": "write"}  # its own least grant
    assert "    # the token may publish images\n    permissions:\n" in new  # moved as written


def test_a_workflow_level_grant_stays_when_the_restructure_adds_no_job():
    from .realworld_shapes import WORKFLOW_LEVEL_WRITES
    text = WORKFLOW_LEVEL_WRITES.replace("          push: true\n", "").replace("          tags: ghcr.io/acme/web:latest\n", "")
    result = fixed(text, "native-runners")
    assert "merge" not in plain(load(result.files[WF]))["jobs"]
    assert plain(load(result.files[WF]))["permissions"] == {"contents": "read", "packages": "write"}

"""The shapes the real-world corpus taught (tests/realworld_shapes.py): golden diffs, valid
results that keep every comment, and declines with a reason."""

import pytest

from bot.fix import NoFix
from bot.workflows.yamldoc import load, plain

from .realworld_shapes import (ARM64_V8, ARM64_V8_EXPRESSION_IMAGE, DOCS_STYLE, EMULATED_ARCH_MATRIX,
                               NATIVE_EXPRESSION, NATIVE_OS_PLATFORMS, TWO_BUILDS)
from .repos import NODE_SITE, WF, run, sigill_log
from .test_fix import assert_valid, golden
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


def test_an_image_name_computed_by_a_step_is_declined_not_a_crash():
    with pytest.raises(NoFix, match="image names depend on other steps"):
        run({WF: ARM64_V8_EXPRESSION_IMAGE}, {"Dockerfile": NODE_SITE}, sigill_log(), remedy="native-runners")


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


def test_two_builds_in_one_job_are_declined_with_the_reason():
    with pytest.raises(NoFix, match="has 2 build steps"):
        run({WF: TWO_BUILDS}, {"Dockerfile": NODE_SITE}, sigill_log(), remedy="native-runners")


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


@pytest.mark.parametrize("case", TAG_USER_DECLINES)
def test_a_tag_user_that_cannot_move_is_declined_naming_it(case):
    from .realworld_shapes import TAG_USERS
    old, new, reason = TAG_USER_DECLINES[case]
    assert old in TAG_USERS
    text = TAG_USERS.replace(old, new)
    if case == "reads-the-build-metadata":
        text = text.replace("        name: Build\n", "        name: Build\n        id: build\n")
    with pytest.raises(NoFix, match=reason):
        run({WF: text}, {"Dockerfile": NODE_SITE}, sigill_log(), remedy="native-runners")

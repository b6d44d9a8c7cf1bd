"""The shapes the fourth tune set taught (tests/fresh_shapes.py): each a valid result that keeps
every comment and adds no linter finding, or a decline with its reason."""

import pytest

from bot.fix import NoFix
from bot.remedies.check_builds import built_platform
from bot.remedies.image_free import files_only
from bot.workflows.yamldoc import load, plain

from .fresh_shapes import LOCAL_CHECK_BUILD, README_AFTER_RUNTIME_TAGS
from .repos import NODE_SITE, WF, run, sigill_log
from .test_fix import golden
from .test_realworld_shapes import fixed


def _jobs(result) -> dict:
    return plain(load(result.files[WF]))["jobs"]


def test_a_local_check_build_stays_in_the_leg_of_its_platform():
    result = fixed(LOCAL_CHECK_BUILD, "native-runners")
    golden("fresh-local-check-build-native-runners", result.diff)
    jobs = _jobs(result)
    check = next(s for s in jobs["build"]["steps"] if s.get("name") == "Report amd64 image size")
    assert check["if"] == "${{ matrix.platform == 'linux/amd64' }}"
    assert [leg["platform"] for leg in jobs["build"]["strategy"]["matrix"]["include"]] == ["linux/amd64",
                                                                                            "linux/arm64"]
    assert all(s.get("name") != "Report amd64 image size" for s in jobs["merge"]["steps"])


def test_a_check_builds_own_condition_is_kept():
    text = LOCAL_CHECK_BUILD.replace("      - name: Report amd64 image size\n",
                                     "      - name: Report amd64 image size\n        if: github.event_name == 'push'\n")
    check = next(s for s in _jobs(fixed(text, "native-runners"))["build"]["steps"]
                 if s.get("name") == "Report amd64 image size")
    assert check["if"] == "${{ (matrix.platform == 'linux/amd64') && (github.event_name == 'push') }}"


@pytest.mark.parametrize("change", [
    ("--load -t app-size-check", "--push -t ghcr.io/acme/app:amd64"),  # it pushes an image of its own
    ("docker rmi app-size-check", "docker push app-size-check"),
    ("--platform linux/amd64 ", ""),  # the runner's own platform: which leg is not written down
    ("--platform linux/amd64 ", "--platform linux/amd64,linux/arm64 "),
])
def test_a_check_build_that_may_push_or_names_no_single_platform_is_declined(change):
    text = LOCAL_CHECK_BUILD.replace(*change)
    with pytest.raises(NoFix, match=r"also builds with step `Report amd64 image size` \(shell\)"):
        run({WF: text}, {"Dockerfile": NODE_SITE}, sigill_log(), remedy="native-runners")


@pytest.mark.parametrize("script, platform", [
    ("docker buildx build --platform=linux/arm64 --load .", "linux/arm64"),
    ("docker buildx build --platform linux/amd64 -o type=registry,name=x .", None),
    ("docker buildx build --platform linux/amd64 --output=type=image,push=true .", None),
    ("docker buildx bake --set '*.platform=linux/amd64'", None),
    ("docker buildx build --platform ${{ matrix.platform }} .", None),
    ("docker buildx build --platform linux/amd64 . && docker buildx imagetools create -t x y", None),
    ("if then fi (", None),
])
def test_what_counts_as_a_local_build_of_one_platform(script, platform):
    assert built_platform(script) == platform


def test_a_readme_update_moves_to_the_merge_job_and_a_cache_rotation_stays_in_the_legs():
    result = fixed(README_AFTER_RUNTIME_TAGS, "native-runners")
    golden("fresh-readme-after-runtime-tags-native-runners", result.diff)
    jobs = _jobs(result)
    legs = [s.get("name") for s in jobs["buildx"]["steps"]]
    merge = [s.get("name") or s.get("uses") for s in jobs["merge"]["steps"]]
    assert "Move cache" in legs and "Update README" not in legs
    assert "Update README" in merge and "Move cache" not in merge
    # it runs once the image exists, and reads the README from a checkout of the repository
    assert merge.index("Update README") > merge.index("Create the multi-platform image")
    assert any(str(m).startswith("actions/checkout") for m in merge)


def test_a_script_that_may_use_the_image_after_run_time_tags_still_declines():
    text = README_AFTER_RUNTIME_TAGS.replace("mv /tmp/.buildx-cache-new /tmp/.buildx-cache",
                                             "docker pull acme/app:edge")
    with pytest.raises(NoFix, match=r"step `Move cache` runs after a build whose image names a script computes"):
        run({WF: text}, {"Dockerfile": NODE_SITE}, sigill_log(), remedy="native-runners")


@pytest.mark.parametrize("script, free", [
    ("rm -rf /tmp/a\nmv /tmp/b /tmp/a", True),
    ("mkdir -p out && cp -r dist out/ && ls out", True),
    ("rm -rf /tmp/a; docker image prune -f", False),
    ("cp a b | curl -T - https://example.com", False),
    ("rm -rf $(docker images -q)", False),
    ("", False),
])
def test_which_scripts_only_handle_files(script, free):
    assert files_only(script) is free

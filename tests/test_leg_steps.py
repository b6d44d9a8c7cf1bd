"""Build steps of different platforms in one job split per platform (bot/remedies/leg_steps.py):
the legs are the union of the platform lists and each build runs in its own legs, with its
digest steps, merged from exactly its legs' digests; a single-platform build for a test runs in
the one leg of its platform with the steps that use its image; both kept valid and lint-clean."""

import fnmatch

import pytest

from bot.fix import NoFix
from bot.remedies.restructure import merged_tags
from bot.workflows.yamldoc import load, plain

from .leg_shapes import BAKE_TEST_THEN_PUBLISH, BAKE_TEST_THEN_PUBLISH_HCL, LOAD_TEST_THEN_PUSH, TWO_PLATFORM_LISTS
from .repos import NODE_SITE, WF, run, sigill_log
from .test_fix import assert_valid, golden
from .test_multi_build import fixed

DOCKERFILES = {"Dockerfile": NODE_SITE, "docker/alpine.Dockerfile": NODE_SITE,
               "docker/distroless.Dockerfile": NODE_SITE}


def _jobs(result) -> dict:
    return plain(load(result.files[WF]))["jobs"]


def _step(job: dict, name: str) -> dict:
    return next(s for s in job["steps"] if s.get("name") == name)


def _legs_running(step: dict, legs: list[str]) -> list[str]:
    """The legs whose `matrix.platform` makes the step's `if:` about platforms hold (the other
    parts of the condition are the original's)."""
    condition = str(step.get("if", ""))
    named = [leg for leg in legs if f"matrix.platform == '{leg}'" in condition]
    return named if "matrix.platform" in condition else list(legs)


def test_builds_of_different_platform_lists_run_in_their_own_legs():
    result = fixed(TWO_PLATFORM_LISTS, DOCKERFILES)
    golden("legs-two-platform-lists-native-runners", result.diff)
    jobs = _jobs(result)
    job = jobs["images"]
    include = job["strategy"]["matrix"]["include"]
    legs = [leg["platform"] for leg in include]
    assert legs == ["linux/amd64", "linux/arm/v7", "linux/arm64", "linux/riscv64"]  # the union, in order
    runner = {leg["platform"]: leg["runner"] for leg in include}
    assert runner["linux/arm/v7"] == runner["linux/arm64"] == "ubuntu-24.04-arm"
    assert [leg["platform"] for leg in include if leg.get("qemu")] == ["linux/riscv64"]
    alpine, distroless = _step(job, "Build alpine"), _step(job, "Build distroless")
    assert _legs_running(alpine, legs) == legs
    assert _legs_running(distroless, legs) == ["linux/amd64", "linux/arm64", "linux/riscv64"]
    # the digest steps run where their build ran, and only when it pushed
    for name in ("Export digest (Build distroless)", "Upload digest (Build distroless)"):
        step = _step(job, name)
        assert _legs_running(step, legs) == ["linux/amd64", "linux/arm64", "linux/riscv64"]
        assert "github.event_name != 'pull_request'" in step["if"]
    # each image is merged from the digests of exactly its own legs
    uploads = {s["with"]["name"]: [s["with"]["name"].replace("${{ matrix.pair }}", leg["pair"])
                                   for leg in include if leg["platform"] in _legs_running(s, legs)]
               for s in job["steps"] if str(s.get("uses", "")).startswith("actions/upload-artifact")}
    patterns = [s["with"]["pattern"] for s in jobs["merge"]["steps"]
                if str(s.get("uses", "")).startswith("actions/download-artifact")]
    picked = [sorted(n for names in uploads.values() for n in names if fnmatch.fnmatchcase(n, p)) for p in patterns]
    assert [len(p) for p in picked] == [4, 3]
    assert "Step `Build distroless` builds linux/amd64, linux/arm64, linux/riscv64" in result.explanation


def test_the_merge_job_does_not_read_the_legs_matrix():
    result = fixed(TWO_PLATFORM_LISTS, DOCKERFILES)
    assert "matrix." not in str(_jobs(result)["merge"])


def test_a_single_platform_test_build_runs_in_its_leg_with_its_test():
    result = fixed(LOAD_TEST_THEN_PUSH, {"Dockerfile": NODE_SITE})
    golden("legs-load-test-then-push-native-runners", result.diff)
    jobs = _jobs(result)
    job = jobs["docker"]
    legs = [leg["platform"] for leg in job["strategy"]["matrix"]["include"]]
    assert legs == ["linux/amd64", "linux/arm64"]
    # the test build, its test and the test's set-up: the amd64 leg only (the runner's platform)
    for name in ("Build and export to Docker", "Tool cache", "Set up the test tool", "Test"):
        assert _legs_running(_step(job, name), legs) == ["linux/amd64"], name
    assert _step(job, "Tool cache")["if"].startswith("${{ (always()) && ")  # its own condition kept
    test_build = _step(job, "Build and export to Docker")["with"]
    assert test_build["load"] is True and "platforms" not in test_build  # as it was: the runner's own
    # the push builds every leg's platform, by digest
    push = _step(job, "Build and push")
    assert push["with"]["platforms"] == "${{ matrix.platform }}" and "matrix.platform ==" not in push["if"]
    # the chart update reads the merged digest: it moves, and the commit in its directory with it
    merge = [s.get("name") for s in jobs["merge"]["steps"]]
    assert merge[-2:] == ["Update the chart's image", "Commit and push the chart"]
    assert "Check out the charts" in merge
    assert not any(s.get("working-directory") == "charts" for s in job["steps"])
    assert "Step `Build and export to Docker` builds linux/amd64 alone" in result.explanation


def test_the_split_is_stable():
    result = fixed(LOAD_TEST_THEN_PUSH, {"Dockerfile": NODE_SITE})
    with pytest.raises(NoFix):
        run({WF: result.files[WF]}, {"Dockerfile": NODE_SITE}, sigill_log(), remedy="native-runners")


SIDE_DECLINES = {
    "pushes-one-platform": (
        "          load: true\n",
        "          push: true\n",
        r"step `Build and export to Docker` pushes a single platform"),
    "no-leg-of-its-platform": (
        "          load: true\n",
        "          platforms: linux/s390x\n          load: true\n",
        r"step `Build and export to Docker` builds linux/s390x alone, which none of the per-platform legs builds"),
    "runner-chosen-at-run-time": (
        "    runs-on: ubuntu-latest\n",
        "    runs-on: ${{ vars.RUNNER }}\n",
        r"the job's runner \(`\$\{\{ vars.RUNNER \}\}`\) is chosen at run time"),
    "test-writes-the-job-environment": (
        "          ./bin/wait-healthy.sh test\n",
        "          ./bin/wait-healthy.sh test\n          echo \"TESTED=1\" >> \"$GITHUB_ENV\"\n",
        r"step `Test` uses the single-platform image of step `Build and export to Docker`, and later steps"),
}


@pytest.mark.parametrize("case", SIDE_DECLINES)
def test_what_cannot_run_in_one_leg_is_declined_naming_the_step(case):
    old, new, reason = SIDE_DECLINES[case]
    text = LOAD_TEST_THEN_PUSH.replace(old, new, 1)
    assert text != LOAD_TEST_THEN_PUSH
    with pytest.raises(NoFix, match=reason):
        run({WF: text}, {"Dockerfile": NODE_SITE}, sigill_log(), remedy="native-runners")


def _bake(workflow: str, **options):
    bake = {"util/helper/docker-bake.hcl": BAKE_TEST_THEN_PUBLISH_HCL}
    return run({WF: workflow}, {"util/helper/Dockerfile": NODE_SITE}, sigill_log("RUN npm ci"), bake_files=bake,
               paths=tuple(bake), remedy="native-runners", **options)


def test_a_bake_test_target_runs_in_the_leg_of_the_runners_platform():
    result = _bake(BAKE_TEST_THEN_PUBLISH)
    assert_valid(result)
    golden("legs-bake-test-then-publish-native-runners", result.diff)
    jobs = _jobs(result)
    job = jobs["build"]
    legs = [leg["platform"] for leg in job["strategy"]["matrix"]["include"]]
    assert legs == ["linux/amd64", "linux/arm64", "linux/arm/v7", "linux/s390x"]
    assert _legs_running(_step(job, "Test"), legs) == ["linux/amd64"]
    publish = _step(job, "Publish")
    assert "*.platform=${{ matrix.platform }}" in publish["with"]["set"] and "if" not in publish
    assert merged_tags(jobs["merge"]) == ["acme/helper"]
    assert "Step `Test` builds linux/amd64 alone" in result.explanation


BAKE_DECLINES = {
    "second-multi-platform-bake": ("          targets: test\n", "          targets: all\n",
                                   "several multi-platform bake steps"),
    "test-target-exports": ("          targets: test\n", "          targets: test\n          set: test.output=type=local,dest=out\n",
                            "bake step `Test` builds a single platform and pushes, loads or exports it"),
}


@pytest.mark.parametrize("case", BAKE_DECLINES)
def test_bake_steps_that_cannot_share_the_legs_are_declined(case):
    old, new, reason = BAKE_DECLINES[case]
    with pytest.raises(NoFix, match=reason):
        _bake(BAKE_TEST_THEN_PUBLISH.replace(old, new, 1))


@pytest.mark.parametrize("shape", ["TWO_PLATFORM_LISTS", "LOAD_TEST_THEN_PUSH", "BAKE_TEST_THEN_PUBLISH",
                                   "TEST_THEN_DEPOT", "CONDITIONS_OF_THE_JOB"])
def test_every_fixture_is_a_workflow_both_linters_read(shape):
    from bot import lint

    from . import leg_shapes
    text = getattr(leg_shapes, shape)
    for tool in ("zizmor", "actionlint"):
        found = lint.findings(WF, text, tool)
        assert not [f for f in found if f.rule == "linter-failed"], (tool, found)
        if tool == "actionlint":  # the fixtures are sound workflows, not only parseable ones
            assert not [f for f in found if f.rule in ("expression", "syntax-check", "job-needs")], found


def test_conditions_a_job_if_cannot_read_still_give_a_valid_merge_job():
    from .leg_shapes import CONDITIONS_OF_THE_JOB
    result = fixed(CONDITIONS_OF_THE_JOB, {"Dockerfile": NODE_SITE})  # schema and both linters
    condition = str(_jobs(result)["merge"].get("if", ""))
    assert "env." not in condition and "steps." not in condition  # a job's `if:` sees neither


def test_a_step_between_the_test_build_and_its_test_that_the_push_reads_runs_in_every_leg():
    text = LOAD_TEST_THEN_PUSH.replace(
        "      - name: Set up the test tool\n",
        "      - name: Version\n        id: version\n        uses: acme/version-action@v1\n"
        "      - name: Set up the test tool\n").replace(
        "          labels: ${{ steps.meta.outputs.labels }}\n",
        "          labels: ${{ steps.meta.outputs.labels }}\n          build-args: VERSION=${{ steps.version.outputs.version }}\n")
    result = fixed(text, {"Dockerfile": NODE_SITE})
    job = _jobs(result)["docker"]
    legs = [leg["platform"] for leg in job["strategy"]["matrix"]["include"]]
    assert _legs_running(_step(job, "Version"), legs) == legs
    assert _legs_running(_step(job, "Set up the test tool"), legs) == ["linux/amd64"]


def test_only_steps_in_another_repositorys_checkout_follow_a_moved_step():
    # `charts` is now a directory of the workspace: the commit step is not the moved step's follower
    text = LOAD_TEST_THEN_PUSH.replace("          repository: acme/charts\n", "")
    moved = _jobs(fixed(text, {"Dockerfile": NODE_SITE}))["merge"]["steps"]
    names = [s.get("name") for s in moved]
    assert "Update the chart's image" in names and "Commit and push the chart" not in names

"""The shapes the second held-out corpus taught (tests/realworld_new_shapes.py): each was a
broken result or a fail-closed validation failure before; now a valid result that keeps every
comment and adds no linter finding, or a decline with its reason."""

import pytest

from bot.fix import NoFix
from bot.remedies.matrix_axes import expand
from bot.remedies.restructure import merged_tags
from bot.workflows.yamldoc import load, plain

from .realworld_new_shapes import (IMAGES_ONE_LINE, INCLUDE_ENTRY_CONFIG, INCLUDE_ENTRY_SUFFIX, TAG_FROM_GITHUB_ENV,
                                   TAG_IN_WORKFLOW_ENV, VERSION_FROM_A_NEEDED_JOB, VERSION_FROM_A_PROJECT_TOOL,
                                   VERSION_FROM_GITHUB_ENV)
from .repos import NODE_SITE, WF, run, sigill_log
from .test_fix import assert_valid, golden
from .test_realworld_shapes import fixed


def _jobs(result) -> dict:
    return plain(load(result.files[WF]))["jobs"]


def _build_step(job: dict) -> dict:
    return next(s for s in job["steps"] if str(s.get("uses", "")).startswith("docker/build-push-action"))


def test_metadata_images_on_one_line_are_several_names():
    result = fixed(IMAGES_ONE_LINE, "native-runners")
    golden("realworld-new-images-one-line-native-runners", result.diff)
    jobs = _jobs(result)
    outputs = _build_step(jobs["image"])["with"]["outputs"]
    # several names are one quoted field of the exporter's CSV; unquoted, BuildKit rejects them
    assert outputs.startswith('type=image,"name=acme/app,acme/app-legacy,ghcr.io/acme/app",push-by-digest=true')
    create = next(s for s in jobs["merge"]["steps"] if s.get("name") == "Create the multi-platform image")
    assert "printf 'acme/app@sha256:%s ' *" in create["run"]


def test_a_whole_tag_set_at_run_time_no_longer_falls_back_to_qemu():
    # (the legs derive the name at run time: tests/test_context_shapes.py)
    result = run({WF: TAG_FROM_GITHUB_ENV}, {"Dockerfile": NODE_SITE}, sigill_log(), skip=("build-on-buildplatform",))
    assert_valid(result)
    assert result.remedy == "native-runners" and "native-runners" not in result.declined


def test_a_version_set_at_run_time_is_set_again_by_the_merge_job():
    result = fixed(VERSION_FROM_GITHUB_ENV, "native-runners")
    golden("realworld-new-version-from-github-env-native-runners", result.diff)
    merge = _jobs(result)["merge"]
    names = [s.get("name") for s in merge["steps"]]
    assert names.index("Version") < names.index("Create the multi-platform image")
    assert any(str(s.get("uses", "")).startswith("actions/checkout") for s in merge["steps"])
    assert merged_tags(merge) == ["ghcr.io/acme/app:${{ env.VERSION }}", "ghcr.io/acme/app:latest"]


def test_a_version_set_by_an_action_is_declined_with_the_reason():
    text = VERSION_FROM_GITHUB_ENV.replace(
        '        run: echo "VERSION=${GITHUB_REF_NAME#v}" >> "$GITHUB_ENV"\n', "        uses: acme/version-action@v1\n")
    with pytest.raises(NoFix, match=r"the tags read `env.VERSION`, which neither the workflow's nor the job's"):
        run({WF: text}, {"Dockerfile": NODE_SITE}, sigill_log(), remedy="native-runners")


def test_a_whole_tag_in_the_workflow_env_is_pushed_by_digest_without_its_tag():
    result = fixed(TAG_IN_WORKFLOW_ENV, "native-runners")
    jobs = _jobs(result)
    assert _build_step(jobs["docker"])["with"]["outputs"].startswith("type=image,name=ghcr.io/acme/app,push-by")
    assert merged_tags(jobs["merge"]) == ["${{ env.IMAGE }}"]


def test_the_merge_job_needs_the_jobs_its_repeated_steps_read():
    result = fixed(VERSION_FROM_A_NEEDED_JOB, "native-runners")
    golden("realworld-new-needed-job-native-runners", result.diff)
    jobs = _jobs(result)
    assert jobs["merge"]["needs"] == ["gate", "release"]
    assert "set_version" in [s.get("id") for s in jobs["merge"]["steps"]]


def test_an_include_entry_gives_its_keys_to_every_leg():
    result = fixed(INCLUDE_ENTRY_CONFIG, "native-runners")
    golden("realworld-new-include-entry-native-runners", result.diff)
    legs = expand(_jobs(result)["build"]["strategy"]["matrix"])
    assert [e["platform"] for e in legs] == ["linux/amd64", "linux/arm64"]
    for entry in legs:
        assert (entry["name"], entry["dockerfile"], entry["continue-on-error"]) == ("Standard", "Dockerfile", False)
        assert "platforms" not in entry  # only the build read the list: each leg has its `platform`


def test_tags_named_from_the_matrix_are_named_the_same_in_the_merge_job():
    result = fixed(INCLUDE_ENTRY_SUFFIX, "native-runners")
    jobs = _jobs(result)
    # the merge job is a matrix over the original entries, so the metadata step has `matrix.suffix`
    assert jobs["merge"]["strategy"]["matrix"] == plain(load(INCLUDE_ENTRY_SUFFIX))["jobs"]["build"]["strategy"]["matrix"]
    meta = next(s for s in jobs["merge"]["steps"] if s.get("id") == "meta")
    assert "suffix=${{ matrix.suffix }}" in meta["with"]["flavor"]


def test_a_version_step_that_needs_the_jobs_tools_is_declined_with_the_reason():
    # (misc: not repeated in the merge job but passed on as a job output, runtime_tags.variant)
    passed_on = fixed(VERSION_FROM_A_PROJECT_TOOL, "native-runners")
    assert "computes the tags with `redrun`, which a fresh runner may not have" in passed_on.explanation
    assert "whichever leg finished last" in passed_on.explanation
    # the same step without the project's tool is repeated in the merge job
    result = fixed(VERSION_FROM_A_PROJECT_TOOL.replace("          redrun build\n", ""), "native-runners")
    assert "build" in [s.get("id") for s in _jobs(result)["merge"]["steps"]]

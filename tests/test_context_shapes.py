"""The merge job runs exactly when the legs pushed, reads what the build job read, and downloads
exactly its own digests (tests/context_shapes.py): conditions on the job's `env` or a step's
output, tags from a needed job's outputs, whole tags written to $GITHUB_ENV, matrix values that
prefix one another. Each result is valid, keeps every comment and adds no linter finding (both
linters run), or the restructure declines with its reason."""

import fnmatch
import itertools

import pytest

from bot.fix import NoFix
from bot.remedies.images import other_separator
from bot.remedies.base import Decline
from bot.remedies.merge_condition import contexts
from bot.remedies.restructure import merged_tags
from bot.workflows.yamldoc import load, plain

from .context_shapes import (OUTPUTS_CHOSEN_AT_RUN_TIME, PUSH_WHEN_ENV, PUSH_WHEN_STEP_OUTPUT, SHELL_TAG_FROM_GITHUB_ENV,
                             SIBLING_MATRIX_VALUES, TAGS_FROM_NEEDED_JOB)
from .realworld_new_shapes import TAG_FROM_GITHUB_ENV
from .repos import NODE_SITE, WF, run, sigill_log
from .test_fix import golden
from .test_realworld_shapes import fixed

JOB_IF_CONTEXTS = {"github", "needs", "vars", "inputs"}  # GitHub's context availability for `jobs.<id>.if`


def _jobs(result) -> dict:
    return plain(load(result.files[WF]))["jobs"]


def _expression(value: str) -> str:
    return value.strip().removeprefix("${{").removesuffix("}}").strip()


def _step(job: dict, name: str) -> dict:
    return next(s for s in job["steps"] if s.get("name") == name)


def test_a_push_condition_on_the_jobs_env_is_passed_on_by_the_legs():
    result = fixed(PUSH_WHEN_ENV, "native-runners")
    golden("context-push-when-env-native-runners", result.diff)
    jobs = _jobs(result)
    build, merge = jobs["docker"], jobs["merge"]
    # every leg evaluates exactly the build's condition (its `if:` and its `push:`)...
    assert build["outputs"] == {"pushed": "${{ (github.ref_type == 'tag') && (env.DOCKERHUB_USERNAME != '') }}"}
    # ...and the merge job, whose `if:` has no `env`, reads the answer
    assert merge["if"] == "${{ needs.docker.outputs.pushed == 'true' }}"
    assert contexts(_expression(merge["if"])) <= JOB_IF_CONTEXTS
    # the login keeps its own condition: a step of the merge job has the job's env
    assert _step(merge, "Log in")["if"] == "${{ env.DOCKERHUB_USERNAME != '' }}"
    assert merge["env"] == {"DOCKERHUB_USERNAME": "${{ secrets.DOCKERHUB_USERNAME }}"}
    assert merged_tags(merge) == ["acme/app:${{ github.ref_name }}-${{ matrix.flavour }}"]
    assert "passes the result on as output `pushed`" in result.explanation


def test_conditions_on_a_steps_output_are_passed_on_per_image():
    result = fixed(PUSH_WHEN_STEP_OUTPUT, "native-runners")
    golden("context-push-when-step-output-native-runners", result.diff)
    jobs = _jobs(result)
    build, merge = jobs["publish"], jobs["merge"]
    ids = [s.get("id") for s in build["steps"] if str(s.get("uses", "")).startswith("docker/build-push-action")]
    assert build["outputs"][f"pushed-{ids[0]}"] == "${{ steps.version.outputs.label != '' }}"
    assert build["outputs"][f"pushed-{ids[1]}"] == "${{ steps.version.outputs.label == '' }}"
    assert merge["if"] == (f"${{{{ (needs.publish.outputs.pushed-{ids[0]} == 'true') || "
                           f"(needs.publish.outputs.pushed-{ids[1]} == 'true') }}}}")
    # each image's steps in the merge job (its download first of all) read its own answer, which
    # does not depend on where a repeated step would stand
    for step in merge["steps"]:
        if "(Build the release)" in str(step.get("name")):
            assert step["if"] == f"${{{{ needs.publish.outputs.pushed-{ids[1]} == 'true' }}}}"
    assert "steps.version" not in str(merge)
    assert "version" not in [s.get("id") for s in merge["steps"]]  # the action is not run again


def test_tags_from_a_needed_job_make_the_merge_job_need_it_too():
    result = fixed(TAGS_FROM_NEEDED_JOB, "native-runners")
    golden("context-tags-from-needed-job-native-runners", result.diff)
    jobs = _jobs(result)
    merge = jobs["merge"]
    assert merge["needs"] == ["tag-release", "docker-release"]
    assert merged_tags(merge) == ["acme/app:${{ needs.tag-release.outputs.version }}", "acme/app:latest"]
    assert merge["if"] == "${{ needs.docker-release.outputs.pushed == 'true' }}"
    # the login, copied into the merge job, ran in the legs under the push's own condition
    assert _step(merge, "Log in to Docker Hub")["if"] == merge["if"]
    assert jobs["docker-release"]["outputs"] == {"pushed": "${{ steps.should_push.outputs.push == 'true' }}"}


def test_a_build_job_that_runs_after_a_failed_need_keeps_its_merge_job_running():
    text = TAGS_FROM_NEEDED_JOB.replace("    if: github.event_name == 'push'\n",
                                        "    if: ${{ !cancelled() && github.event_name == 'push' }}\n")
    merge = _jobs(fixed(text, "native-runners"))["merge"]
    # needing tag-release too, the merge job would be skipped whenever the build ran without it
    assert merge["if"] == ("${{ !cancelled() && needs.docker-release.result == 'success' && "
                           "(needs.docker-release.outputs.pushed == 'true') }}")


def test_a_login_under_a_condition_of_its_own_gets_its_own_output():
    text = TAGS_FROM_NEEDED_JOB.replace("        if: steps.should_push.outputs.push == 'true'\n        with:\n"
                                        "          username",
                                        "        if: steps.should_push.outputs.push != 'false'  # not on a dry run\n"
                                        "        with:\n"
                                        "          username")
    result = fixed(text, "native-runners")
    jobs = _jobs(result)
    assert jobs["docker-release"]["outputs"]["ran-step-5"] == "${{ steps.should_push.outputs.push != 'false' }}"
    assert _step(jobs["merge"], "Log in to Docker Hub")["if"] == \
        "${{ needs.docker-release.outputs.ran-step-5 == 'true' }}"
    # (the comment on the rewritten line stays with it: `fixed` checks that none is lost)
    assert "ran-step-5 == 'true' }}  # not on a dry run" in result.files[WF]


def test_a_login_under_a_variable_a_script_wrote_gets_the_legs_answer():
    text = PUSH_WHEN_ENV.replace(
        "      - uses: docker/setup-qemu-action@v3\n",
        "      - run: echo \"LOGIN=yes\" >> \"$GITHUB_ENV\"\n      - uses: docker/setup-qemu-action@v3\n").replace(
        "        if: ${{ env.DOCKERHUB_USERNAME != '' }}\n", "        if: ${{ env.LOGIN == 'yes' }}\n")
    jobs = _jobs(fixed(text, "native-runners"))
    # the merge job does not run the script, so it would not have LOGIN: the legs say whether they logged in
    assert jobs["docker"]["outputs"]["ran-step-5"] == "${{ env.LOGIN == 'yes' }}"
    assert _step(jobs["merge"], "Log in")["if"] == "${{ needs.docker.outputs.ran-step-5 == 'true' }}"


def test_a_condition_on_the_leg_or_a_variable_written_at_run_time_is_declined():
    on_runner = PUSH_WHEN_ENV.replace("push: ${{ env.DOCKERHUB_USERNAME != '' }}",
                                      "push: ${{ env.DOCKERHUB_USERNAME != '' && runner.arch == 'X64' }}")
    with pytest.raises(NoFix, match=r"reads the leg's `runner`"):
        run({WF: on_runner}, {"Dockerfile": NODE_SITE}, sigill_log(), remedy="native-runners")
    # a variable written before the build reads the same when the job ends (the runner evaluates
    # job outputs with the env the steps left)...
    written = PUSH_WHEN_ENV.replace(
        "      - uses: docker/setup-qemu-action@v3\n",
        "      - run: echo \"PUBLISH=yes\" >> \"$GITHUB_ENV\"\n      - uses: docker/setup-qemu-action@v3\n").replace(
        "push: ${{ env.DOCKERHUB_USERNAME != '' }}", "push: ${{ env.PUBLISH == 'yes' }}")
    build = _jobs(fixed(written, "native-runners"))["docker"]
    assert build["outputs"]["pushed"] == "${{ (github.ref_type == 'tag') && (env.PUBLISH == 'yes') }}"
    # ...one a later step writes again would not
    rewritten = written + "      - run: echo \"PUBLISH=no\" >> \"$GITHUB_ENV\"\n"
    with pytest.raises(NoFix, match=r"a step after the build writes `PUBLISH` to \$GITHUB_ENV"):
        run({WF: rewritten}, {"Dockerfile": NODE_SITE}, sigill_log(), remedy="native-runners")


def test_a_whole_tag_written_to_github_env_gives_the_legs_its_name_at_run_time():
    result = fixed(TAG_FROM_GITHUB_ENV, "native-runners")
    golden("context-whole-tag-from-github-env-native-runners", result.diff)
    jobs = _jobs(result)
    build, merge = jobs["docker"], jobs["merge"]
    names = _step(build, "Image names")
    assert names["env"]["TAGS"] == "${{ env.APP_TAG }}"
    leg = next(s for s in build["steps"] if str(s.get("uses", "")).startswith("docker/build-push-action"))
    assert f"name=${{{{ steps.{names['id']}.outputs.names }}}}" in leg["with"]["outputs"]
    # the merge job writes the tag again, with the step that computes it, before it creates the image
    steps = [s.get("name") for s in merge["steps"]]
    assert steps.index("Work out the tag") < steps.index("Create the multi-platform image")
    assert _step(merge, "Create the multi-platform image")["env"]["MERGED_TAGS"] == "${{ env.APP_TAG }}"


def test_a_step_that_reads_a_whole_tag_written_at_run_time_is_declined_with_the_reason():
    # its output is a file the job's later steps release: it can neither stay nor move alone
    with pytest.raises(NoFix, match=r"step 6 \(`mkdir -p build && docker buildx imagetools inspect \.\.\.`\) reads "
                                    r"the pushed tag"):
        run({WF: SHELL_TAG_FROM_GITHUB_ENV}, {"Dockerfile": NODE_SITE}, sigill_log(), remedy="native-runners")


def test_an_exporter_chosen_at_run_time_is_declined_with_the_reason():
    # a push in one run, a local export that later steps read in another: no push by digest fits both
    with pytest.raises(NoFix, match=r"the build's `outputs` is computed at run time"):
        run({WF: OUTPUTS_CHOSEN_AT_RUN_TIME}, {"Dockerfile": NODE_SITE}, sigill_log(), remedy="native-runners")


def test_matrix_values_that_prefix_one_another_get_patterns_that_pick_only_their_own():
    result = fixed(SIBLING_MATRIX_VALUES, "native-runners")
    golden("context-sibling-matrix-values-native-runners", result.diff)
    jobs = _jobs(result)
    upload = next(s for s in jobs["image"]["steps"] if str(s.get("uses", "")).startswith("actions/upload-artifact"))
    download = next(s for s in jobs["merge"]["steps"] if str(s.get("uses", "")).startswith("actions/download-artifact"))
    pairs = [e["pair"] for e in jobs["image"]["strategy"]["matrix"]["include"]]
    uploaded = {upload["with"]["name"].replace("${{ matrix.service }}", v).replace("${{ matrix.pair }}", p)
                for v in ("api", "api-v2") for p in pairs}
    for value in ("api", "api-v2"):
        pattern = download["with"]["pattern"].replace("${{ matrix.service }}", value)
        assert {n for n in uploaded if fnmatch.fnmatchcase(n, pattern)} == \
            {upload["with"]["name"].replace("${{ matrix.service }}", value).replace("${{ matrix.pair }}", p)
             for p in pairs}


@pytest.mark.parametrize("values", [
    {"service": ["api", "api-v2"]},
    {"service": ["api", "api_v2", "api-v2"]},
    {"node": [18, 20], "variant": ["a", "a-b"]},
    {"edition": ["ce", "ee"]},
    {"x": ["a-linux", "a"]},
])
def test_the_separator_makes_every_download_pattern_exact(values):
    sep = other_separator(values)
    pairs = ["linux-amd64", "linux-arm64", "linux-arm-v7"]
    combos = [sep.join(map(str, c)) for c in itertools.product(*values.values())]
    names = {f"digests-job-{c}{sep}{p}" for c in combos for p in pairs}
    for c in combos:
        assert {n for n in names if fnmatch.fnmatchcase(n, f"digests-job-{c}{sep}*")} == \
            {f"digests-job-{c}{sep}{p}" for p in pairs}
    if values == {"edition": ["ce", "ee"]}:
        assert sep == "-"  # names stay as they were where nothing collides


def test_a_matrix_value_an_artifact_name_cannot_hold_is_declined():
    with pytest.raises(Decline, match=r"the matrix value `node:20`"):
        other_separator({"base": ["node:20", "node:22"]})


def test_a_bake_build_pushing_on_the_jobs_env_is_passed_on_too():
    from .test_bake_split import BAKE_TAGS
    text = BAKE_TAGS.replace("    runs-on: ubuntu-latest\n", "    runs-on: ubuntu-latest\n    env:\n"
                             "      PUBLISH: ${{ vars.PUBLISH }}\n").replace(
        "push: ${{ github.event_name != 'pull_request' }}", "push: ${{ env.PUBLISH == 'true' }}")
    jobs = _jobs(fixed(text, "native-runners"))
    assert jobs["bake"]["outputs"] == {"pushed": "${{ env.PUBLISH == 'true' }}"}
    assert jobs["merge"]["if"] == "${{ needs.bake.outputs.pushed == 'true' }}"


@pytest.mark.parametrize("push, condition", [
    ("${{ inputs.push }}", "format('{0}', inputs.push) == 'true'"),
    ("${{ github.event_name == 'push' && 'true' || 'false' }}",
     "format('{0}', github.event_name == 'push' && 'true' || 'false') == 'true'"),
    ("${{ github.event_name != 'pull_request' }}", "github.event_name != 'pull_request'"),
])
def test_a_push_value_that_may_be_the_string_false_is_compared_with_true(push, condition):
    """build-push-action reads `push` as a boolean string, an `if:` takes the string 'false' as
    true: the digest steps and the merge job, which run when the build pushed, compare."""
    workflow = (PUSH_WHEN_ENV.replace("  pull_request:\n", "  workflow_dispatch:\n    inputs:\n      push:\n"
                                      "        type: string\n        default: 'false'\n")
                .replace("push: ${{ env.DOCKERHUB_USERNAME != '' }}", f"push: {push}")
                .replace("        if: ${{ github.ref_type == 'tag' }}\n", ""))
    jobs = _jobs(fixed(workflow, "native-runners"))
    assert _expression(jobs["merge"]["if"]) == condition
    assert _expression(_step(jobs["docker"], "Export digest")["if"]) == condition

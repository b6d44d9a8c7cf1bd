"""Jobs that build several images (tests/realworld_shapes.py): each leg runs every build step
for its platform, each image's digests go to artifacts of its own that exactly one download
pattern picks, and the merge job creates each image with its own tags under its own condition.
What cannot be split safely is declined, naming the step."""

import fnmatch

import pytest

from bot.fix import NoFix
from bot.remedies.restructure import merged_tags
from bot.workflows.yamldoc import load, plain

from .realworld_shapes import BASE_AND_VARIANT, ENV_VERSION_VARIANTS, TEST_THEN_PUSH, TWO_BUILDS, TWO_METADATA
from .repos import NODE_SITE, WF, run, sigill_log
from .test_fix import assert_valid, golden
from .test_shapes import _comments

DOCKERFILES = {"Dockerfile": NODE_SITE, "docker/default.Dockerfile": NODE_SITE,
               "docker/alpine.Dockerfile": NODE_SITE, "variant.Dockerfile": NODE_SITE}


def fixed(text: str, dockerfiles: dict | None = None, remedy: str = "native-runners"):
    result = run({WF: text}, dockerfiles or DOCKERFILES, sigill_log(), remedy=remedy)
    assert result.remedy == remedy
    assert_valid(result)  # schema, and no new zizmor or actionlint finding
    assert not _comments(text) - _comments(result.files[WF]), "a comment was lost"
    return result


def _uses(step: dict, action: str) -> bool:
    return str(step.get("uses", "")).startswith(action)


def artifacts(jobs: dict, job_id: str, merge_id: str = "merge") -> tuple[dict, dict]:
    """Every concrete artifact name the legs upload, by build step id, and each download pattern
    by the id of the step that creates that image."""
    job = jobs[job_id]
    pairs = [leg["pair"] for leg in job["strategy"]["matrix"]["include"]]
    steps = job["steps"]
    uploads: dict[str, list[str]] = {}
    for i, step in enumerate(steps):
        if _uses(step, "actions/upload-artifact") and step["with"]["name"].startswith(f"digests-{job_id}-"):
            export = steps[i - 1]
            build_id = export["env"]["DIGEST"].split("steps.")[1].split(".outputs")[0]
            name = step["with"]["name"]
            uploads[build_id] = [name.replace("${{ matrix.pair }}", pair) for pair in pairs]
    merge = jobs[merge_id]["steps"]
    downloads = [s for s in merge if _uses(s, "actions/download-artifact")]
    creates = [s for s in merge if str(s.get("name", "")).startswith("Create the multi-platform image")]
    return uploads, {c["id"]: d["with"] for d, c in zip(downloads, creates)}


def assert_each_pattern_picks_its_own(jobs: dict, job_id: str) -> None:
    uploads, downloads = artifacts(jobs, job_id)
    assert set(uploads) == set(downloads)
    every = [n for names in uploads.values() for n in names]
    for build_id, download in downloads.items():
        picked = [n for n in every if fnmatch.fnmatchcase(n, download["pattern"])]
        assert sorted(picked) == sorted(uploads[build_id]), build_id
    # each image has its own folder in the legs and in the merge job
    create = {s["id"]: s for s in jobs["merge"]["steps"] if s.get("id") in downloads}
    for build_id, download in downloads.items():
        assert create[build_id]["working-directory"] == download["path"]
    assert len({d["path"] for d in downloads.values()}) == len(downloads)


def test_two_images_with_their_own_metadata_steps_and_conditions():
    result = fixed(TWO_METADATA)
    golden("multi-two-metadata-native-runners", result.diff)
    jobs = plain(load(result.files[WF]))["jobs"]
    assert_each_pattern_picks_its_own(jobs, "publish")
    leg_steps = jobs["publish"]["steps"]
    for build_id in ("build_dev", "build_release"):
        build = next(s for s in leg_steps if s.get("id") == build_id)
        assert build["with"]["platforms"] == "${{ matrix.platform }}"
        assert "tags" not in build["with"] and "push-by-digest=true" in build["with"]["outputs"]
    # the build's condition holds for its digest in the leg and for its image in the merge job
    dev, release = "github.event_name != 'release'", "github.event_name == 'release'"
    names = {s.get("name"): s for s in leg_steps}
    assert names["Upload digest (Build dev)"]["if"] == names["Export digest (Build dev)"]["if"] == f"${{{{ {dev} }}}}"
    assert names["Upload digest (Build release)"]["if"] == f"${{{{ {release} }}}}"
    merge = jobs["merge"]
    assert merge["if"] == f"${{{{ ({dev}) || ({release}) }}}}"
    by_name = {s.get("name"): s for s in merge["steps"]}
    assert by_name["Create the multi-platform image (Build dev)"]["if"] == f"${{{{ {dev} }}}}"
    assert by_name["Download digests (Build release)"]["if"] == f"${{{{ {release} }}}}"
    # each image reads its own metadata step's json (the exported variable is the last one's)
    assert by_name["Create the multi-platform image (Build dev)"]["env"] == {
        "METADATA_JSON": "${{ steps.meta_dev.outputs.json }}"}
    assert by_name["Create the multi-platform image (Build release)"]["env"] == {
        "METADATA_JSON": "${{ steps.meta.outputs.json }}"}
    ids = [s.get("id") for s in merge["steps"]]
    assert ids.index("meta_dev") < ids.index("build_dev") and ids.index("meta") < ids.index("build_release")
    # the step reading the first build's digest runs once that image exists
    assert [s.get("name") for s in merge["steps"]][-1] == "Show digest"
    assert "Show digest" not in names
    assert "2 images are pushed by digest" in result.explanation


def test_variants_with_a_version_from_github_env():
    result = fixed(ENV_VERSION_VARIANTS)
    golden("multi-env-version-variants-native-runners", result.diff)
    jobs = plain(load(result.files[WF]))["jobs"]
    # `build` and `build-2`: the pattern `digests-build-build-*` would pick both, so the images are numbered
    uploads, downloads = artifacts(jobs, "build")
    assert {d["pattern"] for d in downloads.values()} == {"digests-build-image-1-*", "digests-build-image-2-*"}
    assert_each_pattern_picks_its_own(jobs, "build")
    merge = jobs["merge"]["steps"]
    assert merged_tags(jobs["merge"], "build") == ["acme/bookmarks:latest", "acme/bookmarks:${{ env.VERSION }}"]
    assert merged_tags(jobs["merge"], "build-2") == ["acme/bookmarks:latest-alpine",
                                                      "acme/bookmarks:${{ env.VERSION }}-alpine"]
    # env.VERSION is written to $GITHUB_ENV by a step: the merge job repeats it, with the checkout it reads
    names = [s.get("name") for s in merge]
    assert names.index("Checkout") < names.index("Read version from file") < names.index(
        "Create the multi-platform image (Build latest)")
    legs = jobs["build"]["strategy"]["matrix"]["include"]
    assert {e["platform"]: e["runner"] for e in legs} == {
        "linux/amd64": "ubuntu-latest", "linux/arm64": "ubuntu-24.04-arm", "linux/arm/v7": "ubuntu-24.04-arm"}
    caches = [s["with"]["cache-to"] for s in jobs["build"]["steps"] if "cache-to" in (s.get("with") or {})]
    assert caches == ["type=registry,ref=acme/bookmarks:buildcache-${{ matrix.pair }},mode=max",
                      "type=registry,ref=acme/bookmarks:buildcache-alpine-${{ matrix.pair }},mode=max"]


def test_two_images_of_one_name_under_generated_ids():
    result = fixed(TWO_BUILDS)
    golden("multi-two-builds-native-runners", result.diff)
    jobs = plain(load(result.files[WF]))["jobs"]
    assert_each_pattern_picks_its_own(jobs, "build")
    assert merged_tags(jobs["merge"], "build") == ["acme/app:latest"]
    assert merged_tags(jobs["merge"], "build-2") == ["acme/app:alpine"]


def test_a_build_that_does_not_push_builds_the_legs_platform():
    result = fixed(TEST_THEN_PUSH)
    golden("multi-test-then-push-native-runners", result.diff)
    jobs = plain(load(result.files[WF]))["jobs"]
    test = next(s for s in jobs["image"]["steps"] if s.get("name") == "Test build")
    assert test["with"] == {"target": "test", "platforms": "${{ matrix.platform }}", "push": False,
                            "cache-from": "type=gha,scope=test-${{ matrix.pair }}"}
    assert "id" not in test  # nothing reads it
    # one image: the merge job is the single-build one, under the push condition
    assert jobs["merge"]["if"] == "${{ github.event_name != 'pull_request' }}"
    assert merged_tags(jobs["merge"]) == ["ghcr.io/acme/app:edge"]


VARIANT_FROM_BASE = "ARG NODE=22\nFROM ghcr.io/acme/base:latest\nRUN npm ci\n"


@pytest.mark.parametrize("text,dockerfiles", [
    (BASE_AND_VARIANT, DOCKERFILES),
    (BASE_AND_VARIANT.replace("          build-args: BASE=ghcr.io/acme/base:latest\n", ""),
     DOCKERFILES | {"variant.Dockerfile": VARIANT_FROM_BASE}),
    (BASE_AND_VARIANT.replace("          build-args: BASE=ghcr.io/acme/base:latest\n", ""),
     DOCKERFILES | {"variant.Dockerfile": "ARG BASE=ghcr.io/acme/base\nFROM ${BASE}\nRUN npm ci\n"}),
], ids=["build-arg", "dockerfile-from", "dockerfile-arg-default"])
def test_a_variant_built_from_the_base_image_is_declined(text, dockerfiles):
    with pytest.raises(NoFix, match=r"step `Build variant` uses `ghcr.io/acme/base`, which step `Build base` "
                                    r"pushes before it"):
        run({WF: text}, dockerfiles, sigill_log(), remedy="native-runners")


def test_a_variant_of_another_image_is_split():
    text = BASE_AND_VARIANT.replace("          build-args: BASE=ghcr.io/acme/base:latest\n", "")
    result = fixed(text)
    jobs = plain(load(result.files[WF]))["jobs"]
    assert_each_pattern_picks_its_own(jobs, "images")


PUSH_STEP = "      - name: Build and push\n"
DECLINES = {
    "loads": (
        "      - name: Multi load\n        uses: docker/build-push-action@v6\n        with:\n"
        "          platforms: linux/amd64,linux/arm64\n          load: true\n" + PUSH_STEP,
        r"step `Multi load` loads its image into the job"),
    "own-outputs": (
        "      - name: Export files\n        uses: docker/build-push-action@v6\n        with:\n"
        "          platforms: linux/amd64,linux/arm64\n          outputs: type=local,dest=out\n" + PUSH_STEP,
        r"step `Export files` sets its own `outputs`"),
    "shell-build": (
        "      - name: Script\n        run: docker buildx build --platform linux/amd64,linux/arm64 .\n" + PUSH_STEP,
        r"also builds with step `Script` \(shell\)"),
    "condition-on-job-status": (
        PUSH_STEP + "        if: ${{ !cancelled() }}\n",
        r"step `Build and push` runs on `!cancelled\(\)`, a job status the merge job does not share"),
    "condition-reads-the-matrix": (
        PUSH_STEP + "        if: matrix.os == 'linux'\n",
        r"the condition of step `Build and push` \(`matrix.os == 'linux'`\) reads the matrix"),
}


@pytest.mark.parametrize("case", DECLINES)
def test_what_cannot_be_split_is_declined_naming_the_step(case):
    replacement, reason = DECLINES[case]
    text = TEST_THEN_PUSH.replace(PUSH_STEP, replacement)
    assert text != TEST_THEN_PUSH
    for remedy in ("native-runners", "platform-matrix"):
        with pytest.raises(NoFix, match=reason):
            run({WF: text}, DOCKERFILES, sigill_log(), remedy=remedy)


def test_a_missing_dockerfile_of_a_later_build_is_declined():
    with pytest.raises(NoFix, match=r"the Dockerfile of step `Build variant` \(`variant.Dockerfile`\) was not found"):
        run({WF: BASE_AND_VARIANT.replace("          build-args: BASE=ghcr.io/acme/base:latest\n", "")},
            {"Dockerfile": NODE_SITE}, sigill_log(), remedy="native-runners")


def test_a_matrix_of_mappings_with_several_digest_builds_gets_native_runners():
    from .realworld_shapes import OBJECT_MATRIX_DIGESTS
    result = fixed(OBJECT_MATRIX_DIGESTS)
    golden("multi-object-matrix-native-runners", result.diff)
    job = plain(load(result.files[WF]))["jobs"]["build"]
    assert job["runs-on"] == "${{ matrix.platform.platform == 'linux/arm64' && 'ubuntu-24.04-arm' || 'ubuntu-latest' }}"
    assert job["strategy"] == plain(load(OBJECT_MATRIX_DIGESTS))["jobs"]["build"]["strategy"]  # as written
    with pytest.raises(NoFix, match="already builds each platform on its native runner"):
        run({WF: result.files[WF]}, DOCKERFILES, sigill_log(), remedy="native-runners")


def test_other_artifacts_of_the_job_are_not_taken_for_digests():
    text = TWO_METADATA.replace("      - name: Show digest\n", "      - name: Upload report\n"
                                "        uses: actions/upload-artifact@v4\n        with:\n          name: report\n"
                                "          path: report.txt\n      - name: Show digest\n")
    result = fixed(text)
    jobs = plain(load(result.files[WF]))["jobs"]
    assert "Upload report" in [s.get("name") for s in jobs["publish"]["steps"]]
    assert_each_pattern_picks_its_own(jobs, "publish")


@pytest.mark.parametrize("name", ["TWO_METADATA", "ENV_VERSION_VARIANTS", "TEST_THEN_PUSH"])
def test_platform_matrix_splits_several_builds_the_same_way_with_qemu_kept(name):
    from . import realworld_shapes
    text = getattr(realworld_shapes, name)
    result = fixed(text, remedy="platform-matrix")
    jobs = plain(load(result.files[WF]))["jobs"]
    job_id = next(iter(plain(load(text))["jobs"]))
    assert jobs[job_id]["runs-on"] == plain(load(text))["jobs"][job_id]["runs-on"]
    assert any(_uses(s, "docker/setup-qemu-action") for s in jobs[job_id]["steps"])
    assert_each_pattern_picks_its_own(jobs, job_id)


def test_tag_lists_a_script_computes_give_the_names_at_run_time():
    import subprocess

    from .realworld_shapes import COMPUTED_TAG_LISTS
    result = fixed(COMPUTED_TAG_LISTS)
    golden("multi-computed-tag-lists-native-runners", result.diff)
    jobs = plain(load(result.files[WF]))["jobs"]
    assert_each_pattern_picks_its_own(jobs, "build")
    steps = jobs["build"]["steps"]
    names = [s.get("name") for s in steps]
    # each build reads the names its own step derives, just before it, under the build's condition
    for build, tags, condition in (("Build and push to GHCR", "ghcr_tags", None),
                                   ("Build and push to Docker Hub", "hub_tags", "github.repository == 'acme/stats'")):
        build_step = steps[names.index(build)]
        derive = steps[names.index(build) - 1]
        assert derive["env"] == {"TAGS": f"${{{{ steps.compute.outputs.{tags} }}}}"}
        assert derive.get("if") == (f"${{{{ {condition} }}}}" if condition else None)
        assert build_step["with"]["outputs"] == (f'type=image,"name=${{{{ steps.{derive["id"]}.outputs.names }}}}",'
                                                  "push-by-digest=true,name-canonical=true,push=true")
        # the script, run for real: each tag's repository, once
        out = subprocess.run(["bash", "-c", derive["run"].replace('>> "$GITHUB_OUTPUT"', "")], capture_output=True,
                             text=True, check=True, env={"TAGS": "ghcr.io/acme/stats:1.2, ghcr.io/acme/stats:latest\n"
                                                                 "localhost:5000/stats:1.2", "PATH": "/usr/bin:/bin"})
        assert out.stdout == "names=ghcr.io/acme/stats,localhost:5000/stats\n"
    merge = {s.get("name"): s for s in jobs["merge"]["steps"]}
    create = merge["Create the multi-platform image (Build and push to Docker Hub)"]
    assert create["env"] == {"MERGED_TAGS": "${{ steps.compute.outputs.hub_tags }}"}
    assert create["if"] == "${{ github.repository == 'acme/stats' }}"
    assert "Compute version tags" in merge  # the merge job computes the same lists
    # the create script's tag list, run for real up to the docker call
    lines = create["run"].split("\n")
    out = subprocess.run(["bash", "-c", lines[0] + '\nprintf -- "-t %s\\n" "${tags[@]}"'], capture_output=True,
                         text=True, check=True, env={"MERGED_TAGS": "acme/stats:1.2,acme/stats:latest",
                                                     "PATH": "/usr/bin:/bin"})
    assert out.stdout == "-t acme/stats:1.2\n-t acme/stats:latest\n"


def test_a_step_after_builds_with_run_time_names_moves_or_is_declined_naming_it():
    from .realworld_shapes import COMPUTED_TAG_LISTS
    # one that names a repository the script writes out uses the image: it moves to the merge job
    text = COMPUTED_TAG_LISTS + "      - name: Smoke test\n        run: docker run --rm acme/stats:latest --version\n"
    jobs = plain(load(fixed(text).files[WF]))["jobs"]
    assert [s.get("name") for s in jobs["merge"]["steps"]][-1] == "Smoke test"
    # one that may use it by a name the engine cannot see is declined
    text = COMPUTED_TAG_LISTS + "      - name: Smoke test\n        run: ./smoke-test.sh\n"
    with pytest.raises(NoFix, match=r"step `Smoke test` runs after a build whose image names a script computes"):
        run({WF: text}, DOCKERFILES, sigill_log(), remedy="native-runners")


def test_a_variant_built_from_an_image_with_run_time_tags_is_declined():
    from .realworld_shapes import COMPUTED_TAG_LISTS
    # the second build now makes a variant FROM the first image (named in the tag-computing script)
    text = COMPUTED_TAG_LISTS.replace("          tags: ${{ steps.compute.outputs.hub_tags }}\n",
                                      "          tags: ${{ steps.compute.outputs.hub_tags }}\n"
                                      "          file: variant.Dockerfile\n")
    dockerfiles = DOCKERFILES | {"variant.Dockerfile": "FROM ghcr.io/acme/stats:latest\nRUN npm ci\n"}
    with pytest.raises(NoFix, match=r"step `Build and push to Docker Hub` uses `ghcr.io/acme/stats`, which step "
                                    r"`Build and push to GHCR` pushes before it"):
        run({WF: text}, dockerfiles, sigill_log(), remedy="native-runners")

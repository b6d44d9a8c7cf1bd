"""A job that already has a matrix over another dimension (tests/matrix_shapes.py): the platform
becomes one more dimension, exactly as GitHub expands matrices, and the merge job is a matrix
over the original combinations; a matrix computed at run time is declined with the reason."""

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.fix import NoFix
from bot.remedies.base import Decline
from bot.remedies.matrix_axes import Axes, expand, legs_matrix, other_axes
from bot.remedies.restructure import _commands
from bot.workflows.yamldoc import load, plain

from .matrix_shapes import (COMPUTED_MATRIX, INCLUDE_ONLY_VARIANTS, LISTS_INCLUDE_EXCLUDE, NATIVE_OBJECT_MATRIX,
                            PER_ENTRY_PLATFORMS)
from .repos import NODE_SITE, WF, run, sigill_log
from .test_fix import assert_valid, golden
from .test_realworld_shapes import fixed


def _jobs(result) -> dict:
    return plain(load(result.files[WF]))["jobs"]


def _step(steps: list, name: str) -> dict:
    return next(s for s in steps if s.get("name") == name)


def test_expand_follows_githubs_documented_example():
    # "Expanding or adding matrix configurations" in GitHub's "Running variations of jobs"
    matrix = {"fruit": ["apple", "pear"], "animal": ["cat", "dog"],
              "include": [{"color": "green"}, {"color": "pink", "animal": "cat"}, {"fruit": "apple", "shape": "circle"},
                          {"fruit": "banana"}, {"fruit": "banana", "animal": "cat"}]}
    assert expand(matrix) == [
        {"fruit": "apple", "animal": "cat", "color": "pink", "shape": "circle"},
        {"fruit": "apple", "animal": "dog", "color": "green", "shape": "circle"},
        {"fruit": "pear", "animal": "cat", "color": "pink"},
        {"fruit": "pear", "animal": "dog", "color": "green"},
        {"fruit": "banana"},
        {"fruit": "banana", "animal": "cat"}]


def test_expand_excludes_partial_matches():
    matrix = {"os": ["a", "b"], "v": [1, 2], "exclude": [{"os": "a"}]}
    assert expand(matrix) == [{"os": "b", "v": 1}, {"os": "b", "v": 2}]


def test_a_naive_platform_list_would_merge_include_only_entries():
    # Why include-only entries are not simply crossed with a `platform` list: every entry would
    # be added to every leg, the last one winning.
    naive = {"platform": ["linux/amd64", "linux/arm64"], "include": [{"name": "a"}, {"name": "b"}]}
    assert {c["name"] for c in expand(naive)} == {"b"}
    other = other_axes("job", {"include": [{"name": "a"}, {"name": "b"}]})
    assert isinstance(other, Axes) and other.ident == ["name"]
    legs = [{"platform": p, "pair": p.replace("/", "-")} for p in ("linux/amd64", "linux/arm64")]
    assert sorted((c["name"], c["platform"]) for c in expand(legs_matrix(other, legs, ["linux/amd64", "linux/arm64"]))) \
        == [("a", "linux/amd64"), ("a", "linux/arm64"), ("b", "linux/amd64"), ("b", "linux/arm64")]


def test_include_only_variants_get_one_leg_per_variant_and_platform():
    result = fixed(INCLUDE_ONLY_VARIANTS, "native-runners")
    golden("matrix-include-only-variants-native-runners", result.diff)
    jobs = _jobs(result)
    legs = expand(jobs["push"]["strategy"]["matrix"])
    assert sorted((leg["name"], leg["platform"], leg["runner"]) for leg in legs) == [
        ("app-web", "linux/amd64", "ubuntu-latest"), ("app-web", "linux/arm64", "ubuntu-24.04-arm"),
        ("app-worker", "linux/amd64", "ubuntu-latest"), ("app-worker", "linux/arm64", "ubuntu-24.04-arm")]
    assert all(leg["target"] == leg["name"].removeprefix("app-") for leg in legs)
    # a tag list in the matrix names no image by itself: the legs derive the names from it
    names = _step(jobs["push"]["steps"], "Image names")
    assert names["env"] == {"TAGS": "${{ matrix.tags }}"}
    merge = jobs["merge"]
    assert merge["strategy"]["matrix"] == plain(load(INCLUDE_ONLY_VARIANTS))["jobs"]["push"]["strategy"]["matrix"]
    assert _step(jobs["push"]["steps"], "Upload digest")["with"]["name"] == "digests-push-${{ matrix.name }}-${{ matrix.pair }}"
    assert merge["steps"][0]["with"]["pattern"] == "digests-push-${{ matrix.name }}-*"
    assert _step(merge["steps"], "Create the multi-platform image")["env"] == {"MERGED_TAGS": "${{ matrix.tags }}"}


def test_per_entry_platform_lists_get_one_leg_per_entry_and_platform():
    dockerfiles = {"docker/alpine/Dockerfile": NODE_SITE, "docker/debian/Dockerfile": NODE_SITE}
    result = run({WF: PER_ENTRY_PLATFORMS}, dockerfiles, sigill_log(), remedy="native-runners")
    assert_valid(result)
    assert "# one variant failing does not stop the others" in result.files[WF]
    golden("matrix-per-entry-platforms-native-runners", result.diff)
    job = _jobs(result)["verify"]
    legs = expand(job["strategy"]["matrix"])
    assert sorted((leg["variant"], leg["platform"]) for leg in legs) == [
        ("alpine", "linux/amd64"), ("alpine", "linux/arm/v7"), ("alpine", "linux/arm64"),
        ("debian", "linux/amd64"), ("debian", "linux/arm64")]
    assert all("platforms" not in leg for leg in legs)
    assert "merge" not in _jobs(result)  # the build pushes nothing


def test_lists_with_include_and_exclude_keep_their_combinations():
    result = fixed(LISTS_INCLUDE_EXCLUDE, "native-runners")
    golden("matrix-lists-include-exclude-native-runners", result.diff)
    jobs = _jobs(result)
    strategy = jobs["image"]["strategy"]
    assert strategy["max-parallel"] == 3
    legs = expand(strategy["matrix"])
    got = sorted((leg["node"], leg["variant"], leg["platform"], leg.get("latest", False)) for leg in legs)
    assert got == [(n, v, p, n == 22) for n, v in ((20, "slim"), (22, "full"), (22, "slim"), (24, "slim"))
                   for p in ("linux/amd64", "linux/arm64")]
    # the entry that made a combination of its own is written out per platform, with its runner
    node24 = [leg for leg in legs if leg["node"] == 24]
    assert {leg["runner"] for leg in node24} == {"ubuntu-latest", "ubuntu-24.04-arm"}
    merge = jobs["merge"]
    assert expand(merge["strategy"]["matrix"]) == expand(plain(load(LISTS_INCLUDE_EXCLUDE))["jobs"]["image"]["strategy"]["matrix"])
    assert merge["steps"][0]["with"]["pattern"] == "digests-image-${{ matrix.node }}-${{ matrix.variant }}-*"


def test_a_computed_matrix_is_declined_with_the_reason():
    with pytest.raises(NoFix, match=r"job `build`'s matrix is computed at run time \(`fromJSON`\)"):
        run({WF: COMPUTED_MATRIX}, {"Dockerfile": NODE_SITE}, sigill_log(), remedy="native-runners")


def test_combinations_no_plain_value_tells_apart_are_declined():
    with pytest.raises(Decline, match="cannot be told apart"):
        other_axes("job", {"include": [{"tags": "a/b:1,a/c:1"}, {"tags": "a/b:2"}]})


def test_a_key_of_the_legs_in_the_matrix_is_declined():
    with pytest.raises(Decline, match="already has `runner`"):
        other_axes("job", {"node": [20], "include": [{"node": 20, "runner": "big"}]})


def test_a_matrix_of_mappings_naming_the_runner_is_already_native():
    with pytest.raises(NoFix, match=r"already builds each platform on its native runner \(`runs-on: \$\{\{ matrix.arch.os"):
        run({WF: NATIVE_OBJECT_MATRIX}, {"Dockerfile": NODE_SITE}, sigill_log(), remedy="native-runners")


def test_assignments_after_shell_keywords_are_not_commands():
    # `while IFS= read -r TAG; do` (a version step that joins the metadata tags) runs `read`
    assert _commands("while IFS= read -r TAG;do\n  TAGS=\"$TAGS,$TAG\"\ndone <<< \"$X\"\n") == ["read"]
    assert _commands("for p in a b; do echo $p; done\n") == ["echo"]


SCRIPT_ENDING_IN_COMMENTS = """\
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      -
        name: Version
        id: version
        run: |
          echo "tags=a/b:1" >> $GITHUB_OUTPUT

          # echo "::set-output name=tags::a/b:1"
      # introduces the next step
      -
        name: Next
        run: echo next
"""


def test_comment_lines_at_a_scripts_end_are_the_scripts():
    from bot.workflows.model import Workflow
    workflow = Workflow.parse("w.yml", SCRIPT_ENDING_IN_COMMENTS)
    first, second = workflow.steps("build")
    doc = workflow.doc
    assert doc.entry_text(first.path)[-1] == '          # echo "::set-output name=tags::a/b:1"'
    assert doc.entry_text(second.path)[0] == "      # introduces the next step"
    # copied as written, the step's script is the same
    assert plain(load("steps:\n" + "\n".join(doc.entry_text(first.path)) + "\n"))["steps"][0]["run"] == first.node["run"]


_VALUES = st.sampled_from(["a", "b", "c", 1, 2])
_KEYS = st.sampled_from(["os", "node", "variant", "name", "extra"])


@st.composite
def _matrices(draw):
    lists = draw(st.dictionaries(st.sampled_from(["os", "node", "variant"]),
                                 st.lists(_VALUES, min_size=1, max_size=3, unique=True), max_size=2))
    matrix: dict = dict(lists)
    entry = st.dictionaries(_KEYS, _VALUES, min_size=1, max_size=3)
    if draw(st.booleans()):
        matrix["include"] = draw(st.lists(entry, min_size=1, max_size=4))
    if lists and draw(st.booleans()):
        matrix["exclude"] = draw(st.lists(st.dictionaries(st.sampled_from(sorted(lists)), _VALUES, min_size=1),
                                          min_size=1, max_size=2))
    return matrix


@settings(max_examples=300, deadline=None)
@given(_matrices())
def test_the_legs_are_always_the_combinations_times_the_platforms(matrix):
    platforms = ["linux/amd64", "linux/arm64"]
    legs = [{"platform": p, "pair": p.replace("/", "-"), "runner": p} for p in platforms]
    try:
        other = other_axes("job", matrix)
    except Decline:
        return  # (no combination, or none a few plain values tell apart)
    written = legs_matrix(other, legs, platforms)
    got = sorted(repr(sorted(c.items(), key=str)) for c in expand(written))
    combos = expand(matrix) if isinstance(other, Axes) else [dict(zip(matrix, v)) for v in
                                                             itertools.product(*matrix.values())]
    wanted = sorted(repr(sorted((c | leg).items(), key=str)) for c in combos for leg in legs)
    assert got == wanted


def test_a_matrix_a_job_computes_with_arm_runners_is_already_native():
    from .matrix_shapes import COMPUTED_NATIVE_MATRIX
    with pytest.raises(NoFix, match=r"native-runners: job `build` already builds each platform on its native runner"):
        run({WF: COMPUTED_NATIVE_MATRIX}, {"Dockerfile": NODE_SITE}, sigill_log(), remedy="native-runners")
    # the same script without an Arm runner label is not taken for native
    text = COMPUTED_NATIVE_MATRIX.replace("ubuntu-24.04-arm", "ubuntu-24.04")
    with pytest.raises(NoFix) as caught:
        run({WF: text}, {"Dockerfile": NODE_SITE}, sigill_log(), remedy="native-runners")
    assert "already builds each platform" not in str(caught.value)

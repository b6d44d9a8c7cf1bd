"""``docker-build-fixer fix`` on a checkout: diff, --json, --write, and every exit code."""

import json
import shutil
import subprocess
import sys

import pytest

from bot.cli import main

from .conftest import ROOT
from .repos import NODE_SITE, WF, WORKFLOWS, sigill_log

EXAMPLE = ROOT / "examples" / "storefront"
EXAMPLE_LOG = ROOT / "examples" / "logs" / "arm64-npm-ci-sigill.log"


@pytest.fixture
def checkout(tmp_path):
    repo = tmp_path / "repo"
    shutil.copytree(EXAMPLE, repo)
    return repo


def test_readme_example_prints_the_diff():
    run = subprocess.run([sys.executable, "-m", "bot", "fix", str(EXAMPLE), "--log", str(EXAMPLE_LOG)],
                         capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines()[0] == "qemu-sigill on linux/arm64: build-on-buildplatform"
    assert "+FROM --platform=$BUILDPLATFORM node:22-bookworm-slim AS build" in run.stdout
    assert "If this does not cure it, next: github-builder" in run.stdout


def test_json_shape(checkout, capsys):
    assert main(["fix", str(checkout), "--log", str(EXAMPLE_LOG), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"signature", "remedy", "companions", "files", "diff", "explanation"}
    assert (out["signature"], out["remedy"], out["companions"]) == ("qemu-sigill", "build-on-buildplatform", [])
    assert list(out["files"]) == ["Dockerfile"]
    assert out["files"]["Dockerfile"].startswith("# syntax=docker/dockerfile:1\nFROM --platform=$BUILDPLATFORM")
    assert "## What failed" in out["explanation"]


def test_write_changes_the_checkout(checkout, capsys):
    before = (checkout / ".github/workflows/docker.yml").read_text()
    assert main(["fix", str(checkout), "--log", str(EXAMPLE_LOG), "--write", "--skip", "build-on-buildplatform",
                 "--ghes"]) == 0
    out = capsys.readouterr().out
    assert "pin-qemu" in out and "wrote .github/workflows/docker.yml" in out
    after = (checkout / ".github/workflows/docker.yml").read_text()
    assert "image: tonistiigi/binfmt:qemu-v10.2.3-68" in after and after != before
    # Running it again finds nothing more to do with that remedy.
    assert main(["fix", str(checkout), "--log", str(EXAMPLE_LOG), "--remedy", "pin-qemu"]) == 3


def test_no_finding_exits_3(checkout, tmp_path, capsys):
    log = tmp_path / "ok.log"
    log.write_text("all good\n")
    assert main(["fix", str(checkout), "--log", str(log)]) == 3
    assert "nothing to fix" in capsys.readouterr().err
    assert main(["fix", str(checkout), "--log", str(log), "--json"]) == 3
    assert json.loads(capsys.readouterr().out)["remedy"] is None


@pytest.mark.parametrize("problem,message", [
    ("workflow", "is not valid YAML"),
    ("config", "unknown key"),
    ("bomb", "alias bomb"),
    ("log", "cannot read"),
    ("repo", "is not a directory"),
])
def test_bad_input_is_one_line_and_exit_2(checkout, problem, message):
    log = EXAMPLE_LOG
    repo = checkout
    if problem == "workflow":
        (checkout / ".github/workflows/broken.yml").write_text("jobs: [unclosed\n  - x: {\n")
    elif problem == "config":
        (checkout / ".github/docker-build-fixer.yml").write_text("polcy: minimal\n")
    elif problem == "bomb":
        lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
        lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 20)]
        (checkout / ".github/workflows/bomb.yml").write_text("\n".join(lines) + "\n")
    elif problem == "log":
        log = checkout / "missing.log"
    else:
        repo = checkout / "nope"
    run = subprocess.run([sys.executable, "-m", "bot", "fix", str(repo), "--log", str(log)],
                         capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert run.returncode == 2
    assert run.stdout == ""
    assert len(run.stderr.strip().splitlines()) == 1 and message in run.stderr
    assert "Traceback" not in run.stderr


def test_config_values_are_checked(checkout, capsys):
    (checkout / ".github/docker-build-fixer.yml").write_text("policy: fastest\nnode-max-old-space-size: 12\n")
    assert main(["fix", str(checkout), "--log", str(EXAMPLE_LOG)]) == 2
    err = capsys.readouterr().err
    assert "node-max-old-space-size: 12 is less than the minimum of 256" in err
    assert "policy: 'fastest' is not one of ['evidence', 'minimal']" in err


def test_workflow_option_and_unknown_workflow(tmp_path, capsys):
    repo = tmp_path / "r"
    (repo / ".github/workflows").mkdir(parents=True)
    (repo / WF).write_text(WORKFLOWS["comma-no-spaces"])
    (repo / "Dockerfile").write_text(NODE_SITE)
    log = tmp_path / "job.log"
    log.write_bytes(sigill_log())
    assert main(["fix", str(repo), "--log", str(log), "--workflow", "docker.yml", "--remedy", "pin-qemu"]) == 0
    capsys.readouterr()
    assert main(["fix", str(repo), "--log", str(log), "--workflow", "release.yml"]) == 2
    assert "no workflow release.yml in this repository" in capsys.readouterr().err


def test_an_internal_error_is_one_line(checkout, monkeypatch, capsys):
    import bot.fix
    monkeypatch.setattr(bot.fix, "fix", lambda request: (_ for _ in ()).throw(RuntimeError("boom")))
    assert main(["fix", str(checkout), "--log", str(EXAMPLE_LOG)]) == 1
    err = capsys.readouterr().err
    assert err.strip() == "docker-build-fixer: internal error (RuntimeError: boom); please report it with the log"


def test_a_checkout_s_dockerfiles_under_their_usual_names_are_read(tmp_path):
    from bot.repo import read_repo
    names = ["Dockerfile", "Dockerfile.alpine", "Dockerfile-slim", "docker/Dockerfile_dev", "dockerfile",
             "web/app.Dockerfile", "Containerfile"]
    for name in names + ["Dockerfile.dockerignore", "Dockerfiles/README.md", "docs/dockerfile.md"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("FROM scratch\n")
    assert sorted(read_repo(str(tmp_path)).dockerfiles) == sorted(names)

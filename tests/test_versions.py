"""The versions the app writes: the data file's entries, the `versions` table, and
`versions --refresh` against the GitHub sandbox (tags and refs, annotated tags followed to
their commits), and its one-line failure without a network."""

import json
import os
import re
import socket
import subprocess
import sys

import pytest

from bot import versions
from bot.versions import pin

from .conftest import ROOT
from .repos import NODE_SITE, WF, WORKFLOWS, run, sigill_log

MAJORS = {
    "docker/setup-qemu-action": "v4", "docker/setup-buildx-action": "v4", "docker/build-push-action": "v7",
    "docker/metadata-action": "v6", "docker/login-action": "v4", "docker/bake-action": "v7",
    "actions/upload-artifact": "v7", "actions/download-artifact": "v8",
    "docker/github-builder/.github/workflows/build.yml": "v1",
    "docker/github-builder/.github/workflows/bake.yml": "v1",
}
PINNED_USES = re.compile(r"uses: [\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$")


def test_every_entry_is_a_release_commit():
    pins = versions.pins()
    assert set(pins) == set(MAJORS)
    for name, entry in pins.items():
        assert re.fullmatch(r"[0-9a-f]{40}", entry.sha), name
        assert re.fullmatch(r"v\d+\.\d+\.\d+", entry.version), name
        assert entry.major == MAJORS[name], name
    assert versions.problems(versions.data()) == []


def test_binfmt_default_and_its_evidence():
    assert versions.default_qemu_image() == "tonistiigi/binfmt:qemu-v10.2.3-68"
    evidence = " ".join(versions.qemu_evidence(versions.default_qemu_image()))
    assert "docker/github-builder" in evidence and "build.yml line 187" in evidence


def test_problems_are_named():
    bad = {"actions": {"a/b": {"version": "v4", "sha": "abc"}}, "binfmt": {"default": "x", "images": {}}}
    assert versions.problems(bad) == ["a/b: version 'v4' is not vX.Y.Z", "a/b: sha 'abc' is not a 40-hex commit",
                                      "binfmt: the default image has no evidence entry"]


@pytest.mark.parametrize("remedy", ["pin-qemu", "add-buildx", "native-runners"])
def test_added_uses_lines_are_sha_pinned_in_a_file_that_uses_tags(remedy):
    shape = "no-buildx" if remedy == "add-buildx" else "comma-no-spaces"
    text = WORKFLOWS[shape].replace("      - name: Set up QEMU\n        uses: docker/setup-qemu-action@v3\n", "")
    log = b"ERROR: Multi-platform build is not supported for the docker driver.\n" if remedy == "add-buildx" \
        else sigill_log()
    result = run({WF: text}, {"Dockerfile": NODE_SITE}, log, remedy=remedy)
    old = set(text.splitlines())
    added = [line for line in result.files[WF].splitlines() if "uses:" in line and line not in old]
    assert added
    for line in added:
        assert PINNED_USES.search(line), line
    # Existing steps keep their references.
    assert all(line in result.files[WF].splitlines() for line in old if "uses:" in line and "@v" in line
               and remedy != "native-runners")


def cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "bot", "versions", *args], capture_output=True, text=True,
                          cwd=ROOT, env={**os.environ, **(env or {})}, timeout=60)


def test_versions_prints_the_table():
    out = cli()
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].split() == ["action", "version", "commit"]
    qemu = pin("docker/setup-qemu-action")
    assert f"docker/setup-qemu-action" in out.stdout and qemu.sha in out.stdout and qemu.version in out.stdout
    assert "binfmt image (pin-qemu default): tonistiigi/binfmt:qemu-v10.2.3-68" in out.stdout


def _commit(n: int) -> str:
    return f"{n:040x}"


def test_refresh_against_the_sandbox(sandbox, tmp_path):
    repos = sorted({p.repo for p in versions.pins().values()})
    specs = []
    for i, repo in enumerate(repos):
        current = next(p for p in versions.pins().values() if p.repo == repo)
        major = int(current.major[1:])
        specs.append({"full_name": repo, "files": {"README.md": "x"}, "tags": {
            current.version: {"commit": current.sha},
            f"v{major}": {"commit": _commit(100 + i)},  # the moving major tag: not a release
            f"v{major}.99.1": {"commit": _commit(200 + i), "annotated": i % 2 == 0},
            f"v{major}.100.0": {"commit": _commit(300 + i), "annotated": i % 2 == 1},  # compared as numbers
            f"v{major + 1}.0.0": {"commit": _commit(400 + i)},  # the next major is not taken
            f"v{major}.101.0-rc.1": {"commit": _commit(500 + i)},  # nor a pre-release
        }})
    sandbox.setup(repos=specs)
    data = tmp_path / "versions.json"
    data.write_text(versions.dump(versions.data()))
    before = len(sandbox.state()["violations"])
    out = cli("--refresh", "--file", str(data), env={"GITHUB_API_URL": sandbox.base_url, "GITHUB_TOKEN": ""})
    assert out.returncode == 0, out.stderr
    new = json.loads(data.read_text())
    for name, entry in new["actions"].items():
        i = repos.index("/".join(name.split("/")[:2]))
        major = MAJORS[name][1:]
        assert entry == {"version": f"v{major}.100.0", "sha": _commit(300 + i)}, name  # the commit, not the tag object
    assert new["binfmt"] == versions.data()["binfmt"] and new["runners"] == versions.data()["runners"]
    assert "docker/setup-qemu-action: v4.2.0 -> v4.100.0" in out.stdout
    state = sandbox.state()
    assert state["violations"][before:] == []
    calls = [c["path"] for c in state["calls"] if "/git/" in c["path"] and "docker/github-builder" in c["path"]]
    assert calls.count("/repos/docker/github-builder/git/matching-refs/tags/v1") == 1  # build.yml and bake.yml share it
    # Refreshing again finds nothing newer and leaves the file as it is.
    again = cli("--refresh", "--file", str(data), env={"GITHUB_API_URL": sandbox.base_url})
    assert again.returncode == 0 and "unchanged" in again.stdout


def test_refresh_without_network_changes_nothing(tmp_path):
    data = tmp_path / "versions.json"
    data.write_text(versions.dump(versions.data()))
    before = data.read_bytes()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once the block ends: nothing listens there
    out = cli("--refresh", "--file", str(data), env={"GITHUB_API_URL": f"http://127.0.0.1:{port}"})
    assert out.returncode == 2
    assert out.stdout == "" and len(out.stderr.strip().splitlines()) == 1
    assert "unchanged" in out.stderr and "Traceback" not in out.stderr
    assert data.read_bytes() == before


def test_refresh_of_a_repository_without_releases_fails_in_one_line(sandbox, tmp_path):
    sandbox.setup(repos=[{"full_name": "docker/setup-qemu-action", "files": {"README.md": "x"}, "tags": {}}])
    data = tmp_path / "versions.json"
    data.write_text(versions.dump(versions.data()))
    out = cli("--refresh", "--file", str(data), env={"GITHUB_API_URL": sandbox.base_url})
    assert out.returncode == 2 and "has no release tag v4.X.Y" in out.stderr
    assert json.loads(data.read_text()) == versions.data()

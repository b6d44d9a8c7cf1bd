"""``docker-build-fixer diagnose``: the human report, the JSON shape, and bad input."""

import json
import subprocess
import sys

from bot.cli import main

from .conftest import CORPUS, ROOT

SIGILL = CORPUS / "04-sigill-npm-ci-hang-30min-timeout.log"
NATIVE = CORPUS / "47-negative-native-numpy-illegal-instruction.log"


def test_json_shape(capsys):
    assert main(["diagnose", "--json", str(SIGILL), str(NATIVE)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [f["signature"] for f in out["findings"]] == ["qemu-sigill", "job-timeout"]
    first = out["findings"][0]
    assert set(first) == {"signature", "platform", "step", "line", "excerpt", "file"}
    assert first["platform"] == "linux/arm64"
    assert first["step"] == {"stage": "build", "instruction": "RUN npm ci"}
    assert first["line"] == 3
    assert first["file"] == str(SIGILL)
    assert "qemu: uncaught target signal 4" in " ".join(first["excerpt"])


def test_human_report(capsys):
    assert main(["diagnose", str(SIGILL), str(NATIVE)]) == 0
    out = capsys.readouterr().out
    assert "qemu-sigill - Illegal instruction under QEMU" in out
    assert "linux/arm64" in out and "[build] RUN npm ci" in out
    assert "also      job-timeout" in out
    assert f"{NATIVE}: no known multi-platform build failure" in out


def test_missing_file_is_one_clear_line(tmp_path):
    missing = tmp_path / "nope.log"
    run = subprocess.run([sys.executable, "-m", "bot", "diagnose", str(missing)],
                         capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 2
    assert run.stdout == ""
    assert run.stderr.strip() == f"docker-build-fixer: cannot read {missing}: No such file or directory"


def test_directory_and_unreadable(tmp_path, capsys):
    assert main(["diagnose", str(tmp_path)]) == 2
    assert "is a directory" in capsys.readouterr().err
    locked = tmp_path / "locked.log"
    locked.write_text("x")
    locked.chmod(0)
    try:
        readable = True
        try:
            open(locked, "rb").close()
        except PermissionError:
            readable = False
        code = main(["diagnose", str(locked)])
        assert code == (0 if readable else 2)  # root reads everything
    finally:
        locked.chmod(0o644)


def test_binary_log_is_valid_input(tmp_path, capsys):
    log = tmp_path / "binary.log"
    log.write_bytes(bytes(range(256)) * 1000)
    assert main(["diagnose", "--json", str(log)]) == 0
    assert json.loads(capsys.readouterr().out) == {"findings": []}

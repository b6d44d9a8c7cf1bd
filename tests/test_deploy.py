"""The deployment files: the Dockerfile passes hadolint (every level), compose.yaml validates
against the Compose specification (vendored in check-jsonschema) and runs web, worker and
PostgreSQL from the one image; the Procfile names both processes; the installed package carries
what the app reads at run time."""

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


def test_an_installed_app_reads_its_manifest_from_the_package(tmp_path):
    """The image installs the package (`pip install .`), with no source tree beside it: only the
    modules and the package data that pyproject.toml names. From such a copy, in another
    directory, the setup page's manifest is read."""
    import tomllib

    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["bot"]
    package = ROOT / "bot"
    shipped = {p for p in package.rglob("*.py")} | {p for pattern in patterns for p in package.glob(pattern)}
    for path in shipped:
        target = tmp_path / "site-packages" / path.relative_to(ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    (tmp_path / "work").mkdir()
    script = ("from bot.app import manifest; m = manifest.build('https://dbf.example'); "
              "print(m['name'], m['hook_attributes']['url'], sorted(m['default_permissions'])[0])")
    result = subprocess.run([sys.executable, "-c", script], cwd=tmp_path / "work", capture_output=True, text=True,
                            env={"PYTHONPATH": str(tmp_path / "site-packages"), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr[-2000:]
    name, hook, _ = result.stdout.split()
    assert name == YAML(typ="safe").load((package / "app.yml").read_text())["name"]
    assert hook == "https://dbf.example/webhooks"

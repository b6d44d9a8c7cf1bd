"""`diagnose` starts fast: it imports only what diagnosis needs and loads the compiled
prefilter from the user's cache instead of compiling it in every process."""

import json
import os
import subprocess
import sys

from bot.diagnosis import dbcache
from bot.diagnosis.prefilter import Prefilter
from bot.diagnosis.rules import HEADER_PATTERN, SIGNATURE_PATTERNS, STRUCTURE_PATTERNS

from .conftest import ROOT

HEAVY = ["aiohttp", "gidgethub", "ruamel", "jsonschema", "dockerfile", "jwt", "cryptography",
         "bot.remedies", "bot.fix", "bot.app", "bot.github", "bot.config"]


def test_diagnose_imports_only_diagnosis(tmp_path):
    log = tmp_path / "job.log"
    log.write_text("#5 [linux/arm64 build 2/3] RUN npm ci\n"
                   "#5 3.1 qemu: uncaught target signal 4 (Illegal instruction) - core dumped\n")
    code = ("import sys, json; from bot.cli import main; main(['diagnose', '--json', sys.argv[1]]);"
            "sys.stderr.write(json.dumps(sorted(sys.modules)))")
    run = subprocess.run([sys.executable, "-c", code, str(log)], capture_output=True, text=True, cwd=ROOT,
                         check=True)
    assert json.loads(run.stdout)["findings"][0]["signature"] == "qemu-sigill"
    loaded = json.loads(run.stderr)
    assert [m for m in loaded if any(m == h or m.startswith(h + ".") for h in HEAVY)] == []
    if "bot.diagnosis._hsscan" in loaded:  # the file was scanned in C: python-hyperscan is not needed
        assert "hyperscan" not in loaded


def patterns():
    return [HEADER_PATTERN], STRUCTURE_PATTERNS + SIGNATURE_PATTERNS


def found(prefilter):
    return prefilter.scanner()(b"2025-01-01T00:00:00.0Z #7 [linux/arm64 a 1/2] RUN x\n"
                               b"#7 1.2 qemu: uncaught target signal 4 (Illegal instruction)\n")


def test_compiled_once_then_loaded_from_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv(dbcache.CACHE_ENV, str(tmp_path))
    first = Prefilter(*patterns())
    expected = found(first)
    assert first.loaded_from_cache is False
    assert len(list(tmp_path.glob("prefilter-*.hsdb"))) == 1
    second = Prefilter(*patterns())
    assert found(second) == expected and second.loaded_from_cache is True
    # Other patterns are another database, never the cached one.
    other = Prefilter([HEADER_PATTERN], STRUCTURE_PATTERNS)
    other.scanner()
    assert other.loaded_from_cache is False
    assert len(list(tmp_path.glob("prefilter-*.hsdb"))) == 2


def test_a_damaged_cache_is_rebuilt(tmp_path, monkeypatch):
    monkeypatch.setenv(dbcache.CACHE_ENV, str(tmp_path))
    expected = found(Prefilter(*patterns()))
    [path] = tmp_path.glob("prefilter-*.hsdb")
    path.write_bytes(b"not a hyperscan database")
    again = Prefilter(*patterns())
    assert found(again) == expected and again.loaded_from_cache is False
    assert path.read_bytes() != b"not a hyperscan database"


def test_an_unwritable_cache_directory_only_means_compiling(tmp_path, monkeypatch):
    blocked = tmp_path / "file-not-dir"
    blocked.write_text("")
    monkeypatch.setenv(dbcache.CACHE_ENV, str(blocked / "cache"))
    prefilter = Prefilter(*patterns())
    assert found(prefilter)[1] and prefilter.loaded_from_cache is False


def test_cache_directory_follows_xdg(monkeypatch, tmp_path):
    monkeypatch.delenv(dbcache.CACHE_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert dbcache.cache_dir() == os.path.join(str(tmp_path), "docker-build-fixer")

import atexit
import csv
import os
import shutil
import tempfile

import pytest

from .data import CORPUS, ROOT  # noqa: F401  (ROOT and CORPUS are imported from here by the tests)

# The compiled prefilter is cached per user; tests (and the processes they start) use their own,
# removed when the session ends (every run used to leave one behind in the temporary directory).
if not os.environ.get("DBF_CACHE_DIR"):
    os.environ["DBF_CACHE_DIR"] = tempfile.mkdtemp(prefix="dbf-test-cache-")
    atexit.register(shutil.rmtree, os.environ["DBF_CACHE_DIR"], ignore_errors=True)


def corpus_rows() -> list[dict]:
    with open(CORPUS / "EXPECTED.tsv", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    for row in rows:
        row["expected"] = [] if row["primary"] == "none" else (
            [row["primary"]] + [s for s in row["also"].split(",") if s]
        )
        row["platform"] = row["platform"] or None
    return rows


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory):
    """The one GitHub sandbox of the test session, in its own process."""
    from .github import SandboxProcess

    process = SandboxProcess(tmp_path_factory.mktemp("sandbox"))
    yield process
    process.stop()


@pytest.fixture(autouse=True)
def github_contract(request):
    """Every test that talks to the sandbox ends with no contract violation: a request, GraphQL
    document or answer that GitHub's published descriptions do not allow fails the test that
    caused it (tests that break the contract on purpose clear what they caused)."""
    if "sandbox" not in request.fixturenames:
        yield
        return
    sandbox = request.getfixturevalue("sandbox")
    sandbox.setup(clear_violations=True)
    yield
    violations = sandbox.state()["violations"]
    assert violations == [], "GitHub's contract was broken:\n" + "\n".join(violations)


@pytest.fixture
async def client(aiohttp_client, sandbox, tmp_path):
    """The App in-process (aiohttp test client) against the sandbox."""
    from bot.app.server import create_app
    from bot.settings import Secret, Settings

    from .github import APP_ID, SECRET, app_key

    settings = Settings(app_id=str(APP_ID), private_key=Secret(app_key()[0]), webhook_secret=Secret(SECRET),
                        api_url=sandbox.base_url, state_path=str(tmp_path / "state.sqlite3"))
    return await aiohttp_client(create_app(settings))


@pytest.fixture
def server(sandbox, tmp_path):
    """The real server process (`python -m bot serve`) against the sandbox; stopped with SIGTERM."""
    import signal
    import subprocess
    import time

    from .github import free_port, start_server

    url, process = start_server(sandbox, tmp_path / "state.sqlite3", free_port())
    yield url, process
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGUSR1)  # the server prints its threads' stacks
        time.sleep(1)
        process.kill()
        raise AssertionError("the server did not stop on SIGTERM:\n" + process.log_path.read_text()[-4000:])


@pytest.fixture(scope="session")
def postgres():
    """One real PostgreSQL server for the session (tests/postgres.py); each test makes its own
    database on it."""
    from .postgres import PostgresServer

    server = PostgresServer()
    yield server
    server.stop()

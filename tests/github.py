"""The GitHub test double shared by all App tests: the sandbox process, the app's RSA key,
webhook payloads built from GitHub's published examples (and validated against the published
webhook schemas), and signing."""

from __future__ import annotations

import base64
import copy
import gzip
import hashlib
import hmac
import http.client
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from functools import lru_cache
from pathlib import Path

import jsonschema
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from .data import ROOT, WEBHOOK_EXAMPLES, WEBHOOK_SCHEMAS

EXAMPLES = WEBHOOK_EXAMPLES
SECRET = "test-webhook-secret-5b1d"
APP_ID = 4242


@lru_cache(maxsize=1)
def app_key() -> tuple[str, str]:
    """A freshly generated RSA key pair for the app: (private PEM, public PEM)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public


class SandboxProcess:
    """The GitHub sandbox running as its own process, set up and read over HTTP."""

    def __init__(self, workdir: Path):
        _, public = app_key()
        key_file = workdir / "app-public.pem"
        key_file.write_text(public)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.sandbox", "--app-key", str(key_file), "--app-id", str(APP_ID)],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError("the sandbox did not start: " + self.process.stderr.read()[-2000:])
        info = json.loads(line)
        self.base_url = info["base_url"]
        self.logs_url = info["logs_url"]
        self.web_url = info["web_url"]

    def post(self, path: str, data: dict) -> dict:
        request = urllib.request.Request(self.base_url + path, data=json.dumps(data).encode(), method="POST",
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    def state(self) -> dict:
        with urllib.request.urlopen(self.base_url + "/_sandbox/state", timeout=30) as response:
            return json.loads(response.read())

    def setup(self, **spec) -> None:
        self.post("/_sandbox/setup", spec)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


class Scenario:
    """One test's repository in the shared sandbox: a unique name and installation."""

    counter = 0

    def __init__(self, sandbox: SandboxProcess, files: dict[str, str], *, log: bytes, workflows_permission=True,
                 private: bool = False, annotations: list | None = None, conclusion: str = "failure",
                 blob_text_limit: int | None = None):
        Scenario.counter += 1
        self.sandbox = sandbox
        self.installation = 9000 + Scenario.counter
        self.repo = f"acme/app-{Scenario.counter}-{uuid.uuid4().hex[:6]}"
        self.run_id = 7000 + Scenario.counter
        self.job_id = 8000 + Scenario.counter
        permissions = {"actions": "read", "checks": "read", "contents": "write", "pull_requests": "write",
                       "issues": "write", "metadata": "read"}
        if workflows_permission:
            permissions["workflows"] = "write"
        sandbox.setup(
            installations=[{"id": self.installation, "account": "acme", "permissions": permissions,
                            "repos": [self.repo]}],
            repos=[{"full_name": self.repo, "files": files, "private": private, "blob_text_limit": blob_text_limit}],
            runs=[{"repo": self.repo, "run_id": self.run_id, "jobs": [
                {"id": self.job_id, "name": "image", "conclusion": conclusion,
                 "log_b64": base64.b64encode(log).decode(), "annotations": annotations or []}]}],
        )
        self.conclusion = conclusion

    def payload(self, **changes) -> dict:
        state = self.repo_state()
        branch = changes.get("head_branch", "main")
        head_sha = state["refs"].get(f"heads/{branch}", state["refs"]["heads/main"])
        return workflow_run_payload(self.repo, self.installation, self.run_id, conclusion=self.conclusion,
                                    head_sha=head_sha, head_tree=state["commits"][head_sha]["tree"], **changes)

    def repo_state(self) -> dict:
        return self.sandbox.state()["repos"][self.repo]

    def calls(self) -> list[dict]:
        return [c for c in self.sandbox.state()["calls"] if self.repo in c.get("path", "")]


def workflow_run_payload(repo: str, installation: int, run_id: int, *, conclusion: str = "failure",
                         head_branch: str = "main", workflow_path: str = ".github/workflows/docker.yml",
                         fork: bool = False, event: str = "push", pull_requests: list | None = None,
                         head_sha: str = "0" * 40, head_tree: str = "0" * 40) -> dict:
    """A failed workflow_run.completed delivery, derived from GitHub's published example."""
    payload = json.loads((EXAMPLES / "workflow_run.completed.1.json").read_text())
    owner, name = repo.split("/")
    payload["repository"].update({"full_name": repo, "name": name, "default_branch": "main"})
    payload["workflow_run"]["repository"].update({"full_name": repo, "name": name})
    for where in (payload["repository"], payload["workflow_run"]["repository"]):
        where["owner"]["login"] = owner
    head = copy.deepcopy(payload["workflow_run"]["repository"])
    if fork:
        head["full_name"] = f"someone/{name}"
    payload["workflow_run"].update({
        "id": run_id, "conclusion": conclusion, "head_branch": head_branch, "path": workflow_path,
        "head_sha": head_sha, "head_commit": {**payload["workflow_run"]["head_commit"], "id": head_sha,
                                              "tree_id": head_tree},
        "name": "Docker image", "event": event, "head_repository": head, "pull_requests": pull_requests or [],
        "html_url": f"https://github.com/{repo}/actions/runs/{run_id}",
    })
    payload["installation"] = {"id": installation, "node_id": "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uMQ=="}
    return payload


@lru_cache(maxsize=1)
def _webhook_schemas() -> tuple[dict, Registry]:
    with gzip.open(WEBHOOK_SCHEMAS) as handle:
        schema = json.load(handle)
    uri = "urn:octokit-webhooks"
    return schema, Registry().with_resource(uri, Resource(contents=schema, specification=DRAFT7))


def webhook_errors(event: str, action: str, payload: dict) -> list[str]:
    schema, registry = _webhook_schemas()
    validator = jsonschema.Draft7Validator({"$ref": f"urn:octokit-webhooks#/definitions/{event}${action}"},
                                           registry=registry)
    return [e.message[:200] for e in validator.iter_errors(payload)][:5]


def signed(payload: dict | bytes, event: str = "workflow_run", delivery: str | None = None,
           secret: str = SECRET) -> tuple[bytes, dict]:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return body, {"Content-Type": "application/json", "X-GitHub-Event": event,
                  "X-GitHub-Delivery": delivery or str(uuid.uuid4()), "X-Hub-Signature-256": signature}


def wait_for(predicate, timeout: float = 30, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("timed out waiting")


def app_env(sandbox: SandboxProcess, state_path: Path, port: int, **extra) -> dict:
    private, _ = app_key()
    return {**os.environ, "GITHUB_APP_ID": str(APP_ID), "GITHUB_PRIVATE_KEY": private.replace("\n", "\\n"),
            "GITHUB_WEBHOOK_SECRET": SECRET, "GITHUB_API_URL": sandbox.base_url, "PORT": str(port),
            "STATE_PATH": str(state_path), "HOST": "127.0.0.1", **extra}


def setup_env(sandbox: SandboxProcess, state_path: Path, port: int, **extra) -> dict:
    """The environment of a deployment that is not registered yet: no id, key or webhook secret."""
    credentials = ("GITHUB_APP_ID", "GITHUB_PRIVATE_KEY", "GITHUB_PRIVATE_KEY_PATH", "GITHUB_WEBHOOK_SECRET")
    base = {k: v for k, v in os.environ.items() if k not in credentials}
    return {**base, "GITHUB_API_URL": sandbox.base_url, "GITHUB_WEB_URL": sandbox.web_url, "PORT": str(port),
            "STATE_PATH": str(state_path), "HOST": "127.0.0.1", **extra}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(sandbox, state_path, port, log_path=None, env=None, **extra):
    """The real server process, once it answers /healthz (``env``: its whole environment;
    ``extra``: variables added to the usual one). Its log goes to a file: a pipe nobody
    reads fills up, and a server writing to a full pipe blocks (as on any host whose log
    collector stopped reading)."""
    log_path = log_path or state_path.with_suffix(".log")
    with open(log_path, "w") as log:  # the child writes to its own copy; ours is closed at once
        process = subprocess.Popen([sys.executable, "-m", "bot", "serve"], cwd=ROOT,
                                   env=env or app_env(sandbox, state_path, port, **extra),
                                   stdout=subprocess.DEVNULL, stderr=log, text=True)
    process.log_path = log_path
    url = f"http://127.0.0.1:{port}"

    def healthy():
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as response:
                return response.status == 200
        # OSError: refused before the port is bound, and also a read that times out (urllib
        # raises TimeoutError itself, not URLError) while a loaded machine starts the server.
        except (OSError, http.client.HTTPException):
            if process.poll() is not None:
                raise AssertionError("the server exited: " + log_path.read_text()[-2000:])
            return False

    wait_for(healthy, timeout=30)
    return url, process


def start_worker(sandbox, log_path: Path, **env) -> subprocess.Popen:
    """A `python -m bot worker` process (PostgreSQL queue); it has no port to wait for."""
    with open(log_path, "w") as log:
        process = subprocess.Popen([sys.executable, "-m", "bot", "worker"], cwd=ROOT,
                                   env=app_env(sandbox, log_path.with_suffix(".unused"), 0, **env),
                                   stdout=subprocess.DEVNULL, stderr=log, text=True)
    process.log_path = log_path
    return process

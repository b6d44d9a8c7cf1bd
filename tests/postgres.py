"""A real PostgreSQL server for the tests: Debian's `postgresql` package (installed by .ci/run),
a cluster made by `initdb` in a temporary directory, listening on a free port on 127.0.0.1,
stopped at the end of the session. The server refuses to run as root, so under root (CI) it
runs as the `postgres` user that the package creates."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

from .github import free_port


def binaries() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).parent
    raise RuntimeError("PostgreSQL is not installed (Debian: apt-get install postgresql; .ci/run does it)")


class PostgresServer:
    def __init__(self, durable: bool = False):
        self.bin = binaries()
        # Its own directory under /tmp: pytest's temporary directories are private to root,
        # and the server's user must reach its data directory.
        workdir = Path(tempfile.mkdtemp(prefix="dbf-postgres-"))
        self.workdir = workdir
        self.data = workdir / "data"
        self.port = free_port()
        as_root = os.geteuid() == 0
        self.prefix = ["runuser", "-u", "postgres", "--"] if as_root else []
        if as_root:
            shutil.chown(workdir, "postgres", "postgres")
            os.chmod(workdir, 0o700)
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust",
                  "--no-sync", "-E", "UTF8")
        self.log = workdir / "server.log"
        # Tests do not need crash safety of the server itself (fsync off); benchmarks do.
        options = f"-p {self.port} -h 127.0.0.1 -k {workdir} -c max_connections=300"
        if not durable:
            options += " -c fsync=off -c synchronous_commit=off"
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60",
                  "-o", options, "start")

    def _run(self, *command: str) -> None:
        result = subprocess.run([*self.prefix, *command], capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"{Path(command[0]).name} failed: {result.stderr.strip()[-2000:]}")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """A fresh empty database for one test; its URL."""
        import psycopg

        name = "dbf_" + uuid.uuid4().hex[:10]
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def stop(self) -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")
        shutil.rmtree(self.workdir, ignore_errors=True)

"""A throwaway PostgreSQL server for the test run: Debian's binaries, a temp data directory,
a free loopback port, no password (trust), fsync off. Started once per test session.

PostgreSQL refuses to run as root, so as root the server runs as the `postgres` user that
Debian's package creates. `make test` installs the package with apt-get where it is missing.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path


def pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(Path(p).parts[4]))
    return Path(found[-1]).parent if found else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    port: int
    base: Path
    bin: Path
    as_postgres: bool

    @property
    def admin_url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str) -> None:
        command = [str(a) for a in args]
        if self.as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, text=True, timeout=120)

    def stop_server(self) -> None:
        """Stop the server cleanly, keeping its data (start() brings it back). A fast, not an
        immediate, shutdown: with synchronous_commit off an immediate one may lose recent commits."""
        with contextlib.suppress(subprocess.CalledProcessError):
            self._run(self.bin / "pg_ctl", "-D", self.base / "data", "-m", "fast", "-w", "stop")

    def stop(self) -> None:
        """Stop the server and remove its data."""
        self.stop_server()
        shutil.rmtree(self.base, ignore_errors=True)

    def start(self) -> None:
        self._run(
            self.bin / "pg_ctl",
            "-D",
            self.base / "data",
            "-l",
            self.base / "server.log",
            "-w",
            "start",
            "-o",
            f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off",
        )


def start_server() -> Server:
    binaries = pg_bin()
    if binaries is None:
        raise RuntimeError(
            "PostgreSQL server binaries not found (/usr/lib/postgresql/*/bin). "
            "`make test` installs them: apt-get install postgresql"
        )
    as_postgres = os.geteuid() == 0
    base = Path(tempfile.mkdtemp(prefix="rsp-pg-"))
    if as_postgres:
        shutil.chown(base, "postgres")
    server = Server(free_port(), base, binaries, as_postgres)
    server._run(binaries / "initdb", "-D", base / "data", "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
    server.start()
    return server

"""Helpers shared by the store tests: compare whole stores across backends, drop test databases."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, create_engine, select, text
from sqlalchemy.engine import make_url

from rsp_data import schema


def plain(value):
    """Datetimes timezone-aware in UTC: PostgreSQL returns them aware (in the server's zone),
    SQLite stores UTC and returns them naive."""
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
    return value


def snapshot(engine: Engine) -> dict[str, list[tuple]]:
    """Every row of every table of the store, ordered by primary key, values normalised."""
    out = {}
    with engine.connect() as conn:
        for table in schema.metadata.sorted_tables:
            rows = conn.execute(select(table).order_by(*table.primary_key.columns))
            out[table.name] = [tuple(plain(v) for v in row) for row in rows]
    return out


def drop_store(url: str) -> None:
    """Drop a PostgreSQL test database (ending any connection a killed import left);
    SQLite files go with tmp_path."""
    u = make_url(url)
    if u.get_backend_name() != "postgresql":
        return
    admin = create_engine(u.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{u.database}" WITH (FORCE)'))  # generated name
    finally:
        admin.dispose()


REPO_ROOT = Path(__file__).resolve().parent.parent
# Settings the command line would otherwise pick up from the test run's environment.
_CLI_ENV_DROP = ("DATABASE_URL", "RSP_VIEWER_PASSWORD")


def run_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """`python -m rsp_data ARGS` from the repo root, with a clean environment plus `env`."""
    clean = {k: v for k, v in os.environ.items() if k not in _CLI_ENV_DROP}
    return subprocess.run(
        [sys.executable, "-m", "rsp_data", *args],
        cwd=REPO_ROOT,
        env={**clean, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def copy_store(template_url: str, directory: Path) -> tuple[str, Path | None]:
    """A new store holding the template's contents, and its SQLite file (None on PostgreSQL):
    a copy of the file, or a new database made with CREATE DATABASE ... TEMPLATE (the template
    must have no open connections)."""
    template = make_url(template_url)
    if template.get_backend_name() == "sqlite":
        path = directory / "s.sqlite"
        shutil.copyfile(template.database, path)
        return f"sqlite:///{path}", path
    database = f"t_{uuid.uuid4().hex[:16]}"
    admin = create_engine(template.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:  # generated names, not input
            conn.execute(text(f'CREATE DATABASE "{database}" TEMPLATE "{template.database}"'))
    finally:
        admin.dispose()
    return template.set(database=database).render_as_string(hide_password=False), None

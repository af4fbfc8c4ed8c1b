"""Helpers shared by the store tests: compare whole stores across backends, drop test databases."""

from __future__ import annotations

from datetime import UTC, datetime

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

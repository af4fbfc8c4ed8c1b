"""Schema migrations (Alembic): bring any store to the current schema, keeping its data."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# The revision whose schema equals what rsp_data created before migrations existed.
BASELINE = "0001"
# Set in a connection's info by a revision whose rollup tables need filling from the facts.
REBUILD = "rsp_data.rebuild_rollups"
# Set by a revision that adds arrays of the registry (rollups.registry_arrays): only those are
# rewritten, not every rollup (a rebuild takes minutes on a national store).
REFRESH_REGISTRY = "rsp_data.refresh_registry_arrays"
# Set by a revision that adds an array column of the months (schema.ARRAY_COLUMNS): every month's
# arrays are rewritten from running_totals, which stays as it is.
REFRESH_ARRAYS = "rsp_data.refresh_arrays"


def _config(connection=None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head() -> str:
    return ScriptDirectory.from_config(_config()).get_current_head()


def current(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Upgrade to the newest revision; returns (revision before, revision after).

    A store created before migrations existed (tables, no alembic_version) is adopted at the
    baseline revision first, then upgraded like any other. A revision that (re)creates a rollup
    table asks for the rollups to be rebuilt (REBUILD in the connection's info): that happens
    here, after the last revision, in the same transaction, by the code of the newest schema.
    """
    from rsp_data import rollups  # (here: rollups imports rsp_data.store, which imports this module)

    with engine.begin() as conn:
        before = MigrationContext.configure(conn).get_current_revision()
        tables = set(inspect(conn).get_table_names())
        if before is None and "monthly_metrics" in tables:
            command.stamp(_config(conn), BASELINE)
            before = BASELINE
        conn.info.pop(REBUILD, None)
        conn.info.pop(REFRESH_REGISTRY, None)
        conn.info.pop(REFRESH_ARRAYS, None)
        command.upgrade(_config(conn), "head")
        rebuilt = conn.info.pop(REBUILD, False)
        registry = conn.info.pop(REFRESH_REGISTRY, False)
        every_array = conn.info.pop(REFRESH_ARRAYS, False)
        if rebuilt:
            rollups.rebuild_all(conn)
            rollups.store_in_key_order(conn)
        elif every_array:
            rollups.refresh_all_arrays(conn)
        elif registry:
            rollups.refresh_registry_arrays(conn)
    if rebuilt:
        rollups.compact(engine)
    return before, head()


def make_revision(message: str, url: str) -> None:
    """Developers: write a new migration from the difference between schema.py and the store at `url`."""
    from sqlalchemy import create_engine

    engine = create_engine(url)
    with engine.begin() as conn:
        command.revision(_config(conn), message=message, autogenerate=True)

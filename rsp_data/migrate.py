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
# Set in a connection's info by a revision, strongest first: its rollup tables need filling from the
# facts; it adds an array column of the months (rewritten from running_totals); or arrays of the registry.
REBUILD = "rsp_data.rebuild_rollups"
REFRESH_ARRAYS = "rsp_data.refresh_arrays"
REFRESH_REGISTRY = "rsp_data.refresh_registry_arrays"
FLAGS = (REBUILD, REFRESH_ARRAYS, REFRESH_REGISTRY)


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
    """Upgrade to the newest revision; returns (revision before, revision after). A store from before
    migrations is adopted at BASELINE; rollups a revision asks for are rebuilt after the last one."""
    from rsp_data import rollups  # (here: rollups imports rsp_data.store, which imports this module)

    with engine.begin() as conn:
        before = MigrationContext.configure(conn).get_current_revision()
        tables = set(inspect(conn).get_table_names())
        if before is None and "monthly_metrics" in tables:
            command.stamp(_config(conn), BASELINE)
            before = BASELINE
        for flag in FLAGS:
            conn.info.pop(flag, None)
        command.upgrade(_config(conn), "head")
        rebuilt, every_array, registry = [conn.info.pop(flag, False) for flag in FLAGS]
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

"""Schema migrations (rsp_data/migrate.py, rsp_data/migrations/): on SQLite and on PostgreSQL.

A new store is created by the migrations and ends up exactly as rsp_data.schema declares it;
a store created before migrations existed (metadata.create_all, no alembic_version) is adopted
without losing a row; every revision can be undone and redone.
"""

from __future__ import annotations

import ast
import inspect as pyinspect
import itertools
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, func, inspect, select

from rsp_data import migrate, schema
from rsp_data.imports import apply_import
from rsp_data.registry import registry
from rsp_data.store import _load_demo, _upsert_registry, init_store, make_engine
from tests.store_helpers import snapshot

REPO_ROOT = Path(__file__).resolve().parent.parent
TABLES = {t.name for t in schema.metadata.sorted_tables}
TODAY = date(2026, 11, 21)


def alembic_config(connection=None) -> Config:
    """The configuration rsp_data.migrate hands to Alembic: the scripts, and an open connection."""
    config = Config()
    config.set_main_option("script_location", str(migrate.MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def revisions_base_to_head() -> list:
    return list(reversed(list(scripts().walk_revisions())))


def schema_differences(engine: Engine) -> list:
    """What Alembic's autogenerate finds between the database and rsp_data.schema.metadata."""
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, schema.metadata)


def version_rows(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return [r[0] for r in conn.exec_driver_sql("SELECT version_num FROM alembic_version")]


@pytest.fixture
def empty(stores):
    """A new, empty database on the module's backend."""
    eng = make_engine(stores.url("migrations"))
    yield eng
    eng.dispose()


# ------------------------------------------------------------------ a new store


def test_a_new_store_is_migrated_to_head_and_matches_the_declared_schema(empty):
    assert migrate.current(empty) is None
    report = init_store(empty)
    assert set(report.created_tables) == TABLES
    assert migrate.current(empty) == migrate.head()
    assert version_rows(empty) == [migrate.head()]
    assert set(inspect(empty).get_table_names()) == TABLES | {"alembic_version"}
    assert schema_differences(empty) == []


def test_init_store_twice_is_idempotent(empty):
    init_store(empty, demo=True)
    before = snapshot(empty)
    again = init_store(empty, demo=True)
    assert not again.changed()
    assert again.created_tables == []
    assert migrate.current(empty) == migrate.head()
    assert version_rows(empty) == [migrate.head()]
    assert snapshot(empty) == before
    assert migrate.upgrade(empty) == (migrate.head(), migrate.head())
    assert snapshot(empty) == before
    assert schema_differences(empty) == []


def test_the_cli_init_names_the_revision(stores):
    """(A second run, "nothing changed", is tests/test_store.py::test_cli_init_demo_is_idempotent.)"""
    url = stores.url("cli-migrations")
    done = subprocess.run(
        [sys.executable, "-m", "rsp_data", "init", "--url", url],
        cwd=REPO_ROOT,
        env={k: v for k, v in os.environ.items() if k != "DATABASE_URL"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert f"schema at revision {migrate.head()}" in done.stdout
    assert "created tables" in done.stdout
    engine = make_engine(url)
    try:
        assert migrate.current(engine) == migrate.head()
    finally:
        engine.dispose()


# ------------------------------------------------------------------ a store from before migrations


def make_old_store(engine: Engine) -> None:
    """A store the way rsp_data made one before migrations: create_all, then the rows init wrote
    (import lock, registry, demo data) and an import, so that every table holds rows."""
    schema.metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(schema.import_lock.insert().values(lock_id=1, holder=""))
        _upsert_registry(conn, registry())
        _load_demo(conn)
    content = (
        b"rsp_id,month,employers_engaged,trainees_enrolled,trainees_completed,placements\r\n"
        b"northwest-ace,2022-06,7,3,2,1\r\n"
        b"capital-technology,2025-03,40,12,9,6\r\n"
    )
    result = apply_import(engine, content, "old.csv", "before migrations", today=TODAY)
    assert result.batch_id is not None


def test_a_store_made_before_migrations_is_adopted_without_losing_a_row(empty):
    make_old_store(empty)
    assert "alembic_version" not in inspect(empty).get_table_names()
    assert migrate.current(empty) is None
    before = snapshot(empty)
    assert all(before[name] for name in TABLES), {name: len(rows) for name, rows in before.items()}

    report = init_store(empty)
    assert report.created_tables == []
    assert (report.registry_inserted, report.registry_updated, report.demo_rows) == (0, 0, 0)
    assert not report.changed()
    assert "nothing changed" in str(report)
    assert migrate.current(empty) == migrate.head()
    assert version_rows(empty) == [migrate.head()]
    after = snapshot(empty)
    assert {name: len(rows) for name, rows in after.items()} == {name: len(rows) for name, rows in before.items()}
    assert after == before
    assert schema_differences(empty) == []

    # and it goes on working: another import gets the next batch id
    with empty.connect() as conn:
        last = conn.execute(select(func.max(schema.import_batches.c.batch_id))).scalar_one()
    content = (
        b"rsp_id,month,employers_engaged,trainees_enrolled,trainees_completed,placements\r\n"
        b"northwest-ace,2022-05,7,3,2,1\r\n"
    )
    assert apply_import(empty, content, "after.csv", "after adoption", today=TODAY).batch_id == last + 1


def test_adopting_through_migrate_upgrade_reports_the_baseline(empty):
    make_old_store(empty)
    assert migrate.upgrade(empty) == (migrate.BASELINE, migrate.head())
    assert migrate.current(empty) == migrate.head()


# ------------------------------------------------------------------ the revisions themselves


def test_the_revisions_form_one_line_from_the_baseline():
    revisions = revisions_base_to_head()
    assert revisions, "no migration scripts"
    assert revisions[0].revision == migrate.BASELINE
    assert revisions[0].down_revision is None
    assert scripts().get_heads() == [migrate.head()]
    assert revisions[-1].revision == migrate.head()
    for older, newer in itertools.pairwise(revisions):
        assert newer.down_revision == older.revision


def _does_something(function) -> bool:
    """The function's body holds more than a docstring, `pass` or `...`."""
    tree = ast.parse(pyinspect.getsource(function).lstrip())
    body = tree.body[0].body
    return any(
        not (isinstance(node, ast.Pass) or (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)))
        for node in body
    )


@pytest.mark.parametrize("revision", [r.revision for r in revisions_base_to_head()])
def test_every_migration_has_an_upgrade_and_a_downgrade(revision):
    module = scripts().get_revision(revision).module
    for name in ("upgrade", "downgrade"):
        function = getattr(module, name, None)
        assert callable(function), f"{revision} has no {name}()"
        assert _does_something(function), f"{revision}: {name}() is empty"


def test_upgrade_then_downgrade_to_base_then_upgrade_again(empty):
    with empty.begin() as conn:
        command.upgrade(alembic_config(conn), "head")
    assert migrate.current(empty) == migrate.head()
    assert schema_differences(empty) == []

    with empty.begin() as conn:
        command.downgrade(alembic_config(conn), "base")
    assert migrate.current(empty) is None
    assert set(inspect(empty).get_table_names()) <= {"alembic_version"}

    # one revision at a time, each undone and redone on the way up
    for revision in revisions_base_to_head():
        with empty.begin() as conn:
            command.upgrade(alembic_config(conn), revision.revision)
        assert migrate.current(empty) == revision.revision
        with empty.begin() as conn:
            command.downgrade(alembic_config(conn), revision.down_revision or "base")
        assert migrate.current(empty) == revision.down_revision
        with empty.begin() as conn:
            command.upgrade(alembic_config(conn), revision.revision)
        assert migrate.current(empty) == revision.revision
    assert schema_differences(empty) == []

    # and the store works: init fills the registry on the re-created schema
    report = init_store(empty)
    assert report.created_tables == []
    assert report.registry_inserted == 25
    assert schema_differences(empty) == []

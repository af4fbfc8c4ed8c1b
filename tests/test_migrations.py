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
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, MetaData, create_engine, func, inspect, select, text

from rsp_data import migrate, rollups, schema
from rsp_data.imports.apply import apply_import
from rsp_data.metrics import REQUIRED_KEYS, STOCK_SUMS
from rsp_data.registry import registry
from rsp_data.store import _registry_rows, init_store, make_engine, read_demo_rows
from tests.store_helpers import plain, snapshot

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
        context = MigrationContext.configure(conn, opts={"compare_type": True, "include_object": schema.include_object})
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


def test_search_indexes_exist_on_each_store(empty):
    """Migration 0003: the name index everywhere; the trigram indexes where PostgreSQL has pg_trgm
    (Debian's server package ships it, so the test server has it)."""
    init_store(empty)
    names = {ix["name"] for ix in inspect(empty).get_indexes("partnerships")}
    assert "ix_partnerships_name_search" in names
    if empty.dialect.name == "postgresql":
        with empty.connect() as conn:
            rows = conn.exec_driver_sql("SELECT indexname FROM pg_indexes WHERE tablename = 'partnerships'")
            found = {r[0] for r in rows}
        assert found >= schema.OPTIONAL_INDEXES


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
    """A store the way rsp_data made one before migrations: the baseline (0001) tables and no
    alembic_version, holding the rows init wrote (import lock, registry, demo data) and an import,
    so that every table holds rows. Written through the tables as they were (reflected)."""
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), migrate.BASELINE)
        conn.execute(text("DROP TABLE alembic_version"))
    old = MetaData()
    old.reflect(engine)
    now = datetime(2026, 11, 1, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(old.tables["import_lock"].insert().values(lock_id=1, holder=""))
        for table, _key, rows in _registry_rows(registry()):
            conn.execute(old.tables[table.name].insert(), rows)
        demo = read_demo_rows()
        batch = {"file_name": "x.csv", "checksum": "c", "loaded_by": "t", "loaded_at": now, "note": ""}
        conn.execute(
            old.tables["import_batches"].insert(),
            [
                {**batch, "kind": "demo", "rows_added": len(demo), "rows_changed": 0},
                {**batch, "kind": "import", "rows_added": 1, "rows_changed": 1},
            ],
        )
        base = ("rsp_id", "month", *REQUIRED_KEYS)  # the 0001 schema has no optional metrics
        conn.execute(old.tables["monthly_metrics"].insert(), [{**{k: r[k] for k in base}, "batch_id": 1} for r in demo])
        first = demo[0]
        values = {m: 5 for m in REQUIRED_KEYS}
        conn.execute(
            old.tables["monthly_metrics"]
            .insert()
            .values(rsp_id="northwest-ace", month=date(2022, 6, 1), batch_id=2, **values)
        )
        conn.execute(
            old.tables["monthly_metrics"]
            .update()
            .where(old.tables["monthly_metrics"].c.rsp_id == first["rsp_id"])
            .where(old.tables["monthly_metrics"].c.month == first["month"])
            .values(batch_id=2, **values)
        )
        conn.execute(
            old.tables["fact_history"].insert(),
            [
                {
                    "batch_id": 2,
                    "rsp_id": "northwest-ace",
                    "month": date(2022, 6, 1),
                    "action": "added",
                    **{f"new_{m}": 5 for m in REQUIRED_KEYS},
                },
                {
                    "batch_id": 2,
                    "rsp_id": first["rsp_id"],
                    "month": first["month"],
                    "action": "changed",
                    "old_batch_id": 1,
                    **{f"old_{m}": first[m] for m in REQUIRED_KEYS},
                    **{f"new_{m}": 5 for m in REQUIRED_KEYS},
                },
            ],
        )


OLD_TABLES = ("import_batches", "import_lock", "regions", "sectors", "partnerships", "monthly_metrics", "fact_history")


def old_columns(engine: Engine) -> dict[str, list[tuple]]:
    """The rows of the baseline tables, in the baseline's columns only."""
    reflected = MetaData()
    reflected.reflect(engine, only=list(OLD_TABLES))
    baseline = baseline_columns()
    out = {}
    with engine.connect() as conn:
        for name in OLD_TABLES:
            table = reflected.tables[name]
            cols = [table.c[c] for c in baseline[name]]
            rows = conn.execute(select(*cols).order_by(*table.primary_key.columns))
            out[name] = [tuple(plain(v) for v in row) for row in rows]
    return out


def baseline_columns() -> dict[str, list[str]]:
    engine = create_engine("sqlite://")
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), migrate.BASELINE)
    md = MetaData()
    md.reflect(engine)
    return {name: [c.name for c in md.tables[name].c] for name in OLD_TABLES}


def test_a_store_made_before_migrations_is_adopted_without_losing_a_row(empty):
    make_old_store(empty)
    assert "alembic_version" not in inspect(empty).get_table_names()
    assert migrate.current(empty) is None
    before = old_columns(empty)
    assert all(before[name] for name in OLD_TABLES), {name: len(rows) for name, rows in before.items()}

    report = init_store(empty)
    assert set(report.created_tables) == TABLES - set(OLD_TABLES)
    assert (report.registry_inserted, report.registry_updated, report.demo_rows) == (0, 0, 0)
    assert migrate.current(empty) == migrate.head()
    assert version_rows(empty) == [migrate.head()]
    assert old_columns(empty) == before
    assert schema_differences(empty) == []

    # The upgrade filled what 0002 added from the rows already there: rollups and rows held;
    # 0004 numbered the partnerships in rsp_id order (the running_totals key).
    with empty.connect() as conn:
        assert rollups.check(conn) == []
        numbered = conn.execute(
            select(schema.partnerships.c.rsp_id, schema.partnerships.c.number).order_by(schema.partnerships.c.rsp_id)
        ).all()
        assert [n for _, n in numbered] == list(range(1, len(numbered) + 1)) and len(numbered) == 14
        keys = conn.execute(select(schema.running_totals.c.k, schema.running_totals.c.rsp_id)).all()
        number_of = dict(numbered)
        assert keys and all(k & schema.MAX_PARTNERSHIPS == number_of[rsp_id] for k, rsp_id in keys)
        held = dict(conn.execute(select(schema.import_batches.c.batch_id, schema.import_batches.c.rows_held)).all())
        placed = conn.execute(
            select(func.sum(schema.rollup_cells.c.placements)).where(schema.rollup_cells.c.grain == "all")
        ).scalar_one()
    # The demo batch holds every demo fact but the one batch 2 changed; batch 2 the two it wrote.
    assert held == {1: len(read_demo_rows()) - 1, 2: 2}
    assert placed == sum(r["placements"] for r in read_demo_rows()[1:]) + 5 + 5

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


def stored_arrays(conn) -> dict[tuple[int, str], tuple[str, bytes]]:
    """Every running_arrays row: {(month_index, name): (dtype, data)}."""
    arrays = schema.running_arrays
    found = conn.execute(select(arrays.c.month_index, arrays.c.name, arrays.c.dtype, arrays.c.data)).all()
    return {(m, name): (dtype, data) for m, name, dtype, data in found}


# The arrays migration 0010 adds to every month (credentials_earned's): later than the revisions tested.
LATER_ARRAYS = {"cum_credentials_earned", "cum_credential_rate_base", "last_credentials_earned"}
# The arrays 0012 rewrites (a stock as of the latest report: its downgrade leaves them NULL where not reported).
FILLED_ARRAYS = set(STOCK_SUMS)


def renamed_by_0008(arrays: dict) -> dict:
    """Arrays of a store before 0008 under the names 0008 gives them (it renames, nothing else)."""
    renames = ScriptDirectory.from_config(alembic_config()).get_revision("0008").module.RENAMED
    names = {f"cum_{old}": f"cum_{new}" for old, new in renames.items()}
    return {(m, names.get(name, name)): value for (m, name), value in arrays.items()}


def test_0006_writes_the_registry_code_arrays_into_a_store_with_data(demo_copy):
    """A store at 0005 (the registry arrays without the codes) gets them from migrate.upgrade,
    and only them: the months' arrays are left as they were."""
    codes = sorted(schema.GROUP_CODES.values())

    with demo_copy.begin() as conn:
        command.downgrade(alembic_config(conn), "0005")
    with demo_copy.connect() as conn:
        before = renamed_by_0008(stored_arrays(conn))
    assert not [key for key in before if key[1] in codes]
    assert migrate.upgrade(demo_copy) == ("0005", migrate.head())
    with demo_copy.connect() as conn:
        after = stored_arrays(conn)
        assert rollups.check(conn) == []
        sectors = conn.execute(select(schema.partnerships.c.number, schema.partnerships.c.sector_id)).all()
    later = {"cum_months_reported", *LATER_ARRAYS}  # (0007 adds it to every month: see the next test)
    assert sorted(k for k in set(after) - set(before) if k[1] not in later) == [
        (schema.REGISTRY_MONTH, c) for c in codes
    ]
    assert {k: v for k, v in after.items() if k[1] not in (*codes, *later, *FILLED_ARRAYS)} == {
        k: v for k, v in before.items() if k[1] not in FILLED_ARRAYS
    }
    sector_ids = sorted({s for _, s in sectors})
    code = rollups.unpack(*after[(schema.REGISTRY_MONTH, "sector_code")])
    assert [sector_ids[code[n]] for n, _ in sectors] == [s for _, s in sectors]
    assert code[0] == -1  # number 0 is nobody's


def test_0007_writes_every_months_reported_array_and_leaves_the_rest(demo_copy):
    """A store at 0006 (the months' arrays without cum_months_reported) gets one per month from
    migrate.upgrade, equal to its running rows (rollups.check); every other array is as it was."""
    running = schema.running_totals
    name = "cum_months_reported"

    with demo_copy.begin() as conn:
        command.downgrade(alembic_config(conn), "0006")
    with demo_copy.connect() as conn:
        before = renamed_by_0008(stored_arrays(conn))
        months = sorted({m for m, _ in before} - {schema.REGISTRY_MONTH})
        last = conn.execute(
            select(running.c.k, running.c.cum_months_reported).order_by(running.c.k.desc()).limit(1)
        ).one()
    assert len(months) >= 12 and not [key for key in before if key[1] == name]
    assert migrate.upgrade(demo_copy) == ("0006", migrate.head())
    with demo_copy.connect() as conn:
        after = stored_arrays(conn)
        assert rollups.check(conn) == []
    assert sorted(k for k in set(after) - set(before) if k[1] not in LATER_ARRAYS) == [(m, name) for m in months]
    assert {k: v for k, v in after.items() if k[1] not in (name, *LATER_ARRAYS, *FILLED_ARRAYS)} == {
        k: v for k, v in before.items() if k[1] not in FILLED_ARRAYS
    }
    values = rollups.unpack(*after[(last.k >> schema.KEY_BITS, name)])
    assert values[last.k & schema.MAX_PARTNERSHIPS] == last.cum_months_reported > 0


def test_0012_moves_a_store_to_stocks_as_of_the_latest_report_without_losing_a_row(demo_copy):
    """A store at 0011 (no carried parts in rollup_cells; running_totals' employers NULL in the months a partnership
    did not report) upgrades to head: every fact kept, every rollup in step, and the Overview's employers engaged
    count the two partnerships that have not sent October as of their September report."""
    from queries.filters import Filters
    from queries.metrics import kpi_summary

    running = schema.running_totals
    with demo_copy.begin() as conn:
        command.downgrade(alembic_config(conn), "0011")
    with demo_copy.connect() as conn:
        facts_before = conn.execute(select(schema.monthly_metrics).order_by("rsp_id", "month")).all()
        columns = {c["name"] for c in inspect(conn).get_columns("rollup_cells")}
        assert not [c for c in columns if "_carry" in c]
        unreported = select(func.count()).where(running.c.employers_engaged.is_(None))
        assert conn.execute(unreported).scalar_one() > 0
    assert migrate.upgrade(demo_copy) == ("0011", migrate.head())
    with demo_copy.connect() as conn:
        assert conn.execute(select(schema.monthly_metrics).order_by("rsp_id", "month")).all() == facts_before
        assert rollups.check(conn) == []
        assert conn.execute(unreported).scalar_one() == 0
    assert schema_differences(demo_copy) == []
    kpis = kpi_summary(demo_copy, Filters())
    assert (kpis["employers_engaged"], kpis["reporting"], kpis["carried"]) == (552, 12, 2)

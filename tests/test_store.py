"""The metrics store: idempotent init, registry updates in place, readiness checks, the CLI, the URL.

Every test that builds a store runs twice, on SQLite and on the test run's PostgreSQL server
(the `stores` fixture of conftest.py), with the same expected numbers.
"""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, insert, inspect, select

from rsp_data import migrate, schema
from rsp_data.registry import REGISTRY_FILE, load_registry, registry
from rsp_data.store import (
    DEMO_FILE,
    StoreNotReady,
    check_ready,
    database_url,
    default_url,
    init_store,
    is_default,
    make_engine,
    open_store,
    read_demo_rows,
)
from tests.store_helpers import run_cli

TABLES = {
    *("regions", "sectors", "partnerships", "import_batches", "monthly_metrics", "fact_history", "import_lock"),
    *("goals", "rollup_cells", "running_totals", "running_arrays", "write_grants", "grant_changes"),
}


def demo_lines() -> list[dict]:
    """The demo CSV's lines, as sent."""
    with open(DEMO_FILE, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def demo_fact_count() -> int:
    """The demo's facts: one per partnership-month (the latest line sent for it)."""
    return len(read_demo_rows())


def demo_sending_days() -> int:
    """The demo's batches: one a day its lines were sent."""
    return len({r["sent_on"] for r in demo_lines()})


def count(engine, table, *where) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()


@pytest.fixture
def fresh(stores):
    """An empty database (no tables) on the module's backend."""
    eng = make_engine(stores.url("store"))
    yield eng
    eng.dispose()


def test_init_creates_schema_and_registry(fresh):
    report = init_store(fresh)
    assert set(report.created_tables) == TABLES
    assert set(inspect(fresh).get_table_names()) >= TABLES
    assert count(fresh, schema.regions) == 5
    assert count(fresh, schema.sectors) == 6
    assert count(fresh, schema.partnerships) == 14
    assert count(fresh, schema.partnerships, schema.partnerships.c.gjc_supported.is_(True)) == 10
    assert count(fresh, schema.monthly_metrics) == 0
    assert count(fresh, schema.import_batches) == 0
    # 5 + 6 + 14 = 25 registry rows
    assert report.registry_inserted == 25
    assert report.registry_updated == 0
    assert report.demo_rows == 0
    assert report.changed()
    with fresh.connect() as conn:
        names = dict(conn.execute(select(schema.partnerships.c.rsp_id, schema.partnerships.c.name)).all())
    assert names == {p.id: p.name for p in registry().partnerships}


def test_init_with_demo_loads_every_csv_line(fresh):
    report = init_store(fresh, demo=True)
    lines, n = demo_lines(), demo_fact_count()
    assert n > 0
    assert report.demo_rows == n == 911
    assert count(fresh, schema.monthly_metrics) == n
    # One demo batch a sending day; every line is loaded: as a new fact, or as the correction of one.
    assert count(fresh, schema.import_batches) == demo_sending_days() == 168
    with fresh.connect() as conn:
        batches = conn.execute(select(schema.import_batches)).mappings().all()
        history = conn.execute(select(schema.fact_history)).mappings().all()
    assert {b["kind"] for b in batches} == {"demo"}
    assert sum(b["rows_added"] for b in batches) == n
    assert sum(b["rows_changed"] for b in batches) == len(lines) - n == 1
    # The correction is recorded as an import would: what the first report said, and its batch.
    (corrected,) = history
    first, latest = [r for r in lines if (r["rsp_id"], r["month"]) == ("capital-technology", "2026-09")]
    assert (corrected["rsp_id"], corrected["month"], corrected["action"]) == (
        "capital-technology",
        date(2026, 9, 1),
        "changed",
    )
    for m in ("employers_engaged", "trainees_enrolled", "trainees_completed", "placements"):
        assert (corrected[f"old_{m}"], corrected[f"new_{m}"]) == (int(first[m]), int(latest[m])), m
    day = {b["batch_id"]: b["loaded_at"] for b in batches}
    assert corrected["old_batch_id"] < corrected["batch_id"]
    assert day[corrected["old_batch_id"]] < day[corrected["batch_id"]]


def test_second_init_changes_nothing(fresh):
    init_store(fresh, demo=True)
    facts, batches = count(fresh, schema.monthly_metrics), count(fresh, schema.import_batches)
    again = init_store(fresh, demo=True)
    assert again.changed() is False
    assert again.created_tables == []
    assert (again.registry_inserted, again.registry_updated, again.demo_rows) == (0, 0, 0)
    assert "nothing changed" in str(again)
    assert count(fresh, schema.monthly_metrics) == facts
    assert count(fresh, schema.import_batches) == batches
    assert count(fresh, schema.partnerships) == 14
    # and without --demo on a demo store: still nothing
    assert init_store(fresh).changed() is False
    assert count(fresh, schema.monthly_metrics) == facts


def test_second_init_without_demo_changes_nothing(fresh):
    init_store(fresh)
    again = init_store(fresh)
    assert again.changed() is False
    assert count(fresh, schema.regions) == 5
    assert count(fresh, schema.import_batches) == 0


def test_demo_never_replaces_imported_rows(fresh):
    init_store(fresh)
    with fresh.begin() as conn:
        batch_id = conn.execute(
            insert(schema.import_batches).values(
                kind="import",
                file_name="real.csv",
                checksum="1" * 64,
                loaded_at=datetime(2024, 1, 1, tzinfo=UTC),
            )
        ).inserted_primary_key[0]
        conn.execute(
            insert(schema.monthly_metrics).values(
                rsp_id="capital-healthcare",
                month=date(2022, 12, 1),
                employers_engaged=999,
                trainees_enrolled=1,
                trainees_completed=1,
                placements=1,
                batch_id=batch_id,
            )
        )
    report = init_store(fresh, demo=True)
    # the demo CSV has capital-healthcare 2022-12: that one row is skipped
    assert report.demo_rows == demo_fact_count() - 1
    assert count(fresh, schema.monthly_metrics) == demo_fact_count()
    with fresh.connect() as conn:
        kept = conn.execute(
            select(schema.monthly_metrics.c.employers_engaged).where(
                schema.monthly_metrics.c.rsp_id == "capital-healthcare",
                schema.monthly_metrics.c.month == date(2022, 12, 1),
            )
        ).scalar_one()
    assert kept == 999

    from queries.data import illustrative_share, monthly_rows
    from queries.filters import Filters

    n = demo_fact_count()
    # one imported row among n: the illustrative share is (n - 1) / n
    assert illustrative_share(fresh, Filters()) == pytest.approx((n - 1) / n)
    only_real = Filters(partnerships=("capital-healthcare",), month_from="2022-12", month_to="2022-12")
    assert illustrative_share(fresh, only_real) == 0.0
    assert list(monthly_rows(fresh, only_real)["source"]) == ["imported"]


def test_changed_registry_name_updates_in_place(fresh, tmp_path):
    init_store(fresh, demo=True)
    facts = count(fresh, schema.monthly_metrics)
    text = REGISTRY_FILE.read_text(encoding="utf-8")
    old = 'name = "Northwest Healthcare Partnership"'
    assert text.count(old) == 1
    modified = tmp_path / "registry.toml"
    modified.write_text(text.replace(old, 'name = "Litchfield Hills Healthcare Alliance"'), encoding="utf-8")

    reg = load_registry(modified)
    report = init_store(fresh, reg=reg)
    assert report.registry_updated == 1
    assert report.registry_inserted == 0
    assert report.created_tables == []
    assert report.demo_rows == 0
    assert report.changed()
    assert count(fresh, schema.partnerships) == 14
    assert count(fresh, schema.monthly_metrics) == facts
    with fresh.connect() as conn:
        name = conn.execute(
            select(schema.partnerships.c.name).where(schema.partnerships.c.rsp_id == "northwest-healthcare")
        ).scalar_one()
    assert name == "Litchfield Hills Healthcare Alliance"
    # the same registry again: nothing to do
    assert init_store(fresh, reg=reg).changed() is False


def test_a_new_partnership_gets_the_next_number_and_the_others_keep_theirs(fresh, tmp_path):
    """partnerships.number is the partnership's part of the running_totals key: never reused."""
    init_store(fresh, demo=True)

    def numbers() -> dict[str, int]:
        with fresh.connect() as conn:
            return dict(conn.execute(select(schema.partnerships.c.rsp_id, schema.partnerships.c.number)).all())

    before = numbers()
    assert sorted(before.values()) == list(range(1, 15))
    text = REGISTRY_FILE.read_text(encoding="utf-8")
    extra = (
        '\n[[partnerships]]\nid = "northwest-energy"\nname = "Northwest Energy Partnership"\n'
        'name_source = "descriptive"\nsector = "manufacturing"\nregion = "northwest"\nconvener = ""\n'
        'launched = ""\ndemo_start = "2024-01"\npublished_size = ""\ngjc_supported = false\n'
    )
    modified = tmp_path / "registry.toml"
    modified.write_text(text + extra, encoding="utf-8")
    report = init_store(fresh, reg=load_registry(modified))
    assert report.registry_inserted == 1
    after = numbers()
    assert after == {**before, "northwest-energy": 15}


def test_check_ready_on_an_empty_database(fresh):
    with pytest.raises(StoreNotReady) as exc:
        check_ready(fresh)
    assert "python -m rsp_data init" in str(exc.value)


def test_check_ready_with_schema_but_no_registry(fresh):
    schema.metadata.create_all(fresh)
    with pytest.raises(StoreNotReady) as exc:
        check_ready(fresh)
    assert "python -m rsp_data init" in str(exc.value)


def test_check_ready_passes_after_init(fresh):
    init_store(fresh)
    check_ready(fresh)  # no exception


def test_open_store_on_a_configured_empty_store_raises(stores, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    url = stores.url("configured")
    with pytest.raises(StoreNotReady):
        open_store(url)
    # it does not fill a store that is not the embedded default
    eng = make_engine(url)
    assert "monthly_metrics" not in inspect(eng).get_table_names()
    eng.dispose()


# --------------------------------------------------------------------------- the CLI


def test_cli_init_demo_is_idempotent(stores):
    url = stores.url("cli")
    first = run_cli("init", "--demo", "--url", url)
    assert first.returncode == 0, first.stderr
    assert "created tables" in first.stdout
    assert f"illustrative demo rows loaded: {demo_fact_count()}" in first.stdout

    second = run_cli("init", "--demo", "--url", url)
    assert second.returncode == 0, second.stderr
    assert "nothing changed" in second.stdout
    assert f"schema at revision {migrate.head()}" in second.stdout
    assert "upgraded from" not in second.stdout

    eng = make_engine(url)
    assert count(eng, schema.monthly_metrics) == demo_fact_count()
    assert count(eng, schema.import_batches) == demo_sending_days()
    eng.dispose()


def test_cli_requires_a_command():
    result = run_cli()
    assert result.returncode != 0


def test_cli_viewer_role_refuses_a_sqlite_store(tmp_path):
    """SQLite has no roles: the viewing app gets a file it can only read instead (file permissions)."""
    url = f"sqlite:///{tmp_path}/store.sqlite"
    result = run_cli("viewer-role", "rsp_viewer", "--url", url)
    assert result.returncode != 0
    assert "needs a PostgreSQL store" in result.stderr
    assert "file permissions" in result.stderr
    assert not (tmp_path / "store.sqlite").exists()  # refused before opening anything


# --------------------------------------------------------------------------- the URL


def test_database_url_prefers_environment(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "sqlite:///from-env.sqlite")
    assert database_url("sqlite:///configured.sqlite") == "sqlite:///from-env.sqlite"
    assert database_url() == "sqlite:///from-env.sqlite"


def test_database_url_then_configured_then_default(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert database_url("sqlite:///configured.sqlite") == "sqlite:///configured.sqlite"
    assert database_url() == default_url()
    assert database_url(None) == default_url()
    assert is_default(database_url())
    assert default_url().startswith("sqlite:///")
    assert default_url().endswith("var/rsp_metrics.sqlite")


def test_empty_environment_value_does_not_win(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "")
    assert database_url("sqlite:///configured.sqlite") == "sqlite:///configured.sqlite"
    assert database_url() == default_url()


def test_app_sessions_on_postgresql_run_without_jit_and_keep_the_urls_options(stores):
    """make_engine turns PostgreSQL's JIT off for the app's sessions (it cost 60-80 ms of a 115 ms
    query at 89,203 partnerships) and keeps options the URL gives."""
    from rsp_data.store import pg_options

    assert pg_options() == "-c jit=off"
    assert pg_options("-c search_path=public") == "-c search_path=public -c jit=off"
    if stores.backend != "postgresql":
        return
    url = stores.url("jit")
    for given, path in ((url, None), (url + "?options=-c%20search_path%3Dpublic", "public")):
        engine = make_engine(given)
        try:
            with engine.connect() as conn:
                assert conn.exec_driver_sql("SHOW jit").scalar() == "off"
                if path:
                    assert conn.exec_driver_sql("SHOW search_path").scalar() == path
        finally:
            engine.dispose()


def test_pooled_connections_are_pinged_only_after_sitting_idle(stores, monkeypatch):
    """A connection used moments ago goes straight to its query; one idle for IDLE_PING_SECONDS
    is pinged first."""
    from rsp_data import store

    engine = make_engine(stores.url("ping"))
    pings = []
    real = engine.dialect.do_ping
    monkeypatch.setattr(engine.dialect, "do_ping", lambda c: pings.append(1) or real(c))
    clock = [1000.0]
    monkeypatch.setattr(store.time, "monotonic", lambda: clock[0])
    try:
        for _ in range(3):
            with engine.connect() as conn:
                assert conn.exec_driver_sql("SELECT 1").scalar() == 1
            clock[0] += store.IDLE_PING_SECONDS / 2
        assert pings == []
        clock[0] += store.IDLE_PING_SECONDS
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT 2").scalar() == 2
        assert pings == [1]
    finally:
        engine.dispose()


def test_an_idle_connection_the_server_dropped_is_replaced_without_an_error(stores, monkeypatch):
    """The server ends the pooled connection's session while it sits idle (a restart, an idle
    timeout): the next query still answers, on a new connection."""
    from rsp_data import store

    if stores.backend != "postgresql":
        pytest.skip("a SQLite connection is a file handle: nothing can drop it")
    engine = make_engine(stores.url("dropped"))
    try:
        with engine.connect() as conn:
            first = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        killer = make_engine(engine.url.render_as_string(hide_password=False))
        with killer.connect() as conn:
            assert conn.exec_driver_sql(f"SELECT pg_terminate_backend({int(first)})").scalar()
        killer.dispose()
        monkeypatch.setattr(store, "IDLE_PING_SECONDS", 0.0)
        with engine.connect() as conn:
            second = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        assert second != first
    finally:
        engine.dispose()


def test_sqlite_connections_read_the_file_memory_mapped(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'mapped.sqlite'}")
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA mmap_size").scalar() >= 1 << 30
    finally:
        engine.dispose()

"""The read-only PostgreSQL role of the viewing app (rsp_data/roles.py, `python -m rsp_data viewer-role`).

PostgreSQL only: a database of its own on the test run's server, owned by a non-superuser
owner role with CREATEROLE (as on a managed server), filled by init_store(demo=True) and one
import. The viewer logs in with its password: the test server trusts every other login, so
this module adds a scram-sha-256 line for its own viewer roles to pg_hba.conf (removed after).
"""

from __future__ import annotations

import contextlib
import math
import time
import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine, create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from queries import data, goals, metrics, quality
from queries import registry as registry_q
from queries.filters import Filters
from rsp_data import grants, schema
from rsp_data.imports.apply import apply_import, rollback
from rsp_data.registry import REGISTRY_FILE, load_registry
from rsp_data.roles import create_viewer_role, viewer_role_sql, viewer_write_privileges
from rsp_data.store import DEMO_FILE, check_ready, init_store, make_engine, open_store, read_demo_rows
from tests.store_helpers import run_cli, snapshot

REPO_ROOT = Path(__file__).resolve().parent.parent
TODAY = date(2026, 11, 21)
HEADER = "rsp_id,month,employers_engaged,trainees_enrolled,trainees_completed,placements\r\n"
# An import the owner makes, so that there is a batch the viewer could try to roll back.
OWNER_IMPORT = (HEADER + "northwest-ace,2022-06,7,3,2,1\r\nnorthwest-ace,2022-05,6,3,2,1\r\n").encode()
# A file the viewer tries to import.
VIEWER_IMPORT = (HEADER + "northwest-ace,2022-04,9,9,9,9\r\n").encode()


@dataclass
class Cluster:
    admin: Engine  # the server's superuser, AUTOCOMMIT: set-up and inspection only
    owner_url: str
    owner: Engine
    viewer_url: str
    viewer: Engine
    role: str
    password: str
    owner_role: str
    database: str
    cli_role: str
    import_batch: int

    def url_for(self, role: str, password: str | None) -> str:
        return make_url(self.owner_url).set(username=role, password=password).render_as_string(hide_password=False)


def table_names(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return set(conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).scalars())


def assert_permission_denied(caught: pytest.ExceptionInfo) -> None:
    assert isinstance(caught.value, DBAPIError), repr(caught.value)
    assert isinstance(caught.value.orig, psycopg.errors.InsufficientPrivilege), repr(caught.value.orig)


def _wait_for_password_login(url: str, wrong_url: str) -> None:
    """After pg_reload_conf(): wait until the server asks this role for its password."""
    deadline = time.monotonic() + 10
    while True:
        try:
            with psycopg.connect(**_dsn(wrong_url)):
                pass
        except psycopg.OperationalError:
            break
        assert time.monotonic() < deadline, "the server never started asking the viewer for a password"
        time.sleep(0.1)
    with psycopg.connect(**_dsn(url)):
        pass


def _dsn(url: str) -> dict:
    """psycopg.connect keyword arguments for a URL (a password with spaces and quotes passed as it is)."""
    u = make_url(url)
    return {"host": u.host, "port": u.port, "dbname": u.database, "user": u.username, "password": u.password or ""}


@pytest.fixture(scope="module")
def cluster(pg_server):
    suffix = uuid.uuid4().hex[:10]
    owner_role, role, cli_role = f"rsp_owner_{suffix}", f"rsp_viewer_{suffix}", f"rsp_cli_viewer_{suffix}"
    database = f"rsp_viewer_test_{suffix}"
    password = "correct horse 'battery' \\ staple $$"  # quotes, a backslash, dollar quotes: all literal
    admin = create_engine(pg_server.admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:  # generated names, not input
        conn.execute(text(f'CREATE ROLE "{owner_role}" LOGIN CREATEROLE'))
        conn.execute(text(f'CREATE DATABASE "{database}" OWNER "{owner_role}"'))
        hba_file = Path(conn.execute(text("SHOW hba_file")).scalar_one())
    original_hba = hba_file.read_text()
    owner_url = make_url(pg_server.url(database)).set(username=owner_role).render_as_string(hide_password=False)
    owner = make_engine(owner_url)
    viewer = None
    try:
        init_store(owner, demo=True)
        batch = apply_import(owner, OWNER_IMPORT, "owner.csv", "owner", today=TODAY).batch_id
        assert batch is not None
        grants.grant(owner, "owner@x.org", ["northwest-ace"], "owner")
        create_viewer_role(owner, role, password)

        # Password logins for this module's viewer roles; everyone else keeps the test server's trust.
        hba_file.write_text(f"host all {role},{cli_role} 127.0.0.1/32 scram-sha-256\n" + original_hba)
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_reload_conf()"))
        viewer_url = make_url(owner_url).set(username=role, password=password).render_as_string(hide_password=False)
        _wait_for_password_login(viewer_url, make_url(viewer_url).set(password="wrong").render_as_string(False))
        viewer = make_engine(viewer_url)
        yield Cluster(
            admin=admin,
            owner_url=owner_url,
            owner=owner,
            viewer_url=viewer_url,
            viewer=viewer,
            role=role,
            password=password,
            owner_role=owner_role,
            database=database,
            cli_role=cli_role,
            import_batch=batch,
        )
    finally:
        if viewer is not None:
            viewer.dispose()
        owner.dispose()
        hba_file.write_text(original_hba)
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_reload_conf()"))
            with contextlib.suppress(DBAPIError):
                conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
            for name in (role, cli_role, owner_role):
                with contextlib.suppress(DBAPIError):
                    conn.execute(text(f'DROP ROLE IF EXISTS "{name}"'))
        admin.dispose()


# ------------------------------------------------------------------ reading: everything the pages show


FILTER_SETS = [
    Filters(),
    Filters(regions=("capital",), month_from="2024-01", month_to="2025-06"),
    Filters(sectors=("healthcare", "manufacturing")),
]


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b


@pytest.mark.parametrize("filters", FILTER_SETS, ids=["all", "capital-2024", "two-sectors"])
def test_the_viewer_reads_every_page_query_with_the_owners_numbers(cluster, filters):
    import pandas as pd

    owner, viewer = cluster.owner, cluster.viewer
    kpi_owner, kpi_viewer = metrics.kpi_summary(owner, filters), metrics.kpi_summary(viewer, filters)
    assert kpi_owner.keys() == kpi_viewer.keys()
    assert all(_same(kpi_owner[k], kpi_viewer[k]) for k in kpi_owner), (kpi_owner, kpi_viewer)
    assert kpi_viewer["placements"] > 0

    frames = {
        "by sector": lambda e: metrics.metrics_by(e, filters, "sector"),
        "by region": lambda e: metrics.metrics_by(e, filters, "region"),
        "by partnership": lambda e: metrics.metrics_by(e, filters, "partnership"),
        "monthly totals": lambda e: metrics.monthly_totals(e, filters),
        "monthly totals by sector": lambda e: metrics.monthly_totals(e, filters, "sector"),
        "grant placements": lambda e: goals.grant_placements_by_month(e, filters),
        "monthly rows": lambda e: data.monthly_rows(e, filters),
        "load history": data.load_history,
        "partnerships": registry_q.partnership_list,
        "regions": registry_q.region_list,
        "sectors": registry_q.sector_list,
        "quality by sector": lambda e: quality.quality_by(e, filters, "sector"),
        "quality by partnership": lambda e: quality.quality_by(e, filters, "partnership"),
        "quality monthly": lambda e: quality.quality_monthly(e, filters),
        "under-represented by month": lambda e: quality.suppressed_by_month(e, filters, "trainees_underrepresented")[0],
    }
    for name, query in frames.items():
        got = query(viewer)
        assert len(got) > 0, name
        pd.testing.assert_frame_equal(got, query(owner), obj=name)

    assert goals.goal_progress(viewer, filters) == goals.goal_progress(owner, filters)
    assert goals.goal_progress(viewer, filters).placements > 0
    assert data.illustrative_share(viewer, filters) == data.illustrative_share(owner, filters)
    assert quality.quality_summary(viewer, filters).keys() == quality.quality_summary(owner, filters).keys()
    assert data.data_version(viewer) == data.data_version(owner)
    assert registry_q.month_bounds(viewer) == registry_q.month_bounds(owner)


def test_the_viewer_sees_every_row(cluster):
    demo = read_demo_rows(as_sent=True)
    rows = data.monthly_rows(cluster.viewer, Filters())
    assert len(rows) == len(read_demo_rows()) + 2  # the demo facts and the owner's two added rows
    assert (rows["source"] == "imported").sum() == 2
    # Newest first: the owner's import, then the demo's batches, one a day its rows were sent.
    sending_days = len({r["sent_on"] for r in demo})
    assert list(data.load_history(cluster.viewer)["file_name"]) == ["owner.csv"] + [DEMO_FILE.name] * sending_days
    assert len(registry_q.partnership_list(cluster.viewer)) == 14
    assert snapshot(cluster.viewer) == snapshot(cluster.owner)


def test_the_app_opens_the_store_as_the_viewer(cluster, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    engine = open_store(cluster.viewer_url)  # what the app runs: a configured store is only checked
    try:
        check_ready(engine)
        assert metrics.kpi_summary(engine, Filters())["placements"] > 0
    finally:
        engine.dispose()


def test_the_viewer_needs_its_password(cluster):
    wrong = make_url(cluster.viewer_url).set(password="not the password").render_as_string(hide_password=False)
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(**_dsn(wrong)).close()
    with psycopg.connect(**_dsn(cluster.viewer_url)) as conn:
        assert conn.execute("SELECT current_user").fetchone() == (cluster.role,)


# ------------------------------------------------------------------ writing: refused, nothing changes


WRITES = {
    "insert": "INSERT INTO monthly_metrics (rsp_id, month, employers_engaged, trainees_enrolled, "
    "trainees_completed, placements, batch_id) VALUES ('northwest-ace', DATE '2022-01-01', 1, 1, 1, 1, 1)",
    "update": "UPDATE monthly_metrics SET placements = placements + 1",
    "delete": "DELETE FROM monthly_metrics",
    "truncate": "TRUNCATE monthly_metrics CASCADE",
    "insert batch": "INSERT INTO import_batches (kind, file_name, checksum, loaded_by, loaded_at, rows_added, "
    "rows_changed, note) VALUES ('import', 'x.csv', 'x', 'x', now(), 0, 0, '')",
    "take the import lock": "UPDATE import_lock SET holder = 'viewer'",
    "rewrite the registry": "UPDATE partnerships SET name = 'hijacked'",
    "delete history": "DELETE FROM fact_history",
    "move the schema version": "UPDATE alembic_version SET version_num = 'x'",
    "use the batch sequence": "SELECT nextval(pg_get_serial_sequence('import_batches', 'batch_id'))",
    "create table": "CREATE TABLE viewer_notes (note text)",
    "create schema": "CREATE SCHEMA viewer_space",
    "alter table": "ALTER TABLE monthly_metrics ADD COLUMN note text",
    "drop table": "DROP TABLE monthly_metrics CASCADE",
    "create index": "CREATE INDEX viewer_ix ON monthly_metrics (placements)",
    "grant itself every partnership": "INSERT INTO write_grants (identity, rsp_id, granted_at, granted_by) "
    "VALUES ('viewer@x.org', 'all', now(), 'viewer')",
    "widen a grant": "UPDATE write_grants SET rsp_id = 'all'",
    "erase the grant log": "DELETE FROM grant_changes",
    "use the grant log sequence": "SELECT nextval(pg_get_serial_sequence('grant_changes', 'change_id'))",
}


@pytest.mark.parametrize("statement", list(WRITES.values()), ids=list(WRITES))
def test_the_viewer_cannot_write_even_if_asked_to(cluster, statement):
    before, tables = snapshot(cluster.owner), table_names(cluster.owner)
    with pytest.raises(DBAPIError) as caught, cluster.viewer.begin() as conn:
        conn.exec_driver_sql(statement)
    assert isinstance(caught.value.orig, psycopg.errors.InsufficientPrivilege), repr(caught.value.orig)
    assert snapshot(cluster.owner) == before
    assert table_names(cluster.owner) == tables


def test_the_viewer_cannot_grant_itself_a_write(cluster):
    # PostgreSQL answers a GRANT without the right to grant with a warning, not an error: it grants nothing.
    with cluster.viewer.begin() as conn:
        conn.exec_driver_sql("GRANT INSERT, UPDATE, DELETE ON monthly_metrics TO CURRENT_USER")
    assert viewer_write_privileges(cluster.owner, cluster.role) == []


def test_init_store_as_the_viewer_cannot_write(cluster, tmp_path):
    before = snapshot(cluster.owner)
    # Asked to write (a partnership renamed in the registry): refused.
    text_ = REGISTRY_FILE.read_text(encoding="utf-8")
    renamed = text_.replace('name = "Northwest Healthcare Partnership"', 'name = "Renamed By The Viewer"')
    assert renamed != text_
    path = tmp_path / "registry.toml"
    path.write_text(renamed, encoding="utf-8")
    with pytest.raises(DBAPIError) as caught:
        init_store(cluster.viewer, reg=load_registry(path))
    assert_permission_denied(caught)
    assert snapshot(cluster.owner) == before
    # With nothing to write (schema at head, registry and demo data in place) it only reads.
    report = init_store(cluster.viewer, demo=True)
    assert not report.changed()
    assert snapshot(cluster.owner) == before


def test_apply_import_as_the_viewer_fails_and_changes_nothing(cluster):
    before = snapshot(cluster.owner)
    with pytest.raises(DBAPIError) as caught:
        apply_import(cluster.viewer, VIEWER_IMPORT, "viewer.csv", "viewer", today=TODAY)
    assert_permission_denied(caught)
    # the same file as the owner's import: still refused before anything is compared
    with pytest.raises(DBAPIError) as caught:
        apply_import(cluster.viewer, OWNER_IMPORT, "owner.csv", "viewer", today=TODAY)
    assert_permission_denied(caught)
    assert snapshot(cluster.owner) == before


def test_grant_and_revoke_as_the_viewer_fail_and_change_nothing(cluster):
    before = snapshot(cluster.owner)
    assert before["write_grants"]  # the owner's grant, which the viewer tries to take back
    with pytest.raises(DBAPIError) as caught:
        grants.grant(cluster.viewer, "viewer@x.org", None, "viewer")
    assert_permission_denied(caught)
    with pytest.raises(DBAPIError) as caught:
        grants.revoke(cluster.viewer, "owner@x.org", None, "viewer")
    assert_permission_denied(caught)
    assert snapshot(cluster.owner) == before


def test_rollback_as_the_viewer_fails_and_changes_nothing(cluster):
    before = snapshot(cluster.owner)
    with pytest.raises(DBAPIError) as caught:
        rollback(cluster.viewer, cluster.import_batch, "viewer")
    assert_permission_denied(caught)
    assert snapshot(cluster.owner) == before
    (batch,) = [b for b in before["import_batches"] if b[0] == cluster.import_batch]
    assert batch[schema.import_batches.c.keys().index("rolled_back_at")] is None


# ------------------------------------------------------------------ the grants themselves


def test_the_viewer_holds_select_and_nothing_else(cluster):
    assert viewer_write_privileges(cluster.owner, cluster.role) == []
    with cluster.admin.connect() as conn:
        attrs = conn.execute(text("SELECT * FROM pg_roles WHERE rolname = :r"), {"r": cluster.role}).mappings().one()
        assert attrs["rolcanlogin"] is True
        # the server holds a SCRAM verifier made on the client, never the password itself
        stored = conn.execute(
            text("SELECT rolpassword FROM pg_authid WHERE rolname = :r"), {"r": cluster.role}
        ).scalar_one()
        assert stored.startswith("SCRAM-SHA-256$")
        assert cluster.password not in stored
        for flag in ("rolsuper", "rolcreatedb", "rolcreaterole", "rolreplication", "rolbypassrls"):
            assert attrs[flag] is False, flag
        member_of = conn.execute(
            text("SELECT count(*) FROM pg_auth_members WHERE member = :oid"), {"oid": attrs["oid"]}
        ).scalar_one()
        assert member_of == 0
    with cluster.owner.connect() as conn:
        for table in [*schema.metadata.tables, "alembic_version"]:
            for privilege in ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER"):
                allowed = conn.execute(
                    text("SELECT has_table_privilege(:r, :t, :p)"), {"r": cluster.role, "t": table, "p": privilege}
                ).scalar_one()
                assert allowed is (privilege == "SELECT"), (table, privilege)
        assert conn.execute(
            text("SELECT has_database_privilege(:r, current_database(), 'CONNECT')"), {"r": cluster.role}
        ).scalar_one()
        assert conn.execute(text("SELECT has_schema_privilege(:r, 'public', 'USAGE')"), {"r": cluster.role}).scalar()


def test_tables_the_owner_creates_later_are_readable_not_writable(cluster):
    with cluster.owner.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE later_table (x integer)")
        conn.exec_driver_sql("INSERT INTO later_table VALUES (1)")
    try:
        with cluster.viewer.connect() as conn:
            assert conn.exec_driver_sql("SELECT x FROM later_table").all() == [(1,)]
        with pytest.raises(DBAPIError) as caught, cluster.viewer.begin() as conn:
            conn.exec_driver_sql("INSERT INTO later_table VALUES (2)")
        assert_permission_denied(caught)
        assert viewer_write_privileges(cluster.owner, cluster.role) == []
    finally:
        with cluster.owner.begin() as conn:
            conn.exec_driver_sql("DROP TABLE later_table")


def test_running_it_again_takes_back_a_write_grant(cluster):
    with cluster.owner.begin() as conn:
        conn.exec_driver_sql(f'GRANT INSERT, UPDATE ON monthly_metrics TO "{cluster.role}"')  # generated name
    assert viewer_write_privileges(cluster.owner, cluster.role) == [
        "INSERT on table monthly_metrics",
        "UPDATE on table monthly_metrics",
    ]
    create_viewer_role(cluster.owner, cluster.role, cluster.password)
    assert viewer_write_privileges(cluster.owner, cluster.role) == []
    with cluster.viewer.connect() as conn:  # still reads, same password
        assert conn.execute(select(schema.partnerships.c.rsp_id)).first() is not None


def test_it_refuses_to_demote_the_owner_or_a_privileged_role(cluster):
    before = snapshot(cluster.owner)
    with pytest.raises(DBAPIError, match="the role running this"):
        create_viewer_role(cluster.owner, cluster.owner_role, "whatever it is")
    # the owner keeps every right on its tables
    with cluster.owner.connect() as conn:
        assert conn.execute(text("SELECT has_table_privilege(current_user, 'monthly_metrics', 'INSERT')")).scalar_one()
    privileged = f"{cluster.role}_dba"
    with cluster.admin.connect() as conn:
        conn.execute(text(f'CREATE ROLE "{privileged}" LOGIN CREATEDB'))  # a generated name
    try:
        with pytest.raises(DBAPIError, match="refusing to turn the existing role"):
            create_viewer_role(cluster.owner, privileged, "whatever it is")
    finally:
        with cluster.admin.connect() as conn:
            conn.execute(text(f'DROP ROLE "{privileged}"'))
    assert snapshot(cluster.owner) == before


# ------------------------------------------------------------------ role names and quoting

MALICIOUS = [
    'viewer"; DROP TABLE monthly_metrics; --',
    "viewer'; DROP TABLE monthly_metrics; --",
    "viewer; DROP TABLE monthly_metrics",
    "viewer\n",
    "viewer\nDROP TABLE monthly_metrics",
    "Viewer",
    "1viewer",
    "view er",
    "viewer-1",
    "vïewer",
    "",
    "a" * 64,
    "public",
    "pg_read_all_data",
    "current_user",
    "viewer\x00",
    "$$viewer$$",
]


@pytest.mark.parametrize("name", MALICIOUS, ids=[repr(n)[:30] for n in MALICIOUS])
def test_a_malicious_role_name_is_refused(cluster, name):
    with pytest.raises(ValueError, match="refusing role name"):
        viewer_role_sql(name, cluster.database)
    with cluster.admin.connect() as conn:
        roles = conn.execute(text("SELECT count(*) FROM pg_roles")).scalar_one()
    with pytest.raises(ValueError, match="refusing role name"):
        create_viewer_role(cluster.owner, name, "pw")
    with cluster.admin.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM pg_roles")).scalar_one() == roles
    assert "monthly_metrics" in table_names(cluster.owner)


def test_identifiers_are_quoted():
    statements = viewer_role_sql("select", 'odd "db"; DROP DATABASE x')
    assert 'GRANT CONNECT ON DATABASE "odd ""db""; DROP DATABASE x" TO "select"' in statements
    assert 'GRANT SELECT ON ALL TABLES IN SCHEMA public TO "select"' in statements
    assert "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO rsp_viewer" in viewer_role_sql(
        "rsp_viewer", "rsp"
    )
    assert all("PASSWORD" not in s for s in statements)


# ------------------------------------------------------------------ the command


def test_the_command_creates_and_updates_the_role(cluster):
    before = snapshot(cluster.owner)
    first_password, second_password = "first-Secret-1", "second-Secret-2"
    done = run_cli(
        "viewer-role", cluster.cli_role, "--url", cluster.owner_url, env={"RSP_VIEWER_PASSWORD": first_password}
    )
    assert done.returncode == 0, done.stderr
    shape = make_url(cluster.owner_url).set(username=cluster.cli_role, password="x")
    assert f"DATABASE_URL={shape.render_as_string(hide_password=True)}" in done.stdout
    assert f"{cluster.cli_role}:***@127.0.0.1:" in done.stdout
    assert first_password not in done.stdout + done.stderr

    first = make_engine(cluster.url_for(cluster.cli_role, first_password))
    try:
        kpi_first, kpi_owner = metrics.kpi_summary(first, Filters()), metrics.kpi_summary(cluster.owner, Filters())
        assert all(_same(kpi_first[k], kpi_owner[k]) for k in kpi_owner)
        with pytest.raises(DBAPIError) as caught, first.begin() as conn:
            conn.exec_driver_sql("DELETE FROM monthly_metrics")
        assert_permission_denied(caught)
    finally:
        first.dispose()

    again = run_cli(
        "viewer-role", cluster.cli_role, "--url", cluster.owner_url, env={"RSP_VIEWER_PASSWORD": second_password}
    )
    assert again.returncode == 0, again.stderr
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(**_dsn(cluster.url_for(cluster.cli_role, first_password))).close()
    with psycopg.connect(**_dsn(cluster.url_for(cluster.cli_role, second_password))) as conn:
        assert conn.execute("SELECT count(*) FROM partnerships").fetchone() == (14,)
    assert snapshot(cluster.owner) == before


def test_the_command_refuses_a_bad_name_and_a_missing_password(cluster):
    bad = run_cli(
        "viewer-role",
        "Robert'); DROP TABLE monthly_metrics;--",
        "--url",
        cluster.owner_url,
        env={"RSP_VIEWER_PASSWORD": "pw"},
    )
    assert bad.returncode != 0
    assert "refusing role name" in bad.stderr
    missing = run_cli("viewer-role", f"{cluster.role}_nopw", "--url", cluster.owner_url)
    assert missing.returncode != 0
    assert "needs a password" in missing.stderr
    with cluster.admin.connect() as conn:
        assert (
            conn.execute(
                text("SELECT count(*) FROM pg_roles WHERE rolname = :r"), {"r": f"{cluster.role}_nopw"}
            ).scalar_one()
            == 0
        )
    assert "monthly_metrics" in table_names(cluster.owner)


def test_the_command_names_the_owner_url_without_its_password(cluster):
    # the owner's URL with a password (the test server ignores it): never printed
    owner_with_password = make_url(cluster.owner_url).set(password="owner-Secret-9")
    done = run_cli(
        "viewer-role",
        cluster.cli_role,
        "--url",
        owner_with_password.render_as_string(hide_password=False),
        env={"RSP_VIEWER_PASSWORD": "third-Secret-3"},
    )
    assert done.returncode == 0, done.stderr
    assert "owner-Secret-9" not in done.stdout + done.stderr
    assert "third-Secret-3" not in done.stdout + done.stderr

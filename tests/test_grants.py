"""Grants (rsp_data/grants.py): who may write which partnership's figures, on SQLite and PostgreSQL.

Each store test runs twice (conftest.py's `stores`): a SQLite file and a database of the test run's
PostgreSQL server. The import and the rollback check a Writer inside their transaction: a refused file
or rollback leaves every table exactly as it was (the import lock included).
"""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from sqlalchemy import select

from rsp_data import grants, schema
from rsp_data.grants import ALL, GrantError, Writer, identity_key, writer_from_claims
from rsp_data.imports.apply import RollbackRefused, apply_import, rollback
from rsp_data.imports.read import ImportRejected
from rsp_data.metrics import REQUIRED_KEYS
from tests.store_helpers import run_cli, snapshot

TODAY = date(2026, 12, 5)
HEADER = ["rsp_id", "month", *REQUIRED_KEYS]
ANA = "ana@capital.org"  # convener of capital-technology
BO = "bo@southwest.org"  # convener of southwest-technology
STAFF = "staff@ct.gov"  # state staff: all


def csv_file(*rows: tuple[str, str]) -> bytes:
    """A file with one row per (rsp_id, month), the same plausible figures on each."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    for rsp_id, month in rows:
        writer.writerow([rsp_id, month, 12, 5, 4, 3])
    return out.getvalue().encode()


def batch_row(engine, batch_id: int) -> dict:
    batches = schema.import_batches
    with engine.connect() as conn:
        return dict(conn.execute(select(batches).where(batches.c.batch_id == batch_id)).mappings().one())


# ---------------------------------------------------------------- identities (no store)


@pytest.mark.parametrize(
    ("given", "key"),
    [
        ("Ana@Capital.ORG", ANA),
        ("  ana@capital.org ", ANA),
        ("sub:00u1AbCd", "sub:00u1AbCd"),  # a subject keeps its case: providers compare it exactly
        ("SUB: 00u1AbCd", "sub:00u1AbCd"),
    ],
)
def test_identity_keys(given, key):
    assert identity_key(given) == key


@pytest.mark.parametrize("given", ["", "ana", "ana@", "@capital.org", "a b@c.org", "sub:", "sub:\x00x", "a@b.c" * 50])
def test_what_is_not_an_identity_is_refused(given):
    with pytest.raises(GrantError, match="is not an identity"):
        identity_key(given)


def test_a_sign_in_stands_for_its_email_and_its_subject():
    writer = writer_from_claims({"email": "Ana@Capital.org", "sub": "abc", "name": "Ana"}, {"staff@ct.gov"})
    assert writer == Writer(ANA, (ANA, "sub:abc"), trusted=False)
    staff = writer_from_claims({"email": "STAFF@ct.gov", "sub": "s1"}, [" staff@ct.gov "])
    assert staff.trusted and staff.identity == STAFF
    # an e-mail the provider calls unverified is neither a key nor trusted: only the subject is left
    unverified = writer_from_claims({"email": STAFF, "email_verified": False, "sub": "s1"}, [STAFF])
    assert unverified == Writer("sub:s1", ("sub:s1",), trusted=False)
    assert writer_from_claims({"email": STAFF, "email_verified": "false"}, [STAFF]) is None
    assert writer_from_claims({"name": "Nobody"}) is None


# ---------------------------------------------------------------- managing grants


@pytest.fixture
def empty(stores):
    engine = stores.engine("grants")
    yield engine
    engine.dispose()


def test_grant_revoke_and_every_change_recorded(empty):
    assert grants.grant(empty, "Ana@Capital.org", ["capital-technology", "capital-healthcare"], "Jo (OWS)") == [
        "capital-technology",
        "capital-healthcare",
    ]
    assert grants.grant(empty, ANA, ["capital-technology"], "Jo (OWS)") == []  # held already: no change, no log
    assert grants.grant(empty, STAFF, None, "Jo (OWS)") == [ALL]
    assert grants.revoke(empty, ANA, ["capital-healthcare", "eastern-healthcare"], "Kim") == ["capital-healthcare"]
    assert [(g["identity"], g["rsp_id"], g["granted_by"]) for g in grants.current_grants(empty)] == [
        (ANA, "capital-technology", "Jo (OWS)"),
        (STAFF, ALL, "Jo (OWS)"),
    ]
    log = grants.grant_log(empty)
    assert [(c["action"], c["identity"], c["rsp_id"], c["changed_by"]) for c in log] == [
        ("grant", ANA, "capital-technology", "Jo (OWS)"),
        ("grant", ANA, "capital-healthcare", "Jo (OWS)"),
        ("grant", STAFF, ALL, "Jo (OWS)"),
        ("revoke", ANA, "capital-healthcare", "Kim"),
    ]
    assert all(c["changed_at"] is not None for c in log)
    assert grants.revoke(empty, ANA, None, "Kim") == ["capital-technology"]  # none named: every grant it has
    assert grants.scope(empty, Writer(ANA, (ANA,))).empty
    assert grants.scope(empty, Writer(STAFF, (STAFF,))).every


def test_a_grant_naming_an_unknown_partnership_changes_nothing(empty):
    before = snapshot(empty)
    with pytest.raises(GrantError, match="no partnership capital-tech in the store"):
        grants.grant(empty, ANA, ["capital-technology", "capital-tech"], "Jo")
    with pytest.raises(GrantError, match="is not an identity"):
        grants.grant(empty, "not an e-mail", ["capital-technology"], "Jo")
    assert snapshot(empty) == before


def test_the_grant_commands(stores):
    url = stores.url("grant-cli")
    done = run_cli("grant", "Ana@Capital.org", "capital-technology", "--url", url, "--by", "Jo (OWS)")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"{ANA} may now write: capital-technology"
    done = run_cli("grant", STAFF, "--all", "--url", url)
    assert done.stdout.strip() == f"{STAFF} may now write every partnership's figures (all)"
    refused = run_cli("grant", BO, "southwest-tech", "--url", url)
    assert refused.returncode == 2 and "no partnership southwest-tech in the store" in refused.stderr
    both = run_cli("grant", BO, "southwest-technology", "--all", "--url", url)
    assert both.returncode == 2 and "not both" in both.stderr

    listed = run_cli("grants", "--url", url)
    lines = listed.stdout.splitlines()
    assert [ln.split()[:2] for ln in lines] == [[ANA, "capital-technology"], [STAFF, "all"]]
    assert "by Jo (OWS))" in lines[0] and "(command line))" in lines[1]  # who: --by, else the OS user

    assert run_cli("revoke", ANA, "--url", url).stdout.strip() == f"{ANA} may no longer write: capital-technology"
    assert run_cli("revoke", ANA, "--url", url).stdout.strip() == f"{ANA} had no such grant: nothing changed"
    log = run_cli("grants", "--log", "--url", url).stdout.splitlines()
    assert [ln.split()[-3:] for ln in log] == [
        ["grant", ANA, "capital-technology"],
        ["grant", STAFF, "all"],
        ["revoke", ANA, "capital-technology"],
    ]


# ---------------------------------------------------------------- every write path checks them


@pytest.fixture
def demo(demo_copy):
    grants.grant(demo_copy, ANA, ["capital-technology"], "test")
    grants.grant(demo_copy, BO, ["southwest-technology"], "test")
    grants.grant(demo_copy, STAFF, None, "test")
    return demo_copy


def as_(identity: str) -> Writer:
    return Writer.acting_as(identity)


def import_as(engine, identity: str, name: str, *rows: tuple[str, str]):
    """Import a file of `rows` as `identity` (the Submit page's and --as's check) on TODAY."""
    return apply_import(engine, csv_file(*rows), name, identity, today=TODAY, writer=as_(identity))


def test_a_file_with_another_partnerships_row_is_refused_whole(demo):
    rows = ("capital-technology", "2026-11"), ("southwest-technology", "2026-11"), ("eastern-healthcare", "2026-11")
    before = snapshot(demo)
    with pytest.raises(ImportRejected) as caught:
        import_as(demo, ANA, "mixed.csv", *rows)
    errors = [(p.row, p.column, p.value, p.reason) for p in caught.value.report.errors]
    why = "this account may write only capital-technology"
    assert errors == [
        (3, "rsp_id", "southwest-technology", f"{ANA} may not write southwest-technology's figures: {why}"),
        (4, "rsp_id", "eastern-healthcare", f"{ANA} may not write eastern-healthcare's figures: {why}"),
    ]
    assert "nothing was written" in caught.value.report.text()
    assert snapshot(demo) == before


def test_someone_with_no_grant_writes_nothing(demo):
    before = snapshot(demo)
    with pytest.raises(ImportRejected) as caught:
        import_as(demo, "cy@x.org", "x.csv", ("capital-technology", "2026-11"))
    (error,) = caught.value.report.errors
    assert error.reason == (
        "cy@x.org may not write capital-technology's figures: this account has no grant to write any partnership"
    )
    assert snapshot(demo) == before


def test_own_rows_are_written_and_recorded_with_the_identity(demo):
    result = import_as(demo, ANA, "mine.csv", ("capital-technology", "2026-11"))
    assert result.batch_id is not None and len(result.plan.added) == 1
    assert batch_row(demo, result.batch_id)["loaded_by"] == ANA
    staff = import_as(demo, STAFF, "s.csv", ("eastern-healthcare", "2026-11"), ("southwest-technology", "2026-11"))
    assert len(staff.plan.added) == 2


def test_a_revoked_grant_is_in_force_at_once(demo):
    grants.revoke(demo, ANA, None, "test")
    with pytest.raises(ImportRejected, match="has no grant"):
        import_as(demo, ANA, "late.csv", ("capital-technology", "2026-11"))


def test_rollback_is_for_the_submitter_and_for_all(demo):
    first = import_as(demo, ANA, "a.csv", ("capital-technology", "2026-11")).batch_id
    # Bo may not, even with a grant of the same partnership; nothing changes
    grants.grant(demo, BO, ["capital-technology"], "test")
    before = snapshot(demo)
    with pytest.raises(RollbackRefused) as caught:
        rollback(demo, first, BO, writer=as_(BO))
    assert str(caught.value) == (
        f"batch {first} was loaded by {ANA}: only they and state staff (a grant of all) may roll it back, not {BO}"
    )
    assert snapshot(demo) == before
    assert rollback(demo, first, ANA, writer=as_(ANA)) == 1  # the submitter may
    second = import_as(demo, ANA, "b.csv", ("capital-technology", "2026-11")).batch_id
    assert rollback(demo, second, STAFF, writer=as_(STAFF)) == 1  # "all" may
    assert batch_row(demo, second)["rolled_back_by"] == STAFF
    third = import_as(demo, ANA, "c.csv", ("capital-technology", "2026-11")).batch_id
    admin = Writer("administrator (password)", trusted=True)  # the password fallback: every partnership
    assert rollback(demo, third, admin.identity, writer=admin) == 1

"""The command line of the import pipeline: `python -m rsp_data import | history | rollback`.

Each test runs the real command in a subprocess (cwd = the repository root) against a store
passed with --url, twice: a SQLite file and a database of the test run's PostgreSQL server
(conftest.py's `stores`), with the same expected output.
"""

from __future__ import annotations

import csv
import hashlib
import io
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from rsp_data import schema
from rsp_data.metrics import REQUIRED_KEYS
from rsp_data.store import make_engine
from tests.store_helpers import copy_store, drop_store, run_cli, snapshot

REPO_ROOT = Path(__file__).resolve().parent.parent
HEADER = ["rsp_id", "month", "employers_engaged", "trainees_enrolled", "trainees_completed", "placements"]
MAR, APR = date(2025, 3, 1), date(2025, 4, 1)
ACE_JUNE = date(2022, 6, 1)  # before northwest-ace's first demo month
ACE_NEW = {"employers_engaged": 7, "trainees_enrolled": 3, "trainees_completed": 2, "placements": 1}


def csv_bytes(rows, header=HEADER) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def row_for(rsp_id: str, month: date, values: dict[str, int]) -> list[str]:
    return [rsp_id, f"{month:%Y-%m}", *(str(values[m]) for m in REQUIRED_KEYS)]


def metrics(engine: Engine, rsp_id: str, month: date) -> dict[str, int] | None:
    facts = schema.monthly_metrics
    with engine.connect() as conn:
        row = conn.execute(select(facts).where(facts.c.rsp_id == rsp_id, facts.c.month == month)).mappings().first()
    return None if row is None else {m: row[m] for m in REQUIRED_KEYS}


def batch_of(engine: Engine, file_name: str) -> int:
    """The id of the one batch that imported `file_name` (after the demo's many batches)."""
    batches = schema.import_batches
    with engine.connect() as conn:
        (batch_id,) = conn.execute(select(batches.c.batch_id).where(batches.c.file_name == file_name)).scalars()
    return batch_id


@pytest.fixture
def store(demo_template, tmp_path):
    url, _ = copy_store(demo_template, tmp_path)
    eng = make_engine(url)
    yield url, eng
    eng.dispose()
    drop_store(url)


def correction_file(engine, tmp_path) -> tuple[Path, dict, dict]:
    old = {MAR: metrics(engine, "capital-technology", MAR), APR: metrics(engine, "capital-technology", APR)}
    new = {
        MAR: {**old[MAR], "trainees_enrolled": old[MAR]["trainees_enrolled"] + 3},
        APR: {**old[APR], "placements": old[APR]["placements"] + 1},
    }
    path = tmp_path / "march-fix.csv"
    path.write_bytes(
        csv_bytes(
            [
                row_for("capital-technology", MAR, new[MAR]),
                row_for("capital-technology", APR, new[APR]),
                row_for("northwest-ace", ACE_JUNE, ACE_NEW),
            ]
        )
    )
    return path, old, new


def test_import_good_file_then_history_then_rollback_twice(store, tmp_path):
    url, engine = store
    path, old, new = correction_file(engine, tmp_path)
    before = snapshot(engine)

    done = run_cli("import", str(path), "--url", url, "--by", "Alice")
    assert done.returncode == 0, done.stderr
    batch = batch_of(engine, path.name)
    assert f"Imported as batch {batch}: 1 row(s) added, 2 changed." in done.stdout
    assert metrics(engine, "capital-technology", MAR) == new[MAR]
    assert metrics(engine, "northwest-ace", ACE_JUNE) == ACE_NEW

    listed = run_cli("history", "--url", url)
    assert listed.returncode == 0, listed.stderr
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    (line,) = [ln for ln in listed.stdout.splitlines() if "march-fix.csv" in ln]
    assert line.split()[0] == str(batch)
    assert digest[:12] in line
    assert "Alice" in line
    assert "+1 ~2" in line
    assert "demo_metrics.csv" in listed.stdout

    undone = run_cli("rollback", str(batch), "--url", url, "--by", "Bob")
    assert undone.returncode == 0, undone.stderr
    assert f"batch {batch} rolled back: 3 row(s) restored or removed" in undone.stdout
    assert snapshot(engine)["monthly_metrics"] == before["monthly_metrics"]
    assert metrics(engine, "capital-technology", MAR) == old[MAR]

    again = run_cli("rollback", str(batch), "--url", url)
    assert again.returncode != 0
    assert "already rolled back" in again.stderr

    listed = run_cli("history", "--url", url)
    (line,) = [ln for ln in listed.stdout.splitlines() if "march-fix.csv" in ln]
    assert "rolled back" in line and "Bob" in line


def test_import_bad_file_exits_non_zero_with_the_report_and_changes_nothing(store, tmp_path):
    url, engine = store
    path = tmp_path / "bad.csv"
    path.write_bytes(
        csv_bytes(
            [
                ["capital-technology", "2025-13", "1", "2", "3", "0"],
                ["capital-tech", "2025-03", "1", "2", "-4", "0"],
            ]
        )
    )
    before = snapshot(engine)
    done = run_cli("import", str(path), "--url", url)
    assert done.returncode != 0
    assert "Imported" not in done.stdout
    lines = done.stderr.splitlines()
    assert "bad.csv: 3 error(s), 0 warning(s); nothing was written" in lines[0]
    assert "error: row 2, column month, value '2025-13': there is no month 13: months run 01 to 12" in lines
    assert (
        "error: row 3, column rsp_id, value 'capital-tech': unknown partnership id "
        "(did you mean 'capital-technology'?)" in lines
    )
    assert "error: row 3, column trainees_completed, value '-4': negative: counts cannot be below 0" in lines
    assert snapshot(engine) == before


def test_import_missing_file_exits_non_zero(store, tmp_path):
    url, _ = store
    done = run_cli("import", str(tmp_path / "nowhere.csv"), "--url", url)
    assert done.returncode != 0
    assert "cannot read" in done.stderr


def test_dry_run_prints_the_changes_and_writes_nothing(store, tmp_path):
    url, engine = store
    path, old, new = correction_file(engine, tmp_path)
    before = snapshot(engine)
    done = run_cli("import", str(path), "--dry-run", "--url", url)
    assert done.returncode == 0, done.stderr
    out = done.stdout.splitlines()
    assert (
        f"change capital-technology 2025-03: trainees_enrolled {old[MAR]['trainees_enrolled']} -> "
        f"{new[MAR]['trainees_enrolled']}" in out
    )
    assert f"change capital-technology 2025-04: placements {old[APR]['placements']} -> {new[APR]['placements']}" in out
    assert "dry run, nothing written: 1 row(s) to add, 2 to change, 0 unchanged." in out
    assert snapshot(engine) == before

    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_bytes([["capital-technology", "March 2025", "1", "2", "3", "0"]]))
    rejected = run_cli("import", str(bad), "--dry-run", "--url", url)
    assert rejected.returncode != 0
    assert "error: row 2, column month, value 'March 2025'" in rejected.stderr
    assert snapshot(engine) == before


def test_import_twice_says_already_imported(store, tmp_path):
    url, engine = store
    path, _, _ = correction_file(engine, tmp_path)
    assert run_cli("import", str(path), "--url", url).returncode == 0
    before = snapshot(engine)
    again = run_cli("import", str(path), "--url", url)
    assert again.returncode == 0, again.stderr
    assert f"already imported as batch {batch_of(engine, path.name)}" in again.stdout
    after = snapshot(engine)
    after.pop("import_lock"), before.pop("import_lock")
    assert after == before


def test_import_into_a_fresh_store_from_init(stores, tmp_path):
    url = stores.url("fresh")
    made = run_cli("init", "--url", url)
    assert made.returncode == 0, made.stderr
    path = tmp_path / "first.csv"
    path.write_bytes(
        csv_bytes(
            [
                row_for("northwest-ace", date(2025, 1, 1), ACE_NEW),
                row_for("capital-technology", date(2025, 1, 1), ACE_NEW),
                row_for("eastern-healthcare", date(2025, 1, 1), ACE_NEW),
            ]
        )
    )
    done = run_cli("import", str(path), "--url", url)
    assert done.returncode == 0, done.stderr
    assert "Imported as batch 1: 3 row(s) added, 0 changed." in done.stdout
    engine = make_engine(url)
    try:
        assert metrics(engine, "eastern-healthcare", date(2025, 1, 1)) == ACE_NEW
        with engine.connect() as conn:
            kinds = [r.kind for r in conn.execute(select(schema.import_batches))]
        assert kinds == ["import"]
    finally:
        engine.dispose()
    listed = run_cli("history", "--url", url)
    assert listed.returncode == 0, listed.stderr
    assert "first.csv" in listed.stdout


# ---------------------------------------------------------------- --as: an operator acting for a convener

ANA = "ana@capital.org"
OLD = date(2012, 1, 1)  # before every partnership's first demo month: the rows are added


def test_import_and_rollback_as_a_convener_follow_their_grants(store, tmp_path):
    url, engine = store
    mixed = tmp_path / "mixed.csv"
    mixed.write_bytes(
        csv_bytes([row_for("capital-technology", OLD, ACE_NEW), row_for("southwest-technology", OLD, ACE_NEW)])
    )
    before = snapshot(engine)
    refused = run_cli("import", str(mixed), "--url", url, "--as", "Ana@Capital.org")
    assert refused.returncode == 1
    no_grant = "this account has no grant to write any partnership"
    assert f"row 2, column rsp_id, value 'capital-technology': {ANA} may not write" in refused.stderr
    assert f"row 3, column rsp_id, value 'southwest-technology': {ANA} may not write" in refused.stderr
    assert refused.stderr.count(no_grant) == 2 and "nothing was written" in refused.stderr
    assert snapshot(engine) == before

    assert run_cli("grant", ANA, "capital-technology", "--url", url).returncode == 0
    before = snapshot(engine)  # with the grant
    for dry in ((), ("--dry-run",)):
        refused = run_cli("import", str(mixed), "--url", url, "--as", ANA, *dry)
        assert refused.returncode == 1
        (named,) = [ln for ln in refused.stderr.splitlines() if ln.startswith("error:")]
        assert named == (
            f"error: row 3, column rsp_id, value 'southwest-technology': {ANA} may not write southwest-technology's "
            "figures: this account may write only capital-technology"
        )
        assert snapshot(engine) == before

    own = tmp_path / "own.csv"
    own.write_bytes(csv_bytes([row_for("capital-technology", OLD, ACE_NEW)]))
    done = run_cli("import", str(own), "--url", url, "--as", ANA)
    assert done.returncode == 0, done.stderr
    batch = batch_of(engine, "own.csv")
    (line,) = [ln for ln in run_cli("history", "--url", url).stdout.splitlines() if "own.csv" in ln]
    assert line.split()[4] == ANA  # the identity, as the Submit page records it

    other = run_cli("rollback", str(batch), "--url", url, "--as", "bo@southwest.org")
    assert other.returncode == 1
    assert other.stderr.strip() == (
        f"rollback refused: batch {batch} was loaded by {ANA}: only they and state staff (a grant of all) "
        "may roll it back, not bo@southwest.org"
    )
    assert metrics(engine, "capital-technology", OLD) == ACE_NEW
    undone = run_cli("rollback", str(batch), "--url", url, "--as", ANA)
    assert undone.returncode == 0, undone.stderr
    assert metrics(engine, "capital-technology", OLD) is None


def test_as_needs_an_identity_and_excludes_by(store, tmp_path):
    url, engine = store
    path = tmp_path / "own.csv"
    path.write_bytes(csv_bytes([row_for("capital-technology", OLD, ACE_NEW)]))
    bad = run_cli("import", str(path), "--url", url, "--as", "Ana Convener")
    assert bad.returncode == 2 and "--as: 'Ana Convener' is not an identity" in bad.stderr
    both = run_cli("import", str(path), "--url", url, "--as", ANA, "--by", "Jo")
    assert both.returncode == 2 and "not allowed with argument" in both.stderr
    assert metrics(engine, "capital-technology", OLD) is None


def test_without_as_the_operator_is_trusted_and_the_help_says_so(store, tmp_path):
    url, engine = store
    path = tmp_path / "any.csv"
    path.write_bytes(csv_bytes([row_for("southwest-technology", OLD, ACE_NEW)]))
    done = run_cli("import", str(path), "--url", url, "--by", "Jo")
    assert done.returncode == 0, done.stderr
    assert metrics(engine, "southwest-technology", OLD) == ACE_NEW
    for command in ("import", "rollback"):
        shown = " ".join(run_cli(command, "--help").stdout.split())
        assert "Without --as the operator running this command is trusted with every partnership" in shown

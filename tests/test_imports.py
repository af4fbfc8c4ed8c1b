"""The import pipeline (rsp_data/imports/): validation, plan, apply, rollback, templates.

Every test that writes runs twice, on a SQLite file and on a database of the test run's
PostgreSQL server (conftest.py's `stores`), each a fresh copy of one store initialised with the
committed demo data (`init_store(..., demo=True)`), with the same expected numbers. Fixture files
are built in the tests as bytes.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import Engine, select

from rsp_data import schema
from rsp_data.imports.apply import RollbackRefused, apply_import, no_progress, plan_import, rollback
from rsp_data.imports.read import MAX_BYTES, ImportRejected, validate
from rsp_data.imports.templates import template_csv, template_xlsx
from rsp_data.metrics import OPTIONAL_KEYS, REQUIRED_KEYS
from rsp_data.registry import registry
from rsp_data.store import CONNECTICUT, make_engine, read_demo_rows
from tests.store_helpers import copy_store, drop_store, plain, snapshot
from ui.export import safe_csv

REPO_ROOT = Path(__file__).resolve().parent.parent
TODAY = date(2026, 11, 21)
HEADER = ["rsp_id", "month", "employers_engaged", "trainees_enrolled", "trainees_completed", "placements"]
HEADER_LINE = "rsp_id,month,employers_engaged,trainees_enrolled,trainees_completed,placements"
GOOD = ["capital-technology", "2025-03", "1", "2", "3", "0"]
# The templates carry the optional quality and reach columns after the required ones.
TEMPLATE_HEADER = [*HEADER, *OPTIONAL_KEYS]  # the required columns, then every optional one


# ------------------------------------------------------------------ helpers


def csv_bytes(rows, header=HEADER, *, delimiter=",", bom=False) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    if header is not None:
        writer.writerow(header)
    writer.writerows(rows)
    data = out.getvalue().encode("utf-8")
    return (b"\xef\xbb\xbf" + data) if bom else data


def xlsx_bytes(rows, header=HEADER, *, setup=None) -> bytes:
    book = Workbook()
    sheet = book.active
    if header is not None:
        sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    if setup:
        setup(sheet)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fact(engine: Engine, rsp_id: str, month: date) -> dict | None:
    facts = schema.monthly_metrics
    with engine.connect() as conn:
        row = conn.execute(select(facts).where(facts.c.rsp_id == rsp_id, facts.c.month == month)).mappings().first()
    return None if row is None else {k: row[k] for k in (*REQUIRED_KEYS, "batch_id")}


def metrics(engine: Engine, rsp_id: str, month: date) -> dict[str, int]:
    row = fact(engine, rsp_id, month)
    assert row is not None, f"{rsp_id} {month} not in the store"
    return {m: row[m] for m in REQUIRED_KEYS}


def batches(engine: Engine) -> list[dict]:
    with engine.connect() as conn:
        return [
            {k: plain(v) for k, v in r.items()}
            for r in conn.execute(select(schema.import_batches).order_by(schema.import_batches.c.batch_id)).mappings()
        ]


def history(engine: Engine, batch_id: int | None = None) -> list[dict]:
    h = schema.fact_history
    stmt = select(h).order_by(h.c.batch_id, h.c.rsp_id, h.c.month)
    if batch_id is not None:
        stmt = stmt.where(h.c.batch_id == batch_id)
    with engine.connect() as conn:
        return [{k: plain(v) for k, v in r.items()} for r in conn.execute(stmt).mappings()]


def demo_batch_id(engine: Engine, rsp_id: str, month: date) -> int:
    """The demo batch that holds a demo fact: the one loaded on the day the demo file says it was sent."""
    (sent_on,) = [r["sent_on"] for r in read_demo_rows(as_sent=True) if (r["rsp_id"], r["month"]) == (rsp_id, month)]
    (batch,) = [
        b["batch_id"]
        for b in batches(engine)
        if b["kind"] == "demo" and b["loaded_at"].astimezone(CONNECTICUT).date() == sent_on
    ]
    assert fact(engine, rsp_id, month)["batch_id"] == batch
    return batch


def row_for(rsp_id: str, month: date, values: dict[str, int]) -> list[str]:
    return [rsp_id, f"{month:%Y-%m}", *(str(values[m]) for m in REQUIRED_KEYS)]


def shifted(values: dict[str, int], by: int = 1) -> dict[str, int]:
    """Other plausible values: enrolments moved, the rest kept."""
    return {**values, "trainees_enrolled": values["trainees_enrolled"] + by}


def key(problem) -> tuple:
    return (problem.row, problem.column, problem.value)


def assert_problems(problems, expected) -> None:
    """`problems` are exactly `expected`: (row, column, value, a distinctive part of the reason)."""
    got = [(p.row, p.column, p.value, p.reason) for p in problems]
    assert len(problems) == len(expected), f"expected {len(expected)} problem(s), got {len(problems)}: {got}"
    for row, column, value, reason in expected:
        matches = [p for p in problems if (p.row, p.column, p.value) == (row, column, value) and reason in p.reason]
        assert matches, f"no problem (row {row}, column {column!r}, value {value!r}, ~{reason!r}) in {got}"


@dataclass
class Store:
    engine: Engine
    path: Path | None  # the SQLite file; None on PostgreSQL
    url: str


@pytest.fixture
def store(demo_template, tmp_path) -> Store:
    """A fresh copy of the demo store, for a test that writes."""
    url, path = copy_store(demo_template, tmp_path)
    eng = make_engine(url)
    yield Store(eng, path, url)
    eng.dispose()
    drop_store(url)


@pytest.fixture(scope="module")
def untouched(demo_template, tmp_path_factory) -> Store:
    """One copy of the demo store shared by the tests of rejected files: a rejection writes nothing,
    which every one of them checks (a write would fail that test, not a later one)."""
    url, path = copy_store(demo_template, tmp_path_factory.mktemp("untouched"))
    eng = make_engine(url)
    yield Store(eng, path, url)
    eng.dispose()
    drop_store(url)


def assert_rejected_and_untouched(store: Store, content: bytes, file_name: str):
    """apply_import raises ImportRejected and writes nothing at all; returns the rejection's report."""
    before = snapshot(store.engine)
    before_bytes = file_digest(store.path) if store.path else None
    with pytest.raises(ImportRejected) as caught:
        apply_import(store.engine, content, file_name, "tester", today=TODAY)
    assert snapshot(store.engine) == before  # every table, every row: both backends
    if store.path:  # SQLite: not a byte of the file changed either
        assert file_digest(store.path) == before_bytes
    assert "nothing was written" in str(caught.value)
    return caught.value.report


# ------------------------------------------------------------------ one test per bad-input kind

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
INJECTION = '=HYPERLINK("http://x","y")'


def _over_limit() -> bytes:
    line = ",".join(GOOD).encode() + b"\r\n"
    count = MAX_BYTES // len(line) + 2
    return HEADER_LINE.encode() + b"\r\n" + line * count


BAD_INPUTS = [
    # empty file
    pytest.param(b"", "f.csv", [(0, "", "", "the file is empty")], id="empty"),
    pytest.param(b"\r\n \r\n", "f.csv", [(0, "", "", "the file is empty")], id="empty-blank-lines"),
    # Excel's "CSV UTF-8" of an empty sheet is just the byte-order mark.
    pytest.param(b"\xef\xbb\xbf", "f.csv", [(0, "", "", "the file is empty")], id="empty-bom-only"),
    # header only
    pytest.param(csv_bytes([]), "f.csv", [(0, "", "", "header but no data rows")], id="header-only"),
    pytest.param(
        csv_bytes([["", "", "", "", "", ""]]), "f.csv", [(0, "", "", "header but no data rows")], id="header-commas"
    ),
    # misspelt column: the right name is suggested, and the missing one named
    pytest.param(
        csv_bytes([GOOD], header=[*HEADER[:2], "employers_engagd", *HEADER[3:]]),
        "f.csv",
        [
            (1, "employers_engagd", "employers_engagd", "did you mean 'employers_engaged'"),
            (1, "employers_engaged", "", "required column is missing"),
        ],
        id="misspelt-column",
    ),
    pytest.param(
        csv_bytes([GOOD], header=["rspid", *HEADER[1:]]),
        "f.csv",
        [(1, "rspid", "rspid", "did you mean 'rsp_id'"), (1, "rsp_id", "", "required column is missing")],
        id="misspelt-rsp-id",
    ),
    # missing column
    pytest.param(
        csv_bytes([GOOD[:5]], header=HEADER[:5]),
        "f.csv",
        [(1, "placements", "", "required column is missing")],
        id="missing-column",
    ),
    # unknown extra column
    pytest.param(
        csv_bytes([[*GOOD, "a note"]], header=[*HEADER, "Notes"]),
        "f.csv",
        [(1, "notes", "Notes", "unknown column: remove it")],
        id="unknown-extra-column",
    ),
    pytest.param(
        csv_bytes([[*GOOD, "7"]]),
        "f.csv",
        [(2, "", "7", "more cells than columns in the header")],
        id="stray-extra-cell",
    ),
    # wrong delimiter
    pytest.param(
        csv_bytes([GOOD], delimiter=";"),
        "f.csv",
        [(1, "", HEADER_LINE.replace(",", ";"), "columns are separated by semicolons; use commas")],
        id="semicolons",
    ),
    pytest.param(
        csv_bytes([GOOD], delimiter="\t"),
        "f.csv",
        [(1, "", HEADER_LINE.replace(",", "\t"), "columns are separated by tabs; use commas")],
        id="tabs",
    ),
    # non-UTF-8 text (Windows-1252 "é" on the second data row = spreadsheet row 3)
    pytest.param(
        csv_bytes([GOOD]) + "capital-technology,2025-04,1,2,3,0,café\r\n".encode("cp1252"),
        "f.csv",
        [(3, "", "byte 0xE9", "not UTF-8")],
        id="not-utf8",
    ),
    # months
    pytest.param(
        csv_bytes([["capital-technology", "2025-13", "1", "2", "3", "0"]]),
        "f.csv",
        [(2, "month", "2025-13", "there is no month 13")],
        id="month-13",
    ),
    pytest.param(
        csv_bytes([["capital-technology", "March 2025", "1", "2", "3", "0"]]),
        "f.csv",
        [(2, "month", "March 2025", "months are written YYYY-MM")],
        id="month-words",
    ),
    pytest.param(
        csv_bytes([["capital-technology", "2026-12", "1", "2", "3", "0"]]),
        "f.csv",
        [(2, "month", "2026-12", "in the future")],
        id="month-future",
    ),
    # counts
    pytest.param(csv_bytes([[*GOOD[:5], "-3"]]), "f.csv", [(2, "placements", "-3", "negative")], id="count-negative"),
    pytest.param(
        csv_bytes([[*GOOD[:5], "2.5"]]),
        "f.csv",
        [(2, "placements", "2.5", "not a whole number")],
        id="count-decimal",
    ),
    pytest.param(csv_bytes([[*GOOD[:5], "ten"]]), "f.csv", [(2, "placements", "ten", "not a number")], id="count-text"),
    # blank cells
    pytest.param(csv_bytes([[*GOOD[:5], ""]]), "f.csv", [(2, "placements", "", "blank")], id="blank-count"),
    pytest.param(csv_bytes([["", *GOOD[1:]]]), "f.csv", [(2, "rsp_id", "", "blank")], id="blank-rsp-id"),
    # unknown rsp_id: the closest is suggested
    pytest.param(
        csv_bytes([["capital-tech", *GOOD[1:]]]),
        "f.csv",
        [(2, "rsp_id", "capital-tech", "did you mean 'capital-technology'")],
        id="unknown-rsp-id",
    ),
    # the same partnership and month twice
    pytest.param(
        csv_bytes([GOOD, [*GOOD[:2], "5", "5", "5", "0"]]),
        "f.csv",
        [(3, "month", "2025-03", "capital-technology 2025-03 is already on row 2")],
        id="duplicate",
    ),
    pytest.param(
        csv_bytes([[*GOOD, "2025-03"]], header=[*HEADER, "Month"]),
        "f.csv",
        [(1, "month", "month", "this column appears twice")],
        id="column-twice",
    ),
    # a file over the size limit
    pytest.param(_over_limit(), "big.csv", [(0, "", "", f"the limit is {MAX_BYTES:,} bytes")], id="size"),
    # a binary file renamed .csv
    pytest.param(PNG, "picture.csv", [(0, "", "", "not CSV text")], id="binary-as-csv"),
    pytest.param(xlsx_bytes([GOOD]), "workbook.csv", [(0, "", "", "not CSV text")], id="xlsx-as-csv"),
    pytest.param(csv_bytes([GOOD]), "text.xlsx", [(0, "", "", "not an Excel workbook")], id="text-as-xlsx"),
    pytest.param(PNG, "old.xls", [(0, "", "", "old Excel .xls files are not read")], id="xls"),
    # cell text beginning =, +, -, @ (formula injection)
    pytest.param(
        csv_bytes([[INJECTION, *GOOD[1:]]]),
        "f.csv",
        [(2, "rsp_id", INJECTION, "unknown partnership id")],
        id="inject-hyperlink",
    ),
    pytest.param(
        csv_bytes([[*GOOD[:5], "=1+2"]]), "f.csv", [(2, "placements", "=1+2", "a formula")], id="inject-equals"
    ),
    pytest.param(csv_bytes([[*GOOD[:5], "+1"]]), "f.csv", [(2, "placements", "+1", "a formula")], id="inject-plus"),
    pytest.param(
        csv_bytes([[*GOOD[:5], "-cmd"]]), "f.csv", [(2, "placements", "-cmd", "a formula")], id="inject-minus"
    ),
    pytest.param(
        csv_bytes([[*GOOD[:5], "@SUM(1)"]]), "f.csv", [(2, "placements", "@SUM(1)", "a formula")], id="inject-at"
    ),
]


@pytest.mark.parametrize(("content", "file_name", "expected"), BAD_INPUTS)
def test_bad_input_is_reported_and_rejects_the_whole_file(untouched, content, file_name, expected):
    report = validate(content, file_name, today=TODAY)
    assert not report.ok
    rejected = assert_rejected_and_untouched(untouched, content, file_name)
    assert [key(p) for p in rejected.errors] == [key(p) for p in report.errors]
    assert_problems(report.errors, expected)


def test_many_problems_are_all_reported_at_once(untouched):
    content = csv_bytes(
        [
            ["capital-tech", "2025-03", "1", "2", "3", "0", ""],  # unknown id
            ["capital-technology", "2025-13", "1", "2", "3", "0", ""],  # month 13
            ["capital-technology", "March 2025", "1", "2", "3", "0", ""],  # month in words
            ["capital-technology", "2026-12", "1", "2", "3", "0", ""],  # future
            ["capital-technology", "2025-03", "-1", "2.5", "ten", "", ""],  # four bad counts
            ["capital-technology", "2025-04", "1", "2", "3", "0", ""],  # fine
            ["capital-technology", "2025-04", "1", "2", "3", "0", ""],  # duplicate of row 7
            ["", "2025-05", "1", "2", "3", "=1+1", ""],  # blank id, formula
        ],
        header=[*HEADER, "notes"],
    )
    expected = [
        (1, "notes", "notes", "unknown column"),
        (2, "rsp_id", "capital-tech", "did you mean 'capital-technology'"),
        (3, "month", "2025-13", "there is no month 13"),
        (4, "month", "March 2025", "YYYY-MM"),
        (5, "month", "2026-12", "in the future"),
        (6, "employers_engaged", "-1", "negative"),
        (6, "trainees_enrolled", "2.5", "not a whole number"),
        (6, "trainees_completed", "ten", "not a number"),
        (6, "placements", "", "blank"),
        (8, "month", "2025-04", "already on row 7"),
        (9, "rsp_id", "", "blank"),
        (9, "placements", "=1+1", "a formula"),
    ]
    report = validate(content, "many.csv", today=TODAY)
    assert len(report.errors) == 12
    assert_problems(report.errors, expected)
    rejected = assert_rejected_and_untouched(untouched, content, "many.csv")
    assert len(rejected.errors) == 12
    assert rejected.text().startswith("many.csv: 12 error(s), 0 warning(s); nothing was written")
    assert len(rejected.text().splitlines()) == 13


def test_a_count_too_large_to_store_is_a_problem_not_a_crash(untouched):
    """A count no database integer column holds is reported like any other bad cell (no OverflowError)."""
    huge = "1" + "0" * 22
    content = csv_bytes([["northwest-ace", "2022-06", huge, "1", "1", "1"]])
    report = validate(content, "huge.csv", today=TODAY)
    assert [key(p) for p in report.errors] == [(2, "employers_engaged", huge)]
    assert_rejected_and_untouched(untouched, content, "huge.csv")


def test_problem_text_names_row_column_value_and_reason():
    report = validate(csv_bytes([["capital-technology", "2025-13", "1", "2", "3", "0"]]), "f.csv", today=TODAY)
    (problem,) = report.errors
    assert str(problem) == "error: row 2, column month, value '2025-13': there is no month 13: months run 01 to 12"


def test_month_before_today_is_accepted_and_current_month_too():
    for month in ("2026-11", "2000-01"):
        report = validate(csv_bytes([["capital-technology", month, "1", "2", "3", "0"]]), "f.csv", today=TODAY)
        assert report.ok, report.text()


def test_counts_with_thousands_separator_and_point_zero_are_read():
    report = validate(csv_bytes([["capital-technology", "2025-03", "1,234", "2.0", "3", "0"]]), "f.csv", today=TODAY)
    assert report.ok, report.text()
    assert report.rows[0].values == {
        "employers_engaged": 1234,
        "trainees_enrolled": 2,
        "trainees_completed": 3,
        "placements": 0,
    }


# ------------------------------------------------------------------ BOM and Excel


def test_utf8_with_bom_is_accepted_and_imported(store):
    new = {"employers_engaged": 5, "trainees_enrolled": 4, "trainees_completed": 3, "placements": 2}
    content = csv_bytes([row_for("northwest-ace", date(2022, 6, 1), new)], bom=True)
    report = validate(content, "bom.csv", today=TODAY)
    assert report.ok, report.text()
    result = apply_import(store.engine, content, "bom.csv", "tester", today=TODAY)
    assert result.batch_id is not None
    assert metrics(store.engine, "northwest-ace", date(2022, 6, 1)) == new


def test_a_nul_in_the_file_name_or_uploader_imports_the_same_on_every_backend(store):
    """The upload's name comes from the browser and the uploader's from the sign-in: a control
    character in either is metadata, not a reason for a driver error on one backend only.
    (SQLite stores it; PostgreSQL text cannot hold NUL, so the store must clean or refuse it.)"""
    new = {"employers_engaged": 5, "trainees_enrolled": 4, "trainees_completed": 3, "placements": 2}
    content = csv_bytes([row_for("northwest-ace", date(2022, 6, 1), new)])
    before = snapshot(store.engine)
    try:
        result = apply_import(store.engine, content, "june\x00.csv", "tester\x00", today=TODAY)
    except ImportRejected:  # refusing the name as a problem of the file is fine too
        assert snapshot(store.engine) == before
        return
    assert result.batch_id is not None
    assert metrics(store.engine, "northwest-ace", date(2022, 6, 1)) == new


def test_valid_xlsx_imports(store):
    content = xlsx_bytes(
        [
            ["northwest-ace", "2022-05", 5, 4, 3, 2],
            ["northwest-ace", "2022-06", 6, 4, 3, 2],
        ]
    )
    result = apply_import(store.engine, content, "june.xlsx", "tester", today=TODAY)
    assert result.batch_id is not None
    assert len(result.plan.added) == 2
    assert metrics(store.engine, "northwest-ace", date(2022, 6, 1)) == {
        "employers_engaged": 6,
        "trainees_enrolled": 4,
        "trainees_completed": 3,
        "placements": 2,
    }
    assert batches(store.engine)[-1]["file_name"] == "june.xlsx"


def test_xlsx_months_stored_as_dates_are_read_as_year_month(store):
    content = xlsx_bytes(
        [
            ["northwest-ace", datetime(2022, 5, 1), 5, 4, 3, 2],
            ["northwest-ace", date(2022, 6, 1), 6, 4, 3, 2],
        ]
    )
    report = validate(content, "dates.xlsx", today=TODAY)
    assert report.ok, report.text()
    assert [r.month for r in report.rows] == [date(2022, 5, 1), date(2022, 6, 1)]
    apply_import(store.engine, content, "dates.xlsx", "tester", today=TODAY)
    assert fact(store.engine, "northwest-ace", date(2022, 5, 1)) is not None


def test_xlsx_formula_is_rejected_with_its_cell_reference(untouched):
    content = xlsx_bytes([["capital-technology", "2025-03", 1, 2, 3, 0]], setup=lambda s: s.__setitem__("E2", "=1+2"))
    report = assert_rejected_and_untouched(untouched, content, "f.xlsx")
    formula = [p for p in report.errors if "a formula" in p.reason]
    assert [key(p) for p in formula] == [(2, "trainees_completed (cell E2)", "=1+2")]


def test_xlsx_formula_cell_is_not_also_reported_as_blank():
    """The formula cell is reported once, as a formula: it is not blank, so no 'blank' problem for it."""
    content = xlsx_bytes([["capital-technology", "2025-03", 1, 2, 3, 0]], setup=lambda s: s.__setitem__("E2", "=1+2"))
    report = validate(content, "f.xlsx", today=TODAY)
    assert_problems(report.errors, [(2, "trainees_completed (cell E2)", "=1+2", "a formula")])


def test_xlsx_merged_cells_are_rejected_with_the_range(untouched):
    def merge(sheet):
        sheet.merge_cells("C3:D3")

    content = xlsx_bytes(
        [["capital-technology", "2025-03", 1, 2, 3, 0], ["capital-technology", "2025-04", 5, None, 3, 0]], setup=merge
    )
    report = assert_rejected_and_untouched(untouched, content, "m.xlsx")
    merged = [p for p in report.errors if "merged cells" in p.reason]
    assert [key(p) for p in merged] == [(3, "", "C3:D3")]
    assert all(p.row == 3 for p in report.errors)


# ------------------------------------------------------------------ formula injection and templates


def test_rejected_formula_cells_are_escaped_in_the_downloadable_report():
    dangerous = [INJECTION, "@SUM(1)", "+1", "-cmd", "=1+2"]
    content = csv_bytes(
        [
            [INJECTION, "2025-03", "1", "2", "3", "0"],
            ["capital-technology", "2025-03", "@SUM(1)", "+1", "-cmd", "=1+2"],
        ]
    )
    report = validate(content, "inject.csv", today=TODAY)
    assert not report.ok
    values = [p.value for p in report.problems]
    for cell in dangerous:
        assert cell in values
        assert repr(cell) in report.text()

    header_injection = "=cmd|' /C calc'!A0"
    with_bad_header = csv_bytes([[*GOOD, "x"]], header=[*HEADER, header_injection])
    header_report = validate(with_bad_header, "inject.csv", today=TODAY)
    assert [key(p) for p in header_report.errors] == [(1, header_injection.lower(), header_injection)]
    report.problems.extend(header_report.problems)
    dangerous += [header_injection, header_injection.lower()]

    frame = pd.DataFrame(
        [{"row": p.row, "column": p.column, "value": p.value, "reason": p.reason} for p in report.problems]
    )
    out = safe_csv(frame)
    assert out.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(out.decode("utf-8-sig"))))
    assert rows[0] == ["row", "column", "value", "reason"]
    written = [r[2] for r in rows[1:]] + [r[1] for r in rows[1:]]
    for cell in dangerous:
        assert "'" + cell in written
        assert cell not in written
    for r in rows:
        for cell in r:
            assert not cell.startswith(("=", "+", "-", "@")), cell


def test_template_csv_has_the_header_and_all_14_ids():
    ids = [p.id for p in registry().partnerships]
    assert len(ids) == 14
    content = template_csv("2026-10")
    assert content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert rows[0] == TEMPLATE_HEADER
    assert [r[0] for r in rows[1:]] == ids
    assert {r[1] for r in rows[1:]} == {"2026-10"}
    assert all(r[2:] == [""] * (4 + len(OPTIONAL_KEYS)) for r in rows[1:])


def test_template_csv_filled_in_validates():
    rows = list(csv.reader(io.StringIO(template_csv("2026-10").decode("utf-8-sig"))))
    # The optional columns may stay blank.
    filled = [[*r[:2], "0", "0", "0", "0", *[""] * len(OPTIONAL_KEYS)] for r in rows[1:]]
    report = validate(b"\xef\xbb\xbf" + csv_bytes(filled, header=rows[0]), "filled.csv", today=TODAY)
    assert report.ok, report.text()
    assert len(report.rows) == 14


def test_template_xlsx_has_the_header_and_all_14_ids():
    ids = [p.id for p in registry().partnerships]
    book = load_workbook(io.BytesIO(template_xlsx("2026-10")))
    sheet = book.worksheets[0]
    rows = [[c.value for c in r] for r in sheet.iter_rows()]
    assert rows[0] == TEMPLATE_HEADER
    assert [r[0] for r in rows[1:]] == ids
    assert {r[1] for r in rows[1:]} == {"2026-10"}
    # Filled in with zeros, the template validates.
    for r in range(2, 16):
        for c in range(3, 7):
            sheet.cell(r, c, 0)
    out = io.BytesIO()
    book.save(out)
    report = validate(out.getvalue(), "template.xlsx", today=TODAY)
    assert report.ok, report.text()
    assert len(report.rows) == 14


# ------------------------------------------------------------------ warnings


def test_warnings_are_shown_but_do_not_block(store):
    content = csv_bytes(
        [
            ["northwest-ace", "2022-04", "10", "5", "1", "2"],
            ["northwest-ace", "2022-05", "20", "5", "1", "2"],  # employers 10 -> 20
            ["northwest-ace", "2022-06", "20", "5", "1", "2"],  # Q2: 6 placed, 3 completed
        ]
    )
    report = validate(content, "warn.csv", today=TODAY)
    assert report.ok
    plan = plan_import(store.engine, report)
    assert len(plan.added) == 3
    assert all(p.severity == "warning" for p in report.warnings)
    assert_problems(
        report.warnings,
        [
            (2, "placements", "6", "places 6 people in 2022 Q2 but only 3 completed training"),
            (3, "employers_engaged", "20", "from 10 employers in 2022-04 to 20"),
        ],
    )
    result = apply_import(store.engine, content, "warn.csv", "tester", today=TODAY)
    assert result.batch_id is not None
    assert len(result.plan.report.warnings) == 2
    assert result.plan.report.errors == []
    assert metrics(store.engine, "northwest-ace", date(2022, 5, 1))["employers_engaged"] == 20
    assert batches(store.engine)[-1]["note"] == "2 warning(s)"


def test_employer_drop_by_more_than_half_warns(store):
    prev = metrics(store.engine, "capital-technology", date(2025, 3, 1))
    current = metrics(store.engine, "capital-technology", date(2025, 4, 1))
    low = prev["employers_engaged"] // 2 - 1
    content = csv_bytes([row_for("capital-technology", date(2025, 4, 1), {**current, "employers_engaged": low})])
    result = apply_import(store.engine, content, "drop.csv", "tester", today=TODAY)
    jumps = [p for p in result.plan.report.warnings if p.column == "employers_engaged"]
    assert [(p.row, p.value, p.severity) for p in jumps] == [(2, str(low), "warning")]
    assert result.batch_id is not None


# ------------------------------------------------------------------ corrections and rollback

MAR, APR = date(2025, 3, 1), date(2025, 4, 1)
ACE_JUNE = date(2022, 6, 1)  # before northwest-ace's first demo month
ACE_NEW = {"employers_engaged": 7, "trainees_enrolled": 3, "trainees_completed": 2, "placements": 1}


def _correction_file(engine) -> tuple[bytes, dict, dict]:
    old = {MAR: metrics(engine, "capital-technology", MAR), APR: metrics(engine, "capital-technology", APR)}
    new = {MAR: shifted(old[MAR], 3), APR: {**old[APR], "placements": old[APR]["placements"] + 1}}
    content = csv_bytes(
        [
            row_for("capital-technology", MAR, new[MAR]),
            row_for("capital-technology", APR, new[APR]),
            row_for("northwest-ace", ACE_JUNE, ACE_NEW),
        ]
    )
    return content, old, new


def test_correction_then_rollback_restores_the_exact_prior_values(store):
    engine = store.engine
    demo = {month: demo_batch_id(engine, "capital-technology", month) for month in (MAR, APR)}
    assert demo[MAR] != demo[APR]  # sent a month apart
    assert fact(engine, "northwest-ace", ACE_JUNE) is None
    content, old, new = _correction_file(engine)
    before = snapshot(engine)

    plan = plan_import(engine, validate(content, "fix.csv", today=TODAY))
    assert [(c.rsp_id, c.month, c.old, c.new, c.old_batch_id) for c in plan.added] == [
        ("northwest-ace", ACE_JUNE, None, ACE_NEW, None)
    ]
    assert [(c.rsp_id, c.month, c.old, c.new, c.old_batch_id) for c in plan.changed] == [
        ("capital-technology", MAR, old[MAR], new[MAR], demo[MAR]),
        ("capital-technology", APR, old[APR], new[APR], demo[APR]),
    ]
    assert plan.summary() == "1 row(s) to add, 2 to change, 0 unchanged."
    assert snapshot(engine) == before  # planning writes nothing

    result = apply_import(engine, content, "fix.csv", "Alice", today=TODAY)
    batch = result.batch_id
    assert batch is not None and batch not in demo.values()
    assert result.message == f"Imported as batch {batch}: 1 row(s) added, 2 changed."
    assert fact(engine, "capital-technology", MAR) == {**new[MAR], "batch_id": batch}
    assert fact(engine, "capital-technology", APR) == {**new[APR], "batch_id": batch}
    assert fact(engine, "northwest-ace", ACE_JUNE) == {**ACE_NEW, "batch_id": batch}

    record = batches(engine)[-1]
    assert record["batch_id"] == batch
    assert record["kind"] == "import"
    assert record["file_name"] == "fix.csv"
    assert record["checksum"] == hashlib.sha256(content).hexdigest()
    assert record["loaded_by"] == "Alice"
    assert record["loaded_at"] is not None
    assert (record["rows_added"], record["rows_changed"]) == (1, 2)
    assert record["rolled_back_at"] is None

    def entry(rsp_id, month, action, old_batch, old_values, new_values):
        return {
            "batch_id": batch,
            "rsp_id": rsp_id,
            "month": month,
            "action": action,
            "old_batch_id": old_batch,
            **{f"old_{m}": (old_values or {}).get(m) for m in REQUIRED_KEYS},
            **{f"new_{m}": new_values[m] for m in REQUIRED_KEYS},
            # The optional metrics were not in these files: nothing recorded for them.
            **{f"{side}_{m}": None for side in ("old", "new") for m in OPTIONAL_KEYS},
        }

    assert history(engine, batch) == [
        entry("capital-technology", MAR, "changed", demo[MAR], old[MAR], new[MAR]),
        entry("capital-technology", APR, "changed", demo[APR], old[APR], new[APR]),
        entry("northwest-ace", ACE_JUNE, "added", None, None, ACE_NEW),
    ]

    assert rollback(engine, batch, "Bob") == 3
    after = snapshot(engine)
    assert after["monthly_metrics"] == before["monthly_metrics"]  # exact values and batch ids
    for name in ("regions", "sectors", "partnerships"):
        assert after[name] == before[name]
    assert fact(engine, "capital-technology", MAR) == {**old[MAR], "batch_id": demo[MAR]}
    assert fact(engine, "capital-technology", APR) == {**old[APR], "batch_id": demo[APR]}
    assert fact(engine, "northwest-ace", ACE_JUNE) is None
    rolled = batches(engine)
    assert [b for b in rolled if b["batch_id"] != batch] == [b for b in batches_from(before) if b["batch_id"] != batch]
    (mine,) = [b for b in rolled if b["batch_id"] == batch]
    assert mine["rolled_back_at"] is not None
    assert mine["rolled_back_by"] == "Bob"


def batches_from(snap) -> list[dict]:
    names = [c.name for c in schema.import_batches.columns]
    return sorted((dict(zip(names, r, strict=True)) for r in snap["import_batches"]), key=lambda b: b["batch_id"])


def test_rollback_refused_for_unknown_demo_and_already_rolled_back(store):
    engine = store.engine
    content, _, _ = _correction_file(engine)
    batch = apply_import(engine, content, "fix.csv", "tester", today=TODAY).batch_id
    rollback(engine, batch, "tester")
    before = snapshot(engine)
    with pytest.raises(RollbackRefused, match="there is no batch 999"):
        rollback(engine, 999, "tester")
    demo = sorted(b["batch_id"] for b in batches(engine) if b["kind"] == "demo")
    for batch_id in (demo[0], demo[-1]):  # the first and the last of the demo's batches
        with pytest.raises(RollbackRefused, match=rf"batch {batch_id} is the demo data, not an import"):
            rollback(engine, batch_id, "tester")
    with pytest.raises(RollbackRefused, match=rf"batch {batch} was already rolled back"):
        rollback(engine, batch, "tester")
    assert snapshot(engine) == before


def test_rollback_refused_when_a_later_batch_changed_the_rows(store):
    engine = store.engine
    original = snapshot(engine)["monthly_metrics"]
    base = metrics(engine, "capital-technology", MAR)
    first = apply_import(
        engine, csv_bytes([row_for("capital-technology", MAR, shifted(base, 1))]), "a.csv", "t", today=TODAY
    ).batch_id
    second = apply_import(
        engine, csv_bytes([row_for("capital-technology", MAR, shifted(base, 2))]), "b.csv", "t", today=TODAY
    ).batch_id
    assert first is not None and second is not None and second != first
    assert history(engine, second)[0]["old_trainees_enrolled"] == base["trainees_enrolled"] + 1
    assert history(engine, second)[0]["old_batch_id"] == first

    before = snapshot(engine)
    with pytest.raises(RollbackRefused) as refused:
        rollback(engine, first, "t")
    assert f"batch {second} has since changed rows that batch {first} wrote" in str(refused.value)
    assert f"roll back batch {second} first" in str(refused.value)
    assert snapshot(engine) == before

    rollback(engine, second, "t")
    assert fact(engine, "capital-technology", MAR) == {**shifted(base, 1), "batch_id": first}
    rollback(engine, first, "t")
    assert snapshot(engine)["monthly_metrics"] == original


# ------------------------------------------------------------------ idempotency


def test_importing_the_same_file_twice_changes_nothing_and_says_so(store):
    engine = store.engine
    content, _, _ = _correction_file(engine)
    first = apply_import(engine, content, "fix.csv", "tester", today=TODAY)
    assert first.batch_id is not None
    before = snapshot(engine)

    again = apply_import(engine, content, "fix (copy).csv", "tester", today=TODAY)
    assert again.batch_id is None
    assert f"already imported as batch {first.batch_id}" in again.message
    assert "nothing to change" in again.message
    after = snapshot(engine)
    after.pop("import_lock"), before.pop("import_lock")
    assert after == before
    assert plan_import(engine, validate(content, "fix.csv", today=TODAY)).already_imported == first.batch_id


def test_a_file_matching_the_store_says_nothing_to_change_and_creates_no_batch(store):
    engine = store.engine
    rows = [
        row_for(rsp_id, month, metrics(engine, rsp_id, month))
        for rsp_id, month in (
            ("capital-technology", MAR),
            ("eastern-healthcare", MAR),
            ("northwest-ace", date(2024, 1, 1)),
        )
    ]
    before = snapshot(engine)
    result = apply_import(engine, csv_bytes(rows), "same.csv", "tester", today=TODAY)
    assert result.batch_id is None
    assert "nothing to change" in result.message
    assert result.message == "Every one of the 3 rows matches the store: nothing to change."
    after = snapshot(engine)
    after.pop("import_lock"), before.pop("import_lock")
    assert after == before


def test_after_rollback_the_same_file_can_be_imported_again(store):
    engine = store.engine
    content, _, new = _correction_file(engine)
    first = apply_import(engine, content, "fix.csv", "tester", today=TODAY).batch_id
    rollback(engine, first, "tester")
    again = apply_import(engine, content, "fix.csv", "tester", today=TODAY)
    assert again.batch_id is not None and again.batch_id != first
    assert (len(again.plan.added), len(again.plan.changed)) == (1, 2)
    assert fact(engine, "capital-technology", MAR) == {**new[MAR], "batch_id": again.batch_id}


# ------------------------------------------------------------------ two imports at once


def test_two_imports_at_once_do_not_interleave(store):
    shared = ("capital-technology", MAR)
    shared_demo = demo_batch_id(store.engine, *shared)
    base = {
        k: metrics(store.engine, *k) for k in (shared, ("eastern-healthcare", MAR), ("south-central-healthcare", MAR))
    }
    files = {
        "a.csv": {
            shared: shifted(base[shared], 10),
            ("eastern-healthcare", MAR): shifted(base[("eastern-healthcare", MAR)], 10),
            ("northwest-ace", date(2022, 1, 1)): ACE_NEW,
        },
        "b.csv": {
            shared: shifted(base[shared], 20),
            ("south-central-healthcare", MAR): shifted(base[("south-central-healthcare", MAR)], 20),
            ("northwest-ace", date(2022, 2, 1)): ACE_NEW,
        },
    }
    contents = {name: csv_bytes([row_for(*k, v) for k, v in rows.items()]) for name, rows in files.items()}
    barrier = threading.Barrier(2)
    results: dict[str, object] = {}
    spans: dict[str, list[float]] = {}

    def run(name):
        engine = make_engine(store.url)  # the app's own engine settings, one per importer

        def progress(fraction, message):
            if message.startswith("Compared 0 "):  # first step under the import lock
                spans[name] = [time.monotonic()]
            if message.startswith("Writing 0 "):
                time.sleep(0.5)  # hold the lock a while, so the other import must wait for it
            if message == "Done":
                spans[name].append(time.monotonic())

        try:
            barrier.wait(timeout=10)
            results[name] = apply_import(engine, contents[name], name, f"thread {name}", today=TODAY, progress=progress)
        except Exception as exc:  # reported below
            results[name] = exc
        finally:
            engine.dispose()

    threads = [threading.Thread(target=run, args=(name,)) for name in files]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    for name in files:
        assert not isinstance(results[name], Exception), f"{name}: {results[name]!r}"
        assert results[name].batch_id is not None

    order = sorted(files, key=lambda n: results[n].batch_id)
    first, second = order
    (s1, e1), (s2, e2) = spans[first], spans[second]
    assert s1 < e1 <= s2 < e2, "the second import ran its transaction while the first was still in its own"

    engine = store.engine
    ids = {name: results[name].batch_id for name in files}
    for name, rows in files.items():
        assert {(h["rsp_id"], h["month"]) for h in history(engine, ids[name])} == set(rows)
    # The serial order first -> second: the shared row holds second's values, its history saw first's.
    assert fact(engine, *shared) == {**files[second][shared], "batch_id": ids[second]}
    (h_first,) = [h for h in history(engine, ids[first]) if (h["rsp_id"], h["month"]) == shared]
    (h_second,) = [h for h in history(engine, ids[second]) if (h["rsp_id"], h["month"]) == shared]
    assert h_first["old_batch_id"] == shared_demo
    assert {m: h_first[f"old_{m}"] for m in REQUIRED_KEYS} == base[shared]
    assert h_second["old_batch_id"] == ids[first]
    assert {m: h_second[f"old_{m}"] for m in REQUIRED_KEYS} == files[first][shared]
    assert results[second].plan.changed[0].old == files[first][shared]
    for name, rows in files.items():
        for k, v in rows.items():
            if k != shared:
                assert fact(engine, *k) == {**v, "batch_id": ids[name]}


def test_a_second_import_waits_for_a_long_first_one(store):
    """The second writer queues behind the import lock for as long as the first holds it.

    The longest valid file (every partnership, every month since 2000: ~4,500 rows) takes about
    9 s to import on the development machine; a 6 s pause inside the first transaction stands for it
    on SQLite, longer than the driver's default 5 s wait for the file's write lock. PostgreSQL has
    no such limit (the second writer waits on the lock row until the first commits): 2 s show it.
    """
    pause = 6 if store.path else 2
    base = metrics(store.engine, "capital-technology", MAR)
    first_file = csv_bytes([row_for("capital-technology", MAR, shifted(base, 1))])
    second_file = csv_bytes([row_for("capital-technology", MAR, shifted(base, 2))])
    holding = threading.Event()
    results: dict[str, object] = {}

    def first_progress(fraction, message):
        if message.startswith("Writing 0 "):
            holding.set()
            time.sleep(pause)

    def run(name, content, progress, wait_for=None):
        engine = make_engine(store.url)  # the app's own engine settings
        try:
            if wait_for is not None:
                assert wait_for.wait(timeout=20)
            results[name] = apply_import(engine, content, name, name, today=TODAY, progress=progress)
        except Exception as exc:  # reported below
            results[name] = exc
        finally:
            engine.dispose()

    threads = [
        threading.Thread(target=run, args=("first.csv", first_file, first_progress)),
        threading.Thread(target=run, args=("second.csv", second_file, no_progress, holding)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    for name in ("first.csv", "second.csv"):
        assert not isinstance(results[name], Exception), f"{name} failed: {results[name]!r}"
    first, second = results["first.csv"].batch_id, results["second.csv"].batch_id
    assert first is not None and second == first + 1
    assert fact(store.engine, "capital-technology", MAR) == {**shifted(base, 2), "batch_id": second}
    assert history(store.engine, second)[0]["old_batch_id"] == first


# ------------------------------------------------------------------ a crash part-way


def _crash_file(engine) -> tuple[bytes, int, int]:
    rows, changes, adds = [], 0, 0
    for i in range(30):  # existing demo rows of eastern-manufacturing, 2013-01 on: changes
        month = date(2013 + i // 12, i % 12 + 1, 1)
        rows.append(row_for("eastern-manufacturing", month, shifted(metrics(engine, "eastern-manufacturing", month))))
        changes += 1
    for i in range(30):  # northwest-ace before its first demo month: adds
        month = date(2020 + i // 12, i % 12 + 1, 1)
        assert fact(engine, "northwest-ace", month) is None
        rows.append(row_for("northwest-ace", month, ACE_NEW))
        adds += 1
    rows.sort(key=lambda r: (r[1], r[0]))  # adds and changes mixed
    return csv_bytes(rows), adds, changes


def test_a_killed_import_leaves_the_store_exactly_as_it_was(store, tmp_path):
    content, adds, changes = _crash_file(store.engine)
    path = tmp_path / "crash.csv"
    path.write_bytes(content)
    before = snapshot(store.engine)
    store.engine.dispose()

    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.paused_import", "import", str(path), "--url", store.url, "--by", "crash test"],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True)
    reader.start()
    seen = []
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=0.5)
            except queue.Empty:
                assert proc.poll() is None, f"import ended early: {proc.returncode} {seen} {proc.stderr.read()}"
                continue
            seen.append(line)
            if f"paused with {adds + changes} rows written" in line:
                break
        else:
            pytest.fail(f"the import never paused: {seen}")
        # Part-way: every row written in the open transaction, none visible to anyone else.
        watcher = make_engine(store.url)
        assert snapshot(watcher) == before
        watcher.dispose()
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        proc.stdout.close()
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL

    after_engine = make_engine(store.url)
    assert snapshot(after_engine) == before

    result = apply_import(after_engine, content, "crash.csv", "tester", today=TODAY)
    assert result.batch_id is not None
    assert (len(result.plan.added), len(result.plan.changed)) == (adds, changes)
    assert len(history(after_engine, result.batch_id)) == adds + changes
    after_engine.dispose()


# ------------------------------------------------------------------ optional quality and reach metrics

# The optional metrics these files state (a file may leave any optional column out).
OPT = ("avg_starting_wage", "placements_no_bachelor", "wbl_started", "trainees_underrepresented")
OPT_HEADER = [*HEADER, *OPT]


def optional_values(engine: Engine, rsp_id: str, month: date) -> dict:
    facts = schema.monthly_metrics
    with engine.connect() as conn:
        row = conn.execute(select(facts).where(facts.c.rsp_id == rsp_id, facts.c.month == month)).mappings().one()
    return {m: row[m] for m in OPT}


def rollups_in_step(engine: Engine) -> None:
    from rsp_data import rollups

    with engine.connect() as conn:
        assert rollups.check(conn) == []


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        pytest.param(["abc", "", "", ""], [(2, "avg_starting_wage", "abc", "not a number")], id="wage-text"),
        pytest.param(["5.00", "", "", ""], [(2, "avg_starting_wage", "5.00", "outside $7.25")], id="wage-low"),
        pytest.param(["650", "", "", ""], [(2, "avg_starting_wage", "650", "outside $7.25")], id="wage-high"),
        pytest.param(["18.555", "", "", ""], [(2, "avg_starting_wage", "18.555", "two decimals")], id="wage-cents"),
        pytest.param(["-18", "", "", ""], [(2, "avg_starting_wage", "-18", "negative")], id="wage-negative"),
        pytest.param(["=A1", "", "", ""], [(2, "avg_starting_wage", "=A1", "formula")], id="wage-formula"),
        pytest.param(
            ["", "3", "", ""],
            [(2, "placements_no_bachelor", "3", "more than the row's 2 placements")],
            id="no-bachelor-above-placements",
        ),
        pytest.param(["", "", "-1", ""], [(2, "wbl_started", "-1", "negative")], id="wbl-negative"),
        pytest.param(
            ["", "", "", "2.5"],
            [(2, "trainees_underrepresented", "2.5", "not a whole number")],
            id="underrepresented-fraction",
        ),
    ],
)
def test_bad_optional_values_are_reported_with_row_column_and_reason(untouched, cells, expected):
    content = csv_bytes([["capital-technology", "2025-03", "40", "10", "5", "2", *cells]], header=OPT_HEADER)
    report = assert_rejected_and_untouched(untouched, content, "optional.csv")
    assert_problems(report.problems, expected)


def test_a_wage_with_no_placements_is_an_error(untouched):
    # Averaged weighted by placements, a wage with 0 placements would carry no weight: rejected.
    content = csv_bytes(
        [["capital-technology", "2025-03", "40", "10", "5", "0", "19.00", "", "", ""]], header=OPT_HEADER
    )
    report = assert_rejected_and_untouched(untouched, content, "optional.csv")
    assert_problems(report.problems, [(2, "avg_starting_wage", "19.00", "with 0 placements")])


def test_optional_values_are_read_and_blank_cells_are_not_reported():
    content = csv_bytes(
        [
            ["capital-technology", "2025-03", "40", "10", "5", "4", "$18.5", "3", "0", "7"],
            ["capital-technology", "2025-04", "40", "10", "5", "4", "", "", "", ""],
        ],
        header=OPT_HEADER,
    )
    report = validate(content, "optional.csv", today=TODAY)
    assert report.ok, report.text()
    first, second = report.rows
    assert first.values == {
        "employers_engaged": 40,
        "trainees_enrolled": 10,
        "trainees_completed": 5,
        "placements": 4,
        "avg_starting_wage": 18.5,
        "placements_no_bachelor": 3,
        "wbl_started": 0,
        "trainees_underrepresented": 7,
    }
    assert set(second.values) == set(REQUIRED_KEYS)
    # Some optional columns only, in any order, are fine too.
    partial = csv_bytes([["7", "capital-technology", "2025-03", "40", "10", "5", "4"]], header=["wbl_started", *HEADER])
    (row,) = validate(partial, "partial.csv", today=TODAY).rows
    assert row.values["wbl_started"] == 7 and "avg_starting_wage" not in row.values


def test_optional_values_survive_files_that_omit_them_and_rollback_restores_them_exactly(store):
    """The rule: a file changes only the optional metrics it states. A missing column or a blank cell
    keeps the stored value; rollback puts back exactly what each batch overwrote."""
    engine = store.engine
    demo = demo_batch_id(engine, "capital-technology", APR)
    before = snapshot(engine)
    demo_optional = optional_values(engine, "capital-technology", APR)
    assert demo_optional["avg_starting_wage"] is not None  # the demo data reports it here
    base = metrics(engine, "capital-technology", APR)

    # 1. A file stating every optional metric.
    stated = {"avg_starting_wage": 31.25, "placements_no_bachelor": 1, "wbl_started": 2, "trainees_underrepresented": 3}
    first = csv_bytes(
        [["capital-technology", "2025-04", *(str(base[m]) for m in REQUIRED_KEYS), "31.25", "1", "2", "3"]],
        header=OPT_HEADER,
    )
    plan = plan_import(engine, validate(first, "first.csv", today=TODAY))
    (change,) = plan.changed
    assert change.old == {**base, **demo_optional}
    assert change.new == {**base, **stated}
    b1 = apply_import(engine, first, "first.csv", "Alice", today=TODAY).batch_id
    assert optional_values(engine, "capital-technology", APR) == stated
    (h1,) = history(engine, b1)
    assert {m: h1[f"old_{m}"] for m in OPT} == demo_optional
    assert {m: h1[f"new_{m}"] for m in OPT} == stated
    rollups_in_step(engine)

    # 2. A correction of the base figures without the optional columns: they stay as they are.
    corrected = shifted(base, 2)
    second = csv_bytes([row_for("capital-technology", APR, corrected)])
    b2 = apply_import(engine, second, "second.csv", "Bob", today=TODAY).batch_id
    assert metrics(engine, "capital-technology", APR) == corrected
    assert optional_values(engine, "capital-technology", APR) == stated
    (h2,) = history(engine, b2)
    assert all(h2[f"{side}_{m}"] is None for side in ("old", "new") for m in OPTIONAL_KEYS)

    # 3. The same with the optional columns present but blank: nothing is erased either.
    third = csv_bytes(
        [["capital-technology", "2025-04", *(str(base[m]) for m in REQUIRED_KEYS), "", "", "", ""]],
        header=OPT_HEADER,
    )
    b3 = apply_import(engine, third, "third.csv", "Carol", today=TODAY).batch_id
    assert metrics(engine, "capital-technology", APR) == base
    assert optional_values(engine, "capital-technology", APR) == stated
    rollups_in_step(engine)

    # Rolling back, newest first, restores each step exactly, down to the demo values.
    rollback(engine, b3, "Dan")
    assert metrics(engine, "capital-technology", APR) == corrected
    assert optional_values(engine, "capital-technology", APR) == stated
    rollback(engine, b2, "Dan")
    assert metrics(engine, "capital-technology", APR) == base
    assert optional_values(engine, "capital-technology", APR) == stated
    rollback(engine, b1, "Dan")
    assert fact(engine, "capital-technology", APR)["batch_id"] == demo
    assert optional_values(engine, "capital-technology", APR) == demo_optional
    assert snapshot(engine)["monthly_metrics"] == before["monthly_metrics"]
    rollups_in_step(engine)


def test_a_new_row_without_optional_values_stores_null_and_rolls_back(store):
    engine = store.engine
    content = csv_bytes([row_for("northwest-ace", ACE_JUNE, ACE_NEW)])
    batch = apply_import(engine, content, "ace.csv", "Alice", today=TODAY).batch_id
    assert optional_values(engine, "northwest-ace", ACE_JUNE) == dict.fromkeys(OPT)
    with_wage = csv_bytes(
        [["northwest-ace", "2022-06", *(str(ACE_NEW[m]) for m in REQUIRED_KEYS), "24.10", "", "", "2"]],
        header=OPT_HEADER,
    )
    second = apply_import(engine, with_wage, "ace2.csv", "Alice", today=TODAY)
    (change,) = second.plan.changed
    assert change.old == {**ACE_NEW, "avg_starting_wage": None, "trainees_underrepresented": None}
    assert optional_values(engine, "northwest-ace", ACE_JUNE) == {
        "avg_starting_wage": 24.1,
        "placements_no_bachelor": None,
        "wbl_started": None,
        "trainees_underrepresented": 2,
    }
    rollback(engine, second.batch_id, "Bob")
    assert optional_values(engine, "northwest-ace", ACE_JUNE) == dict.fromkeys(OPT)
    rollback(engine, batch, "Bob")
    assert fact(engine, "northwest-ace", ACE_JUNE) is None
    rollups_in_step(engine)


def test_same_optional_values_are_unchanged_rows(store):
    engine = store.engine
    base = metrics(engine, "capital-technology", APR)
    wage = optional_values(engine, "capital-technology", APR)["avg_starting_wage"]
    content = csv_bytes(
        [["capital-technology", "2025-04", *(str(base[m]) for m in REQUIRED_KEYS), f"{wage:.2f}", "", "", ""]],
        header=OPT_HEADER,
    )
    plan = plan_import(engine, validate(content, "same.csv", today=TODAY))
    assert [c.action for c in plan.changes] == ["same"]


def test_templates_list_only_the_partnerships_asked_for():
    ids = ["capital-technology", "eastern-healthcare"]
    rows = list(csv.reader(io.StringIO(template_csv("2026-10", rsp_ids=ids).decode("utf-8-sig"))))
    assert [r[0] for r in rows[1:]] == ids
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(template_xlsx("2026-10", rsp_ids=ids[:1])))
    assert [c.value for c in book["monthly figures"]["A"]][1:] == ids[:1]
    assert [c.value for c in book["partnerships"]["A"]][1:] == ids[:1]

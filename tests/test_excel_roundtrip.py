"""The monthly round trip through Excel, as conveners do it (rsp_data/imports/read.py and templates.py).

Typing 2026-11 into a CSV opened in Excel stores a date (1 November 2026); saving as CSV writes it back as
`Nov-26` (or `11/1/2026`). Those renderings of a first-of-month date are read as their month, with a warning
naming the month read; any other date or month text is refused. The files here are shaped as Excel writes
them: CRLF line endings, with or without a UTF-8 BOM, quoted numbers with thousands separators. The Excel
template keeps the month as text, offers the partnerships as a drop-down, checks numbers as they are typed,
freezes its header and carries instructions. Tests that write run on SQLite and PostgreSQL (`demo_template`).
"""

from __future__ import annotations

import io
from datetime import date, datetime

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from rsp_data import schema
from rsp_data.imports.apply import apply_import
from rsp_data.imports.read import ALL_COLUMNS, MAX_COUNT, validate
from rsp_data.imports.templates import template_xlsx
from rsp_data.metrics import METRICS, OPTIONAL_KEYS, REQUIRED_KEYS, STORED_KEYS
from rsp_data.registry import registry
from rsp_data.store import make_engine
from tests.store_helpers import copy_store, drop_store, run_cli

TODAY = date(2026, 12, 5)
NOV = date(2026, 11, 1)
HEADER = "rsp_id,month,employers_engaged,trainees_enrolled,trainees_completed,placements"


def excel_csv(*rows: str, bom: bool = True) -> bytes:
    """A CSV as Excel saves it: the header and `rows` (written as Excel writes them), CRLF, BOM for "CSV UTF-8"."""
    text = "".join(f"{line}\r\n" for line in (HEADER, *rows))
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")


def lines(problems) -> list[str]:
    return [str(p) for p in problems]


# ------------------------------------------------------------------ Excel's month renderings


@pytest.mark.parametrize("bom", [True, False], ids=["csv-utf8-bom", "csv-no-bom"])
@pytest.mark.parametrize(
    ("written", "form"),
    [
        ("Nov-26", "Excel's date form"),  # Excel's default for a typed 2026-11 (mmm-yy)
        ("Nov-2026", "Excel's date form"),
        ("11/1/2026", "Excel's date form, month/day/year"),  # the US short date, day 1
        ("11/1/26", "Excel's date form, month/day/year"),
        ("2026-11-01", "a date"),  # Excel set to ISO dates
    ],
)
def test_excel_renderings_of_a_first_of_month_are_read_and_the_month_read_is_named(bom, written, form):
    content = excel_csv(
        f"capital-technology,{written},52,40,31,22",
        f"northwest-ace,{written},6,4,3,2",
        bom=bom,
    )
    assert b"\r\n" in content and content.startswith(b"\xef\xbb\xbf") == bom
    report = validate(content, "november.csv", today=TODAY)
    assert report.ok, report.text()
    assert [(r.line, r.rsp_id, r.month) for r in report.rows] == [
        (2, "capital-technology", NOV),
        (3, "northwest-ace", NOV),
    ]
    assert report.rows[0].values == dict(zip(REQUIRED_KEYS, (52, 40, 31, 22), strict=True))
    # One notice for the two rows: which month was read, from which cell text.
    assert lines(report.problems) == [
        f"warning: row 2, column month, value '{written}': read as 2026-11 ({form}): 2 rows, from row 2"
    ]


def test_yyyy_mm_needs_no_notice_and_one_notice_names_each_form():
    content = excel_csv(
        "capital-technology,2026-10,52,40,31,22",
        "capital-technology,Nov-26,52,40,31,22",
        "northwest-ace,11/1/2026,6,4,3,2",
        "northwest-ace,Sep-26,6,4,3,2",
    )
    report = validate(content, "mixed.csv", today=TODAY)
    assert report.ok, report.text()
    assert [r.month for r in report.rows] == [date(2026, 10, 1), NOV, NOV, date(2026, 9, 1)]
    assert lines(report.warnings) == [
        "warning: row 3, column month, value 'Nov-26': read as 2026-11 (Excel's date form)",
        "warning: row 4, column month, value '11/1/2026': read as 2026-11 (Excel's date form, month/day/year)",
        "warning: row 5, column month, value 'Sep-26': read as 2026-09 (Excel's date form)",
    ]


def test_the_same_month_in_two_forms_is_one_month_twice():
    content = excel_csv("capital-technology,2026-11,52,40,31,22", "capital-technology,Nov-26,52,40,31,22")
    report = validate(content, "twice.csv", today=TODAY)
    assert lines(report.errors) == [
        "error: row 3, column month, value '2026-11': capital-technology 2026-11 is already on row 2"
    ]


@pytest.mark.parametrize(
    ("written", "reason"),
    [
        ("2025-13", "there is no month 13: months run 01 to 12"),
        ("March 2025", "months are written YYYY-MM: write 2025-03"),  # typed as text, not Excel's rendering
        ("Mar 2025", "months are written YYYY-MM: write 2025-03"),
        ("11/2/2026", "November 2, 2026 (read month/day/year), not a month's first day: write the month you mean"),
        # Day 11 read month/day/year; as day/month/year it would be 1 November: ambiguous, so refused.
        ("1/11/2026", "January 11, 2026 (read month/day/year), not a month's first day: write the month you mean"),
        ("01/11/2026", "January 11, 2026 (read month/day/year), not a month's first day"),
        ("13/1/2026", "dates with slashes are read month/day/year, as Excel in the US writes them: write YYYY-MM"),
        ("2026-11-15", "a date, not a month: write the month as YYYY-MM, e.g. 2026-11"),
        ("Nov 26", "months are written YYYY-MM, e.g. 2025-03"),  # not a form Excel writes
        ("26-Nov", "months are written YYYY-MM, e.g. 2025-03"),  # Excel's d-mmm: the 26th of November
        ("Jan-27", "the month is in the future (today is 2026-12-05)"),
        ("Nov-1999", "the year is before 2000"),
        ("Foo-26", "months are written YYYY-MM, e.g. 2025-03"),
    ],
)
def test_other_dates_and_month_texts_are_refused_with_the_reason(written, reason):
    content = excel_csv(f"capital-technology,{written},52,40,31,22")
    report = validate(content, "bad.csv", today=TODAY)
    assert not report.ok
    assert report.rows == [] and report.warnings == []
    (problem,) = report.errors
    assert (problem.row, problem.column, problem.value) == (2, "month", written)
    assert problem.reason.startswith(reason), problem.reason


# ------------------------------------------------------------------ numbers as Excel writes them


def test_quoted_numbers_with_thousands_separators_are_read_when_unambiguous():
    """Excel writes a cell formatted #,##0 as "1,234" (quoted: it holds a comma). Groups of exactly three
    digits are thousands; anything else with a comma (a decimal comma, a stray one) is refused."""
    content = excel_csv(
        'capital-technology,Nov-26,"1,234","12,345","1,000",999',
        'northwest-ace,Nov-26,"12,34",40,"1.234","1,2345"',
        bom=False,
    )
    report = validate(content, "thousands.csv", today=TODAY)
    assert not report.ok  # row 3 is wrong, so nothing is written; row 2 was read right
    assert [r.line for r in report.rows] == [2]
    assert lines(report.errors) == [
        "error: row 3, column employers_engaged, value '12,34': not a number",
        "error: row 3, column trainees_completed, value '1.234': not a whole number: counts are whole people",
        "error: row 3, column placements, value '1,2345': not a number",
    ]
    assert report.rows[0].values == {
        "employers_engaged": 1234,
        "trainees_enrolled": 12345,
        "trainees_completed": 1000,
        "placements": 999,
    }


def test_a_wage_with_a_decimal_comma_is_refused_and_a_dollar_sign_is_fine():
    header = f"{HEADER},avg_starting_wage"
    rows = ["capital-technology,Nov-26,52,40,31,22,$18.50", 'northwest-ace,Nov-26,6,4,3,2,"18,50"']
    content = "".join(f"{line}\r\n" for line in (header, *rows)).encode("utf-8")
    report = validate(content, "wage.csv", today=TODAY)
    assert lines(report.errors) == [
        "error: row 3, column avg_starting_wage, value '18,50': not a number (write digits, e.g. 18.50)"
    ]
    assert validate(content.replace(b'"18,50"', b"19.25"), "wage.csv", today=TODAY).ok


# ------------------------------------------------------------------ into the store, both backends


@pytest.fixture
def store_url(demo_template, tmp_path):
    url, _ = copy_store(demo_template, tmp_path)
    yield url
    drop_store(url)


def stored(url: str, rsp_id: str, month: date) -> dict:
    engine = make_engine(url)
    facts = schema.monthly_metrics
    try:
        with engine.connect() as conn:
            row = conn.execute(select(facts).where(facts.c.rsp_id == rsp_id, facts.c.month == month)).mappings().one()
    finally:
        engine.dispose()
    return {k: row[k] for k in STORED_KEYS if row[k] is not None}


def test_an_excel_saved_csv_is_written_to_the_month_read(store_url):
    content = excel_csv(
        'capital-technology,Nov-26,52,"1,234",31,22',
        "northwest-ace,11/1/2026,6,4,3,2",
    )
    engine = make_engine(store_url)
    try:
        result = apply_import(engine, content, "november.csv", "tester", today=TODAY)
        with engine.connect() as conn:
            batch = conn.execute(select(schema.import_batches).order_by(schema.import_batches.c.batch_id.desc()))
            note = batch.mappings().first()["note"]
    finally:
        engine.dispose()
    assert result.batch_id is not None
    assert len(result.plan.added) + len(result.plan.changed) == 2
    assert lines(result.plan.report.warnings) == [
        "warning: row 2, column month, value 'Nov-26': read as 2026-11 (Excel's date form)",
        "warning: row 3, column month, value '11/1/2026': read as 2026-11 (Excel's date form, month/day/year)",
    ]
    assert note == "2 warning(s)"  # the batch records them
    assert stored(store_url, "capital-technology", NOV) == dict(zip(REQUIRED_KEYS, (52, 1234, 31, 22), strict=True))
    assert stored(store_url, "northwest-ace", NOV) == dict(zip(REQUIRED_KEYS, (6, 4, 3, 2), strict=True))


def test_the_command_line_says_which_month_it_read(store_url, tmp_path):
    path = tmp_path / "november.csv"
    path.write_bytes(excel_csv("capital-technology,Nov-26,52,40,31,22", "northwest-ace,Nov-26,6,4,3,2"))
    done = run_cli("import", str(path), "--dry-run", "--url", store_url)
    assert done.returncode == 0, done.stderr
    assert "warning: row 2, column month, value 'Nov-26': read as 2026-11 (Excel's date form): 2 rows, from row 2" in (
        done.stderr.splitlines()
    )
    refused = tmp_path / "march.csv"
    refused.write_bytes(excel_csv("capital-technology,March 2025,52,40,31,22"))
    bad = run_cli("import", str(refused), "--dry-run", "--url", store_url)
    assert bad.returncode == 1
    assert "error: row 2, column month, value 'March 2025': months are written YYYY-MM: write 2025-03" in bad.stderr


# ------------------------------------------------------------------ the Excel template


def template(rsp_ids=None):
    return load_workbook(io.BytesIO(template_xlsx("2026-11", rsp_ids=rsp_ids)))


def validations(sheet) -> dict[str, tuple]:
    """Each checked range of the sheet: (type, operator, formula1, formula2, allow blank, error shown)."""
    return {
        str(v.sqref): (v.type, v.operator, v.formula1, v.formula2, v.allow_blank, v.showErrorMessage)
        for v in sheet.data_validations.dataValidation
    }


def test_template_sheets_frozen_header_and_text_month_column():
    book = template()
    assert book.sheetnames == ["monthly figures", "instructions", "partnerships"]
    sheet = book.worksheets[0]  # the sheet the import reads
    assert sheet.freeze_panes == "C2"  # header row, rsp_id and month stay in view
    assert [c.value for c in sheet[1]] == list(ALL_COLUMNS)
    months = [c for c in sheet["B"][1:]]
    assert len(months) == 14
    # Stored as text, formatted as text: Excel shows "2026-11" and does not turn it into a date ...
    assert {(c.value, c.data_type, c.number_format) for c in months} == {("2026-11", "s", "@")}
    # ... and so does a month typed into a row the convener adds: the whole column is formatted as text.
    assert sheet.column_dimensions["B"].number_format == "@"


def test_template_checks_what_is_typed_partnership_list_whole_counts_and_wage_bounds():
    ids = ["capital-technology", "northwest-ace"]
    book = template(ids)
    sheet = book["monthly figures"]
    last = 1_048_576
    expected = {f"A2:A{last}": ("list", None, "partnerships!$A$2:$A$3", None, True, True)}
    for key, letter in zip(STORED_KEYS, "CDEFGHIJK", strict=True):
        assert sheet[f"{letter}1"].value == key
        if METRICS[key].whole:
            expected[f"{letter}2:{letter}{last}"] = ("whole", "between", "0", str(MAX_COUNT), True, True)
        else:
            expected[f"{letter}2:{letter}{last}"] = ("decimal", "between", "7.25", "500", True, True)
    assert validations(sheet) == expected
    # The drop-down's source is exactly the partnerships of the template.
    assert [c.value for c in book["partnerships"]["A"]] == ["rsp_id", *ids]
    assert [c.value for c in sheet["A"][1:]] == ids
    errors = {str(v.sqref): v.error for v in sheet.data_validations.dataValidation}
    assert errors[f"A2:A{last}"] == "Pick a partnership id from the list."
    assert errors[f"C2:C{last}"] == (
        "Employers engaged: a whole number from 0 to 1,000,000 (employers). Enter 0 where there were none."
    )
    assert errors[f"G2:G{last}"] == "Average starting wage: a decimal number from 7.25 to 500 ($ per hour). E.g. 18.50."


def test_template_for_all_partnerships_offers_all_14():
    book = template()
    (listed,) = [v for v in book["monthly figures"].data_validations.dataValidation if v.type == "list"]
    assert listed.formula1 == "partnerships!$A$2:$A$15"
    assert [c.value for c in book["partnerships"]["A"]][1:] == [p.id for p in registry().partnerships]


def test_template_instructions_say_how_to_fill_it_in_and_send_it():
    sheet = template()["instructions"]
    text = [r[0] for r in sheet.iter_rows(values_only=True) if r[0]]
    assert text[0] == "How to fill in this template"
    body = "\n".join(text)
    for needed in ("drop-down", "YYYY-MM, e.g. 2026-11", "enter 0 where there were none", "leave a cell blank"):
        assert needed in body, needed
    assert "Save as Excel Workbook (.xlsx) and upload it on the dashboard's Submit data page" in body
    table = [r for r in sheet.iter_rows(values_only=True) if r[1]]
    assert table[0] == ("column", "required?", "what to enter")
    assert [r[0] for r in table[1:]] == list(ALL_COLUMNS)
    required = {r[0]: r[1] for r in table[1:]}
    assert {k for k, v in required.items() if v == "required"} == {"rsp_id", "month", *REQUIRED_KEYS}
    assert {k for k, v in required.items() if v == "optional: blank if not tracked"} == set(OPTIONAL_KEYS)


def filled(book, rows) -> bytes:
    """The template's figures sheet with `rows` (values by column name) typed in from row 2, saved."""
    sheet = book["monthly figures"]
    for line, values in enumerate(rows, start=2):
        for column, name in enumerate(ALL_COLUMNS, start=1):
            if name in values:
                sheet.cell(line, column, values[name])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_a_filled_in_template_round_trips_to_the_right_rows(store_url):
    book = template(["capital-technology", "northwest-ace"])
    content = filled(
        book,
        [
            {**dict(zip(REQUIRED_KEYS, (52, 40, 31, 22), strict=True)), "avg_starting_wage": 18.5, "wbl_started": 3},
            dict(zip(REQUIRED_KEYS, (6, 4, 3, 2), strict=True)),  # optional columns left blank
            # A row the convener added, where Excel kept a date (the month read is named):
            {"rsp_id": "northwest-ace", "month": datetime(2026, 10, 1), **dict.fromkeys(REQUIRED_KEYS, 0)},
        ],
    )
    report = validate(content, "rsp_monthly_template.xlsx", today=TODAY)
    assert report.ok, report.text()
    assert [(r.line, r.rsp_id, r.month, r.values) for r in report.rows] == [
        (
            2,
            "capital-technology",
            NOV,
            {**dict(zip(REQUIRED_KEYS, (52, 40, 31, 22), strict=True)), "avg_starting_wage": 18.5, "wbl_started": 3},
        ),
        (3, "northwest-ace", NOV, dict(zip(REQUIRED_KEYS, (6, 4, 3, 2), strict=True))),
        (4, "northwest-ace", date(2026, 10, 1), dict.fromkeys(REQUIRED_KEYS, 0)),
    ]
    assert lines(report.warnings) == ["warning: row 4, column month, value '2026-10-01': read as 2026-10 (a date)"]
    engine = make_engine(store_url)
    try:
        apply_import(engine, content, "rsp_monthly_template.xlsx", "tester", today=TODAY)
    finally:
        engine.dispose()
    assert stored(store_url, "capital-technology", NOV) == {
        **dict(zip(REQUIRED_KEYS, (52, 40, 31, 22), strict=True)),
        "avg_starting_wage": 18.5,
        "wbl_started": 3,
    }
    assert stored(store_url, "northwest-ace", date(2026, 10, 1))["placements"] == 0


def test_a_date_cell_that_is_not_a_first_of_month_is_refused():
    book = template(["capital-technology"])
    sheet = book["monthly figures"]
    sheet["B2"] = datetime(2026, 11, 15)
    content = filled(book, [dict(zip(REQUIRED_KEYS, (52, 40, 31, 22), strict=True))])
    report = validate(content, "t.xlsx", today=TODAY)
    assert lines(report.errors) == [
        "error: row 2, column month, value '2026-11-15': a date, not a month: write the month as YYYY-MM, e.g. 2026-11"
    ]


# ------------------------------------------------------------------ what the Submit page shows


def test_the_submit_page_preview_names_the_month_read(tmp_path, monkeypatch, as_server):
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    from rsp_data.auth import hash_password
    from rsp_data.store import init_store

    url = f"sqlite:///{tmp_path}/submit.sqlite"
    engine = make_engine(url)
    init_store(engine, demo=True)
    engine.dispose()
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("RSP_ADMIN_PASSWORD_HASH", hash_password("a-password-for-tests", iterations=1000))
    at = AppTest.from_file(str(Path(__file__).resolve().parent.parent / "dashboard.py"), default_timeout=60).run()
    at.switch_page("pages/submit.py").run()
    at.text_input[0].input("a-password-for-tests")  # the password administrator: no name to type
    (sign_in,) = [b for b in at.button if b.label == "Sign in"]
    sign_in.click().run()
    content = excel_csv("capital-technology,Nov-26,52,40,31,22", "northwest-ace,Nov-26,6,4,3,2")
    at.get("file_uploader")[0].upload("november.csv", content, "text/csv").run()
    assert not at.exception
    assert not at.error
    assert [w.value for w in at.warning] == ["1 thing(s) look unusual. They do not block the import; check them."]
    notices, *previews = [d.value for d in at.dataframe]
    assert notices.to_dict("records") == [
        {
            "row": "2",
            "column": "month",
            "value": "Nov-26",
            "reason": "read as 2026-11 (Excel's date form): 2 rows, from row 2",
        }
    ]
    shown = [(r["partnership"], r["month"]) for frame in previews for r in frame.to_dict("records")]
    assert sorted(set(shown)) == [("capital-technology", "2026-11"), ("northwest-ace", "2026-11")]

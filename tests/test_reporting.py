"""The reporting status: every kind of cell on a hand-made store written through real imports, the month
summary, the command line's exit codes, and the demo data's pattern; on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import csv
import html
import io
import json
import os
import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import update
from streamlit.testing.v1 import AppTest

from queries import reporting
from queries.filters import Filters
from rsp_data.imports.apply import apply_import, rollback
from rsp_data.schema import import_batches
from tests.store_helpers import run_cli

A, B, C = "capital-technology", "southwest-technology", "capital-healthcare"
THREE = Filters(partnerships=(A, B, C))
TODAY = date(2026, 11, 10)  # October is not yet due (Nov 15); September was due Oct 15
HEADER = "month,rsp_id,employers_engaged,trainees_enrolled,trainees_completed,placements\n"


def send(engine, rows: str, at: datetime) -> int:
    """Import these rows as one batch, loaded at `at` (UTC)."""
    result = apply_import(engine, (HEADER + rows).encode(), "monthly.csv", "convener@example.org", today=TODAY)
    with engine.begin() as conn:
        conn.execute(update(import_batches).where(import_batches.c.batch_id == result.batch_id).values(loaded_at=at))
    return result.batch_id


def noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 16, 0, tzinfo=UTC)  # 11:00 or noon in Connecticut


@pytest.fixture(scope="module")
def store(stores):
    engine = stores.engine("reporting")
    send(engine, f"2026-08,{A},10,4,2,1\n2026-08,{B},20,5,3,2\n", noon(date(2026, 9, 10)))
    send(engine, f"2026-09,{A},11,4,2,1\n2026-09,{C},5,2,1,1\n", noon(date(2026, 10, 20)))
    corrected_later = send(engine, f"2026-10,{A},12,4,2,1\n", noon(date(2026, 11, 1)))
    correction = send(engine, f"2026-10,{A},12,4,2,2\n", noon(date(2026, 11, 6)))
    rolled_back = send(engine, f"2026-09,{B},21,5,3,2\n", noon(date(2026, 10, 12)))
    rollback(engine, rolled_back, "state staff")
    yield engine, corrected_later, correction
    engine.dispose()


def grid(engine, **kw):
    frame, total = reporting.status_grid(engine, THREE, today=TODAY, months=3, **kw)
    return {(r.rsp_id, r.month): (r.status, r.detail, r.days_late) for r in frame.itertuples()}, total


def test_calendar():
    assert reporting.due_date(date(2026, 10, 1), 15) == date(2026, 11, 15)
    assert reporting.due_date(date(2026, 12, 1), 15) == date(2027, 1, 15)
    assert reporting.latest_due(date(2026, 11, 15), 15) == date(2026, 10, 1)  # due today counts as due
    assert reporting.latest_due(date(2026, 11, 14), 15) == date(2026, 9, 1)


def test_every_kind_of_cell(store):
    engine, _, correction = store
    cells, total = grid(engine)
    assert total == 3
    assert cells[(A, "2026-08")] == ("on time", "sent 2026-09-10, on time", 0)
    assert cells[(A, "2026-09")] == ("late", "sent 2026-10-20, 5 days late", 5)
    assert cells[(A, "2026-10")] == (
        "corrected",
        f"sent 2026-11-01, on time; corrected 2026-11-06 (batch {correction})",
        0,
    )
    assert cells[(B, "2026-08")][0] == "on time"
    # Its September import was rolled back: the month is missing again, and overdue since Oct 15.
    assert cells[(B, "2026-09")] == ("overdue", "overdue by 26 days (due Oct 15)", 26)
    assert cells[(B, "2026-10")] == ("not yet due", "due Nov 15", 0)
    assert cells[(C, "2026-08")] == ("not started", "before its first report", 0)
    assert cells[(C, "2026-09")][:2] == ("late", "sent 2026-10-20, 5 days late")


def test_a_late_import_turns_overdue_into_late(store):
    engine, _, _ = store
    batch = send(engine, f"2026-09,{B},21,5,3,2\n", noon(date(2026, 11, 9)))
    try:
        cells, _ = grid(engine)
        assert cells[(B, "2026-09")] == ("late", "sent 2026-11-09, 25 days late", 25)
    finally:
        rollback(engine, batch, "state staff")
    assert grid(engine)[0][(B, "2026-09")][0] == "overdue"


def test_the_grid_keeps_to_the_filters_and_the_limit(store):
    engine, _, _ = store
    frame, total = reporting.status_grid(engine, Filters(regions=("southwest",)), today=TODAY, months=2, limit=1)
    assert total == 2  # the registry's two southwest partnerships
    assert set(frame["rsp_id"]) == {"southwest-manufacturing"}  # the first in id order
    assert list(frame["month"]) == ["2026-09", "2026-10"]


def test_month_summary_names_who_is_overdue(store):
    engine, _, _ = store
    september = reporting.month_status(engine, THREE, date(2026, 9, 1), today=TODAY)
    assert (september.expected, september.reported, september.overdue_count) == (3, 2, 1)
    assert september.sentence() == ("September 2026: 2 of 3 partnerships reported, 1 overdue (Southwest CT Tech Hub)")
    october = reporting.month_status(engine, THREE, date(2026, 10, 1), today=TODAY)
    assert october.sentence() == ("October 2026: 1 of 3 partnerships reported; the rest are not due until November 15")
    assert not october.complete and october.overdue_count == 0
    august = reporting.month_status(engine, THREE, date(2026, 8, 1), today=TODAY)
    assert august.complete and august.sentence() == "August 2026: 2 of 2 partnerships reported"


def test_cli_exit_status_drives_reminders(store):
    engine, _, _ = store
    env = {"DATABASE_URL": engine.url.render_as_string(hide_password=False)}
    late = run_cli("status", "--month", "2026-09", "--today", TODAY.isoformat(), env=env)
    assert late.returncode == 3, late.stderr
    assert (
        late.stdout.splitlines()[0] == "September 2026: 2 of 3 partnerships reported, 1 overdue (Southwest CT Tech Hub)"
    )
    assert any(B in line and "overdue by 26 days" in line for line in late.stdout.splitlines())
    fine = run_cli("status", "--month", "2026-08", "--today", TODAY.isoformat(), env=env)
    assert fine.returncode == 0, fine.stdout + fine.stderr
    listed = run_cli("status", "--month", "2026-09", "--today", TODAY.isoformat(), "--csv", env=env)
    rows = {r["rsp_id"]: r for r in csv.DictReader(io.StringIO(listed.stdout))}
    assert len(rows) == 14  # every partnership of the registry, those not started too
    assert (rows[B]["status"], rows[B]["days_late"]) == ("overdue", "26")
    assert (rows[A]["status"], rows[A]["days_late"]) == ("late", "5")
    assert rows["northwest-ace"]["status"] == "not started"
    bad = run_cli("status", "--month", "2026-13", env=env)
    assert bad.returncode == 2 and "YYYY-MM" in bad.stderr


def test_demo_data_shows_a_realistic_reporting_pattern(demo_engine):
    today = date(2026, 12, 5)
    frame, total = reporting.status_grid(demo_engine, Filters(), today=today, last=date(2026, 10, 1), months=12)
    assert total == 14
    odd = {(r.rsp_id, r.month): r.status for r in frame.itertuples() if r.status != "on time"}
    assert odd == {
        ("capital-logistics", "2026-10"): "overdue",
        ("northwest-ace", "2026-10"): "overdue",
        ("eastern-healthcare", "2026-08"): "late",
        ("capital-technology", "2026-09"): "corrected",
    }
    october = reporting.month_status(demo_engine, Filters(), date(2026, 10, 1), today=today)
    assert october.sentence().startswith("October 2026: 12 of 14 partnerships reported, 2 overdue (")


# ---------------------------------------------------------------- on the pages (AppTest, SQLite demo store)

APP = str(Path(__file__).resolve().parent.parent / "dashboard.py")


@pytest.fixture
def demo_app(as_server, tmp_path, monkeypatch):
    from rsp_data.store import init_store, make_engine

    url = f"sqlite:///{tmp_path / 'demo.sqlite'}"
    init_store(make_engine(url), demo=True)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("RSP_TODAY", "2026-12-05")

    def open_page(page: str, **params) -> AppTest:
        at = AppTest.from_file(APP, default_timeout=90)
        for name, value in params.items():
            at.query_params[name] = value
        at.run()
        if page != "pages/overview.py":
            at.switch_page(page).run()
        assert not at.exception, [e.value for e in at.exception]
        return at

    return open_page


PARTIAL = "Oct 2026: 12 of 14 partnerships reported"


def test_overview_header_and_tiles_say_the_last_month_is_partial(demo_app):
    at = demo_app("pages/overview.py")
    assert f":violet-badge[{PARTIAL}]" in at.markdown[0].value
    assert any(c.value.startswith(f"⚠ {PARTIAL}: its figures are partial") for c in at.caption)
    assert all(PARTIAL in m.help for m in at.metric)


def test_overview_employers_count_the_two_late_partnerships_as_of_their_latest_report(demo_app):
    """The demo store: 12 of 14 sent October; the other two count with their September figures (22 + 20)."""
    at = demo_app("pages/overview.py")
    tiles = {m.label: m for m in at.metric}
    employers = tiles["Employers engaged"]
    assert employers.value == "552"  # 510 from October's 12 reports + 22 + 20 as of September
    carried = "Employers engaged: 2 partnerships as of their latest report (Sep 2026)."
    assert carried in employers.help
    assert "partnerships that have not sent that month count as of their latest report" in employers.help
    assert "counts only those that reported it" not in employers.help
    (warning,) = [c.value for c in at.caption if c.value.startswith("⚠")]
    assert warning == (
        f"⚠ {PARTIAL}: its figures are partial. {carried} See the Reporting status page for who is missing."
    )


def test_the_presenters_kpi_slide_says_the_same(demo_app):
    at = demo_app("pages/overview.py", present="1")
    notes = "\n".join(h.value for h in at.html)
    assert (
        '<div class="rsp-kpi-note">at the end of Oct 2026; 2 partnerships as of their latest report (Sep 2026)</div>'
        in notes
    )
    assert 'aria-label="Employers engaged: 552"' in notes


def test_overview_sparklines_end_at_the_last_complete_month(demo_app):
    from queries.filters import Filters
    from queries.metrics import monthly_totals
    from rsp_data.store import make_engine
    from ui.format import metric_value

    at = demo_app("pages/overview.py")
    months = monthly_totals(make_engine(os.environ["DATABASE_URL"]), Filters()).set_index("month")
    lines = sparklines(at)
    assert sorted(lines) == sorted(m.label for m in at.metric)  # one per tile
    tiles = {m.label: m for m in at.metric}
    for label, column in (("Employers engaged", "employers_engaged"), ("Placements", "placements")):
        name, points = lines[label]
        shown = months.loc["2024-10-01":"2026-09-01", column]
        assert months.loc["2026-09-01", column] != months.loc["2026-10-01", column]
        assert points == [f"{m:%b %Y}: {metric_value(column, v)}" for m, v in shown.items()]
        assert points[-1].startswith("Sep 2026: ")  # Oct 2026 is partial: left out
        last = metric_value(column, months.loc["2026-09-01", column])
        assert name.startswith(f"{label}, Oct 2024 – Sep 2026: from ") and f" to {last} (Sep 2026); lowest " in name
        assert "The line shows the last two years of the range, without Oct 2026, which is partial." in (
            tiles[label].help
        )
    name, points = lines["Placement rate"]  # a rate: by quarter, the partial month's quarter from its complete months
    assert len(points) == 8 and points[-1].startswith("2026 Q3: ") and "%" in name.split(": ", 1)[1]


def sparklines(at: AppTest) -> dict[str, tuple[str, list[str]]]:
    """The KPI tiles' small charts: {measure: (the image's alt text, the points its SVG draws)}."""
    out = {}
    for element in at.html:
        image = re.search(
            r'<img class="rsp-sparkline" alt="([^"]*)" src="data:image/svg\+xml;base64,([^"]*)"', element.value
        )
        if image:
            alt = html.unescape(image[1])
            described = re.search(r"<desc>(.*)</desc>", base64.b64decode(image[2]).decode())
            out[alt.split(",")[0]] = (alt, html.unescape(described[1]).split("; "))
    return out


def test_trends_draws_the_partial_month_hollow_and_shaded(demo_app):
    at = demo_app("pages/trends.py")
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert [a["text"] for a in spec["layout"]["annotations"]] == [f"Partial: {PARTIAL}"]
    assert spec["layout"]["shapes"][0]["type"] == "rect"
    symbols = spec["data"][0]["marker"]["symbol"]
    assert symbols[-1] == "circle-open" and set(symbols[:-1]) == {"circle"}


def test_reporting_page_grid_summary_and_filters(demo_app):
    at = demo_app("pages/reporting.py")
    assert at.markdown[1].value == (
        "**October 2026: 12 of 14 partnerships reported, 2 overdue (Capital Area Logistics & Transportation "
        "Partnership, Northwest Architecture, Construction & Engineering Partnership)**"
    )
    grid = at.dataframe[0].value
    assert list(grid.columns[:3]) == ["Nov 2026", "Oct 2026", "Sep 2026"]  # latest first
    assert grid.loc["Capital Area Tech Partnership", "Sep 2026"] == "✎ corrected"
    assert grid.loc["Eastern Healthcare Partnership", "Aug 2026"] == "! 29 days late"
    assert grid.loc["Northwest Architecture, Construction & Engineering Partnership", "Oct 2026"] == "✗ overdue"
    assert grid.loc["Capital Area Healthcare Partnership", "Nov 2026"] == "… not yet due"
    listed = at.dataframe[1].value
    assert sorted(listed["Status"]) == ["corrected", "late", "overdue", "overdue"]
    capital = demo_app("pages/reporting.py", region="capital")
    assert capital.markdown[1].value.startswith("**October 2026: 3 of 4 partnerships reported, 1 overdue (")
    assert len(capital.dataframe[0].value) == 4

"""Quality of the jobs and reach of the programmes: queries/quality.py on a hand-made store (SQLite
and PostgreSQL), the small-cell suppression of queries/suppression.py (worked examples and a
hypothesis property test), and the Good jobs & reach page through AppTest.

The hand-made facts, imported through the import path (so the rollups are the ones every write
keeps), P = placements, W = avg_starting_wage, NB = placements_no_bachelor, WBL = wbl_started,
UR = trainees_underrepresented, blank = not reported:

| rsp_id (region, sector)                   | month   | En | P | W     | NB | WBL | UR |
|-------------------------------------------|---------|----|---|-------|----|-----|----|
| capital-technology (capital, technology)  | 2024-01 |  8 | 4 | 30.00 |  2 |  3  |  3 |
|                                           | 2024-02 |  5 | 1 | 20.00 |  1 |  0  |  2 |
| southwest-technology (southwest, tech.)   | 2024-01 | 10 | 6 | 25.50 |  6 |  1  |  7 |
|                                           | 2024-02 |  4 | 2 |       |    |  0  |  1 |
| capital-healthcare (capital, healthcare)  | 2024-01 |  6 | 2 | 18.00 |  2 |     |  4 |
|                                           | 2024-02 |  2 | 3 | 19.00 |    |     |  0 |
| northwest-ace (northwest, ace)            | 2024-02 |  1 | 1 |       |    |     |    |

Average starting wage, weighted by placements over the rows with a wage:
  (30×4 + 20×1 + 25.50×6 + 18×2 + 19×3) / (4 + 1 + 6 + 2 + 3) = 386 / 16 = 24.125
  (the mean of the five monthly wages would be 112.50 / 5 = 22.50; the mean of the three
  partnerships' own averages (28.00, 25.50, 18.60) would be 24.033...)
Share without a bachelor's requirement, over the placements of the months that reported it:
  (2 + 1 + 6 + 2) / (4 + 1 + 6 + 2) = 11 / 13 (not 11 / 19, all placements)
"""

from __future__ import annotations

import csv
import html
import io
import json
import os
import re
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from queries.filters import Filters
from queries.metrics import kpi_summary, monthly_totals, partnership_rows
from queries.quality import quality_by, quality_monthly, quality_summary, suppressed_by_month
from queries.suppression import COMPLEMENT, DEFAULT_THRESHOLD, TOTAL, pinned, suppress, suppression_mask, threshold_from
from rsp_data.imports.apply import apply_import
from rsp_data.metrics import METRICS, OPTIONAL_KEYS

HEADER = [
    "rsp_id",
    "month",
    "employers_engaged",
    "trainees_enrolled",
    "trainees_completed",
    "placements",
    *OPTIONAL_KEYS,
]
ROWS = [
    ["capital-technology", "2024-01", "10", "8", "4", "4", "30.00", "2", "3", "3"],
    ["capital-technology", "2024-02", "10", "5", "6", "1", "20.00", "1", "0", "2"],
    ["southwest-technology", "2024-01", "20", "10", "8", "6", "25.50", "6", "1", "7"],
    ["southwest-technology", "2024-02", "20", "4", "3", "2", "", "", "0", "1"],
    ["capital-healthcare", "2024-01", "5", "6", "2", "2", "18.00", "2", "", "4"],
    ["capital-healthcare", "2024-02", "5", "2", "3", "3", "19.00", "", "", "0"],
    ["northwest-ace", "2024-02", "3", "1", "1", "1", "", "", "", ""],
]
TODAY = date(2026, 11, 21)


@pytest.fixture(scope="module")
def store(stores):
    engine = stores.engine("quality")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerows([HEADER, *ROWS])
    result = apply_import(engine, out.getvalue().encode(), "quality.csv", "tests", today=TODAY)
    assert result.batch_id is not None
    yield engine
    engine.dispose()


# ---------------------------------------------------------------- the figures


def test_weighted_wage_is_sum_of_wage_times_placements_over_placements(store):
    summary = quality_summary(store, Filters())
    assert summary["avg_starting_wage_weighted"] == pytest.approx(386.0)
    assert summary["avg_starting_wage_weight"] == 16
    assert summary["avg_starting_wage"] == pytest.approx(24.125)
    # Not a mean of means, of months or of partnerships.
    assert summary["avg_starting_wage"] != pytest.approx(112.5 / 5)
    assert summary["avg_starting_wage"] != pytest.approx((28.0 + 25.5 + 18.6) / 3)


def test_no_bachelor_share_counts_only_the_placements_of_months_that_reported_it(store):
    summary = quality_summary(store, Filters())
    assert summary["placements_no_bachelor"] == 11
    assert summary["no_bachelor_share_base"] == 13
    assert summary["no_bachelor_share"] == pytest.approx(11 / 13)
    assert kpi_summary(store, Filters())["placements"] == 19  # not the share's denominator


def test_counts_and_who_reported(store):
    summary = quality_summary(store, Filters())
    assert summary["wbl_started"] == 4
    assert summary["trainees_underrepresented"] == 17
    assert summary["partnerships"] == 4
    assert summary["reporting"] == {
        "avg_starting_wage": 3,
        "placements_no_bachelor": 3,
        "wbl_started": 2,
        "trainees_underrepresented": 3,
        "credentials_earned": 0,  # nobody in this store reports it
    }
    assert summary["avg_starting_wage_rows"] == 5
    assert summary["wbl_started_rows"] == 4


@pytest.mark.parametrize(
    ("filters", "wage", "share"),
    [
        # Feb only: (20×1 + 19×3) / 4; the share from capital-technology's February alone: 1 / 1.
        (Filters(month_from="2024-02"), 77 / 4, 1.0),
        # Capital region: capital-technology and capital-healthcare.
        (Filters(regions=("capital",)), (120 + 20 + 36 + 57) / 10, (2 + 1 + 2) / (4 + 1 + 2)),
        # Technology sector, January only.
        (Filters(sectors=("technology",), month_to="2024-01"), (120 + 153) / 10, 8 / 10),
        # Region and sector: the cell grain.
        (Filters(regions=("capital",), sectors=("healthcare",)), 93 / 5, 1.0),
        # One partnership: its rows.
        (Filters(partnerships=("southwest-technology",)), 25.5, 1.0),
    ],
)
def test_figures_follow_the_filters(store, filters, wage, share):
    summary = quality_summary(store, filters)
    assert summary["avg_starting_wage"] == pytest.approx(wage)
    assert summary["no_bachelor_share"] == pytest.approx(share)


def test_by_sector_and_by_partnership(store):
    by_sector = quality_by(store, Filters(), "sector").set_index("group_id")
    assert by_sector.loc["technology", "avg_starting_wage"] == pytest.approx(293 / 11)
    assert by_sector.loc["healthcare", "avg_starting_wage"] == pytest.approx(93 / 5)
    assert np.isnan(by_sector.loc["ace", "avg_starting_wage"])  # nobody there reported a wage
    assert by_sector.loc["ace", "avg_starting_wage_rows"] == 0
    assert by_sector.loc["technology", "no_bachelor_share"] == pytest.approx(9 / 11)
    by_rsp = quality_by(store, Filters(), "partnership").set_index("group_id")
    assert by_rsp.loc["capital-technology", "avg_starting_wage"] == pytest.approx(28.0)
    assert by_rsp.loc["capital-technology", "wbl_started"] == 3
    assert by_rsp.loc["capital-healthcare", "trainees_underrepresented"] == 4


@pytest.mark.parametrize(
    "filters",
    [
        Filters(),
        Filters(partnerships=("capital-technology", "southwest-technology", "capital-healthcare", "northwest-ace")),
    ],
)
def test_monthly_series_from_the_rollups_and_from_the_facts(store, filters):
    monthly = quality_monthly(store, filters)
    assert [f"{m:%Y-%m}" for m in monthly["month"]] == ["2024-01", "2024-02"]
    assert monthly["avg_starting_wage"].tolist() == pytest.approx([309 / 12, 77 / 4])
    assert monthly["wbl_started"].tolist() == [4, 0]
    assert monthly["trainees_underrepresented"].tolist() == [14, 3]
    assert monthly["wbl_started_rows"].tolist() == [2, 2]


def test_underrepresented_by_partnership_and_month(store):
    counts, reported = suppressed_by_month(store, Filters(), "trainees_underrepresented")
    assert list(counts.columns) == ["2024-01", "2024-02"]
    # Largest total first; northwest-ace never reported it: not a row.
    assert counts.to_dict("index") == {
        "Southwest CT Tech Hub": {"2024-01": 7, "2024-02": 1},
        "Capital Area Tech Partnership": {"2024-01": 3, "2024-02": 2},
        "Capital Area Healthcare Partnership": {"2024-01": 4, "2024-02": 0},
    }
    assert reported.all().all()


@pytest.mark.parametrize(
    "call",
    [
        lambda e: suppressed_by_month(e, Filters(), "trainees_underrepresented"),
        lambda e: quality_by(e, Filters(), "partnership", metric="avg_starting_wage", top=2),
        lambda e: quality_summary(e, Filters()),
        lambda e: monthly_totals(e, Filters(), "partnership", top=2),
        lambda e: partnership_rows(e, Filters(), limit=2),
    ],
    ids=["underrepresented", "quality leaders", "summary", "trend by partnership", "ranked page"],
)
def test_a_query_reads_through_one_connection(store, call):
    # Each checkout from the pool costs a round of pool bookkeeping (0.3 ms on PostgreSQL): the
    # query functions open one connection and pass it to their helpers (queries._base.reading).
    from sqlalchemy import event

    checkouts = []

    def counted(*_):
        checkouts.append(1)

    event.listen(store, "checkout", counted)
    try:
        call(store)
    finally:
        event.remove(store, "checkout", counted)
    assert len(checkouts) == 1


def test_underrepresented_table_suppressed_by_hand(store):
    counts, _ = suppressed_by_month(store, Filters(), "trainees_underrepresented")
    shown = suppress(counts, 5)
    # Rows: 7 and 1 -> the 1 is "<5", the 7 must go too ("x"); 3 and 2 -> both "<5";
    # 4 and 0 -> the 4 is "<5" and, no non-zero cell being left, the 0 is hidden.
    assert shown.display.to_dict("index") == {
        "Southwest CT Tech Hub": {"2024-01": "x", "2024-02": "<5", "Total": "8"},
        "Capital Area Tech Partnership": {"2024-01": "<5", "2024-02": "<5", "Total": "5"},
        "Capital Area Healthcare Partnership": {"2024-01": "<5", "2024-02": "x", "Total": "4"},
        "Total": {"2024-01": "14", "2024-02": "3", "Total": "17"},
    }


# ---------------------------------------------------------------- suppression


def test_suppression_worked_example():
    table = pd.DataFrame(
        [[12, 3, 20], [9, 15, 0], [30, 8, 2]],
        index=["a", "b", "c"],
        columns=["m1", "m2", "m3"],
    )
    shown = suppress(table, 5)
    # Primary: 3 (a, m2) and 2 (c, m3). Row a has one: its smallest other cell, 12, goes too;
    # column m2 has one: 8 goes; row c now has 8 and 2, column m3 has 2 only: 20 goes (0 is not
    # picked while a non-zero cell is left); column m1 has 12 only: 9 goes; row b has 9 only: 15.
    assert shown.display.to_dict("index") == {
        "a": {"m1": "x", "m2": "<5", "m3": "x", "Total": "35"},
        "b": {"m1": "x", "m2": "x", "m3": "0", "Total": "24"},
        "c": {"m1": "30", "m2": "x", "m3": "<5", "Total": "40"},
        "Total": {"m1": "51", "m2": "26", "m3": "22", "Total": "99"},
    }


def test_zeros_are_shown_and_large_counts_exact():
    shown = suppress(pd.DataFrame([[0, 5], [7, 0]], index=["a", "b"], columns=["x", "y"]), 5)
    assert shown.display.loc["a"].tolist() == ["0", "5", "5"]
    assert not shown.hidden.to_numpy().any()


def test_a_single_row_has_no_total_row():
    shown = suppress(pd.DataFrame([[2, 9, 0]], index=["only"], columns=["m1", "m2", "m3"]), 5)
    assert TOTAL not in shown.display.index
    assert shown.display.loc["only"].tolist() == ["<5", "x", "0", "11"]


def test_threshold_is_configurable():
    table = pd.DataFrame([[2, 9], [6, 10]], index=["a", "b"], columns=["m1", "m2"])
    assert suppress(table, 3).display.loc["a", "m1"] == "<3"
    assert suppress(table, 10).display.loc["b", "m1"] == "<10"
    assert threshold_from("7") == 7
    assert threshold_from("") == 5 and threshold_from("zero") == 5 and threshold_from("0") == 5


def _one_row(cells: list[int], threshold: int = 5) -> list[str]:
    table = pd.DataFrame([cells], index=["Capital"], columns=[f"m{i}" for i in range(len(cells))])
    return suppress(table, threshold).display.loc["Capital"].tolist()


def test_two_small_counts_whose_sum_gives_them_away_get_a_complement():
    # Shown 20 and total 22 would leave 2 for the two "<5": each must be 1 (each is at least 1).
    assert _one_row([1, 1, 20]) == ["<5", "<5", "x", "22"]
    # Shown 20 and total 28 would leave 8: each must be 4 (each is at most 4).
    assert _one_row([4, 4, 20]) == ["<5", "<5", "x", "28"]
    # Leaving 7 (1 + 6 or ... or 4 + 3) gives neither away: nothing more is hidden.
    assert _one_row([3, 4, 20]) == ["<5", "<5", "20", "27"]


def test_a_zero_is_not_hidden_when_it_cannot_help():
    # The total 2 gives the two "<5" away whatever is done with the zero beside them.
    assert _one_row([1, 1, 0]) == ["<5", "<5", "0", "2"]
    # The total 8 gives two "<5" away as 4 and 4 (pinned from above); a hidden zero beside them hides that.
    assert _one_row([4, 4, 0]) == ["<5", "<5", "x", "8"]


def test_a_complement_hides_no_more_than_needed():
    # "<5" and "x" share 8 (1 + 7 ... 4 + 4): the small count cannot be worked out, so 30 stays shown.
    assert _one_row([3, 5, 30]) == ["<5", "x", "30", "38"]


def test_counts_as_floats_or_under_a_number_index_read_as_whole_numbers_and_text():
    # A pivot of counts can hold floats (a missing cell filled with 0) and years as its rows.
    table = pd.DataFrame([[3.0, 12.0], [1_000.0, 1_234.0]], index=[2023, 2024], columns=["capital", "southwest"])
    shown = suppress(table, 5)
    # 3 is "<5"; 12 hides it in row 2023, 1,000 in column capital, then 1,234 hides 1,000 in row 2024.
    assert shown.display.to_dict("index") == {
        "2023": {"capital": "<5", "southwest": "x", "Total": "15"},
        "2024": {"capital": "x", "southwest": "x", "Total": "2,234"},
        "Total": {"capital": "1,003", "southwest": "1,246", "Total": "2,249"},
    }
    # hidden and primary are labelled like the table given.
    assert shown.primary.loc[2023].tolist() == [True, False] and shown.hidden.loc[2024].tolist() == [True, True]
    assert shown.hidden.columns.tolist() == shown.primary.columns.tolist() == ["capital", "southwest"]


def test_an_empty_table_keeps_its_columns_and_total():
    shown = suppress(pd.DataFrame(np.zeros((0, 3), dtype="int64"), columns=["m1", "m2", "m3"]), 5)
    assert shown.display.columns.tolist() == ["m1", "m2", "m3", "Total"] and shown.display.empty


def test_threshold_from_configuration_text_at_its_bounds():
    assert threshold_from("1") == 1  # the smallest threshold: nothing is suppressed
    assert threshold_from(" 12 ") == 12
    assert threshold_from("-3") == DEFAULT_THRESHOLD and threshold_from(None) == DEFAULT_THRESHOLD
    assert threshold_from("2.5", default=8) == 8
    assert _one_row([1, 2, 30], threshold=1) == ["1", "2", "30", "33"]


def test_suppression_mask_rejects_what_is_not_a_table_of_counts():
    with pytest.raises(ValueError, match=r"^a two-way table is needed$"):
        suppression_mask(np.array([1, 2, 3]))
    with pytest.raises(ValueError, match=r"^counts cannot be negative$"):
        suppression_mask(np.array([[1, -1], [2, 3]]))


def _recoverable(values: np.ndarray, hidden: np.ndarray) -> set[tuple[int, int]]:
    """Cells an outsider can work out by subtraction, repeatedly: in a row or column with a shown
    total, one unknown cell is the total minus the known cells (recovered cells become known)."""
    known = ~hidden.copy()
    n_rows, n_cols = values.shape
    found: set[tuple[int, int]] = set()
    changed = True
    while changed:
        changed = False
        lines = ([[(r, c) for c in range(n_cols)] for r in range(n_rows)] if n_cols >= 2 else []) + (
            [[(r, c) for r in range(n_rows)] for c in range(n_cols)] if n_rows >= 2 else []
        )
        for line in lines:
            unknown = [cell for cell in line if not known[cell]]
            if len(unknown) == 1:
                known[unknown[0]] = True
                found.add(unknown[0])
                changed = True
    return found


tables = st.integers(min_value=2, max_value=7).flatmap(
    lambda rows: st.integers(min_value=2, max_value=7).flatmap(
        lambda cols: st.lists(
            st.lists(
                st.one_of(st.integers(0, 6), st.integers(0, 40)),
                min_size=cols,
                max_size=cols,
            ),
            min_size=rows,
            max_size=rows,
        )
    )
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables, st.integers(min_value=2, max_value=11))
def test_property_no_suppressed_cell_is_recoverable_and_the_rest_is_exact(rows, threshold):
    values = np.array(rows, dtype="int64")
    table = pd.DataFrame(
        values, index=[f"r{i}" for i in range(len(rows))], columns=[f"c{j}" for j in range(len(rows[0]))]
    )
    shown = suppress(table, threshold)
    hidden = shown.hidden.to_numpy()
    primary = shown.primary.to_numpy()

    # Every count from 1 to threshold - 1 is suppressed, and shown as "<threshold".
    assert (primary == ((values >= 1) & (values < threshold))).all()
    assert (hidden[primary]).all()
    cells = shown.display.drop(index=TOTAL, columns=TOTAL).to_numpy()
    for (r, c), text in np.ndenumerate(cells):
        if primary[r, c]:
            assert text == f"<{threshold}"
        elif hidden[r, c]:
            assert text == COMPLEMENT  # complementary: never claims to be below the threshold
        else:
            assert text == f"{values[r, c]:,}"  # shown cells are exact (zeros included)
            assert values[r, c] == 0 or values[r, c] >= threshold

    # Totals are exact.
    assert shown.display[TOTAL].drop(TOTAL).tolist() == [f"{v:,}" for v in values.sum(axis=1)]
    assert shown.display.loc[TOTAL].tolist() == [f"{v:,}" for v in [*values.sum(axis=0), values.sum()]]

    # No suppressed cell can be recovered from a shown total minus shown (or recovered) cells.
    assert _recoverable(values, hidden) == set()
    # Every row and column has 0 or at least 2 suppressed cells.
    assert all(hidden[r].sum() != 1 for r in range(values.shape[0]))
    assert all(hidden[:, c].sum() != 1 for c in range(values.shape[1]))

    # Nor pinned down by the known bounds ("<t": 1..t-1; "x": 0 or more), unless no non-zero cell of
    # that line was left to hide.
    for line in [*(np.s_[r, :] for r in range(values.shape[0])), *(np.s_[:, c] for c in range(values.shape[1]))]:
        v, h, p = values[line], hidden[line], primary[line]
        if h.any() and any(pinned(v[h].tolist(), p[h].tolist(), threshold)):
            assert not ((~h) & (v > 0)).any(), (values, hidden, line)

    # Complementary suppression is needed, not gratuitous: a shown cell never hides more than needed
    # on a table with no small counts.
    if not primary.any():
        assert not hidden.any()


def test_suppression_mask_rejects_negative_counts():
    with pytest.raises(ValueError):
        suppression_mask(np.array([[1, -1], [2, 3]]))


# ---------------------------------------------------------------- the page


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory):
    """A demo-filled SQLite store for the app under test (DATABASE_URL)."""
    from rsp_data.store import init_store, make_engine

    url = f"sqlite:///{tmp_path_factory.mktemp('quality_app') / 'rsp_metrics.sqlite'}"
    engine = make_engine(url)
    init_store(engine, demo=True)
    previous = os.environ.get("DATABASE_URL")
    os.environ["DATABASE_URL"] = url
    yield engine
    if previous is None:
        os.environ.pop("DATABASE_URL", None)
    else:
        os.environ["DATABASE_URL"] = previous
    engine.dispose()


APP = str(Path(__file__).resolve().parent.parent / "dashboard.py")
DEMO_FILE = Path(__file__).resolve().parent.parent / "rsp_data" / "data" / "demo_metrics.csv"


def open_quality(params: dict | None = None):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=60)
    for name, value in (params or {}).items():
        at.query_params[name] = value
    at.run()
    at.switch_page("pages/quality.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    return at


def chart_titles(at) -> list[str]:
    """Each chart's title as it reads (its first line, HTML entities decoded)."""
    return [
        html.unescape(json.loads(c.proto.spec)["layout"]["title"]["text"].split("<br>")[0])
        for c in at.get("plotly_chart")
    ]


def tiles(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def demo_csv_rows(sector: str | None = None) -> list[dict]:
    """The committed CSV's facts: the latest row sent for each partnership-month (a correction replaces
    the first report)."""
    from rsp_data.registry import registry

    sectors = {p.id: p.sector for p in registry().partnerships}
    with open(DEMO_FILE, newline="", encoding="utf-8") as fh:
        rows = list({(r["rsp_id"], r["month"]): r for r in csv.DictReader(fh)}.values())
    return [r for r in rows if sector is None or sectors[r["rsp_id"]] == sector]


def test_page_shows_the_weighted_wage_and_the_counts_of_the_demo_file(demo_app, as_server):
    at = open_quality()
    assert "Illustrative data" in "\n".join(str(m.value) for m in at.markdown)
    # Computed here from the committed CSV itself, not from the store or its rollups.
    rows = demo_csv_rows()
    with_wage = [r for r in rows if r["avg_starting_wage"]]
    wage = sum(float(r["avg_starting_wage"]) * int(r["placements"]) for r in with_wage) / sum(
        int(r["placements"]) for r in with_wage
    )
    no_bachelor = [r for r in rows if r["placements_no_bachelor"]]
    share = sum(int(r["placements_no_bachelor"]) for r in no_bachelor) / sum(int(r["placements"]) for r in no_bachelor)
    wbl = sum(int(r["wbl_started"] or 0) for r in rows)
    reach = sum(int(r["trainees_underrepresented"] or 0) for r in rows)
    no_bachelor_count = sum(int(r["placements_no_bachelor"]) for r in no_bachelor)
    with_credentials = [r for r in rows if r["credentials_earned"]]
    credentials = sum(int(r["credentials_earned"]) for r in with_credentials)
    credential_rate = credentials / sum(int(r["trainees_completed"]) for r in with_credentials)
    assert tiles(at) == {
        "Average starting wage": f"${wage:,.2f}",
        "Placements without a bachelor's requirement": f"{no_bachelor_count:,}",
        "Share without a bachelor's requirement": f"{share:.0%}",
        "Work-based learning started": f"{wbl:,}",
        "Under-represented trainees": f"{reach:,}",
        "Credentials earned": f"{credentials:,}",
        "Credential rate": f"{credential_rate:.0%}",
    }
    assert tiles(at)["Average starting wage"] == "$23.32"
    # Each question the optional metrics answer is a tab, in the order rsp_data/metrics.py declares them.
    assert [tab.label for tab in at.tabs] == [
        "Are these good jobs?",
        "How much work-based learning?",
        "Who is being reached?",
        "Do trainees earn credentials?",
    ]


def test_page_wage_by_sector_chart_equals_the_query(demo_app, as_server):
    import json

    at = open_quality()
    figures = [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]
    by_title = {f["layout"]["title"]["text"].split("<br>")[0]: f for f in figures}
    wage_fig = by_title["Average starting wage by sector"]
    (trace,) = wage_fig["data"]
    expected = quality_by(demo_app, Filters(), "sector").dropna(subset=["avg_starting_wage"])
    # The bar labels read as the page formats wages: dollars and cents.
    assert sorted(trace["text"]) == sorted(f"${v:,.2f}" for v in expected["avg_starting_wage"])
    # The open question's charts only: the wage and the share without a bachelor's requirement (the count
    # it divides is shown through it), by sector and over time.
    assert chart_titles(at) == [
        "Average starting wage by sector",
        "Average starting wage, each quarter",
        "Share without a bachelor's requirement by sector",
        "Share without a bachelor's requirement, each quarter",
    ]


QUESTIONS = {
    "Are these good jobs?": ["avg_starting_wage", "no_bachelor_share"],
    "How much work-based learning?": ["wbl_started"],
    "Who is being reached?": ["trainees_underrepresented"],
    "Do trainees earn credentials?": ["credential_rate"],
}


@pytest.mark.parametrize("question", list(QUESTIONS))
def test_a_link_opens_a_question_and_draws_only_its_charts(demo_app, as_server, question):
    at = open_quality({"question": question})
    labels = [METRICS[m].label for m in QUESTIONS[question]]
    titles = chart_titles(at)
    assert len(titles) == 2 * len(labels)  # by sector and over time, each
    assert all(any(t.startswith(label) for label in labels) for t in titles), titles
    # The suppressed table belongs to the reach question alone.
    tables = [df for df in at.dataframe if TOTAL in df.value.columns]
    assert len(tables) == (question == "Who is being reached?")


def test_a_link_to_a_question_not_shown_here_says_so_and_opens_the_first(demo_app, as_server):
    # No healthcare partnership reports work-based learning, so that question has no tab.
    at = open_quality({"sector": "healthcare", "question": "How much work-based learning?"})
    assert [w.value for w in at.warning] == [
        "Ignored “question=How much work-based learning?” in the link: not one of the choices here."
    ]
    assert chart_titles(at)[0] == "Average starting wage by partnership"


def test_switching_the_question_redraws_the_page_with_its_charts(demo_app, as_server):
    at = open_quality()
    at.session_state["question"] = "How much work-based learning?"
    at.run()
    assert chart_titles(at) == [
        "Work-based learning started by sector",
        "Work-based learning started, each month",
    ]


REACH = {"question": "Who is being reached?"}


def test_page_suppressed_table_and_its_download_hide_small_counts(demo_app, as_server):
    at = open_quality(REACH)
    (table,) = [df.value for df in at.dataframe if "Partnership" in df.value.columns and TOTAL in df.value.columns]
    counts, reported = suppressed_by_month(demo_app, Filters(), "trainees_underrepresented")
    months = list(counts.columns)
    assert list(table.columns) == ["Partnership", TOTAL, *months]
    body = table[table["Partnership"] != TOTAL].set_index("Partnership")
    # No count from 1 to 4 is readable anywhere in the cells; totals are exact.
    for text in body[months].to_numpy().ravel():
        assert not re.fullmatch(r"[1-4]", text), text
    assert body[TOTAL].tolist() == [f"{v:,}" for v in counts.sum(axis=1)]
    total_row = table[table["Partnership"] == TOTAL].iloc[0]
    assert total_row[months].tolist() == [f"{v:,}" for v in counts.sum(axis=0)]
    # Each reporter reported each of these months but the one a partnership has not sent yet (the demo
    # file has no northwest-ace row for the last month); that cell reads "–", not a count.
    from rsp_data.registry import registry

    names = {p.id: p.name for p in registry().partnerships}
    sent = {(names[r["rsp_id"]], r["month"]) for r in demo_csv_rows() if r["trainees_underrepresented"]}
    assert reported.to_dict("index") == {name: {m: (name, m) in sent for m in months} for name in reported.index}
    assert [(name, m) for name in reported.index for m in months if not reported.at[name, m]] == [
        (names["northwest-ace"], months[-1])
    ]
    # The other cells equal the suppression of the exact counts.
    shown = suppress(counts, 5)
    expected = shown.display.drop(index=TOTAL)[months]
    for r, c in zip(*np.nonzero(~reported.to_numpy()), strict=True):
        if not shown.hidden.iat[r, c]:
            expected.iat[r, c] = "–"
    assert body[months].to_dict("index") == expected.to_dict("index")
    assert body.at[names["northwest-ace"], months[-1]] == "–"
    assert "<5" in body.to_numpy()
    assert (body[months] == "<5").to_numpy().sum() == suppress(counts, 5).primary.to_numpy().sum()
    # The download next to it is made from this same (suppressed) table.
    assert any("Download" in b.label for b in at.download_button)


def test_page_threshold_from_the_environment(demo_app, as_server, monkeypatch):
    monkeypatch.setenv("RSP_SUPPRESS_BELOW", "3")
    at = open_quality(REACH)
    (table,) = [df.value for df in at.dataframe if "Partnership" in df.value.columns and TOTAL in df.value.columns]
    cells = table.drop(columns=["Partnership", TOTAL]).to_numpy().ravel()
    assert "<3" in cells and "<5" not in cells
    assert any("counts from 1 to 2 are shown as “<3”" in c.value for c in at.caption)


def test_page_hides_what_nobody_in_the_filters_reported(demo_app, as_server):
    # No healthcare partnership reports work-based learning in the demo data.
    at = open_quality({"sector": "healthcare"})
    rows = demo_csv_rows("healthcare")
    assert all(r["wbl_started"] == "" for r in rows)
    assert "Work-based learning started" not in tiles(at)
    assert "How much work-based learning?" not in [tab.label for tab in at.tabs]
    assert any("not shown: work-based learning started" in c.value for c in at.caption)
    with_wage = [r for r in rows if r["avg_starting_wage"]]
    wage = sum(float(r["avg_starting_wage"]) * int(r["placements"]) for r in with_wage) / sum(
        int(r["placements"]) for r in with_wage
    )
    assert tiles(at)["Average starting wage"] == f"${wage:,.2f}"


def test_page_before_anybody_reported_says_so(demo_app, as_server):
    at = open_quality({"from": "2020-01", "to": "2022-06"})
    assert not at.metric
    assert any("No partnership in these filters reported" in i.value for i in at.info)

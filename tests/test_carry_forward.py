"""Employers engaged (a stock) as of each partnership's latest report, on a hand-made store, on both stores.

A partnership that has not reported the as-of month counts with its latest report of the CARRY (2) months
before it, if that report lies in the range; older than that it is overdue and not counted
(rsp_data/metrics.py). Every path a page reads gives the same figures, and every write keeps the rollups in step.

| rsp_id (region, sector)                        | Jul | Aug | Sep | Oct | its stock in Oct                 |
|------------------------------------------------|-----|-----|-----|-----|----------------------------------|
| capital-technology (capital, technology)       |  10 |  12 |  15 |  16 | 16, reported                     |
| southwest-manufacturing (southwest, manuf.)    |     |  30 |  33 |     | 33, as of Sep                    |
| southwest-technology (southwest, technology)   |  20 |  21 |     |     | 21, as of Aug (two months back)  |
| capital-healthcare (capital, healthcare)       |   5 |     |     |     | not counted: Jul is three back   |

Each row also enrolls, completes and places 1.
"""

from __future__ import annotations

from datetime import date

import pytest

from queries.filters import Filters
from queries.metrics import kpi_summary, metrics_by, metrics_by_cell, monthly_totals, partnership_totals
from rsp_data import rollups
from rsp_data.imports.apply import apply_import, rollback

TODAY = date(2022, 11, 20)
HEADER = "rsp_id,month,employers_engaged,trainees_enrolled,trainees_completed,placements\r\n"
CT, SM, ST, CH = "capital-technology", "southwest-manufacturing", "southwest-technology", "capital-healthcare"
REPORTS = {
    CT: {"07": 10, "08": 12, "09": 15, "10": 16},
    SM: {"08": 30, "09": 33},
    ST: {"07": 20, "08": 21},
    CH: {"07": 5},
}
ALL = Filters()


def csv(rows: dict[str, dict[str, int]]) -> bytes:
    lines = [f"{rsp},2022-{m},{e},1,1,1\r\n" for rsp, months in rows.items() for m, e in months.items()]
    return (HEADER + "".join(lines)).encode()


@pytest.fixture(scope="module")
def store(stores):
    eng = stores.engine("carry")
    apply_import(eng, csv(REPORTS), "hand_made.csv", "tests", today=TODAY)
    yield eng
    eng.dispose()


def in_step(engine) -> list[str]:
    with engine.connect() as conn:
        return rollups.check(conn)


def employers(df) -> dict[str, int]:
    return {g: int(e) for g, e in zip(df["group_id"], df["employers_engaged"], strict=True)}


def test_the_oct_stock_counts_sep_and_aug_reports_but_not_jul(store):
    assert in_step(store) == []
    kpi = kpi_summary(store, ALL)
    assert kpi["as_of_label"] == "2022-10"
    # CT 16 (Oct) + SM 33 (Sep) + ST 21 (Aug); CH's Jul is three months back: overdue, not counted
    assert kpi["employers_engaged"] == 16 + 33 + 21 == 70
    assert kpi["reporting"] == 1  # only CT sent October
    assert (kpi["carried"], kpi["carried_months"]) == (2, ["2022-08", "2022-09"])  # ST as of Aug, SM as of Sep
    assert kpi["placements"] == 9  # flows are unchanged: every row's 1


@pytest.mark.parametrize(
    ("filters", "as_of", "stock", "carried"),
    [
        (Filters(month_from="2022-10"), "2022-10", 16, 0),  # a range starting in Oct: only Oct's reports
        (Filters(month_from="2022-09"), "2022-10", 16 + 33, 1),  # ST's Aug lies before the range
        (Filters(month_from="2022-08"), "2022-10", 16 + 33 + 21, 2),
        (Filters(month_to="2022-09"), "2022-09", 15 + 33 + 21 + 5, 2),  # in Sep, CH's Jul is two back
        (Filters(month_to="2022-08"), "2022-08", 12 + 30 + 21 + 5, 1),
    ],
)
def test_the_range_bounds_the_reports_a_stock_reads(store, filters, as_of, stock, carried):
    kpi = kpi_summary(store, filters)
    assert (kpi["as_of_label"], kpi["employers_engaged"], kpi["carried"]) == (as_of, stock, carried)


def test_every_path_gives_the_same_stock(store):
    # by region: capital CT 16 (CH not counted); southwest SM 33 + ST 21
    assert employers(metrics_by(store, ALL, "region")) == {"capital": 16, "southwest": 54}
    # by sector: technology CT 16 + ST 21, manufacturing SM 33; healthcare reported in range but counts 0
    assert employers(metrics_by(store, ALL, "sector")) == {"healthcare": 0, "manufacturing": 33, "technology": 37}
    cells = metrics_by_cell(store, ALL)
    got = {
        (r, s): int(e)
        for r, s, e in zip(cells["region_id"], cells["sector_id"], cells["employers_engaged"], strict=True)
    }
    assert got == {
        ("capital", "healthcare"): 0,
        ("capital", "technology"): 16,
        ("southwest", "manufacturing"): 33,
        ("southwest", "technology"): 21,
    }
    per_partnership = {CT: 16, SM: 33, ST: 21, CH: 0}
    assert employers(metrics_by(store, ALL, "partnership")) == per_partnership  # running_totals in SQL
    ranked = partnership_totals(store, ALL, order_by="employers_engaged", descending=True, limit=10)  # the arrays
    assert employers(ranked) == per_partnership
    assert ranked["group_id"].tolist() == [SM, ST, CT, CH]
    assert dict(zip(ranked["group_id"], ranked["reporting"], strict=True)) == {SM: 0, ST: 0, CT: 1, CH: 0}
    # chosen partnerships read the facts: the same definition
    assert kpi_summary(store, Filters(partnerships=(CT, SM, ST, CH)))["employers_engaged"] == 70
    chosen = kpi_summary(store, Filters(partnerships=(SM, ST, CH)))  # none sent Oct: as of Sep, CH's Jul counts
    assert (chosen["as_of_label"], chosen["employers_engaged"]) == ("2022-09", 33 + 21 + 5)
    # (CH's only report lies before the range: it is not among the partnerships in range)
    assert employers(metrics_by(store, Filters(partnerships=(SM, CH), month_from="2022-08"), "partnership")) == {SM: 33}


def test_each_month_of_the_series_reads_the_latest_reports(store):
    series = monthly_totals(store, ALL)
    # Jul CT 10 + ST 20 + CH 5; Aug CT 12 + SM 30 + ST 21 + CH 5 (Jul's); Sep 15 + 33 + 21 (Aug's) + 5 (Jul's);
    # Oct 16 + 33 (Sep's) + 21 (Aug's)
    assert series["employers_engaged"].tolist() == [35, 68, 74, 70]
    assert series["placements"].tolist() == [3, 3, 2, 1]
    by_region = monthly_totals(store, ALL, "region")
    oct_ = by_region[by_region["month"] == "2022-10-01"]
    assert employers(oct_) == {"capital": 16, "southwest": 54}
    per_rsp = monthly_totals(store, ALL, "partnership")
    oct_ = per_rsp[per_rsp["month"] == "2022-10-01"]
    assert employers(oct_) == {CT: 16, SM: 33, ST: 21}  # SM and ST with no flows that month
    assert oct_.set_index("group_id").loc[[SM, ST], "placements"].tolist() == [0, 0]


def test_importing_the_missing_month_replaces_the_carried_value_and_a_rollback_restores_it(store):
    batch = apply_import(store, csv({SM: {"10": 40}}), "sm-october.csv", "tests", today=TODAY).batch_id
    assert in_step(store) == []
    kpi = kpi_summary(store, ALL)
    assert (kpi["employers_engaged"], kpi["reporting"], kpi["carried"]) == (16 + 40 + 21, 2, 1)
    assert employers(metrics_by(store, ALL, "region")) == {"capital": 16, "southwest": 61}
    assert monthly_totals(store, ALL)["employers_engaged"].tolist() == [35, 68, 74, 77]

    rollback(store, batch, "tests")
    assert in_step(store) == []
    kpi = kpi_summary(store, ALL)
    assert (kpi["employers_engaged"], kpi["reporting"], kpi["carried"]) == (70, 1, 2)
    assert employers(metrics_by(store, ALL, "region")) == {"capital": 16, "southwest": 54}


def test_a_report_in_a_later_month_moves_the_as_of_month_and_ends_older_carries(store):
    """A new month (Nov) from CT alone: SM's Sep is two back and counts, ST's Aug is three back and does not."""
    batch = apply_import(store, csv({CT: {"11": 18}}), "ct-november.csv", "tests", today=date(2022, 12, 20)).batch_id
    assert in_step(store) == []
    kpi = kpi_summary(store, ALL)
    assert (kpi["as_of_label"], kpi["employers_engaged"], kpi["carried"]) == ("2022-11", 18 + 33, 1)
    assert employers(metrics_by(store, ALL, "partnership")) == {CT: 18, SM: 33, ST: 0, CH: 0}
    rollback(store, batch, "tests")
    assert in_step(store) == []
    assert kpi_summary(store, ALL)["employers_engaged"] == 70


def test_partnerships_whose_stock_does_not_count_sort_as_zero(store):
    """Sorted by employers from the fewest (in SQL, no page): CH's overdue report counts 0, not unknown."""
    got = partnership_totals(store, ALL, order_by="employers_engaged")
    assert got["group_id"].tolist() == [CH, CT, ST, SM]
    assert got["employers_engaged"].tolist() == [0, 16, 21, 33]

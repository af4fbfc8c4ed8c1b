"""Edges of queries/metrics.py that the demo and hand-made stores do not reach, on a small store made here:
a leading partnership with no row in the range's last month, wages in cents, the "All other" row's own
columns, a partnership count over a range that leaves one out, and partnership_rows' defaults."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from sqlalchemy import update

from queries._base import figures
from queries.filters import Filters
from queries.metrics import monthly_totals, partnership_count, partnership_rows, partnership_totals, top_with_others
from rsp_data.imports.apply import apply_import
from rsp_data.schema import partnerships

HEADER = b"rsp_id,month,employers_engaged,trainees_enrolled,trainees_completed,placements,avg_starting_wage\r\n"
# capital-technology leads on placements (100) but sent nothing for 2024-03; 2024-02 has no other report.
ROWS = (
    b"capital-technology,2024-01,5,60,55,50,22.37\r\n"
    b"capital-technology,2024-02,5,60,55,50,\r\n"
    b"southwest-technology,2024-01,4,3,2,1,30.10\r\n"
    b"southwest-technology,2024-03,4,3,2,2,\r\n"
    b"capital-healthcare,2024-03,3,9,4,3,19.99\r\n"
)


@pytest.fixture(scope="module")
def small(stores):
    engine = stores.engine("edges")
    apply_import(engine, HEADER + ROWS, "edges.csv", "tests", today=date(2024, 4, 20))
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def tied(stores):
    """The same facts, two of the three partnerships renamed to one name that sorts last."""
    engine = stores.engine("tied")
    apply_import(engine, HEADER + ROWS, "edges.csv", "tests", today=date(2024, 4, 20))
    with engine.begin() as conn:
        same = partnerships.c.rsp_id.in_(["southwest-technology", "capital-healthcare"])
        conn.execute(update(partnerships).where(same).values(name="Zz one name"))
    yield engine
    engine.dispose()


def by_month(frame: pd.DataFrame, group: str, column: str) -> dict[str, float]:
    rows = frame[frame["group_id"] == group]
    return dict(zip(rows["month"].dt.strftime("%Y-%m"), rows[column], strict=True))


def test_all_other_partnerships_keep_a_month_their_leader_did_not_report(small):
    got = monthly_totals(small, Filters(), split="partnership", top=1, metrics=("placements",))
    assert by_month(got, "capital-technology", "placements") == {"2024-01": 50, "2024-02": 50}
    # 2024-02 is left out: nobody else reported it.
    assert by_month(got, "others", "placements") == {"2024-01": 1, "2024-03": 5}
    assert set(got.loc[got["group_id"] == "others", "group_name"]) == {"All other partnerships"}


def test_a_leader_missing_the_last_month_keeps_its_stock_there_as_of_its_latest_report(small):
    got = monthly_totals(small, Filters(), split="partnership", top=1, metrics=("employers_engaged", "placements"))
    # March: capital-technology's February report stands for it (one month back), with no flows that month.
    assert by_month(got, "capital-technology", "employers_engaged") == {"2024-01": 5, "2024-02": 5, "2024-03": 5}
    assert by_month(got, "capital-technology", "placements") == {"2024-01": 50, "2024-02": 50, "2024-03": 0}
    # The rest: Jan southwest-technology 4; Feb its January report; Mar its own 4 + capital-healthcare's 3.
    assert by_month(got, "others", "employers_engaged") == {"2024-01": 4, "2024-02": 4, "2024-03": 7}


def test_a_monthly_average_wage_keeps_its_cents(small):
    got = monthly_totals(small, Filters(), metrics=("avg_starting_wage",))
    # Jan: (22.37 × 50 + 30.10 × 1) ÷ 51; Mar: 19.99 × 3 ÷ 3 (February reported no wage).
    wages = by_month(got, "all", "avg_starting_wage")
    assert wages["2024-01"] == pytest.approx((22.37 * 50 + 30.10) / 51)
    assert wages["2024-03"] == pytest.approx(19.99)
    assert pd.isna(wages["2024-02"])


def test_the_partnership_count_is_of_those_that_reported_in_the_range(small):
    assert partnership_count(small, Filters()) == 3
    # March: capital-technology's last report (February) is before the range.
    assert partnership_count(small, Filters(month_from="2024-03", month_to="2024-03")) == 2


def test_partnership_rows_rank_by_placements_from_the_most(small):
    got = partnership_rows(small, Filters(), limit=None)
    assert got["group_id"].tolist() == ["capital-technology", "capital-healthcare", "southwest-technology"]
    assert got["placements"].tolist() == [100, 3, 3]  # a tie: in rsp_id order


def test_the_range_holds_a_partnership_whose_last_report_is_its_first_month(small):
    got = partnership_totals(small, Filters(month_from="2024-02", month_to="2024-03")).set_index("group_id")
    assert got.loc["capital-technology", "placements"] == 50  # February only
    assert got.loc["southwest-technology", "placements"] == 2


def test_pages_by_name_read_from_the_end_keep_ties_in_rsp_id_order(tied):
    """Pages in the second half of the count are read backwards; equal names still go by rsp_id."""
    whole = partnership_totals(tied, Filters(), order_by="group_name")["group_id"].tolist()
    assert whole == ["capital-technology", "capital-healthcare", "southwest-technology"]
    pages = [
        partnership_totals(tied, Filters(), order_by="group_name", limit=1, offset=i, total=3)["group_id"].tolist()
        for i in range(3)
    ]
    assert pages == [[rsp] for rsp in whole]
    last_two = partnership_totals(tied, Filters(), order_by="group_name", limit=2, offset=2, total=3)
    assert last_two["group_id"].tolist() == ["southwest-technology"]


def rows(placements: list[int], months: list[int]) -> pd.DataFrame:
    n = len(placements)
    columns = {
        "group_id": [f"g{i}" for i in range(n)],
        "group_name": [f"G{i}" for i in range(n)],
        "placements": placements,
        "trainees_completed": [p * 2 for p in placements],
        "months": months,
    }
    return figures(columns, as_of=date(2024, 3, 1))


def test_top_with_others_leaves_exactly_n_groups_alone():
    four = rows([9, 7, 5, 3], [3, 3, 3, 3])
    assert top_with_others(four, "placements", 4).equals(four)


def test_the_all_other_row_names_its_groups_and_keeps_the_range():
    got = top_with_others(rows([1, 9, 7, 5], [3, 1, 2, 2]), "placements", 2)
    assert got.index.tolist() == [0, 1]
    assert got["group_id"].tolist() == ["g1", "others"]
    other = got.iloc[1]
    assert other["group_name"] == "All other 3 groups"
    assert other["placements"] == 13 and other["placement_rate"] == pytest.approx(0.5)
    assert other["months"] == 3  # the longest of the groups it holds
    assert other["as_of"] == date(2024, 3, 1)

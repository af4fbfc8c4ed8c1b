"""Every query path gives the numbers a plain computation over the facts gives.

metrics_by and monthly_totals read rollup_cells, running_totals or the facts depending on the
filters (queries/metrics.py). Here a reference written in pandas over the whole fact table (what
the pages must never do at scale, fine for 913 rows) is compared with each path, for many
filter combinations, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import itertools

import pandas as pd
import pytest
from sqlalchemy import select

from queries._base import frame, source, sums_select
from queries.filters import Filters
from queries.metrics import (
    as_of_month,
    metrics_by,
    metrics_by_cell,
    monthly_totals,
    partnership_count,
    partnership_totals,
)
from rsp_data.metrics import CARRY, REQUIRED_KEYS
from rsp_data.months import as_date, shift
from rsp_data.schema import monthly_metrics, partnerships, regions, sectors

FLOWS = [k for k in REQUIRED_KEYS if k != "employers_engaged"]

FILTERS = [
    Filters(),
    Filters(month_from="2024-01", month_to="2025-06"),
    Filters(month_from="2023-05"),
    Filters(month_to="2022-12"),
    Filters(regions=("capital",)),
    Filters(sectors=("manufacturing", "healthcare"), month_from="2025-02"),
    Filters(regions=("eastern", "south-central"), sectors=("manufacturing",)),
    Filters(partnerships=("capital-technology", "northwest-ace"), month_from="2024-03", month_to="2026-01"),
    Filters(regions=("northwest",), month_from="2030-01"),  # nothing in range
]


@pytest.fixture(scope="module")
def facts(demo_engine) -> pd.DataFrame:
    stmt = select(monthly_metrics, partnerships.c.region_id, partnerships.c.sector_id).join(
        partnerships, partnerships.c.rsp_id == monthly_metrics.c.rsp_id
    )
    with demo_engine.connect() as conn:
        df = pd.DataFrame(conn.execute(stmt).mappings().all())
    df["month"] = df["month"].map(as_date)
    return df


def latest_reports(df: pd.DataFrame, month) -> pd.DataFrame:
    """Each partnership's row a stock at `month` reads (rsp_data/metrics.py's definition): its report of `month`,
    else its latest of the CARRY months before; `df` holds only the range's rows, so older than the range is out."""
    if month is None:  # nothing in range
        return df
    recent = df[(df["month"] <= month) & (df["month"] >= shift(month, -CARRY))]
    return recent.sort_values("month").groupby("rsp_id").tail(1)


def in_range(facts: pd.DataFrame, f: Filters) -> pd.DataFrame:
    df = facts
    if f.regions:
        df = df[df["region_id"].isin(f.regions)]
    if f.sectors:
        df = df[df["sector_id"].isin(f.sectors)]
    if f.partnerships:
        df = df[df["rsp_id"].isin(f.partnerships)]
    if f.month_from:
        df = df[df["month"] >= pd.Timestamp(f.month_from + "-01").date()]
    if f.month_to:
        df = df[df["month"] <= pd.Timestamp(f.month_to + "-01").date()]
    return df


def reference(facts: pd.DataFrame, f: Filters, by: str | None) -> pd.DataFrame:
    df = in_range(facts, f)
    key = {"sector": "sector_id", "region": "region_id", "partnership": "rsp_id", None: None}.get(by)
    key = ["sector_id", "region_id"] if by == "cell" else key
    df = df.assign(all="all")
    key = key or "all"
    flows = df.groupby(key)[FLOWS].sum()
    flows["months"] = df.groupby(key)["month"].nunique()
    as_of = df["month"].max() if len(df) else None
    at = df[df["month"] == as_of]
    stock = latest_reports(df, as_of).groupby(key).agg(employers_engaged=("employers_engaged", "sum"))
    reporting = at.groupby(key).agg(reporting=("rsp_id", "count"))
    out = flows.join(stock, how="left").join(reporting, how="left").fillna(0).astype("int64")
    return out.sort_index()


@pytest.mark.parametrize("f", FILTERS)
def test_metrics_by_cell_equals_the_facts(demo_engine, facts, f):
    """The sector × region grid of the Partnerships page: every cell with data in range, its
    flows, the stock and the rows reporting at the as-of month, the names and the rates."""
    got = metrics_by_cell(demo_engine, f)
    want = reference(facts, f, "cell")
    cols = [*FLOWS, "employers_engaged", "reporting"]
    assert len(got) == len(want)
    if want.empty:
        return
    got = got.set_index(["sector_id", "region_id"]).sort_index()
    assert got[cols].to_numpy().tolist() == want[cols].to_numpy().tolist()
    assert got.index.tolist() == want.index.tolist()
    with demo_engine.connect() as conn:
        sector_names = dict(conn.execute(select(sectors.c.sector_id, sectors.c.name)).all())
        region_names = dict(conn.execute(select(regions.c.region_id, regions.c.name)).all())
    assert got["sector_name"].tolist() == [sector_names[s] for s, _ in want.index]
    assert got["region_name"].tolist() == [region_names[r] for _, r in want.index]
    enrolled = want["trainees_enrolled"].where(want["trainees_enrolled"] > 0)
    assert got["completion_rate"].tolist() == pytest.approx(
        (want["trainees_completed"] / enrolled).tolist(), nan_ok=True
    )


@pytest.mark.parametrize("f", [f for f in FILTERS if not f.regions and not f.partnerships])
def test_the_rollups_cell_grain_summed_by_sector_and_region_equals_the_facts(demo_engine, facts, f):
    """source(filters, "cell") without a region filter (metrics_by_cell takes ranking's cell sums there) still
    reads the grain that holds both a sector and a region: each cell's sums equal the facts'."""
    src = source(f, "cell")
    keys = {"sector_id": src.keys["sector"], "region_id": src.keys["region"]}
    got = frame(demo_engine, sums_select(src, as_of_month(demo_engine, f), keys))
    want = reference(facts, f, "cell")
    cols = [*FLOWS, "months", "employers_engaged", "reporting"]
    assert len(got) == len(want)
    if want.empty:
        return
    got = got.set_index(["sector_id", "region_id"]).sort_index()
    assert got.index.tolist() == want.index.tolist()
    assert got[cols].to_numpy().tolist() == want[cols].to_numpy().tolist()


@pytest.mark.parametrize(("f", "by"), list(itertools.product(FILTERS, [None, "sector", "region", "partnership"])))
def test_metrics_by_equals_the_facts(demo_engine, facts, f, by):
    got = metrics_by(demo_engine, f, by)
    want = reference(facts, f, by)
    cols = [*FLOWS, "months", "employers_engaged", "reporting"]
    if want.empty:  # nothing in range: no groups, or one all-zero row when ungrouped
        assert len(got) == (1 if by is None else 0)
        assert got[cols].sum().sum() == 0
        return
    got = got.set_index("group_id")[cols].sort_index()
    want = want[cols]
    want.index.name = "group_id"
    pd.testing.assert_frame_equal(got, want, check_names=False)


@pytest.mark.parametrize("f", FILTERS)
@pytest.mark.parametrize("split", [None, "sector", "region"])
def test_monthly_totals_equal_the_facts(demo_engine, facts, f, split):
    got = monthly_totals(demo_engine, f, split)
    want = monthly_reference(in_range(facts, f), split)
    assert len(got) == len(want)
    assert got[list(REQUIRED_KEYS)].sum().to_dict() == want[list(REQUIRED_KEYS)].sum().to_dict()
    got = got.assign(month=got["month"].dt.date, group_id=got["group_id"] if split else "all")
    got = got.set_index(["month", "group_id"])[list(REQUIRED_KEYS)].sort_index()
    assert got.to_numpy().tolist() == want.to_numpy().tolist()
    assert got.index.tolist() == want.index.tolist()


def monthly_reference(df: pd.DataFrame, split: str | None) -> pd.DataFrame:
    """Each month's flows and stock (as of the latest reports, `latest_reports`) per group with either."""
    key = "all" if split is None else f"{split}_id"
    df = df.assign(all="all")
    flows = df.groupby(["month", key])[FLOWS].sum()
    stocks = [
        latest_reports(df, m).groupby(key)[["employers_engaged"]].sum().assign(month=m).set_index("month", append=True)
        for m in sorted(df["month"].unique())
    ]
    if not stocks:
        return flows.assign(employers_engaged=0)[list(REQUIRED_KEYS)]
    stock = pd.concat(stocks).reorder_levels(["month", key])
    out = flows.join(stock, how="outer").fillna(0).astype("int64")
    out.index.names = ["month", "group_id"]
    return out[list(REQUIRED_KEYS)].sort_index()


def test_split_by_partnership_keeps_the_leaders_and_one_group_for_the_rest(demo_engine, facts):
    got = monthly_totals(demo_engine, Filters(), "partnership", top=3)
    totals = facts.groupby("rsp_id")["placements"].sum().sort_values(ascending=False)
    leaders = set(totals.index[:3])
    assert set(got["group_id"]) == leaders | {"others"}
    assert got.loc[got["group_id"] == "others", "group_name"].unique().tolist() == ["All other partnerships"]
    # nothing lost: each month's groups add up to the month's total
    assert got["placements"].sum() == facts["placements"].sum()
    assert got.groupby("month")["placements"].sum().tolist() == facts.groupby("month")["placements"].sum().tolist()


@pytest.mark.parametrize("split", ["region", "sector"])
def test_split_by_region_or_sector_beyond_top_keeps_the_leaders_and_one_group_for_the_rest(demo_engine, facts, split):
    """Connecticut has 5 regions and 5 sectors: with top=2 the 2 with the most placements over the
    range are kept, and "All other regions" ("… sectors") holds the other 3 each month."""
    f = Filters(month_from="2024-01")
    got = monthly_totals(demo_engine, f, split, top=2)
    inside = facts[facts["month"] >= pd.Timestamp("2024-01-01").date()]
    totals = inside.groupby(f"{split}_id")["placements"].sum()
    totals = totals.reset_index().sort_values(["placements", f"{split}_id"], ascending=[False, True])
    leaders = totals[f"{split}_id"].tolist()[:2]
    assert set(got["group_id"]) == set(leaders) | {"others"}
    assert got.loc[got["group_id"] == "others", "group_name"].unique().tolist() == [f"All other {split}s"]
    for leader in leaders:
        mine = got[got["group_id"] == leader]
        assert mine["placements"].sum() == inside.loc[inside[f"{split}_id"] == leader, "placements"].sum()
    assert got["placements"].sum() == inside["placements"].sum()
    by_month = got.groupby("month")[list(REQUIRED_KEYS)].sum()
    want = monthly_reference(inside, None)
    assert by_month.to_numpy().tolist() == want.to_numpy().tolist()
    # the leaders' employers each month are their own, as of their latest reports
    mine = got[got["group_id"].isin(leaders)].assign(month=lambda d: d["month"].dt.date)
    want = monthly_reference(inside, split)
    want = want[want.index.get_level_values("group_id").isin(leaders)]
    assert (
        mine.set_index(["month", "group_id"]).sort_index()["employers_engaged"].tolist()
        == want["employers_engaged"].tolist()
    )
    # at the default top (12), all 5 groups, no "others"
    assert set(monthly_totals(demo_engine, f, split)["group_id"]) == set(totals[f"{split}_id"])


def test_partnership_totals_sort_search_and_page_in_sql(demo_engine, facts):
    f = Filters(month_from="2024-01")
    want = reference(facts, f, "partnership")
    ranked = partnership_totals(demo_engine, f, order_by="placements", descending=True)
    assert ranked["placements"].tolist() == sorted(want["placements"], reverse=True)
    page = partnership_totals(demo_engine, f, order_by="placements", descending=True, limit=5, offset=5)
    assert page["group_id"].tolist() == ranked["group_id"].tolist()[5:10]
    assert partnership_count(demo_engine, f) == len(want)
    found = partnership_totals(demo_engine, f, search="HEALTH")
    assert len(found) > 0 and all(
        "health" in n.lower() or "health" in i for n, i in zip(found["group_name"], found["group_id"], strict=True)
    )
    assert partnership_count(demo_engine, f, search="HEALTH") == len(found)
    assert partnership_totals(demo_engine, f, search="%").empty  # a wildcard is a literal character
    by_rate = partnership_totals(demo_engine, f, order_by="placement_rate", descending=True)
    rates = (by_rate["placements"] / by_rate["trainees_completed"].where(by_rate["trainees_completed"] > 0)).tolist()
    shown = [r for r in rates if r == r]
    assert shown == sorted(shown, reverse=True) and rates[: len(shown)] == shown  # no-rate rows last


@pytest.mark.parametrize("f", FILTERS)
def test_ranked_pages_read_each_partnerships_stock_as_the_facts_do(demo_engine, facts, f):
    """The ranked page (queries/ranking.py's arrays) and the page by name (running_totals in SQL) give each
    partnership the employers of its latest report within CARRY months, and `reporting` at the as-of month."""
    want = reference(facts, f, "partnership")[["employers_engaged", "reporting"]]
    by_value = partnership_totals(demo_engine, f, order_by="employers_engaged", descending=True, limit=100)
    by_name = partnership_totals(demo_engine, f, limit=100)
    for got in (by_value, by_name):
        got = got.set_index("group_id")[["employers_engaged", "reporting"]].sort_index()
        assert got.to_numpy().tolist() == want.to_numpy().tolist()
        assert got.index.tolist() == want.index.tolist()
    assert by_value["employers_engaged"].tolist() == sorted(want["employers_engaged"], reverse=True)

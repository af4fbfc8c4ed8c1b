"""Aggregated metrics with the right semantics: stocks at the latest month, flows summed, rates as ratios of sums."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Engine, and_, func, select

from queries._base import as_date, conditions, facts_join, frame, month_label
from queries.filters import Filters
from rsp_data.metrics import BASE_KEYS, DERIVED_METRICS
from rsp_data.schema import monthly_metrics as facts
from rsp_data.schema import partnerships, regions, sectors

# Which column identifies a group, and where its display name lives.
GROUPINGS = {
    "sector": (partnerships.c.sector_id, sectors, sectors.c.sector_id),
    "region": (partnerships.c.region_id, regions, regions.c.region_id),
    "partnership": (partnerships.c.rsp_id, partnerships, partnerships.c.rsp_id),
}
GROUP_NOUNS = {"sector": "Sector", "region": "Region", "partnership": "Partnership"}


def add_rates(df: pd.DataFrame) -> pd.DataFrame:
    """Derived rates as ratios of the sums in each row (NaN where the denominator is 0)."""
    df = df.copy()
    for metric in DERIVED_METRICS:
        den = df[metric.denominator].astype("float64")
        df[metric.key] = df[metric.numerator].astype("float64") / den.where(den > 0)
    return df


def _with_group(df: pd.DataFrame, key) -> pd.DataFrame:
    """Ungrouped results get the single group id 'all'."""
    if key is None:
        df.insert(0, "group_id", "all")
    return df


def as_of_month(engine: Engine, filters: Filters):
    """The latest month with data inside the filters: the month a stock is read at."""
    stmt = select(func.max(facts.c.month)).select_from(facts_join()).where(*conditions(filters))
    with engine.connect() as conn:
        return as_date(conn.execute(stmt).scalar())


def metrics_by(engine: Engine, filters: Filters, by: str | None = None) -> pd.DataFrame:
    """One row per group (or a single row when by is None) with every metric over the filtered range.

    Columns: group_id, group_name, employers_engaged, trainees_enrolled, trainees_completed,
    placements, completion_rate, placement_rate, months, reporting, as_of (a date or None).
    employers_engaged is the sum of the partnerships' values at the as-of month (the latest
    month in range with data), the same month for every group, so groups compare at one date.
    """
    conds = conditions(filters)
    # Ungrouped: no GROUP BY at all (a bound constant in GROUP BY is not portable).
    key, name_table, name_key = (None, None, None) if by is None else GROUPINGS[by]
    group_cols = [] if key is None else [key.label("group_id")]
    group_by = [] if key is None else [key]

    flows = (
        select(
            *group_cols,
            func.sum(facts.c.trainees_enrolled).label("trainees_enrolled"),
            func.sum(facts.c.trainees_completed).label("trainees_completed"),
            func.sum(facts.c.placements).label("placements"),
            func.count(func.distinct(facts.c.month)).label("months"),
        )
        .select_from(facts_join())
        .where(*conds)
        .group_by(*group_by)
    )
    flows_df = _with_group(frame(engine, flows), key)

    as_of = as_of_month(engine, filters)
    stock_df = pd.DataFrame(columns=["group_id", "employers_engaged", "reporting"])
    if as_of is not None:
        # employers_engaged is a stock: read it at one month, never sum it over months.
        stock = (
            select(
                *group_cols,
                func.sum(facts.c.employers_engaged).label("employers_engaged"),
                func.count(facts.c.rsp_id).label("reporting"),
            )
            .select_from(facts_join())
            .where(and_(*conds, facts.c.month == as_of))
            .group_by(*group_by)
        )
        stock_df = _with_group(frame(engine, stock), key)

    df = flows_df.merge(stock_df, on="group_id", how="outer")
    if by is None:
        df["group_name"] = "All partnerships"
    else:
        names = frame(engine, select(name_key.label("group_id"), name_table.c.name.label("group_name")))
        df = names.merge(df, on="group_id", how="inner")
    for col in (*BASE_KEYS, "months", "reporting"):
        if col not in df:
            df[col] = 0
        df[col] = pd.to_numeric(df[col], errors="coerce").fillna(0).astype("int64")
    df = add_rates(df)
    df["as_of"] = as_of
    cols = ["group_id", "group_name", *BASE_KEYS, "completion_rate", "placement_rate", "months", "reporting", "as_of"]
    return df[cols].sort_values("group_name", kind="stable").reset_index(drop=True)


def kpi_summary(engine: Engine, filters: Filters) -> dict:
    """The headline figures for the filters: a dict of metric -> value, plus as_of and months."""
    row = metrics_by(engine, filters).iloc[0].to_dict()
    row["as_of_label"] = month_label(row["as_of"])
    return row


def monthly_totals(engine: Engine, filters: Filters, split: str | None = None) -> pd.DataFrame:
    """Each month's base metrics summed across the filtered partnerships, per group when split.

    Columns: month (date), group_id, group_name, and the four base metrics. Summing the stock
    across partnerships within one month is right; summing it across months is not (see trends).
    """
    conds = conditions(filters)
    key = None if split is None else GROUPINGS[split][0]
    stmt = (
        select(
            facts.c.month.label("month"),
            *([] if key is None else [key.label("group_id")]),
            *[func.sum(facts.c[m]).label(m) for m in BASE_KEYS],
        )
        .select_from(facts_join())
        .where(*conds)
        .group_by(facts.c.month, *([] if key is None else [key]))
        .order_by(facts.c.month)
    )
    df = _with_group(frame(engine, stmt), key)
    df["month"] = pd.to_datetime(df["month"].map(as_date))
    for m in BASE_KEYS:
        df[m] = pd.to_numeric(df[m]).astype("int64")
    if split is None:
        df["group_name"] = "All partnerships"
    else:
        _, name_table, name_key = GROUPINGS[split]
        names = frame(engine, select(name_key.label("group_id"), name_table.c.name.label("group_name")))
        df = df.merge(names, on="group_id", how="left")
    return (
        df[["month", "group_id", "group_name", *BASE_KEYS]].sort_values(["month", "group_name"]).reset_index(drop=True)
    )

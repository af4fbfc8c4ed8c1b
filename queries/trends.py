"""Monthly, quarterly and cumulative series of one metric: pandas over `metrics.monthly_totals`' frame."""

from __future__ import annotations

import pandas as pd

from queries._base import needs
from rsp_data.metrics import METRICS, STOCK, value

VIEWS = ("monthly", "quarterly", "cumulative")


def metric_series(monthly: pd.DataFrame, metric: str, view: str = "monthly") -> pd.DataFrame:
    """Series of `metric` per group (period, period_label, group_id, group_name, value, months_in_period):
    a stock at the quarter's last month and never accumulated; ratios of the quarter's (running) sums."""
    if view not in VIEWS:
        raise ValueError(f"view must be one of {VIEWS}, not {view!r}")
    info = METRICS[metric]
    cols = ["period", "period_label", "group_id", "group_name", "value", "months_in_period"]
    if monthly.empty:
        return pd.DataFrame(columns=cols)
    df = monthly.sort_values("month").copy()
    needed = list(needs(metric))

    if view == "quarterly":
        df["period"] = df["month"].dt.to_period("Q").dt.start_time
        last_month = df.groupby("period")["month"].transform("max")
        grouped = df.groupby(["period", "group_id", "group_name"], as_index=False).agg(
            **{c: (c, "sum") for c in needed}, months_in_period=("month", "nunique")
        )
        if info.kind == STOCK:
            # A stock at quarter end: the value in the quarter's last month with data.
            at_end = (
                df[df["month"] == last_month]
                .groupby(["period", "group_id", "group_name"], as_index=False)[metric]
                .sum()
            )
            grouped = grouped.drop(columns=[metric]).merge(at_end, on=["period", "group_id", "group_name"], how="left")
            grouped[metric] = grouped[metric].fillna(0)
        df = grouped
        df["period_label"] = df["period"].dt.year.astype(str) + " Q" + df["period"].dt.quarter.astype(str)
    else:
        df = df.rename(columns={"month": "period"})
        df["months_in_period"] = 1
        df["period_label"] = df["period"].dt.strftime("%b %Y")
        if view == "cumulative" and info.kind != STOCK:
            df = df.sort_values("period")
            for c in needed:
                df[c] = df.groupby("group_id")[c].cumsum()

    df["value"] = value(metric, df)
    return df[cols].sort_values(["period", "group_name"]).reset_index(drop=True)

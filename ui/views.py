"""What a page draws, computed once per filter combination and shared by every session. Called through
`ui.cache.memo` with the query cache as q (`q(fn, *args)` is `fn(engine, *args)`). Hashable arguments; no Streamlit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from queries import reporting
from queries.compare import rankings, sector_region_matrix
from queries.filters import Filters
from queries.goals import grant_placements_by_month
from queries.metrics import DEFAULT, metrics_by, metrics_by_cell, monthly_totals, partnership_rows, top_with_others
from queries.quality import quality_by, quality_monthly, suppressed_by_month
from queries.suppression import TOTAL, suppress
from queries.trends import metric_series
from rsp_data.metrics import AVERAGE, METRICS, PER_ADULTS, RATE, parts, reported_by
from rsp_data.registry import registry
from ui import charts

Query = Callable[..., Any]  # q(query_function, *args) -> query_function(engine, *args)


def asking(*metrics: str) -> dict:
    """A view query's `metrics=`: none where the defaults cover them, so it shares the pages' cached result."""
    extra = [m for m in metrics if m not in DEFAULT]
    return {"metrics": (*DEFAULT, *extra)} if extra else {}


def kpi_sparklines(
    q: Query, filters: Filters, metrics: tuple[str, ...], partial=None
) -> dict[str, list[tuple[str, float]]]:
    """The last two years of each KPI as (period label, value): monthly, or by quarter for the noisy rates and
    averages; without the `partial` month (a date), whose figures are not all in: its dip would read as a drop."""
    monthly = q(monthly_totals, filters, None, **asking(*metrics))
    if partial is not None:
        monthly = monthly[monthly["month"] < pd.Timestamp(partial)]
    out = {}
    for metric in metrics:
        is_rate = METRICS[metric].kind in (RATE, AVERAGE)
        series = metric_series(monthly, metric, "quarterly" if is_rate else "monthly").tail(8 if is_rate else 24)
        out[metric] = list(zip(series["period_label"], series["value"].fillna(0).tolist(), strict=True))
    return out


BREAKDOWN_BARS = 12  # beyond this many groups, the leaders and one bar for all the others


def breakdown(q: Query, filters: Filters, metric: str, kind: str, note: str):
    """(figure, numbers table) of `metric` by sector or region, the leader named in the title."""
    rows = top_with_others(q(metrics_by, filters, kind, **asking(metric)), metric, BREAKDOWN_BARS, f"{kind}s")
    label = METRICS[metric].label
    named = rows[rows["group_id"] != "others"]
    top = named.sort_values(metric, ascending=False).iloc[0] if len(named) else None
    title = f"{label} by {kind}" + (f": {top['group_name']} leads" if top is not None and len(rows) > 1 else "")
    numbers = rows[["group_name", metric]].rename(columns={"group_name": kind.capitalize(), metric: label})
    return charts.breakdown_bar(rows, metric, kind, title, note), numbers


MAP_MARKERS = 300  # at most this many markers: the largest by the measure


def partnership_map(q: Query, filters: Filters, metric: str, projector: bool = False, town_lines: bool = False):
    """(deck, region rows, partnership rows with registry columns) for the Map page or, projector, the presenter."""
    by_region = q(metrics_by, filters, "region", **asking(metric))
    sized = METRICS[metric].numerator if METRICS[metric].kind == PER_ADULTS else metric
    markers = q(partnership_rows, filters, order_by=sized, descending=True, limit=MAP_MARKERS)
    return charts.region_map(by_region, markers, metric, projector, town_lines), by_region, markers


def trend(q: Query, filters: Filters, metric: str, view: str, split: str | None, note: str):
    """(figure, numbers table, series) of one measure over time, with the goal line where it applies."""
    monthly = q(monthly_totals, filters, split, **asking(metric))
    series = metric_series(monthly, metric, view)
    if series.empty:
        return None, None, series
    last = monthly["month"].max()
    status = q(reporting.month_status, filters, last.date(), today=reporting.today(), names=False)
    partial = None if status.complete else (last, status.short())
    info = METRICS[metric]
    view_words = {"monthly": "each month", "quarterly": "each quarter", "cumulative": "running total"}[view]
    title = f"{info.label}, {view_words}" + (f", by {split}" if split else "")
    goal_series = goal = None
    if metric == "placements" and view == "cumulative":
        goal = registry().grant.goal_placements
        goal_series = q(grant_placements_by_month, filters)
        title = "Cumulative placements against the Good Jobs Challenge goal"
    table = series.pivot_table(index="period_label", columns="group_name", values="value", sort=False).reset_index()
    table = table.rename(columns={"period_label": "Quarter" if view == "quarterly" else "Month"})
    figure = charts.trend_chart(series, metric, view, split, title, goal_series, goal, note, partial)
    return figure, table, series


RANKED = 15  # partnerships in each ranking chart


def compare(q: Query, filters: Filters, metric: str, note: str):
    """(sector × region heatmap, its table, the RANKED best by placement rate and per employer, the 100 best)."""
    table = sector_region_matrix(q(metrics_by_cell, filters, **asking(metric)), metric)
    heatmap = charts.matrix_heatmap(table, metric, f"{METRICS[metric].label}: sector × region", note)
    best_rate = rankings(q(partnership_rows, filters, order_by="placement_rate", limit=RANKED))
    best_per_employer = rankings(q(partnership_rows, filters, order_by="placements_per_employer", limit=RANKED))
    by_rate = charts.ranking_bar(best_rate, "placement_rate", "Placement rate by partnership", note)
    per_employer = charts.ranking_bar(
        best_per_employer, "placements_per_employer", "Placements per employer engaged, by partnership", note
    )
    ranked = rankings(q(partnership_rows, filters, order_by="placement_rate", limit=100))
    numbers = ranked.rename(
        columns={"group_name": "Partnership", "sector_name": "Sector", "region_name": "Region"}
    ).drop(columns=["group_id", "sector_id"])
    return heatmap, table.reset_index(), by_rate, per_employer, numbers


def quality_breakdown(q: Query, filters: Filters, metric: str, kind: str, note: str):
    """(figure, numbers table) of an optional metric by group, groups that never reported it left out."""
    rows = q(quality_by, filters, kind, metric=metric, top=RANKED if kind == "partnership" else None)
    rows = rows[rows[reported_by(metric)] > 0].dropna(subset=[metric])
    if rows.empty:
        return None, pd.DataFrame()
    info = METRICS[metric]
    columns = {"group_name": kind.capitalize(), metric: info.label}
    if info.kind in (RATE, AVERAGE):  # the figure it is a ratio over, beside it
        columns[parts(metric)[1]] = f"{METRICS[info.weight or info.denominator].label} (rows reporting it)"
    numbers = rows[list(columns)].rename(columns=columns).round({info.label: 2} if info.format == "dollars" else {})
    return charts.breakdown_bar(rows, metric, kind, f"{info.label} by {kind}", note), numbers


def quality_trend(q: Query, filters: Filters, metric: str, note: str):
    """(figure, numbers table) of an optional metric: counts each month, rates and averages each quarter."""
    monthly = q(quality_monthly, filters)
    reported = monthly[monthly[reported_by(metric)] > 0]
    if reported.empty:
        return None, None
    # From the first to the last month anybody reported it: no empty years before collection began.
    monthly = monthly[monthly["month"].between(reported["month"].min(), reported["month"].max())]
    info = METRICS[metric]
    period = "quarter" if info.kind in (RATE, AVERAGE) else "month"
    series = metric_series(monthly, metric, f"{period}ly")
    numbers = series[["period_label", "value"]].rename(
        columns={"period_label": period.capitalize(), "value": info.label}
    )
    numbers = numbers.round({info.label: 2} if info.format == "dollars" else {})
    return charts.monthly_chart(series, metric, f"{info.label}, each {period}", note), numbers


def suppressed_table(q: Query, filters: Filters, metric: str, threshold: int):
    """(table by partnership and month with totals, small counts suppressed; months covered), or (None, [])."""
    counts, reported = q(suppressed_by_month, filters, metric)
    if counts.empty:
        return None, []
    shown = suppress(counts, threshold)
    display = shown.display.copy()
    # A month a partnership did not report reads "–", not 0 (it is 0 in the sums).
    for r, name in enumerate(counts.index):
        for c, month in enumerate(counts.columns):
            if not reported.iat[r, c] and not shown.hidden.iat[r, c]:
                display.at[str(name), str(month)] = "–"
    display = display.reset_index().rename(columns={"index": "Partnership"})
    # The total next to the name, where it stays in view however many months there are.
    display = display[["Partnership", TOTAL, *[c for c in display.columns if c not in ("Partnership", TOTAL)]]]
    return display, list(counts.columns)


PEERS = 12  # sector peers compared: the most placements, and the partnership itself


def sector_peers(q: Query, rsp_id: str, peers_filter: Filters) -> pd.DataFrame:
    """The PEERS partnerships of a sector with most placements, and always the partnership itself."""
    peers = q(partnership_rows, peers_filter, order_by="placements", limit=PEERS)
    if rsp_id not in set(peers["rsp_id"]):
        peers = pd.concat([peers, q(partnership_rows, peers_filter.with_(partnerships=(rsp_id,)), limit=1)])
    return peers.reset_index(drop=True)

"""What a page draws, computed once per filter combination and shared by every session.

Each function takes a query runner first and only hashable arguments, calls the queries through
it and the chart builders, and returns figures or small values that callers only read. Pages and
presenter slides call them through `ui.cache.memo`, whose runner is the app's query cache
(`ui.cache.query`), so a page, a slide and a view that need the same query result share it.
No Streamlit here: `q(fn, *args)` is `fn(engine, *args)`, cached.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from queries.filters import Filters
from queries.metrics import DEFAULT, metrics_by, metrics_by_cell, monthly_totals, partnership_rows, top_with_others
from queries.trends import metric_series
from rsp_data.metrics import AVERAGE, METRICS, RATE, parts, reported_by
from ui import charts

Query = Callable[..., Any]  # q(query_function, *args) -> query_function(engine, *args)


def asking(*metrics: str) -> dict:
    """The `metrics=` of a view's query: none where the defaults cover them, so that the view and
    the pages (which call with the defaults) share one cached result."""
    extra = [m for m in metrics if m not in DEFAULT]
    return {"metrics": (*DEFAULT, *extra)} if extra else {}


def kpi_sparklines(q: Query, filters: Filters, metrics: tuple[str, ...]) -> dict[str, list[float]]:
    """The last two years of each KPI: monthly, or by quarter for the noisy rates and averages."""
    monthly = q(monthly_totals, filters, None, **asking(*metrics))
    out = {}
    for metric in metrics:
        is_rate = METRICS[metric].kind in (RATE, AVERAGE)
        series = metric_series(monthly, metric, "quarterly" if is_rate else "monthly")
        out[metric] = series["value"].tail(8 if is_rate else 24).fillna(0).tolist()
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


def partnership_map(q: Query, filters: Filters, metric: str):
    """(deck, region rows, partnership rows with registry columns) for the Map page.

    Markers: the MAP_MARKERS partnerships with the highest value of `metric` (all of them in
    Connecticut's store of 14)."""
    by_region = q(metrics_by, filters, "region", **asking(metric))
    markers = q(partnership_rows, filters, order_by=metric, descending=True, limit=MAP_MARKERS)
    return charts.region_map(by_region, markers, metric), by_region, markers


def trend(q: Query, filters: Filters, metric: str, view: str, split: str | None, note: str):
    """(figure, numbers table, series) of one measure over time, with the goal line where it applies."""
    from queries.goals import grant_placements_by_month
    from rsp_data.registry import registry

    series = metric_series(q(monthly_totals, filters, split, **asking(metric)), metric, view)
    if series.empty:
        return None, None, series
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
    figure = charts.trend_chart(series, metric, view, split, title, goal_series, goal, note)
    return figure, table, series


RANKED = 15  # partnerships in each ranking chart


def compare(q: Query, filters: Filters, metric: str, note: str):
    """(heatmap, matrix table, placement-rate ranking, per-employer ranking, ranking table) for peers.

    The matrix comes from the sector × region rollup; the rankings are the RANKED best
    partnerships by each measure (sorted in SQL), the table the 100 best by placement rate."""
    from queries.compare import rankings, sector_region_matrix

    table = sector_region_matrix(q(metrics_by_cell, filters, **asking(metric)), metric)
    label = METRICS[metric].label
    heatmap = charts.matrix_heatmap(table, metric, f"{label}: sector × region", note)
    best_rate = rankings(q(partnership_rows, filters, order_by="placement_rate", limit=RANKED))
    best_per_employer = rankings(q(partnership_rows, filters, order_by="placements_per_employer", limit=RANKED))
    by_rate = charts.ranking_bar(best_rate, "placement_rate", "Placement rate", "Placement rate by partnership", note)
    per_employer = charts.ranking_bar(
        best_per_employer,
        "placements_per_employer",
        "Placements per employer engaged",
        "Placements per employer engaged, by partnership",
        note,
    )
    ranked = rankings(q(partnership_rows, filters, order_by="placement_rate", limit=100))
    numbers = ranked.rename(
        columns={"group_name": "Partnership", "sector_name": "Sector", "region_name": "Region"}
    ).drop(columns=["group_id", "sector_id"])
    return heatmap, table.reset_index(), by_rate, per_employer, numbers


# ---------------------------------------------------------------- good jobs & reach


def quality_breakdown(q: Query, filters: Filters, metric: str, kind: str, title: str, note: str):
    """(figure, numbers table) of an optional metric by sector, region or partnership; groups
    where nobody reported it are left out (None, empty table when no group has it). By
    partnership: the RANKED leaders and one bar for all the others."""
    import pandas as pd

    from queries.quality import quality_by

    top = RANKED if kind == "partnership" else None
    rows = q(quality_by, filters, kind, metric=metric, top=top)
    rows = rows[rows[reported_by(metric)] > 0].dropna(subset=[metric])
    if rows.empty:
        return None, pd.DataFrame()
    info = METRICS[metric]
    columns = {"group_name": kind.capitalize(), metric: info.label}
    if info.kind in (RATE, AVERAGE):  # the figure it is a ratio over, beside it
        columns[parts(metric)[1]] = f"{_base_label(metric)} (rows reporting it)"
    numbers = rows[list(columns)].rename(columns=columns)
    if info.format == "dollars":
        numbers[info.label] = numbers[info.label].round(2)
    return charts.breakdown_bar(rows, metric, kind, title, note), numbers


def _base_label(metric: str) -> str:
    info = METRICS[metric]
    return METRICS[info.weight or info.denominator].label


def quality_trend(q: Query, filters: Filters, metric: str, title: str, note: str):
    """(figure, numbers table) of an optional metric over the months that reported it: counts each
    month; rates and averages each quarter, as ratios of the quarter's sums."""
    from queries.quality import quality_monthly

    monthly = q(quality_monthly, filters)
    reported = monthly[monthly[reported_by(metric)] > 0]
    if reported.empty:
        return None, None
    # From the first to the last month anybody reported it: no empty years before collection began.
    monthly = monthly[monthly["month"].between(reported["month"].min(), reported["month"].max())]
    info = METRICS[metric]
    quarterly = info.kind in (RATE, AVERAGE)
    series = metric_series(monthly, metric, "quarterly" if quarterly else "monthly")
    chart_rows = series.rename(columns={"period": "month", "value": metric})
    numbers = series[["period_label", "value"]].rename(
        columns={"period_label": "Quarter" if quarterly else "Month", "value": info.label}
    )
    if info.format == "dollars":
        numbers[info.label] = numbers[info.label].round(2)
    colour = "#0072B2" if quarterly else "#009E73"
    return charts.monthly_chart(chart_rows, metric, title, note, colour, quarterly=quarterly), numbers


def suppressed_table(q: Query, filters: Filters, metric: str, threshold: int):
    """(display table with Total row and column, months covered) of a suppressed metric by
    partnership and month, small counts suppressed (queries/suppression.py); (None, []) when none."""
    from queries.quality import suppressed_by_month
    from queries.suppression import TOTAL, suppress

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

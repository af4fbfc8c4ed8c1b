"""What a page draws, computed once per filter combination and shared by every session.

Each function takes the engine first and only hashable arguments, calls the queries and the
chart builders, and returns figures or small values that callers only read. `ui.state.memo`
caches them as shared resources (no copy, no re-validation of plotly figures), which keeps a
page run cheap under many sessions (docs/benchmarks.md). No Streamlit here.
"""

from __future__ import annotations

from sqlalchemy import Engine

from queries.filters import Filters
from queries.metrics import metrics_by, metrics_by_cell, monthly_totals, partnership_rows, top_with_others
from queries.trends import metric_series
from rsp_data.metrics import METRICS
from ui import charts


def kpi_sparklines(engine: Engine, filters: Filters, metrics: tuple[str, ...]) -> dict[str, list[float]]:
    """The last two years of each KPI: monthly, or by quarter for the noisy rates."""
    monthly = monthly_totals(engine, filters, None)
    out = {}
    for metric in metrics:
        is_rate = metric.endswith("_rate")
        series = metric_series(monthly, metric, "quarterly" if is_rate else "monthly")
        out[metric] = series["value"].tail(8 if is_rate else 24).fillna(0).tolist()
    return out


BREAKDOWN_BARS = 12  # beyond this many groups, the leaders and one bar for all the others


def breakdown(engine: Engine, filters: Filters, metric: str, kind: str, note: str):
    """(figure, numbers table) of `metric` by sector or region, the leader named in the title."""
    rows = top_with_others(metrics_by(engine, filters, kind), metric, BREAKDOWN_BARS, f"{kind}s")
    label = METRICS[metric].label
    named = rows[rows["group_id"] != "others"]
    top = named.sort_values(metric, ascending=False).iloc[0] if len(named) else None
    title = f"{label} by {kind}" + (f": {top['group_name']} leads" if top is not None and len(rows) > 1 else "")
    numbers = rows[["group_name", metric]].rename(columns={"group_name": kind.capitalize(), metric: label})
    return charts.breakdown_bar(rows, metric, kind, title, note), numbers


MAP_MARKERS = 300  # at most this many markers: the largest by the measure


def partnership_map(engine: Engine, filters: Filters, metric: str):
    """(deck, region rows, partnership rows with registry columns) for the Map page.

    Markers: the MAP_MARKERS partnerships with the highest value of `metric` (all of them in
    Connecticut's store of 14)."""
    by_region = metrics_by(engine, filters, "region")
    markers = partnership_rows(engine, filters, order_by=metric, descending=True, limit=MAP_MARKERS)
    return charts.region_map(by_region, markers, metric), by_region, markers


def trend(engine: Engine, filters: Filters, metric: str, view: str, split: str | None, note: str):
    """(figure, numbers table, series) of one measure over time, with the goal line where it applies."""
    from queries.goals import grant_placements_by_month
    from rsp_data.registry import registry

    series = metric_series(monthly_totals(engine, filters, split), metric, view)
    if series.empty:
        return None, None, series
    info = METRICS[metric]
    view_words = {"monthly": "each month", "quarterly": "each quarter", "cumulative": "running total"}[view]
    title = f"{info.label}, {view_words}" + (f", by {split}" if split else "")
    goal_series = goal = None
    if metric == "placements" and view == "cumulative":
        goal = registry().grant.goal_placements
        goal_series = grant_placements_by_month(engine, filters)
        title = "Cumulative placements against the Good Jobs Challenge goal"
    table = series.pivot_table(index="period_label", columns="group_name", values="value", sort=False).reset_index()
    table = table.rename(columns={"period_label": "Quarter" if view == "quarterly" else "Month"})
    figure = charts.trend_chart(series, metric, view, split, title, goal_series, goal, note)
    return figure, table, series


RANKED = 15  # partnerships in each ranking chart


def compare(engine: Engine, filters: Filters, metric: str, note: str):
    """(heatmap, matrix table, placement-rate ranking, per-employer ranking, ranking table) for peers.

    The matrix comes from the sector × region rollup; the rankings are the RANKED best
    partnerships by each measure (sorted in SQL), the table the 100 best by placement rate."""
    from queries.compare import rankings, sector_region_matrix

    table = sector_region_matrix(metrics_by_cell(engine, filters), metric)
    label = METRICS[metric].label
    heatmap = charts.matrix_heatmap(table, metric, f"{label}: sector × region", note)
    best_rate = rankings(partnership_rows(engine, filters, order_by="placement_rate", limit=RANKED))
    best_per_employer = rankings(partnership_rows(engine, filters, order_by="placements_per_employer", limit=RANKED))
    by_rate = charts.ranking_bar(best_rate, "placement_rate", "Placement rate", "Placement rate by partnership", note)
    per_employer = charts.ranking_bar(
        best_per_employer,
        "placements_per_employer",
        "Placements per employer engaged",
        "Placements per employer engaged, by partnership",
        note,
    )
    ranked = rankings(partnership_rows(engine, filters, order_by="placement_rate", limit=100))
    numbers = ranked.rename(
        columns={"group_name": "Partnership", "sector_name": "Sector", "region_name": "Region"}
    ).drop(columns=["group_id", "sector_id"])
    return heatmap, table.reset_index(), by_rate, per_employer, numbers

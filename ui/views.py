"""What a page draws, computed once per filter combination and shared by every session.

Each function takes a query runner first and only hashable arguments, calls the queries through
it and the chart builders, and returns figures or small values that callers only read.
`ui.state.memo` caches them as shared resources (no copy, no re-validation of plotly figures),
and its runner is the app's query cache (`ui.state.query`), so a page and a view that need the
same query result share it instead of running it twice. Both keep a page run cheap under many
sessions (docs/benchmarks.md). No Streamlit here: `q(fn, *args)` is `fn(engine, *args)`, cached.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from queries.filters import Filters
from queries.metrics import metrics_by, monthly_totals
from queries.trends import metric_series
from rsp_data.metrics import METRICS
from ui import charts

Query = Callable[..., Any]  # q(query_function, *args) -> query_function(engine, *args)


def kpi_sparklines(q: Query, filters: Filters, metrics: tuple[str, ...]) -> dict[str, list[float]]:
    """The last two years of each KPI: monthly, or by quarter for the noisy rates."""
    monthly = q(monthly_totals, filters, None)
    out = {}
    for metric in metrics:
        is_rate = metric.endswith("_rate")
        series = metric_series(monthly, metric, "quarterly" if is_rate else "monthly")
        out[metric] = series["value"].tail(8 if is_rate else 24).fillna(0).tolist()
    return out


def breakdown(q: Query, filters: Filters, metric: str, kind: str, note: str):
    """(figure, numbers table) of `metric` by sector or region, the leader named in the title."""
    rows = q(metrics_by, filters, kind)
    label = METRICS[metric].label
    top = rows.sort_values(metric, ascending=False).iloc[0] if len(rows) else None
    title = f"{label} by {kind}" + (f": {top['group_name']} leads" if top is not None and len(rows) > 1 else "")
    numbers = rows[["group_name", metric]].rename(columns={"group_name": kind.capitalize(), metric: label})
    return charts.breakdown_bar(rows, metric, kind, title, note), numbers


def partnership_map(q: Query, filters: Filters, metric: str):
    """(deck, region rows, partnership rows with registry columns) for the Map page."""
    from queries.registry import partnership_list

    by_region = q(metrics_by, filters, "region")
    registry = q(partnership_list)
    markers = q(metrics_by, filters, "partnership").merge(
        registry[["rsp_id", "sector_id", "region_id", "sector_name", "region_name", "convener"]],
        left_on="group_id",
        right_on="rsp_id",
    )
    deck = charts.region_map(by_region, markers, metric)
    # The deck is shared and only read: serialise it once here, not on every run of the Map page
    # (st.pydeck_chart calls to_json each time; 130 KB of JSON, the Map run's largest cost).
    spec = deck.to_json()
    deck.to_json = lambda: spec  # type: ignore[method-assign]
    return deck, by_region, markers


def trend(q: Query, filters: Filters, metric: str, view: str, split: str | None, note: str):
    """(figure, numbers table, series) of one measure over time, with the goal line where it applies."""
    from queries.goals import grant_placements_by_month
    from rsp_data.registry import registry

    series = metric_series(q(monthly_totals, filters, split), metric, view)
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


def compare(q: Query, filters: Filters, metric: str, note: str):
    """(heatmap, matrix table, placement-rate ranking, per-employer ranking, ranking table) for peers."""
    from queries.compare import rankings, sector_region_matrix
    from queries.registry import partnership_list

    rows = q(metrics_by, filters, "partnership").merge(
        q(partnership_list)[["rsp_id", "sector_id", "sector_name", "region_name"]],
        left_on="group_id",
        right_on="rsp_id",
    )
    table = sector_region_matrix(rows, metric)
    label = METRICS[metric].label
    heatmap = charts.matrix_heatmap(table, metric, f"{label}: sector × region", note)
    ranked = rankings(rows)
    by_rate = charts.ranking_bar(ranked, "placement_rate", "Placement rate", "Placement rate by partnership", note)
    per_employer = charts.ranking_bar(
        ranked,
        "placements_per_employer",
        "Placements per employer engaged",
        "Placements per employer engaged, by partnership",
        note,
    )
    numbers = ranked.rename(
        columns={"group_name": "Partnership", "sector_name": "Sector", "region_name": "Region"}
    ).drop(columns=["group_id", "sector_id"])
    return heatmap, table.reset_index(), by_rate, per_employer, numbers

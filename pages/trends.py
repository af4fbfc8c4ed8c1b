"""Trends: any measure month by month, by quarter or cumulatively, split by sector, region or partnership."""

import streamlit as st

from queries.metrics import GROUP_NOUNS
from queries.trends import VIEWS
from rsp_data.metrics import METRICS, STOCK
from rsp_data.registry import registry
from ui import cache, sidebar, views, widgets

SPLITS = ("none", "sector", "region", "partnership")

filters, kpis = widgets.page_start("Trends", stop_when_empty=False)


@sidebar.page_fragment  # the controls rerun only the chart
def trend(filters, kpis) -> None:
    c1, c2, c3 = st.columns([1.1, 1.1, 1.5])
    metric = sidebar.measure_choice(c1.selectbox)
    view = sidebar.url_choice(
        c2.segmented_control,
        "View",
        VIEWS,
        param="view",
        default="monthly",
        format_func=str.capitalize,
        required=True,
    )
    split = sidebar.url_choice(
        c3.segmented_control,
        "Split by",
        SPLITS,
        param="split",
        default="none",
        format_func=lambda s: "Nothing" if s == "none" else GROUP_NOUNS[s],
        required=True,
    )

    widgets.stop_if_empty(kpis)  # under the controls: they stay usable
    group = None if split == "none" else split
    figure, table, series = cache.memo(views.trend, filters, metric, view, group, widgets.chart_note(kpis, filters))
    widgets.chart(figure, table, f"{metric}_{view}" + (f"_by_{split}" if group else ""))
    info = METRICS[metric]
    goal = registry().grant.goal_placements if metric == "placements" and view == "cumulative" else None
    if info.kind == STOCK and view == "cumulative":
        st.caption(
            "Employers engaged is a count at month end: a running total would double count, "
            "so the cumulative view shows month-end counts."
        )
    if info.kind == STOCK and view == "quarterly":
        st.caption("Employers engaged per quarter is the count in the quarter's last month, not a sum.")
    if view == "quarterly" and (series["months_in_period"] < 3).any():
        st.caption("Quarters with fewer than three months of data in range are partial (hover shows how many).")
    if goal:
        st.caption(
            "The dotted line counts placements by the grant-supported partnerships since "
            f"{registry().grant.announced}; the solid line counts every partnership in the filters "
            "from the start of the range."
        )


trend(filters, kpis)

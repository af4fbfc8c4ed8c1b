"""Good jobs & reach: the optional metrics of rsp_data/metrics.py, grouped by the question each
answers, each shown only when some partnership in the filters reported it."""

import streamlit as st

from queries.quality import OPTIONAL, quality_summary
from rsp_data.metrics import AVERAGE, METRICS, RATE, reported_by
from ui import cache, sidebar, views, widgets
from ui.format import metric_value, month_name

# Published context shown under a question's charts.
CONTEXT = {
    "Are these good jobs?": "For context: 93% of Connecticut state positions are open to candidates without a "
    "bachelor's degree."
}
TILES_A_ROW = 4

filters, kpis = widgets.page_start("Good jobs & reach")

summary = cache.query(quality_summary, filters)
partnerships = summary["partnerships"]


def reporters(metric: str) -> int:
    return summary["reporting"][reported_by(metric).removesuffix("_rows")]


def suppressed_table(metric: str, note: str) -> None:
    """The metric by partnership and month, small counts hidden, with its download; `note` ends the caption."""
    label = METRICS[metric].label
    threshold = widgets.suppress_below()
    table, months = cache.memo(views.suppressed_table, filters, metric, threshold)
    if table is None:
        return
    st.markdown(f"**{label} by partnership and month**, {month_name(months[0])} – {month_name(months[-1])}")
    st.dataframe(table, hide_index=True, width="stretch", alt=f"{label} by partnership and month")
    st.caption(
        f"To protect people's privacy, counts from 1 to {threshold - 1} are shown as “<{threshold}”, and "
        f"cells marked “x” are hidden too so that no “<{threshold}” cell can be worked out from the totals "
        "beside it. Totals are exact. “–”: not reported that month. " + note
    )
    widgets.download_csv(table, f"{metric}_by_partnership_month")


shown = [m for m in OPTIONAL if reporters(m) > 0]
if not shown:
    st.info(
        "No partnership in these filters reported "
        + ", ".join(METRICS[m].label.lower() for m in OPTIONAL)
        + " in this period. These figures are optional in the monthly report; widen the month range or clear a "
        "filter in the sidebar."
    )
    st.stop()

for start in range(0, len(shown), TILES_A_ROW):
    for column, metric in zip(st.columns(TILES_A_ROW), shown[start : start + TILES_A_ROW], strict=False):
        info = METRICS[metric]
        column.metric(
            info.label,
            metric_value(metric, summary[metric]),
            help=f"{info.description} {info.over_time} Reported by {reporters(metric)} of the {partnerships} "
            "partnerships with figures in the filters.",
            border=True,
        )

missing = [METRICS[m].label.lower() for m in OPTIONAL if m not in shown]
if missing:
    st.caption("Not reported by any partnership in these filters, so not shown: " + ", ".join(missing) + ".")

note = widgets.chart_note(kpis, filters)
# By sector, unless the filters hold a single sector or chosen partnerships: then by partnership.
by = "partnership" if len(filters.sectors) == 1 or filters.partnerships else "sector"
# A count that a rate divides is charted through its rate.
numerators = {METRICS[m].numerator for m in OPTIONAL if METRICS[m].kind == RATE}
charted = {
    section: [m for m in shown if METRICS[m].section == section and m not in numerators]
    for section in dict.fromkeys(METRICS[m].section for m in OPTIONAL)
}
sections = [section for section, metrics in charted.items() if metrics]
# One question at a time, kept in the link: only the open tab's charts are drawn and sent.
sidebar.warn_unknown("question", sections)
tabs = st.tabs(sections, key="question", bind="query-params")
for section, tab in zip(sections, tabs, strict=True):
    if not tab.open:
        continue
    with tab:
        for metric in charted[section]:
            info = METRICS[metric]
            left, right = st.columns(2)
            figure, numbers = cache.memo(views.quality_breakdown, filters, metric, by, note)
            if figure is not None:
                widgets.chart(figure, numbers, f"{metric}_by_{by}", left)
            period = "quarterly" if info.kind in (RATE, AVERAGE) else "monthly"  # as views.quality_trend draws it
            figure, numbers = cache.memo(views.quality_trend, filters, metric, note)
            if figure is not None:
                widgets.chart(figure, numbers, f"{metric}_{period}", right)
            if info.suppressed:
                suppressed_table(metric, note)
        if section in CONTEXT:
            st.caption(CONTEXT[section])

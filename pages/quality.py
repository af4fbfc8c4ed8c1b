"""Good jobs & reach: starting wages, jobs open without a bachelor's degree, work-based learning and
the trainees from under-represented groups. The optional metrics: each shown only when some
partnership in the filters reported it."""

import streamlit as st

from queries.metrics import kpi_summary
from queries.quality import quality_summary
from rsp_data.metrics import METRICS
from ui import cache, sidebar, views, widgets
from ui.format import dollars, month_name, number, percent

filters = sidebar.filters()
kpis = cache.query(kpi_summary, filters)
widgets.page_header("Good jobs & reach", filters, kpis["as_of_label"])
widgets.stop_if_empty(kpis)

summary = cache.query(quality_summary, filters)
reporting = summary["reporting"]
partnerships = summary["partnerships"]
if not any(reporting.values()):
    st.info(
        "No partnership in these filters reported a starting wage, placements without a bachelor's requirement, "
        "work-based learning or under-represented trainees in this period. These figures are optional in the "
        "monthly report; widen the month range or clear a filter in the sidebar."
    )
    st.stop()


def reported_by(metric: str) -> str:
    return f"Reported by {reporting[metric]} of the {partnerships} partnerships with figures in the filters."


wage_reported = reporting["avg_starting_wage"] > 0
no_bachelor_reported = reporting["placements_no_bachelor"] > 0
wbl_reported = reporting["wbl_started"] > 0
reach_reported = reporting["trainees_underrepresented"] > 0

tiles = []
if wage_reported:
    tiles.append(
        (
            "Average starting wage (hourly)",
            dollars(summary["avg_starting_wage"]),
            "Weighted by placements: Σ(wage × placements) ÷ Σ placements over the "
            f"{number(summary['avg_starting_wage_weight'])} placements with a wage (not a mean of averages). "
            + reported_by("avg_starting_wage"),
        )
    )
if no_bachelor_reported:
    tiles.append(
        (
            "No bachelor's required",
            percent(summary["no_bachelor_share"]),
            f"{number(summary['placements_no_bachelor'])} of the {number(summary['no_bachelor_share_base'])} "
            "placements of the months that reported it went into roles that do not require a bachelor's degree. "
            + reported_by("placements_no_bachelor"),
        )
    )
if wbl_reported:
    tiles.append(
        (
            METRICS["wbl_started"].label,
            number(summary["wbl_started"]),
            "Internships and apprenticeships started, summed over the months in range. " + reported_by("wbl_started"),
        )
    )
if reach_reported:
    tiles.append(
        (
            METRICS["trainees_underrepresented"].label,
            number(summary["trainees_underrepresented"]),
            "Trainees from under-represented groups, summed over the months in range (an exact total). "
            + reported_by("trainees_underrepresented"),
        )
    )
for column, (label, value, help_text) in zip(st.columns(len(tiles)), tiles, strict=True):
    column.metric(label, value, help=help_text, border=True)

note = widgets.chart_note(kpis, filters)
# By sector, unless the filters hold a single sector or chosen partnerships: then by partnership.
by = "partnership" if len(filters.sectors) == 1 or filters.partnerships else "sector"
missing = [METRICS[m].label.lower() for m, n in reporting.items() if n == 0]
if missing:
    st.caption("Not reported by any partnership in these filters, so not shown: " + ", ".join(missing) + ".")

# ---- Are these good jobs?
if wage_reported or no_bachelor_reported:
    st.subheader("Are these good jobs?")
    left, right = st.columns(2)
    if wage_reported:
        figure, numbers = cache.memo(
            views.quality_breakdown,
            filters,
            "avg_starting_wage",
            by,
            f"Average starting wage by {by} (weighted by placements)",
            note,
        )
        if figure is not None:
            widgets.chart(figure, numbers, f"avg_starting_wage_by_{by}", left)
    if no_bachelor_reported:
        figure, numbers = cache.memo(
            views.quality_breakdown,
            filters,
            "no_bachelor_share",
            by,
            f"No bachelor's required: share of placements by {by}",
            note,
        )
        if figure is not None:
            widgets.chart(figure, numbers, f"no_bachelor_share_by_{by}", right)
    if wage_reported:
        figure, numbers = cache.memo(
            views.quality_trend, filters, "avg_starting_wage", "Average starting wage, each quarter", note
        )
        if figure is not None:
            widgets.chart(figure, numbers, "avg_starting_wage_quarterly")
    st.caption("For context: 93% of Connecticut state positions are open to candidates without a bachelor's degree.")

# ---- Who is being reached?
if reach_reported:
    st.subheader("Who is being reached?")
    figure, numbers = cache.memo(
        views.quality_breakdown,
        filters,
        "trainees_underrepresented",
        by,
        f"Under-represented trainees by {by} (exact totals)",
        note,
    )
    if figure is not None:
        widgets.chart(figure, numbers, f"trainees_underrepresented_by_{by}")
    threshold = widgets.suppress_below()
    table, months = cache.memo(views.underrepresented_table, filters, threshold)
    if table is not None:
        st.markdown(
            f"**Under-represented trainees by partnership and month**, {month_name(months[0])} – "
            f"{month_name(months[-1])}"
        )
        st.dataframe(table, hide_index=True, width="stretch")
        st.caption(
            f"To protect people's privacy, counts from 1 to {threshold - 1} are shown as “<{threshold}”, and "
            f"cells marked “x” are hidden too so that no “<{threshold}” cell can be worked out from the totals "
            "beside it. Totals are exact. “–”: not reported that month. " + note
        )
        widgets.download_csv(table, "trainees_underrepresented_by_partnership_month")

# ---- How much work-based learning?
if wbl_reported:
    st.subheader("How much work-based learning?")
    left, right = st.columns(2)
    figure, numbers = cache.memo(
        views.quality_trend, filters, "wbl_started", "Internships and apprenticeships started, each month", note
    )
    if figure is not None:
        widgets.chart(figure, numbers, "wbl_started_monthly", left)
    figure, numbers = cache.memo(
        views.quality_breakdown,
        filters,
        "wbl_started",
        "partnership",
        "Work-based learning started, by partnership",
        note,
    )
    if figure is not None:
        widgets.chart(figure, numbers, "wbl_started_by_partnership", right)

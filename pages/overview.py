"""Overview: the statewide picture in ten seconds. KPIs, goal progress, sector and region breakdowns."""

import streamlit as st

from rsp_data.metrics import METRICS, PER_ADULTS, REGION_MEASURES
from ui import cache, facts, goals, sidebar, views, widgets
from ui.charts import KPI_METRICS, sparkline_svg
from ui.format import carried_phrase, metric_value, month_name

filters, kpis = widgets.page_start("Connecticut Regional Sector Partnerships")
facts.published_headline()

help_text = {
    "employers_engaged": (
        f"Employers engaged at the end of {month_name(kpis['as_of_label'])}, the latest month in range "
        "(a count at month end, not a sum over months); partnerships that have not sent that month count as of "
        "their latest report of the two months before. An employer working with two partnerships counts twice."
    ),
    "trainees_enrolled": "New enrolments, summed over the months in range.",
    "trainees_completed": "Completions, summed over the months in range.",
    "placements": "Completers placed into jobs, summed over the months in range.",
    "placement_rate": "Placements ÷ trainees completed over the same range (a ratio of sums).",
}
partial = widgets.partial(filters, kpis["as_of_label"])
carried = carried_phrase(kpis)
notes = [f"Employers engaged: {carried}."] if carried else []
if partial:
    only = "" if carried else ", and employers engaged counts only those that reported it"
    notes.insert(0, f"{partial.short()}: its figures are partial{only}.")
partial_note = "".join(f" {n}" for n in notes)
sparklines = cache.memo(views.kpi_sparklines, filters, KPI_METRICS, partial.month if partial else None)
line_note = " The line shows the last two years of the range" + (
    f", without {partial.month:%b %Y}, which is partial." if partial else "."
)
for column, metric in zip(st.columns(len(KPI_METRICS)), KPI_METRICS, strict=True):
    tile = column.container(border=True)
    tile.metric(
        METRICS[metric].label, metric_value(metric, kpis[metric]), help=help_text[metric] + line_note + partial_note
    )
    # Inline SVG, not st.metric's chart_data: that loads a charting library of its own before the first chart.
    tile.html(sparkline_svg(metric, sparklines[metric], bars=METRICS[metric].kind == "flow"))

if partial:
    st.caption(f"⚠ {partial_note.strip()} See the Reporting status page for who is missing.")

# ---- Goals (rsp_data/data/goals.csv): progress, and when each is reached at the recent pace
goals.overview(filters)


# ---- Breakdowns
@sidebar.page_fragment  # the measure picker reruns only the breakdowns
def breakdowns(filters, kpis) -> None:
    st.header("Where it is happening")
    metric = sidebar.measure_choice(st.columns([1, 2])[0].selectbox, measures=REGION_MEASURES)
    sidebar.active_filter_chips(filters)
    left, right = st.columns(2)
    note = widgets.chart_note(kpis, filters)
    per_adults = METRICS[metric].kind == PER_ADULTS
    for where, kind in ((left, "sector"), (right, "region")):
        shown = METRICS[metric].numerator if per_adults and kind == "sector" else metric  # sectors have no residents
        figure, numbers = cache.memo(views.breakdown, filters, shown, kind, note)
        widgets.chart(figure, numbers, f"{shown}_by_{kind}", where, filter_kind=kind)
    widgets.per_adults_note(metric, filters)
    if per_adults:
        st.caption(
            f"By sector: {METRICS[METRICS[metric].numerator].label.lower()} (a sector has no residents of its own)."
        )
    if metric == "employers_engaged":
        st.caption("Employers are counted per partnership: one employer in two partnerships counts twice.")


breakdowns(filters, kpis)

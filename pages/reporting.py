"""Reporting status: which partnership has sent which month, against the reporting calendar."""

import streamlit as st

from queries import reporting
from rsp_data.registry import registry
from ui import cache, sidebar, widgets
from ui.format import month_name

filters = sidebar.filters()
today = reporting.today()
due_day = registry().due_day
latest = reporting.latest_due(today)
widgets.page_header("Reporting status", filters)

status = cache.query(reporting.month_status, filters, latest, today=today)
st.markdown(f"**{status.sentence()}**")
st.caption(
    f"Each month's figures are due on day {due_day} of the following month. A cell is taken from when each "
    f"import batch was loaded and from the corrections in the store's history, judged on {today:%B} {today.day}, "
    f"{today.year}. ✓ on time · ! late (days after the due day) · ✎ corrected later · ✗ overdue · … not yet due "
    "· – before the partnership's first report."
)
grid, total = cache.query(reporting.status_grid, filters, today=today)
if grid.empty:
    st.info("No partnership matches the filters.")
    st.stop()
if total > len(grid["rsp_id"].unique()):
    st.caption(f"Showing the first {grid['rsp_id'].nunique():,} of {total:,} partnerships by id: narrow the filters.")
cells = grid.assign(cell=[reporting.short(s, d) for s, d in zip(grid["status"], grid["days_late"], strict=True)])
# Latest month first: the months that still need chasing are in view without scrolling.
table = cells.pivot(index="name", columns="month", values="cell").iloc[:, ::-1].rename_axis("Partnership")
table.columns = [month_name(m) for m in table.columns]
COLOURS = {"✓": "#e6f4ea", "!": "#fff4e0", "✎": "#e8f0fe", "✗": "#fde7e9", "…": "", "–": ""}
st.dataframe(
    table.style.map(lambda text: f"background-color: {COLOURS[text[0]]}" if COLOURS.get(text[0]) else ""),
    width="stretch",
    alt=f"Reporting status of {total:,} partnerships over the last {table.shape[1]} months",
)
widgets.download_csv(
    grid[["rsp_id", "name", "month", "status", "days_late", "detail"]], "rsp_reporting_status", "Download as CSV"
)
exceptions = grid[grid["status"].isin([reporting.OVERDUE, reporting.LATE, reporting.CORRECTED])]
st.header("Late, corrected and missing")
if exceptions.empty:
    st.write("Every month due was sent on time.")
else:
    st.dataframe(
        exceptions[["name", "month", "status", "detail"]].rename(columns=str.capitalize),
        hide_index=True,
        width="stretch",
        alt="Late, corrected and missing months",
    )

"""Page widgets: the header, charts with their numbers, CSV downloads, the notes under charts."""

from __future__ import annotations

import os

import streamlit as st

from queries import reporting
from queries.data import illustrative_share
from queries.filters import Filters
from queries.metrics import kpi_summary
from queries.reporting import MonthStatus
from queries.suppression import DEFAULT_THRESHOLD, threshold_from
from rsp_data.metrics import METRICS, PER_ADULTS
from rsp_data.months import month_to_date
from ui import sidebar
from ui.cache import query
from ui.charts import figure_alt, plotly_config
from ui.export import safe_csv
from ui.format import month_name
from ui.store import secret
from ui.theme import FOCUS_RING, PRIMARY_BUTTON_TEXT


def page_start(title: str, stop_when_empty: bool = True) -> tuple[Filters, dict]:
    """The sidebar's filters, their KPIs and the page header; then, unless told otherwise, stop_if_empty."""
    filters = sidebar.filters()
    kpis = query(kpi_summary, filters)
    page_header(title, filters, kpis["as_of_label"])
    if stop_when_empty:
        stop_if_empty(kpis)
    return filters, kpis


def partial(filters: Filters, as_of_label: str | None) -> MonthStatus | None:
    """The as-of month's reporting status when not every partnership that had reported before has sent it."""
    if not as_of_label:
        return None
    status = query(reporting.month_status, filters, month_to_date(as_of_label), today=reporting.today(), names=False)
    return None if status.complete else status


def page_header(title: str, filters: Filters, as_of_label: str | None = None) -> None:
    """Title, the 'as of' month (and whether it is partial), what the filters cover, the illustrative-data label."""
    st.title(title)
    bits = [f"**As of {month_name(as_of_label)}**"] if as_of_label else []
    if status := partial(filters, as_of_label):
        bits.append(f":violet-badge[{status.short()}]")
    bits.append(describe(filters))
    share = illustrative(filters)
    badge = ""
    if share > 0:
        badge = ":orange-badge[Illustrative data] " if share >= 1 else f":orange-badge[{share:.0%} illustrative data] "
    st.markdown(badge + " · ".join(bits))


def describe(filters: Filters) -> str:
    """Plain words for what the filters cover, e.g. 'Capital region · Healthcare · Jan 2024 – Oct 2026'."""
    opts = sidebar.options()
    parts = []
    if filters.regions:
        noun = "region" if len(filters.regions) == 1 else "regions"
        parts.append(f"{', '.join(opts['regions'][r] for r in filters.regions)} {noun}")
    if filters.sectors:
        parts.append(", ".join(opts["sectors"][s] for s in filters.sectors))
    if filters.partnerships:
        n = len(filters.partnerships)
        parts.append(f"{n} partnership{'s' if n > 1 else ''}")
    if not parts:
        count = opts["partnership_count"]
        parts.append("All 14 partnerships, statewide" if count == 14 else f"All {count:,} partnerships")
    first, last = filters.month_from or opts["first"], filters.month_to or opts["last"]
    if first and last:
        parts.append(f"{month_name(first)} – {month_name(last)}")
    return " · ".join(parts)


def suppress_below() -> int:
    """Counts below this show as "<n" where they could identify people: RSP_SUPPRESS_BELOW, else secrets, else 5."""
    configured = os.environ.get("RSP_SUPPRESS_BELOW")
    if configured is None:
        configured = secret("suppress_below")
    return DEFAULT_THRESHOLD if configured is None else threshold_from(configured)


def stop_if_empty(kpis: dict) -> None:
    """A plain sentence instead of empty charts when nothing matches the filters."""
    if kpis["months"] == 0:
        st.info("No monthly figures match these filters. Widen the month range or clear a filter in the sidebar.")
        st.stop()


def hide_unescaped_downloads() -> None:
    """Hide the table toolbar's CSV download: it does not escape formula text (download_csv does). Also
    lets a wide Markdown table (the data dictionary) wrap on a narrow screen (WCAG 1.4.10), and gives every control
    a visible keyboard focus ring (page links and the main area have none of their own) that keeps 3:1 in both
    themes."""
    # The app follows the viewer's colour scheme (.streamlit/config.toml), so the media query matches the theme.
    st.html(
        """<style>
[data-testid="stElementToolbar"] button[aria-label="Download as CSV"] { display: none !important; }
[data-testid="stMarkdownContainer"] :is(th, td) { overflow-wrap: anywhere; }
@media (max-width: 640px) {
  [data-testid="stMarkdownContainer"] table { table-layout: fixed; width: 100%; font-size: 0.8rem; }
  [data-testid="stMarkdownContainer"] :is(th, td) { padding: 0.2rem; }
}
:focus-visible { outline: 2px solid FOCUS !important; outline-offset: 2px; }
@media (prefers-color-scheme: dark) {
  button[data-testid^="stBaseButton-primary"], button[data-testid^="stBaseButton-primary"] * {
    color: DARK_TEXT !important;
  }
}
</style>""".replace("DARK_TEXT", PRIMARY_BUTTON_TEXT["dark"]).replace("FOCUS", FOCUS_RING)
    )


def illustrative(filters: Filters) -> float:
    """Share of the filtered figures that are illustrative (the page header and every chart note say so)."""
    return query(illustrative_share, filters)


def chart_note(kpis: dict, filters: Filters) -> str:
    """The line under every chart title: what it covers, the 'as of' month, and the data's kind."""
    note = describe(filters)
    if kpis.get("as_of_label"):
        note = f"As of {month_name(kpis['as_of_label'])} · {note}"
    if illustrative(filters) > 0:
        note += " · illustrative data"
    return note


def download_csv(df, file_stem: str, label: str = "Download CSV") -> None:
    """A CSV download of `df` (or of what the callable `df` returns) with formula-like text escaped."""
    # Built only when clicked: most downloads are never used, and every run would pay for them.
    st.download_button(
        label,
        lambda: safe_csv(df() if callable(df) else df),
        file_name=f"{file_stem}.csv",
        mime="text/csv",
        icon=":material/download:",
    )


def chart(fig, numbers, file_stem: str, where=None, filter_kind: str | None = None) -> None:
    """A plotly chart, its numbers as a table and a CSV; with filter_kind, clicking a bar sets that sidebar filter.
    The chart's title (its finding) is its text alternative; the table is one step away, drawn when opened."""
    target = where or st
    key = f"click_{file_stem}"
    clicks = {"key": key, "on_select": sidebar.filter_from_chart(key, filter_kind), "selection_mode": "points"}
    alt = figure_alt(fig)
    target.plotly_chart(fig, config=plotly_config(file_stem), alt=alt, **(clicks if filter_kind else {}))
    # Drawn only once opened: a table on the first view loads the data grid's scripts before the first chart.
    numbers_box = target.expander("The numbers behind this chart", key=f"numbers_{file_stem}", on_change="rerun")
    if numbers_box.open:
        with numbers_box:
            st.dataframe(numbers, hide_index=True, width="stretch", alt=f"The numbers behind the chart: {alt}")
            download_csv(numbers, file_stem)


def per_adults_note(metric: str, filters: Filters) -> None:
    """Under a per-adults measure: what it divides by, and that narrowing filters do not narrow the adults."""
    if METRICS[metric].kind != PER_ADULTS:
        return
    narrowed = " The filters narrow the partnerships, not the adults: the denominator is still all of the area's."
    st.caption(
        f"{METRICS[metric].label}: the area's {METRICS[METRICS[metric].numerator].label.lower()} × 10,000 ÷ its "
        "adults 18+ (ACS 2019–2023, summed from its towns)."
        + (narrowed if filters.sectors or filters.partnerships else "")
    )

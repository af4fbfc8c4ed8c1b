"""Partnerships: side by side in a sorted, searchable, paged table; choosing one opens its profile and its peers."""

import pandas as pd
import streamlit as st

from queries.filters import Filters
from queries.metrics import kpi_summary, monthly_totals, partnership_count, partnership_rows
from queries.registry import partnership_list
from queries.trends import metric_series
from rsp_data.metrics import MEASURES, METRICS
from ui import cache, charts, goals, sidebar, views, widgets
from ui import facts as ct_facts
from ui.brief import brief_html
from ui.charts import KPI_METRICS
from ui.format import carried_phrase, metric_value, month_name

filters, kpis = widgets.page_start("Partnerships")

PAGE = 25
SORTS = {
    "placements": "Placements",
    "trainees_enrolled": "Enrolled",
    "trainees_completed": "Completed",
    "employers_engaged": "Employers",
    "placement_rate": "Placement rate",
    "group_name": "Name",
}
total = cache.query(partnership_count, filters)
controls = st.columns([2, 1.2, 0.8]) if total > PAGE else [None, *st.columns([1, 2])]
search = ""
if total > PAGE:
    search = controls[0].text_input("Find a partnership", key="table_search", placeholder="Name or id")
sort = sidebar.url_choice(
    controls[1].selectbox,
    "Sort by",
    tuple(SORTS),
    param="sort",
    default="placements",
    format_func=SORTS.get,
)
matching = cache.query(partnership_count, filters, search) if search else total
pages = max(1, -(-matching // PAGE))
page = 1
if pages > 1:
    page = int(controls[2].number_input(f"Page (of {pages:,})", 1, pages, 1, key="table_page"))
table = cache.query(
    partnership_rows,
    filters,
    order_by=sort,
    descending=sort != "group_name",
    limit=PAGE,
    offset=(page - 1) * PAGE,
    search=search,
    total=matching,
)

where = f"{matching:,} partnership{'s' if matching != 1 else ''}" + (f" match “{search}”" if search else "")
st.caption(
    (f"{where}; showing {(page - 1) * PAGE + 1:,}–{(page - 1) * PAGE + len(table):,}. " if pages > 1 else "")
    + "Select a row to open its profile. Employers engaged: "
    f"at {month_name(kpis['as_of_label']) if kpis['as_of_label'] else 'the latest month'}"
    + (f", {carried}" if (carried := carried_phrase(kpis)) else "")
    + "; other figures: summed over the months in range."
)
shown = table.assign(
    name=table["group_name"],
    launched=table["launched"].replace("", "not published"),
    gjc=table["gjc_supported"].map({True: "Yes", False: "No"}),
    placement_pct=table["placement_rate"] * 100,
)
COLUMNS = {  # in the table's order
    "name": st.column_config.TextColumn("Partnership", width="large"),
    "sector_name": st.column_config.TextColumn("Sector", width="small"),
    "region_name": st.column_config.TextColumn("Region", width="small"),
    **{m: st.column_config.NumberColumn(SORTS[m], format="%d") for m in KPI_METRICS[:4]},
    "placement_pct": st.column_config.NumberColumn("Placement rate", format="%.0f%%"),
    "gjc": st.column_config.TextColumn("Good Jobs grant", width="small"),
}
linked = st.query_params.get("profile")
preselected = table.index[table["rsp_id"] == linked].tolist()
event = st.dataframe(
    shown,
    selection_default={"selection": {"rows": preselected[:1]}} if preselected else None,
    hide_index=True,
    width="stretch",
    height=36 * (len(shown) + 1) + 3,  # the whole page visible without an inner scroll
    on_select="rerun",
    selection_mode="single-row",
    key=f"partnership_table-{sort}-{page}-{search}",  # a selection belongs to the rows it was made on
    alt="Partnerships and their figures",
    column_order=tuple(COLUMNS),
    column_config=COLUMNS,
)

# The download holds what the table shows, plus the registry id and the exact rate.
widgets.download_csv(shown[["rsp_id", *COLUMNS, "placement_rate"]], "rsp_partnerships")

# Drawn only when opened (and kept in the link as compare=…): most visits never open it.
peers = st.expander(
    "Compare peers: sector × region, placement rate and placements per employer",
    key="compare",
    bind="query-params",
)
if peers.open:
    with peers:
        compare_metric = st.selectbox(
            "Measure for the sector × region matrix",
            MEASURES,
            format_func=lambda m: METRICS[m].label,
            key="compare_metric",
        )
        heatmap, matrix, by_rate, per_employer, ranked = cache.memo(
            views.compare, filters, compare_metric, widgets.chart_note(kpis, filters)
        )
        widgets.chart(heatmap, matrix, f"{compare_metric}_sector_by_region")
        left, right = st.columns(2)
        left.plotly_chart(
            by_rate, config=charts.plotly_config("placement_rate_ranking"), alt=charts.figure_alt(by_rate)
        )
        right.plotly_chart(
            per_employer,
            config=charts.plotly_config("placements_per_employer_ranking"),
            alt=charts.figure_alt(per_employer),
        )
        st.caption(
            "Placement rate: placements ÷ trainees completed over the months in range. Placements per employer: "
            "placements over the range ÷ employers engaged as of the partnership's latest report. Bars are coloured by "
            "sector."
        )
        st.dataframe(ranked, hide_index=True, width="stretch", alt="Partnerships ranked by placement rate")
        widgets.download_csv(ranked, "rsp_partnership_rankings")

selected_rows = event.selection.rows if event is not None else []
if selected_rows:
    picked = table.iloc[selected_rows[0]]["rsp_id"]
    if st.session_state.get("_last_table_pick") != picked:
        st.session_state["_last_table_pick"] = picked
        st.session_state["p_profile"] = picked

# The profile offers this page's partnerships, and keeps one opened from a link or a selection.
wanted = st.session_state.get("p_profile") or st.query_params.get("profile") or ""
offered = list(dict.fromkeys([*table["rsp_id"], *([wanted] if wanted else [])]))
names = sidebar.partnership_names(tuple(offered))
profile_id = sidebar.url_choice(
    st.selectbox,
    "Partnership profile",
    ["", *sorted(names, key=names.get)],
    param="profile",
    default="",
    format_func=lambda i: names.get(i, "Choose a partnership…"),
)
if not profile_id:
    st.stop()

p = cache.query(partnership_list, (profile_id,)).set_index("rsp_id").loc[profile_id]
st.header(p["name"])
facts = {
    "Sector": p["sector_name"],
    "Region": p["region_name"],
    "Convener": p["convener"] or "not published",
    "Launched": p["launched"] or "not published",
    "Published size": p["published_size"] or "not published",
    "Good Jobs Challenge": "supported" if p["gjc_supported"] else "not supported",
}
st.markdown("  \n".join(f"**{k}:** {v}" for k, v in facts.items()))
st.download_button(
    "Download a one-page brief (HTML, opens offline)",
    cache.query(brief_html, profile_id, filters.month_from, filters.month_to),
    file_name=f"{profile_id}-brief.html",
    mime="text/html",
    icon=":material/description:",
)
if p["name_source"] == "descriptive":
    st.caption("No public name was found for this partnership: the name describes its sector and region.")

mine = Filters(partnerships=(profile_id,), month_from=filters.month_from, month_to=filters.month_to)
own = cache.query(kpi_summary, mine)
if own["months"] == 0:
    st.info("This partnership has no figures in the chosen months.")
    st.stop()
for column, metric in zip(st.columns(len(KPI_METRICS)), KPI_METRICS, strict=True):
    column.metric(METRICS[metric].label, metric_value(metric, own[metric]), border=True)

monthly = cache.query(monthly_totals, mine, None)
note = widgets.chart_note(own, mine)
quarterly = {
    METRICS[m].label: metric_series(monthly, m, "quarterly").set_index("period_label")["value"] for m in charts.PEOPLE
}
widgets.chart(
    charts.profile_trend(monthly, f"{p['name']}: people trained and placed each quarter", note),
    pd.DataFrame(quarterly).rename_axis("Quarter").reset_index(),
    f"{profile_id}_quarterly",
)

goals.partnership(profile_id, p["name"], bool(p["gjc_supported"]), filters)
ct_facts.published_about(profile_id)
if p["region_id"] in charts.outlined_regions():
    ct_facts.who_lives_here((p["region_id"],))

peers_filter = Filters(sectors=(p["sector_id"],), month_from=filters.month_from, month_to=filters.month_to)
peers = cache.memo(views.sector_peers, profile_id, peers_filter)
peer_count = cache.query(partnership_count, peers_filter)
st.subheader(f"Compared with {p['sector_name'].lower()} peers")
if peer_count > len(peers):
    st.caption(f"The {views.PEERS} {p['sector_name'].lower()} partnerships with most placements, of {peer_count:,}.")
if len(peers) < 2:
    st.caption(f"{p['name']} is the only {p['sector_name'].lower()} partnership in the registry.")
else:
    left, right = st.columns(2)
    peer_note = widgets.chart_note(own, peers_filter)
    for where, metric in ((left, "placements"), (right, "placement_rate")):
        label = METRICS[metric].label
        figure = charts.peer_bar(peers, metric, profile_id, f"{label}, {p['sector_name']} partnerships", peer_note)
        numbers = peers[["group_name", metric]].rename(columns={"group_name": "Partnership", metric: label})
        widgets.chart(figure, numbers, f"{p['sector_id']}_peers_{metric}", where)
    st.caption("Peers are compared over the same months, in every region.")

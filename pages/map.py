"""Map: the five regions shaded by a measure, each partnership a marker sized by it. No basemap needed."""

import html

import streamlit as st

from rsp_data.metrics import ADULTS, METRICS, PER_ADULTS, REGION_MEASURES
from ui import cache, charts, facts, sidebar, views, widgets
from ui.format import metric_value
from ui.theme import NEUTRAL, SECTOR_COLOURS

LEGEND_ROWS = 15

filters, kpis = widgets.page_start("Map of the partnerships")


@sidebar.page_fragment  # the measure and the town borders rerun only the map
def region_map(filters, kpis) -> None:
    pick, toggle = st.columns([1, 2], vertical_alignment="bottom")
    metric = sidebar.measure_choice(pick.selectbox, "Shade regions and size markers by", REGION_MEASURES)
    town_lines = toggle.toggle("Show town borders", key="map_town_lines")
    deck, by_region, markers = cache.memo(views.partnership_map, filters, metric, False, town_lines)

    sidebar.active_filter_chips(filters)
    map_column, legend_column = st.columns([3, 1])
    with map_column:
        st.pydeck_chart(
            deck,
            height=560,
            key="map_click",
            on_select=sidebar.filter_from_chart("map_click", "region"),
            selection_mode="single-object",
            alt=f"Map of Connecticut's five areas shaded by {METRICS[metric].label.lower()}, with a marker per "
            "partnership; the figures are beside it and in the table below",
        )
        largest = f" The map shows the {len(markers):,} partnerships with the highest value of this measure."
        st.caption(
            "The five workforce development areas, each the union of its towns (CT Department of Labor's town lists; "
            "town shapes from the U.S. Census Bureau). Each partnership sits at its convener's town where one is "
            "published, otherwise at its area's largest city (an assumption; its tooltip says which)."
            + (largest if len(markers) >= views.MAP_MARKERS else "")
        )
        outlined = charts.outlined_regions()
        missing = [r for r in by_region["group_id"] if r not in outlined]
        if missing:
            st.info(
                f"{len(missing):,} of the {len(by_region):,} regions in this store have no outline on this map "
                "(it draws Connecticut's five); their figures are listed beside it and in the numbers below."
            )
    with legend_column:
        st.markdown(f"**{METRICS[metric].label} by region**  \n_darker = more_")
        st.markdown(
            "  \n".join(
                f"{row.group_name}: **{metric_value(metric, getattr(row, metric))}**"
                for row in by_region.sort_values(metric, ascending=False).head(LEGEND_ROWS).itertuples()
            )
            + (f"  \n…and {len(by_region) - LEGEND_ROWS:,} more below" if len(by_region) > LEGEND_ROWS else "")
        )
        sector_names = dict(zip(markers["sector_id"], markers["sector_name"], strict=False))
        swatches = "<br/>".join(
            f"<span style='color:{SECTOR_COLOURS.get(s, NEUTRAL)}; font-size:1.3em'>●</span> "
            f"{html.escape(sector_names[s])}"
            for s in sorted(set(markers["sector_id"]), key=sector_names.get)
        )
        st.markdown(f"**Markers: partnerships, coloured by sector**<br/>{swatches}", unsafe_allow_html=True)
        sized = METRICS[metric].numerator if METRICS[metric].kind == PER_ADULTS else metric
        st.caption(
            f"Marker area grows with {METRICS[sized].label.lower()}. Hover a region or a marker for its figures."
        )
    if metric == "employers_engaged":
        st.caption("Employers are counted per partnership: one employer in two partnerships counts twice.")
    widgets.per_adults_note(metric, filters)
    chosen = tuple(r for r in filters.regions if r in outlined) or tuple(sorted(outlined & set(by_region["group_id"])))
    if chosen:
        facts.who_lives_here(chosen)
    with st.expander("The numbers behind this map"):
        label = METRICS[metric].label
        shown = {"group_name": "Region", metric: label}
        if METRICS[metric].kind == PER_ADULTS:
            shown |= {sized: METRICS[sized].label, ADULTS: "Adults 18+"}
        regions = by_region[list(shown)].rename(columns=shown)
        st.dataframe(regions, hide_index=True, width="stretch", alt=f"{label} by region")
        widgets.download_csv(regions, f"{metric}_by_region", "Download regions as CSV")
        columns = {
            "group_name": "Partnership",
            "sector_name": "Sector",
            "region_name": "Region",
            sized: METRICS[sized].label,
        }
        partnerships = markers[list(columns)].rename(columns=columns)
        st.dataframe(partnerships, hide_index=True, width="stretch", alt=f"{METRICS[sized].label} by partnership")
        widgets.download_csv(partnerships, f"{metric}_by_partnership")


region_map(filters, kpis)

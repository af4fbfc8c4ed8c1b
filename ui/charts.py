"""Figures: plotly charts and the pydeck map, built from query results. No Streamlit here."""

from __future__ import annotations

import base64
import html
import json
import math
import re
import textwrap
from functools import lru_cache

import pandas as pd
import plotly.graph_objects as go
import pydeck as pdk
from plotly import colors as px_colors

from queries.trends import metric_series
from rsp_data import ct
from rsp_data.metrics import AVERAGE, METRICS, PER_ADULTS, RATE
from rsp_data.registry import DATA_DIR, registry
from ui.format import metric_value
from ui.theme import (
    GOAL,
    NEUTRAL,
    OTHER_PEER,
    REGION_COLOURS,
    SECTOR_COLOURS,
    SPARKLINE,
    colour_for,
    for_line,
    hex_to_rgb,
    outline,
    shade,
)

# Colours for groups without their own (Plotly's "Dark24": 24 that tell apart on a projector).
DISTINCT = px_colors.qualitative.Dark24

# Connecticut fills a 1280-px-wide view at 7.7, the presenter's 1920×1080 slide at 8.3; no basemap tiles are drawn.
ZOOM, PROJECTOR_ZOOM = 7.7, 8.3


TICKS = {"percent": ".0%", "dollars": "$,.2f", "decimal": ",.2f", "count": ","}
# The five headline measures: the KPI tiles, the map's tooltips and the brief.
KPI_METRICS = ("employers_engaged", "trainees_enrolled", "trainees_completed", "placements", "placement_rate")
# A partnership's people each quarter: the profile's chart and the brief's.
PEOPLE = {"trainees_enrolled": "#56B4E9", "trainees_completed": "#0072B2", "placements": "#D55E00"}


def _value_axis(metric: str, vertical: bool = False) -> dict:
    info = METRICS[metric]
    # Upright, the unit alone: the chart's title names the measure, and a long name would run past the plot.
    title = info.unit[:1].upper() + info.unit[1:] if vertical else f"{info.label} ({info.unit})"
    return {"title_text": title, "tickformat": TICKS[info.format]}


def plotly_config(file_stem: str) -> dict:
    """Modebar with a PNG download (drawn in the browser: works offline), no Plotly logo."""
    return {
        "displaylogo": False,
        "toImageButtonOptions": {"format": "png", "filename": file_stem, "scale": 2},
        "modeBarButtonsToRemove": ["lasso2d", "select2d"],
    }


def figure_alt(fig: go.Figure) -> str:
    """A chart's short text alternative: its title (which states the finding), without markup or subtitle."""
    title = fig.layout.title.text or ""
    return html.unescape(re.sub(r"<[^>]+>", " ", title.split("<br>")[0])).strip() or "Chart"


def layout(title: str, height: int = 380, subtitle: str = "", **more) -> dict:
    """Every chart's layout: the title (and subtitle) at the left, the legend under the plot, 14 px type.
    Figures are made in one go.Figure(data=..., layout=...) call: plotly's update_* and add_* methods
    cost several times more for the same, validated, figure."""
    text = f"{html.escape(title)}<br><sup>{html.escape(subtitle)}</sup>" if subtitle else html.escape(title)
    return {
        "title": {"text": text, "x": 0, "xanchor": "left"},
        "height": height,
        "margin": {"l": 10, "r": 10, "t": 70 if subtitle else 50, "b": 10},
        # Legend under the plot: above it, it would sit on the subtitle.
        "legend": {"orientation": "h", "yanchor": "top", "y": -0.2, "x": 0},
        "font": {"size": 14},
        **more,
    }


def hline(y: float, line: dict, text: str) -> tuple[dict, dict]:
    """(shape, annotation) of a line across the plot at `y`, labelled at its top left (as add_hline draws it)."""
    shape = {"type": "line", "xref": "x domain", "x0": 0, "x1": 1, "yref": "y", "y0": y, "y1": y, "line": line}
    label = {"text": text, "showarrow": False, "xref": "x domain", "x": 0, "xanchor": "left", "yref": "y", "y": y}
    return shape, {**label, "yanchor": "bottom"}


def vrect(x0, x1, **style) -> dict:
    """A band over the whole height of the plot from x0 to x1 (as add_vrect draws it)."""
    return {"type": "rect", "xref": "x", "x0": x0, "x1": x1, "yref": "y domain", "y0": 0, "y1": 1, **style}


def wrap_label(text: str, width: int = 22) -> str:
    """Break a long category name over lines (plotly axis labels take <br>) so bars keep their room."""
    return "<br>".join(textwrap.wrap(html.escape(text), width, break_long_words=False, break_on_hyphens=False))


def _hbar(
    data: pd.DataFrame, column: str, labels: list[str], colours: list, height: int, title: str, subtitle: str, **xaxis
):
    """Horizontal bars of `column` per group, each with its value printed after the bar (not "auto": measuring
    whether each value fits inside its bar is most of what these charts cost to draw)."""
    text = [metric_value(column, v) for v in data[column]]
    bar = go.Bar(
        x=data[column],
        y=labels,
        orientation="h",
        marker={"color": colours, "line": {"color": [outline(c) for c in colours], "width": 1.5}},
        text=text,
        textposition="outside",
        cliponaxis=False,  # the longest bar's value reaches into the right margin
        textangle=0,
        customdata=data["group_id"],
        hovertemplate="%{y}: %{text}<extra></extra>",
    )
    frame = layout(title, height, subtitle, xaxis=xaxis, yaxis={"automargin": True})
    # Room for the longest value after the longest bar: about 8 px a character at the charts' 14 px.
    frame["margin"]["r"] = 12 + 8 * max((len(t) for t in text), default=0)
    return go.Figure(data=[bar], layout=frame)


def _fit(labels: list[str], row: int, pad: int) -> int:
    """A bar chart's height with room for every label, wrapped ones included, so long names never overlap."""
    return max(240, 110 + sum(max(row, 17 * (label.count("<br>") + 1) + pad) for label in labels))


def breakdown_bar(df: pd.DataFrame, metric: str, group_kind: str, title: str, subtitle: str = "") -> go.Figure:
    """Bars of `metric` per group (rows from metrics_by), largest on top, "others" (top_with_others) at the bottom."""
    data = df.assign(_last=df["group_id"] != "others").sort_values(
        ["_last", metric], ascending=True, na_position="first"
    )
    if group_kind == "partnership" and "sector_id" in data:  # partnerships in their sector's colour
        colours = [colour_for("sector", s) for s in data["sector_id"]]
    else:
        colours = [colour_for(group_kind, g) for g in data["group_id"]]
    labels = [wrap_label(name, 26) for name in data["group_name"]]
    return _hbar(data, metric, labels, colours, _fit(labels, 40, 12), title, subtitle, **_value_axis(metric))


def trend_chart(
    series: pd.DataFrame,
    metric: str,
    view: str,
    split: str | None,
    title: str,
    goal_series: pd.DataFrame | None = None,
    goal: int | None = None,
    subtitle: str = "",
    partial: tuple[pd.Timestamp, str] | None = None,
) -> go.Figure:
    """Lines (monthly, cumulative) or bars (quarterly) per group; optional grant series and goal line; a
    `partial` (month, note) is shaded and its marks hollow or hatched, so it never reads as a drop."""
    traces, shapes, annotations = [], [], []
    known = {"sector": SECTOR_COLOURS, "region": REGION_COLOURS}.get(split or "", {})
    unknown = 0
    for (group_id, group_name), part in series.groupby(["group_id", "group_name"], sort=False):
        # Sectors and regions keep their colours, other groups take DISTINCT in turn, "All other …" is grey, dotted.
        if group_id == "others":
            colour = NEUTRAL
        elif group_id in known:
            colour = colour_for(split, group_id)
        elif split is not None:
            colour, unknown = DISTINCT[unknown % len(DISTINCT)], unknown + 1
        else:
            colour = SECTOR_COLOURS["healthcare"]  # one series: the palette's blue
        hover = [
            f"{label}{'' if n == 3 or view != 'quarterly' else f' ({n} of 3 months)'}: {metric_value(metric, v)}"
            for label, n, v in zip(part["period_label"], part["months_in_period"], part["value"], strict=True)
        ]
        common = {
            "x": part["period"],
            "y": part["value"],
            "name": group_name,
            "hovertext": hover,
            "hovertemplate": f"{html.escape(group_name)}<br>%{{hovertext}}<extra></extra>",
        }
        is_partial = (part["period"] == _period(partial[0], view)).tolist() if partial else [False] * len(part)
        if view == "quarterly":
            hatch = ["/" if p else "" for p in is_partial]
            marker = {"color": colour, "pattern": {"shape": hatch}, "line": {"color": outline(colour), "width": 1.5}}
            traces.append(go.Bar(**common, marker=marker))
        else:
            colour = for_line(colour)
            line = {"color": colour, "width": 2.5, **({"dash": "dot"} if group_id == "others" else {})}
            symbols = ["circle-open" if p else "circle" for p in is_partial]
            sizes = [10 if p else 0 for p in is_partial]
            marker = {"symbol": symbols, "size": sizes, "color": colour, "line": {"width": 2}}
            traces.append(go.Scatter(**common, mode="lines+markers", line=line, marker=marker))
    if goal_series is not None and not goal_series.empty:
        traces.append(
            go.Scatter(
                x=goal_series["month"],
                y=goal_series["cumulative"],
                name="Grant-supported partnerships, since grant start",
                mode="lines",
                line={"color": NEUTRAL, "width": 3, "dash": "dot"},
                hovertemplate="Grant-supported, cumulative: %{y:,}<extra></extra>",
            )
        )
    if goal:
        line = {"color": GOAL, "width": 2, "dash": "dash"}
        shape, label = hline(goal, line, f"Good Jobs Challenge goal: {goal:,} placements")
        shapes.append(shape)
        annotations.append(label)
    if partial:
        x = _period(partial[0], view)
        half = pd.Timedelta(days=45 if view == "quarterly" else 15)
        shapes.append(vrect(x - half, x + half, fillcolor=NEUTRAL, opacity=0.12, line={"width": 0}))
        note = f"Partial: {partial[1]}"
        annotations.append(
            {"x": x, "y": 1, "yref": "paper", "text": note, "showarrow": False, "xanchor": "right", "yanchor": "bottom"}
        )
    frame = layout(
        title,
        500,
        subtitle,
        xaxis={"title_text": "Quarter" if view == "quarterly" else "Month"},
        yaxis={**_value_axis(metric, vertical=True), "rangemode": "tozero"},
        shapes=shapes,
        annotations=annotations,
        **({"barmode": "group"} if view == "quarterly" and split else {}),
    )
    return go.Figure(data=traces, layout=frame)


def _period(month: pd.Timestamp, view: str) -> pd.Timestamp:
    return month.to_period("Q").start_time if view == "quarterly" else month


def published_series(points: pd.DataFrame, title: str, subtitle: str) -> go.Figure:
    """A published series (columns as_of 'YYYY-MM', value, label) as dated points joined by a line."""
    dates = pd.to_datetime(points["as_of"])
    trace = go.Scatter(
        x=dates,
        y=points["value"],
        text=points["label"],
        mode="lines+markers+text",
        textposition="top center",
        line={"color": NEUTRAL, "width": 2},
        marker={"size": 9, "color": NEUTRAL},
        hovertemplate="%{x|%b %Y}: %{text}<extra></extra>",
    )
    # Room around the points for their labels.
    yaxis = {"range": [0, points["value"].max() * 1.25], "tickformat": ",d", "title_text": None}
    span = [dates.min() - pd.DateOffset(months=3), dates.max() + pd.DateOffset(months=3)]
    xaxis = {"title_text": "As of", "dtick": "M3", "tickformat": "%b %Y", "range": span}
    return go.Figure(data=[trace], layout=layout(title, 340, subtitle, xaxis=xaxis, yaxis=yaxis))


def peer_bar(df: pd.DataFrame, metric: str, highlight: str, title: str, subtitle: str = "") -> go.Figure:
    """Partnerships of one sector side by side, the chosen one highlighted."""
    data = df.sort_values(metric, ascending=True, na_position="first")
    colours = [
        colour_for("sector", s) if g == highlight else OTHER_PEER
        for g, s in zip(data["group_id"], data["sector_id"], strict=True)
    ]
    labels = [wrap_label(name, 30) for name in data["group_name"]]
    height = max(220, 90 + 46 * len(data))
    return _hbar(data, metric, labels, colours, height, title, subtitle, **_value_axis(metric))


@lru_cache(maxsize=1)
def region_shapes() -> dict:
    """The committed GeoJSON: the five areas dissolved from their towns, the state outline, the town borders."""
    return json.loads((DATA_DIR / "ct_regions.geojson").read_text(encoding="utf-8"))


def outlined_regions() -> set[str]:
    """Regions the map can draw (the committed GeoJSON has Connecticut's five)."""
    return {f["properties"]["region_id"] for f in region_shapes()["features"] if f["properties"]["kind"] == "region"}


def marker_positions(partnerships: pd.DataFrame) -> pd.DataFrame:
    """Each partnership at its home town (registry), spread around it only when several share a town; none
    outside the outlined areas. Columns rsp_id, lon, lat, home (the town and whether it is assumed)."""
    homes = {p.id: p for p in registry().partnerships}
    known = partnerships[partnerships["rsp_id"].isin(homes) & partnerships["region_id"].isin(outlined_regions())]
    rows = []
    for town, ids in known.sort_values(["sector_id", "rsp_id"]).groupby(known["rsp_id"].map(lambda i: homes[i].home)):
        place, n = ct.town(town), len(ids)
        for i, rsp_id in enumerate(ids["rsp_id"]):
            angle, r = 2 * math.pi * i / n + math.pi / 4, 0.0 if n == 1 else 0.045
            how = "assumed: the area's largest city" if homes[rsp_id].home_assumed else "the convener's town"
            # A degree of longitude is ~0.75 of a degree of latitude at 41.5°N.
            lon, lat = place.lon + r * math.cos(angle) / 0.75, place.lat + r * math.sin(angle)
            rows.append({"rsp_id": rsp_id, "lon": lon, "lat": lat, "home": f"{town} ({how})"})
    return pd.DataFrame(rows, columns=["rsp_id", "lon", "lat", "home"])


def region_map(
    region_rows: pd.DataFrame,
    partnership_rows: pd.DataFrame,
    metric: str,
    projector: bool = False,
    town_lines: bool = False,
) -> pdk.Deck:
    """Regions shaded by `metric` (rows from metrics_by), one marker per partnership (partnership_rows) sized by it.
    `projector`: the presenter's taller view, larger labels in the app's font, an outline that shows on dark too;
    `town_lines`: the 169 town borders, faint."""
    info = METRICS[metric]
    values = dict(zip(region_rows["group_id"], region_rows[metric], strict=True))
    finite = [v for v in values.values() if pd.notna(v)]
    top = max(finite) if finite else 0
    low = min(finite) if finite and info.kind == RATE else 0

    region_features, state_features, town_features, labels = [], [], [], []
    for feature in region_shapes()["features"]:
        props = feature["properties"]
        if props["kind"] != "region":
            (state_features if props["kind"] == "state" else town_features).append(feature)
            continue
        value = values.get(props["region_id"])
        has_value = pd.notna(value)
        share = (value - low) / (top - low) if has_value and top > low else (1.0 if has_value and top else 0.0)
        fill = [*shade(share), 215] if has_value else [235, 235, 235, 180]
        text = metric_value(metric, value) if has_value else "not in filter"
        region_features.append(
            {
                **feature,
                "properties": {**props, "fill": fill},
                "tooltip": f"{props['region_name']} area, {props['towns']} towns\n{info.label}: {text}",
            }
        )
        labels.append({"lon": props["label_lon"], "lat": props["label_lat"] + 0.1, "text": props["region_name"]})

    markers = partnership_rows.merge(marker_positions(partnership_rows), on="rsp_id", how="inner")
    sized = info.numerator if info.kind == PER_ADULTS else metric  # a partnership has no adults of its own
    peak = markers[sized].max() if not markers.empty else 0
    markers = markers.assign(
        radius=[900 + 5200 * math.sqrt((v or 0) / peak) if peak and pd.notna(v) else 900 for v in markers[sized]],
        colour=[[*hex_to_rgb(colour_for("sector", s)), 235] for s in markers["sector_id"]],
        tooltip=[
            f"{r.group_name}\n{r.sector_name} · {r.region_name} region\nConvener: {r.convener or 'not published'}\n"
            f"Placed at {r.home}\n"
            + "\n".join(f"{METRICS[m].label}: {metric_value(m, getattr(r, m))}" for m in KPI_METRICS)
            for r in markers.itertuples()
        ],
    )
    layers = [
        pdk.Layer(
            "GeoJsonLayer",
            {"type": "FeatureCollection", "features": region_features},
            id="regions",
            filled=True,
            stroked=True,
            get_fill_color="properties.fill",
            get_line_color=[255, 255, 255],
            line_width_min_pixels=2,
            pickable=True,
        ),
        *[
            pdk.Layer(
                "GeoJsonLayer",
                {"type": "FeatureCollection", "features": town_features},
                id="town-borders",
                stroked=True,
                get_line_color=[255, 255, 255, 150],
                line_width_min_pixels=0.6,
            )
            for _ in range(town_lines)
        ],
        pdk.Layer(
            "GeoJsonLayer",
            {"type": "FeatureCollection", "features": state_features},
            id="state-outline",
            filled=False,
            stroked=True,
            get_line_color=[128, 128, 128],  # #808080: 3:1 or more on both themes' backgrounds
            line_width_min_pixels=2.5,
        ),
        pdk.Layer(
            "ScatterplotLayer",
            markers[["lon", "lat", "radius", "colour", "tooltip"]].to_dict("records"),
            id="partnerships",
            get_position=["lon", "lat"],
            get_radius="radius",
            get_fill_color="colour",
            stroked=True,
            get_line_color=[255, 255, 255],
            line_width_min_pixels=1.5,
            pickable=True,
        ),
        pdk.Layer(
            "TextLayer",
            labels,
            id="region-labels",
            get_position=["lon", "lat"],
            get_text="text",
            get_size=26 if projector else 15,
            font_family=pdk.types.String('"Source Sans", "Source Sans Pro", sans-serif') if projector else None,
            get_color=[25, 25, 25],
            font_weight=700,
            outline_width=4,
            outline_color=[255, 255, 255],
            font_settings={"sdf": True},
        ),
    ]
    deck = pdk.Deck(
        layers,
        initial_view_state=pdk.ViewState(
            latitude=41.52, longitude=-72.72, zoom=PROJECTOR_ZOOM if projector else ZOOM, pitch=0, bearing=0
        ),
        map_provider=None,
        # Plain text, not HTML: names from the registry or an import are never interpreted as markup.
        tooltip={"text": "{tooltip}", "style": {"fontSize": "14px", "maxWidth": "340px", "whiteSpace": "pre-line"}},
    )
    # No basemap, nothing fetched: with no style Streamlit fills in an online one, a style object breaks it.
    deck.map_style = [""]
    return deck


def profile_trend(monthly: pd.DataFrame, title: str, subtitle: str = "") -> go.Figure:
    """One partnership's enrolments, completions and placements per quarter (from monthly_totals)."""
    traces = []
    for metric, colour in PEOPLE.items():
        series = metric_series(monthly, metric, "quarterly")
        traces.append(
            go.Bar(
                x=series["period"],
                y=series["value"],
                name=METRICS[metric].label,
                marker={"color": colour, "line": {"color": outline(colour), "width": 1.5}},
                hovertext=series["period_label"],
                hovertemplate=f"%{{hovertext}} · {METRICS[metric].label}: %{{y:,}}<extra></extra>",
            )
        )
    axes = {"xaxis": {"title_text": "Quarter"}, "yaxis": {"title_text": "People", "tickformat": ","}}
    return go.Figure(data=traces, layout=layout(title, 420, subtitle, barmode="group", **axes))


def matrix_heatmap(table: pd.DataFrame, metric: str, title: str, subtitle: str = "") -> go.Figure:
    """A sector × region heatmap with each cell's value printed; blank where no partnership is."""
    z = table.to_numpy(dtype="float64")
    text = [["" if math.isnan(v) else metric_value(metric, v) for v in row] for row in z]
    heatmap = go.Heatmap(
        z=z,
        x=[html.escape(str(c)) for c in table.columns],
        y=[wrap_label(str(i), 26) for i in table.index],
        text=text,
        texttemplate="%{text}",
        colorscale="Blues",
        showscale=False,
        xgap=3,
        ygap=3,
        hovertemplate="%{y} · %{x}: %{text}<extra></extra>",
    )
    axes = {"yaxis": {"autorange": "reversed", "automargin": True}, "xaxis": {"side": "top", "automargin": True}}
    return go.Figure(data=[heatmap], layout=layout(title, 140 + 56 * max(len(table.index), 1), subtitle, **axes))


def ranking_bar(rows: pd.DataFrame, column: str, title: str, subtitle: str = "") -> go.Figure:
    """Partnerships ranked by `column` (best on top), coloured by sector."""
    data = rows.dropna(subset=[column]).sort_values(column, ascending=True)
    colours = [colour_for("sector", s) for s in data["sector_id"]]
    labels = [wrap_label(n, 34) for n in data["group_name"]]
    axis = {"title_text": METRICS[column].label, "tickformat": ".0%" if column == "placement_rate" else ".1f"}
    return _hbar(data, column, labels, colours, _fit(labels, 34, 10), title, subtitle, **axis)


def monthly_chart(series: pd.DataFrame, metric: str, title: str, subtitle: str = "") -> go.Figure:
    """One measure over time (rows from metric_series): bars for counts, a line for an average or a rate."""
    kind = METRICS[metric].kind
    labels = [f"{p}: {metric_value(metric, v)}" for p, v in zip(series["period_label"], series["value"], strict=True)]
    common = {
        "x": series["period"],
        "y": series["value"],
        "hovertext": labels,
        "hovertemplate": "%{hovertext}<extra></extra>",
    }
    if kind in (RATE, AVERAGE):
        trace = go.Scatter(**common, mode="lines+markers", line={"color": "#0072B2", "width": 2.5}, connectgaps=False)
    else:
        trace = go.Bar(**common, marker_color="#009E73")
    xaxis = {"title_text": "Quarter" if kind in (RATE, AVERAGE) else "Month"}
    # Counts from zero; an average wage reads better on its own range.
    yaxis = {**_value_axis(metric, vertical=True), "rangemode": "normal" if kind == AVERAGE else "tozero"}
    return go.Figure(data=[trace], layout=layout(title, 380, subtitle, xaxis=xaxis, yaxis=yaxis))


def sparkline_svg(metric: str, points: list[tuple[str, float]], bars: bool) -> str:
    """A KPI tile's small chart, an SVG image (no chart library to load): bars (`bars`) or a line over `points`
    (period label, value). Its alt text says the span, first, last, lowest and highest; the SVG's description
    lists every point."""
    if not points:
        return ""
    values = [float(v) for _, v in points]
    width, height, n = 200, 40, len(values)
    low, high = (min(0.0, *values) if bars else min(values)), max(values)  # bars from zero; a line its own range
    span = (high - low) or 1.0

    def y(v: float) -> float:
        return round(height - 1 - (v - low) / span * (height - 2), 1)

    if bars:
        step = width / n
        rects = [
            f'<rect x="{(i + 0.15) * step:.1f}" y="{y(v)}" width="{0.7 * step:.1f}" height="{y(low) - y(v):.1f}"/>'
            for i, v in enumerate(values)
        ]
        shape = f'<g fill="{SPARKLINE}">{"".join(rects)}</g>'
    else:
        line = " ".join(f"{i * width / max(n - 1, 1):.1f},{y(v)}" for i, v in enumerate(values))
        shape = (
            f'<polyline points="{line}" fill="none" stroke="{SPARKLINE}" stroke-width="2" '
            'stroke-linejoin="round" vector-effect="non-scaling-stroke"/>'
        )

    def at(i: int) -> str:
        return f"{metric_value(metric, values[i])} ({points[i][0]})"

    name = (
        f"{METRICS[metric].label}, {points[0][0]} – {points[-1][0]}: from {at(0)} to {at(n - 1)}; "
        f"lowest {at(values.index(min(values)))}, highest {at(values.index(max(values)))}"
    )
    every = "; ".join(f"{period}: {metric_value(metric, v)}" for period, v in points)
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" preserveAspectRatio="none">'
        f"<desc>{html.escape(every)}</desc>{shape}</svg>"
    )
    # An image, not inline SVG: st.html's sanitiser keeps HTML only.
    source = "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()
    return f'<img class="rsp-sparkline" alt="{html.escape(name)}" src="{source}" style="width:100%;height:{height}px">'

"""Presenter mode (`?present=1`): chrome-free, large-type slides for a projector, inside the link's filters:
KPIs and the headline goal, the map, the trend, sector × region, a spotlight per partnership. The slide, the
auto-advance interval and the pause live in the URL (`slide`, 1-based; `interval`, seconds; `paused=1`)."""

from __future__ import annotations

import html
import time
from collections.abc import Mapping, MutableMapping
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from queries.filters import Filters, shown
from queries.goals import SCOPE_NOUNS, goal_list, goal_progress, goal_status, grant_placements_by_month
from queries.metrics import kpi_summary, monthly_totals, partnership_rows
from queries.registry import partnership_list
from rsp_data.metrics import METRICS, PER_ADULTS, REGION_MEASURES
from rsp_data.registry import registry
from ui import cache, charts, sidebar, views, widgets
from ui import goals as goals_ui
from ui.format import carried_phrase, metric_value, month_name
from ui.theme import GOAL, SECTOR_COLOURS

INTERVALS = (10, 20, 30, 60)
DEFAULT_INTERVAL = 20
ADVANCE_AT = 0.8  # a timer run counts as "the interval has passed" from this share of it: browser timers drift
PRESENTER_PARAMS = ("slide", "interval", "paused")
KICKER = {"kpis": "Are we on track?", "map": "Where it is happening", "trend": "The trend", "matrix": "Sector × region"}
SPOTLIGHT = "spotlight:"
SPOTLIGHTS = 20  # at most this many spotlights: a national store has thousands of partnerships

# Session state rules, unless the URL differs from what this view last wrote there (a fresh link, a re-entry).
K_SLIDE = "present_slide"  # 0-based index of the slide on screen
K_INTERVAL = "present_interval"  # seconds: the interval widget's key
K_PAUSED = "present_paused"
K_SHOWN_AT = "present_shown_at"  # time.monotonic() when the slide was last drawn by a full run
K_PLAN = "present_plan"  # the slide keys, in order: those of KICKER, then "spotlight:<rsp_id>"
K_WRITTEN = "_present_url_written"
K_NOTICES = "_present_notices"  # the link's ignored values, shown on slide 1 until the presenter moves on
PLOTLY_CONFIG = {"displaylogo": False, "displayModeBar": False}
# Sized for 1920×1080: the slide's header takes about 260 px of the height.
MAP_HEIGHT, TREND_HEIGHT, MATRIX_MAX_HEIGHT, SPOTLIGHT_CHART_HEIGHT = 760, 780, 780, 560
TITLE_ONE_LINE, TITLE_SECOND_LINE = 64, 64  # characters that fit one line at 1920 px; a line's height

CSS = Path(__file__).with_name("present.css")  # st.html wraps a .css file in <style>
# Auto-advance must not move the slide under a keyboard user (WCAG 2.2.2): keyboard focus on a control of the bar
# pauses the show, and so does prefers-reduced-motion on arrival; Play resumes. Focus by mouse click does not pause.
HOLD_SCRIPT = """<script>(() => {
  const pause = () => {
    const button = document.querySelector('.st-key-present_pause button');
    if (button && button.innerText.includes('Pause')) { button.click(); return true; }
    return !!button;
  };
  if (!window.rspPresenterHold) {
    window.rspPresenterHold = true;
    document.addEventListener('focusin', e => {
      if (e.target.closest && e.target.closest('.st-key-present_bar') && e.target.matches(':focus-visible')) pause();
    });
  }
  if (matchMedia('(prefers-reduced-motion: reduce)').matches && !window.rspReducedMotionPaused) {
    window.rspReducedMotionPaused = true;
    let tries = 0;
    const timer = setInterval(() => { if (pause() || ++tries > 50) clearInterval(timer); }, 100);
  }
})();</script>"""


def step(index: int, total: int, delta: int = 1) -> int:
    """The slide `delta` away from `index` (0-based), wrapping around at both ends."""
    return (index + delta) % total if total > 0 else 0


def auto_advance(session: MutableMapping, total: int, now: float) -> bool:
    """One tick of the auto-advance timer against session state: move on when due. True if it moved."""
    interval = session.get(K_INTERVAL, DEFAULT_INTERVAL)
    if session.get(K_PAUSED, False) or now - session.get(K_SHOWN_AT, now) < interval * ADVANCE_AT:
        return False
    session[K_SLIDE] = step(session.get(K_SLIDE, 0), total)
    session[K_SHOWN_AT] = now
    session[K_NOTICES] = []
    return True


def parse_params(params: Mapping[str, str | None], total: int) -> tuple[int, int, bool, list[str]]:
    """(slide index, interval, paused, notices) from the link; a bad value falls back, with a notice."""
    choices = ", ".join(str(i) for i in INTERVALS[:-1]) + f" or {INTERVALS[-1]}"
    rules = {  # name: (valid, fallback, the notice's advice)
        "slide": (
            lambda t: t.isdecimal() and 1 <= int(t) <= total,
            "1",
            f"the slides are numbered 1 to {total}. Showing slide 1.",
        ),
        "interval": (
            lambda t: t.isdecimal() and int(t) in INTERVALS,
            str(DEFAULT_INTERVAL),
            f"choose {choices} seconds. Advancing every {DEFAULT_INTERVAL} s.",
        ),
        "paused": (lambda t: t in ("1", "0"), "0", "use paused=1 to start paused."),
    }
    values, notices = {}, []
    for name, (valid, fallback, advice) in rules.items():
        raw = params.get(name)
        values[name] = fallback if raw is None else str(raw).strip()
        if not valid(values[name]):
            notices.append(f"Ignored “{name}={shown(str(raw))}” in the link: {advice}")
            values[name] = fallback
    return int(values["slide"]) - 1, int(values["interval"]), values["paused"] == "1", notices


def url_params(index: int, interval: int, paused: bool) -> dict[str, str]:
    """The presenter parameters for the URL (defaults left out, the slide always in)."""
    params = {"slide": str(index + 1)}
    if interval != DEFAULT_INTERVAL:
        params["interval"] = str(interval)
    if paused:
        params["paused"] = "1"
    return params


def show(filters: Filters, notices: list[str]) -> None:
    """Draw presenter mode for `filters`; `notices` are the link's ignored filter values."""
    st.html(CSS)
    st.html(HOLD_SCRIPT, unsafe_allow_javascript=True)
    plan = slide_plan(filters)
    st.session_state[K_PLAN] = plan
    _sync_url(len(plan), notices)
    _control_bar(len(plan))
    # The fragment's timer (none while paused) restarts on every full run; auto_advance decides when to move on.
    st.session_state[K_SHOWN_AT] = time.monotonic()
    run_every = None if st.session_state[K_PAUSED] else st.session_state[K_INTERVAL]
    st.fragment(_slide_view, run_every=run_every)(filters, plan)


def slide_plan(filters: Filters) -> list[str]:
    """The slide keys in order; spotlights for the partnerships with the most placements in the chosen months."""
    top = cache.query(partnership_rows, filters, order_by="placements", limit=SPOTLIGHTS)
    ordered = top.sort_values(["placements", "group_name"], ascending=[False, True], kind="stable")
    return [*KICKER, *(SPOTLIGHT + rsp for rsp in ordered["rsp_id"])]


def _sync_url(total: int, filter_notices: list[str]) -> None:
    """Take the slide, interval and pause from the link unless the URL is the one this view wrote; write them back."""
    current = {name: st.query_params.get(name) for name in PRESENTER_PARAMS if name in st.query_params}
    # The interval widget's state is gone once presenter mode is left: then the link is read again.
    if K_INTERVAL in st.session_state and current == st.session_state.get(K_WRITTEN):
        st.session_state[K_SLIDE] = min(st.session_state[K_SLIDE], total - 1)
    else:
        index, interval, paused, notices = parse_params(current, total)
        st.session_state[K_SLIDE] = index
        st.session_state[K_INTERVAL] = interval
        st.session_state[K_PAUSED] = paused
        st.session_state[K_NOTICES] = [*filter_notices, *notices]
    wanted = url_params(st.session_state[K_SLIDE], st.session_state[K_INTERVAL], st.session_state[K_PAUSED])
    for name in PRESENTER_PARAMS:
        sidebar.set_param(name, [wanted[name]] if name in wanted else [])
    st.session_state[K_WRITTEN] = wanted


def _go(delta: int) -> None:
    st.session_state[K_SLIDE] = step(st.session_state.get(K_SLIDE, 0), len(st.session_state.get(K_PLAN, ())), delta)
    st.session_state[K_NOTICES] = []


def _toggle_pause() -> None:
    st.session_state[K_PAUSED] = not st.session_state.get(K_PAUSED, False)


def _control_bar(total: int) -> None:
    """Previous, Pause/Play, Next, the counter, the interval and the way out, in one slim row."""
    paused = st.session_state[K_PAUSED]
    with st.container(horizontal=True, vertical_alignment="center", gap="small", key="present_bar"):
        st.button(
            "Previous",
            key="present_prev",
            icon=":material/chevron_left:",
            on_click=_go,
            args=(-1,),
            shortcut="Left",
            help="Previous slide (←)",
        )
        st.button(
            "Play" if paused else "Pause",
            key="present_pause",
            icon=":material/play_arrow:" if paused else ":material/pause:",
            on_click=_toggle_pause,
            shortcut="P",
            help="Resume auto-advance (P)" if paused else "Stop auto-advance (P)",
        )
        st.button(
            "Next",
            key="present_next",
            icon=":material/chevron_right:",
            icon_position="right",
            on_click=_go,
            args=(1,),
            shortcut="Right",
            help="Next slide (→)",
        )
        st.html(
            f'<div class="rsp-bar-counter" data-testid="rsp-counter">{st.session_state[K_SLIDE] + 1} / {total}</div>',
            width="content",
        )
        st.segmented_control(
            "Advance every",
            INTERVALS,
            key=K_INTERVAL,
            format_func=lambda s: f"{s} s",
            required=True,
            label_visibility="collapsed",
            help="Seconds each slide stays on screen while playing",
        )
        st.html(
            f'<div class="rsp-small">{"Paused" if paused else "Playing"}</div>',
            width="content",
        )
        st.space("stretch")
        st.button(
            "Exit presenter mode",
            key="present_exit",
            icon=":material/close_fullscreen:",
            type="tertiary",
            on_click=_exit,
            help="Back to this page with its sidebar; the filters stay",
        )


def _exit() -> None:
    """Leave presenter mode on this page, keeping the filters (a page link would leave `present=1` in the address)."""
    for name in ("present", *PRESENTER_PARAMS):
        st.query_params.pop(name, None)


def _slide_view(filters: Filters, plan: list[str]) -> None:
    """The slide on screen. Run by every full run and, while playing, by the timer."""
    if auto_advance(st.session_state, len(plan), time.monotonic()):
        st.rerun()  # a full run: the counter, the URL and the timer follow the new slide
    index = min(st.session_state.get(K_SLIDE, 0), len(plan) - 1)
    if index == 0:
        for notice in st.session_state.get(K_NOTICES, []):
            st.html(f'<div class="rsp-notice">⚠️ {html.escape(notice)}</div>')
    key = plan[index]
    if key.startswith(SPOTLIGHT):
        _slide_spotlight(filters, key.removeprefix(SPOTLIGHT), index - len(KICKER) + 1, len(plan) - len(KICKER))
        return
    kpis = cache.query(kpi_summary, filters)
    if kpis["months"] == 0:
        _header(KICKER[key], "No monthly figures match these filters", filters, None)
        st.html('<div class="rsp-meta">Exit presenter mode and widen the month range or clear a filter.</div>')
        return
    {"kpis": _slide_kpis, "map": _slide_map, "trend": _slide_trend, "matrix": _slide_matrix}[key](filters, kpis)


def _header(kicker: str, title: str, filters: Filters, as_of_label: str | None, extra: str = "") -> int:
    """Kicker, title (the finding), as-of month, scope, illustrative label; returns the pixels a second line takes."""
    st.html(f'<div class="rsp-kicker">{html.escape(kicker)}</div>')
    st.title(title, anchor=False)
    bits = [f"As of <b>{html.escape(month_name(as_of_label))}</b>"] if as_of_label else []
    if status := widgets.partial(filters, as_of_label):
        bits.append(f"<b>{html.escape(status.short())}</b>")
    bits.append(html.escape(extra or widgets.describe(filters)))
    share = widgets.illustrative(filters)
    label = "Illustrative data" if share >= 1 else f"{share:.0%} illustrative data"
    badge = f'<span class="rsp-badge">{label}</span>' if share > 0 else ""
    st.html(f'<div class="rsp-meta">{" · ".join(bits)}{badge}</div>')
    return TITLE_SECOND_LINE if len(title) > TITLE_ONE_LINE else 0


def _kpi_tiles(kpis: dict, *, compact: bool = False, notes: dict[str, str] | None = None) -> None:
    notes = notes or {}
    tiles = "".join(
        # Label and value in the tile's accessible name: it reads "Placements: 2,380".
        f'<div class="rsp-kpi" role="group" '
        f'aria-label="{html.escape(METRICS[metric].label)}: {metric_value(metric, kpis[metric])}" '
        f'data-metric="{metric}">'
        f'<div class="rsp-kpi-value">{metric_value(metric, kpis[metric])}</div>'
        f'<div class="rsp-kpi-label">{html.escape(METRICS[metric].label)}</div>'
        + (f'<div class="rsp-kpi-note">{html.escape(notes[metric])}</div>' if metric in notes else "")
        + "</div>"
        for metric in charts.KPI_METRICS
    )
    st.html(f'<div class="rsp-kpis{" rsp-compact" if compact else ""}">{tiles}</div>')


def _numbers(table, caption: str) -> None:
    """The slide chart's numbers as a table for screen readers: one step away, and off the projected slide."""
    body = table.to_html(index=False, border=0, na_rep="–", float_format=lambda v: f"{v:,.2f}")
    body = body.replace(">", f"><caption>{html.escape(caption)}</caption>", 1)
    st.html(f'<div class="rsp-sr-only">{body}</div>')


def _big(fig: go.Figure, height: int, title: str = "", *, top: int = 70, ticks: int = 18) -> go.Figure:
    """A chart readable from the back of a room: large type, no toolbar."""
    fig.update_layout(
        height=height,
        title={"text": title, "font": {"size": 24}},
        font={"size": 20},
        legend={"font": {"size": 20}},
        hoverlabel={"font": {"size": 20}},
        margin={"l": 10, "r": 20, "t": top, "b": 10},
    )
    fig.update_xaxes(title_font={"size": 20}, tickfont={"size": ticks})
    fig.update_yaxes(title_font={"size": 20}, tickfont={"size": ticks})
    fig.update_annotations(font_size=20)
    return fig


def _slide_kpis(filters: Filters, kpis: dict) -> None:
    status = _headline_goal(filters)
    if status is not None and status.progress:
        noun = METRICS[status.goal.metric].label.lower()
        title = f"{status.progress:,} of {status.goal.target:,} {noun}: {status.share:.0%} of the goal"
    else:
        title = f"{kpis['placements']:,} people placed into jobs"
    _header(KICKER["kpis"], title, filters, kpis["as_of_label"])
    at_the_end = f"at the end of {month_name(kpis['as_of_label'])}"
    if carried := carried_phrase(kpis):
        at_the_end += f"; {carried}"
    _kpi_tiles(kpis, notes={"employers_engaged": at_the_end, "placement_rate": "of completers placed"})
    if status is None:
        return
    if not status.progress:
        st.html(f'<div class="rsp-goal-note">{html.escape(goals_ui.projection_sentence(status))}</div>')
        return
    goal = status.goal
    notes = [f"{METRICS[goal.metric].label} {goals_ui.scope_text(status)}.", goals_ui.projection_sentence(status)]
    if status.narrowed:
        notes.append(f"Within these filters: the goal itself covers {SCOPE_NOUNS[goal.scope]}.")
    if goal.illustrative:
        notes.append("An illustrative goal.")
    width = min(status.share, 1.0) * 100
    st.html(
        '<div class="rsp-goal">'
        '<div class="rsp-goal-head">'
        f'<span class="rsp-goal-name">{html.escape(goal.name)}</span>'
        f'<span class="rsp-goal-figure" data-testid="rsp-goal-figure">{status.progress:,} '
        f"({status.share:.0%})</span></div>"
        f'<div class="rsp-goal-track" role="progressbar" aria-label="{html.escape(goal.name)}" '
        f'aria-valuemin="0" aria-valuemax="{goal.target}" aria-valuenow="{status.progress}" '
        f'aria-valuetext="{status.progress:,} of {goal.target:,} ({status.share:.0%})">'
        f'<div class="rsp-goal-fill" style="width:{width:.1f}%"></div></div>'
        f'<div class="rsp-goal-note">{html.escape(" ".join(notes))}</div>'
        "</div>"
    )


def _headline_goal(filters: Filters):
    """The first goal the Overview shows (the grant goal when there is one), within the filters."""
    goals = goals_ui.overview_goals(cache.query(goal_list), filters)
    return cache.query(goal_status, goals[0].goal_id, filters) if goals else None


def _slide_map(filters: Filters, kpis: dict) -> None:
    # Placements, or per 10,000 adults when the link asks for it ("Present this view" from the Map page).
    asked = st.query_params.get("metric")
    metric = asked if asked in REGION_MEASURES and METRICS[asked].kind == PER_ADULTS else "placements"
    label = METRICS[metric].label
    deck, by_region, markers = cache.memo(views.partnership_map, filters, metric, True)  # projector
    ranked = by_region.sort_values([metric, "group_name"], ascending=[False, True])
    top = ranked.iloc[0]
    if metric != "placements":
        title = f"{top.group_name} region leads with {metric_value(metric, top[metric])} {METRICS[metric].unit}"
    elif len(ranked) > 1:
        title = f"{top.group_name} region leads with {top.placements:,} placements"
    else:
        k = len(markers)
        title = f"{top.group_name} region: {top.placements:,} placements by {k} partnership{'s' if k != 1 else ''}"
    lost = _header(KICKER["map"], title, filters, kpis["as_of_label"])
    left, right = st.columns([3, 1], vertical_alignment="top")
    with left:
        st.pydeck_chart(
            deck, height=MAP_HEIGHT - lost, alt=f"Map of Connecticut's five areas shaded by {label.lower()}"
        )
    sector_names = dict(zip(markers["sector_id"], markers["sector_name"], strict=False))
    rows = "".join(
        f'<tr><td>{html.escape(name)}</td><td class="rsp-num">{metric_value(metric, value)}</td></tr>'
        for name, value in zip(ranked["group_name"], ranked[metric], strict=True)
    )
    swatches = "<br/>".join(
        f'<span class="rsp-dot" style="color:{SECTOR_COLOURS.get(s, "#555555")}">●</span> '
        f"{html.escape(sector_names[s])}"
        for s in sorted(set(markers["sector_id"]), key=sector_names.get)
    )
    per_adults = "Per 10,000 adults 18+ of the area (ACS 2019–2023). " if metric != "placements" else ""
    with right:
        st.html(
            '<div class="rsp-legend">'
            f"<h2>{html.escape(label)} by region</h2><table>{rows}</table>"
            f"<div class='rsp-small'>{per_adults}Darker region = more.</div>"
            f"<h2>Partnerships, by sector</h2>{swatches}"
            "<div class='rsp-small' style='margin-top:0.6rem'>Marker area grows with placements. "
            "Areas are unions of their towns (CT Department of Labor); markers sit at home towns.</div>"
            "</div>"
        )


def _slide_trend(filters: Filters, kpis: dict) -> None:
    progress = cache.query(goal_progress, filters)
    goal = registry().grant.goal_placements
    grant_monthly = cache.query(grant_placements_by_month, filters)
    status = _headline_goal(filters)
    if progress.partnerships:
        reached = grant_monthly[grant_monthly["cumulative"] >= goal]
        # The same projection as the Overview and the first slide (queries.goals.project).
        same_goal = status is not None and status.goal.scope == "grant" and status.goal.target == goal
        reach = status.projection.reach if same_goal else None
        placed = f"{progress.placements:,} placed since {progress.since:%b %Y}"
        if not reached.empty:
            title = f"Goal reached in {reached['month'].iloc[0]:%b %Y}: {progress.placements:,} placements"
        elif reach:
            title = f"{placed}: at this pace, {goal:,} by {reach:%b %Y}"
        else:
            title = f"{placed}, against a goal of {goal:,}"
    else:
        title = f"{kpis['placements']:,} placements in the chosen months"
    lost = _header(KICKER["trend"], title, filters, kpis["as_of_label"])
    # The Trends page's view of cumulative placements, copied: the shared figure is only read.
    note = widgets.chart_note(kpis, filters)
    shared, numbers, _ = cache.memo(views.trend, filters, "placements", "cumulative", None, note)
    fig = go.Figure(shared)
    if not progress.partnerships:  # no grant-supported partnership in view: no grant line
        fig.data = [trace for trace in fig.data if trace.name == "All partnerships"]
    # The grant line is the story: bold; every partnership in view: quieter.
    fig.update_traces(line={"width": 6, "color": "#0072B2", "dash": "solid"})
    fig.update_traces(
        name="All partnerships in view, from the start of the range",
        line={"color": "#8C8C8C", "width": 3},
        selector={"name": "All partnerships"},
    )
    fig = _big(fig, TREND_HEIGHT - lost, top=50)
    fig.update_layout(legend={"y": 1.0, "x": 0, "font": {"size": 22}})
    fig.update_annotations(font={"size": 24, "color": GOAL})
    st.plotly_chart(fig, config=PLOTLY_CONFIG, alt=f"Cumulative placements against the goal of {goal:,}: {title}")
    _numbers(numbers, f"The numbers behind the chart: {title}")


def _slide_matrix(filters: Filters, kpis: dict) -> None:
    # The Partnerships page's matrix (every partnership in view, not the map's largest markers).
    heatmap, matrix, _, _, _ = cache.memo(views.compare, filters, "placements", widgets.chart_note(kpis, filters))
    table = matrix.set_index("sector_name")
    sector_totals = table.sum(axis=1)
    region_totals = table.sum(axis=0)
    total = int(sector_totals.sum())
    if len(sector_totals) > 1:
        title = f"{sector_totals.index[0]} places the most people: {int(sector_totals.iloc[0]):,} of {total:,}"
    elif len(region_totals) > 1:
        title = (
            f"{sector_totals.index[0]}: {region_totals.index[0]} places the most, "
            f"{int(region_totals.iloc[0]):,} of {total:,}"
        )
    else:
        title = f"{sector_totals.index[0]} in {region_totals.index[0]}: {total:,} placements"
    lost = _header(KICKER["matrix"], title, filters, kpis["as_of_label"])
    height = min(MATRIX_MAX_HEIGHT - lost, 190 + 100 * len(table.index))
    fig = _big(go.Figure(heatmap), height, top=20, ticks=24)  # a copy: the shared figure is only read
    fig.update_traces(
        x=[f"{r}<br>({int(region_totals[r]):,})" for r in table.columns],
        y=[f"{s} ({int(sector_totals[s]):,})" for s in table.index],
        textfont={"size": 34},
        xgap=4,
        ygap=4,
        hovertemplate="%{y} · %{x}: %{text} placements<extra></extra>",
    )
    st.plotly_chart(fig, config=PLOTLY_CONFIG, alt=f"Heatmap of placements by sector and region: {title}")
    _numbers(
        matrix.rename_axis(columns=None).rename(columns={"sector_name": "Sector"}),
        f"Placements by sector and region: {title}",
    )
    st.html(
        '<div class="rsp-small">Placements summed over the chosen months; totals in brackets. '
        "An empty cell: no partnership of that sector in that region.</div>"
    )


def _slide_spotlight(filters: Filters, rsp_id: str, number: int, count: int) -> None:
    p = cache.query(partnership_list, (rsp_id,)).iloc[0]
    mine = Filters(partnerships=(rsp_id,), month_from=filters.month_from, month_to=filters.month_to)
    kicker = f"Spotlight {number} of {count}"
    own = cache.query(kpi_summary, mine)
    facts = [p["sector_name"], f"{p['region_name']} region", f"Convener: {p['convener'] or 'not published'}"]
    if p["launched"]:
        facts.append(f"Launched {p['launched']}")
    facts.append("Good Jobs Challenge supported" if p["gjc_supported"] else "Not grant-supported")
    if p["name_source"] == "descriptive":
        facts.append("Descriptive name (none published)")
    if own["months"] == 0:
        _header(kicker, f"{p['name']}: no figures in the chosen months", mine, None, extra=" · ".join(facts))
        return
    n = int(own["placements"])
    title = f"{p['name']} placed {n:,} {'person' if n == 1 else 'people'}"
    lost = _header(kicker, title, mine, own["as_of_label"], extra=" · ".join(facts))
    _kpi_tiles(own, compact=True)
    monthly = cache.query(monthly_totals, mine, None)
    fig = charts.profile_trend(monthly, "People trained and placed each quarter")
    fig = _big(fig, SPOTLIGHT_CHART_HEIGHT - lost, "People trained and placed each quarter")
    fig.update_layout(legend={"y": 1.0, "x": 1.0, "xanchor": "right", "yanchor": "bottom"})
    st.plotly_chart(fig, config=PLOTLY_CONFIG, alt=f"{p['name']}: people trained and placed each quarter")
    quarters = {"Quarter": list(fig.data[0].hovertext)} | {t.name: list(t.y) for t in fig.data}
    _numbers(pd.DataFrame(quarters), f"{p['name']}: people trained and placed each quarter")

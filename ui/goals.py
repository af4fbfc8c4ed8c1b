"""Goals on the pages: progress, the projection sentence (the one wording, presenter too) and its chart."""

from __future__ import annotations

import html
from datetime import date

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from queries.filters import Filters
from queries.goals import (
    METHOD,
    NO_PROGRESS,
    NOT_ENOUGH_DATA,
    PROJECTED,
    REACHED,
    SCOPE_NOUNS,
    WINDOW,
    GoalStatus,
    goal_list,
    goal_status,
    projection_path,
)
from rsp_data.goals import Goal
from rsp_data.metrics import METRICS
from rsp_data.months import month_index, shift
from ui import cache, charts, widgets
from ui.theme import GOAL, NEUTRAL

ACTUAL = "#0072B2"
BAND = "rgba(0, 114, 178, 0.15)"


def _month(value: date | None) -> str:
    return value.strftime("%b %Y") if value else "—"


def _noun(goal: Goal) -> str:
    return METRICS[goal.metric].label.lower()


def _pace(value: float, like: float | None = None) -> str:
    """One decimal under 10 a month, else whole; judged on `like` when given, so a margin reads as its rate."""
    return f"{value:,.1f}" if (value if like is None else like) < 10 else f"{value:,.0f}"


def due_text(goal: Goal) -> str:
    return f"{_month(goal.due_month)}{' (assumed)' if goal.due_assumed else ''}"


def scope_text(status: GoalStatus) -> str:
    """'by 10 grant-supported partnerships, Aug 2022 – Oct 2026' (who and when)."""
    goal, n = status.goal, status.partnerships
    kind = {"grant": "grant-supported ", "statewide": ""}.get(goal.scope)
    who = "" if kind is None else f"by {n} {kind}partnership{'s' if n != 1 else ''}, "
    return f"{who}{_month(goal.start_month)} – {_month(status.through)}"


def progress_text(status: GoalStatus) -> str:
    """'1,867 of 2,000 placements (93%) by 10 grant-supported partnerships, Aug 2022 – Oct 2026'."""
    goal = status.goal
    head = f"{status.progress:,} of {goal.target:,} {_noun(goal)} ({status.share:.0%})"
    scope = scope_text(status)
    return f"{head} {scope}" if scope.startswith("by ") else f"{head}, {scope}"


def projection_sentence(status: GoalStatus) -> str:
    """The projection in one or two sentences: when, the range, and against the due date."""
    goal, p = status.goal, status.projection
    if status.monthly.empty:
        return f"No {_noun(goal)} figures since {_month(goal.start_month)} within these filters."
    if p.status == REACHED:
        timing = "before" if p.reached_in < goal.due_month else "in the month of" if p.on_time else "after"
        return f"Goal reached in {_month(p.reached_in)}, {timing} the due date, {due_text(goal)}."
    if p.status == NOT_ENOUGH_DATA:
        return (
            f"No projection yet: it takes {WINDOW} complete months since {_month(goal.start_month)}, "
            f"and there {'is' if p.months_available == 1 else 'are'} {p.months_available}."
        )
    if p.status == NO_PROGRESS:
        return f"No projection: no {_noun(goal)} in the last {WINDOW} months."
    assert p.status == PROJECTED
    pace = f"{_pace(p.rate)} ± {_pace(p.margin, like=p.rate)} a month"
    window = f"{_month(shift(p.as_of, 1 - WINDOW))} – {_month(p.as_of)}"
    head = f"At the pace of the last {WINDOW} complete months, {window} ({pace}), the {goal.target:,} goal is"
    if p.reach is None:
        return f"{head} not reached within 100 years."
    if p.late_never:
        low = "could be no progress at all" if p.low_rate <= 0 else "does not reach it within 100 years"
        span = f"earliest {_month(p.reach_early)}; the slow end of the range {low}"
    elif p.reach_early == p.reach_late:
        span = "the monthly counts did not vary, so no range"
    else:
        span = f"range {_month(p.reach_early)} – {_month(p.reach_late)}"
    late = month_index(p.reach) - month_index(goal.due_month)
    timing = "by the due date" if p.on_time else f"{late} month{'s' if late != 1 else ''} after the due date"
    text = f"{head} reached in {_month(p.reach)} ({span}), {timing}, {due_text(goal)}."
    if p.on_time and (p.reach_late is None or p.reach_late > goal.due_month):
        text += " At the slow end of the range it would be late."
    if p.left_out:
        sent = "; ".join(f"{_month(m)}: {n} of {d} partnerships reported" for m, n, d in p.left_out)
        text += f" Left out as incomplete: {sent}."
    elif not p.on_time and p.reach_early is not None and p.reach_early <= goal.due_month:
        text += " At the fast end of the range it would be in time."
    return text


def chart_title(status: GoalStatus) -> str:
    """The finding, as the chart's title."""
    goal, p = status.goal, status.projection
    head = f"{status.progress:,} of {goal.target:,} {_noun(goal)}"
    if p.status == REACHED:
        return f"{goal.target:,} {_noun(goal)} reached in {_month(p.reached_in)}"
    if p.status == PROJECTED and p.reach is not None:
        when = "by the due date" if p.on_time else "after the due date"
        return f"{head}: at the recent pace, {goal.target:,} in {_month(p.reach)}, {when}"
    return head


def contribution_text(name: str, part: GoalStatus, whole: GoalStatus) -> str:
    """A grant-supported partnership's part in a grant goal."""
    goal = part.goal
    share_of_all = part.progress / whole.progress if whole.progress else 0.0
    return (
        f"**{goal.name}:** {name} contributed **{part.progress:,}** {_noun(goal)} since "
        f"{_month(goal.start_month)}, {part.share:.0%} of the {goal.target:,} goal and {share_of_all:.0%} of "
        f"the {whole.progress:,} by all grant-supported partnerships (through {_month(whole.through)})."
    )


def goal_chart(status: GoalStatus, subtitle: str = "") -> tuple[go.Figure, pd.DataFrame]:
    """(figure, numbers): the cumulative total, the projection's fan, the target line and the due month."""
    goal, p = status.goal, status.projection
    path = projection_path(p)
    label = METRICS[goal.metric].label
    traces, shapes, annotations = [], [], []
    if not path.empty:
        edge = {"x": path["month"], "mode": "lines", "line": {"width": 0}, "hoverinfo": "skip"}
        traces.append(go.Scatter(y=path["high"], showlegend=False, **edge))
        band = {"fill": "tonexty", "fillcolor": BAND, "name": "Range of the projection (95%)"}
        traces.append(go.Scatter(y=path["low"], **band, **edge))
        traces.append(
            go.Scatter(
                x=path["month"],
                y=path["central"],
                mode="lines",
                name=f"Projected at {_pace(p.rate)} a month",
                line={"color": ACTUAL, "width": 2, "dash": "dash"},
                hovertemplate="Projected: %{y:,.0f}<extra></extra>",
            )
        )
    traces.append(
        go.Scatter(
            x=status.monthly["month"],
            y=status.monthly["cumulative"],
            mode="lines",
            name=f"{label} since {_month(goal.start_month)}",
            line={"color": ACTUAL, "width": 3},
            hovertemplate=f"{html.escape(label)} to date: %{{y:,}}<extra></extra>",
        )
    )
    for month, sent, due_count in p.left_out:  # partial months: shaded and hollow, never read as a slowdown
        x = pd.Timestamp(month)
        shapes.append(
            charts.vrect(x - pd.Timedelta(days=15), x + pd.Timedelta(days=15), fillcolor=NEUTRAL, opacity=0.15)
        )
        shown = status.monthly[status.monthly["month"] == x]
        traces.append(
            go.Scatter(
                x=shown["month"],
                y=shown["cumulative"],
                mode="markers",
                name=f"{_month(month)}: partial ({sent} of {due_count} partnerships reported)",
                marker={"symbol": "circle-open", "size": 11, "color": ACTUAL, "line": {"width": 2}},
            )
        )
    if p.status == REACHED:
        traces.append(
            go.Scatter(
                x=[pd.Timestamp(p.reached_in)],
                y=[p.cumulative],  # the total in the month it was reached
                mode="markers",
                name=f"Reached in {_month(p.reached_in)}",
                marker={"color": GOAL, "size": 11},
            )
        )
    target, target_label = charts.hline(
        goal.target, {"color": GOAL, "width": 2, "dash": "dot"}, f"Target: {goal.target:,}"
    )
    # A shape and an annotation, not a vertical line across the x domain: a date axis takes the month as a string.
    due = goal.due_month.isoformat()
    shapes += [
        target,
        {
            "type": "line",
            "x0": due,
            "x1": due,
            "yref": "paper",
            "y0": 0,
            "y1": 1,
            "line": {"color": NEUTRAL, "dash": "dash"},
        },
    ]
    due_label = {"x": due, "y": 1, "yref": "paper", "text": f"Due {due_text(goal)}", "showarrow": False}
    annotations += [target_label, {**due_label, "xanchor": "left", "yanchor": "bottom"}]
    axes = {
        "xaxis": {"title_text": "Month"},
        "yaxis": {"title_text": f"{label}, cumulative", "tickformat": ",", "rangemode": "tozero"},
    }
    frame = charts.layout(chart_title(status), 440, subtitle, shapes=shapes, annotations=annotations, **axes)
    fig = go.Figure(data=traces, layout=frame)

    numbers = status.monthly.set_index("month").rename(columns={"value": label, "cumulative": f"{label}, cumulative"})
    if not path.empty:
        ahead = {"central": "Projected", "low": "Projected, slow", "high": "Projected, fast"}
        numbers = pd.concat([numbers, path.iloc[1:].set_index("month").rename(columns=ahead).round(1)])
    numbers.index = numbers.index.strftime("%Y-%m")
    return fig, numbers.rename_axis("Month").reset_index()


def show_goal(status: GoalStatus, filters: Filters, key: str, *, minor: bool = False) -> None:
    """One goal: heading (`minor`: a smaller one), progress bar, projection sentence, chart, source, method."""
    goal = status.goal
    badge = " :orange-badge[Illustrative goal]" if goal.illustrative else ""
    if minor:
        st.markdown(f"#### {goal.name}{badge}")
    else:
        st.header(goal.name + badge, anchor=False)
    if status.monthly.empty:
        st.caption(projection_sentence(status))
        return
    st.progress(min(status.share, 1.0), text=f"**{progress_text(status)}**")
    show = st.success if status.projection.status == REACHED else st.markdown
    show(projection_sentence(status))
    if status.narrowed:
        st.caption(
            "Within the sidebar's region, sector and partnership filters; the goal itself covers "
            f"{SCOPE_NOUNS[goal.scope]}. Counted from {_month(goal.start_month)} whatever the range's start."
        )
    # The chart covers the goal's months; the data's kind is judged on the sidebar's filters.
    covered = filters.with_(month_from=f"{goal.start_month:%Y-%m}", month_to=f"{status.through:%Y-%m}")
    note = widgets.describe(covered) + (" · illustrative data" if widgets.illustrative(filters) > 0 else "")
    # Shared by sessions: the figure costs more to build than its query.
    figure, numbers = cache.memo(_goal_view, goal.goal_id, filters, note)
    widgets.chart(figure, numbers, f"goal_{key}")
    st.caption(f"Source: {goal.source}" if goal.source else "Source: not given.")
    with st.expander("How the projection is made"):
        st.markdown(METHOD)


def _goal_view(q, goal_id: str, filters: Filters, note: str):
    return goal_chart(q(goal_status, goal_id, filters), note)


def overview_goals(goals: tuple[Goal, ...], filters: Filters) -> list[Goal]:
    """Statewide and grant goals, and the goals of partnerships the sidebar names."""
    return [g for g in goals if g.scope != "partnership" or g.rsp_id in filters.partnerships]


def overview(filters: Filters) -> None:
    """Every statewide and grant goal (and those of the partnerships in the filter), in order."""
    shown = overview_goals(cache.query(goal_list), filters)
    if not shown:
        st.caption("No goals are set. Add them to rsp_data/data/goals.csv or import a goals file.")
    for goal in shown:
        show_goal(cache.query(goal_status, goal.goal_id, filters), filters, goal.goal_id)


def partnership(profile_id: str, name: str, gjc_supported: bool, filters: Filters) -> None:
    """A profile's goals: its own, and its part in each grant goal when it is grant-supported."""
    goals = cache.query(goal_list)
    own = [g for g in goals if g.scope == "partnership" and g.rsp_id == profile_id]
    grant = [g for g in goals if g.scope == "grant"] if gjc_supported else []
    if not own and not grant:
        return
    st.subheader("Goals", anchor=False)
    mine = Filters(partnerships=(profile_id,), month_to=filters.month_to)
    for goal in own:
        show_goal(cache.query(goal_status, goal.goal_id, mine), mine, f"{profile_id}_{goal.goal_id}", minor=True)
    for goal in grant:
        part = cache.query(goal_status, goal.goal_id, mine)
        whole = cache.query(goal_status, goal.goal_id, Filters(month_to=filters.month_to))
        st.markdown(contribution_text(name, part, whole))

"""Goals: progress within the filters, counted from the goal's own start month whatever the range's start
(its end is honoured), and a projection (`project`, stated on the pages as `METHOD`)."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, replace
from datetime import date

import pandas as pd
from sqlalchemy import Engine, select

from queries import ranking
from queries._base import frame, reading, source, summed
from queries.filters import Filters
from rsp_data.goals import Goal, goal_from_row
from rsp_data.months import month_index, month_to_date, shift, to_datetimes
from rsp_data.registry import registry
from rsp_data.schema import goals as goals_table

SCOPE_ORDER = {"grant": 0, "statewide": 1, "partnership": 2}
SCOPE_NOUNS = {
    "statewide": "all partnerships",
    "grant": "all grant-supported partnerships",
    "partnership": "the partnership",
}


def goal_list(engine: Engine) -> tuple[Goal, ...]:
    """Every goal in the store: grant goals first, then statewide, then per partnership; by due month."""
    with reading(engine) as conn:
        rows = conn.execute(select(goals_table)).mappings().all()
    goals = [goal_from_row(r) for r in rows]
    return tuple(sorted(goals, key=lambda g: (SCOPE_ORDER.get(g.scope, 9), g.due_month, g.goal_id)))


def _scoped(goal: Goal, filters: Filters) -> Filters:
    scoped = filters.with_(month_from=None)
    if goal.scope == "partnership":
        ids = [] if filters.partnerships and goal.rsp_id not in filters.partnerships else [goal.rsp_id]
        scoped = scoped.with_(partnerships=tuple(ids) or ("",))
    return scoped


def incomplete_months(engine: Engine, goal: Goal, filters: Filters, last: date) -> list[tuple[date, int, int]]:
    """(month, reported, expected) of the months at the end of the series, up to `last`, that not every
    partnership in the goal's scope has sent (expected: those that had reported by then)."""
    scoped, grant = _scoped(goal, filters), goal.scope == "grant"
    out = []
    with reading(engine) as conn:
        for month in (shift(last, -k) for k in range(WINDOW)):
            expected = ranking.reporting_counts(conn, scoped, first=None, last=month, gjc=grant)["partnerships"]
            reported = ranking.reporting_counts(conn, scoped, first=month, last=month, gjc=grant)["partnerships"]
            if reported >= expected:
                break
            out.append((month, reported, expected))
    return out


def goal_monthly(engine: Engine, goal: Goal, filters: Filters, count: bool = True) -> tuple[pd.DataFrame, int]:
    """(series, partnerships reporting; 0 with count=False) of a goal within the filters. The series runs
    from the start month to the last month with figures, gaps as 0: month (Timestamp), value, cumulative."""
    scoped = _scoped(goal, filters)
    src = source(scoped, gjc=True if goal.scope == "grant" else None)
    stmt = (
        select(src.month.label("month"), summed(src.value(goal.metric), goal.metric).label("value"))
        .select_from(src.table)
        .where(*src.conds, src.month >= goal.start_month)
        .group_by(src.month)
        .order_by(src.month)
    )
    monthly = frame(engine, stmt)
    found = to_datetimes(monthly["month"])
    months = pd.date_range(goal.start_month, found.max(), freq="MS") if len(found) else pd.DatetimeIndex([])
    values = pd.to_numeric(monthly["value"]).astype("int64").set_axis(found).reindex(months, fill_value=0)
    out = pd.DataFrame({"month": months, "value": values.to_numpy(dtype="int64")})
    out["cumulative"] = out["value"].cumsum()
    if not count or out.empty:
        return out, 0
    grant = goal.scope == "grant"
    counted = ranking.reporting_counts(engine, scoped, first=goal.start_month, last=months[-1].date(), gjc=grant)
    return out, counted["partnerships"]


WINDOW = 12  # months: a full year, so seasonal cohorts (January and September starts) weigh evenly
T975 = 2.201  # Student's t, 97.5th percentile, 11 degrees of freedom: a 95% interval for the mean of 12
HORIZON = 1200  # months: a date further than 100 years out is not given
CHART_MONTHS = 120  # the projection's chart looks ten years ahead at most

METHOD = (
    "How the projection is made: the monthly counts of the last 12 complete months (a full year, so "
    "seasonal cohorts weigh evenly) give the pace, their mean, and a range for it, the mean ± t × s / √12 "
    "(s: the standard deviation of the 12 monthly counts; t = 2.201, Student's t for a 95% interval). "
    "From the total at the last complete month, the target is reached in the first month the total "
    "at that pace reaches it: at the mean (central), at the top of the range (earliest) and at the "
    "bottom (latest). A month is complete once it is before the current calendar month and every "
    "partnership in the goal's scope that had reported before has sent it. The range reflects how much "
    "the monthly counts vary, not changes in the programmes; "
    "fewer than 12 complete months since the goal's start give no projection."
)

REACHED, PROJECTED, NOT_ENOUGH_DATA, NO_PROGRESS = "reached", "projected", "not_enough_data", "no_progress"


@dataclass(frozen=True)
class Projection:
    status: str  # REACHED, PROJECTED, NOT_ENOUGH_DATA or NO_PROGRESS
    target: int
    due: date
    months_available: int  # complete months since the goal's start
    as_of: date | None  # the last complete month
    cumulative: int  # the total through as_of
    rate: float | None = None  # mean a month over the window
    margin: float | None = None  # t * s / sqrt(window)
    reached_in: date | None = None  # REACHED: the first month the total was at or over the target
    reach: date | None = None  # at the mean
    reach_early: date | None = None  # at rate + margin
    reach_late: date | None = None  # at rate - margin; None when that pace never gets there (see late_never)
    left_out: tuple[tuple[date, int, int], ...] = ()  # months with figures left out as incomplete: (month, sent, due)

    @property
    def low_rate(self) -> float | None:
        return None if self.rate is None else max(self.rate - (self.margin or 0.0), 0.0)

    @property
    def on_time(self) -> bool | None:
        """Reached (or projected at the mean) in or before the due month; None without a month."""
        month = self.reached_in if self.status == REACHED else self.reach
        return None if month is None else month <= self.due

    @property
    def late_never(self) -> bool:
        """At the bottom of the range the target is never reached (a pace of 0, or beyond the horizon)."""
        return self.status == PROJECTED and self.reach_late is None


def project(
    monthly: pd.DataFrame,
    target: int,
    due: date,
    *,
    today: date | None = None,
    incomplete: tuple[tuple[date, int, int], ...] = (),
) -> Projection:
    """When `target` is reached at the pace of the last WINDOW complete months (see METHOD); `today`
    (default: the real date) decides which month is the current one; `incomplete` are months not everyone
    has sent (incomplete_months), left out too."""
    today = today or date.today()
    current = min([date(today.year, today.month, 1), *[m for m, _, _ in incomplete]])
    months = pd.to_datetime(monthly["month"]).dt.date.tolist()
    values = [int(v) for v in monthly["value"]]
    for month, total in zip(months, itertools.accumulate(values), strict=True):
        if total >= target:  # reached: whatever the month, the figures say so
            return Projection(REACHED, target, due, 0, month, total, reached_in=month)
    complete = [(m, v) for m, v in zip(months, values, strict=True) if m < current]
    as_of = complete[-1][0] if complete else None
    left_out = tuple(sorted(i for i in incomplete if i[0] in months))
    base = Projection(
        NOT_ENOUGH_DATA, target, due, len(complete), as_of, sum(v for _, v in complete), left_out=left_out
    )
    if len(complete) < WINDOW:
        return base
    recent = [v for _, v in complete[-WINDOW:]]
    rate = sum(recent) / WINDOW
    if rate == 0:
        return replace(base, status=NO_PROGRESS, rate=0.0, margin=0.0)
    margin = T975 * math.sqrt(sum((v - rate) ** 2 for v in recent) / (WINDOW - 1)) / math.sqrt(WINDOW)

    def reach_at(pace: float) -> date | None:
        if pace <= 0:
            return None
        # A hair below the exact quotient: 80 / 10.0 is 8 months, not 9 through rounding.
        needed = max(math.ceil((target - base.cumulative) / pace - 1e-9), 1)
        return shift(as_of, needed) if needed <= HORIZON else None

    return replace(
        base,
        status=PROJECTED,
        rate=rate,
        margin=margin,
        reach=reach_at(rate),
        reach_early=reach_at(rate + margin),
        reach_late=reach_at(rate - margin),
    )


def projection_path(projection: Projection) -> pd.DataFrame:
    """Projected totals from as_of to the latest reach month or the due month: month, central, low, high."""
    p = projection
    if p.status != PROJECTED or p.as_of is None:
        return pd.DataFrame(columns=["month", "central", "low", "high"])
    # When the slow end gets there, the faster ones do too; when it never does, as far as the chart goes.
    span = CHART_MONTHS if p.reach_late is None else month_index(max(p.reach_late, p.due)) - month_index(p.as_of)
    steps = range(min(span, CHART_MONTHS) + 1)
    rates = {"central": p.rate, "low": p.low_rate, "high": p.rate + p.margin}
    totals = {name: [p.cumulative + rate * k for k in steps] for name, rate in rates.items()}
    return pd.DataFrame({"month": pd.to_datetime([shift(p.as_of, k) for k in steps]), **totals})


@dataclass(frozen=True)
class GoalStatus:
    goal: Goal
    monthly: pd.DataFrame  # goal_monthly's series
    partnerships: int  # partnerships in scope with figures since the goal's start
    projection: Projection
    narrowed: bool  # the filters narrow the goal's scope

    @property
    def progress(self) -> int:
        return int(self.monthly["cumulative"].iloc[-1]) if len(self.monthly) else 0

    @property
    def through(self) -> date | None:
        return self.monthly["month"].iloc[-1].date() if len(self.monthly) else None

    @property
    def share(self) -> float:
        return self.progress / self.goal.target if self.goal.target else 0.0


def goal_status(engine: Engine, goal_id: str, filters: Filters, today: date | None = None) -> GoalStatus | None:
    """A goal's progress within the filters and its projection (None for an unknown goal)."""
    goal = next((g for g in goal_list(engine) if g.goal_id == goal_id), None)
    if goal is None:
        return None
    monthly, count = goal_monthly(engine, goal, filters)
    narrowed = bool(filters.regions or filters.sectors) or (bool(filters.partnerships) and goal.scope != "partnership")
    incomplete = incomplete_months(engine, goal, filters, monthly["month"].iloc[-1].date()) if len(monthly) else []
    projection = project(monthly, goal.target, goal.due_month, today=today, incomplete=tuple(incomplete))
    return GoalStatus(goal, monthly, count, projection, narrowed)


# The Trends page and the presenter draw the registry's grant goal: read like a goal of scope grant.
@dataclass(frozen=True)
class GoalProgress:
    placements: int
    goal: int
    since: date
    through: date | None
    partnerships: int

    @property
    def share(self) -> float:
        return self.placements / self.goal if self.goal else 0.0


def grant_start() -> date:
    return month_to_date(registry().grant.announced)


def _grant_goal() -> Goal:
    grant = registry().grant
    return Goal("grant", grant.name, "grant", None, "placements", grant.goal_placements, grant_start(), grant_start())


def grant_placements_by_month(engine: Engine, filters: Filters) -> pd.DataFrame:
    """Grant-supported placements since the grant began: month (Timestamp), placements, cumulative."""
    monthly, _ = goal_monthly(engine, _grant_goal(), filters, count=False)
    return monthly.rename(columns={"value": "placements"})


def goal_progress(engine: Engine, filters: Filters) -> GoalProgress:
    """Grant-supported placements since the grant's announcement, against the registry's goal."""
    goal = _grant_goal()
    monthly, count = goal_monthly(engine, goal, filters)
    placed = int(monthly["cumulative"].iloc[-1]) if len(monthly) else 0
    through = monthly["month"].iloc[-1].date() if len(monthly) else None
    return GoalProgress(placed, goal.target, goal.start_month, through, count)

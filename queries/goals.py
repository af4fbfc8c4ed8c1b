"""Goals (rsp_data/data/goals.csv, the `goals` table): progress within the filters, and a projection.

Where the figures come from (the fact table may hold millions of rows):

* a statewide or grant goal reads `rollup_cells`: grain "all", or "region" / "sector" / "cell" when
  the sidebar filters regions and/or sectors (grant goals keep the rows with gjc = true);
* a partnership goal, or any goal while the sidebar names partnerships, reads the facts by their
  primary key (rsp_id IN (...), month range).

The filters narrow a goal the way they narrow every figure on the page (regions, sectors,
partnerships); the pages say so. The month range's start is ignored (a goal counts from its own
start month); its end is honoured: progress is as of the end of the range.

The projection (`project`, pure) is stated on the pages as `METHOD`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

import pandas as pd
from sqlalchemy import Engine, select

from queries import ranking
from queries._base import frame, reading, source, summed
from queries.filters import Filters
from rsp_data.goals import Goal, goal_from_row
from rsp_data.months import as_date, month_index, month_to_date, shift
from rsp_data.registry import registry
from rsp_data.schema import goals as goals_table

SCOPE_ORDER = {"grant": 0, "statewide": 1, "partnership": 2}
SCOPE_NOUNS = {
    "statewide": "all partnerships",
    "grant": "grant-supported partnerships",
    "partnership": "the partnership",
}

# ------------------------------------------------------------------------------ months


# ------------------------------------------------------------------------------ the goals


def goal_list(engine: Engine) -> tuple[Goal, ...]:
    """Every goal in the store: grant goals first, then statewide, then per partnership; by due month."""
    with reading(engine) as conn:
        rows = conn.execute(select(goals_table)).mappings().all()
    goals = [goal_from_row(r) for r in rows]
    return tuple(sorted(goals, key=lambda g: (SCOPE_ORDER.get(g.scope, 9), g.due_month, g.goal_id)))


def goal_by_id(engine: Engine, goal_id: str) -> Goal | None:
    with reading(engine) as conn:
        row = conn.execute(select(goals_table).where(goals_table.c.goal_id == goal_id)).mappings().first()
    return None if row is None else goal_from_row(row)


def _monthly(engine: Engine, goal: Goal, filters: Filters, count: bool = True) -> tuple[pd.DataFrame, int]:
    """The goal's metric each month from its start month (the range's start is the goal's own)."""
    scoped = filters.with_(month_from=None)
    if goal.scope == "partnership":
        ids = [] if filters.partnerships and goal.rsp_id not in filters.partnerships else [goal.rsp_id]
        scoped = scoped.with_(partnerships=tuple(ids) or ("",))
    src = source(scoped, gjc=True if goal.scope == "grant" else None)
    stmt = (
        select(src.month.label("month"), summed(src.value(goal.metric), goal.metric).label("value"))
        .select_from(src.table)
        .where(*src.conds, src.month >= goal.start_month)
        .group_by(src.month)
        .order_by(src.month)
    )
    monthly = frame(engine, stmt)
    if monthly.empty:
        return pd.DataFrame({"month": [], "value": []}), 0
    monthly["month"] = monthly["month"].map(as_date)
    return monthly, _partnerships_reporting(engine, goal, scoped, monthly["month"].max()) if count else 0


def _partnerships_reporting(engine: Engine, goal: Goal, filters: Filters, last: date) -> int:
    """Partnerships in scope with at least one report from the goal's start through `last`: their
    latest reports at `last` (running_arrays' last_report) on or after the start."""
    counted = ranking.reporting_counts(engine, filters, first=goal.start_month, last=last, gjc=goal.scope == "grant")
    return counted["partnerships"]


def goal_monthly(engine: Engine, goal: Goal, filters: Filters, count: bool = True) -> tuple[pd.DataFrame, int]:
    """(monthly series, partnerships reporting) of a goal within the filters (count=False: the
    series alone, 0 for the count; counting reads two running rows per partnership).

    The series runs from the goal's start month through the last month with figures (no later than
    the end of the month range), months without figures counted as 0. Columns: month (Timestamp),
    value, cumulative (since the start month)."""
    monthly, count = _monthly(engine, goal, filters, count)
    if monthly.empty:
        return pd.DataFrame({"month": pd.to_datetime([]), "value": [], "cumulative": []}).astype(
            {"value": "int64", "cumulative": "int64"}
        ), 0
    months = pd.date_range(goal.start_month, monthly["month"].max(), freq="MS")
    values = pd.to_numeric(monthly["value"]).astype("int64").set_axis(pd.to_datetime(monthly["month"]))
    series = values.reindex(months, fill_value=0)
    out = pd.DataFrame({"month": months, "value": series.to_numpy(dtype="int64")})
    out["cumulative"] = out["value"].cumsum()
    return out, count


# ------------------------------------------------------------------------------ projection

WINDOW = 12  # months: a full year, so seasonal cohorts (January and September starts) weigh evenly
# Student's t, 97.5th percentile, by degrees of freedom (a 95% two-sided interval for the mean).
T975 = {
    1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262, 10: 2.228,
    11: 2.201, 12: 2.179, 13: 2.160, 14: 2.145, 15: 2.131, 16: 2.120, 17: 2.110, 18: 2.101, 19: 2.093,
    20: 2.086, 21: 2.080, 22: 2.074, 23: 2.069, 24: 2.064, 25: 2.060, 26: 2.056, 27: 2.052, 28: 2.048,
    29: 2.045, 30: 2.042,
}  # fmt: skip
HORIZON = 1200  # months: a date further than 100 years out is not given
CHART_MONTHS = 120  # the projection's chart looks ten years ahead at most

METHOD = (
    "How the projection is made: the monthly counts of the last 12 complete months (a full year, so "
    "seasonal cohorts weigh evenly) give the pace, their mean, and a range for it, the mean ± t × s / √12 "
    "(s: the standard deviation of the 12 monthly counts; t = 2.201, Student's t for a 95% interval). "
    "From the total at the last complete month, the target is reached in the first month the total "
    "at that pace reaches it: at the mean (central), at the top of the range (earliest) and at the "
    "bottom (latest). A month is complete once it has figures and is before the current calendar "
    "month. The range reflects how much the monthly counts vary, not changes in the programmes; "
    "fewer than 12 complete months since the goal's start give no projection."
)

REACHED, PROJECTED, NOT_ENOUGH_DATA, NO_PROGRESS = "reached", "projected", "not_enough_data", "no_progress"


@dataclass(frozen=True)
class Projection:
    status: str  # REACHED, PROJECTED, NOT_ENOUGH_DATA or NO_PROGRESS
    target: int
    due: date
    window: int
    months_available: int  # complete months since the goal's start
    as_of: date | None  # the last complete month
    cumulative: int  # the total through as_of
    rate: float | None = None  # mean a month over the window
    margin: float | None = None  # t * s / sqrt(window)
    reached_in: date | None = None  # REACHED: the first month the total was at or over the target
    reach: date | None = None  # at the mean
    reach_early: date | None = None  # at rate + margin
    reach_late: date | None = None  # at rate - margin; None when that pace never gets there (see late_never)

    @property
    def low_rate(self) -> float | None:
        return None if self.rate is None else max(self.rate - (self.margin or 0.0), 0.0)

    @property
    def high_rate(self) -> float | None:
        return None if self.rate is None else self.rate + (self.margin or 0.0)

    @property
    def remaining(self) -> int:
        return max(self.target - self.cumulative, 0)

    @property
    def on_time(self) -> bool | None:
        """Reached (or projected at the mean) in or before the due month; None without a month."""
        month = self.reached_in if self.status == REACHED else self.reach
        return None if month is None else month <= self.due

    @property
    def late_never(self) -> bool:
        """At the bottom of the range the target is never reached (the pace there is 0 or the
        date lies beyond the horizon)."""
        return self.status == PROJECTED and self.reach_late is None


def _months_needed(remaining: int, rate: float) -> int | None:
    if rate <= 0:
        return None
    # A hair below the exact quotient: 80 / 10.0 is 8 months, not 9 through rounding.
    needed = max(math.ceil(remaining / rate - 1e-9), 1)
    return needed if needed <= HORIZON else None


def project(
    monthly: pd.DataFrame, target: int, due: date, *, today: date | None = None, window: int = WINDOW
) -> Projection:
    """When `target` is reached at the pace of the last `window` complete months (see METHOD).

    `monthly`: columns month and value (counts), one row per month from the goal's start, in
    order, months without figures as 0 (goal_monthly's output). `today` decides which month is
    the current, incomplete one (default: the real date)."""
    if window - 1 not in T975:
        raise ValueError(f"window must be 2 to {max(T975) + 1} months")
    today = today or date.today()
    current = date(today.year, today.month, 1)
    months = pd.to_datetime(monthly["month"]).dt.date.tolist()
    values = [int(v) for v in monthly["value"]]
    cumulative = 0
    for month, value in zip(months, values, strict=True):
        cumulative += value
        if cumulative >= target:  # reached: whatever the month, the figures say so
            return Projection(REACHED, target, due, window, 0, month, cumulative, reached_in=month)
    complete = [(m, v) for m, v in zip(months, values, strict=True) if m < current]
    as_of = complete[-1][0] if complete else None
    total = sum(v for _, v in complete)
    base = Projection(NOT_ENOUGH_DATA, target, due, window, len(complete), as_of, total)
    if len(complete) < window:
        return base
    recent = [v for _, v in complete[-window:]]
    rate = sum(recent) / window
    if rate == 0:
        return Projection(NO_PROGRESS, target, due, window, len(complete), as_of, total, rate=0.0, margin=0.0)
    sd = math.sqrt(sum((v - rate) ** 2 for v in recent) / (window - 1))
    margin = T975[window - 1] * sd / math.sqrt(window)
    remaining = target - total

    def reach_at(pace: float) -> date | None:
        needed = _months_needed(remaining, pace)
        return None if needed is None else shift(as_of, needed)

    return Projection(
        PROJECTED,
        target,
        due,
        window,
        len(complete),
        as_of,
        total,
        rate=rate,
        margin=margin,
        reach=reach_at(rate),
        reach_early=reach_at(rate + margin),
        reach_late=reach_at(rate - margin),
    )


def projection_path(projection: Projection, months: int | None = None) -> pd.DataFrame:
    """The projected totals month by month from as_of at the central, low and high pace, until the
    latest of the reach months (or `months`). Columns: month (Timestamp), central, low, high."""
    if projection.status != PROJECTED or projection.as_of is None:
        return pd.DataFrame(columns=["month", "central", "low", "high"])
    ends = [m for m in (projection.reach, projection.reach_late, projection.reach_early) if m is not None]
    if months is None:
        span = max([month_index(m) - month_index(projection.as_of) for m in (*ends, projection.due)] + [1])
        if projection.reach_late is None:  # the slow end never gets there: draw as far as the chart goes
            span = CHART_MONTHS
    else:
        span = months
    span = min(span, CHART_MONTHS)
    steps = range(span + 1)
    return pd.DataFrame(
        {
            "month": pd.to_datetime([shift(projection.as_of, k) for k in steps]),
            "central": [projection.cumulative + projection.rate * k for k in steps],
            "low": [projection.cumulative + projection.low_rate * k for k in steps],
            "high": [projection.cumulative + projection.high_rate * k for k in steps],
        }
    )


# ------------------------------------------------------------------------------ status


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
    goal = goal_by_id(engine, goal_id)
    if goal is None:
        return None
    monthly, count = goal_monthly(engine, goal, filters)
    narrowed = bool(filters.regions or filters.sectors) or (bool(filters.partnerships) and goal.scope != "partnership")
    projection = project(monthly, goal.target, goal.due_month, today=today)
    return GoalStatus(goal, monthly, count, projection, narrowed)


# ------------------------------------------------------------------------------ the grant, from the registry
# The Trends page draws grant-supported placements against the registry's goal; these read the
# same sources as a grant goal.


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
    """Monthly and cumulative placements of grant-supported partnerships since the grant began,
    through the end of the range. Columns: month (Timestamp), placements, cumulative."""
    monthly, _ = goal_monthly(engine, _grant_goal(), filters, count=False)
    return monthly.rename(columns={"value": "placements"})


def goal_progress(engine: Engine, filters: Filters) -> GoalProgress:
    """Placements by grant-supported partnerships (within the region/sector/partnership filters)
    from the grant's announcement through the end of the month range, against the registry's goal."""
    goal = _grant_goal()
    monthly, count = goal_monthly(engine, goal, filters)
    placed = int(monthly["cumulative"].iloc[-1]) if len(monthly) else 0
    through = monthly["month"].iloc[-1].date() if len(monthly) else None
    return GoalProgress(placed, goal.target, goal.start_month, through, count)

"""Progress of the grant-supported partnerships toward the Good Jobs Challenge goal."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

import pandas as pd
from sqlalchemy import Engine, func, select

from queries._base import as_date, conditions, facts_join, frame
from queries.filters import Filters
from rsp_data.registry import registry
from rsp_data.schema import monthly_metrics as facts
from rsp_data.schema import partnerships
from rsp_data.store import month_to_date


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


def _grant_conditions(filters: Filters) -> list:
    # Counted from the grant's announcement whatever the range start: the goal is cumulative.
    conds = conditions(filters.with_(month_from=None))
    conds += [partnerships.c.gjc_supported.is_(True), facts.c.month >= grant_start()]
    return conds


def grant_placements_by_month(engine: Engine, filters: Filters) -> pd.DataFrame:
    """Monthly and cumulative placements of grant-supported partnerships since the grant began,
    through the end of the range. Columns: month (Timestamp), placements, cumulative."""
    stmt = (
        select(facts.c.month.label("month"), func.sum(facts.c.placements).label("placements"))
        .select_from(facts_join())
        .where(*_grant_conditions(filters))
        .group_by(facts.c.month)
        .order_by(facts.c.month)
    )
    df = frame(engine, stmt)
    df["month"] = pd.to_datetime(df["month"].map(as_date))
    df["placements"] = pd.to_numeric(df["placements"]).astype("int64")
    df["cumulative"] = df["placements"].cumsum()
    return df


def goal_progress(engine: Engine, filters: Filters) -> GoalProgress:
    """Placements by grant-supported partnerships (within the region/sector/partnership filters)
    from the grant's announcement through the end of the month range, against the 2,000 goal."""
    conds = _grant_conditions(filters)
    stmt = (
        select(
            func.coalesce(func.sum(facts.c.placements), 0),
            func.max(facts.c.month),
            func.count(func.distinct(facts.c.rsp_id)),
        )
        .select_from(facts_join())
        .where(*conds)
    )
    with engine.connect() as conn:
        placed, through, count = conn.execute(stmt).one()
    return GoalProgress(int(placed), registry().grant.goal_placements, grant_start(), as_date(through), int(count))


def month_after(month: date, months: int) -> date:
    y, m = divmod(month.year * 12 + month.month - 1 + months, 12)
    return date(y, m + 1, 1)


def recent_pace(progress: GoalProgress, grant_monthly: pd.DataFrame) -> tuple[float | None, date | None]:
    """Placements a month over the last six months, and the month the goal is reached at that pace
    (None when there are fewer than six months, no placements in them, or the goal is already met)."""
    recent = grant_monthly.tail(6)
    if len(recent) < 6 or recent["placements"].sum() <= 0 or progress.through is None:
        return None, None
    pace = float(recent["placements"].mean())
    remaining = progress.goal - progress.placements
    if remaining <= 0:
        return pace, None
    return pace, month_after(progress.through, math.ceil(remaining / pace))

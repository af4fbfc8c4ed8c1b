"""Who has reported which month, from the import batches' timestamps and fact_history, against the
reporting calendar (a month is due on the registry's due_day of the next month)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy import func, select

from queries import ranking
from queries._base import reading, where
from queries.filters import Filters
from queries.metrics import as_of_month
from rsp_data.months import label, shift
from rsp_data.registry import registry
from rsp_data.schema import fact_history, import_batches, partnerships
from rsp_data.schema import monthly_metrics as facts

CONNECTICUT = ZoneInfo("America/New_York")  # a report's day is the day in Connecticut
ON_TIME, LATE, CORRECTED, OVERDUE, NOT_DUE, NOT_STARTED = (
    "on time",
    "late",
    "corrected",
    "overdue",
    "not yet due",
    "not started",
)
SYMBOLS = {ON_TIME: "✓", LATE: "!", CORRECTED: "✎", OVERDUE: "✗", NOT_DUE: "…", NOT_STARTED: "–"}


def short(status: str, days_late: int) -> str:
    """A grid cell's text, readable without its colour: '✓ on time', '! 29 days late', '✗ overdue'."""
    if status == NOT_STARTED:
        return SYMBOLS[status]
    if status == LATE:
        return f"{SYMBOLS[status]} {days_late} days late"
    return f"{SYMBOLS[status]} {status}"


GRID_PARTNERSHIPS = 200
NAMES_LISTED = 20


def today() -> date:
    """The day lateness is judged on: RSP_TODAY (YYYY-MM-DD, for demonstrations and tests), else today in
    Connecticut."""
    pinned = os.environ.get("RSP_TODAY")
    return date.fromisoformat(pinned) if pinned else datetime.now(CONNECTICUT).date()


def due_date(month: date, due_day: int | None = None) -> date:
    """The day a month's figures are due: due_day of the following month."""
    return shift(month, 1).replace(day=due_day or registry().due_day)


def latest_due(today: date, due_day: int | None = None) -> date:
    """The latest month whose figures were due on or before `today`."""
    month = shift(today.replace(day=1), -1)
    return month if due_date(month, due_day) <= today else shift(month, -1)


def _day(moment: datetime) -> date:
    """A stored timestamp (UTC; naive from SQLite) as the day in Connecticut."""
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(CONNECTICUT).date()


@dataclass(frozen=True)
class Cell:
    status: str
    detail: str
    days_late: int = 0


def _cell(month: date, today: date, due_day: int, sent: date | None, corrected, started: date | None) -> Cell:
    due = due_date(month, due_day)
    if sent is None:
        if started is None or month < started:
            return Cell(NOT_STARTED, "before its first report")
        if today > due:
            return Cell(OVERDUE, f"overdue by {(today - due).days} days (due {due:%b} {due.day})", (today - due).days)
        return Cell(NOT_DUE, f"due {due:%b} {due.day}")
    late = max((sent - due).days, 0)
    first = f"sent {sent.isoformat()}, {late} days late" if late else f"sent {sent.isoformat()}, on time"
    if corrected:
        day, batch = corrected
        return Cell(CORRECTED, f"{first}; corrected {day.isoformat()} (batch {batch})", late)
    return Cell(LATE, first, late) if late else Cell(ON_TIME, first)


def _chosen(conn, filters: Filters, limit: int | None) -> tuple[list[tuple[str, str]], int]:
    conds = where(filters, partnerships, months=False)
    stmt = select(partnerships.c.rsp_id, partnerships.c.name).where(*conds).order_by(partnerships.c.rsp_id)
    rows = [tuple(r) for r in conn.execute(stmt if limit is None else stmt.limit(limit))]
    total = conn.execute(select(func.count()).select_from(partnerships).where(*conds)).scalar_one()
    return rows, total


def _events(conn, ids: list[str], first: date, last: date):
    """Each (rsp_id, month)'s first sending day, its latest correction (day, batch), and each
    partnership's first reported month; rolled-back batches do not count."""
    sent: dict[tuple[str, date], date] = {}
    corrected: dict[tuple[str, date], tuple[date, int]] = {}

    def seen(key, moment) -> None:
        if moment is not None:
            day = _day(moment)
            sent[key] = min(sent.get(key, day), day)

    in_window = [facts.c.rsp_id.in_(ids), facts.c.month.between(first, last)]
    current = select(facts.c.rsp_id, facts.c.month, import_batches.c.loaded_at).join(import_batches)
    present = set()
    for rsp_id, month, loaded_at in conn.execute(current.where(*in_window)):
        present.add((rsp_id, month))
        seen((rsp_id, month), loaded_at)
    old = import_batches.alias("old")
    history = (
        select(
            fact_history.c.rsp_id,
            fact_history.c.month,
            fact_history.c.action,
            fact_history.c.batch_id,
            import_batches.c.loaded_at,
            old.c.loaded_at,
        )
        .join(import_batches, fact_history.c.batch_id == import_batches.c.batch_id)
        .outerjoin(old, fact_history.c.old_batch_id == old.c.batch_id)
        .where(
            import_batches.c.rolled_back_at.is_(None),
            fact_history.c.rsp_id.in_(ids),
            fact_history.c.month.between(first, last),
        )
    )
    changes = []
    for rsp_id, month, action, batch_id, loaded_at, old_loaded_at in conn.execute(history):
        key = (rsp_id, month)
        if key in present:
            seen(key, loaded_at)
            seen(key, old_loaded_at)
            if action == "changed":
                changes.append((key, _day(loaded_at), batch_id))
    for key, day, batch_id in changes:
        if day > sent[key] and (key not in corrected or (day, batch_id) > corrected[key]):
            corrected[key] = (day, batch_id)
    starts = select(facts.c.rsp_id, func.min(facts.c.month)).where(facts.c.rsp_id.in_(ids)).group_by(facts.c.rsp_id)
    started = dict(conn.execute(starts).all())
    return sent, corrected, started


def status_grid(
    engine,
    filters: Filters,
    *,
    today: date,
    last: date | None = None,
    months: int = 12,
    limit: int | None = GRID_PARTNERSHIPS,
    due_day: int | None = None,
) -> tuple[pd.DataFrame, int]:
    """One row per (partnership, month) for `months` months to `last` (default: the month before today's),
    the filtered partnerships in id order (the first `limit`), and how many partnerships the filters hold."""
    due_day = due_day or registry().due_day
    last = last or shift(today.replace(day=1), -1)
    first = shift(last, 1 - months)
    columns = ["rsp_id", "name", "month", "status", "detail", "days_late"]
    with reading(engine) as conn:
        chosen, total = _chosen(conn, filters, limit)
        if not chosen:
            return pd.DataFrame(columns=columns), total
        sent, corrected, started = _events(conn, [rsp for rsp, _ in chosen], first, last)
    rows = []
    for rsp_id, name in chosen:
        for n in range(months):
            month = shift(first, n)
            key = (rsp_id, month)
            cell = _cell(month, today, due_day, sent.get(key), corrected.get(key), started.get(rsp_id))
            rows.append((rsp_id, name, label(month), cell.status, cell.detail, cell.days_late))
    return pd.DataFrame(rows, columns=columns), total


@dataclass(frozen=True)
class MonthStatus:
    month: date
    expected: int  # partnerships within the filters that had reported this month or before
    reported: int
    overdue: tuple[str, ...]  # names, at most NAMES_LISTED
    overdue_count: int
    due: bool  # the month's due date has passed

    @property
    def complete(self) -> bool:
        return self.reported >= self.expected

    def short(self) -> str:
        """'Oct 2026: 12 of 14 partnerships reported'."""
        return f"{self.month:%b %Y}: {self.reported:,} of {self.expected:,} partnerships reported"

    def sentence(self) -> str:
        head = f"{self.month:%B %Y}: {self.reported:,} of {self.expected:,} partnerships reported"
        if self.complete:
            return head
        if not self.due:
            return f"{head}; the rest are not due until {due_date(self.month):%B} {due_date(self.month).day}"
        more = self.overdue_count - len(self.overdue)
        names = ", ".join(self.overdue) + (f" and {more:,} more" if more > 0 else "")
        return f"{head}, {self.overdue_count:,} overdue ({names})"


def month_status(engine, filters: Filters, month: date, *, today: date, names: bool = True) -> MonthStatus:
    """How many filtered partnerships reported `month` of those that had started, and (`names`) who is overdue:
    the counts come from the ranking arrays; the names take a query over every partnership, so headers skip it."""
    counts_filters = filters.with_(month_from=None, month_to=None)
    with reading(engine) as conn:
        stored = as_of_month(conn, Filters())
        if stored is None:
            return MonthStatus(month, 0, 0, (), 0, today > due_date(month))
        # After the store's last month nobody has reported; who is expected is who had reported by then.
        expected = _count(conn, counts_filters, None, min(month, stored))
        reported = 0 if month > stored else _count(conn, counts_filters, month, month)
    due = today > due_date(month)
    overdue = _missing(engine, counts_filters, month) if names and due and reported < expected else ()
    return MonthStatus(month, expected, reported, overdue, expected - reported if due else 0, due)


def _count(conn, filters: Filters, first: date | None, last: date) -> int:
    return ranking.reporting_counts(conn, filters, first=first, last=last)["partnerships"]


def _missing(engine, filters: Filters, month: date) -> tuple[str, ...]:
    """The names of filtered partnerships that reported before `month` but not `month` (the first few)."""
    earlier = select(facts.c.rsp_id).where(facts.c.rsp_id == partnerships.c.rsp_id, facts.c.month < month)
    this = select(facts.c.rsp_id).where(facts.c.rsp_id == partnerships.c.rsp_id, facts.c.month == month)
    stmt = (
        select(partnerships.c.name)
        .where(*where(filters, partnerships, months=False), earlier.exists(), ~this.exists())
        .order_by(partnerships.c.name)
        .limit(NAMES_LISTED)
    )
    with reading(engine) as conn:
        return tuple(conn.execute(stmt).scalars())

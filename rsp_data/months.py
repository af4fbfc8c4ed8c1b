"""Months, the one unit of time in the store: a month is the date of its first day.

Every conversion and piece of month arithmetic lives here.
"""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pandas as pd


def month_to_date(month: str) -> date:
    """'2025-03' -> date(2025, 3, 1)."""
    year, mon = month.split("-")
    return date(int(year), int(mon), 1)


def as_date(value) -> date | None:
    """A month as the driver gives it (a date, a datetime or ISO text) as a date; None for none."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def label(value: date | None) -> str:
    """date(2025, 3, 1) -> '2025-03'; None -> ''."""
    return value.strftime("%Y-%m") if value else ""


def month_index(value: date) -> int:
    """A month (any date in it) as a whole number: year × 12 + month − 1."""
    return value.year * 12 + value.month - 1


def index_month(index: int) -> date:
    """The first day of the month with this month_index."""
    return date(index // 12, index % 12 + 1, 1)


def shift(month: date, months: int) -> date:
    """The month `months` later (earlier when negative)."""
    return index_month(month_index(month) + months)


def between(first: date, last: date) -> int:
    """How many months from `first` to `last`, both counted."""
    return month_index(last) - month_index(first) + 1


def labels_between(first: str, last: str) -> list[str]:
    """Every month from `first` to `last` ('YYYY-MM', both included) as 'YYYY-MM'."""
    start, stop = month_index(month_to_date(first)), month_index(month_to_date(last))
    return [label(index_month(i)) for i in range(start, stop + 1)]


def iso(value) -> str:
    """A month as the driver gives it (ISO text on SQLite, a date on PostgreSQL) as ISO date text."""
    return str(value)[:10]


def to_datetimes(values: pd.Series) -> pd.Series:
    """Months as the driver gives them as datetime64, each distinct month parsed once."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return values
    raw = values.tolist()
    distinct = list(dict.fromkeys(raw))
    days = np.array(["NaT" if v is None else iso(v) for v in distinct], dtype="datetime64[D]")
    place = {v: i for i, v in enumerate(distinct)}
    months = days.astype("datetime64[us]")[np.fromiter((place[v] for v in raw), dtype="int64", count=len(raw))]
    return pd.Series(months, index=values.index, name=values.name)

"""How numbers read on the page."""

from __future__ import annotations

import functools
import math
from datetime import datetime

from rsp_data.metrics import METRICS


def number(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{round(value):,}"


def percent(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{value:.0%}"


def dollars(value) -> str:
    """An hourly wage: '$23.32'."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"${value:,.2f}"


def decimal(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{value:,.2f}"


FORMATTERS = {"count": number, "percent": percent, "dollars": dollars, "decimal": decimal}


def metric_value(metric: str, value) -> str:
    """A metric's value as its declaration formats it."""
    return FORMATTERS[METRICS[metric].format](value)


@functools.lru_cache(maxsize=2048)
def month_name(month: str) -> str:
    """'2025-03' -> 'Mar 2025'; an empty label -> '—'.

    Remembered: the sidebar's month slider formats every month on every run."""
    return datetime.strptime(month, "%Y-%m").strftime("%b %Y") if month else "—"

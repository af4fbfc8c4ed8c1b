"""How numbers read on the page."""

from __future__ import annotations

import math
from datetime import datetime

from rsp_data.metrics import AVERAGE, METRICS, RATE


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


def metric_value(metric: str, value) -> str:
    kind = METRICS[metric].kind
    if kind == AVERAGE:
        return dollars(value)
    return percent(value) if kind == RATE else number(value)


def month_name(month: str) -> str:
    """'2025-03' -> 'Mar 2025'; an empty label -> '—'."""
    return datetime.strptime(month, "%Y-%m").strftime("%b %Y") if month else "—"

"""How numbers read on the page."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from datetime import datetime

from rsp_data.metrics import METRICS


def _formatter(render: Callable[..., str]) -> Callable[..., str]:
    def format_value(value) -> str:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return "—"
        return render(value)

    return format_value


number = _formatter(lambda value: f"{round(value):,}")
percent = _formatter("{:.0%}".format)
dollars = _formatter("${:,.2f}".format)  # an hourly wage: '$23.32'
decimal = _formatter("{:,.2f}".format)
FORMATTERS = {"count": number, "percent": percent, "dollars": dollars, "decimal": decimal}


def metric_value(metric: str, value) -> str:
    """A metric's value as its declaration formats it."""
    return FORMATTERS[METRICS[metric].format](value)


@functools.lru_cache(maxsize=2048)  # the sidebar's month slider formats every month on every run
def month_name(month: str) -> str:
    """'2025-03' -> 'Mar 2025'; an empty label -> '—'."""
    return datetime.strptime(month, "%Y-%m").strftime("%b %Y") if month else "—"


def carried_phrase(kpis: dict) -> str:
    """How many partnerships' stocks are as of an earlier report (kpi_summary's "carried"), e.g. "2 partnerships as
    of their latest report (Sep 2026)"; "" when none are."""
    n = kpis["carried"]
    if not n:
        return ""
    months = " and ".join(month_name(m) for m in kpis["carried_months"])
    return f"{n:,} partnership{'s' if n != 1 else ''} as of their latest report ({months})"


def published_value(value: float, unit: str) -> str:
    """A published figure as published: (2000, 'people (more than)') -> 'more than 2,000 people'."""
    head, _, qualifier = unit.partition(" (")
    amount = f"${value:,.0f}" if head == "USD" else f"{value:,.0f}"
    words = [qualifier.rstrip(")"), amount] + ([] if head == "USD" else [head])
    return " ".join(w for w in words if w)

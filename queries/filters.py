"""The one Filters value that flows from the sidebar (and the URL) to every query.

Parsing is here, not in the UI, so hostile links are tested without Streamlit; a bad value is dropped with a notice.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date

from rsp_data.months import month_to_date

MONTH_RE = re.compile(r"^([0-9]{4})-([0-9]{2})$")

# URL parameter names, fixed for readable links: ?region=capital&sector=healthcare&from=2024-01
PARAM_REGION = "region"
PARAM_SECTOR = "sector"
PARAM_RSP = "rsp"
PARAM_FROM = "from"
PARAM_TO = "to"
FILTER_PARAMS = (PARAM_REGION, PARAM_SECTOR, PARAM_RSP, PARAM_FROM, PARAM_TO)
# Each choice's URL parameter, Filters field and noun.
CHOICES = (
    (PARAM_REGION, "regions", "region"),
    (PARAM_SECTOR, "sectors", "sector"),
    (PARAM_RSP, "partnerships", "partnership"),
)

_SHOWN_MAX = 40


@dataclass(frozen=True)
class Filters:
    """Empty tuples and None mean 'all'. Months are 'YYYY-MM' strings, inclusive."""

    regions: tuple[str, ...] = ()
    sectors: tuple[str, ...] = ()
    partnerships: tuple[str, ...] = ()
    month_from: str | None = None
    month_to: str | None = None

    def with_(self, **changes) -> Filters:
        return replace(self, **changes)

    def is_default(self) -> bool:
        return self == Filters()

    @property
    def first(self) -> date | None:
        """The range's first month as a date (None: from the store's first)."""
        return month_to_date(self.month_from) if self.month_from else None

    @property
    def last(self) -> date | None:
        """The range's last month as a date (None: to the store's last)."""
        return month_to_date(self.month_to) if self.month_to else None


def valid_month(text: str) -> bool:
    match = MONTH_RE.match(text)
    return bool(match) and 1 <= int(match.group(2)) <= 12 and int(match.group(1)) >= 1900


def shown(value: str) -> str:
    """A value from a URL made safe to quote in a notice: no markup characters, bounded length."""
    cleaned = "".join(ch if ch.isalnum() or ch in " -_.:/=;'()" else "?" for ch in value)
    return cleaned if len(cleaned) <= _SHOWN_MAX else cleaned[:_SHOWN_MAX] + "…"


def split_values(params: Mapping[str, Iterable[str] | str], name: str) -> list[str]:
    raw = params.get(name, [])
    values = [raw] if isinstance(raw, str) else list(raw)
    # Links may carry several ids in one value, comma-separated, as well as repeated keys.
    return [part.strip() for value in values for part in str(value).split(",") if part.strip()]


def parse_filters(
    params: Mapping[str, Iterable[str] | str],
    *,
    regions: Iterable[str],
    sectors: Iterable[str],
    partnerships: Iterable[str],
    first_month: str | None,
    last_month: str | None,
) -> tuple[Filters, list[str]]:
    """Read URL parameters (name -> its values, repeated keys) into Filters, dropping every bad value
    with a notice."""
    notices: list[str] = []
    chosen: dict[str, tuple[str, ...]] = {}
    known = {"regions": set(regions), "sectors": set(sectors), "partnerships": set(partnerships)}
    for name, field, noun in CHOICES:
        values = split_values(params, name)
        notices += [f"Ignored unknown {noun} “{shown(v)}” in the link." for v in values if v not in known[field]]
        chosen[field] = tuple(dict.fromkeys(v for v in values if v in known[field]))

    months: dict[str, str | None] = {}
    for name in (PARAM_FROM, PARAM_TO):
        values = split_values(params, name)
        month = None
        if len(values) > 1:
            notices.append(f"The link gives “{name}” {len(values)} times; used the first.")
        if values:
            value = values[0]
            shape = MONTH_RE.match(value)
            if shape and not 1 <= int(shape.group(2)) <= 12:
                notices.append(f"Ignored “{name}={value}”: there is no month {shape.group(2)} (months run 01 to 12).")
            elif shape and not valid_month(value):
                notices.append(f"Ignored “{name}={value}”: the year {shape.group(1)} is out of range.")
            elif not valid_month(value):
                notices.append(f"Ignored “{name}={shown(value)}”: months are written YYYY-MM, e.g. 2025-03.")
            elif first_month and last_month and not (first_month <= value <= last_month):
                notices.append(f"Ignored “{name}={value}”: the data runs from {first_month} to {last_month}.")
            else:
                month = value
        months[name] = month
    if months[PARAM_FROM] and months[PARAM_TO] and months[PARAM_FROM] > months[PARAM_TO]:
        notices.append(f"Ignored the month range {months[PARAM_FROM]} to {months[PARAM_TO]}: it ends before it starts.")
        months = {PARAM_FROM: None, PARAM_TO: None}

    return Filters(**chosen, month_from=months[PARAM_FROM], month_to=months[PARAM_TO]), notices


def to_params(
    filters: Filters, *, first_month: str | None = None, last_month: str | None = None
) -> dict[str, list[str]]:
    """The URL parameters for a Filters value; defaults (all, the full month range) are left out."""
    params = {name: list(getattr(filters, field)) for name, field, _ in CHOICES if getattr(filters, field)}
    for name, month, bound in ((PARAM_FROM, filters.month_from, first_month), (PARAM_TO, filters.month_to, last_month)):
        if month and month != bound:
            params[name] = [month]
    return params

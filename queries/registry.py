"""The registry as the store holds it: regions, sectors, partnerships, and the months with data."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Engine, func, select

from queries._base import contains, frame, raw_month, reading, where
from queries.filters import Filters
from rsp_data.months import as_date, label
from rsp_data.schema import monthly_metrics as facts
from rsp_data.schema import partnerships, regions, sectors


def region_list(engine: Engine) -> pd.DataFrame:
    return frame(engine, select(regions).order_by(regions.c.name))


def sector_list(engine: Engine) -> pd.DataFrame:
    return frame(engine, select(sectors).order_by(sectors.c.name))


def registry_columns() -> list:
    """partnership_list's columns beyond the partnership's own: sector and region names, first and last
    month with data (raw: see registry_frame), each one probe of the facts' primary key."""
    first, last = (
        select(agg(facts.c.month)).where(facts.c.rsp_id == partnerships.c.rsp_id).scalar_subquery()
        for agg in (func.min, func.max)
    )
    return [
        sectors.c.name.label("sector_name"),
        regions.c.name.label("region_name"),
        raw_month(first, "first_month"),
        raw_month(last, "last_month"),
    ]


def with_registry(source):
    """`source` (which holds partnerships) joined to the sector and region names."""
    return source.join(sectors, partnerships.c.sector_id == sectors.c.sector_id).join(
        regions, partnerships.c.region_id == regions.c.region_id
    )


def registry_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Months as 'YYYY-MM' ("" without data: ISO text or dates from the driver), grant support as bool."""
    for col in ("first_month", "last_month"):
        df[col] = [("" if pd.isna(v) else str(v)[:7]) for v in df[col]]
    df["gjc_supported"] = df["gjc_supported"].astype(bool)
    return df


def partnership_list(engine: Engine, ids: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Partnerships (all, or those in `ids`) with sector and region names and their months with data."""
    stmt = select(partnerships, *registry_columns()).select_from(with_registry(partnerships))
    stmt = stmt.order_by(partnerships.c.name)
    if ids is not None:
        stmt = stmt.where(partnerships.c.rsp_id.in_(ids))
    return registry_frame(frame(engine, stmt))


def partnership_count(engine: Engine) -> int:
    """How many partnerships the registry holds: numbers run 1, 2, ... and none is ever deleted, so the
    highest number is the count without a scan."""
    with reading(engine) as conn:
        return int(conn.execute(select(func.max(partnerships.c.number))).scalar() or 0)


def search_partnerships(
    engine: Engine, text: str = "", regions_: tuple[str, ...] = (), sectors_: tuple[str, ...] = (), limit: int = 50
) -> pd.DataFrame:
    """Partnerships (rsp_id, name) whose name or id contains `text`, within the regions and sectors, by name."""
    stmt = select(partnerships.c.rsp_id, partnerships.c.name).order_by(partnerships.c.name).limit(limit)
    if text.strip():
        stmt = stmt.where(contains((partnerships.c.name, partnerships.c.rsp_id), text))
    chosen = Filters(regions=tuple(regions_), sectors=tuple(sectors_))
    return frame(engine, stmt.where(*where(chosen, partnerships, months=False)))


def month_bounds(engine: Engine) -> tuple[str | None, str | None]:
    """First and last month with any data, as 'YYYY-MM' (None, None for an empty store)."""
    # Two scalar subqueries, each one index probe (min() and max() in one SELECT scan the table on SQLite).
    stmt = select(select(func.min(facts.c.month)).scalar_subquery(), select(func.max(facts.c.month)).scalar_subquery())
    with reading(engine) as conn:
        first, last = conn.execute(stmt).one()
    return (label(as_date(first)) or None, label(as_date(last)) or None)

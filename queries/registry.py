"""The registry as the store holds it: regions, sectors, partnerships, and the months with data."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Engine, func, select

from queries._base import contains, frame, raw_month, reading
from rsp_data.months import as_date, label
from rsp_data.schema import monthly_metrics as facts
from rsp_data.schema import partnerships, regions, sectors


def region_list(engine: Engine) -> pd.DataFrame:
    return frame(engine, select(regions).order_by(regions.c.name))


def sector_list(engine: Engine) -> pd.DataFrame:
    return frame(engine, select(sectors).order_by(sectors.c.name))


def registry_columns() -> list:
    """The columns partnership_list gives besides the partnership's own: the names of its sector
    and region, its first and last month with data (raw: see registry_frame), each month one
    probe of the facts' primary key (rsp_id, month)."""
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
    """Partnerships (all, or those in `ids`) with their sector and region names, and the months
    they have data for."""
    stmt = select(partnerships, *registry_columns()).select_from(with_registry(partnerships))
    stmt = stmt.order_by(partnerships.c.name)
    if ids is not None:
        stmt = stmt.where(partnerships.c.rsp_id.in_(ids))
    return registry_frame(frame(engine, stmt))


def partnership_count(engine: Engine) -> int:
    """How many partnerships the registry holds: the highest partnership number, one probe of its
    unique index. Numbers run 1, 2, ... (migration 0004, then store.next_partnership_number) and
    the store never deletes a partnership, so it is the count without a scan."""
    with reading(engine) as conn:
        return int(conn.execute(select(func.max(partnerships.c.number))).scalar() or 0)


def search_partnerships(
    engine: Engine, text: str = "", regions_: tuple[str, ...] = (), sectors_: tuple[str, ...] = (), limit: int = 50
) -> pd.DataFrame:
    """Partnerships whose name or id contains `text` (case-insensitive), within the regions and
    sectors chosen, by name; at most `limit`. Columns: rsp_id, name."""
    stmt = select(partnerships.c.rsp_id, partnerships.c.name).order_by(partnerships.c.name).limit(limit)
    if text.strip():
        stmt = stmt.where(contains((partnerships.c.name, partnerships.c.rsp_id), text))
    if regions_:
        stmt = stmt.where(partnerships.c.region_id.in_(regions_))
    if sectors_:
        stmt = stmt.where(partnerships.c.sector_id.in_(sectors_))
    return frame(engine, stmt)


def month_bounds(engine: Engine) -> tuple[str | None, str | None]:
    """First and last month with any data, as 'YYYY-MM' (None, None for an empty store)."""
    # Two scalar subqueries in one round trip: each is one index probe (min() and max() in one
    # SELECT would scan the table on SQLite).
    stmt = select(select(func.min(facts.c.month)).scalar_subquery(), select(func.max(facts.c.month)).scalar_subquery())
    with reading(engine) as conn:
        first, last = conn.execute(stmt).one()
    return (label(as_date(first)) or None, label(as_date(last)) or None)

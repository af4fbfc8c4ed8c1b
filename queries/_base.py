"""Shared pieces of the queries: the filter conditions and month conversions."""

from __future__ import annotations

from datetime import date

import pandas as pd
from sqlalchemy import Connection, Engine, Select, String, func, or_, select, type_coerce

from queries.filters import Filters
from rsp_data.schema import monthly_metrics as facts
from rsp_data.schema import partnerships
from rsp_data.store import as_date, month_to_date  # noqa: F401  (as_date: re-exported)


def conditions(filters: Filters, *, months: bool = True) -> list:
    """WHERE conditions for a select over facts joined to partnerships; values are bound."""
    conds = []
    if filters.regions:
        conds.append(partnerships.c.region_id.in_(filters.regions))
    if filters.sectors:
        conds.append(partnerships.c.sector_id.in_(filters.sectors))
    if filters.partnerships:
        conds.append(partnerships.c.rsp_id.in_(filters.partnerships))
    if months and filters.month_from:
        conds.append(facts.c.month >= month_to_date(filters.month_from))
    if months and filters.month_to:
        conds.append(facts.c.month <= month_to_date(filters.month_to))
    return conds


def registry_conditions(table, filters: Filters) -> list:
    """The region and sector filters on a table with its own copies of them and of rsp_id
    (running_totals). With a region filter (and no partnership filter), as "rsp_id IN (the
    registry's partnerships in those regions and sectors)": the store seeks those partnerships'
    rows by primary key instead of reading every partnership's row of the month. Otherwise as
    plain checks on the rows read."""
    conds = []
    # A sector alone holds a sixth of the partnerships: seeking them cost more than the scan.
    if filters.partnerships or not filters.regions:
        if filters.regions:
            conds.append(table.c.region_id.in_(filters.regions))
        if filters.sectors:
            conds.append(table.c.sector_id.in_(filters.sectors))
        return conds
    chosen = select(partnerships.c.rsp_id).where(partnerships.c.region_id.in_(filters.regions))
    if filters.sectors:
        chosen = chosen.where(partnerships.c.sector_id.in_(filters.sectors))
    return [table.c.rsp_id.in_(chosen)]


def facts_join():
    return facts.join(partnerships, facts.c.rsp_id == partnerships.c.rsp_id)


def frame(engine: Engine, stmt: Select) -> pd.DataFrame:
    with engine.connect() as conn:
        return frame_on(conn, stmt)


def frame_on(conn: Connection, stmt: Select) -> pd.DataFrame:
    """`frame` on an open connection (several statements on one)."""
    result = conn.execute(stmt)
    # Plain tuples: pandas inspects Row objects one attribute at a time (3x slower).
    return pd.DataFrame([tuple(row) for row in result.fetchall()], columns=list(result.keys()))


def month_label(value: date | None) -> str:
    return value.strftime("%Y-%m") if value else ""


def contains(columns, text: str):
    """Case-insensitive "contains `text`" over any of the columns; LIKE wildcards in the text are literal."""
    escaped = text.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return or_(*[func.lower(c).like(f"%{escaped}%", escape="\\") for c in columns])


def raw_month(column, name: str = "month"):
    """A date column read as the driver gives it (an ISO string on SQLite, a date on PostgreSQL),
    skipping SQLAlchemy's per-row date parsing: convert the whole column with `to_months`."""
    return type_coerce(column, String).label(name)


def to_months(values: pd.Series) -> pd.Series:
    """A column of raw_month values (ISO strings or dates) as datetime64, in one vectorised call."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return values
    if len(values) and not isinstance(values.iloc[0], str):  # dates (PostgreSQL)
        return pd.Series(pd.to_datetime(values.to_numpy()), index=values.index, name=values.name)
    return pd.to_datetime(values.astype(str).str.slice(0, 10), format="%Y-%m-%d")

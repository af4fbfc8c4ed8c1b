"""Shared pieces of the queries: the filter conditions and month conversions."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable
from datetime import date
from typing import TypeVar

import numpy as np
import pandas as pd
from sqlalchemy import (
    BigInteger,
    Connection,
    Engine,
    Float,
    Select,
    String,
    and_,
    any_,
    bindparam,
    case,
    cast,
    literal,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from queries.filters import Filters
from rsp_data.schema import month_index, partnerships, running_key, running_month, running_totals
from rsp_data.schema import monthly_metrics as facts
from rsp_data.store import as_date, month_to_date  # noqa: F401  (as_date: re-exported)

# The two running_totals rows of a pair (HI at the range's last month, LO before its first). Made
# once: an alias builds its column collection (30 columns) on first use, ~3 ms a query per call.
HI = running_totals.alias("hi")
LO = running_totals.alias("lo")


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


def running_earlier(lo, hi, month, earlier):
    """Join condition: `lo` is the running row of `hi`'s partnership at the `earlier` month
    (`hi` being at `month`): the same partnership number, a whole number of months lower. The
    earlier month's stretch of keys is stated too, so that PostgreSQL reads that month alone
    (for a hash join) rather than the table."""
    return and_(lo.c.k == hi.c.k - (running_key(month) - running_key(earlier)), *running_month(lo, earlier))


def reported_since(table, month, column: str = "last_report"):
    """The running row's partnership reported (the metric of `column`) in `month` or later, up to
    the row's month: one column of the row, no pair of rows."""
    return table.c[column] >= month_index(month)


def running_conditions(table, filters: Filters, month) -> list:
    """One month's running_totals rows within the filters. A partnership or region filter reads
    the chosen partnerships' rows by key (their numbers from the registry); a sector alone (a
    sixth of the partnerships: seeking them cost more than reading the month) is a check on
    the rows of the month."""
    conds = []
    chosen = select(partnerships.c.number + literal(running_key(month), BigInteger))
    if filters.partnerships:
        conds.append(table.c.k.in_(chosen.where(partnerships.c.rsp_id.in_(filters.partnerships))))
        if filters.regions:
            conds.append(table.c.region_id.in_(filters.regions))
        if filters.sectors:
            conds.append(table.c.sector_id.in_(filters.sectors))
        return conds
    if filters.regions:
        chosen = chosen.where(partnerships.c.region_id.in_(filters.regions))
        if filters.sectors:
            chosen = chosen.where(partnerships.c.sector_id.in_(filters.sectors))
        return [table.c.k.in_(chosen)]
    conds += running_month(table, month)
    if filters.sectors:
        conds.append(table.c.sector_id.in_(filters.sectors))
    return conds


def ratio(num, den):
    """num / den as a float, NULL where den is not positive. Both cast to floating point: with
    `num * 1.0` PostgreSQL computed in NUMERIC, 4x slower over 89,203 rows (60 of 80 ms)."""
    return case((den > 0, cast(num, Float) / cast(den, Float)), else_=None)


def facts_join():
    return facts.join(partnerships, facts.c.rsp_id == partnerships.c.rsp_id)


Bind = Engine | Connection  # what the query helpers read through (see reading)
T = TypeVar("T")


def reading(bind: Bind) -> Connection | contextlib.nullcontext[Connection]:
    """A pooled connection for the queries, which only read: in autocommit mode. Each statement
    of a default (READ COMMITTED) PostgreSQL transaction sees its own snapshot anyway, and SQLite's
    driver opens no transaction for a SELECT, so the answers are the same; PostgreSQL is spared
    the BEGIN and the ROLLBACK round trips: SELECT 1 through the app's engine took 2.6 ms, 0.66 ms
    this way (median of 300, 10M bench server). Writers (rsp_data) keep their transactions.

    Given a Connection (one that a query function opened for all of its statements), that one,
    left open: a checkout per statement cost 0.29 ms on PostgreSQL, 0.1 ms on SQLite."""
    if isinstance(bind, Connection):
        return contextlib.nullcontext(bind)
    return bind.connect().execution_options(isolation_level="AUTOCOMMIT")


def one_connection(query: Callable[..., T]) -> Callable[..., T]:
    """A query function (engine first) whose helpers' statements all run on one pooled connection:
    it is called with that connection in place of the engine (reading passes it through)."""

    @functools.wraps(query)
    def on_one(engine: Bind, *args, **kwargs) -> T:
        with reading(engine) as conn:
            return query(conn, *args, **kwargs)

    return on_one


def frame(engine: Engine, stmt: Select) -> pd.DataFrame:
    with reading(engine) as conn:
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
    return or_(*[_folded(c).like(f"%{escaped}%", escape="\\") for c in columns])


class _folded(FunctionElement):
    """A text column as a case-insensitive LIKE compares it: lower(column), but on SQLite the
    column itself. SQLite's LIKE already ignores case, as far as its lower() goes (ASCII letters),
    and calling lower() on every name doubled the scan a search does: 97 -> 44 ms over 89,203
    partnerships. PostgreSQL's trigram indexes (migration 0003) are on lower(name)."""

    type = String()
    name = "folded"
    inherit_cache = True


@compiles(_folded)
def _folded_default(element, compiler, **kw):
    return f"lower({compiler.process(element.clauses, **kw)})"


@compiles(_folded, "sqlite")
def _folded_sqlite(element, compiler, **kw):
    return compiler.process(element.clauses, **kw)


def raw_month(column, name: str = "month"):
    """A date column read as the driver gives it (an ISO string on SQLite, a date on PostgreSQL),
    skipping SQLAlchemy's per-row date parsing: convert the whole column with `to_months`."""
    return type_coerce(column, String).label(name)


def month_key(value) -> str:
    """A raw_month value (an ISO string on SQLite, a date on PostgreSQL) as its ISO date text."""
    return str(value)[:10]


def to_months(values: pd.Series) -> pd.Series:
    """A column of raw_month values (ISO strings or dates) as datetime64[us]."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return values
    # Each distinct month parsed once, by numpy: a few hundred months among the 3,120 rows of a
    # trend by partnership, where pandas' parser took 1.3-1.8 ms.
    raw = values.tolist()
    distinct = list(dict.fromkeys(raw))
    days = np.array(["NaT" if v is None else month_key(v) for v in distinct], dtype="datetime64[D]")
    place = {v: i for i, v in enumerate(distinct)}
    months = days.astype("datetime64[us]")[np.fromiter((place[v] for v in raw), dtype="int64", count=len(raw))]
    return pd.Series(months, index=values.index, name=values.name)


def among(column, values: list, dialect: str):
    """`column` IN `values` as one bound parameter, for a few hundred keys: on PostgreSQL an array
    (= ANY(%(values)s)), elsewhere an expanding IN. A list given to in_() is a parameter per value:
    SQLAlchemy coerced and cast each, and psycopg parsed a statement of 600 placeholders, 10-12 ms
    of the map's 300 rows at 10 million rows."""
    if dialect == "postgresql":
        return column == any_(bindparam(None, values, type_=ARRAY(column.type)))
    return column.in_(bindparam(None, values, expanding=True))

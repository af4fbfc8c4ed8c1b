"""The query builder: the filters as WHERE conditions (`where`), the table a figure is summed from
(`source`: the chosen partnerships' facts, or rollup_cells at the smallest grain that covers the
filters), every metric's sums over it (`sums_select`) and rows of sums as figures (`figures`)."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable
from dataclasses import dataclass
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
    any_,
    bindparam,
    case,
    cast,
    func,
    literal,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from queries.filters import Filters
from rsp_data.metrics import ADULTS, CARRY, DECLARED, FLOW, METRICS, STOCK, SUM_NAMES, SUMS, carried, parts, value
from rsp_data.months import shift
from rsp_data.rollups import carry_value, sum_value
from rsp_data.schema import monthly_metrics as facts
from rsp_data.schema import partnerships, regions, sectors
from rsp_data.schema import rollup_cells as cells

SUM_OF = {s.name: s for s in SUMS}
CARRIED = {carried(s.name, k): (s, k) for s in SUMS if s.stock for k in range(1, CARRY + 1)}  # name: (stock, months)
FACTS = facts.join(partnerships, facts.c.rsp_id == partnerships.c.rsp_id)

# Which column identifies a group, and where its display name lives.
GROUPINGS = {
    "sector": (partnerships.c.sector_id, sectors, sectors.c.sector_id),
    "region": (partnerships.c.region_id, regions, regions.c.region_id),
    "partnership": (partnerships.c.rsp_id, partnerships, partnerships.c.rsp_id),
}


def where(filters: Filters, table, *, months: bool = True) -> list:
    """The filters as conditions on `table` (the facts' region and sector are their partnership's), values bound."""

    chosen = (("region_id", filters.regions), ("sector_id", filters.sectors), ("rsp_id", filters.partnerships))
    conds = [(table.c[n] if n in table.c else partnerships.c[n]).in_(ids) for n, ids in chosen if ids]
    if months and filters.first:
        conds.append(table.c.month >= filters.first)
    if months and filters.last:
        conds.append(table.c.month <= filters.last)
    return conds


GRAINS = {(False, False): "all", (True, False): "region", (False, True): "sector", (True, True): "cell"}


@dataclass(frozen=True)
class Source:
    """A table to sum figures from, its conditions, its month column and its group keys."""

    table: object
    conds: list
    month: object
    keys: dict

    def value(self, name: str):
        """The row-level value of sum `name` (or "reporting": partnership-months with figures; or a stock's
        carried part, metrics.carried)."""
        if self.table is FACTS:
            return literal(1) if name == "reporting" else fact_value(name)
        return cells.c[name]

    def stock(self, name: str, month):
        """Stock `name` at `month` row by row (NULL elsewhere): the month's reports, and those of the CARRY months
        before it that stand for it (the source's month conditions keep them inside the range)."""
        if month is None:  # (no data in range: every stock is 0)
            return case((self.month == month, self.value(name)))
        latest = [(self.month == shift(month, -k), self.value(carried(name, k))) for k in range(1, CARRY + 1)]
        return case((self.month == month, self.value(name)), *latest)


def fact_value(name: str):
    """Sum `name`'s value in one row of the facts (a stock's carried part: metrics.carried)."""
    if name in CARRIED:
        stock, months = CARRIED[name]
        return carry_value(stock, facts, months)
    return sum_value(SUM_OF[name], facts)


def stock_parts(names) -> tuple[str, ...]:
    """The carried parts (metrics.carried) of the stocks among the sums `names`."""
    return tuple(carried(n, k) for n in names if n in SUM_OF and SUM_OF[n].stock for k in range(1, CARRY + 1))


def source(filters: Filters, by: str | None = None, *, months: bool = True, gjc: bool | None = None) -> Source:
    """The chosen partnerships' facts, or rollup_cells at the smallest grain with the filters' and `by`'s columns."""
    if filters.partnerships:
        conds = where(filters, facts, months=months)
        if gjc is not None:
            conds.append(partnerships.c.gjc_supported.is_(gjc))
        keys = {k: column for k, (column, _, _) in GROUPINGS.items()}
        return Source(FACTS, conds, facts.c.month, keys)
    region = bool(filters.regions) or by in ("region", "cell")
    sector = bool(filters.sectors) or by in ("sector", "cell")
    conds = [cells.c.grain == GRAINS[(region, sector)]]
    # A grain without a region (sector) holds "" there: saying so lets SQLite seek the primary key.
    conds += [cells.c[c] == "" for c, used in (("region_id", region), ("sector_id", sector)) if not used]
    if gjc is not None:
        conds.append(cells.c.gjc.is_(gjc))
    keys = {"sector": cells.c.sector_id, "region": cells.c.region_id}
    return Source(cells, conds + where(filters, cells, months=months), cells.c.month, keys)


def summed(expression, name: str | None = None):
    """SUM as sum `name`'s own type (a whole count without a name), 0 over no rows (PostgreSQL would hand BIGINT sums
    over as Decimal)."""
    whole = name not in SUM_OF or SUM_OF[name].whole
    return cast(func.coalesce(func.sum(expression), 0), BigInteger if whole else Float)


def sums_select(src: Source, as_of, keys: dict[str, object] | None = None, names=SUM_NAMES) -> Select:
    """Each sum, `months` and `reporting` per group of `keys` ({label: column}); stocks (Source.stock) and reporting
    at `as_of`."""
    keys = keys or {}

    def at_as_of(expression):
        return case((src.month == as_of, expression))  # NULL elsewhere: SUM skips it, `summed` turns none into 0

    columns = [summed(src.stock(n, as_of) if SUM_OF[n].stock else src.value(n), n).label(n) for n in names]
    return (
        select(
            *[column.label(label) for label, column in keys.items()],
            *columns,
            func.count(func.distinct(src.month)).label("months"),
            summed(at_as_of(src.value("reporting"))).label("reporting"),
        )
        .select_from(src.table)
        .where(*src.conds)
        .group_by(*keys.values())
    )


def figures(columns: dict[str, list], as_of=None) -> pd.DataFrame:
    """Columns of ids, names and sums (NULL as 0) as a frame with every metric's value, ids and names first."""
    size = len(next(iter(columns.values())))  # callers always pass their columns, empty or not

    def number(name: str) -> np.ndarray:
        floats = np.nan_to_num(np.array(columns.get(name, np.zeros(size)), dtype="float64"))
        return floats if name in SUM_OF and not SUM_OF[name].whole else np.rint(floats).astype("int64")

    counts = ("months", "reporting")
    data = {n: list(v) for n, v in columns.items() if n not in SUM_OF and n not in counts}
    data |= {n: number(n) for n in columns if n in SUM_OF}
    ratios = [m.key for m in DECLARED if m.kind not in (STOCK, FLOW) and all(p in data for p in parts(m.key))]
    data |= {key: value(key, data) for key in ratios}
    data |= {n: number(n) for n in counts}
    if as_of is not False:
        data["as_of"] = [as_of] * size
    return pd.DataFrame(data)


def sql_value(metric: str, columns):
    """A metric's value in SQL over `columns` holding its sums (the order of a ranking in SQL)."""
    if METRICS[metric].kind in (STOCK, FLOW):
        return columns[metric]
    num, den = (columns[p] for p in parts(metric))
    return case((den > 0, cast(num, Float) / cast(den, Float)))


def needs(metric: str) -> tuple[str, ...]:
    """The sums a metric's value is computed from (a sum's name: that sum)."""
    if metric not in METRICS or METRICS[metric].kind in (STOCK, FLOW):
        return (metric,)
    return tuple(p for p in parts(metric) if p != ADULTS)  # the areas' adults are census figures, not sums


Bind = Engine | Connection
T = TypeVar("T")


def reading(bind: Bind) -> Connection | contextlib.nullcontext[Connection]:
    """A pooled autocommit connection (reads only: PostgreSQL is spared BEGIN and ROLLBACK), or the open one given."""
    if isinstance(bind, Connection):
        return contextlib.nullcontext(bind)
    return bind.connect().execution_options(isolation_level="AUTOCOMMIT")


def one_connection(query: Callable[..., T]) -> Callable[..., T]:
    """A query function (engine first) whose statements all run on one pooled connection."""

    @functools.wraps(query)
    def on_one(engine: Bind, *args, **kwargs) -> T:
        with reading(engine) as conn:
            return query(conn, *args, **kwargs)

    return on_one


def frame(engine: Bind, stmt: Select) -> pd.DataFrame:
    with reading(engine) as conn:
        result = conn.execute(stmt)
        # Plain tuples: pandas inspects Row objects one attribute at a time.
        return pd.DataFrame([tuple(row) for row in result.fetchall()], columns=list(result.keys()))


def raw_month(column, name: str | None = None):
    """A date column as the driver gives it (ISO text on SQLite), for months.to_datetimes to convert at once
    (labelled `name`; callers that read rows by position need no label)."""
    return type_coerce(column, String).label(name)


def contains(columns, text: str):
    """Case-insensitive "contains `text`" over any of the columns; LIKE wildcards in the text are literal."""
    escaped = text.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return or_(*[_folded(c).like(f"%{escaped}%", escape="\\") for c in columns])


class _folded(FunctionElement):
    """lower(column), as PostgreSQL's trigram indexes (migration 0003) are; SQLite's LIKE already ignores case."""

    type = String()
    name = "folded"
    inherit_cache = True


@compiles(_folded)
def _folded_default(element, compiler, **kw):
    return f"lower({compiler.process(element.clauses, **kw)})"


@compiles(_folded, "sqlite")
def _folded_sqlite(element, compiler, **kw):
    return compiler.process(element.clauses, **kw)


def among(column, values: list, dialect: str):
    """`column` IN `values` as one bound parameter (an array on PostgreSQL), for a few hundred keys."""
    if dialect == "postgresql":
        return column == any_(bindparam(None, values, type_=ARRAY(column.type)))
    return column.in_(bindparam(None, values))  # IN a bindparam makes it expanding

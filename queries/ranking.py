"""Per partnership over a month range, from running_arrays (a total over from..to is running(to) −
running(from − 1)): ranked with numpy, since pairing running_totals rows in SQL is too slow for a
national store (docs/benchmarks.md). The order is SQL's: NULL last, ties by rsp_id's collation."""

from __future__ import annotations

from datetime import date
from typing import NamedTuple

import numpy as np
from sqlalchemy import BigInteger, and_, literal, select, union_all

from queries._base import SUM_OF, Bind, among, contains, needs, reading, where
from queries.filters import Filters
from rsp_data.metrics import CARRY, METRICS, RATE, value
from rsp_data.months import index_month, month_index
from rsp_data.rollups import padded, unpack
from rsp_data.schema import GROUP_CODES, ID_RANK, REGISTRY_MONTH, partnerships, running_key, running_month
from rsp_data.schema import running_arrays as arrays

TIE_ROWS = 2000  # tied candidates a ranking orders by reading their rsp_ids (beyond: the id_rank array)


def array_of(name: str) -> str:
    """The array holding sum `name` (or "months"): a stock's value at each month, a flow's running sum."""
    if name == "months":
        return "cum_months_reported"
    return name if SUM_OF[name].stock else f"cum_{name}"


def last_of(metric: str | None) -> str:
    """The last_* array of a metric's latest report (None: any report)."""
    if metric is None:
        return "last_report"
    info = METRICS[metric]
    key = info.numerator if info.kind == RATE else metric
    return f"last_{key}" if METRICS[key].optional else "last_report"


class Ranked(NamedTuple):
    ids: list[str]  # the page's rsp_ids, in order
    count: int  # how many partnerships the ranking holds
    names: list[str]  # the page's partnership names, in the same order
    totals: dict[str, np.ndarray] | None = None  # the `sums` over the range, page order (None: an empty page)
    registry: list[tuple] | None = None  # the page's `registry` columns, page order
    reporting: np.ndarray | None = None  # 1 where the partnership reported at the range's last month


def ranked(
    engine: Bind,
    filters: Filters,
    *,
    first: date | None,
    last: date | None,
    order_by: str,
    limit: int,
    offset: int = 0,
    descending: bool = True,
    reported: str | None = None,
    search: str = "",
    defined: bool = False,
    sums: tuple[str, ...] = (),
    registry: tuple = (),
    source=None,
) -> Ranked:
    """Places offset..offset+limit of the partnerships within the filters and `search` that reported (`reported`:
    that metric, else anything) in first..last, ranked on `order_by` over that range (`defined`: only those with
    a value), with their `sums` and `registry` columns (of `source`, the partnerships table joined to others)."""
    if last is None:
        return Ranked([], 0, [])
    hi, lo = month_index(last), None if first is None else month_index(first) - 1
    wanted = _wanted(tuple(dict.fromkeys((*needs(order_by), *sums))), hi, lo)
    with reading(engine) as conn:
        found = _Arrays(conn, filters, search, [*wanted, (hi, last_of(reported)), (hi, "last_report")])
        if found.size is None:  # no running month yet: nothing to rank
            return Ranked([], 0, [])
        keep = found.chosen & (found.at(hi, last_of(reported)) >= _since(first))
        values = value(order_by, {n: found.over(n, hi, lo) for n in needs(order_by)})
        if defined:
            keep &= ~np.isnan(values)
        numbers = np.flatnonzero(keep)
        values = values[numbers]
        stop = offset + limit
        rows = None
        spots = places(values, None, descending, offset, stop)
        if spots is None:  # equal values among the leaders: their order is rsp_id's
            ties, rows = _tie_order(conn, values, numbers, found.size, descending, stop, (registry, source))
            spots = places(values, ties, descending, offset, stop)
        page = numbers[spots]
        if not len(page):
            return Ranked([], len(numbers), [])
        if rows is None:
            rows = _registry_rows(conn, page, registry, source)
        totals = {name: found.over(name, hi, lo)[page] for name in sums}
        reporting = (found.at(hi, "last_report")[page] == hi).astype("int64")
    ids, names = zip(*[rows[int(n)][:2] for n in page], strict=True)
    extra = [rows[int(n)][2:] for n in page]
    return Ranked(list(ids), len(numbers), list(names), totals, extra, reporting)


def _registry_rows(conn, numbers: np.ndarray, columns: tuple, source, ordered: bool = False) -> dict[int, tuple]:
    """{number: (rsp_id, name, *columns)} read from `source` (default: partnerships); `ordered`: by rsp_id."""
    stmt = select(partnerships.c.number, partnerships.c.rsp_id, partnerships.c.name, *columns)
    stmt = stmt.select_from(partnerships if source is None else source)
    stmt = stmt.where(among(partnerships.c.number, numbers.tolist(), conn.dialect.name))
    if ordered:
        stmt = stmt.order_by(partnerships.c.rsp_id)
    return {int(row[0]): tuple(row[1:]) for row in conn.execute(stmt)}


def _tie_order(conn, values: np.ndarray, numbers: np.ndarray, size: int, descending: bool, stop: int, read: tuple):
    """(ties, rows): the rsp_id order of the candidates for places up to `stop`, and their registry
    rows (`read`: columns, source) when few enough (TIE_ROWS) to read in that order; else the id_rank array."""
    chosen = _candidates(_sort_key(values, descending), stop)
    if len(chosen) <= TIE_ROWS:
        rows = _registry_rows(conn, numbers[chosen], *read, ordered=True)
        place = {n: i for i, n in enumerate(rows)}
        ties = np.full(len(values), len(rows), dtype="int64")
        ties[chosen] = [place[int(n)] for n in numbers[chosen]]
        return ties, rows
    rank = padded(_read(conn, [(REGISTRY_MONTH, ID_RANK)])[(REGISTRY_MONTH, ID_RANK)], size, ID_RANK)
    return rank[numbers], None


def reporting_counts(
    engine: Bind,
    filters: Filters,
    *,
    first: date | None,
    last: date | None,
    metrics: tuple[str, ...] = (),
    gjc: bool = False,
    search: str = "",
) -> dict[str, int]:
    """How many partnerships within the filters and the search (`gjc`: and grant-supported) reported
    in first..last ("partnerships"), and how many reported each of `metrics` then."""
    wanted = {"partnerships": "last_report", **{m: last_of(m) for m in metrics}}
    if last is None:
        return dict.fromkeys(wanted, 0)
    hi = month_index(last)
    with reading(engine) as conn:
        found = _Arrays(conn, filters, search, [(hi, c) for c in wanted.values()], gjc=gjc)
        if found.size is None:
            return dict.fromkeys(wanted, 0)
        return {k: int(np.count_nonzero(found.chosen & (found.at(hi, c) >= _since(first)))) for k, c in wanted.items()}


def carried_reports(engine: Bind, filters: Filters, *, first: date | None, last: date | None) -> tuple[int, list[date]]:
    """How many partnerships within the filters count in a stock at `last` as of an earlier report (stock_since),
    and the months of those reports, oldest first."""
    if last is None:
        return 0, []
    hi = month_index(last)
    with reading(engine) as conn:
        found = _Arrays(conn, filters, "", [(hi, "last_report")])
    if found.size is None:
        return 0, []
    latest = found.at(hi, "last_report")
    earlier = latest[found.chosen & (latest >= stock_since(first, last)) & (latest < hi)]
    return len(earlier), [index_month(int(i)) for i in np.unique(earlier)]


def cell_totals(engine: Bind, filters: Filters, *, last: date, names: tuple[str, ...]) -> dict[str, list]:
    """Per region × sector cell with a partnership that reported in the filtered range: sector_id, region_id,
    each sum over the range and "reporting" (at `last` itself), by np.bincount over schema.GROUP_CODES."""
    first = filters.first
    hi, lo = month_index(last), None if first is None else month_index(first) - 1
    wanted = [*_wanted(names, hi, lo), (hi, "last_report"), *[(REGISTRY_MONTH, c) for c in GROUP_CODES.values()]]
    with reading(engine) as conn:
        found = _Arrays(conn, filters, "", wanted)
        registered = conn.execute(select(arrays.c.name).where(arrays.c.month_index == REGISTRY_MONTH)).scalars().all()
    if found.size is None:
        return {}
    # The codes are places among the sorted ids of the region (sector) masks written with them.
    ids = {p: sorted(n.split(":", 1)[1] for n in registered if n.startswith(f"{p}:")) for p in GROUP_CODES}
    width = len(ids["sector"])
    region, sector = (found.at(REGISTRY_MONTH, GROUP_CODES[p]).astype("int64") for p in ("region", "sector"))
    reported = found.at(hi, "last_report")
    keep = np.flatnonzero(found.chosen & (reported >= _since(first)) & (region >= 0) & (sector >= 0))
    cell = region[keep] * width + sector[keep]
    size = len(ids["region"]) * width
    present = np.flatnonzero(np.bincount(cell, minlength=size))

    def total(values: np.ndarray) -> list:
        return np.bincount(cell, weights=values, minlength=size)[present].tolist()

    columns = {"sector_id": [ids["sector"][c % width] for c in present]}
    columns["region_id"] = [ids["region"][c // width] for c in present]
    for name in names:
        columns[name] = total(found.over(name, hi, lo)[keep])
    columns["reporting"] = total((reported[keep] == hi).astype("float64"))
    return columns


def running_earlier(lo, hi, month, earlier):
    """Join condition: `lo` is the running row at `earlier` of `hi`'s partnership (`hi` at `month`), by
    key; the earlier month's stretch of keys is stated too, so PostgreSQL reads that month alone."""
    return and_(lo.c.k == hi.c.k - (running_key(month) - running_key(earlier)), *running_month(lo, earlier))


def running_conditions(table, filters: Filters, month) -> list:
    """One month's running_totals rows within the filters: chosen partnerships or regions by key
    (their numbers from the registry), a sector alone by a check on the month's rows."""
    chosen = select(partnerships.c.number + literal(running_key(month), BigInteger))
    sector = [table.c.sector_id.in_(filters.sectors)] if filters.sectors else []
    if filters.partnerships:
        region = [table.c.region_id.in_(filters.regions)] if filters.regions else []
        return [table.c.k.in_(chosen.where(partnerships.c.rsp_id.in_(filters.partnerships))), *region, *sector]
    if filters.regions:
        return [table.c.k.in_(chosen.where(*where(filters, partnerships, months=False)))]
    return running_month(table, month) + sector


def stock_since(first: date | None, last: date) -> int:
    """The lowest last_report whose stock counts at `last` (a month index): CARRY months back, inside the range."""
    return max(_since(first), month_index(last) - CARRY)


def _since(first: date | None) -> int:
    """The lowest last_* value of a report in the range (a month index; -1 is "never")."""
    return 0 if first is None else month_index(first)


def _wanted(names: tuple[str, ...], hi: int, lo: int | None) -> list[tuple[int, str]]:
    """The arrays the sums `names` over lo + 1..hi are read from (a stock: at hi, and its latest report at hi)."""
    stock = [(hi, "last_report")] if any(n != "months" and SUM_OF[n].stock for n in names) else []
    return [(hi, array_of(n)) for n in names] + [(lo, array_of(n)) for n in names if _flow(n, lo)] + stock


def _flow(name: str, lo: int | None) -> bool:
    return lo is not None and array_of(name).startswith("cum_")


class _Arrays:
    """The `wanted` (month index, column) arrays, padded to every partnership number, and `chosen`: the
    numbers within the filters, the search and (`gjc`) grant support."""

    def __init__(self, conn, filters: Filters, search: str, wanted: list[tuple[int, str]], gjc: bool = False):
        masks = [f"region:{r}" for r in filters.regions] + [f"sector:{s}" for s in filters.sectors]
        # "gjc" (one byte a partnership) gives the registry's size.
        self.found = _read(conn, [*wanted, (REGISTRY_MONTH, "gjc"), *[(REGISTRY_MONTH, m) for m in masks]])
        grant = self.found.get((REGISTRY_MONTH, "gjc"))
        self.size = None if grant is None else len(grant)
        if self.size is None:
            return
        self.chosen = np.ones(self.size, dtype=bool)
        for prefix, ids in (("region", filters.regions), ("sector", filters.sectors)):
            if ids:  # any of the chosen regions (sectors)
                self.chosen &= np.logical_or.reduce([self.at(REGISTRY_MONTH, f"{prefix}:{i}") > 0 for i in ids])
        if gjc:
            self.chosen &= self.at(REGISTRY_MONTH, "gjc") > 0
        conds = [partnerships.c.rsp_id.in_(filters.partnerships)] if filters.partnerships else []
        if search.strip():
            conds.append(contains((partnerships.c.name, partnerships.c.rsp_id), search))
        if conds:  # the chosen partnerships matching the search
            numbers = np.array(conn.execute(select(partnerships.c.number).where(*conds)).scalars().all(), dtype="int64")
            picked = np.zeros(self.size, dtype=bool)
            picked[numbers[numbers < self.size]] = True
            self.chosen &= picked

    def at(self, month: int, name: str) -> np.ndarray:
        # (no array: a month before the store's first, every sum 0; a region or sector without partnerships)
        return padded(self.found.get((month, name), np.array([], dtype="int64")), self.size, name)

    def over(self, name: str, hi: int, lo: int | None) -> np.ndarray:
        """Sum `name` over lo + 1..hi per partnership number."""
        values = self.at(hi, array_of(name)).astype("float64")
        if name != "months" and SUM_OF[name].stock:  # as of the latest report, if recent enough (stock_since)
            since = max(0 if lo is None else lo + 1, hi - CARRY)
            return np.where(self.at(hi, "last_report") >= since, values, 0.0)
        return values - self.at(lo, array_of(name)) if _flow(name, lo) else values


def places(values: np.ndarray, ties: np.ndarray | None, descending: bool, start: int, stop: int) -> np.ndarray | None:
    """Positions (into `values`) of places start..stop: by value (NaN last), ties by `ties`; without
    `ties`, None when two candidates tie (the caller reads their order, _tie_order)."""
    key = _sort_key(values, descending)
    if start >= min(stop, len(key)):
        return np.array([], dtype="int64")
    chosen = _candidates(key, stop)
    if ties is None:
        order = chosen[np.argsort(key[chosen], kind="stable")]
        ordered = key[order]
        if (ordered[1:] == ordered[:-1]).any():  # (NaN is inf here: two of them tie too)
            return None
    else:
        order = chosen[np.lexsort((ties[chosen], key[chosen]))]
    return order[start:stop]


def _sort_key(values: np.ndarray, descending: bool) -> np.ndarray:
    """Ascending sort keys: the values (negated when descending), NaN as inf (last either way)."""
    key = -values if descending else values.copy()
    key[np.isnan(key)] = np.inf
    return key


def _candidates(key: np.ndarray, stop: int) -> np.ndarray:
    """Positions of every key that can hold one of places 0..stop, ties included."""
    if stop >= len(key):
        return np.arange(len(key))
    kth = np.partition(key, stop - 1)[stop - 1]
    return np.flatnonzero(key <= kth)


# PostgreSQL: one fixed statement whatever is wanted, the (month, name) pairs as two array parameters.
PG_READ = (
    "SELECT a.month_index, a.name, a.dtype, a.data FROM unnest(%s::integer[], %s::text[]) AS w(m, n) "
    f"JOIN {arrays.name} AS a ON a.month_index = w.m AND a.name = w.n"
)


def _read(conn, wanted: list[tuple[int, str]]) -> dict[tuple[int, str], np.ndarray]:
    pairs = list(dict.fromkeys(wanted))
    if conn.dialect.name == "postgresql":
        # In binary: as text, psycopg would send bytea as hex, twice the bytes, and decode it.
        months, names = [int(m) for m, _ in pairs], [n for _, n in pairs]
        with conn.connection.driver_connection.cursor(binary=True) as cursor:
            rows = cursor.execute(PG_READ, (months, names)).fetchall()
    else:
        # One SELECT per month, UNION ALL: SQLite 3.40's multi-index OR plan for (m1 AND name IN …) OR
        # (m2 AND name IN …) returned only the first month's arrays once the second list held ten names or so.
        stmt = union_all(
            *[
                select(arrays.c.month_index, arrays.c.name, arrays.c.dtype, arrays.c.data).where(
                    arrays.c.month_index == m, arrays.c.name.in_(sorted({n for k, n in pairs if k == m}))
                )
                for m in dict.fromkeys(m for m, _ in pairs)
            ]
        )
        rows = conn.execute(stmt).all()
    return {(int(m), name): unpack(dtype, data) for m, name, dtype, data in rows}

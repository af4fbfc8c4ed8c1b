"""Every partnership ranked over a month range, from running_arrays (rsp_data/schema.py).

A partnership's total over from..to is running(to) − running(from − 1). In SQL that pairs two
running_totals rows per partnership: 35-90 ms at 89,203 partnerships. running_arrays holds each
month's column of running sums for every partnership as one array indexed by partnership number,
so a ranking reads two arrays per column it needs (a few hundred KB each) and ranks with numpy.
The filters narrow the numbers (the registry's arrays; a search or chosen partnerships in SQL); a
page's figures can come from the same read (`totals`) and its registry rows with its names.

The order is the SQL rankings' order: the value (NULL, here NaN, last), ties by rsp_id in the
database's collation (the candidates' rsp_ids, or the id_rank array)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import NamedTuple

import numpy as np
from sqlalchemy import select, union_all

from queries._base import Bind, among, contains, reading
from queries.filters import Filters
from rsp_data.rollups import padded, unpack
from rsp_data.schema import GROUP_CODES, ID_RANK, REGISTRY_MONTH, month_index, partnerships
from rsp_data.schema import running_arrays as arrays

# value(get): the ranked value per partnership number (NaN: none); get(column) gives a column's
# total over the range per number: running(to) − running(from − 1) for a cum_* column, the value
# at `to` for employers_engaged (a stock).
Value = Callable[[Callable[[str], np.ndarray]], np.ndarray]

# How many tied candidates a ranking orders by reading their rsp_ids (beyond: the id_rank array).
TIE_ROWS = 2000


def ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den as floats, NaN where den is not positive (queries._base.ratio in SQL)."""
    num, den = num.astype("float64"), den.astype("float64")
    return np.divide(num, den, out=np.full(len(num), np.nan), where=den > 0)


class Ranked(NamedTuple):
    ids: list[str]  # the page's rsp_ids, in order
    count: int  # how many partnerships the ranking holds
    numbers: list[int]  # the page's partnership numbers, in the same order
    names: list[str]  # the page's partnership names, in the same order
    totals: dict[str, np.ndarray] | None = None  # the `totals` columns over the range, page order
    registry: list[tuple] | None = None  # the page's `registry` columns, page order


def ranked(
    engine: Bind,
    filters: Filters,
    *,
    first: date | None,
    last: date,
    value: Value,
    needs: tuple[str, ...],
    limit: int,
    offset: int = 0,
    descending: bool = True,
    reported: str = "last_report",
    search: str = "",
    defined: bool = False,
    totals: tuple[str, ...] = (),
    registry: tuple = (),
    source=None,
) -> Ranked:
    """The rsp_ids (and numbers) of places offset..offset+limit, and how many are ranked.

    Ranked: the partnerships within the filters (and `search`) that reported (the `reported`
    last_* column) in first..last (first None: up to last), and with `defined`, have a value.
    `needs`: the array columns `value` reads. `totals`: array columns whose totals over the range
    the page's partnerships get too (Ranked.totals), read with the rest; `registry`: columns of
    `source` (the partnerships table joined to others) read with the page's names."""
    hi = month_index(last)
    lo = None if first is None else month_index(first) - 1
    wanted = [(hi, name) for name in (*needs, *totals, reported)]
    if lo is not None:
        wanted += [(lo, name) for name in (*needs, *totals) if name.startswith("cum_")]

    def nobody(count: int) -> Ranked:
        return Ranked([], count, [], [], {name: np.array([]) for name in totals}, [])

    with reading(engine) as conn:
        found = _Arrays(conn, filters, search, wanted)
        if found.size is None:  # no running month yet: nothing to rank
            return nobody(0)

        def get(name: str) -> np.ndarray:
            if name.startswith("cum_") and lo is not None:
                return found.at(hi, name).astype("float64") - found.at(lo, name)
            return found.at(hi, name)

        keep = found.chosen & (found.at(hi, reported) >= _since(first))
        values = np.asarray(value(get), dtype="float64")
        if defined:
            keep &= ~np.isnan(values)
        numbers = np.flatnonzero(keep)
        values = values[numbers]
        stop = offset + limit
        rows = None
        read = _RegistryRead(registry, source)
        spots = places(values, None, descending, offset, stop)
        if spots is None:  # equal values among the leaders: their order is rsp_id's
            ties, rows = _tie_order(conn, values, numbers, found.size, descending, stop, read)
            spots = places(values, ties, descending, offset, stop)
        page = numbers[spots]
        if not len(page):
            return nobody(len(numbers))
        if rows is None:
            rows = read(conn, page)
        sums = {name: get(name)[page] for name in totals}
    ids, names = zip(*[rows[int(n)][:2] for n in page], strict=True)
    extra = [rows[int(n)][2:] for n in page]
    return Ranked(list(ids), len(numbers), page.tolist(), list(names), sums, extra)


class _RegistryRead:
    """Reads {number: (rsp_id, name, *columns)} of partnership numbers from `source` (the
    partnerships table, or it joined to others); `ordered`: in rsp_id order (the database's
    collation)."""

    def __init__(self, columns: tuple = (), source=None):
        self.columns, self.source = columns, source

    def __call__(self, conn, numbers: np.ndarray, ordered: bool = False) -> dict[int, tuple]:
        stmt = select(partnerships.c.number, partnerships.c.rsp_id, partnerships.c.name, *self.columns)
        if self.source is not None:
            stmt = stmt.select_from(self.source)
        stmt = stmt.where(among(partnerships.c.number, numbers.tolist(), conn.dialect.name))
        if ordered:
            stmt = stmt.order_by(partnerships.c.rsp_id)
        return {int(row[0]): tuple(row[1:]) for row in conn.execute(stmt)}


def _tie_order(
    conn, values: np.ndarray, numbers: np.ndarray, size: int, descending: bool, stop: int, read: _RegistryRead
):
    """(ties, rows): the rsp_id order of the candidates for places up to `stop` (positions into
    `values`), and their registry rows (`read`) when read with it (else None).

    Up to TIE_ROWS candidates: their registry rows in rsp_id order, one statement that also gives
    the page its names. More (a deep page among equal values): the registry's id_rank array, each
    number's place in rsp_id order (357 KB at 89,203 partnerships, read only then)."""
    chosen = candidates(values, descending, stop)
    if len(chosen) <= TIE_ROWS:
        rows = read(conn, numbers[chosen], ordered=True)
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
    last: date,
    columns: tuple[str, ...],
    gjc: bool = False,
    search: str = "",
) -> dict[str, int]:
    """{column: how many partnerships within the filters and the search (and with `gjc`,
    grant-supported) have that last_* column on or after `first` (None: at all) at `last`}: who
    reported (a metric) in the range, from one array each."""
    hi = month_index(last)
    with reading(engine) as conn:
        found = _Arrays(conn, filters, search, [(hi, c) for c in columns], gjc=gjc)
        if found.size is None:
            return {c: 0 for c in columns}
        return {c: int(np.count_nonzero(found.chosen & (found.at(hi, c) >= _since(first)))) for c in columns}


class CellTotals(NamedTuple):
    region_ids: list[str]
    sector_ids: list[str]
    present: np.ndarray  # (regions, sectors): a partnership of the cell reported in the range
    sums: dict[str, np.ndarray]  # column -> (regions, sectors) totals; "reporting" too


def cell_totals(
    engine: Bind, filters: Filters, *, first: date | None, last: date, columns: tuple[str, ...]
) -> CellTotals:
    """Per region × sector cell, over the partnerships within the filters that reported in
    first..last (first None: up to last): each column's total (a cum_* column over the range,
    employers_engaged at `last`), and "reporting", how many reported at `last` itself.

    Each partnership's cell comes from the registry's code arrays (schema.GROUP_CODES), so a
    sector × region grid over every month is a few arrays and np.bincount: summing rollup_cells'
    147,000 cell rows (612 cells × 240 months) for it took 75-140 ms at 10 million rows."""
    hi = month_index(last)
    lo = None if first is None else month_index(first) - 1
    wanted = [(hi, name) for name in (*columns, "last_report")]
    if lo is not None:
        wanted += [(lo, name) for name in columns if name.startswith("cum_")]
    wanted += [(REGISTRY_MONTH, code) for code in GROUP_CODES.values()]
    with reading(engine) as conn:
        found = _Arrays(conn, filters, "", wanted)
        registered = conn.execute(select(arrays.c.name).where(arrays.c.month_index == REGISTRY_MONTH)).scalars()
        registered = list(registered)
    # The codes are places among the sorted ids of the region (sector) masks written with them.
    ids = {p: sorted(n.split(":", 1)[1] for n in registered if n.startswith(f"{p}:")) for p in GROUP_CODES}
    shape = (len(ids["region"]), len(ids["sector"]))
    if found.size is None:
        return CellTotals(ids["region"], ids["sector"], np.zeros(shape, dtype=bool), {})
    region, sector = (found.at(REGISTRY_MONTH, GROUP_CODES[p]).astype("int64") for p in ("region", "sector"))
    reported = found.at(hi, "last_report")
    keep = np.flatnonzero(found.chosen & (reported >= _since(first)) & (region >= 0) & (sector >= 0))
    cells = region[keep] * shape[1] + sector[keep]
    size = shape[0] * shape[1]

    def total(values: np.ndarray) -> np.ndarray:
        return np.bincount(cells, weights=values, minlength=size).round().astype("int64").reshape(shape)

    sums = {}
    for name in columns:
        values = found.at(hi, name)[keep].astype("float64")
        if name.startswith("cum_") and lo is not None:
            values -= found.at(lo, name)[keep]
        sums[name] = total(values)
    sums["reporting"] = total((reported[keep] == hi).astype("float64"))
    present = np.bincount(cells, minlength=size).reshape(shape) > 0
    return CellTotals(ids["region"], ids["sector"], present, sums)


def _since(first: date | None) -> int:
    """The lowest last_* value of a report in the range (a month index; -1 is "never")."""
    return 0 if first is None else month_index(first)


class _Arrays:
    """The `wanted` (month index, column) arrays, each padded to every partnership number, and
    `chosen`: which numbers are within the filters (the registry's region and sector arrays; the
    partnership filter and the search by their numbers from SQL) and, with `gjc`, grant-supported."""

    def __init__(self, conn, filters: Filters, search: str, wanted: list[tuple[int, str]], gjc: bool = False):
        masks = [f"region:{r}" for r in filters.regions] + [f"sector:{s}" for s in filters.sectors]
        masks += ["gjc"] if gjc else []
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
        numbers = _chosen_numbers(conn, filters, search)
        if numbers is not None:
            picked = np.zeros(self.size, dtype=bool)
            picked[numbers[numbers < self.size]] = True
            self.chosen &= picked

    def at(self, month: int, name: str) -> np.ndarray:
        # (no array: the month is before the store's first, where every sum is 0; a region or
        # sector without partnerships)
        return padded(self.found.get((month, name), np.array([], dtype="int64")), self.size, name)


def places(values: np.ndarray, ties: np.ndarray | None, descending: bool, start: int, stop: int) -> np.ndarray | None:
    """Positions (into `values`) of places start..stop in order: by value (NaN last, either way),
    ties by `ties` ascending. Only the candidates up to place `stop` are sorted. `ties` None: None
    when two candidates share a value (the caller reads the tie order then, _tie_order)."""
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


def candidates(values: np.ndarray, descending: bool, stop: int) -> np.ndarray:
    """Positions (into `values`) of every value that can hold one of places 0..stop, ties
    included: what places sorts."""
    return _candidates(_sort_key(values, descending), stop)


def _sort_key(values: np.ndarray, descending: bool) -> np.ndarray:
    """Ascending sort keys: the values (negated when descending), NaN as inf (last either way)."""
    key = -values if descending else values.copy()
    key[np.isnan(key)] = np.inf
    return key


def _candidates(key: np.ndarray, stop: int) -> np.ndarray:
    if stop >= len(key):
        return np.arange(len(key))
    kth = np.partition(key, stop - 1)[stop - 1]
    return np.flatnonzero(key <= kth)


def _chosen_numbers(conn, filters: Filters, search: str) -> np.ndarray | None:
    """The numbers of the partnerships chosen by the partnership filter and matching the search
    (None: neither is set)."""
    conds = []
    if filters.partnerships:
        conds.append(partnerships.c.rsp_id.in_(filters.partnerships))
    if search.strip():
        conds.append(contains((partnerships.c.name, partnerships.c.rsp_id), search))
    if not conds:
        return None
    numbers = conn.execute(select(partnerships.c.number).where(*conds)).scalars().all()
    return np.array(numbers, dtype="int64")


# PostgreSQL: one statement whatever is wanted, the (month, name) pairs as two array parameters
# (compiling the UNION below for each call, with its IN lists rendered, was 1.5 ms of a call).
PG_READ = (
    "SELECT a.month_index, a.name, a.dtype, a.data FROM unnest(%s::integer[], %s::text[]) AS w(m, n) "
    f"JOIN {arrays.name} AS a ON a.month_index = w.m AND a.name = w.n"
)


def _read(conn, wanted: list[tuple[int, str]]) -> dict[tuple[int, str], np.ndarray]:
    pairs = list(dict.fromkeys(wanted))
    if conn.dialect.name == "postgresql":
        # In binary: psycopg reads results as text by default, bytea as hex (twice the bytes, and
        # decoded): 1.2 MB of arrays took 12 ms that way, 4.8 ms in binary (median of 20, 10M).
        months, names = [int(m) for m, _ in pairs], [n for _, n in pairs]
        with conn.connection.driver_connection.cursor(binary=True) as cursor:
            rows = cursor.execute(PG_READ, (months, names)).fetchall()
        return {(int(m), name): unpack(dtype, data) for m, name, dtype, data in rows}
    by_month: dict[int, list[str]] = {}
    for month, name in pairs:
        by_month.setdefault(month, []).append(name)
    # One SELECT per month, joined by UNION ALL. (m1 AND name IN …) OR (m2 AND name IN …) is what
    # this asks, but SQLite 3.40's multi-index OR plan returned only the first month's arrays once
    # the second list held ten names or so: the registry's region masks went missing.
    stmt = union_all(
        *[
            select(arrays.c.month_index, arrays.c.name, arrays.c.dtype, arrays.c.data).where(
                arrays.c.month_index == m, arrays.c.name.in_(sorted(set(n)))
            )
            for m, n in by_month.items()
        ]
    )
    rows = conn.execute(stmt).all()
    return {(int(m), name): unpack(dtype, data) for m, name, dtype, data in rows}

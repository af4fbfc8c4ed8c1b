"""Derived tables (rollup_cells, running_totals, running_arrays; see rsp_data/schema.py) kept in step
with the facts: every write calls :func:`refresh` with the (partnership, month) keys it touched, in the
same transaction, or :func:`rebuild_all`; :func:`check` compares every derived table with the facts."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Date, Integer, case, cast, delete, func, insert, literal, select, union_all, update
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from rsp_data import schema
from rsp_data.metrics import CARRY, OPTIONAL_KEYS, STOCK_SUMS, STORED_KEYS, SUMS, Sum, carried
from rsp_data.months import as_date, shift
from rsp_data.schema import (
    ARRAY_COLUMNS,
    FLOAT_RUNNING,
    GROUP_CODES,
    ID_RANK,
    KEY_BITS,
    LAST_COLUMNS,
    MAX_PARTNERSHIPS,
    REGISTRY_MONTH,
    RUNNING_COLUMNS,
    index_month,
    month_index,
    running_key,
    running_month,
)

facts = schema.monthly_metrics
partnerships = schema.partnerships
cells = schema.rollup_cells
running = schema.running_totals
arrays = schema.running_arrays
batches = schema.import_batches

CHUNK = 500  # partnerships or months per statement: well under every driver's bound-parameter limit
GRAINS = ("cell", "region", "sector", "all")
FILLED = (*STOCK_SUMS, *LAST_COLUMNS)  # running columns holding the latest report so far
CELL_SUMS = tuple(c.name for c in cells.c if c.name not in ("grain", "month", "region_id", "sector_id", "gjc"))


def _chunks(items: list, size: int = CHUNK):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _frame(conn: Connection, stmt) -> pd.DataFrame:
    result = conn.execute(stmt)
    return pd.DataFrame([tuple(r) for r in result], columns=list(result.keys()))


# --- rollup_cells ---------------------------------------------------------------------------


def sum_value(spec: Sum, table):
    """A Sum's value in one fact row of `table`, to be summed (0 where it was not reported)."""
    value = literal(1) if spec.count else table.c[spec.source]
    if spec.weight:
        value = value * table.c[spec.weight]
    if spec.when:
        value = case((table.c[spec.when].isnot(None), value), else_=0)
    return value


class month_after(FunctionElement):
    """month_after(month column, n): the month n months later, as the column stores it."""

    type = Date()
    name = "month_after"
    inherit_cache = True


@compiles(month_after)
def _month_after_default(element, compiler, **kw):
    month, n = (compiler.process(c, **kw) for c in element.clauses)
    return f"CAST({month} + make_interval(0, {n}) AS DATE)"


@compiles(month_after, "sqlite")
def _month_after_sqlite(element, compiler, **kw):
    month, n = (compiler.process(c, **kw) for c in element.clauses)
    return f"date({month}, '+' || {n} || ' months')"  # (SQLAlchemy stores a Date as ISO text, as date() gives)


def carry_value(spec: Sum, table, months: int):
    """A stock Sum's value in one fact row of `table` (the facts) when its partnership reported none of the
    `months` months after it: what the row adds to the stock of that later month (metrics.carried); NULL (no ELSE)
    otherwise, which every reader sums as 0."""
    later = facts.alias()
    newer = (
        later.select()
        .where(
            later.c.rsp_id == table.c.rsp_id,
            later.c.month > table.c.month,
            later.c.month <= month_after(table.c.month, cast(literal(months), Integer)),
        )
        .exists()
    )
    return case((~newer, sum_value(spec, table)))


def cell_months(touched: Iterable[date]) -> list[date]:
    """The months whose cells change when facts of `touched` months are written: their own, and the CARRY
    months before each (whether an earlier report is carried depends on the later months' reports)."""
    return sorted({shift(m, -k) for m in touched for k in range(CARRY + 1)})


# Fact rows with their stored values and each flow Sum's value (a plain sum's is its stored value).
FACT_TERMS = select(
    facts.c.rsp_id,
    facts.c.month,
    *[facts.c[m] for m in STORED_KEYS],
    *[sum_value(s, facts).label(s.name) for s in SUMS if not s.stock and s.name not in STORED_KEYS],
)


def _cell_select(months: list[date] | None):
    """The cell grain aggregated from the facts (of `months`, or of every month when None)."""
    values = [(s.name, sum_value(s, facts)) for s in SUMS] + [
        (carried(s.name, k), carry_value(s, facts, k)) for s in SUMS if s.stock for k in range(1, CARRY + 1)
    ]
    stmt = (
        select(
            literal("cell").label("grain"),
            facts.c.month,
            partnerships.c.region_id,
            partnerships.c.sector_id,
            partnerships.c.gjc_supported.label("gjc"),
            func.count().label("reporting"),
            func.sum(case((batches.c.kind == "demo", 1), else_=0)).label("demo_rows"),
            *[func.coalesce(func.sum(value), 0).label(name) for name, value in values],
        )
        .select_from(facts.join(partnerships).join(batches))  # (on their foreign keys)
        .group_by(facts.c.month, partnerships.c.region_id, partnerships.c.sector_id, partnerships.c.gjc_supported)
    )
    return stmt if months is None else stmt.where(facts.c.month.in_(months))


def _coarser_select(grain: str, source=cells, months: list[date] | None = None):
    """A coarser grain summed from the cell grain of `source` (rollup_cells, or a fresh cell select)."""
    region = source.c.region_id if grain == "region" else literal("")
    sector = source.c.sector_id if grain == "sector" else literal("")
    own = [source.c[f"{grain}_id"]] if grain in ("region", "sector") else []
    stmt = (
        select(
            literal(grain).label("grain"),
            source.c.month,
            region.label("region_id"),
            sector.label("sector_id"),
            source.c.gjc,
            *[func.sum(source.c[c]).label(c) for c in CELL_SUMS],
        )
        .where(source.c.grain == "cell")
        .group_by(source.c.month, source.c.gjc, *own)
    )
    return stmt if months is None else stmt.where(source.c.month.in_(months))


def _refresh_cells(conn: Connection, months: list[date] | None) -> None:
    columns = ["grain", "month", "region_id", "sector_id", "gjc", *CELL_SUMS]
    groups = [None] if months is None else list(_chunks(sorted(months)))
    for chunk in groups:
        conn.execute(delete(cells) if chunk is None else delete(cells).where(cells.c.month.in_(chunk)))
        conn.execute(insert(cells).from_select(columns, _cell_select(chunk)))
        for grain in GRAINS[1:]:
            conn.execute(insert(cells).from_select(columns, _coarser_select(grain, months=chunk)))


# --- running_totals -------------------------------------------------------------------------


def _running_months(conn: Connection) -> range:
    """The month indexes running_totals holds (the key's high part: its minimum and maximum are probes)."""
    low, top = conn.execute(select(func.min(running.c.k), func.max(running.c.k))).one()
    return range(0) if low is None else range(int(low) >> KEY_BITS, (int(top) >> KEY_BITS) + 1)


def _last_fact_month(conn: Connection) -> int | None:
    last = as_date(conn.execute(select(func.max(facts.c.month))).scalar())
    return None if last is None else month_index(last)


def _extend(conn: Connection, old_last: int | None, new_last: int | None) -> None:
    """Carry every partnership's running sums forward to the store's new last month index (or trim)."""
    if new_last is None:
        conn.execute(delete(running))
        return
    if old_last is None:
        return
    if new_last < old_last:
        conn.execute(delete(running).where(running.c.k >= running_key(new_last + 1)))
        return
    kept = [c.name for c in running.c if c.name not in ("k", "month")]  # sums, stocks and latest reports
    for index in range(old_last + 1, new_last + 1):
        conn.execute(
            insert(running).from_select(
                ["k", "month", *kept],
                select(
                    running.c.k + (1 << KEY_BITS),
                    literal(index_month(index), type_=running.c.month.type),
                    *[running.c[c] for c in kept],
                ).where(*running_month(running, index - 1)),
            )
        )


def _partnership_keys(conn: Connection, ids: list[str]) -> pd.DataFrame:
    keys = [partnerships.c[c] for c in ("rsp_id", "number", "region_id", "sector_id")]
    return _frame(conn, select(*keys, partnerships.c.gjc_supported.label("gjc")).where(partnerships.c.rsp_id.in_(ids)))


def running_rows(
    fact_rows: pd.DataFrame, before: pd.DataFrame, keys: pd.DataFrame, start: int, last: int
) -> pd.DataFrame:
    """Running rows from month index `start` to `last` for the partnerships in `keys`, from their facts
    since `start` (FACT_TERMS) and their running rows at `start - 1` (`before`): from `start` where they
    have one, else from their first fact."""
    numbers = fact_rows.columns.drop(["rsp_id", "month_index"])
    f = fact_rows.astype({c: "float64" for c in numbers})  # NULLs as NaN, whatever the driver returned
    f["months_reported"] = 1
    f["last_report"] = f["month_index"].astype("float64")
    for m in OPTIONAL_KEYS:
        f[f"last_{m}"] = f["month_index"].astype("float64").where(f[m].notna())
    begin = f.groupby("rsp_id")["month_index"].min()
    begin = begin.reindex(keys["rsp_id"])
    begin[begin.index.isin(before["rsp_id"])] = start
    begin = begin.dropna().astype("int64")
    if begin.empty:
        return pd.DataFrame()
    lengths = last - begin.to_numpy() + 1
    grid = pd.DataFrame(
        {
            "rsp_id": np.repeat(begin.index.to_numpy(), lengths),
            "month_index": np.concatenate([np.arange(b, last + 1) for b in begin.to_numpy()]),
        }
    )
    grid = grid.merge(f, on=["rsp_id", "month_index"], how="left")
    for c in RUNNING_COLUMNS:
        grid[c] = grid[c].fillna(0)
        grid[f"cum_{c}"] = grid.groupby("rsp_id")[c].cumsum()
    for c in FILLED:  # the latest report so far: carried forward within each partnership
        grid[c] = grid.groupby("rsp_id")[c].ffill()
    if not before.empty:
        base = grid[["rsp_id"]].merge(before, on="rsp_id", how="left")
        for c in RUNNING_COLUMNS:
            grid[f"cum_{c}"] = grid[f"cum_{c}"] + base[f"cum_{c}"].fillna(0).to_numpy()
        for c in FILLED:
            grid[c] = grid[c].fillna(pd.to_numeric(base[c]).astype("float64").set_axis(grid.index))
    grid = grid.merge(keys, on="rsp_id", how="left")
    grid["month"] = grid["month_index"].map(index_month)
    grid["k"] = (grid["month_index"].to_numpy(dtype="int64") << KEY_BITS) + grid["number"].to_numpy(dtype="int64")
    out = grid[[c.name for c in running.c]]
    out = out.astype({f"cum_{c}": ("float64" if c in FLOAT_RUNNING else "int64") for c in RUNNING_COLUMNS})
    return out.astype(dict.fromkeys(FILLED, "Int64"))


def _refresh_running(
    conn: Connection, starts: dict[str, date], last_index: int | None, log=None, emptied: bool = False
) -> None:
    """Recompute the running rows of each partnership from its start month on, to month `last_index`."""
    if last_index is None:
        return
    by_start: dict[date, list[str]] = defaultdict(list)
    for rsp_id, month in starts.items():
        by_start[month].append(rsp_id)
    carried = [running.c[f"cum_{c}"] for c in RUNNING_COLUMNS] + [running.c[c] for c in FILLED]
    done = 0
    for start, ids in sorted(by_start.items()):
        start_index = month_index(start)
        for chunk in _chunks(sorted(ids)):
            keys = _partnership_keys(conn, chunk)
            numbers = [int(n) for n in keys["number"]]
            fact_rows = _frame(conn, FACT_TERMS.where(facts.c.rsp_id.in_(chunk), facts.c.month >= start))
            fact_rows["month_index"] = [month_index(as_date(m)) for m in fact_rows.pop("month")]
            prior_keys = [running_key(start_index - 1, n) for n in numbers]
            before = _frame(conn, select(running.c.rsp_id, *carried).where(running.c.k.in_(prior_keys)))
            if not emptied:  # (rebuild_all emptied the table: nothing to delete, no scan per chunk)
                old = [running_key(i, n) for i in range(start_index, last_index + 1) for n in numbers]
                for part in _chunks(old, 5000):
                    conn.execute(delete(running).where(running.c.k.in_(part)))
            new = running_rows(fact_rows, before, keys, start_index, last_index)
            if not new.empty:
                bulk_insert(conn, running, new)
            done += len(chunk)
            if log is not None and (done // CHUNK) % 20 == 0:
                log(f"  running totals: {done:,} of {len(starts):,} partnerships")


def bulk_insert(conn: Connection, table, df: pd.DataFrame) -> None:
    """Insert a frame's rows in bulk (PostgreSQL: COPY; SQLite: the driver's executemany); NaN and NA as NULL."""
    if df.empty:
        return
    df = df.astype(object).where(df.notna(), None)
    cols = list(df.columns)
    if conn.dialect.name == "postgresql":
        names = ", ".join(f'"{c}"' for c in cols)
        with conn.connection.cursor() as cur, cur.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
            for row in df.itertuples(index=False, name=None):
                copy.write_row(row)
        return
    if conn.dialect.name != "sqlite":
        conn.execute(insert(table), df.to_dict("records"))
        return
    # What SQLAlchemy's SQLite types store: dates as ISO text, booleans as 0/1.
    for c in cols:
        kind = type(table.c[c].type).__name__
        if kind == "Date":
            df[c] = [None if v is None else v.isoformat() for v in df[c]]
        elif kind == "Boolean":
            df[c] = [None if v is None else int(bool(v)) for v in df[c]]
    sql = f"INSERT INTO {table.name} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
    conn.exec_driver_sql(sql, list(df.itertuples(index=False, name=None)))


# --- running_arrays -------------------------------------------------------------------------


def pack(values: np.ndarray, exact_float: bool = False) -> tuple[str, bytes]:
    """(dtype, bytes) of an array: whole numbers in the smallest signed integer type that holds
    them, else (or `exact_float`) 8-byte floats."""
    if not exact_float and len(values) and np.array_equal(values, np.trunc(values)):
        low, high = values.min(), values.max()
        for dtype in map(np.dtype, ("<i1", "<i2", "<i4", "<i8")):
            info = np.iinfo(dtype)
            if info.min <= low and high <= info.max:
                return dtype.str, values.astype(dtype).tobytes()
    return np.dtype("<f8").str, values.astype("<f8").tobytes()


def unpack(dtype: str, data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype=np.dtype(dtype))


def array_fill(name: str) -> int:
    """What an array holds for a partnership without a running row that month."""
    return -1 if name in LAST_COLUMNS or name in (ID_RANK, *GROUP_CODES.values()) else 0


def padded(values: np.ndarray, size: int, name: str) -> np.ndarray:
    """`values` as `size` entries: a month's arrays end at the highest number registered when they
    were written; later partnerships had no running row then."""
    if len(values) >= size:
        return values[:size]
    return np.concatenate([values, np.full(size - len(values), array_fill(name), dtype=values.dtype)])


def month_arrays(conn: Connection, index: int, size: int, numbers: list[int] | None = None) -> dict | None:
    """Each ARRAY_COLUMNS column of month `index`'s running rows, as an array of `size` indexed by
    partnership number (array_fill where there is no row or a NULL). With `numbers`: the stored
    arrays with only these partnerships' entries rewritten (None when the month lacks an array)."""
    named = {name: np.full(size, float(array_fill(name))) for name in ARRAY_COLUMNS}
    where = running_month(running, index)
    if numbers is not None:  # an old correction does not read every partnership's rows again
        found = conn.execute(select(arrays.c.name, arrays.c.dtype, arrays.c.data).where(arrays.c.month_index == index))
        stored = {name: unpack(dtype, data) for name, dtype, data in found}
        if set(stored) != set(ARRAY_COLUMNS):
            return None
        for name in ARRAY_COLUMNS:
            named[name] = padded(stored[name], size, name).astype("float64")
            named[name][numbers] = float(array_fill(name))
        where = [running.c.k.in_([running_key(index, n) for n in numbers])]
    rows = conn.execute(select(running.c.k, *[running.c[c] for c in ARRAY_COLUMNS]).where(*where))
    # (plain tuples: numpy probes Row objects for array attributes)
    table = np.array([tuple(r) for r in rows], dtype="float64").reshape(-1, len(ARRAY_COLUMNS) + 1)  # NULL -> NaN
    rows_numbers = table[:, 0].astype("int64") & MAX_PARTNERSHIPS
    for j, name in enumerate(ARRAY_COLUMNS, start=1):
        named[name][rows_numbers] = np.nan_to_num(table[:, j], nan=float(array_fill(name)))
    return named


def registry_arrays(conn: Connection) -> dict[str, np.ndarray]:
    """The registry as arrays over partnership numbers, so that a ranking's filters are masks: id_rank,
    each number's place in rsp_id order as the database sorts them (the SQL rankings' tie order); 1 where
    grant-supported ("gjc"), in a region ("region:<id>") or sector ("sector:<id>"); each number's region
    (sector) as its place among the sorted ids (schema.GROUP_CODES). -1 for unused numbers."""
    numbers = conn.execute(select(partnerships.c.number).order_by(partnerships.c.rsp_id)).scalars().all()
    rank = np.full(max(numbers, default=0) + 1, -1, dtype="int64")
    rank[numbers] = np.arange(len(numbers))
    registered = _frame(conn, select(partnerships.c.number, partnerships.c.region_id, partnerships.c.sector_id))
    gjc = conn.execute(select(partnerships.c.number).where(partnerships.c.gjc_supported)).scalars().all()
    out = {ID_RANK: rank, "gjc": np.zeros(len(rank), dtype="int64")}
    out["gjc"][gjc] = 1
    for prefix, code_name in GROUP_CODES.items():
        place, ids = pd.factorize(registered[f"{prefix}_id"], sort=True)
        out[code_name] = np.full(len(rank), -1, dtype="int64")
        out[code_name][registered["number"].to_numpy(dtype="int64")] = place
        for i, group_id in enumerate(ids):
            out[f"{prefix}:{group_id}"] = (out[code_name] == i).astype("int64")
    return out


def _write_arrays(conn: Connection, index: int, named: dict[str, np.ndarray]) -> None:
    conn.execute(delete(arrays).where(arrays.c.month_index == index))
    rows = []
    for name, values in named.items():
        dtype, data = pack(values, exact_float=name.removeprefix("cum_") in FLOAT_RUNNING)
        rows.append({"month_index": index, "name": name, "dtype": dtype, "data": data})
    if rows:
        conn.execute(insert(arrays), rows)


PATCH_LIMIT = 2000  # changed partnerships up to which a month's arrays are patched, not built whole


def _refresh_arrays(
    conn: Connection, first: int, last: int | None, log=None, *, patch: tuple[int, list[int]] | None = None
) -> None:
    """Rewrite the arrays of months `first`..`last` (none when `first` is later) and the registry's; drop those
    after `last` (None: no months, no arrays). `patch` (up to month, numbers): those months changed only for these
    numbers."""
    if last is None:
        conn.execute(delete(arrays))
        return
    conn.execute(delete(arrays).where(arrays.c.month_index > last))
    size = refresh_registry_arrays(conn)
    for index in range(first, last + 1):
        named = None
        if patch is not None and index <= patch[0]:
            named = month_arrays(conn, index, size, patch[1])
        _write_arrays(conn, index, named or month_arrays(conn, index, size))
        if log is not None and (index - first) % 60 == 59:
            log(f"  running arrays: {index - first + 1} of {last - first + 1} months")


def refresh_all_arrays(conn: Connection, log=None) -> None:
    """Rewrite every month's arrays and the registry's from running_totals (after a rebuild of
    it, or a migration that adds an array column: the running rows stay as they are)."""
    months = _running_months(conn)
    conn.execute(delete(arrays))
    if months:
        _refresh_arrays(conn, months[0], months[-1], log)


def refresh_registry_arrays(conn: Connection) -> int:
    """Rewrite the registry's arrays (a store with no months has none); returns their length."""
    registered = registry_arrays(conn)
    _write_arrays(conn, REGISTRY_MONTH, registered if _running_months(conn) else {})
    return len(registered[ID_RANK])


def _check_arrays(conn: Connection) -> list[str]:
    found = conn.execute(select(arrays.c.month_index, arrays.c.name, arrays.c.dtype, arrays.c.data))
    stored = {(int(m), name): unpack(dtype, data) for m, name, dtype, data in found}
    months = _running_months(conn)
    expected: dict[tuple[int, str], np.ndarray] = {}
    if months:
        registered = registry_arrays(conn)
        expected.update({(REGISTRY_MONTH, name): values for name, values in registered.items()})
        for index in months:
            for name, values in month_arrays(conn, index, len(registered[ID_RANK])).items():
                expected[(index, name)] = values
    problems = []
    if set(stored) != set(expected):
        problems.append(f"running_arrays: {len(set(stored) ^ set(expected))} arrays missing or extra")
    differ = [
        key
        for key in set(stored) & set(expected)
        if len(stored[key]) > len(expected[key])
        or not np.array_equal(padded(stored[key], len(expected[key]), key[1]), expected[key])
    ]
    if differ:
        problems.append(f"running_arrays: {len(differ)} arrays differ, e.g. {sorted(differ)[0]}")
    return problems


# --- entry points ---------------------------------------------------------------------------


def refresh(conn: Connection, touched: Iterable[tuple[str, date]]) -> None:
    """Bring every rollup in step after the facts at these (rsp_id, month) keys were written."""
    touched = sorted(touched, reverse=True)
    starts = dict(touched)  # each partnership's earliest month: the last of its keys, in this order
    if not starts:
        return
    _refresh_cells(conn, cell_months({month for _, month in touched}))
    old_months, new_last = _running_months(conn), _last_fact_month(conn)
    old_last = old_months[-1] if old_months else None
    _extend(conn, old_last, new_last)
    _refresh_running(conn, starts, new_last)
    # The months whose running rows changed: from the earliest touched one, and those _extend added.
    first = min(month_index(m) for m in starts.values())
    if old_last is not None:
        first = min(first, old_last + 1)
    # The months that existed before changed only for the written partnerships: those are patched.
    patch = None
    if old_last is not None and len(starts) <= PATCH_LIMIT:
        numbers = [int(n) for n in _partnership_keys(conn, sorted(starts))["number"]]
        patch = (old_last, numbers)
    _refresh_arrays(conn, first, new_last, patch=patch)


def rebuild_all(conn: Connection, log=None) -> None:
    """Recompute every rollup from the facts (migrations, registry changes, bulk loads)."""
    _refresh_cells(conn, None)
    if log is not None:
        log("  rollup cells: done")
    conn.execute(delete(running))
    # One start for all (a partnership with no running row before starts at its own first fact): one pass.
    first = as_date(conn.execute(select(func.min(facts.c.month))).scalar())
    ids = [row[0] for row in conn.execute(select(partnerships.c.rsp_id))]
    starts = {rsp_id: first for rsp_id in ids} if first is not None else {}
    _refresh_running(conn, starts, _last_fact_month(conn), log, emptied=True)
    refresh_all_arrays(conn, log)
    recount_batches(conn, [row[0] for row in conn.execute(select(batches.c.batch_id))])


def recount_batches(conn: Connection, batch_ids: Iterable[int]) -> None:
    """Set rows_held of these batches to the fact rows that carry their id now."""
    for batch_id in sorted({b for b in batch_ids if b is not None}):
        held = conn.execute(select(func.count()).select_from(facts).where(facts.c.batch_id == batch_id)).scalar_one()
        conn.execute(update(batches).where(batches.c.batch_id == batch_id).values(rows_held=held))


def store_in_key_order(conn: Connection) -> None:
    """After a rebuild: one month's rows together on disk (PostgreSQL's CLUSTER; SQLite keeps key order
    by itself), and fresh planner statistics."""
    if conn.dialect.name == "postgresql":
        for table in (running.name, cells.name, arrays.name):  # fixed names, not input
            conn.exec_driver_sql(f"CLUSTER {table} USING {table}_pkey")
            conn.exec_driver_sql(f"ANALYZE {table}")
    else:
        conn.exec_driver_sql("ANALYZE")


def compact(engine) -> None:
    """After a bulk build, outside any transaction: SQLite's VACUUM puts the pages in key order (the build
    wrote partnership by partnership); PostgreSQL's VACUUM ANALYZE makes counts index-only scans."""
    statement = {"sqlite": "VACUUM", "postgresql": "VACUUM ANALYZE"}.get(engine.dialect.name)
    if statement is not None:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql(statement)


def check(conn: Connection) -> list[str]:
    """Differences between the stored rollups and a fresh computation (empty when in step), for the
    tests and `python -m rsp_data check-rollups`."""
    key = ["grain", "month", "region_id", "sector_id", "gjc"]
    stored = _frame(conn, select(*[cells.c[c] for c in (*key, *CELL_SUMS)]))
    fresh_cells = _cell_select(None).cte("fresh_cells")
    fresh = _frame(conn, union_all(select(fresh_cells), *[_coarser_select(g, fresh_cells) for g in GRAINS[1:]]))
    for df in (stored, fresh):
        df["month"] = df["month"].astype(str)
        df["gjc"] = df["gjc"].astype(bool)
    problems = _differences("rollup_cells", stored, fresh, key, CELL_SUMS, matched_only=True)
    return problems + _check_running(conn) + _check_arrays(conn)


def _differences(table: str, stored, fresh, key: list[str], columns, matched_only: bool = False) -> list[str]:
    """The rows missing on either side, and per column the rows whose numbers differ (NULL as -1)."""
    both = stored.merge(fresh, on=key, how="outer", suffixes=("_stored", "_fresh"), indicator=True)
    unmatched = int((both["_merge"] != "both").sum())
    problems = [f"{table}: {unmatched} rows missing or extra"] if unmatched else []
    if matched_only:
        both = both[both["_merge"] == "both"]
    for c in columns:
        a = pd.to_numeric(both[f"{c}_stored"]).astype("float64").fillna(-1)
        b = pd.to_numeric(both[f"{c}_fresh"]).astype("float64").fillna(-1)
        if not np.isclose(a, b).all():
            problems.append(f"{table}.{c}: {int((~np.isclose(a, b)).sum())} rows differ")
    return problems


def _check_running(conn: Connection) -> list[str]:
    fact_rows = _frame(conn, FACT_TERMS)
    stored = _frame(conn, select(running))
    if fact_rows.empty:
        return [] if stored.empty else [f"running_totals: {len(stored)} rows but no facts"]
    fact_rows["month_index"] = [month_index(as_date(m)) for m in fact_rows.pop("month")]
    keys = _partnership_keys(conn, sorted(fact_rows["rsp_id"].unique()))
    first, last = fact_rows["month_index"].min(), fact_rows["month_index"].max()
    fresh = running_rows(fact_rows, pd.DataFrame(columns=["rsp_id"]), keys, first, last)
    stored["month"] = stored["month"].map(as_date)
    columns = ["k", *[f"cum_{c}" for c in RUNNING_COLUMNS], *FILLED]
    return _differences("running_totals", stored, fresh, ["month", "rsp_id"], columns)

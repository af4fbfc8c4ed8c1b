"""Quality of the jobs and reach of the programmes: the optional metrics within the filters.

Read from the rollups with SQL aggregates, never the whole fact table and never one row per
partnership into pandas (issue 4: 10 million monthly rows):

- sums (and the rows that reported each metric) from ``rollup_cells`` at the grain the filters
  and the grouping need, over the months in range;
- how many partnerships had data, and reported each metric: counted over ``running_arrays``'
  last_* arrays at the range's last month (their latest reports on or after its first);
- by partnership: the leaders ranked from ``running_arrays`` (queries/ranking.py), their sums
  from their ``running_totals`` rows by primary key, plus one "All other …" row from the totals.

Aggregation follows the data dictionary (rsp_data/metrics.py):

- average starting wage: Σ(wage × placements) ÷ Σ placements over the rows that reported a wage,
  never a mean of means;
- share of placements without a bachelor's requirement: Σ placements_no_bachelor ÷ Σ placements
  of the partnership-months that reported it (the rollups' ``no_bachelor_share_base``);
- work-based learning started, under-represented trainees: sums.

A metric no row in the filters reported has 0 in its ``*_rows`` count: the page hides it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
from sqlalchemy import Engine, case, func, select

from queries import ranking
from queries._base import (
    HI,
    LO,
    Bind,
    among,
    as_date,
    conditions,
    facts_join,
    frame,
    month_key,
    month_label,
    month_to_date,
    one_connection,
    ratio,
    raw_month,
    reading,
    reported_since,
    running_conditions,
    running_earlier,
)
from queries.filters import Filters
from queries.metrics import CELL_KEYS, cell_conditions, grain_for
from rsp_data.metrics import FLOW, METRICS
from rsp_data.schema import (
    KEY_BITS,
    OPTIONAL_COLUMNS,
    index_month,
    partnerships,
    regions,
    rollup_cells,
    sectors,
)
from rsp_data.schema import monthly_metrics as facts
from rsp_data.schema import running_totals as running

OPTIONAL_COUNT_COLUMNS = tuple(m for m in OPTIONAL_COLUMNS if METRICS[m].kind == FLOW)
SUMS = (
    "trainees_enrolled",
    "placements",
    *OPTIONAL_COUNT_COLUMNS,
    "avg_starting_wage_weighted",
    "avg_starting_wage_weight",
    "no_bachelor_share_base",
)
ROWS = tuple(f"{m}_rows" for m in OPTIONAL_COLUMNS)
SUMMED = ("months", *SUMS, *ROWS)
OTHERS = "others"  # group_id of the "All other partnerships" row


def grain(filters: Filters) -> str:
    """The rollup_cells grain that covers the region and sector filters."""
    return grain_for(filters)


def _month_before(month: date) -> date:
    return date(month.year - (month.month == 1), 12 if month.month == 1 else month.month - 1, 1)


@dataclass(frozen=True)
class _Range:
    """The filtered months as running_totals sees them: totals are running(last) − running(before)
    (before None: nothing to subtract, the range starts at or before the store's first month)."""

    first: date | None
    last: date
    before: date | None
    start: date  # the store's first month

    def starting(self, first: date) -> _Range:
        """The same range from `first` on."""
        return _Range(first, self.last, _month_before(first) if first > self.start else None, self.start)


def _range(engine: Bind, filters: Filters) -> _Range | None:
    """None when no month of the store is in range."""
    # Two scalar subqueries: each is one probe of the key, whose high part is the month (min and
    # max together would scan).
    stmt = select(select(func.min(running.c.k)).scalar_subquery(), select(func.max(running.c.k)).scalar_subquery())
    with reading(engine) as conn:
        low, high = conn.execute(stmt).one()
    if high is None:
        return None
    lo, hi = (index_month(int(v) >> KEY_BITS) for v in (low, high))
    last = min(hi, month_to_date(filters.month_to)) if filters.month_to else hi
    first = month_to_date(filters.month_from) if filters.month_from else None
    if last < lo or (first is not None and first > last):
        return None
    before = _month_before(first) if first is not None and first > lo else None
    return _Range(first, last, before, lo)


def _per_partnership(filters: Filters, rng: _Range, columns: tuple[str, ...], reported: str | None = None):
    """SELECT rsp_id, region_id, sector_id, months and `columns` over the range, one row per
    partnership with a report in it: running(last) − running(before), a pair of rows each, the
    earlier one found by key.

    `reported` (e.g. "wbl_started_rows"): only partnerships that reported it in the range, tested
    on the last month's row (its latest report of it) before the earlier row is looked up."""
    hi, lo = HI, LO

    def diff(col: str):
        if rng.before is None:
            return hi.c[f"cum_{col}"]
        return hi.c[f"cum_{col}"] - func.coalesce(lo.c[f"cum_{col}"], 0)

    source = hi
    conds = running_conditions(hi, filters, rng.last)
    if rng.before is not None:
        source = hi.outerjoin(lo, running_earlier(lo, hi, rng.last, rng.before))
        conds.append(_reported_in(hi, rng))
    if reported is not None:
        conds.append(_reported_in(hi, rng, LAST_OF[reported]))
    return (
        select(
            hi.c.rsp_id,
            hi.c.region_id,
            hi.c.sector_id,
            diff("months_reported").label("months"),
            *[diff(c).label(c) for c in columns if c != "months"],
        )
        .select_from(source)
        .where(*conds)
    )


def _reported_in(row, rng: _Range, column: str = "last_report"):
    """The partnership of a running row at the range's last month reported (the metric of the
    last_* `column`) in the range: its latest report is on or after the range's first month, or,
    when the range starts at or before the store's first month, it has reported at all."""
    return row.c[column].is_not(None) if rng.before is None else reported_since(row, rng.first, column)


# The running_totals column holding the latest report of each optional metric, by its *_rows name.
LAST_OF = {f"{m}_rows": f"last_{m}" for m in OPTIONAL_COLUMNS}


def _reporting_counts(engine: Bind, filters: Filters, rng: _Range) -> dict[str, int]:
    """How many partnerships reported in the range, and how many reported each optional metric:
    counted over running_arrays' last_* arrays at the last month (their latest reports)."""
    found = ranking.reporting_counts(
        engine,
        filters,
        first=rng.first if rng.before is not None else None,
        last=rng.last,
        columns=("last_report", *[f"last_{m}" for m in OPTIONAL_COLUMNS]),
    )
    return {"partnerships": found["last_report"], **{m: found[f"last_{m}"] for m in OPTIONAL_COLUMNS}}


def _numbers(rows: list, names: list[str]) -> pd.DataFrame:
    """A frame of these rows: whole counts as int64 (0 for NULL: a SUM over no rows), avg_starting_wage_weighted
    as float64 (PostgreSQL's NUMERIC sums arrive as Decimal), other columns as they came; built
    from numpy columns in one call (pandas' per-column conversions cost 4 ms a frame)."""
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    data = {
        name: _summed(name, values) if name in SUMMED else list(values)
        for name, values in zip(names, columns, strict=True)
    }
    return pd.DataFrame(data, columns=names)


def _floats(values) -> np.ndarray:
    """Sums as float64, 0 for NULL (a SUM over no rows); Decimal (PostgreSQL's NUMERIC) too."""
    return np.nan_to_num(np.array(values, dtype="float64"))


def _summed(name: str, values) -> np.ndarray:
    """A SUMMED column: whole counts as int64, avg_starting_wage_weighted as float64."""
    floats = _floats(values)
    return floats if name == "avg_starting_wage_weighted" else np.rint(floats).astype("int64")


def _frame_numbers(engine: Bind, stmt) -> pd.DataFrame:
    with reading(engine) as conn:
        result = conn.execute(stmt)
        columns = result.keys()
        return _numbers(result.all(), ["group_id" if c == "rsp_id" else c for c in columns])


def _sums_stmt(filters: Filters, rng: _Range, by: str | None = None):
    """SELECT [group_id,] SUMMED over the filters (one row) or per sector or region: from
    rollup_cells at the grain they need, or from the chosen partnerships' running rows."""
    if filters.partnerships:
        sub = _per_partnership(filters, rng, SUMMED).subquery()
        key = None if by is None else sub.c[f"{by}_id"]
        return select(
            *([] if key is None else [key.label("group_id")]), *[func.sum(sub.c[c]).label(c) for c in SUMMED]
        ).group_by(*([] if key is None else [key]))
    key = None if by is None else CELL_KEYS[by]
    return (
        select(
            *([] if key is None else [key.label("group_id")]),
            func.sum(rollup_cells.c.reporting).label("months"),
            *[func.sum(rollup_cells.c[c]).label(c) for c in SUMMED if c != "months"],
        )
        .where(*cell_conditions(filters, grain_for(filters, by)))
        .group_by(*([] if key is None else [key]))
    )


def _sums(engine: Bind, filters: Filters, rng: _Range, by: str | None = None) -> pd.DataFrame:
    """SUMMED over the filters (one row, group_id "all") or per sector or region (group_id), groups
    with data only (_sums_stmt)."""
    df = _frame_numbers(engine, _sums_stmt(filters, rng, by))
    if by is None:
        df.insert(0, "group_id", "all")
    return df[df["months"] > 0].reset_index(drop=True)


def add_ratios(df: pd.DataFrame) -> pd.DataFrame:
    """avg_starting_wage (placement-weighted) and no_bachelor_share from the sums of each row;
    NaN where nobody reported them."""
    return df.assign(
        avg_starting_wage=ranking.ratio(
            df["avg_starting_wage_weighted"].to_numpy(), df["avg_starting_wage_weight"].to_numpy()
        ),
        no_bachelor_share=ranking.ratio(
            df["placements_no_bachelor"].to_numpy(), df["no_bachelor_share_base"].to_numpy()
        ),
    )


def _ratio(num: float, den: float) -> float:
    return float(num) / float(den) if den > 0 else float("nan")


@one_connection
def quality_summary(engine: Bind, filters: Filters) -> dict:
    """The headline figures: avg_starting_wage, no_bachelor_share, placements_no_bachelor,
    no_bachelor_share_base, wbl_started, trainees_underrepresented, avg_starting_wage_weight, the *_rows
    counts, partnerships (with data) and reporting[metric] (partnerships that reported it)."""
    rng = _range(engine, filters)
    sums = {c: 0 for c in SUMMED} | {"avg_starting_wage_weighted": 0.0}
    counts = {"partnerships": 0, **{m: 0 for m in OPTIONAL_COLUMNS}}
    if rng is not None:
        found = _sums(engine, filters, rng)
        if len(found):
            sums = {c: found[c].iloc[0].item() for c in SUMMED}
        # Who had data, and who reported each metric: one month's rows, no pairs.
        counts = _reporting_counts(engine, filters, rng)
    out = dict(sums)
    out["avg_starting_wage"] = _ratio(sums["avg_starting_wage_weighted"], sums["avg_starting_wage_weight"])
    out["no_bachelor_share"] = _ratio(sums["placements_no_bachelor"], sums["no_bachelor_share_base"])
    out["partnerships"] = counts["partnerships"]
    out["reporting"] = {m: counts[m] for m in OPTIONAL_COLUMNS}
    return out


GROUP_TABLES = {
    "sector": (sectors, sectors.c.sector_id),
    "region": (regions, regions.c.region_id),
    "partnership": (partnerships, partnerships.c.rsp_id),
}
# What a partnership reported a measure by: the rows that reported it.
REPORTED_BY = {
    "avg_starting_wage": "avg_starting_wage_rows",
    "no_bachelor_share": "placements_no_bachelor_rows",
    **{m: f"{m}_rows" for m in OPTIONAL_COUNT_COLUMNS},
}


NAMES_BY_ID = 500  # up to this many ids, names are read by key


def _names(engine: Bind, by: str, ids: list[str] | None) -> dict[str, str]:
    """{group id: name}: of these ids, or all of a (small) sector or region table when None."""
    table, key = GROUP_TABLES[by]
    stmt = select(key, table.c.name)
    if ids is not None and len(ids) <= NAMES_BY_ID:
        stmt = stmt.where(key.in_(ids))
    with reading(engine) as conn:
        names = dict(conn.execute(stmt).all())
    # Many ids: every name, filtered here (a bound IN list that long overflows PostgreSQL's 65,535
    # parameters and SQLite's variable limit).
    return names if ids is None or len(ids) <= NAMES_BY_ID else {i: names[i] for i in ids if i in names}


def _measure(sub, metric: str):
    """The measure as SQL over a per-partnership subquery (NULL where it has no denominator)."""

    if metric == "avg_starting_wage":
        return ratio(sub.c.avg_starting_wage_weighted, sub.c.avg_starting_wage_weight)
    if metric == "no_bachelor_share":
        return ratio(sub.c.placements_no_bachelor, sub.c.no_bachelor_share_base)
    if metric in OPTIONAL_COUNT_COLUMNS:
        return sub.c[metric]
    raise ValueError(f"cannot rank by {metric!r}")


# The measures from running_arrays (queries/ranking.py), and the arrays they read.
ARRAY_NEEDS = {
    "avg_starting_wage": ("cum_avg_starting_wage_weighted", "cum_avg_starting_wage_weight"),
    "no_bachelor_share": ("cum_placements_no_bachelor", "cum_no_bachelor_share_base"),
    **{m: (f"cum_{m}",) for m in OPTIONAL_COUNT_COLUMNS},
}
ARRAY_MEASURES = {
    "avg_starting_wage": lambda get: ranking.ratio(
        get("cum_avg_starting_wage_weighted"), get("cum_avg_starting_wage_weight")
    ),
    "no_bachelor_share": lambda get: ranking.ratio(
        get("cum_placements_no_bachelor"), get("cum_no_bachelor_share_base")
    ),
    **{m: (lambda get, c=f"cum_{m}": get(c)) for m in OPTIONAL_COUNT_COLUMNS},
}

COLUMNS = ["group_id", "group_name", *SUMMED]
MEASURE_COLUMNS = {
    "avg_starting_wage": ("avg_starting_wage_weighted", "avg_starting_wage_weight", "avg_starting_wage_rows"),
    "no_bachelor_share": ("placements_no_bachelor", "no_bachelor_share_base", "placements_no_bachelor_rows"),
    **{m: (m, f"{m}_rows") for m in OPTIONAL_COUNT_COLUMNS},
}


PARTNERSHIP_COLUMNS = [*COLUMNS, "sector_id", "region_id"]


def _partnership_rows(
    engine: Bind, filters: Filters, rng: _Range, metric: str | None, limit: int | None
) -> tuple[list[tuple], int, dict[str, str] | None]:
    """(rows, count, names): per partnership over the range, from running_totals (two rows each),
    as tuples (rsp_id, region_id, sector_id, *SUMMED). With `metric`: only the partnerships that
    reported it (and have a value), the highest first, the first `limit` of them, `count` all of
    those, `names` the ranking's; else every partnership with data (names None: not read yet). The
    top `limit` ranked from running_arrays (queries/ranking.py), all of them in SQL."""
    count, name_of, ids = None, None, None
    if metric is not None:
        # Rank on the few columns the measure needs, then read the leaders' sums by primary key.
        if limit is not None:
            found = ranking.ranked(
                engine,
                filters,
                first=rng.first if rng.before is not None else None,
                last=rng.last,
                value=ARRAY_MEASURES[metric],
                needs=ARRAY_NEEDS[metric],
                limit=limit,
                reported=LAST_OF[REPORTED_BY[metric]],
                defined=True,
            )
            ids, count, name_of = found.ids, found.count, dict(zip(found.ids, found.names, strict=True))
        else:
            sub = _per_partnership(filters, rng, MEASURE_COLUMNS[metric], REPORTED_BY[metric]).subquery()
            value = _measure(sub, metric)
            where = [sub.c[REPORTED_BY[metric]] > 0, value.is_not(None)]
            with reading(engine) as conn:
                stmt = select(sub.c.rsp_id).where(*where).order_by(value.desc(), sub.c.rsp_id)
                ids = conn.execute(stmt).scalars().all()
            count = len(ids)
        if not ids:
            return [], 0, name_of
        filters = filters.with_(partnerships=tuple(ids), regions=(), sectors=())  # the ids satisfy them
    stmt = _per_partnership(filters, rng, SUMMED)
    with reading(engine) as conn:
        rows = conn.execute(stmt).all()
    if ids is None:
        return rows, len(rows), None
    place = {rsp_id: i for i, rsp_id in enumerate(ids)}
    return sorted(rows, key=lambda row: place[row[0]]), count, name_of


def _partnership_frame(rows: list[tuple], name_of: dict[str, str]) -> pd.DataFrame:
    """PARTNERSHIP_COLUMNS and the ratios of rows (group id, region_id, sector_id, *SUMMED), in
    their order: one frame built from numpy columns (frames merged, sliced and summed row by row
    were half of a call by partnership at 10 million rows)."""
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in range(3 + len(SUMMED))]
    ids, region_ids, sector_ids, *sums = columns
    data: dict[str, object] = {"group_id": list(ids), "group_name": [name_of.get(i) for i in ids]}
    for name, values in zip(SUMMED, sums, strict=True):
        data[name] = _summed(name, values)
    data["sector_id"], data["region_id"] = list(sector_ids), list(region_ids)
    data["avg_starting_wage"] = ranking.ratio(data["avg_starting_wage_weighted"], data["avg_starting_wage_weight"])
    data["no_bachelor_share"] = ranking.ratio(data["placements_no_bachelor"], data["no_bachelor_share_base"])
    return pd.DataFrame(data)


@one_connection
def quality_by(
    engine: Bind, filters: Filters, by: str, metric: str | None = None, top: int | None = None
) -> pd.DataFrame:
    """One row per sector, region or partnership with data: group_id, group_name, the sums,
    avg_starting_wage and no_bachelor_share (ratios of the group's sums), *_rows (and sector_id,
    region_id by partnership), sorted by name.

    By partnership with `metric`: only the partnerships that reported it, highest first; with
    `top`, beyond `top` of them, the top − 1 leaders (ranked from running_arrays) and one row "All
    other N partnerships" (group_id "others") holding the rest: the totals over the filters minus
    the leaders' sums, its ratios from those sums."""
    rng = _range(engine, filters)
    if by != "partnership":
        if rng is None:
            return add_ratios(pd.DataFrame(columns=COLUMNS))
        df = _sums(engine, filters, rng, by)
        name_of = _names(engine, by, None)
        df = df[df["group_id"].isin(list(name_of))]
        df.insert(1, "group_name", [name_of[i] for i in df["group_id"]])
        return add_ratios(df[COLUMNS]).sort_values("group_name", kind="stable").reset_index(drop=True)
    if rng is None:
        return add_ratios(pd.DataFrame(columns=PARTNERSHIP_COLUMNS))
    rows, count, name_of = _partnership_rows(engine, filters, rng, metric, top if metric is not None else None)
    if not rows:
        return add_ratios(pd.DataFrame(columns=PARTNERSHIP_COLUMNS))
    if name_of is None:
        name_of = _names(engine, "partnership", [row[0] for row in rows])
    if metric is None:  # by name (no name last)
        rows = sorted(rows, key=lambda row: (name_of.get(row[0]) is None, name_of.get(row[0]) or ""))
    if top is None or metric is None or count <= top:
        return _partnership_frame(rows, name_of)
    head = rows[: top - 1]
    with reading(engine) as conn:
        totals = conn.execute(_sums_stmt(filters, rng)).one()
    # The rest: the range's totals minus the leaders' (each column summed in numpy).
    rest = _floats(tuple(totals)) - _floats([row[3:] for row in head]).sum(axis=0)
    name_of = {**name_of, OTHERS: f"All other {count - len(head):,} partnerships"}
    return _partnership_frame([*head, (OTHERS, None, None, *rest.tolist())], name_of)


def quality_monthly(engine: Engine, filters: Filters) -> pd.DataFrame:
    """Each month in range: month (Timestamp), placements, avg_starting_wage_weighted, avg_starting_wage_weight,
    avg_starting_wage (weighted), wbl_started, trainees_underrepresented, placements_no_bachelor,
    *_rows. From rollup_cells at the filters' grain; from the facts (by primary key) when
    partnerships are chosen."""
    conds = []
    if filters.partnerships:
        source = facts.join(partnerships, facts.c.rsp_id == partnerships.c.rsp_id)
        month = facts.c.month
        conds.append(facts.c.rsp_id.in_(filters.partnerships))
        if filters.regions:
            conds.append(partnerships.c.region_id.in_(filters.regions))
        if filters.sectors:
            conds.append(partnerships.c.sector_id.in_(filters.sectors))
        wage_known = facts.c.avg_starting_wage.isnot(None)
        columns = [
            func.sum(facts.c.placements).label("placements"),
            func.coalesce(func.sum(facts.c.avg_starting_wage * facts.c.placements), 0.0).label(
                "avg_starting_wage_weighted"
            ),
            func.sum(case((wage_known, facts.c.placements), else_=0)).label("avg_starting_wage_weight"),
            *[func.coalesce(func.sum(facts.c[m]), 0).label(m) for m in OPTIONAL_COUNT_COLUMNS],
            *[func.count(facts.c[m]).label(f"{m}_rows") for m in OPTIONAL_COLUMNS],
        ]
    else:
        source = rollup_cells
        month = rollup_cells.c.month
        conds += cell_conditions(filters, grain(filters), months=False)
        columns = [
            func.sum(rollup_cells.c[c]).label(c)
            for c in (
                "placements",
                "avg_starting_wage_weighted",
                "avg_starting_wage_weight",
                *OPTIONAL_COUNT_COLUMNS,
                *ROWS,
            )
        ]
    if filters.month_from:
        conds.append(month >= month_to_date(filters.month_from))
    if filters.month_to:
        conds.append(month <= month_to_date(filters.month_to))
    stmt = select(month.label("month"), *columns).select_from(source).where(*conds).group_by(month).order_by(month)
    df = frame(engine, stmt)
    df["month"] = pd.to_datetime(df["month"].map(as_date))
    for c in df.columns:
        if c not in ("month", "avg_starting_wage_weighted"):
            df[c] = pd.to_numeric(df[c]).fillna(0).astype("int64")
    df["avg_starting_wage_weighted"] = pd.to_numeric(df["avg_starting_wage_weighted"]).astype("float64")
    weight = df["avg_starting_wage_weight"].astype("float64")
    df["avg_starting_wage"] = df["avg_starting_wage_weighted"] / weight.where(weight > 0)
    return df


def _month_totals(engine: Bind, filters: Filters, window: list[date]) -> np.ndarray:
    """Each month of `window`: under-represented trainees (count) and the rows that reported them
    (rows), over every partnership in the filters, as an array (2, months): rollup_cells at the
    filters' grain, or the chosen partnerships' facts by primary key."""
    if filters.partnerships:
        month = facts.c.month
        stmt = (
            select(
                raw_month(month),
                func.sum(facts.c.trainees_underrepresented).label("count"),
                func.count(facts.c.trainees_underrepresented).label("rows"),
            )
            .select_from(facts_join())
            .where(*conditions(filters, months=False), month.in_(window))
            .group_by(month)
        )
    else:
        month = rollup_cells.c.month
        stmt = (
            select(
                raw_month(month),
                func.sum(rollup_cells.c.trainees_underrepresented).label("count"),
                func.sum(rollup_cells.c.trainees_underrepresented_rows).label("rows"),
            )
            .where(*cell_conditions(filters, grain(filters), months=False), month.in_(window))
            .group_by(month)
        )
    with reading(engine) as conn:
        found = conn.execute(stmt).all()
    column_of = _month_places(window)
    totals = np.zeros((2, len(window)), dtype="float64")
    for month, count, rows in found:
        totals[:, column_of[month_key(month)]] = (float(count or 0), float(rows or 0))
    return np.rint(totals).astype("int64")


def _month_places(months: list[date]) -> dict[str, int]:
    """{ISO date: place} of `months`, looked up by month_key of a raw_month value on either store
    (SQLAlchemy's date parsing of SQLite's strings was a third of reading the leaders' months)."""
    return {month.isoformat(): j for j, month in enumerate(months)}


@one_connection
def underrepresented_by_month(
    engine: Bind, filters: Filters, months: int = 12, max_rows: int = 40
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Under-represented trainees per partnership (rows, by name) and month (columns, 'YYYY-MM'),
    over the last `months` months of the range (from the first month anybody reported it), for the
    partnerships that reported it then.

    Returns (counts, reported): exact counts (a month not reported counts 0) and whether each cell
    was reported. Beyond `max_rows` partnerships, the smallest are summed into one row
    "Other partnerships (n)", so the column totals still cover every partnership. Counts this
    small must be suppressed before they are shown (queries/suppression.py).

    Read in SQL: the leaders by their total over the window (running(last) − running(window start
    − 1), ordered and limited), their facts for the window's months (by primary key) and their names;
    the "Other" row is each month's total over the filters (rollup_cells) minus the leaders'."""
    empty = pd.DataFrame(), pd.DataFrame()
    rng = _range(engine, filters)
    if rng is None:
        return empty
    window = [rng.last]
    while len(window) < months and (rng.first is None or _month_before(window[0]) >= rng.first):
        window.insert(0, _month_before(window[0]))
    totals = _month_totals(engine, filters, window)
    if not (totals[1] > 0).any():
        return empty
    # Start at the first month anybody reported it (the range may begin before reporting did).
    first = int(np.argmax(totals[1] > 0))
    # The leaders over the window (the months cut off above hold no reports: same totals).
    with_window = rng.starting(window[0])
    window, totals = window[first:], totals[:, first:]
    found = ranking.ranked(
        engine,
        filters,
        first=with_window.first if with_window.before is not None else None,
        last=with_window.last,
        value=ARRAY_MEASURES["trainees_underrepresented"],
        needs=ARRAY_NEEDS["trainees_underrepresented"],
        limit=max_rows,
        reported="last_trainees_underrepresented",
    )
    ids, count, names = found.ids, found.count, found.names
    if not ids:
        return empty
    keep = max_rows - 1 if count > max_rows else max_rows
    ids = ids[:keep]
    counts, rows = _leader_months(engine, ids, window)
    labels = names[:keep]
    if count > max_rows:  # the rest: the months' totals minus the leaders'
        labels.append(f"Other partnerships ({count - len(ids)})")
        counts = np.vstack([counts, totals[0] - counts.sum(axis=0)])
        rows = np.vstack([rows, totals[1] - rows.sum(axis=0)])
    index = pd.Index(labels, name="Partnership")
    columns = [month_label(m) for m in window]
    return pd.DataFrame(counts, index=index, columns=columns), pd.DataFrame(rows > 0, index=index, columns=columns)


def _leader_months(engine: Bind, ids: list[str], months: list[date]) -> tuple[np.ndarray, np.ndarray]:
    """(counts, rows reported) per partnership (in the order of `ids`) and month of `months` (a
    run of consecutive months), from their facts by primary key (rsp_id, month): one stretch of
    rows per partnership. Read from running_totals instead (two rows a month apart per cell), the
    520 keys of 40 partnerships x 13 months were 520 scattered pages: 100-260 ms when they were
    not in the OS cache, at 10 million rows."""
    row_of = {rsp_id: i for i, rsp_id in enumerate(ids)}
    column_of = _month_places(months)
    counts = np.zeros((len(ids), len(months)), dtype="int64")
    rows = np.zeros((len(ids), len(months)), dtype="int64")
    with reading(engine) as conn:
        stmt = select(facts.c.rsp_id, raw_month(facts.c.month), facts.c.trainees_underrepresented).where(
            among(facts.c.rsp_id, list(ids), conn.dialect.name),
            facts.c.month.between(months[0], months[-1]),
            facts.c.trainees_underrepresented.is_not(None),  # (not reported: 0 and not a row)
        )
        found = conn.execute(stmt).all()
    if found:
        ids_, months_, values = zip(*found, strict=True)
        at = ([row_of[i] for i in ids_], [column_of[month_key(m)] for m in months_])
        counts[at], rows[at] = values, 1
    return counts, rows

"""Aggregated metrics with the right semantics: stocks at the latest month, flows summed, rates as ratios of sums."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sqlalchemy import BigInteger, Engine, and_, case, cast, func, literal, select

from queries import ranking
from queries._base import (
    HI,
    LO,
    Bind,
    as_date,
    conditions,
    contains,
    facts_join,
    frame,
    month_label,
    one_connection,
    ratio,
    raw_month,
    reading,
    reported_since,
    running_conditions,
    running_earlier,
    to_months,
)
from queries.filters import Filters
from queries.registry import registry_columns, registry_frame, with_registry
from rsp_data.metrics import BASE_KEYS, BASE_RATES
from rsp_data.schema import MAX_PARTNERSHIPS, month_index, partnerships, regions, sectors
from rsp_data.schema import monthly_metrics as facts
from rsp_data.schema import rollup_cells as cells
from rsp_data.store import month_to_date

FLOW_KEYS = tuple(k for k in BASE_KEYS if k != "employers_engaged")
DERIVED_METRICS = tuple(m for m in BASE_RATES if m.key != "placements_per_employer")


def sum_int(column):
    """SUM of a whole-number column as a BIGINT: PostgreSQL sums BIGINTs into NUMERIC, which the
    driver hands over as Decimal objects (converting 12,000 rows of them cost ~15 ms a query)."""
    return cast(func.sum(column), BigInteger)


# Which column identifies a group, and where its display name lives.
GROUPINGS = {
    "sector": (partnerships.c.sector_id, sectors, sectors.c.sector_id),
    "region": (partnerships.c.region_id, regions, regions.c.region_id),
    "partnership": (partnerships.c.rsp_id, partnerships, partnerships.c.rsp_id),
}
GROUP_NOUNS = {"sector": "Sector", "region": "Region", "partnership": "Partnership"}
GROUP_PLURALS = {"sector": "sectors", "region": "regions", "partnership": "partnerships"}


def add_rates(df: pd.DataFrame) -> pd.DataFrame:
    """Derived rates as ratios of the sums in each row (NaN where the denominator is 0)."""
    rates = {}
    for metric in DERIVED_METRICS:
        num = df[metric.numerator].to_numpy(dtype="float64", na_value=np.nan)
        rates[metric.key] = ranking.ratio(num, df[metric.denominator].to_numpy(dtype="float64", na_value=np.nan))
    return df.assign(**rates)


def _with_group(df: pd.DataFrame, key) -> pd.DataFrame:
    """Ungrouped results get the single group id 'all'."""
    if key is None:
        df.insert(0, "group_id", "all")
    return df


def as_of_month(engine: Bind, filters: Filters):
    """The latest month with data inside the filters: the month a stock is read at."""
    with reading(engine) as conn:
        return as_of_on(conn, filters)


def as_of_on(conn, filters: Filters):
    """as_of_month on an open connection."""
    if filters.partnerships:  # a few partnerships: their facts, by primary key
        stmt = select(func.max(facts.c.month)).select_from(facts_join()).where(*conditions(filters))
    else:
        stmt = select(func.max(cells.c.month)).where(*cell_conditions(filters, grain_for(filters)))
    return as_date(conn.execute(stmt).scalar())


def _at(month_column, as_of, value):
    """`value` in the rows of the as-of month, 0 elsewhere: a stock summed at one month, in the
    same pass as the flows over the range."""
    return sum_int(case((month_column == as_of, value), else_=0))


def _grouped_source(filters: Filters, by: str):
    """(source, conditions, month column, sums' columns, key, reporting at a row) for a breakdown
    by sector or region: the chosen partnerships' facts, or rollup_cells at the smallest grain."""
    if filters.partnerships:
        return facts_join(), conditions(filters), facts.c.month, facts.c, GROUPINGS[by][0], literal(1)
    grain = grain_for(filters, by)
    return cells, cell_conditions(filters, grain), cells.c.month, cells.c, CELL_KEYS[by], cells.c.reporting


def _by_group(engine: Engine, filters: Filters, by: str) -> pd.DataFrame:
    """metrics_by for a sector or region breakdown: one statement per call (flows over the range,
    the stock at the as-of month and the group's name together), the frame built once from numpy
    columns. Reading flows, stock and names apart and merging them in pandas cost 20-40 ms a call
    at 10 million rows, most of it pandas (the SQL itself: 2-6 ms)."""
    source, conds, month, sums, key, reporting = _grouped_source(filters, by)
    _, name_table, name_key = GROUPINGS[by]
    rows, names = [], ["group_id", "group_name"]
    with reading(engine) as conn:
        as_of = as_of_on(conn, filters)
        # Summed first (in the key's order: no sort), the names joined to the groups after.
        sub = (
            select(
                key.label("group_id"),
                *[sum_int(sums[m]).label(m) for m in FLOW_KEYS],
                func.count(func.distinct(month)).label("months"),
                _at(month, as_of, sums.employers_engaged).label("employers_engaged"),
                _at(month, as_of, reporting).label("reporting"),
            )
            .select_from(source)
            .where(*conds)
            .group_by(key)
            .subquery()
        )
        stmt = select(
            sub.c.group_id, name_table.c.name.label("group_name"), *[c for c in sub.c if c.name != "group_id"]
        ).select_from(sub.join(name_table, name_key == sub.c.group_id))
        if as_of is not None:
            result = conn.execute(stmt)
            rows, names = result.all(), list(result.keys())
    df = _frame_of(rows, names, as_of)
    return df[FINISHED].sort_values("group_name", kind="stable").reset_index(drop=True)


def _frame_of(rows: list, names: list[str], as_of) -> pd.DataFrame:
    """Rows of ids, names and whole numbers (NULL as 0) as a frame with the derived rates and
    as_of, built column by column with numpy."""
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    data = {}
    for name, values in zip(names, columns, strict=True):
        if name in ("group_id", "group_name", "sector_id", "region_id", "sector_name", "region_name"):
            data[name] = list(values)
        else:
            data[name] = np.array([v or 0 for v in values], dtype="int64")
    for column in (*BASE_KEYS, "months", "reporting"):
        data.setdefault(column, np.zeros(len(rows), dtype="int64"))
    for metric in DERIVED_METRICS:
        data[metric.key] = ranking.ratio(data[metric.numerator], data[metric.denominator])
    data["as_of"] = [as_of] * len(rows)
    return pd.DataFrame(data)


def metrics_by(engine: Engine, filters: Filters, by: str | None = None) -> pd.DataFrame:
    """One row per group (or a single row when by is None) with every metric over the filtered range.

    Columns: group_id, group_name, employers_engaged, trainees_enrolled, trainees_completed,
    placements, completion_rate, placement_rate, months, reporting, as_of (a date or None).
    employers_engaged is the sum of the partnerships' values at the as-of month (the latest
    month in range with data), the same month for every group, so groups compare at one date.

    Where the figures come from (the same numbers, tests/test_queries.py runs every case):
    a partnership filter reads those partnerships' facts by primary key; grouping by partnership
    reads running_totals (two rows per partnership); everything else reads rollup_cells at the
    smallest grain that covers the filters and the grouping. None reads the fact table whole.
    """
    if by in ("sector", "region"):
        return _by_group(engine, filters, by)
    if filters.partnerships:
        df, as_of = _from_facts(engine, filters, by)
    elif by == "partnership":
        as_of = as_of_month(engine, filters)
        df = partnership_totals(engine, filters, as_of=as_of)
    else:
        df, as_of = _from_cells(engine, filters)
    return _finish(engine, df, by, as_of)


FINISHED = ["group_id", "group_name", *BASE_KEYS, "completion_rate", "placement_rate", "months", "reporting", "as_of"]


def _finish(engine: Engine, df: pd.DataFrame | dict, by: str | None, as_of) -> pd.DataFrame:
    if by is None:  # one row, finished in plain Python (pandas' per-column work cost ~10 ms a call)
        row = {k: int(df.get(k) or 0) for k in (*BASE_KEYS, "months", "reporting")}
        for metric in DERIVED_METRICS:
            den = row[metric.denominator]
            row[metric.key] = row[metric.numerator] / den if den > 0 else float("nan")
        row.update(group_id="all", group_name="All partnerships", as_of=as_of)
        return pd.DataFrame([[row[c] for c in FINISHED]], columns=FINISHED)
    if "group_name" not in df:
        _, name_table, name_key = GROUPINGS[by]
        names = frame(engine, select(name_key.label("group_id"), name_table.c.name.label("group_name")))
        df = names.merge(df, on="group_id", how="inner")
    for col in (*BASE_KEYS, "months", "reporting"):
        if col not in df:
            df[col] = 0
        df[col] = pd.to_numeric(df[col], errors="coerce").fillna(0).astype("int64")
    df = add_rates(df)
    df["as_of"] = as_of
    return df[FINISHED].sort_values("group_name", kind="stable").reset_index(drop=True)


def _from_facts(engine: Engine, filters: Filters, by: str | None) -> tuple[pd.DataFrame, object]:
    """The filtered partnerships' own rows (the facts' primary key starts with rsp_id)."""
    conds = conditions(filters)
    # Ungrouped: no GROUP BY at all (a bound constant in GROUP BY is not portable).
    key = None if by is None else GROUPINGS[by][0]
    group_cols = [] if key is None else [key.label("group_id")]
    group_by = [] if key is None else [key]
    flows = (
        select(
            *group_cols,
            *[sum_int(facts.c[m]).label(m) for m in FLOW_KEYS],
            func.count(func.distinct(facts.c.month)).label("months"),
        )
        .select_from(facts_join())
        .where(*conds)
        .group_by(*group_by)
    )
    as_of = as_of_month(engine, filters)
    stock = (
        select(
            *group_cols,
            sum_int(facts.c.employers_engaged).label("employers_engaged"),
            func.count(facts.c.rsp_id).label("reporting"),
        )
        .select_from(facts_join())
        .where(and_(*conds, facts.c.month == as_of))
        .group_by(*group_by)
    )
    return _merge_stock(engine, flows, stock, key, as_of), as_of


def _from_cells(engine: Engine, filters: Filters) -> tuple[dict, object]:
    """The ungrouped figures from rollup_cells at the smallest grain that covers the filters
    (breakdowns by sector or region: _by_group)."""
    conds = cell_conditions(filters, grain_for(filters))
    flows = select(
        *[sum_int(cells.c[m]).label(m) for m in FLOW_KEYS],
        func.count(func.distinct(cells.c.month)).label("months"),
    ).where(*conds)
    as_of = as_of_month(engine, filters)
    stock = select(
        sum_int(cells.c.employers_engaged).label("employers_engaged"),
        sum_int(cells.c.reporting).label("reporting"),
    ).where(and_(*conds, cells.c.month == as_of))
    return _merge_stock(engine, flows, stock, None, as_of), as_of


def _merge_stock(engine: Engine, flows, stock, key, as_of) -> pd.DataFrame | dict:
    """Flows over the range and the stock at `as_of`, per group; ungrouped: one dict (no data: {})."""
    if key is None:
        with reading(engine) as conn:
            found = dict(conn.execute(flows).one()._mapping)
            if not found.get("months"):
                return {}  # an ungrouped aggregate over no rows: no data
            # employers_engaged is a stock: read it at one month, never sum it over months.
            return found | dict(conn.execute(stock).one()._mapping)
    flows_df = _with_group(frame(engine, flows), key)
    stock_df = pd.DataFrame(columns=["group_id", "employers_engaged", "reporting"])
    if as_of is not None:
        # employers_engaged is a stock: read it at one month, never sum it over months.
        stock_df = _with_group(frame(engine, stock), key)
    return flows_df.merge(stock_df, on="group_id", how="outer")


SORTABLE = (*BASE_KEYS, "completion_rate", "placement_rate", "placements_per_employer", "group_name")


def partnership_totals(
    engine: Bind,
    filters: Filters,
    *,
    as_of=None,
    order_by: str = "group_name",
    descending: bool = False,
    limit: int | None = None,
    offset: int = 0,
    search: str = "",
    total: int | None = None,
    registry: bool = False,
) -> pd.DataFrame:
    """Per partnership over the filtered range, from running_totals: two rows per partnership,
    total(from..to) = running(as_of) - running(month before from). A page (`limit`) is ranked on
    the sort value alone, from running_arrays with numpy (queries/ranking.py), its figures from the
    same arrays; by name, ranked in SQL and its rows read by key; without a limit every partnership
    is read and sorted in SQL.

    Columns: group_id, group_name, sector_id, region_id, the base metrics, months, reporting
    (1 when it reported at the as-of month). Partnerships without a report in the range are left out.
    `registry`: and the partnership_list columns, read in the same statement.
    """
    if as_of is None:
        as_of = as_of_month(engine, filters)
    columns = ["group_id", "group_name", "sector_id", "region_id", *BASE_KEYS, "months", "reporting"]
    if registry:
        columns += [c.name for c in partnerships.c if c.name not in columns and c.name != "name"]
        columns += [c.name for c in registry_columns()]
    if as_of is None:
        return pd.DataFrame(columns=columns)
    if order_by not in SORTABLE:
        raise ValueError(f"cannot sort by {order_by!r}")
    if limit is not None and order_by != "group_name":
        # A page: ranked on the sort value alone from running_arrays, its figures from the same
        # arrays and its registry columns read with its names (by number).
        if registry:
            own = [c for c in partnerships.c if c.name not in ("number", "rsp_id", "name")]
            extra, source = (*own, *registry_columns(few=True)), with_registry(partnerships, few=True)
        else:
            extra, source = (partnerships.c.sector_id, partnerships.c.region_id), None
        found = _ranked(
            engine,
            filters,
            as_of,
            order_by,
            descending,
            limit,
            offset,
            search,
            totals=PAGE_ARRAYS,
            registry=extra,
            source=source,
        )
        if not found.ids:
            return pd.DataFrame(columns=columns)
        df = _page_frame(found, [c.name for c in extra], month_index(as_of))
    else:
        if limit is not None:
            # A page by name: ranked on the name alone in SQL (the database's collation), then
            # the page's rows by primary key.
            ids = _ranked_ids(engine, filters, as_of, order_by, descending, limit, offset, search, total)
            if not ids:
                return pd.DataFrame(columns=columns)
            # The page's ids already satisfy the region, sector and search filters.
            filters = filters.with_(partnerships=tuple(ids), regions=(), sectors=())
            search = ""
        stmt = _running_select(filters, as_of, search, names=True, registry=registry)
        df = frame(engine, _ordered(stmt, order_by, descending))
    if df.empty:
        return pd.DataFrame(columns=columns)
    return registry_frame(df)[columns] if registry else df[columns]


def _ranked_ids(
    engine: Bind,
    filters: Filters,
    as_of,
    order_by: str,
    descending: bool,
    limit: int,
    offset: int = 0,
    search: str = "",
    total: int | None = None,
) -> list[str]:
    """The ids of one page of partnerships in the table's order by name, ranked in SQL (the
    database's collation; pages sorted on a figure are ranked from running_arrays: _ranked).

    `total` (how many partnerships the ranking holds, when the caller counted them): a page in the
    second half is read from the end, in reverse order, so the database keeps at most half of them
    while sorting (a deep page of 89,203 partnerships sorted up to all of them)."""
    narrow = _running_select(filters, as_of, search, names=True, only=SORT_NEEDS[order_by])
    reverse = total is not None and offset + limit / 2 > total / 2
    if reverse:
        start = max(0, total - offset - limit)
        limit, offset = total - offset - start, start
        if limit <= 0:
            return []
    ranked = _ordered(narrow, order_by, descending, ids_only=True, reverse=reverse).limit(limit).offset(offset)
    with reading(engine) as conn:
        ids = [row[0] for row in conn.execute(ranked)]
    return ids[::-1] if reverse else ids


# The arrays a ranked page's figures come from (their totals over the range; last_report at the
# as-of month: whether it reported then).
PAGE_ARRAYS = ("employers_engaged", *[f"cum_{m}" for m in FLOW_KEYS], "cum_months_reported", "last_report")


def _page_frame(found: ranking.Ranked, extra: list[str], as_of: int) -> pd.DataFrame:
    """A ranked page as partnership_totals' rows: the figures from Ranked.totals (whole numbers,
    as SQL's sums are), the registry columns from Ranked.registry."""
    whole = {name: np.rint(values).astype("int64") for name, values in found.totals.items()}
    data = {
        "group_id": found.ids,
        "group_name": found.names,
        "rsp_id": found.ids,
        "number": found.numbers,
        **{name: list(values) for name, values in zip(extra, zip(*found.registry, strict=True), strict=True)},
        "employers_engaged": whole["employers_engaged"],
        **{m: whole[f"cum_{m}"] for m in FLOW_KEYS},
        "months": whole["cum_months_reported"],
        "reporting": (whole["last_report"] == as_of).astype("int64"),
    }
    return pd.DataFrame(data)


def _ranked(
    engine: Bind,
    filters: Filters,
    as_of,
    order_by: str,
    descending: bool,
    limit: int,
    offset: int,
    search: str,
    **page,
) -> ranking.Ranked:
    """One page of partnerships ranked on a metric or rate, from running_arrays (`page`: what
    else ranking.ranked reads for it)."""
    return ranking.ranked(
        engine,
        filters,
        first=month_to_date(filters.month_from) if filters.month_from else None,
        last=as_of,
        value=ARRAY_VALUES[order_by],
        needs=ARRAY_NEEDS[order_by],
        limit=limit,
        offset=offset,
        descending=descending,
        search=search,
        **page,
    )


def _ordered(stmt, order_by: str, descending: bool, ids_only: bool = False, reverse: bool = False):
    """The per-partnership select in the table's order (ties by id, so pages never overlap);
    `reverse`: exactly that order backwards (read from the end)."""
    sub = stmt.subquery()
    down = descending != reverse
    if order_by == "group_name":
        order = sub.c.group_name.desc() if down else sub.c.group_name.asc()
    else:
        value = _sort_value(sub, order_by)
        order = value.desc() if down else value.asc()
        order = order.nulls_first() if reverse else order.nulls_last()
    tie = sub.c.group_id.desc() if reverse else sub.c.group_id.asc()
    return select(*([sub.c.group_id] if ids_only else [sub])).order_by(order, tie)


def partnership_count(engine: Engine, filters: Filters, search: str = "") -> int:
    """How many partnerships reported in the filtered range (and match the search)."""
    as_of = as_of_month(engine, filters)
    if as_of is None:
        return 0
    # Who reported in the range: their latest reports at the as-of month (running_arrays).
    first = month_to_date(filters.month_from) if filters.month_from else None
    counted = ranking.reporting_counts(
        engine, filters, first=first, last=as_of, columns=("last_report",), search=search
    )
    return counted["last_report"]


def _sort_value(sub, key: str):
    if key == "completion_rate":
        return ratio(sub.c.trainees_completed, sub.c.trainees_enrolled)
    if key == "placement_rate":
        return ratio(sub.c.placements, sub.c.trainees_completed)
    if key == "placements_per_employer":
        return ratio(sub.c.placements, sub.c.employers_engaged)
    return sub.c[key]


# The columns each sort value is computed from.
SORT_NEEDS = {
    **{k: (k,) for k in BASE_KEYS},
    "completion_rate": ("trainees_completed", "trainees_enrolled"),
    "placement_rate": ("placements", "trainees_completed"),
    "placements_per_employer": ("placements", "employers_engaged"),
    "group_name": (),
}


# The same sort values from running_arrays (queries/ranking.py), and the arrays they read.
ARRAY_NEEDS = {
    "employers_engaged": ("employers_engaged",),
    **{k: (f"cum_{k}",) for k in FLOW_KEYS},
    "completion_rate": ("cum_trainees_completed", "cum_trainees_enrolled"),
    "placement_rate": ("cum_placements", "cum_trainees_completed"),
    "placements_per_employer": ("cum_placements", "employers_engaged"),
}
ARRAY_VALUES = {
    "employers_engaged": lambda get: get("employers_engaged"),
    **{k: (lambda get, c=f"cum_{k}": get(c)) for k in FLOW_KEYS},
    "completion_rate": lambda get: ranking.ratio(get("cum_trainees_completed"), get("cum_trainees_enrolled")),
    "placement_rate": lambda get: ranking.ratio(get("cum_placements"), get("cum_trainees_completed")),
    "placements_per_employer": lambda get: ranking.ratio(get("cum_placements"), get("employers_engaged")),
}


def _running_select(
    filters: Filters,
    as_of,
    search: str = "",
    names: bool = True,
    only: tuple[str, ...] | None = None,
    registry: bool = False,
):
    """Per-partnership totals from running_totals; `names`: join the registry for the name (when
    it is searched or sorted on); `only`: just these metrics besides the id (a ranking's sort;
    () for none: one month's rows, no pairs); `registry`: and every partnership_list column."""
    hi, lo = HI, LO
    start = month_to_date(filters.month_from) if filters.month_from else None
    before = None if start is None else month_after(start, -1)
    metrics_used = ("months", *BASE_KEYS) if only is None else only
    paired = before is not None and any(m != "employers_engaged" for m in metrics_used)

    def diff(col: str):
        return hi.c[col] - func.coalesce(lo.c[col], 0) if paired else hi.c[col]

    names = names or bool(search.strip())
    source = hi.join(partnerships, partnerships.c.number == hi.c.k.op("&")(MAX_PARTNERSHIPS)) if names else hi
    if paired:
        source = source.outerjoin(lo, running_earlier(lo, hi, as_of, before))
    if registry:
        source = with_registry(source)
    conds = running_conditions(hi, filters, as_of)
    if start is not None:  # a report in the range (every running row follows a first report)
        conds.append(reported_since(hi, start))
    if search.strip():
        conds.append(contains((partnerships.c.name, partnerships.c.rsp_id), search))
    metrics = {
        "employers_engaged": func.coalesce(hi.c.employers_engaged, 0).label("employers_engaged"),
        **{m: diff(f"cum_{m}").label(m) for m in FLOW_KEYS},
    }
    if only is not None:
        return (
            select(
                hi.c.rsp_id.label("group_id"),
                *([partnerships.c.name.label("group_name")] if names else []),
                *[metrics[m] for m in only],
            )
            .select_from(source)
            .where(*conds)
        )
    own = (
        [c for c in partnerships.c if c.name != "name"] + registry_columns()
        if registry
        else [hi.c.sector_id, hi.c.region_id]
    )
    return (
        select(
            hi.c.rsp_id.label("group_id"),
            *([partnerships.c.name.label("group_name")] if names else []),
            *own,
            *metrics.values(),
            diff("cum_months_reported").label("months"),
            case((hi.c.employers_engaged.is_not(None), 1), else_=0).label("reporting"),
        )
        .select_from(source)
        .where(*conds)
    )


def kpi_summary(engine: Engine, filters: Filters) -> dict:
    """The headline figures for the filters: a dict of metric -> value, plus as_of and months."""
    row = metrics_by(engine, filters).iloc[0].to_dict()
    row["as_of_label"] = month_label(row["as_of"])
    return row


def monthly_totals(engine: Engine, filters: Filters, split: str | None = None, top: int = 12) -> pd.DataFrame:
    """Each month's base metrics summed across the filtered partnerships, per group when split.

    Columns: month (date), group_id, group_name, and the four base metrics. Summing the stock
    across partnerships within one month is right; summing it across months is not (see trends).
    Split by partnership (without a partnership filter), or by sector or region when more than
    `top` of them have data: the `top` groups with the most placements in the range, and one group
    "All other partnerships" ("… regions", "… sectors"; id "others") holding the rest.
    """
    key = None if split is None else GROUPINGS[split][0]
    # Rows as columns (months as the driver gives them, group ids, the four sums as one float
    # array) and the frame built once at the end: pandas merges and group-bys on a few hundred rows
    # cost more than the statements, and so did walking the 2,880 rows of a trend by partnership
    # once per step (two thirds of a call at 10 million rows).
    name_of = None  # group id -> name, when the ranking gave them
    with reading(engine) as conn:
        if filters.partnerships:
            stmt = (
                select(
                    raw_month(facts.c.month),
                    *([] if key is None else [key.label("group_id")]),
                    *[sum_int(facts.c[m]).label(m) for m in BASE_KEYS],
                )
                .select_from(facts_join())
                .where(*conditions(filters))
                .group_by(facts.c.month, *([] if key is None else [key]))
            )
            parts = [_columns(conn.execute(stmt).all(), key is not None)]
        elif split == "partnership":
            # The leaders by placements (ranked from running_arrays), their own rows by primary
            # key, and the rest as each month's total (rollup_cells) minus theirs.
            as_of = as_of_on(conn, filters)
            if as_of is None:
                return _empty_monthly()
            leaders = _ranked(conn, filters, as_of, "placements", True, top, 0, "")
            if not leaders.ids:
                return _empty_monthly()
            ids, name_of = leaders.ids, dict(zip(leaders.ids, leaders.names, strict=True))
            months_only = Filters(month_from=filters.month_from, month_to=filters.month_to)  # the ids meet the rest
            mine = [facts.c.rsp_id.in_(ids), *conditions(months_only)]
            stmt = select(raw_month(facts.c.month), facts.c.rsp_id, *[facts.c[m] for m in BASE_KEYS]).where(*mine)
            parts = [_columns(conn.execute(stmt).all(), True)]
            parts.append(_others(conn, filters, parts[0]))
        else:
            grain = grain_for(filters, split)
            key = None if split is None else CELL_KEYS[split]
            leaders = None
            if key is not None:
                # More groups than `top` (51 states by region): the leaders by placements over the
                # range, and the rest as one group, as by partnership.
                ranked = select(key, sum_int(cells.c.placements).label("placements"))
                ranked = ranked.where(*cell_conditions(filters, grain)).group_by(key)
                order = conn.execute(ranked.order_by(ranked.selected_columns.placements.desc(), key)).all()
                if len(order) > top:
                    leaders = [row[0] for row in order[:top]]
            stmt = (
                select(
                    raw_month(cells.c.month),
                    *([] if key is None else [key.label("group_id")]),
                    *[sum_int(cells.c[m]).label(m) for m in BASE_KEYS],
                )
                .where(*cell_conditions(filters, grain), *([] if leaders is None else [key.in_(leaders)]))
                .group_by(cells.c.month, *([] if key is None else [key]))
            )
            parts = [_columns(conn.execute(stmt).all(), key is not None)]
            if leaders is not None:
                parts.append(_others(conn, filters, parts[0]))
        months = [m for part in parts for m in part[0]]
        if not months:
            return _empty_monthly()
        groups = [g for part in parts for g in part[1]]
        values = np.vstack([part[2] for part in parts])
        if split is None:
            name_of = {"all": "All partnerships"}
        else:
            if name_of is None:
                _, name_table, name_key = GROUPINGS[split]
                ids = sorted(set(groups) - {"others"})
                name_of = dict(conn.execute(select(name_key, name_table.c.name).where(name_key.in_(ids))).all())
            name_of["others"] = f"All other {GROUP_PLURALS[split]}"
    # In (month, name) order before the frame is built, with numpy: sorting the frame's arrow
    # strings, or the rows in Python, cost 4-5 ms for the 3,120 rows by partnership.
    month_values = to_months(pd.Series(months)).to_numpy()
    by_name = sorted(set(groups), key=lambda g: (name_of.get(g) is None, name_of.get(g) or ""))
    place = {g: i for i, g in enumerate(by_name)}
    order = np.lexsort((np.array([place[g] for g in groups]), month_values))
    group_ids = np.array(groups, dtype=object)[order]
    counts = np.rint(np.nan_to_num(values[order])).astype("int64")
    return pd.DataFrame(
        {
            "month": month_values[order],
            "group_id": group_ids,
            "group_name": [name_of.get(g) for g in group_ids],
            **{k: counts[:, j] for j, k in enumerate(BASE_KEYS)},
        }
    )


Columns = tuple[list, list, np.ndarray]  # months (raw), group ids, the BASE_KEYS sums (rows x 4, NaN: NULL)


def _columns(rows: list, grouped: bool) -> Columns:
    """Rows of (month, [group id,] the BASE_KEYS sums) as Columns; group id 'all' when not
    `grouped`."""
    if not rows:
        return [], [], np.zeros((0, len(BASE_KEYS)))
    months, *rest = zip(*rows, strict=True)
    groups = list(rest.pop(0)) if grouped else ["all"] * len(months)
    return list(months), groups, np.array(rest, dtype="float64").T


def _others(conn, filters: Filters, leaders: Columns) -> Columns:
    """One row "others" per month: the month's total over the filters (rollup_cells) minus the
    leaders' (months where the rest is all zero left out)."""
    stmt = (
        select(raw_month(cells.c.month), *[sum_int(cells.c[m]).label(m) for m in BASE_KEYS])
        .where(*cell_conditions(filters, grain_for(filters)))
        .group_by(cells.c.month)
    )
    months, _, totals = _columns(conn.execute(stmt).all(), False)
    if not months:
        return [], [], totals
    totals = np.nan_to_num(totals)
    if leaders[0]:  # the leaders' sums per month: a bincount per column (np.add.at over rows: 4-5 ms)
        index = {m: i for i, m in enumerate(months)}
        at = np.fromiter((index.get(m, -1) for m in leaders[0]), dtype="int64", count=len(leaders[0]))
        inside = at >= 0  # (a leader's month is always one of the totals')
        values = np.nan_to_num(leaders[2][inside])
        for j in range(totals.shape[1]):
            totals[:, j] -= np.bincount(at[inside], weights=values[:, j], minlength=len(months))
    keep = np.flatnonzero(np.rint(totals).any(axis=1))
    return [months[i] for i in keep], ["others"] * len(keep), totals[keep]


def _empty_monthly() -> pd.DataFrame:
    return pd.DataFrame(columns=["month", "group_id", "group_name", *BASE_KEYS])


# --- where the figures come from --------------------------------------------------------------

GRAINS = {(False, False): "all", (True, False): "region", (False, True): "sector", (True, True): "cell"}
CELL_KEYS = {"sector": cells.c.sector_id, "region": cells.c.region_id}


def grain_for(filters: Filters, by: str | None = None) -> str:
    """The smallest rollup grain that has the filters' and the grouping's columns."""
    region = bool(filters.regions) or by in ("region", "cell")
    sector = bool(filters.sectors) or by in ("sector", "cell")
    return GRAINS[(region, sector)]


def cell_conditions(filters: Filters, grain: str, *, months: bool = True, gjc: bool | None = None) -> list:
    """WHERE conditions over rollup_cells (no partnership filter: those read the facts)."""
    conds = [cells.c.grain == grain]
    # The grains without a region (sector) hold "" there. Saying so lets SQLite seek the primary
    # key (grain, region_id, sector_id, month) instead of skip-scanning every grain (ANALYZE sees
    # only four grains): 44 ms -> 0.1 ms for the months of grain "all" on a 1M-row store.
    if grain in ("all", "sector"):
        conds.append(cells.c.region_id == "")
    if grain in ("all", "region"):
        conds.append(cells.c.sector_id == "")
    if filters.regions:
        conds.append(cells.c.region_id.in_(filters.regions))
    if filters.sectors:
        conds.append(cells.c.sector_id.in_(filters.sectors))
    if months and filters.month_from:
        conds.append(cells.c.month >= month_to_date(filters.month_from))
    if months and filters.month_to:
        conds.append(cells.c.month <= month_to_date(filters.month_to))
    if gjc is not None:
        conds.append(cells.c.gjc.is_(gjc))
    return conds


def month_after(month, months: int):
    y, m = divmod(month.year * 12 + month.month - 1 + months, 12)
    return type(month)(y, m + 1, 1)


@one_connection
def partnership_rows(
    engine: Bind,
    filters: Filters,
    *,
    order_by: str = "placements",
    descending: bool = True,
    limit: int | None = 25,
    offset: int = 0,
    search: str = "",
    total: int | None = None,
) -> pd.DataFrame:
    """A page of partnerships with every metric (rates too) and their registry columns: the rows
    of the Partnerships table, the map's markers, the rankings. Ranked, and its figures, from
    running_arrays (by name: in SQL, the page's rows read by key). `total`: partnership_count(filters, search), when
    the caller has it (a deep page sorted by name is then read from the end)."""
    as_of = as_of_month(engine, filters)
    rows = partnership_totals(
        engine,
        filters,
        as_of=as_of,
        order_by=order_by,
        descending=descending,
        limit=limit,
        offset=offset,
        search=search,
        total=total,
        registry=True,
    )
    rows = add_rates(rows)
    rows["as_of"] = as_of if len(rows) else None
    return rows


def metrics_by_cell(engine: Engine, filters: Filters) -> pd.DataFrame:
    """Every metric per sector × region cell with data in range. Columns: sector_id, region_id,
    base metrics, reporting, sector_name, region_name, rates; rows in region, then sector order.
    In SQL with a partnership filter (their facts) or a region filter (those regions' stretch of
    rollup_cells' cell grain), else from running_arrays (ranking.cell_totals): every region's
    cells over every month were 147,000 rollup_cells rows (75-140 ms at 10 million rows)."""
    if filters.partnerships or filters.regions:
        return _cells_in_sql(engine, filters)
    with reading(engine) as conn:
        as_of = as_of_on(conn, filters)
        region_names = dict(conn.execute(select(regions.c.region_id, regions.c.name)).all())
        sector_names = dict(conn.execute(select(sectors.c.sector_id, sectors.c.name)).all())
    rows = []
    if as_of is not None:
        flows = {m: f"cum_{m}" for m in FLOW_KEYS}
        found = ranking.cell_totals(
            engine,
            filters,
            first=month_to_date(filters.month_from) if filters.month_from else None,
            last=as_of,
            columns=(*flows.values(), "employers_engaged"),
        )
        sums = {**{m: found.sums[c] for m, c in flows.items()}, "employers_engaged": found.sums["employers_engaged"]}
        for i, j in zip(*np.nonzero(found.present), strict=True):
            region_id, sector_id = found.region_ids[i], found.sector_ids[j]
            rows.append(
                (
                    sector_id,
                    region_id,
                    *[int(sums[m][i, j]) for m in BASE_KEYS],
                    int(found.sums["reporting"][i, j]),
                    sector_names[sector_id],
                    region_names[region_id],
                )
            )
    columns = ["sector_id", "region_id", *BASE_KEYS, "reporting", "sector_name", "region_name"]
    df = _frame_of(rows, columns, as_of)
    return df[[*columns, *(m.key for m in DERIVED_METRICS)]]


def _cells_in_sql(engine: Engine, filters: Filters) -> pd.DataFrame:
    """metrics_by_cell in one statement (flows, the stock at the as-of month and both names), as
    _by_group: the chosen partnerships' facts, or rollup_cells' cell grain."""
    if filters.partnerships:
        source, conds, sums, reporting = facts_join(), conditions(filters), facts.c, literal(1)
        keys, month = [partnerships.c.sector_id, partnerships.c.region_id], facts.c.month
    else:
        source, conds, sums, reporting = cells, cell_conditions(filters, "cell"), cells.c, cells.c.reporting
        keys, month = [cells.c.sector_id, cells.c.region_id], cells.c.month
    columns = ["sector_id", "region_id", *BASE_KEYS, "reporting", "sector_name", "region_name"]
    rows, names = [], columns
    with reading(engine) as conn:
        as_of = as_of_on(conn, filters)
        # Summed first, the names joined to the cells after (joined before, every row looked them
        # up: 5x slower).
        sub = (
            select(
                keys[0].label("sector_id"),
                keys[1].label("region_id"),
                *[sum_int(sums[m]).label(m) for m in FLOW_KEYS],
                _at(month, as_of, sums.employers_engaged).label("employers_engaged"),
                _at(month, as_of, reporting).label("reporting"),
            )
            .select_from(source)
            .where(*conds)
            .group_by(keys[1], keys[0])
            .subquery()
        )
        stmt = select(sub, sectors.c.name.label("sector_name"), regions.c.name.label("region_name")).select_from(
            sub.join(sectors, sectors.c.sector_id == sub.c.sector_id).join(
                regions, regions.c.region_id == sub.c.region_id
            )
        )
        if as_of is not None:
            result = conn.execute(stmt)
            rows, names = result.all(), list(result.keys())
    df = _frame_of(rows, names, as_of)
    return df[[*columns, *(m.key for m in DERIVED_METRICS)]]


def top_with_others(rows: pd.DataFrame, metric: str, n: int, noun: str = "groups") -> pd.DataFrame:
    """The n-1 groups with the highest `metric` and one row "All other …" summing the rest (rates
    as ratios of the summed counts), when there are more than n groups; else the rows unchanged."""
    if len(rows) <= n:
        return rows
    ranked = rows.sort_values(metric, ascending=False, na_position="last")
    head, rest = ranked.iloc[: n - 1], ranked.iloc[n - 1 :]
    other = {k: rest[k].sum() for k in (*BASE_KEYS, "reporting")}
    other.update(
        group_id="others",
        group_name=f"All other {len(rest):,} {noun}",
        months=rest["months"].max(),
        as_of=rows["as_of"].iloc[0],
    )
    return pd.concat([head, add_rates(pd.DataFrame([other]))[rows.columns]], ignore_index=True)

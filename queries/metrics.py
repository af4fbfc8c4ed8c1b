"""Every metric over the filters: overall, by sector or region, by partnership, by month (sums through
queries/_base.py, values by `figures`; `metrics` chooses what a call computes and reads)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sqlalchemy import case, func, select

from queries import ranking
from queries._base import (
    GROUPINGS,
    SUM_OF,
    Bind,
    among,
    contains,
    fact_value,
    figures,
    needs,
    one_connection,
    raw_month,
    source,
    sql_value,
    stock_parts,
    summed,
    sums_select,
    where,
)
from queries.filters import Filters
from queries.registry import registry_columns, registry_frame, with_registry
from rsp_data import ct
from rsp_data.metrics import ADULTS, BASE_RATES, CARRY, METRICS, PER_ADULTS, REQUIRED_KEYS, carried, value
from rsp_data.months import as_date, label, month_index, shift, to_datetimes
from rsp_data.schema import MAX_PARTNERSHIPS, partnerships
from rsp_data.schema import monthly_metrics as facts
from rsp_data.schema import rollup_cells as cells
from rsp_data.schema import running_totals as running

DEFAULT = (*REQUIRED_KEYS, *(m.key for m in BASE_RATES))  # a page's unless it chooses: the four everyone reports, rates
GROUP_NOUNS = {"sector": "Sector", "region": "Region", "partnership": "Partnership"}


def sums_for(metrics: tuple[str, ...]) -> tuple[str, ...]:
    """The sums these metrics are computed from, each once, in the order asked."""
    return tuple(dict.fromkeys(n for m in metrics for n in needs(m)))


@one_connection
def as_of_month(conn: Bind, filters: Filters):
    """The latest month with data inside the filters: the month a stock is read at."""
    src = source(filters)
    return as_date(conn.execute(select(func.max(src.month)).select_from(src.table).where(*src.conds)).scalar())


def _columns(result) -> dict[str, list]:
    names, rows = list(result.keys()), result.all()
    return dict(zip(names, list(zip(*rows, strict=True)) if rows else [() for _ in names], strict=True))


def _names(conn, by: str, ids=None) -> dict[str, str]:
    """{group id: name} of every sector or region, or of these ids (partnerships: never all of them)."""
    _, table, key = GROUPINGS[by]
    stmt = select(key, table.c.name)
    if ids is not None:
        stmt = stmt.where(among(key, sorted(ids), conn.dialect.name))
    return dict(conn.execute(stmt).all())


@one_connection
def metrics_by(conn: Bind, filters: Filters, by: str | None = None, metrics: tuple[str, ...] = DEFAULT) -> pd.DataFrame:
    """One row per sector, region or partnership with data ("all" when `by` is None): group_id, group_name, sums,
    values, months, reporting and as_of (the latest month in range with data: stocks and reporting are read there)."""
    as_of = as_of_month(conn, filters)
    if by == "partnership":
        return partnership_totals(conn, filters, as_of=as_of, metrics=metrics).drop(columns=["sector_id", "region_id"])
    src = source(filters, by)
    keys = {} if by is None else {"group_id": src.keys[by]}
    columns = _columns(conn.execute(sums_select(src, as_of, keys, sums_for(metrics))))
    if by is None:
        columns.update(group_id=["all"], group_name=["All partnerships"])
        return figures(columns, as_of)
    name_of = _names(conn, by)
    columns["group_name"] = [name_of.get(g) for g in columns["group_id"]]
    if by == "region" and any(m in METRICS and METRICS[m].kind == PER_ADULTS for m in metrics):
        columns[ADULTS] = [ct.adults(g) for g in columns["group_id"]]
    df = figures(columns, as_of)
    return df[df["group_name"].notna()].sort_values("group_name", kind="stable").reset_index(drop=True)


def kpi_summary(engine: Bind, filters: Filters, metrics: tuple[str, ...] = DEFAULT) -> dict:
    """The headline figures for the filters: metric -> value, the sums, as_of, as_of_label, months; "carried": how
    many partnerships' stocks are as of a report before as_of, "carried_months": those reports' months (labels)."""
    row = metrics_by(engine, filters, None, metrics).iloc[0].to_dict()
    count, months = ranking.carried_reports(engine, filters, first=filters.first, last=row["as_of"])
    return {**row, "as_of_label": label(row["as_of"]), "carried": count, "carried_months": [label(m) for m in months]}


@one_connection
def metrics_by_cell(conn: Bind, filters: Filters, metrics: tuple[str, ...] = DEFAULT) -> pd.DataFrame:
    """The metrics per sector × region cell with data in range, by region, then sector (without a
    partnership or region filter, from queries/ranking.py's cell sums)."""
    names = sums_for(metrics)
    as_of = as_of_month(conn, filters)
    if filters.partnerships or filters.regions:
        src = source(filters, "cell")
        keys = {"sector_id": src.keys["sector"], "region_id": src.keys["region"]}
        columns = _columns(conn.execute(sums_select(src, as_of, keys, names)))
    else:
        columns = ranking.cell_totals(conn, filters, last=as_of, names=names) if as_of else {}
    columns = columns or {"sector_id": (), "region_id": ()}
    sector_names, region_names = _names(conn, "sector"), _names(conn, "region")
    columns["sector_name"] = [sector_names[s] for s in columns["sector_id"]]
    columns["region_name"] = [region_names[r] for r in columns["region_id"]]
    df = figures(columns, as_of)
    return df.sort_values(["region_id", "sector_id"], kind="stable").reset_index(drop=True)


Columns = tuple[list, list, np.ndarray]  # months (raw), group ids, the sums (rows × names)


def _rows(rows: list, grouped: bool, width: int) -> Columns:
    """Rows (month, [group,] sums…) as columns; NULL sums as NaN."""
    months = [row[0] for row in rows]
    groups = [row[1] for row in rows] if grouped else ["all"] * len(rows)
    return months, groups, np.array([row[1 + grouped :] for row in rows], dtype="float64").reshape(len(rows), width)


def _monthly_select(filters: Filters, split: str | None, names: tuple[str, ...], only: list | None = None):
    src = source(filters, split)
    keys = [] if split is None else [src.keys[split]]
    sums = [summed(src.value(n), n) for n in names]  # (read by position: _rows)
    stmt = select(raw_month(src.month), *keys, *sums).select_from(src.table)
    return stmt.where(*src.conds, *[k.in_(only) for k in keys if only is not None]).group_by(src.month, *keys)


@one_connection
def monthly_totals(
    conn: Bind, filters: Filters, split: str | None = None, top: int = 12, metrics: tuple[str, ...] = DEFAULT
) -> pd.DataFrame:
    """Each month's sums and values over the filters (month, group_id, group_name, ...), optionally split
    by sector, region or partnership. Beyond `top` groups (by partnership, unless partnerships are chosen):
    the `top` with the most placements in range, and one group "All other …" (id "others")."""
    names = sums_for(metrics)
    fetched = (*names, *stock_parts(names))  # a stock's parts carried from earlier months: _carry_forward
    name_of, leaders = None, None
    if split == "partnership" and not filters.partnerships:
        as_of = as_of_month(conn, filters)
        leaders = ranking.ranked(conn, filters, first=filters.first, last=as_of, order_by="placements", limit=top)
        name_of = dict(zip(leaders.ids, leaders.names, strict=True))
        months_only = Filters(month_from=filters.month_from, month_to=filters.month_to)  # the ids meet the rest
        stmt = select(raw_month(facts.c.month), facts.c.rsp_id, *[fact_value(n).label(n) for n in fetched]).where(
            facts.c.rsp_id.in_(leaders.ids), *where(months_only, facts)
        )
        rows = conn.execute(stmt).all() if leaders.ids else []
    else:
        if split in ("sector", "region") and not filters.partnerships:
            src = source(filters, split)
            key = src.keys[split]
            ranked = select(key).where(*src.conds).group_by(key).order_by(func.sum(cells.c.placements).desc(), key)
            order = conn.execute(ranked).scalars().all()
            leaders = order[:top] if len(order) > top else None
        rows = conn.execute(_monthly_select(filters, split, fetched, leaders)).all()
    parts = [_rows(rows, split is not None, len(fetched))]
    if rows and leaders is not None:
        totals = _rows(conn.execute(_monthly_select(filters, None, fetched)).all(), False, len(fetched))
        totals = _carry_forward(totals, names)
        leading = _carry_forward(parts[0], names, totals[0])
        parts = [leading, _others(totals, leading)]
    else:
        parts = [_carry_forward(parts[0], names)]
    months = [m for part in parts for m in part[0]]
    groups = [g for part in parts for g in part[1]]
    values = np.vstack([part[2] for part in parts])
    if split is None:
        name_of = {"all": "All partnerships"}
    elif name_of is None:
        name_of = _names(conn, split, set(groups) - {"others"}) if groups else {}
    name_of = {**name_of, "others": f"All other {split}s"}
    month_values = to_datetimes(pd.Series(months)).to_numpy()
    by_name = sorted(set(groups), key=lambda g: (name_of.get(g) is None, name_of.get(g) or ""))
    place = {g: i for i, g in enumerate(by_name)}
    order = np.lexsort((np.array([place[g] for g in groups], dtype="int64"), month_values))
    group_ids = np.array(groups, dtype=object)[order]
    sums = figures({n: values[order, j] for j, n in enumerate(names)}, as_of=False)
    return pd.DataFrame(
        {
            "month": month_values[order],
            "group_id": group_ids,
            "group_name": np.array([name_of.get(g) for g in group_ids], dtype=object),
            **{c: sums[c].to_numpy() for c in sums.columns if c not in ("months", "reporting")},
        }
    )


def _carry_forward(part: Columns, names: tuple[str, ...], universe: list | None = None) -> Columns:
    """`part` (its columns: `names`, then stock_parts(names)) with each stock as of the latest reports: a group's
    stock at month M is its reports of M plus the parts of the CARRY months before that its partnerships carry into
    M; a group with only carried parts at a month of `universe` (raw months; default: the part's own) gets a row
    there, flows 0."""
    stocks = [names.index(n) for n in names if SUM_OF[n].stock]
    months, groups, values = part
    if not stocks or not months:
        return months, groups, values[:, : len(names)]
    index_of = {m: month_index(as_date(m)) for m in dict.fromkeys(months if universe is None else [*months, *universe])}
    raw_of = {index_of[m]: m for m in (months if universe is None else universe)}
    at = np.fromiter((index_of[m] for m in months), dtype="int64")
    codes, ids = pd.Index(groups).factorize()
    # Rows keyed by (group, month index): each row's own sums, then each stock's parts moved k months on.
    keys, rows = [codes * 2**32 + at], [np.nan_to_num(values[:, : len(names)])]
    fetched = (*names, *stock_parts(names))
    for j in stocks:
        for k in range(1, CARRY + 1):
            carried_part = np.nan_to_num(values[:, fetched.index(carried(names[j], k))])
            moved = np.flatnonzero(carried_part)
            keys.append(codes[moved] * 2**32 + at[moved] + k)
            row = np.zeros((len(moved), len(names)))
            row[:, j] = carried_part[moved]
            rows.append(row)
    key, sums = np.concatenate(keys), np.vstack(rows)
    inside = np.isin(key % 2**32, list(raw_of))
    found, place = np.unique(key[inside], return_inverse=True)
    out = np.zeros((len(found), len(names)))
    np.add.at(out, place, sums[inside])
    return [raw_of[int(i)] for i in found % 2**32], ids[found // 2**32].tolist(), out


def _others(totals: Columns, leaders: Columns) -> Columns:
    """One row "others" per month: the month's total minus the leaders' (all-zero months left out)."""
    months, _, totals = totals
    totals = np.nan_to_num(totals)
    at = pd.Index(months).get_indexer(leaders[0])  # the leaders' months are among the totals' (_carry_forward)
    values = np.nan_to_num(leaders[2])
    for j in range(totals.shape[1]):
        totals[:, j] -= np.bincount(at, weights=values[:, j], minlength=len(months))
    keep = np.flatnonzero(np.rint(totals).any(axis=1))
    return [months[i] for i in keep], ["others"] * len(keep), totals[keep]


@one_connection
def partnership_totals(
    conn: Bind,
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
    metrics: tuple[str, ...] = DEFAULT,
) -> pd.DataFrame:
    """Per partnership with a report in range: group_id, group_name, sector_id, region_id, sums, values, months,
    reporting, as_of (`registry`: and partnership_list's columns). A page (`limit`) by a metric is ranked by
    queries/ranking.py, else in SQL; `total` (partnership_count) lets a deep page by name read from the end."""
    if order_by not in (*METRICS, "group_name"):
        raise ValueError(f"cannot sort by {order_by!r}")
    as_of = as_of or as_of_month(conn, filters)
    names = sums_for((*metrics, order_by) if order_by in METRICS else metrics)  # a page's order is one of its figures
    if as_of is None:
        return _partnership_frame({}, names, registry, as_of)
    if limit is not None and order_by != "group_name":
        extra = _registry(registry)
        found = ranking.ranked(
            conn,
            filters,
            first=filters.first,
            last=as_of,
            order_by=order_by,
            descending=descending,
            limit=limit,
            offset=offset,
            search=search,
            sums=(*names, "months"),
            registry=tuple(extra),
            source=with_registry(partnerships) if registry else None,
        )
        if not found.ids:
            return _partnership_frame({}, names, registry, as_of)
        columns = {
            "group_id": found.ids,
            "group_name": found.names,
            **dict(zip([c.name for c in extra], [list(v) for v in zip(*found.registry, strict=True)], strict=True)),
            **found.totals,
            "reporting": found.reporting,
        }
    else:
        if limit is not None:
            ids = _ids_by_name(conn, filters, as_of, descending, limit, offset, search, total)
            # The page's ids already satisfy the region, sector and search filters.
            filters, search = filters.with_(partnerships=tuple(ids), regions=(), sectors=()), ""
            if not ids:
                return _partnership_frame({}, names, registry, as_of)
        sub = _running_select(filters, as_of, names, search, registry=registry).subquery()
        order = sql_value(order_by, sub.c) if order_by != "group_name" else sub.c.group_name
        order = (order.desc() if descending else order.asc()).nulls_last()
        columns = _columns(conn.execute(select(sub).order_by(order, sub.c.group_id)))
    return _partnership_frame(columns, names, registry, as_of)


def _registry(registry: bool) -> list:
    """A page's columns of partnership_list (bar the name), or only its sector and region."""
    if registry:
        return [c for c in partnerships.c if c.name != "name"] + registry_columns()
    return [partnerships.c.sector_id, partnerships.c.region_id]


def _partnership_frame(columns: dict, names: tuple[str, ...], registry: bool, as_of) -> pd.DataFrame:
    df = figures(columns or {c: () for c in ("group_id", "group_name", "sector_id", "region_id", *names)}, as_of)
    if registry:
        missing = {c.name: pd.Series() for c in _registry(True) if c.name not in df}  # an empty page
        df = registry_frame(df.assign(**missing))
    return df


def _ids_by_name(
    conn, filters: Filters, as_of, descending: bool, limit: int, offset: int, search: str, total: int | None
) -> list[str]:
    """The ids of one page in name order (unordered: the caller sorts the page); in the second half of `total`,
    read from the end, so the database keeps at most half while sorting."""
    sub = _running_select(filters, as_of, (), search, registry=False).subquery()
    reverse = total is not None and offset + limit / 2 > total / 2
    if reverse:
        start = max(0, total - offset - limit)
        limit, offset = total - offset - start, start
        if limit <= 0:
            return []
    name = sub.c.group_name.desc() if descending != reverse else sub.c.group_name.asc()
    order = (name, sub.c.group_id.desc() if reverse else sub.c.group_id)
    ids = conn.execute(select(sub.c.group_id).order_by(*order).limit(limit).offset(offset)).scalars().all()
    return list(ids)


def _running_select(filters: Filters, as_of, names: tuple[str, ...], search: str, registry: bool):
    """Per partnership: its sums over the range from running_totals (the row at the as-of month minus
    the row before the range), name, sector, region, months, reporting."""
    hi, lo = running.alias(), running.alias()
    paired = filters.first is not None

    def diff(column: str):
        return hi.c[column] - func.coalesce(lo.c[column], 0) if paired else hi.c[column]

    joined = hi.join(partnerships, partnerships.c.number == hi.c.k.op("&")(MAX_PARTNERSHIPS))
    if paired:
        joined = joined.outerjoin(lo, ranking.running_earlier(lo, hi, as_of, shift(filters.first, -1)))
    if registry:
        joined = with_registry(joined)
    conds = ranking.running_conditions(hi, filters, as_of)
    if paired:  # a report in the range (every running row follows a first report)
        conds.append(hi.c.last_report >= month_index(filters.first))
    counted = hi.c.last_report >= ranking.stock_since(filters.first, as_of)  # a stock's latest report counts
    if search.strip():
        conds.append(contains((partnerships.c.name, partnerships.c.rsp_id), search))
    return (
        select(
            hi.c.rsp_id.label("group_id"),
            partnerships.c.name.label("group_name"),
            *_registry(registry),
            *[(case((counted, hi.c[n]), else_=0) if SUM_OF[n].stock else diff(f"cum_{n}")).label(n) for n in names],
            diff("cum_months_reported").label("months"),
            case((hi.c.last_report == month_index(as_of), 1)).label("reporting"),  # (NULL: 0 in `figures`)
        )
        .select_from(joined)
        .where(*conds)
    )


def partnership_rows(
    engine: Bind,
    filters: Filters,
    *,
    order_by: str = "placements",
    descending: bool = True,
    limit: int | None,
    **options,
) -> pd.DataFrame:
    """A page of partnerships with their metrics and registry columns: the table, the map's markers, the rankings."""
    return partnership_totals(
        engine, filters, order_by=order_by, descending=descending, limit=limit, registry=True, **options
    )


def partnership_count(engine: Bind, filters: Filters, search: str = "") -> int:
    """How many partnerships reported in the filtered range (and match the search)."""
    as_of = as_of_month(engine, filters)
    return ranking.reporting_counts(engine, filters, first=filters.first, last=as_of, search=search)["partnerships"]


def top_with_others(rows: pd.DataFrame, metric: str, n: int, noun: str = "groups") -> pd.DataFrame:
    """Beyond n groups: the n-1 with the highest `metric` and one row "All other …" summing the rest."""
    if len(rows) <= n:
        return rows
    ranked = rows.sort_values(metric, ascending=False)  # (NaN last)
    head, rest = ranked.iloc[: n - 1], ranked.iloc[n - 1 :]
    summable = [c for c in rows.columns if c in SUM_OF or c == "reporting"]
    other = {c: rest[c].sum() for c in summable}
    for key in [c for c in rows.columns if c in METRICS and not METRICS[c].whole]:  # rates and averages
        other[key] = float(value(key, other))
    other.update(group_id="others", group_name=f"All other {len(rest):,} {noun}", months=rest["months"].max())
    other["as_of"] = rows["as_of"].iloc[0]
    return pd.concat([head, pd.DataFrame([other])[rows.columns]], ignore_index=True)

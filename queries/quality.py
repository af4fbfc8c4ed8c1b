"""The optional metrics (quality of the jobs, reach): reported by some partnerships only, so every figure
says who reported it (the `*_rows` sums: partnership-months; `reporting`: partnerships)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
from sqlalchemy import select

from queries import ranking
from queries._base import Bind, among, figures, one_connection, raw_month, source, summed
from queries.filters import Filters
from queries.metrics import as_of_month, kpi_summary, metrics_by, monthly_totals, partnership_totals, sums_for
from rsp_data.metrics import DECLARED, OPTIONAL_KEYS, reported
from rsp_data.months import iso, label, shift
from rsp_data.schema import monthly_metrics as facts

OPTIONAL = tuple(m.key for m in DECLARED if m.optional)
QUALITY = (*OPTIONAL, *[reported(m) for m in OPTIONAL_KEYS])  # and the sums saying who reported each


@one_connection
def quality_summary(conn: Bind, filters: Filters) -> dict:
    """The optional metrics' values and sums over the filters, `partnerships` (with figures) and
    `reporting[metric]`: how many of them reported each stored optional metric."""
    out = kpi_summary(conn, filters, QUALITY)
    counts = ranking.reporting_counts(conn, filters, first=filters.first, last=out["as_of"], metrics=OPTIONAL_KEYS)
    out.update(partnerships=counts.pop("partnerships"), reporting=counts)  # the rest: one count per metric
    return out


@one_connection
def quality_by(
    conn: Bind, filters: Filters, by: str, metric: str | None = None, top: int | None = None
) -> pd.DataFrame:
    """One row per sector, region or partnership with figures, by name. By partnership with `metric` and `top`:
    those with a value, highest first; beyond `top`, the top − 1 leaders and one row "All other N partnerships"."""
    if by != "partnership":
        return metrics_by(conn, filters, by, QUALITY)
    if metric is None or top is None:
        return partnership_totals(conn, filters, metrics=QUALITY)
    as_of = as_of_month(conn, filters)
    found = ranking.ranked(
        conn, filters, first=filters.first, last=as_of, order_by=metric, limit=top, reported=metric, defined=True
    )
    if not found.ids:
        return partnership_totals(conn, filters.with_(partnerships=("",)), metrics=QUALITY)
    leaders = found.ids if found.count <= top else found.ids[: top - 1]
    chosen = filters.with_(partnerships=tuple(leaders), regions=(), sectors=())  # the ids satisfy them
    rows = partnership_totals(conn, chosen, as_of=as_of, metrics=QUALITY)
    rows = rows.set_index("group_id").loc[leaders].reset_index()
    if found.count <= top:
        return rows
    totals = kpi_summary(conn, filters, QUALITY)
    rest = {c: [totals[c] - rows[c].sum()] for c in sums_for(QUALITY)}
    name = f"All other {found.count - len(leaders):,} partnerships"
    other = figures({"group_id": ["others"], "group_name": [name], **rest}, as_of)
    return pd.concat([rows, other[[c for c in rows.columns if c in other]]], ignore_index=True)


def quality_monthly(engine: Bind, filters: Filters) -> pd.DataFrame:
    """Each month in range: the optional metrics' sums and values and who reported them."""
    return monthly_totals(engine, filters, None, metrics=QUALITY)


@one_connection
def suppressed_by_month(
    conn: Bind, filters: Filters, metric: str, months: int = 12, max_rows: int = 40
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(counts, reported) of a metric per partnership that reported it (rows, by total) and month of the
    range's last `months` (columns, from the first anybody reported it); beyond `max_rows`, one row "Other
    partnerships (n)" keeps the column totals whole. Suppress before showing (queries/suppression.py)."""
    empty = pd.DataFrame(), pd.DataFrame()
    as_of = as_of_month(conn, filters)
    if as_of is None:
        return empty
    window = [shift(as_of, -i) for i in reversed(range(months))]
    window = [m for m in window if filters.first is None or m >= filters.first]
    totals = _month_totals(conn, filters, window, metric)
    if not (totals[1] > 0).any():
        return empty
    first = int(np.argmax(totals[1] > 0))  # the range may begin before reporting did
    window, totals = window[first:], totals[:, first:]
    found = ranking.ranked(conn, filters, first=window[0], last=as_of, order_by=metric, limit=max_rows, reported=metric)
    if not found.ids:
        return empty
    keep = max_rows - 1 if found.count > max_rows else max_rows
    ids, labels = found.ids[:keep], found.names[:keep]
    counts, rows = _leader_months(conn, ids, window, metric)
    if found.count > max_rows:  # the rest: the months' totals minus the leaders'
        labels.append(f"Other partnerships ({found.count - len(ids)})")
        counts = np.vstack([counts, totals[0] - counts.sum(axis=0)])
        rows = np.vstack([rows, totals[1] - rows.sum(axis=0)])
    index = pd.Index(labels, name="Partnership")
    columns = [label(m) for m in window]
    return pd.DataFrame(counts, index=index, columns=columns), pd.DataFrame(rows > 0, index=index, columns=columns)


def _month_totals(conn, filters: Filters, window: list[date], metric: str) -> np.ndarray:
    """(2, months): each month's total of the metric over the filters, and the rows that reported it."""
    src = source(filters, months=False)
    stmt = (
        select(raw_month(src.month), *[summed(src.value(n), n) for n in (metric, reported(metric))])
        .select_from(src.table)
        .where(*src.conds, src.month.in_(window))
        .group_by(src.month)
    )
    column_of = {m.isoformat(): j for j, m in enumerate(window)}
    totals = np.zeros((2, len(window)), dtype="int64")
    for month, count, rows in conn.execute(stmt):
        totals[:, column_of[iso(month)]] = (count, rows)
    return totals


def _leader_months(conn, ids: list[str], months: list[date], metric: str) -> tuple[np.ndarray, np.ndarray]:
    """(counts, rows reported) per partnership (in the order of `ids`) and month, by primary key."""
    row_of = {rsp_id: i for i, rsp_id in enumerate(ids)}
    column_of = {m.isoformat(): j for j, m in enumerate(months)}
    counts, rows = np.zeros((2, len(ids), len(months)), dtype="int64")
    stmt = select(facts.c.rsp_id, raw_month(facts.c.month), facts.c[metric]).where(
        among(facts.c.rsp_id, list(ids), conn.dialect.name),
        facts.c.month.between(months[0], months[-1]),
        facts.c[metric].is_not(None),  # (not reported: 0 and not a row)
    )
    for rsp_id, month, count in conn.execute(stmt):
        at = row_of[rsp_id], column_of[iso(month)]
        counts[at], rows[at] = count, 1
    return counts, rows

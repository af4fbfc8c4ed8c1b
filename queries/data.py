"""The filtered monthly rows behind every figure, and where the data came from."""

from __future__ import annotations

from datetime import date

import pandas as pd
from sqlalchemy import Connection, Engine, case, func, literal, select, tuple_

from queries._base import as_date, conditions, facts_join, frame, frame_on, month_label, reading
from queries.filters import Filters
from queries.metrics import cell_conditions, grain_for
from rsp_data.metrics import BASE_KEYS
from rsp_data.schema import import_batches, partnerships, regions, sectors
from rsp_data.schema import monthly_metrics as facts
from rsp_data.schema import partnership_spans as spans
from rsp_data.schema import rollup_cells as cells
from rsp_data.store import month_to_date

PAGE_SIZE = 100
FIRST_CANDIDATES = 8  # partnerships asked for first when filling a page (see _next_partnerships)


def monthly_rows(
    engine: Engine, filters: Filters, *, after: tuple[str, str] | None = None, limit: int | None = None
) -> pd.DataFrame:
    """One row per partnership per month, in the import format plus names and the batch kind,
    ordered by partnership id and month.

    Paged by key (keyset): `after` = (rsp_id, "YYYY-MM") of the last row shown, `limit` rows from
    there. Without `limit`, every filtered row (the download; callers check monthly_row_count first).
    """
    with reading(engine) as conn:  # one connection for the page's statements
        if limit is None:
            return _rows_frame(conn, _page_query(filters, after=after))
        return _keyset_page(conn, filters, after, limit)


def _keyset_page(conn: Connection, filters: Filters, after: tuple[str, str] | None, limit: int) -> pd.DataFrame:
    # A page is driven from the registry, not from the fact table: the next partnerships that meet
    # the filters, in id order from `after`, whose span overlaps the months, then their facts by
    # primary key. Filtering the facts joined to partnerships instead walked the facts' index past
    # every partnership outside the filters (PostgreSQL: over 30 s for one region at 10M rows).
    frames, empty, cursor, inclusive, wanted = [], None, after[0] if after else None, True, limit
    while wanted > 0:
        ids, cursor, exhausted = _next_partnerships(conn, filters, cursor, inclusive, after, wanted)
        inclusive = False
        if ids:
            df = _rows_frame(conn, _page_query(filters, after=after, ids=ids, limit=wanted))
            # A span may have gaps: partnerships counted on can hold fewer rows (or none) in range.
            # Empty frames stay out of the concat, which would turn the number columns to object.
            if df.empty:
                empty = df
            else:
                frames.append(df)
                wanted -= len(df)
        if exhausted:
            break
    if not frames:
        return empty if empty is not None else _rows_frame(conn, _page_query(filters, after=after, ids=[]))
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def _next_partnerships(
    conn: Connection, filters: Filters, cursor: str | None, inclusive: bool, after: tuple[str, str] | None, wanted: int
) -> tuple[list[str], str | None, bool]:
    """The next partnerships (by id, from `cursor`) that meet the filters and report in the month
    range, just enough to hold `wanted` rows by their spans (an upper bound: a span may have gaps).
    Returns (ids, the cursor after them, whether the registry ran out)."""
    month_from = month_to_date(filters.month_from) if filters.month_from else None
    month_to = month_to_date(filters.month_to) if filters.month_to else None
    query = (
        select(spans.c.rsp_id, spans.c.first_month, spans.c.last_month, spans.c.months_reported)
        .where(*conditions(filters, months=False))
        .order_by(spans.c.rsp_id)
    )
    registry_filtered = bool(filters.regions or filters.sectors or filters.partnerships)
    if registry_filtered:
        query = query.select_from(spans.join(partnerships, spans.c.rsp_id == partnerships.c.rsp_id))
    if month_from is not None:
        query = query.where(spans.c.last_month >= month_from)
    if month_to is not None:
        query = query.where(spans.c.first_month <= month_to)
    ids, room = [], 0
    # Few partnerships fill a page unless the month range is short: ask for a few first (reading
    # a small region's partnerships by id stops sooner), then for at most as many as rows still
    # wanted (every partnership taken but the `after` one, past its span, has a row in range).
    batch = min(wanted + 1, FIRST_CANDIDATES)
    while True:
        stmt = query.limit(batch)
        if cursor is not None:
            # On both tables: PostgreSQL does not carry a range across the join's equality, and
            # merge-joined the spans from the cursor with every partnership from the first id.
            for key in (spans.c.rsp_id, partnerships.c.rsp_id) if registry_filtered else (spans.c.rsp_id,):
                stmt = stmt.where(key >= cursor if inclusive else key > cursor)
        inclusive = False
        found = conn.execute(stmt).all()
        for rsp_id, first, last, reported in found:
            first, last = as_date(first), as_date(last)
            start = max(d for d in (first, month_from) if d is not None)
            end = min(d for d in (last, month_to) if d is not None)
            if after is not None and rsp_id == after[0]:
                start = max(start, _next_month(month_to_date(after[1])))
            months = _month_number(end) - _month_number(start) + 1
            cursor = rsp_id
            if months <= 0:
                continue
            ids.append(rsp_id)
            room += min(months, reported)
            if room >= wanted:
                return ids, cursor, False
        if len(found) < batch:
            return ids, cursor, True
        batch = min(batch * 4, wanted - room + 1)


def _month_number(value: date) -> int:
    return value.year * 12 + value.month - 1


def _next_month(value: date) -> date:
    return date(value.year + value.month // 12, value.month % 12 + 1, 1)


def _page_query(
    filters: Filters, *, after: tuple[str, str] | None, ids: list[str] | None = None, limit: int | None = None
):
    """The page's facts (those of `ids` when given, else every filtered fact), then their names."""
    conds = conditions(filters, months=False) if ids is None else [facts.c.rsp_id.in_(ids)]
    if filters.month_from:
        conds.append(facts.c.month >= month_to_date(filters.month_from))
    if filters.month_to:
        conds.append(facts.c.month <= month_to_date(filters.month_to))
    if after is not None:
        rsp_id, month = after
        conds.append(tuple_(facts.c.rsp_id, facts.c.month) > tuple_(literal(rsp_id), literal(month_to_date(month))))
    # The page first, by the facts' primary key, then its names: joined before the LIMIT,
    # PostgreSQL hash-joined and sorted the whole table for every page.
    page = (
        select(facts.c.rsp_id, facts.c.month, facts.c.batch_id, *[facts.c[m] for m in BASE_KEYS])
        .select_from(facts_join() if ids is None else facts)
        .where(*conds)
        .order_by(facts.c.rsp_id, facts.c.month)
    )
    if limit is not None:
        page = page.limit(limit)
    page = page.subquery()
    return (
        select(
            page.c.rsp_id,
            partnerships.c.name.label("partnership"),
            sectors.c.name.label("sector"),
            regions.c.name.label("region"),
            page.c.month,
            *[page.c[m] for m in BASE_KEYS],
            import_batches.c.kind.label("source"),
        )
        .select_from(
            page.join(partnerships, page.c.rsp_id == partnerships.c.rsp_id)
            .join(sectors, partnerships.c.sector_id == sectors.c.sector_id)
            .join(regions, partnerships.c.region_id == regions.c.region_id)
            .join(import_batches, page.c.batch_id == import_batches.c.batch_id)
        )
        .order_by(page.c.rsp_id, page.c.month)
    )


def _rows_frame(conn: Connection, stmt) -> pd.DataFrame:
    df = frame_on(conn, stmt)
    df["month"] = df["month"].map(lambda v: month_label(as_date(v)))
    df["source"] = df["source"].map({"demo": "illustrative", "import": "imported"}).fillna(df["source"])
    return df


def monthly_row_count(engine: Engine, filters: Filters) -> int:
    """How many monthly rows the filters select (from the rollups unless partnerships are chosen)."""
    if filters.partnerships:
        stmt = select(func.count()).select_from(facts_join()).where(*conditions(filters))
    else:
        stmt = select(func.coalesce(func.sum(cells.c.reporting), 0)).where(
            *cell_conditions(filters, grain_for(filters))
        )
    with reading(engine) as conn:
        return int(conn.execute(stmt).scalar_one())


def load_history(engine: Engine) -> pd.DataFrame:
    """Every batch that wrote facts, newest first, with the rows it holds now (import_batches.rows_held,
    kept in step by every write: the fact table is not counted)."""
    stmt = select(import_batches).order_by(import_batches.c.loaded_at.desc(), import_batches.c.batch_id.desc())
    return frame(engine, stmt)


def illustrative_share(engine: Engine, filters: Filters) -> float:
    """Share of the filtered rows that come from the illustrative demo batch (0.0 to 1.0)."""
    if filters.partnerships:
        stmt = (
            select(
                func.count(),
                func.coalesce(func.sum(case((import_batches.c.kind == "demo", 1), else_=0)), 0),
            )
            .select_from(facts_join().join(import_batches, facts.c.batch_id == import_batches.c.batch_id))
            .where(*conditions(filters))
        )
    else:
        stmt = select(
            func.coalesce(func.sum(cells.c.reporting), 0), func.coalesce(func.sum(cells.c.demo_rows), 0)
        ).where(*cell_conditions(filters, grain_for(filters)))
    with reading(engine) as conn:
        total, demo = conn.execute(stmt).one()
    return (int(demo) / int(total)) if total else 0.0


def data_version(engine: Engine) -> str:
    """Changes whenever a batch is loaded or rolled back: part of the app's cache keys."""
    stmt = select(
        func.count(import_batches.c.batch_id),
        func.max(import_batches.c.batch_id),
        func.count(import_batches.c.rolled_back_at),
    )
    with reading(engine) as conn:
        count, last, rolled = conn.execute(stmt).one()
    return f"{count}-{last}-{rolled}"

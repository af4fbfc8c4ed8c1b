"""The filtered monthly rows behind every figure, and where the data came from."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Connection, Engine, case, func, literal, select, tuple_

from queries._base import FACTS, frame, reading, source, summed, where
from queries.filters import Filters
from rsp_data.metrics import STORED, STORED_KEYS
from rsp_data.months import as_date, label, month_to_date
from rsp_data.schema import import_batches, partnerships, regions, sectors
from rsp_data.schema import monthly_metrics as facts
from rsp_data.schema import rollup_cells as cells

PAGE_SIZE = 100
FIRST_CANDIDATES = 8  # partnerships asked for first when filling a page; then four times as many each time
MAX_CANDIDATES = 4096  # well under every driver's bound-parameter limit


def monthly_rows(
    engine: Engine, filters: Filters, *, after: tuple[str, str] | None = None, limit: int | None = None
) -> pd.DataFrame:
    """One row per partnership per month (import format, names, batch kind) by id and month: `limit` rows
    after `after` = (rsp_id, "YYYY-MM"), or every filtered row (the download)."""
    with reading(engine) as conn:  # one connection for the page's statements
        if limit is None:
            return _rows_frame(conn, _page_query(filters, after=after))
        return _keyset_page(conn, filters, after, limit)


def _keyset_page(conn: Connection, filters: Filters, after: tuple[str, str] | None, limit: int) -> pd.DataFrame:
    # Driven from the registry (the next partnerships in id order, then their facts by key): filtering the
    # facts joined to partnerships walks past every partnership outside the filters.
    frames, cursor, inclusive, wanted, batch = [], after[0] if after else None, True, limit, FIRST_CANDIDATES
    while wanted > 0:
        stmt = select(partnerships.c.rsp_id).where(*where(filters, partnerships, months=False))
        if cursor is not None:
            stmt = stmt.where(partnerships.c.rsp_id >= cursor if inclusive else partnerships.c.rsp_id > cursor)
        ids = conn.execute(stmt.order_by(partnerships.c.rsp_id).limit(batch)).scalars().all()
        if ids:
            df = _rows_frame(conn, _page_query(filters, after=after, ids=list(ids), limit=wanted))
            if not df.empty:  # (an empty frame in the concat would turn number columns to object)
                frames.append(df)
                wanted -= len(df)
            cursor, inclusive = ids[-1], False
        if len(ids) < batch:
            break
        batch = min(batch * 4, MAX_CANDIDATES)
    if not frames:
        return _rows_frame(conn, _page_query(filters, after=after, ids=[]))
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def _page_query(
    filters: Filters, *, after: tuple[str, str] | None, ids: list[str] | None = None, limit: int | None = None
):
    """The page's facts (those of `ids` when given, else every filtered fact), then their names."""
    months_only = Filters(month_from=filters.month_from, month_to=filters.month_to)
    conds = where(filters if ids is None else months_only, facts) + ([] if ids is None else [facts.c.rsp_id.in_(ids)])
    if after is not None:
        rsp_id, month = after
        conds.append(tuple_(facts.c.rsp_id, facts.c.month) > tuple_(literal(rsp_id), literal(month_to_date(month))))
    # The page first, by the facts' primary key, then its names: joined before the LIMIT,
    # PostgreSQL hash-joined and sorted the whole table for every page.
    page = (
        select(facts.c.rsp_id, facts.c.month, facts.c.batch_id, *[facts.c[m] for m in STORED_KEYS])
        .select_from(FACTS if ids is None else facts)
        .where(*conds)
        .order_by(facts.c.rsp_id, facts.c.month)
        .limit(limit)  # (None: no LIMIT)
        .subquery()
    )
    return (
        select(
            page.c.rsp_id,
            partnerships.c.name.label("partnership"),
            sectors.c.name.label("sector"),
            regions.c.name.label("region"),
            page.c.month,
            *[page.c[m] for m in STORED_KEYS],
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
    df = frame(conn, stmt)
    df["month"] = df["month"].map(lambda v: label(as_date(v)))
    # Optional metrics are blank where not reported: nullable whole numbers, or floats.
    df = df.astype({m.key: "Int64" if m.whole else "float64" for m in STORED})
    df["source"] = df["source"].map({"demo": "illustrative", "import": "imported"}).fillna(df["source"])
    return df


def monthly_row_count(engine: Engine, filters: Filters) -> int:
    """How many monthly rows the filters select (from the rollups unless partnerships are chosen)."""
    src = source(filters)
    stmt = select(summed(src.value("reporting"), "reporting")).select_from(src.table).where(*src.conds)
    with reading(engine) as conn:
        return int(conn.execute(stmt).scalar_one())


def load_history(engine: Engine) -> pd.DataFrame:
    """Every batch that wrote facts, newest first, with the rows it holds now (rows_held, kept by every write)."""
    stmt = select(import_batches).order_by(import_batches.c.loaded_at.desc(), import_batches.c.batch_id.desc())
    return frame(engine, stmt)


def illustrative_share(engine: Engine, filters: Filters) -> float:
    """Share of the filtered rows that come from the illustrative demo batch (0.0 to 1.0)."""
    if filters.partnerships:
        demo = case((import_batches.c.kind == "demo", 1), else_=0)
        stmt = (
            select(func.count(), summed(demo, "demo_rows"))
            .select_from(FACTS.join(import_batches, facts.c.batch_id == import_batches.c.batch_id))
            .where(*where(filters, facts))
        )
    else:
        src = source(filters)
        stmt = select(summed(cells.c.reporting, "reporting"), summed(cells.c.demo_rows, "demo_rows")).where(*src.conds)
    with reading(engine) as conn:
        total, demo = conn.execute(stmt).one()
    return (int(demo) / int(total)) if total else 0.0


def data_version(engine: Engine) -> str:
    """Changes whenever a batch is loaded or rolled back: part of the app's cache keys."""
    batch_id, rolled_back = import_batches.c.batch_id, import_batches.c.rolled_back_at
    stmt = select(func.count(batch_id), func.max(batch_id), func.count(rolled_back))
    with reading(engine) as conn:
        return "-".join(str(v) for v in conn.execute(stmt).one())  # count-last-rolled back

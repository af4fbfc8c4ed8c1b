"""The filtered monthly rows behind every figure, and where the data came from."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Engine, case, func, literal, select, tuple_

from queries._base import as_date, conditions, facts_join, frame, month_label
from queries.filters import Filters
from queries.metrics import cell_conditions, grain_for
from rsp_data.metrics import BASE_KEYS
from rsp_data.schema import import_batches, partnerships, regions, sectors
from rsp_data.schema import monthly_metrics as facts
from rsp_data.schema import rollup_cells as cells
from rsp_data.store import month_to_date

PAGE_SIZE = 100


def monthly_rows(
    engine: Engine, filters: Filters, *, after: tuple[str, str] | None = None, limit: int | None = None
) -> pd.DataFrame:
    """One row per partnership per month, in the import format plus names and the batch kind,
    ordered by partnership id and month.

    Paged by key (keyset): `after` = (rsp_id, "YYYY-MM") of the last row shown, `limit` rows from
    there; each page is an index range of the facts' primary key, however deep. Without `limit`,
    every filtered row (the download; callers check monthly_row_count first).
    """
    # The page first, by the facts' primary key (an index range, however deep), then its names:
    # joined before the LIMIT, PostgreSQL chose to hash-join and sort the whole table.
    conds = conditions(filters)
    if after is not None:
        rsp_id, month = after
        conds.append(tuple_(facts.c.rsp_id, facts.c.month) > tuple_(literal(rsp_id), literal(month_to_date(month))))
    # The page first, by the facts' primary key, then its names: joined before the LIMIT,
    # PostgreSQL hash-joined and sorted the whole table for every page.
    page = (
        select(facts.c.rsp_id, facts.c.month, facts.c.batch_id, *[facts.c[m] for m in BASE_KEYS])
        .select_from(facts_join())
        .where(*conds)
        .order_by(facts.c.rsp_id, facts.c.month)
    )
    if limit is not None:
        page = page.limit(limit)
    page = page.subquery()
    stmt = (
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
    df = frame(engine, stmt)
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
    with engine.connect() as conn:
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
    with engine.connect() as conn:
        total, demo = conn.execute(stmt).one()
    return (int(demo) / int(total)) if total else 0.0


def data_version(engine: Engine) -> str:
    """Changes whenever a batch is loaded or rolled back: part of the app's cache keys."""
    stmt = select(
        func.count(import_batches.c.batch_id),
        func.max(import_batches.c.batch_id),
        func.count(import_batches.c.rolled_back_at),
    )
    with engine.connect() as conn:
        count, last, rolled = conn.execute(stmt).one()
    return f"{count}-{last}-{rolled}"

"""The filtered monthly rows behind every figure, and where the data came from."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Engine, func, select

from queries._base import as_date, conditions, facts_join, frame, month_label
from queries.filters import Filters
from rsp_data.metrics import BASE_KEYS
from rsp_data.schema import import_batches, partnerships, regions, sectors
from rsp_data.schema import monthly_metrics as facts


def monthly_rows(engine: Engine, filters: Filters) -> pd.DataFrame:
    """One row per partnership per month, in the import format plus names and the batch kind."""
    stmt = (
        select(
            facts.c.rsp_id,
            partnerships.c.name.label("partnership"),
            sectors.c.name.label("sector"),
            regions.c.name.label("region"),
            facts.c.month,
            *[facts.c[m] for m in BASE_KEYS],
            import_batches.c.kind.label("source"),
        )
        .select_from(
            facts_join()
            .join(sectors, partnerships.c.sector_id == sectors.c.sector_id)
            .join(regions, partnerships.c.region_id == regions.c.region_id)
            .join(import_batches, facts.c.batch_id == import_batches.c.batch_id)
        )
        .where(*conditions(filters))
        .order_by(partnerships.c.name, facts.c.month)
    )
    df = frame(engine, stmt)
    df["month"] = df["month"].map(lambda v: month_label(as_date(v)))
    df["source"] = df["source"].map({"demo": "illustrative", "import": "imported"}).fillna(df["source"])
    return df


def load_history(engine: Engine) -> pd.DataFrame:
    """Every batch that wrote facts, newest first, with the rows it holds now (import_batches.rows_held,
    kept in step by every write: the fact table is not counted)."""
    stmt = select(import_batches).order_by(import_batches.c.loaded_at.desc(), import_batches.c.batch_id.desc())
    return frame(engine, stmt)


def illustrative_share(engine: Engine, filters: Filters) -> float:
    """Share of the filtered rows that come from the illustrative demo batch (0.0 to 1.0)."""
    stmt = (
        select(
            func.count(),
            func.coalesce(func.sum((import_batches.c.kind == "demo").cast(facts.c.placements.type)), 0),
        )
        .select_from(facts_join().join(import_batches, facts.c.batch_id == import_batches.c.batch_id))
        .where(*conditions(filters))
    )
    with engine.connect() as conn:
        total, demo = conn.execute(stmt).one()
    return (demo / total) if total else 0.0


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

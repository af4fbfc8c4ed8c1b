"""The registry as the store holds it: regions, sectors, partnerships, and the months with data."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Engine, func, select

from queries._base import as_date, frame, month_label
from rsp_data.schema import monthly_metrics as facts
from rsp_data.schema import partnerships, regions, sectors


def region_list(engine: Engine) -> pd.DataFrame:
    return frame(engine, select(regions).order_by(regions.c.name))


def sector_list(engine: Engine) -> pd.DataFrame:
    return frame(engine, select(sectors).order_by(sectors.c.name))


def partnership_list(engine: Engine) -> pd.DataFrame:
    """Every partnership with its sector and region names, and the months it has data for."""
    span = (
        select(
            facts.c.rsp_id,
            func.min(facts.c.month).label("first_month"),
            func.max(facts.c.month).label("last_month"),
        )
        .group_by(facts.c.rsp_id)
        .subquery()
    )
    stmt = (
        select(
            partnerships,
            sectors.c.name.label("sector_name"),
            regions.c.name.label("region_name"),
            span.c.first_month,
            span.c.last_month,
        )
        .join(sectors, partnerships.c.sector_id == sectors.c.sector_id)
        .join(regions, partnerships.c.region_id == regions.c.region_id)
        .outerjoin(span, span.c.rsp_id == partnerships.c.rsp_id)
        .order_by(partnerships.c.name)
    )
    df = frame(engine, stmt)
    for col in ("first_month", "last_month"):
        df[col] = df[col].map(lambda v: month_label(as_date(v)))
    df["gjc_supported"] = df["gjc_supported"].astype(bool)
    return df


def month_bounds(engine: Engine) -> tuple[str | None, str | None]:
    """First and last month with any data, as 'YYYY-MM' (None, None for an empty store)."""
    with engine.connect() as conn:
        first, last = conn.execute(select(func.min(facts.c.month), func.max(facts.c.month))).one()
    return (month_label(as_date(first)) or None, month_label(as_date(last)) or None)

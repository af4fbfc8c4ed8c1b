"""Quality of the jobs and reach of the programmes: the optional metrics within the filters.

Read from the rollups, never the whole fact table: range totals per partnership from
``running_totals`` (running(to) − running(from − 1)), monthly series from ``rollup_cells`` at the
grain the filters need. Aggregation follows the data dictionary (rsp_data/metrics.py):

- average starting wage: Σ(wage × placements) ÷ Σ placements over the rows that reported a wage,
  never a mean of means;
- share of placements without a bachelor's requirement: Σ placements_no_bachelor ÷ Σ placements
  of the partnership-months that reported it;
- work-based learning started, under-represented trainees: sums.

A metric no row in the filters reported has 0 in its ``*_rows`` count: the page hides it.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
from sqlalchemy import Engine, and_, case, func, select

from queries._base import as_date, frame, month_label, month_to_date
from queries.filters import Filters
from rsp_data.schema import OPTIONAL_COLUMNS, OPTIONAL_COUNT_COLUMNS, partnerships, regions, rollup_cells, sectors
from rsp_data.schema import monthly_metrics as facts
from rsp_data.schema import running_totals as running

SUMS = ("trainees_enrolled", "placements", *OPTIONAL_COUNT_COLUMNS, "wage_dollars", "wage_placements")
ROWS = tuple(f"{m}_rows" for m in OPTIONAL_COLUMNS)
CHUNK = 500  # ids per IN list


def grain(filters: Filters) -> str:
    """The rollup_cells grain that covers the region and sector filters."""
    if filters.regions and filters.sectors:
        return "cell"
    if filters.regions:
        return "region"
    if filters.sectors:
        return "sector"
    return "all"


def _month_before(month: date) -> date:
    return date(month.year - (month.month == 1), 12 if month.month == 1 else month.month - 1, 1)


def _running_conditions(filters: Filters) -> list:
    conds = []
    if filters.regions:
        conds.append(running.c.region_id.in_(filters.regions))
    if filters.sectors:
        conds.append(running.c.sector_id.in_(filters.sectors))
    if filters.partnerships:
        conds.append(running.c.rsp_id.in_(filters.partnerships))
    return conds


def _last_month(engine: Engine, filters: Filters) -> date | None:
    if filters.month_to:
        return month_to_date(filters.month_to)
    with engine.connect() as conn:
        return as_date(conn.execute(select(func.max(running.c.month))).scalar())


def _running_at(engine: Engine, month: date, filters: Filters) -> pd.DataFrame:
    cols = [f"cum_{c}" for c in (*SUMS, *ROWS, "months_reported")]
    stmt = select(running.c.rsp_id, running.c.region_id, running.c.sector_id, *[running.c[c] for c in cols]).where(
        running.c.month == month, *_running_conditions(filters)
    )
    df = frame(engine, stmt)
    for c in cols:
        df[c] = pd.to_numeric(df[c]).astype("float64")
    return df


def _no_bachelor_placements(engine: Engine, ids: list[str], first: date | None, last: date) -> dict[str, int]:
    """Placements of the months that reported placements_no_bachelor, for partnerships that reported
    it in only some months of the range (read from the facts by primary key)."""
    out: dict[str, int] = {}
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        conds = [facts.c.rsp_id.in_(chunk), facts.c.month <= last, facts.c.placements_no_bachelor.isnot(None)]
        if first is not None:
            conds.append(facts.c.month >= first)
        stmt = (
            select(facts.c.rsp_id, func.sum(facts.c.placements).label("placements"))
            .where(and_(*conds))
            .group_by(facts.c.rsp_id)
        )
        for rsp_id, placed in frame(engine, stmt).itertuples(index=False):
            out[rsp_id] = int(placed)
    return out


def partnership_totals(engine: Engine, filters: Filters) -> pd.DataFrame:
    """One row per partnership with data in the filtered range: rsp_id, region_id, sector_id,
    months (reported), trainees_enrolled, placements, the optional counts, wage_dollars,
    wage_placements, no_bachelor_placements (placements of the months that reported
    placements_no_bachelor) and each metric's *_rows (months that reported it)."""
    columns = [
        "rsp_id",
        "region_id",
        "sector_id",
        "months",
        *SUMS,
        "no_bachelor_placements",
        *ROWS,
    ]
    last = _last_month(engine, filters)
    if last is None:
        return pd.DataFrame(columns=columns)
    first = month_to_date(filters.month_from) if filters.month_from else None
    to_rows = _running_at(engine, last, filters)
    if first is not None:
        before = _running_at(engine, _month_before(first), filters).set_index("rsp_id")
        cum = [c for c in to_rows.columns if c.startswith("cum_")]
        base = before.reindex(to_rows["rsp_id"])[cum].fillna(0.0).to_numpy()
        to_rows[cum] = to_rows[cum].to_numpy() - base
    df = to_rows.rename(columns={f"cum_{c}": c for c in (*SUMS, *ROWS)}).rename(
        columns={"cum_months_reported": "months"}
    )
    df = df[df["months"] > 0].copy()
    for c in df.columns:
        if c not in ("rsp_id", "region_id", "sector_id", "wage_dollars"):
            df[c] = df[c].round().astype("int64")
    # The share's denominator: placements of the months that reported placements_no_bachelor.
    full = df["placements_no_bachelor_rows"] == df["months"]
    df["no_bachelor_placements"] = np.where(full, df["placements"], 0).astype("int64")
    partial = df.loc[(df["placements_no_bachelor_rows"] > 0) & ~full, "rsp_id"].tolist()
    if partial:
        exact = _no_bachelor_placements(engine, partial, first, last)
        df.loc[df["rsp_id"].isin(partial), "no_bachelor_placements"] = (
            df.loc[df["rsp_id"].isin(partial), "rsp_id"].map(exact).fillna(0).astype("int64")
        )
    return df[columns].sort_values("rsp_id").reset_index(drop=True)


def add_ratios(df: pd.DataFrame) -> pd.DataFrame:
    """avg_starting_wage (placement-weighted) and no_bachelor_share from the sums of each row;
    NaN where nobody reported them."""
    df = df.copy()
    weight = df["wage_placements"].astype("float64")
    df["avg_starting_wage"] = df["wage_dollars"].astype("float64") / weight.where(weight > 0)
    den = df["no_bachelor_placements"].astype("float64")
    df["no_bachelor_share"] = df["placements_no_bachelor"].astype("float64") / den.where(den > 0)
    return df


SUMMED = ("months", *SUMS, "no_bachelor_placements", *ROWS)


def quality_summary(engine: Engine, filters: Filters) -> dict:
    """The headline figures: avg_starting_wage, no_bachelor_share, placements_no_bachelor,
    no_bachelor_placements, wbl_started, trainees_underrepresented, wage_placements, the *_rows
    counts, partnerships (with data) and reporting[metric] (partnerships that reported it)."""
    per = partnership_totals(engine, filters)
    sums = {c: int(per[c].sum()) if c != "wage_dollars" else float(per[c].sum()) for c in SUMMED}
    out = add_ratios(pd.DataFrame([sums])).iloc[0].to_dict()
    out["partnerships"] = len(per)
    out["reporting"] = {m: int((per[f"{m}_rows"] > 0).sum()) for m in OPTIONAL_COLUMNS}
    return out


GROUP_TABLES = {
    "sector": ("sector_id", sectors, sectors.c.sector_id),
    "region": ("region_id", regions, regions.c.region_id),
    "partnership": ("rsp_id", partnerships, partnerships.c.rsp_id),
}


def quality_by(engine: Engine, filters: Filters, by: str) -> pd.DataFrame:
    """One row per sector, region or partnership with data: group_id, group_name, the sums,
    avg_starting_wage and no_bachelor_share (ratios of the group's sums), *_rows."""
    key, table, table_key = GROUP_TABLES[by]
    per = partnership_totals(engine, filters)
    grouped = per.groupby(key, as_index=False)[list(SUMMED)].sum().rename(columns={key: "group_id"})
    names = frame(engine, select(table_key.label("group_id"), table.c.name.label("group_name")))
    df = names.merge(grouped, on="group_id", how="inner")
    if by == "partnership":
        df = df.merge(per[["rsp_id", "sector_id", "region_id"]], left_on="group_id", right_on="rsp_id").drop(
            columns="rsp_id"
        )
    return add_ratios(df).sort_values("group_name", kind="stable").reset_index(drop=True)


def quality_monthly(engine: Engine, filters: Filters) -> pd.DataFrame:
    """Each month in range: month (Timestamp), placements, wage_dollars, wage_placements,
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
            func.coalesce(func.sum(facts.c.avg_starting_wage * facts.c.placements), 0.0).label("wage_dollars"),
            func.sum(case((wage_known, facts.c.placements), else_=0)).label("wage_placements"),
            *[func.coalesce(func.sum(facts.c[m]), 0).label(m) for m in OPTIONAL_COUNT_COLUMNS],
            *[func.count(facts.c[m]).label(f"{m}_rows") for m in OPTIONAL_COLUMNS],
        ]
    else:
        source = rollup_cells
        month = rollup_cells.c.month
        conds.append(rollup_cells.c.grain == grain(filters))
        if filters.regions:
            conds.append(rollup_cells.c.region_id.in_(filters.regions))
        if filters.sectors:
            conds.append(rollup_cells.c.sector_id.in_(filters.sectors))
        columns = [
            func.sum(rollup_cells.c[c]).label(c)
            for c in ("placements", "wage_dollars", "wage_placements", *OPTIONAL_COUNT_COLUMNS, *ROWS)
        ]
    if filters.month_from:
        conds.append(month >= month_to_date(filters.month_from))
    if filters.month_to:
        conds.append(month <= month_to_date(filters.month_to))
    stmt = select(month.label("month"), *columns).select_from(source).where(*conds).group_by(month).order_by(month)
    df = frame(engine, stmt)
    df["month"] = pd.to_datetime(df["month"].map(as_date))
    for c in df.columns:
        if c not in ("month", "wage_dollars"):
            df[c] = pd.to_numeric(df[c]).fillna(0).astype("int64")
    df["wage_dollars"] = pd.to_numeric(df["wage_dollars"]).astype("float64")
    weight = df["wage_placements"].astype("float64")
    df["avg_starting_wage"] = df["wage_dollars"] / weight.where(weight > 0)
    return df


def underrepresented_by_month(
    engine: Engine, filters: Filters, months: int = 12, max_rows: int = 40
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Under-represented trainees per partnership (rows, by name) and month (columns, 'YYYY-MM'),
    over the last `months` months of the range (from the first month anybody reported it), for the
    partnerships that reported it then.

    Returns (counts, reported): exact counts (a month not reported counts 0) and whether each cell
    was reported. Beyond `max_rows` partnerships, the smallest are summed into one row
    "Other partnerships (n)", so the column totals still cover every partnership. Counts this
    small must be suppressed before they are shown (queries/suppression.py)."""
    empty = pd.DataFrame(), pd.DataFrame()
    last = _last_month(engine, filters)
    if last is None:
        return empty
    first_allowed = month_to_date(filters.month_from) if filters.month_from else None
    window = [last]
    while len(window) < months and (first_allowed is None or _month_before(window[0]) >= first_allowed):
        window.insert(0, _month_before(window[0]))
    wanted = [_month_before(window[0]), *window]
    stmt = (
        select(
            running.c.rsp_id,
            running.c.month,
            running.c.cum_trainees_underrepresented.label("cum"),
            running.c.cum_trainees_underrepresented_rows.label("cum_rows"),
        )
        .where(running.c.month.in_(wanted), *_running_conditions(filters))
        .order_by(running.c.rsp_id, running.c.month)
    )
    df = frame(engine, stmt)
    if df.empty:
        return empty
    df["month"] = df["month"].map(as_date)
    wide = df.pivot_table(index="rsp_id", columns="month", values=["cum", "cum_rows"], aggfunc="sum")
    cum = wide["cum"].reindex(columns=wanted).astype("float64")
    cum_rows = wide["cum_rows"].reindex(columns=wanted).astype("float64")
    # A partnership's running rows start at its first month: before that, its sums are 0.
    counts = cum.ffill(axis=1).fillna(0).diff(axis=1).iloc[:, 1:]
    reported = cum_rows.ffill(axis=1).fillna(0).diff(axis=1).iloc[:, 1:]
    counts = counts.round().astype("int64")
    reported = reported > 0
    keep = reported.any(axis=1)
    counts, reported = counts[keep], reported[keep]
    if counts.empty:
        return empty
    # Start at the first month anybody reported it (the range may begin before reporting did).
    first = int(np.argmax(reported.any(axis=0).to_numpy()))
    window = window[first:]
    counts, reported = counts.iloc[:, first:], reported.iloc[:, first:]
    names = frame(engine, select(partnerships.c.rsp_id, partnerships.c.name))
    name_of = dict(zip(names["rsp_id"], names["name"], strict=True))
    order = counts.sum(axis=1).sort_values(ascending=False, kind="stable").index
    counts, reported = counts.loc[order], reported.loc[order]
    if len(counts) > max_rows:
        head, rest = counts.iloc[: max_rows - 1], counts.iloc[max_rows - 1 :]
        label = f"Other partnerships ({len(rest)})"
        counts = pd.concat([head, rest.sum().to_frame(label).T])
        reported = pd.concat([reported.iloc[: max_rows - 1], reported.iloc[max_rows - 1 :].any().to_frame(label).T])
    labels = [name_of.get(i, i) for i in counts.index]
    counts.index = reported.index = pd.Index(labels, name="Partnership")
    counts.columns = reported.columns = [month_label(m) for m in window]
    return counts, reported

"""Peers side by side: a sector × region matrix and per-partnership rankings.

Pure pandas over `metrics.metrics_by(..., "partnership")` rows merged with the registry's
sector_name and region_name, so every cell follows the metric's own arithmetic.
"""

from __future__ import annotations

import pandas as pd

from rsp_data.metrics import METRICS, RATE


def sector_region_matrix(partnerships: pd.DataFrame, metric: str) -> pd.DataFrame:
    """`metric` per sector (rows) and region (columns); NaN where no partnership is.

    Counts are summed across the cell's partnerships (employers engaged: their month-end
    counts at the as-of month); rates are the ratio of the cell's sums, never a mean of rates.
    """
    if partnerships.empty:
        return pd.DataFrame()
    info = METRICS[metric]
    columns = [info.numerator, info.denominator] if info.kind == RATE else [metric]
    sums = partnerships.groupby(["sector_name", "region_name"])[columns].sum()
    if info.kind == RATE:
        den = sums[info.denominator].astype("float64")
        cells = sums[info.numerator].astype("float64") / den.where(den > 0)
    else:
        cells = sums[metric].astype("float64")
    table = cells.unstack("region_name")
    order_rows = partnerships.groupby("sector_name")["placements"].sum().sort_values(ascending=False).index
    order_cols = partnerships.groupby("region_name")["placements"].sum().sort_values(ascending=False).index
    return table.reindex(index=order_rows, columns=order_cols)


def rankings(partnerships: pd.DataFrame) -> pd.DataFrame:
    """Per partnership: placement rate and placements per employer engaged, best first by rate.

    placements_per_employer = placements over the range ÷ employers engaged at the as-of month;
    NaN when a partnership had no employers then (a ratio of nothing is not zero).
    """
    out = partnerships[
        [
            "group_id",
            "group_name",
            "sector_id",
            "sector_name",
            "region_name",
            "placements",
            "trainees_completed",
            "employers_engaged",
            "placement_rate",
        ]
    ].copy()
    employers = out["employers_engaged"].astype("float64")
    out["placements_per_employer"] = out["placements"].astype("float64") / employers.where(employers > 0)
    return out.sort_values(["placement_rate", "placements"], ascending=False, na_position="last").reset_index(drop=True)

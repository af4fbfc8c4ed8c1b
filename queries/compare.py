"""Peers side by side (a sector × region matrix, rankings): pandas over partnership rows with names."""

from __future__ import annotations

import pandas as pd

from queries._base import needs
from rsp_data.metrics import value


def sector_region_matrix(partnerships: pd.DataFrame, metric: str) -> pd.DataFrame:
    """`metric` per sector (rows) and region (columns), NaN where no partnership is: a ratio of the cell's
    sums, never a mean of rates."""
    if partnerships.empty:
        return pd.DataFrame()
    sums = partnerships.groupby(["sector_name", "region_name"])[list(needs(metric))].sum()
    cells = pd.Series(value(metric, sums), index=sums.index)
    table = cells.unstack("region_name")
    order_rows = partnerships.groupby("sector_name")["placements"].sum().sort_values(ascending=False).index
    order_cols = partnerships.groupby("region_name")["placements"].sum().sort_values(ascending=False).index
    return table.reindex(index=order_rows, columns=order_cols)


def rankings(partnerships: pd.DataFrame) -> pd.DataFrame:
    """Per partnership: placement rate and placements per employer engaged, best first by rate."""
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
            "placements_per_employer",
        ]
    ].copy()
    return out.sort_values(["placement_rate", "placements"], ascending=False, na_position="last").reset_index(drop=True)

"""Small-cell suppression of a two-way table of counts (e.g. under-represented trainees by partnership and
month): counts from 1 to t − 1 read "<t", totals stay exact, and complementary cells ("x") are added until no
suppressed cell can be worked out from a line's shown total and the cells' known bounds."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

DEFAULT_THRESHOLD = 5
COMPLEMENT = "x"
TOTAL = "Total"


@dataclass(frozen=True)
class Suppressed:
    """display: the table as text with its totals; hidden / primary: the input's cells suppressed / below t."""

    display: pd.DataFrame
    hidden: pd.DataFrame
    primary: pd.DataFrame


def threshold_from(value: object, default: int = DEFAULT_THRESHOLD) -> int:
    """A threshold from configuration text: a whole number of at least 1, else the default."""
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return default
    return number if number >= 1 else default


def pinned(values: list[int], primary: list[bool], threshold: int) -> list[bool]:
    """Which suppressed cells of a line (true values; which are below t) its sum and their bounds give away."""
    bounds = [(1.0, float(threshold - 1)) if p else (0.0, math.inf) for p in primary]

    def others(i: int, end: int) -> float:
        return sum(b[end] for j, b in enumerate(bounds) if j != i)

    total = sum(values)
    return [max(lo, total - others(i, 1)) == min(hi, total - others(i, 0)) for i, (lo, hi) in enumerate(bounds)]


def _any_pinned(values: np.ndarray, primary: np.ndarray, hidden: np.ndarray, threshold: int) -> bool:
    return any(pinned(values[hidden].tolist(), primary[hidden].tolist(), threshold))


def suppression_mask(values: np.ndarray, threshold: int = DEFAULT_THRESHOLD) -> tuple[np.ndarray, np.ndarray]:
    """(hidden, primary) boolean arrays for a 2-D array of counts; zeros are shown (they identify nobody).
    Line by line, the standard for tables published with their margins, not every combination of lines."""
    values = np.asarray(values, dtype="int64")
    if values.ndim != 2:
        raise ValueError("a two-way table is needed")
    if (values < 0).any():
        raise ValueError("counts cannot be negative")
    primary = (values >= 1) & (values < threshold)
    hidden = primary.copy()
    n_rows, n_cols = values.shape
    # Lines whose total is shown: rows when there is a Total column, columns when there is a Total row.
    lines = []
    if n_cols >= 2:
        lines += [(r, slice(None)) for r in range(n_rows)]
    if n_rows >= 2:
        lines += [(slice(None), c) for c in range(n_cols)]
    changed = True
    while changed:
        changed = False
        for line in lines:
            cells, prim, hid = values[line], primary[line], hidden[line]
            count = int(hid.sum())
            if count == 0 or (count > 1 and not _any_pinned(cells, prim, hid, threshold)):
                continue
            shown = np.flatnonzero(~hid)
            if shown.size == 0:
                continue  # every cell of the line is suppressed: nothing left to add
            # The smallest non-zero shown cell loses least; a zero only when no non-zero cell is left.
            pick = min(shown, key=lambda i: (cells[i] == 0, cells[i], i))
            if count > 1 and cells[pick] == 0:
                trial = hid.copy()
                trial[pick] = True
                if _any_pinned(cells, prim, trial, threshold):
                    continue  # pinned from below (e.g. two "<5" summing to 2): a zero cannot help
            hid[pick] = True  # a view of the line: marks the cell in `hidden`
            changed = True
    return hidden, primary


def suppress(table: pd.DataFrame, threshold: int = DEFAULT_THRESHOLD) -> Suppressed:
    """A table of non-negative counts (e.g. partnerships × months) as text, small counts suppressed, totals exact."""
    values = table.to_numpy(dtype="int64")
    hidden, primary = suppression_mask(values, threshold)
    numbers = np.array([[f"{v:,}" for v in row] for row in values], dtype=object).reshape(values.shape)
    display = pd.DataFrame(
        np.where(hidden, np.where(primary, f"<{threshold}", COMPLEMENT), numbers),
        index=table.index.astype(str) if len(table.index) else table.index,
        columns=[str(c) for c in table.columns],
        dtype=object,
    )
    if values.shape[1] >= 2:
        display[TOTAL] = [f"{v:,}" for v in values.sum(axis=1)]
    if values.shape[0] >= 2:
        totals = [f"{v:,}" for v in values.sum(axis=0)]
        if values.shape[1] >= 2:
            totals.append(f"{int(values.sum()):,}")
        display.loc[TOTAL] = totals
    return Suppressed(
        display=display,
        hidden=pd.DataFrame(hidden, index=table.index, columns=table.columns),
        primary=pd.DataFrame(primary, index=table.index, columns=table.columns),
    )

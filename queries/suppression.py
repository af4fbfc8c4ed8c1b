"""Small-cell suppression of a two-way table of counts (e.g. under-represented trainees by
partnership and month), so that no published cell can identify people.

Method, for a table of non-negative counts and a threshold t (default 5):

1. Primary suppression: every cell from 1 to t − 1 is shown as "<t". Zeros are shown: a zero
   identifies nobody.
2. Totals are exact: each row and each column gets its exact total (a "Total" column when the
   table has two or more columns, a "Total" row when it has two or more rows, and the grand total).
3. Complementary suppression, repeated until nothing changes: in any row or column whose total is
   shown, a suppressed cell must not be recoverable from that total minus the shown cells, so
   - a line with exactly one suppressed cell gets a second one, and
   - a line whose suppressed cells could be pinned down from their known bounds (a "<t" cell is
     between 1 and t − 1, any other suppressed cell at least 0) gets another one, e.g. two "<5"
     cells in a row whose shown cells leave 2 for them (both must be 1).
   The cell added is the smallest non-zero shown cell of the line (least information lost), a zero
   cell only when no non-zero one is left. Complementary cells read "x": they are not below t.

What it does not promise: when no non-zero cell is left to add, the exact total can still bound
the suppressed cells (two "<5" cells and zeros in a row whose total is 2: the issue keeps totals
exact); and it reasons line by line, the standard for tables
published with their margins, not about every linear combination of rows and columns.
"""

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
    """display: the table as text, with its Total row and column; hidden / primary: which cells
    (of the input table, same index and columns) are suppressed, and which of those are below t."""

    display: pd.DataFrame
    hidden: pd.DataFrame
    primary: pd.DataFrame
    threshold: int


def threshold_from(value: object, default: int = DEFAULT_THRESHOLD) -> int:
    """A threshold from configuration text: a whole number of at least 1, else the default."""
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return default
    return number if number >= 1 else default


def _bounds(primary: bool, threshold: int) -> tuple[float, float]:
    return (1.0, float(threshold - 1)) if primary else (0.0, math.inf)


def pinned(values: list[int], primary: list[bool], threshold: int) -> list[bool]:
    """For the suppressed cells of one line (their true values, and which are below t): which of them
    an outsider could work out from the line's hidden sum and the cells' known bounds."""
    total = sum(values)
    bounds = [_bounds(p, threshold) for p in primary]
    out = []
    for i, (lo, hi) in enumerate(bounds):
        others_lo = sum(b[0] for j, b in enumerate(bounds) if j != i)
        others_hi = sum(b[1] for j, b in enumerate(bounds) if j != i)
        low, high = max(lo, total - others_hi), min(hi, total - others_lo)
        out.append(low == high)
    return out


def _any_pinned(values: np.ndarray, primary: np.ndarray, hidden: np.ndarray, threshold: int) -> bool:
    return any(pinned(values[hidden].tolist(), primary[hidden].tolist(), threshold))


def suppression_mask(values: np.ndarray, threshold: int = DEFAULT_THRESHOLD) -> tuple[np.ndarray, np.ndarray]:
    """(hidden, primary) boolean arrays for a 2-D array of counts; see the module docstring."""
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
            # Smallest non-zero shown cell first; zeros only when no non-zero cell is left.
            pick = min(shown, key=lambda i: (cells[i] == 0, cells[i], i))
            if count > 1 and cells[pick] == 0:
                trial = hid.copy()
                trial[pick] = True
                if _any_pinned(cells, prim, trial, threshold):
                    continue  # pinned from below (e.g. two "<5" summing to 2): a zero cannot help
            index = (line[0], pick) if isinstance(line[0], int) else (pick, line[1])
            hidden[index] = True
            changed = True
    return hidden, primary


def suppress(table: pd.DataFrame, threshold: int = DEFAULT_THRESHOLD) -> Suppressed:
    """The table's display strings with small counts suppressed and exact totals (module docstring).

    `table`: non-negative whole counts, rows and columns labelled (e.g. partnerships × months).
    """
    values = table.to_numpy(dtype="int64")
    hidden, primary = suppression_mask(values, threshold)
    display = pd.DataFrame(
        [
            [
                (f"<{threshold}" if primary[r, c] else COMPLEMENT) if hidden[r, c] else f"{values[r, c]:,}"
                for c in range(values.shape[1])
            ]
            for r in range(values.shape[0])
        ],
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
        threshold=threshold,
    )

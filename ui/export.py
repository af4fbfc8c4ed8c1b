"""Downloads that are safe to open in a spreadsheet."""

from __future__ import annotations

import pandas as pd

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def escape_cell(value):
    """Text beginning with a formula character gets a leading apostrophe (OWASP CSV injection advice)."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def safe_csv(df: pd.DataFrame) -> bytes:
    """CSV bytes (UTF-8 with BOM so Excel reads accents) with every text cell escaped."""
    text_cols = [c for c in df.columns if df[c].dtype == object or pd.api.types.is_string_dtype(df[c])]
    escaped = df.copy()
    for col in text_cols:
        escaped[col] = escaped[col].map(escape_cell)
    escaped.columns = [escape_cell(str(c)) for c in escaped.columns]
    return escaped.to_csv(index=False).encode("utf-8-sig")

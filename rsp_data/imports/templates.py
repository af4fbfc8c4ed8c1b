"""The import templates, generated from the metric list: the required columns, then the optional ones."""

from __future__ import annotations

import csv
import io
from collections.abc import Collection
from datetime import date

from rsp_data.imports.read import ALL_COLUMNS
from rsp_data.metrics import METRICS, OPTIONAL_KEYS, STORED_KEYS
from rsp_data.months import label, shift
from rsp_data.registry import registry


def _partnerships(rsp_ids: Collection[str] | None) -> list:
    """The registry's partnerships, or only those in `rsp_ids` (a convener's own) when given."""
    return [p for p in registry().partnerships if rsp_ids is None or p.id in rsp_ids]


def template_rows(month: str | None = None, rsp_ids: Collection[str] | None = None) -> list[dict[str, str]]:
    """One blank row per partnership (all, or `rsp_ids`) for `month` (default: last month)."""
    if month is None:
        month = label(shift(date.today(), -1))
    return [{"rsp_id": p.id, "month": month, **dict.fromkeys(STORED_KEYS, "")} for p in _partnerships(rsp_ids)]


def template_csv(month: str | None = None, rsp_ids: Collection[str] | None = None) -> bytes:
    """The import template: the required columns, then the optional ones (leave blank if not tracked)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=ALL_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(template_rows(month, rsp_ids))
    return out.getvalue().encode("utf-8-sig")


def _note(key: str) -> str:
    metric = METRICS[key]
    bounds = f" ({metric.bounds[0]:g} to {metric.bounds[1]:g} {metric.unit})" if metric.bounds else ""
    return f"{metric.label}: {metric.description.removeprefix('Optional. ')}{bounds}"


def template_xlsx(month: str | None = None, rsp_ids: Collection[str] | None = None) -> bytes:
    """The template as a workbook: the figures (metric meanings as header comments), partnerships, optional columns."""
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = "monthly figures"
    sheet.append(list(ALL_COLUMNS))
    for row in template_rows(month, rsp_ids):
        sheet.append([row[c] for c in ALL_COLUMNS])
    # Keep "2025-03" text (Excel would otherwise turn it into a date); decimals to two places.
    formats = {"month": "@", **{k: "0.00" for k in STORED_KEYS if not METRICS[k].whole}}
    for name, header in zip(ALL_COLUMNS, sheet[1], strict=True):
        header.font = Font(bold=True)
        letter = header.column_letter
        sheet.column_dimensions[letter].width = 30 if name == "rsp_id" else max(10, len(name) + 4)
        if name in METRICS:
            header.comment = Comment(_note(name), "template")
        for cell in sheet[letter] if name in formats else ():
            cell.number_format = formats[name]
    names = book.create_sheet("partnerships")
    names.append(["rsp_id", "name", "sector", "region"])
    for p in _partnerships(rsp_ids):
        names.append([p.id, p.name, p.sector, p.region])
    notes = book.create_sheet("optional columns")
    notes.append(["column", "what to enter (leave blank if you do not track it)"])
    for key in OPTIONAL_KEYS:
        notes.append([key, _note(key)])
    notes.column_dimensions["A"].width = 28
    notes.column_dimensions["B"].width = 100
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()

"""The import templates, generated from the metric list: the required columns, then the optional ones."""

from __future__ import annotations

import csv
import io
from collections.abc import Collection
from datetime import date

from rsp_data.imports.read import ALL_COLUMNS, MAX_COUNT
from rsp_data.metrics import METRICS, STORED_KEYS
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


LAST_ROW = 1_048_576  # Excel's last row: the checks below hold for rows a convener adds, too
HOW_TO = (
    "How to fill in this template",
    "",
    "1. On the 'monthly figures' sheet, one row per partnership per month. Add rows for more months if you like.",
    "2. rsp_id: pick your partnership from the drop-down (the 'partnerships' sheet lists the names).",
    "3. month: type it as YYYY-MM, e.g. 2026-11. The column is formatted as text so Excel keeps what you type.",
    "4. Counts are whole numbers of 0 or more: enter 0 where there were none. Excel refuses anything else typed.",
    "5. Optional columns (marked below): leave a cell blank if you do not track it. A blank is 'not reported' "
    "and never erases a figure already sent.",
    "6. Type or paste values only, no formulas (Paste Special > Values). Do not merge cells.",
    "7. Save as Excel Workbook (.xlsx) and upload it on the dashboard's Submit data page (sign in first). "
    "You will see every problem, or exactly what will change, before you confirm.",
    "",
)


def _instructions(book) -> None:
    """A sheet saying how to fill the template in and send it, then every column and what goes in it."""
    from openpyxl.styles import Font

    sheet = book.create_sheet("instructions")
    for line in HOW_TO:
        sheet.append([line])
    sheet.append(["column", "required?", "what to enter"])
    header_row = sheet.max_row
    sheet.append(["rsp_id", "required", "Your partnership's id, from the drop-down."])
    sheet.append(["month", "required", "The month the figures are for, as YYYY-MM (e.g. 2026-11)."])
    for key in STORED_KEYS:
        metric = METRICS[key]
        kind = " (a whole number, 0 or more)" if metric.whole else ""
        sheet.append([key, "optional: blank if not tracked" if metric.optional else "required", _note(key) + kind])
    sheet["A1"].font = Font(bold=True, size=14)
    for cell in sheet[header_row]:
        cell.font = Font(bold=True)
    for letter, width in (("A", 28), ("B", 30), ("C", 110)):
        sheet.column_dimensions[letter].width = width


def _validations(sheet, partnerships: int) -> None:
    """Excel's own checks on what is typed: a partnership from the list, whole counts >= 0, decimals in bounds."""
    from openpyxl.worksheet.datavalidation import DataValidation

    def check(letter: str, title: str, error: str, **rule) -> None:
        rule = DataValidation(allow_blank=True, showErrorMessage=True, errorTitle=title, error=error, **rule)
        rule.add(f"{letter}2:{letter}{LAST_ROW}")
        sheet.add_data_validation(rule)

    for name, header in zip(ALL_COLUMNS, sheet[1], strict=True):
        letter, metric = header.column_letter, METRICS.get(name)
        if name == "rsp_id":
            source = f"partnerships!$A$2:$A${max(partnerships, 1) + 1}"
            check(letter, "Partnership", "Pick a partnership id from the list.", type="list", formula1=source)
        elif metric is not None:
            low, high = (0, MAX_COUNT) if metric.whole or not metric.bounds else metric.bounds
            kind, example = ("whole", "Enter 0 where there were none.") if metric.whole else ("decimal", "E.g. 18.50.")
            low, high = (int(b) if float(b).is_integer() else b for b in (low, high))
            error = f"{metric.label}: a {kind} number from {low:,} to {high:,} ({metric.unit}). {example}"
            check(letter, metric.label, error, type=kind, operator="between", formula1=str(low), formula2=str(high))


def template_xlsx(month: str | None = None, rsp_ids: Collection[str] | None = None) -> bytes:
    """The template as a workbook: the figures (frozen header, Excel's own checks, metric meanings as header comments),
    instructions, and the partnerships its drop-down offers."""
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = "monthly figures"
    sheet.append(list(ALL_COLUMNS))
    for row in template_rows(month, rsp_ids):
        sheet.append([row[c] for c in ALL_COLUMNS])
    sheet.freeze_panes = "C2"  # the header, and which partnership and month, stay in view
    # The month column is text (Excel would otherwise turn "2025-03" into a date), for added rows too; decimals to
    # two places.
    formats = {"month": "@", **{k: "0.00" for k in STORED_KEYS if not METRICS[k].whole}}
    for name, header in zip(ALL_COLUMNS, sheet[1], strict=True):
        header.font = Font(bold=True)
        letter = header.column_letter
        sheet.column_dimensions[letter].width = 30 if name == "rsp_id" else max(10, len(name) + 4)
        if name in METRICS:
            header.comment = Comment(_note(name), "template")
        if name in formats:
            sheet.column_dimensions[letter].number_format = formats[name]
            for cell in sheet[letter][1:]:
                cell.number_format = formats[name]
    partnerships = _partnerships(rsp_ids)
    _validations(sheet, len(partnerships))
    _instructions(book)
    names = book.create_sheet("partnerships")
    names.append(["rsp_id", "name", "sector", "region"])
    for p in partnerships:
        names.append([p.id, p.name, p.sector, p.region])
    names.column_dimensions["A"].width = 30
    names.column_dimensions["B"].width = 50
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()

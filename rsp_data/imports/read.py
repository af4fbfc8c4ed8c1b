"""Reading and checking an upload, with no store: CSV or XLSX cells to validated rows. Every stored metric is a
column (required ones in every file); its declaration in rsp_data/metrics.py says how its cells are read (whole
or decimal, bounds) and checked against the row (`at_most`, weight)."""

from __future__ import annotations

import csv
import difflib
import hashlib
import io
import os
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime

from rsp_data.metrics import METRICS, OPTIONAL_KEYS, REQUIRED_KEYS, STORED_KEYS, Metric
from rsp_data.registry import registry

COLUMNS = ("rsp_id", "month", *REQUIRED_KEYS)  # required in every file
ALL_COLUMNS = (*COLUMNS, *OPTIONAL_KEYS)  # what the templates carry; the optional ones may be left out
MAX_BYTES = int(os.environ.get("RSP_IMPORT_MAX_BYTES", 5 * 1024 * 1024))
MAX_PROBLEMS_LISTED = 1000
FORMULA_PREFIXES = ("=", "+", "-", "@")
MONTH_RE = re.compile(r"^([0-9]{4})-([0-9]{2})$")
# Excel's renderings of a first-of-month date (typing 2026-11 stores 1 Nov 2026): Nov-26, Nov-2026, 11/1/2026,
# 11/1/26 and 2026-11-01 (a date cell, or ISO dates). Slashes are read month/day/year, as US Excel writes them.
ISO_DATE_RE = re.compile(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})$")
MON_YEAR_RE = re.compile(r"^([A-Za-z]{3})-([0-9]{2}|[0-9]{4})$")
SLASH_DATE_RE = re.compile(r"^([0-9]{1,2})/([0-9]{1,2})/([0-9]{2}|[0-9]{4})$")
WORDS_RE = re.compile(r"^([A-Za-z]+)\.?[ ,-]+([0-9]{4})$")  # "March 2025": refused, with the YYYY-MM to write
MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
FULL_NAMES = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october")
FULL_NAMES += ("november", "december", "sept")
NUMBER_RE = re.compile(r"-?([0-9]+(\.[0-9]+)?|\.[0-9]+)")
THOUSANDS_RE = re.compile(r"[0-9]{1,3}(,[0-9]{3})+(\.[0-9]+)?")
MAX_COUNT = 1_000_000  # far above any partnership's month; guards typos and integer overflow
FORMULA_CELL = "\x00formula"  # stands in for an Excel formula cell, already reported


@dataclass(frozen=True)
class Problem:
    """One finding about the file. row is the spreadsheet row (header = 1); 0 = the whole file."""

    row: int
    column: str
    value: str
    reason: str
    severity: str = "error"  # or "warning"

    def __str__(self) -> str:
        where = "file" if self.row == 0 else f"row {self.row}"
        col = f", column {self.column}" if self.column else ""
        val = f", value {self.value!r}" if self.value != "" else ""
        return f"{self.severity}: {where}{col}{val}: {self.reason}"


@dataclass
class Row:
    line: int
    rsp_id: str
    month: date
    values: dict[str, int | float]  # the required metrics, and the optional ones the row states
    month_text: str = ""  # the month cell when it was a date form (Nov-26, 11/1/2026), not YYYY-MM
    month_form: str = ""  # which date form it was


@dataclass
class ValidationReport:
    file_name: str
    checksum: str
    rows: list[Row] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def add(self, row: int, column: str, value, reason: str, severity: str = "error") -> None:
        self.problems.append(Problem(row, column, "" if value is None else str(value)[:80], reason, severity))

    def text(self) -> str:
        written = "" if self.ok else "; nothing was written"
        head = f"{self.file_name}: {len(self.errors)} error(s), {len(self.warnings)} warning(s){written}"
        return "\n".join([head, *(str(p) for p in self.problems[:MAX_PROBLEMS_LISTED])])


class ImportRejected(Exception):
    """The file has errors; `report` lists them all."""

    def __init__(self, report: ValidationReport):
        super().__init__(report.text())
        self.report = report


def _read_cells(content: bytes, file_name: str, report: ValidationReport) -> list[list[str]] | None:
    """The file as rows of text cells (header first), or None after reporting why it cannot be read."""
    suffix = file_name.lower().rsplit(".", 1)[-1] if "." in file_name else ""
    is_zip = content[:4] == b"PK\x03\x04"
    if len(content) > MAX_BYTES:
        why = f"the file is {len(content):,} bytes; the limit is {MAX_BYTES:,} bytes. Split it by year."
    elif not content.removeprefix(b"\xef\xbb\xbf").strip():
        why = "the file is empty"
    elif suffix in ("xlsx", "xlsm"):
        if is_zip:
            return _read_xlsx(content, report)
        why = "the file is named .xlsx but is not an Excel workbook"
    elif suffix == "xls":
        why = "old Excel .xls files are not read: save as .xlsx or CSV UTF-8"
    elif is_zip or b"\x00" in content[:4096]:
        kind = "an Excel workbook or other ZIP file" if is_zip else "a binary file"
        why = f"this is {kind}, not CSV text: upload the .xlsx as it is, or save as CSV UTF-8"
    else:
        return _read_csv(content, report)
    report.add(0, "", "", why)
    return None


def _read_csv(content: bytes, report: ValidationReport) -> list[list[str]] | None:
    content = content.removeprefix(b"\xef\xbb\xbf")  # UTF-8 with BOM, as Excel writes "CSV UTF-8": fine
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = content[: exc.start].count(b"\n") + 1
        why = (
            "the file is not UTF-8 text (perhaps Windows-1252 or Latin-1): in Excel use "
            "Save As > 'CSV UTF-8 (Comma delimited)'"
        )
        report.add(line, "", f"byte 0x{content[exc.start]:02X}", why)
        return None
    header = text.splitlines()[0] if text else ""
    if "," not in header:
        for delimiter, name in ((";", "semicolons"), ("\t", "tabs"), ("|", "vertical bars")):
            if delimiter in header:
                report.add(1, "", header[:80], f"columns are separated by {name}; use commas")
                return None
    return [list(r) for r in csv.reader(io.StringIO(text))]


def _read_xlsx(content: bytes, report: ValidationReport) -> list[list[str]] | None:
    from openpyxl import load_workbook  # imported here: only Excel uploads need it

    try:
        book = load_workbook(io.BytesIO(content), data_only=False, read_only=False)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        report.add(0, "", "", f"the workbook cannot be read ({exc.__class__.__name__}): save it again as .xlsx")
        return None
    sheet = book.worksheets[0]
    for merged in sheet.merged_cells.ranges:
        report.add(merged.min_row, "", str(merged.coord), "merged cells: unmerge them so every cell has its own value")
    rows: list[list[str]] = []
    for row in sheet.iter_rows():  # from row 1, so rows[0] is the header
        cells = []
        for cell in row:
            value = cell.value
            if cell.data_type == "f":
                where = f"cell {cell.coordinate}"
                name = rows[0][len(cells)].strip().lower() if rows and len(cells) < len(rows[0]) else ""
                reason = "a formula: paste the values instead (Paste Special > Values)"
                report.add(cell.row, f"{name} ({where})" if name else where, value, reason)
                value = FORMULA_CELL  # reported once, here; validate() skips it
            cells.append(_cell_text(value))
        rows.append(cells)
    while rows and not any(c.strip() for c in rows[-1]):
        rows.pop()
    return rows


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.strftime("%Y-%m-%d")  # Excel turned "2025-03" into a date: its month, if day 1, is read
    return str(value)


def _suggest(word: str, choices, cutoff: float = 0.6) -> str:
    match = difflib.get_close_matches(word.strip().lower(), list(choices), n=1, cutoff=cutoff)
    return f" (did you mean '{match[0]}'?)" if match else ""


def _month_of(text: str) -> tuple[int, int, str] | str:
    """(year, month, form) from YYYY-MM or an Excel rendering of a first-of-month date; else why it is refused."""
    if match := MONTH_RE.match(text):
        return int(match.group(1)), int(match.group(2)), ""
    if match := ISO_DATE_RE.match(text):
        year, month, day = (int(g) for g in match.groups())
        if day != 1:
            return f"a date, not a month: write the month as YYYY-MM, e.g. {year}-{month:02d}"
        return year, month, "a date"
    if (match := MON_YEAR_RE.match(text)) and match.group(1).lower() in MONTH_NAMES:
        return _century(int(match.group(2))), MONTH_NAMES.index(match.group(1).lower()) + 1, "Excel's date form"
    if match := SLASH_DATE_RE.match(text):
        month, day, year = int(match.group(1)), int(match.group(2)), _century(int(match.group(3)))
        if not 1 <= month <= 12:
            return "dates with slashes are read month/day/year, as Excel in the US writes them: write YYYY-MM"
        if day != 1:
            when = f"{FULL_NAMES[month - 1].title()} {day}, {year}"
            return f"{when} (read month/day/year), not a month's first day: write the month you mean as YYYY-MM"
        return year, month, "Excel's date form, month/day/year"
    words = WORDS_RE.match(text)
    name = words.group(1).lower() if words else ""
    if name in MONTH_NAMES or name in FULL_NAMES:
        month = MONTH_NAMES.index(name[:3]) + 1
        return f"months are written YYYY-MM: write {words.group(2)}-{month:02d}"
    return "months are written YYYY-MM, e.g. 2025-03"


def _century(year: int) -> int:
    """Excel's two-digit year (Nov-26, 11/1/26) in this century: the store holds no month before 2000."""
    return year + 2000 if year < 100 else year


def _parse_month(text: str, today: date) -> tuple[date | None, str]:
    """A month written YYYY-MM only (goals.csv): (first day, "") or (None, why)."""
    value, why, form = _read_month(text, today)
    return (None, "months are written YYYY-MM, e.g. 2025-03") if form else (value, why)


def _read_month(text: str, today: date) -> tuple[date | None, str, str]:
    """(first day of the month, "", form read) or (None, why, ""); form is "" for YYYY-MM, else a date form."""
    if text == FORMULA_CELL:
        return None, "", ""
    if text == "":
        return None, "blank: every row needs a month, written YYYY-MM", ""
    found = _month_of(text)
    if isinstance(found, str):
        return None, found, ""
    year, month, form = found
    if not 1 <= month <= 12:
        return None, f"there is no month {month:02d}: months run 01 to 12", ""
    if year < 2000:
        return None, "the year is before 2000", ""
    value = date(year, month, 1)
    if value > date(today.year, today.month, 1):
        return None, f"the month is in the future (today is {today:%Y-%m-%d})", ""
    return value, "", form


def _parse_value(text: str, metric: Metric) -> tuple[int | float | None, str]:
    """A metric's cell as its value; (None, why) when wrong, (None, "") for a formula cell (already reported)."""
    if text == FORMULA_CELL:
        return None, ""
    raw = text.strip()
    if raw == "":
        return None, "blank: enter 0 if there were none"
    if raw.startswith(FORMULA_PREFIXES) and not NUMBER_RE.fullmatch(raw):
        return None, "looks like a formula, not a number"
    cleaned = raw.removeprefix("$").strip() if metric.format == "dollars" else raw
    if THOUSANDS_RE.fullmatch(cleaned):
        cleaned = cleaned.replace(",", "")
    if not NUMBER_RE.fullmatch(cleaned):
        return None, "not a number" + ("" if metric.whole else " (write digits, e.g. 18.50)")
    value = float(cleaned)
    if value < 0:
        return None, f"negative: {'counts' if metric.whole else metric.label.lower()} cannot be below 0"
    if metric.whole and not value.is_integer():
        return None, f"not a whole number: counts are whole {metric.unit}"
    if not metric.whole and len(cleaned.partition(".")[2]) > 2:
        return None, "more than two decimals: round to two places, e.g. 18.50"
    if metric.bounds and not metric.bounds[0] <= value <= metric.bounds[1]:
        low, high = (f"${b:,.2f}" if metric.format == "dollars" else f"{b:,g}" for b in metric.bounds)
        return None, f"outside {low}–{high}: is it in {metric.unit}, without a typo?"
    if value > MAX_COUNT:
        return None, f"too large: more than {MAX_COUNT:,} in one month for one partnership"
    return (int(value) if metric.whole else round(value, 2)), ""


def _values(line: int, cell, report: ValidationReport) -> dict[str, int | float] | None:
    """The metrics a row states, or None when one is wrong or a required one is missing."""
    values: dict[str, int | float] = {}
    ok = True
    for key in STORED_KEYS:
        metric, text = METRICS[key], cell(key)
        if text is None or (text == "" and metric.optional):
            ok = ok and metric.optional  # column missing (reported on the header) or not reported
            continue
        number, why = _parse_value(text, metric)
        if number is None:
            if why:
                report.add(line, key, text, why)
            ok = False
        else:
            values[key] = number
    for key, number in values.items():
        metric = METRICS[key]
        bound = values.get(metric.at_most)
        if bound is not None and number > bound:
            label = METRICS[metric.at_most].label.lower()
            report.add(line, key, cell(key), f"more than the row's {bound} {label}: these are some of them")
            ok = False
        if metric.weight and values.get(metric.weight) == 0:
            weight = METRICS[metric.weight].label.lower()
            reason = f"{metric.label.lower()} with 0 {weight}: it would carry no weight, leave it blank"
            report.add(line, key, cell(key), reason)
            ok = False
    return values if ok else None


def _positions(cells: list[list[str]], report: ValidationReport) -> dict[str, int]:
    """Where each known column is, after reporting unknown, repeated and missing ones."""
    header = [h.strip().lower() for h in cells[0]]
    positions: dict[str, int] = {}
    for index, name in enumerate(header):
        if name in positions:
            report.add(1, name, name, "this column appears twice")
        elif name in ALL_COLUMNS:
            positions[name] = index
        elif name:
            missing = [c for c in ALL_COLUMNS if c not in header]
            hint = _suggest(name, missing) or _suggest(name, ALL_COLUMNS)
            expected = f"expected {','.join(COLUMNS)}, and optionally {','.join(OPTIONAL_KEYS)}"
            why = f"unknown column{hint}" if hint else f"unknown column: remove it ({expected})"
            report.add(1, name, cells[0][index], why)
    for name in COLUMNS:
        if name not in positions:
            report.add(1, name, "", "required column is missing")
    return positions


def validate(content: bytes, file_name: str, *, today: date | None = None) -> ValidationReport:
    """Read and check a whole file; every problem is in the report, with row, column, value, reason."""
    today = today or date.today()
    known = {p.id for p in registry().partnerships}
    report = ValidationReport(file_name=file_name, checksum=hashlib.sha256(content).hexdigest())
    cells = _read_cells(content, file_name, report)
    if cells is None:
        return report
    if not cells or not any(h.strip() for h in cells[0]):
        report.add(1, "", "", "the first row must be the header: " + ",".join(COLUMNS))
        return report
    positions = _positions(cells, report)
    if not positions:
        return report
    # Header problems do not stop here: the rows are checked too, so one round trip shows everything.
    data = [(i + 2, r) for i, r in enumerate(cells[1:]) if any(c.strip() for c in r)]
    if not data:
        report.add(0, "", "", "the file has a header but no data rows")
    seen: dict[tuple[str, date], int] = {}
    for line, raw in data:
        row = _row(line, raw, len(cells[0]), positions, known, today, report)
        if row is None:
            continue
        key = (row.rsp_id, row.month)
        if key in seen:
            month = f"{row.month:%Y-%m}"
            report.add(line, "month", month, f"{row.rsp_id} {month} is already on row {seen[key]}")
            continue
        seen[key] = line
        report.rows.append(row)
    _note_months_read(report)
    return report


def _note_months_read(report: ValidationReport) -> None:
    """One warning per month cell written as a date (Nov-26, 11/1/2026), saying which month was read."""
    read: dict[str, list[Row]] = {}
    for row in report.rows:
        if row.month_text:
            read.setdefault(row.month_text, []).append(row)
    for text, rows in read.items():
        first = rows[0]
        where = f": {len(rows)} rows, from row {first.line}" if len(rows) > 1 else ""
        reason = f"read as {first.month:%Y-%m} ({first.month_form}){where}"
        report.add(first.line, "month", text, reason, "warning")


def _row(line, raw, width, positions, known, today, report: ValidationReport) -> Row | None:
    def cell(name: str) -> str | None:
        index = positions.get(name)
        if index is None:
            return None  # column missing: reported once, on the header
        return raw[index].strip() if index < len(raw) else ""

    extra = [c for c in raw[width:] if c.strip()]
    if extra:
        report.add(line, "", extra[0], "more cells than columns in the header (a stray comma?)")
    rsp_id, month = cell("rsp_id"), None
    ok = rsp_id not in (None, FORMULA_CELL)
    if rsp_id == "":
        report.add(line, "rsp_id", "", "blank: every row needs a partnership id")
        ok = False
    elif ok and rsp_id not in known:
        report.add(line, "rsp_id", rsp_id, "unknown partnership id" + _suggest(rsp_id, known, cutoff=0.4))
        ok = False
    form = ""
    if cell("month") is not None:
        month, why, form = _read_month(cell("month"), today)
        if month is None and why:
            report.add(line, "month", cell("month"), why)
    values = _values(line, cell, report)
    if not ok or month is None or values is None:
        return None
    return Row(line, rsp_id, month, values, cell("month") if form else "", form)

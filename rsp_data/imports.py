"""Importing conveners' monthly figures: read, validate, preview, apply as one batch, roll back.

One pipeline behind both doors (the `python -m rsp_data import` command and the Submit page):

    report = validate(content, file_name)          # every problem at once, nothing written
    plan = plan_import(engine, report)             # what would be added / changed (old -> new)
    result = apply_import(engine, content, file_name, loaded_by)   # one transaction
    rollback(engine, batch_id, by)                 # restores the exact prior values

Any error rejects the whole file. A file is applied in a single transaction behind the
import lock, so a crash part-way leaves the store exactly as it was and two imports never
interleave.

Optional metrics (avg_starting_wage, placements_no_bachelor, wbl_started,
trainees_underrepresented) are read when their column is present. A missing column or an empty
cell means "not reported in this file": a new row stores NULL, and a row already in the store
keeps the value it has (a file never erases an optional value by saying nothing about it; to take
one back, roll back the batch that wrote it). fact_history records old/new optional values only
for the metrics a row states, so rollback restores exactly those.
"""

from __future__ import annotations

import csv
import difflib
import hashlib
import io
import os
import re
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import Engine, and_, delete, insert, select, tuple_, update

from rsp_data import rollups, schema
from rsp_data.months import as_date
from rsp_data.registry import registry
from rsp_data.schema import FACT_COLUMNS, METRIC_COLUMNS, OPTIONAL_COLUMNS

COLUMNS = ("rsp_id", "month", *METRIC_COLUMNS)  # required in every file
ALL_COLUMNS = (*COLUMNS, *OPTIONAL_COLUMNS)  # what the templates carry; the optional ones may be left out
WAGE = "avg_starting_wage"
MIN_WAGE, MAX_WAGE = 7.25, 500.0  # dollars an hour: the federal minimum wage; far above any starting wage
MAX_BYTES = int(os.environ.get("RSP_IMPORT_MAX_BYTES", 5 * 1024 * 1024))
MAX_PROBLEMS_LISTED = 1000
FORMULA_PREFIXES = ("=", "+", "-", "@")
MONTH_RE = re.compile(r"^([0-9]{4})-([0-9]{2})$")
MAX_COUNT = 1_000_000  # far above any partnership's month; guards typos and integer overflow
FORMULA_CELL = "\x00formula"  # stands in for an Excel formula cell, already reported
EMPLOYER_JUMP = 0.5  # warn when employers engaged moves by more than half from one month to the next

Progress = Callable[[float, str], None]


def _no_progress(fraction: float, message: str) -> None:
    del fraction, message


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
    values: dict[str, int | float]  # the four base metrics, and the optional ones the row states


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
        head = (
            f"{self.file_name}: {len(self.errors)} error(s), {len(self.warnings)} warning(s)"
            f"{'' if self.ok else '; nothing was written'}"
        )
        return "\n".join([head, *(str(p) for p in self.problems[:MAX_PROBLEMS_LISTED])])


class ImportRejected(Exception):
    """The file has errors; `report` lists them all."""

    def __init__(self, report: ValidationReport):
        super().__init__(report.text())
        self.report = report


class RollbackRefused(Exception):
    pass


# ------------------------------------------------------------------ reading


def checksum(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def _is_zip(content: bytes) -> bool:
    return content[:4] == b"PK\x03\x04"


def _read_cells(content: bytes, file_name: str, report: ValidationReport) -> list[list[str]] | None:
    """The file as rows of text cells (header first), or None after reporting why it cannot be read."""
    if len(content) > MAX_BYTES:
        report.add(
            0, "", "", f"the file is {len(content):,} bytes; the limit is {MAX_BYTES:,} bytes. Split it by year."
        )
        return None
    if not content.removeprefix(b"\xef\xbb\xbf").strip():
        report.add(0, "", "", "the file is empty")
        return None
    suffix = file_name.lower().rsplit(".", 1)[-1] if "." in file_name else ""
    if suffix in ("xlsx", "xlsm"):
        if not _is_zip(content):
            report.add(0, "", "", "the file is named .xlsx but is not an Excel workbook")
            return None
        return _read_xlsx(content, report)
    if suffix == "xls":
        report.add(0, "", "", "old Excel .xls files are not read: save as .xlsx or CSV UTF-8")
        return None
    if _is_zip(content) or b"\x00" in content[:4096]:
        kind = "an Excel workbook or other ZIP file" if _is_zip(content) else "a binary file"
        report.add(0, "", "", f"this is {kind}, not CSV text: upload the .xlsx as it is, or save as CSV UTF-8")
        return None
    return _read_csv(content, report)


def _read_csv(content: bytes, report: ValidationReport) -> list[list[str]] | None:
    if content.startswith(b"\xef\xbb\xbf"):  # UTF-8 with BOM, as Excel writes "CSV UTF-8": fine
        content = content[3:]
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = content[: exc.start].count(b"\n") + 1
        report.add(
            line,
            "",
            f"byte 0x{content[exc.start]:02X}",
            "the file is not UTF-8 text (perhaps Windows-1252 or Latin-1): in Excel use "
            "Save As > 'CSV UTF-8 (Comma delimited)'",
        )
        return None
    lines = text.splitlines()
    header = lines[0] if lines else ""
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
    formulas = []
    for row in sheet.iter_rows():
        cells = []
        for cell in row:
            value = cell.value
            if cell.data_type == "f":
                formulas.append((cell.row, len(cells), cell.column_letter, str(value)))
                value = FORMULA_CELL  # reported once, below; validate() skips it
            cells.append(_cell_text(value))
        rows.append(cells)
    header = rows[0] if rows else []
    for row_number, index, letter, formula in formulas:
        name = header[index].strip().lower() if index < len(header) and row_number > 1 else ""
        report.add(
            row_number,
            f"{name} (cell {letter}{row_number})" if name else f"cell {letter}{row_number}",
            formula,
            "a formula: paste the values instead (Paste Special > Values)",
        )
    while rows and not any(c.strip() for c in rows[-1]):
        rows.pop()
    return rows


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.strftime("%Y-%m")  # Excel turned "2025-03" into a date: read its month
    return str(value)


# ------------------------------------------------------------------ validating


def _suggest(word: str, choices, cutoff: float = 0.6) -> str:
    match = difflib.get_close_matches(word.strip().lower(), list(choices), n=1, cutoff=cutoff)
    return f" (did you mean '{match[0]}'?)" if match else ""


def _parse_month(text: str, today: date) -> tuple[date | None, str]:
    if text == FORMULA_CELL:
        return None, ""
    if text == "":
        return None, "blank: every row needs a month, written YYYY-MM"
    match = MONTH_RE.match(text)
    if not match:
        return None, "months are written YYYY-MM, e.g. 2025-03"
    year, month = int(match.group(1)), int(match.group(2))
    if not 1 <= month <= 12:
        return None, f"there is no month {month:02d}: months run 01 to 12"
    if year < 2000:
        return None, "the year is before 2000"
    value = date(year, month, 1)
    if value > date(today.year, today.month, 1):
        return None, f"the month is in the future (today is {today:%Y-%m-%d})"
    return value, ""


def _parse_count(text: str) -> tuple[int | None, str]:
    if text == FORMULA_CELL:
        return None, ""
    raw = text.strip()
    if raw == "":
        return None, "blank: enter 0 if there were none"
    if raw.startswith(FORMULA_PREFIXES) and not re.fullmatch(r"-[0-9]+(\.[0-9]+)?", raw):
        return None, "looks like a formula, not a number"
    cleaned = raw.replace(",", "") if re.fullmatch(r"[0-9]{1,3}(,[0-9]{3})+", raw) else raw
    if re.fullmatch(r"-[0-9]+(\.0+)?", cleaned):
        return None, "negative: counts cannot be below 0"
    if re.fullmatch(r"-?[0-9]*\.[0-9]+", cleaned):
        if re.fullmatch(r"[0-9]+\.0+", cleaned):
            return int(cleaned.split(".")[0]), ""
        return None, "not a whole number: counts are whole people or employers"
    if not re.fullmatch(r"[0-9]+", cleaned):
        return None, "not a number"
    if int(cleaned) > MAX_COUNT:
        return None, f"too large: more than {MAX_COUNT:,} in one month for one partnership"
    return int(cleaned), ""


def _parse_wage(text: str) -> tuple[float | None, str]:
    """An hourly wage in dollars and cents, e.g. 18.50 or $18.5; (None, "") for a formula cell."""
    if text == FORMULA_CELL:
        return None, ""
    raw = text.strip()
    if raw.startswith(FORMULA_PREFIXES) and not re.fullmatch(r"-[0-9.]+", raw):
        return None, "looks like a formula, not a number"
    cleaned = raw.removeprefix("$").strip()
    if re.fullmatch(r"-[0-9]*\.?[0-9]+", cleaned):
        return None, "negative: a wage cannot be below 0"
    if re.fullmatch(r"[0-9]*\.[0-9]{3,}", cleaned):
        return None, "more than two decimals: write dollars and cents, e.g. 18.50"
    if not re.fullmatch(r"[0-9]+(\.[0-9]{1,2})?|\.[0-9]{1,2}", cleaned):
        return None, "not a number of dollars an hour, e.g. 18.50"
    value = round(float(cleaned), 2)
    if not MIN_WAGE <= value <= MAX_WAGE:
        return None, f"outside ${MIN_WAGE:.2f}–${MAX_WAGE:,.2f} an hour: is it an hourly wage in dollars?"
    return value, ""


def _optional_values(line: int, cell, values: dict, report: ValidationReport) -> bool:
    """Read the optional metrics a row states into `values`; False when one of them is wrong."""
    ok = True
    for metric in OPTIONAL_COLUMNS:
        text = cell(metric)
        if text is None or text == "":
            continue  # column absent or cell empty: not reported in this file
        number, why = _parse_wage(text) if metric == WAGE else _parse_count(text)
        if number is None:
            if why:
                report.add(line, metric, text, why)
            ok = False
            continue
        values[metric] = number
    placed = values.get("placements")
    if placed is not None and values.get("placements_no_bachelor", 0) > placed:
        report.add(
            line,
            "placements_no_bachelor",
            values["placements_no_bachelor"],
            f"more than the row's {placed} placements: these are some of its placements",
        )
        ok = False
    if placed == 0 and WAGE in values:
        # A wage is averaged weighted by placements: with none it would carry no weight.
        report.add(line, WAGE, cell(WAGE), "a starting wage with 0 placements: leave it blank when nobody was placed")
        ok = False
    return ok


def validate(content: bytes, file_name: str, *, today: date | None = None, known_ids=None) -> ValidationReport:
    """Read and check a whole file; every problem is in the report, with row, column, value, reason."""
    today = today or date.today()
    known = set(known_ids) if known_ids is not None else {p.id for p in registry().partnerships}
    report = ValidationReport(file_name=file_name, checksum=checksum(content))
    cells = _read_cells(content, file_name, report)
    if cells is None:
        return report

    header = [h.strip().lower() for h in (cells[0] if cells else [])]
    if not any(header):
        report.add(1, "", "", "the first row must be the header: " + ",".join(COLUMNS))
        return report
    positions: dict[str, int] = {}
    for index, name in enumerate(header):
        if not name:
            continue
        if name in ALL_COLUMNS:
            if name in positions:
                report.add(1, name, name, "this column appears twice")
            positions.setdefault(name, index)
        else:
            missing = [c for c in ALL_COLUMNS if c not in header]
            hint = _suggest(name, missing) or _suggest(name, ALL_COLUMNS)
            reason = (
                f"unknown column{hint}"
                if hint
                else "unknown column: remove it (expected "
                + ",".join(COLUMNS)
                + ", and optionally "
                + ",".join(OPTIONAL_COLUMNS)
                + ")"
            )
            report.add(1, name, cells[0][index], reason)
    for name in COLUMNS:
        if name not in positions:
            report.add(1, name, "", "required column is missing")
    if not positions:
        return report
    # Header problems do not stop here: the rows are checked too, so one round trip shows everything.

    data = [(i + 2, r) for i, r in enumerate(cells[1:]) if any(c.strip() for c in r)]
    if not data:
        report.add(0, "", "", "the file has a header but no data rows")
        return report

    seen: dict[tuple[str, date], int] = {}
    for line, raw in data:

        def cell(name: str, raw=raw) -> str | None:
            index = positions.get(name)
            if index is None:
                return None  # column missing: reported once, on the header
            return raw[index].strip() if index < len(raw) else ""

        extra = [c for i, c in enumerate(raw) if i >= len(header) and c.strip()]
        if extra:
            report.add(line, "", extra[0], "more cells than columns in the header (a stray comma?)")
        rsp_id = cell("rsp_id")
        ok = not report.errors or all(c in positions for c in COLUMNS)
        if rsp_id is None:
            ok = False
        elif not rsp_id:
            report.add(line, "rsp_id", "", "blank: every row needs a partnership id")
            ok = False
        elif rsp_id == FORMULA_CELL:
            ok = False
        elif rsp_id not in known:
            report.add(line, "rsp_id", rsp_id, "unknown partnership id" + _suggest(rsp_id, known, cutoff=0.4))
            ok = False
        month = None
        if cell("month") is not None:
            month, why = _parse_month(cell("month"), today)
            if month is None and why:
                report.add(line, "month", cell("month"), why)
        ok = ok and month is not None
        values: dict[str, int | float] = {}
        for metric in METRIC_COLUMNS:
            if cell(metric) is None:
                ok = False
                continue
            number, why = _parse_count(cell(metric))
            if number is None and why:
                report.add(line, metric, cell(metric), why)
                ok = False
            else:
                values[metric] = number
        ok = _optional_values(line, cell, values, report) and ok
        if ok:
            key = (rsp_id, month)
            if key in seen:
                report.add(line, "month", cell("month"), f"{rsp_id} {month:%Y-%m} is already on row {seen[key]}")
                continue
            seen[key] = line
            report.rows.append(Row(line, rsp_id, month, values))
    return report


# ------------------------------------------------------------------ planning


@dataclass
class Change:
    """old and new hold the same keys: the base metrics and the optional metrics the row states."""

    rsp_id: str
    month: date
    action: str  # "add", "change" or "same"
    old: dict[str, int | float | None] | None
    new: dict[str, int | float]
    old_batch_id: int | None = None
    line: int = 0


@dataclass
class Plan:
    report: ValidationReport
    changes: list[Change]
    already_imported: int | None = None  # batch id holding this exact file

    @property
    def added(self) -> list[Change]:
        return [c for c in self.changes if c.action == "add"]

    @property
    def changed(self) -> list[Change]:
        return [c for c in self.changes if c.action == "change"]

    @property
    def unchanged(self) -> list[Change]:
        return [c for c in self.changes if c.action == "same"]

    def summary(self) -> str:
        if self.already_imported is not None:
            return f"This exact file was already imported as batch {self.already_imported}: nothing to change."
        if not self.added and not self.changed:
            return f"Every one of the {len(self.unchanged)} rows matches the store: nothing to change."
        return f"{len(self.added)} row(s) to add, {len(self.changed)} to change, {len(self.unchanged)} unchanged."


def _current_values(conn, keys: list[tuple[str, date]]) -> dict[tuple[str, date], tuple[dict, int]]:
    """The stored values (every fact column, NULL as None) and batch id of each key in the store."""
    facts = schema.monthly_metrics
    found: dict[tuple[str, date], tuple[dict, int]] = {}
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        stmt = select(facts).where(tuple_(facts.c.rsp_id, facts.c.month).in_(chunk))
        for row in conn.execute(stmt).mappings():
            month = row["month"] if isinstance(row["month"], date) else date.fromisoformat(str(row["month"])[:10])
            found[(row["rsp_id"], month)] = ({m: row[m] for m in FACT_COLUMNS}, row["batch_id"])
    return found


def _existing_batch(conn, digest: str) -> int | None:
    batches = schema.import_batches
    stmt = select(batches.c.batch_id).where(
        and_(batches.c.checksum == digest, batches.c.kind == "import", batches.c.rolled_back_at.is_(None))
    )
    return conn.execute(stmt).scalar()


def _plan(conn, report: ValidationReport, progress: Progress = _no_progress) -> Plan:
    keys = [(r.rsp_id, r.month) for r in report.rows]
    current = _current_values(conn, keys)
    changes = []
    total = max(len(report.rows), 1)
    for i, row in enumerate(report.rows):
        existing = current.get((row.rsp_id, row.month))
        if existing is None:
            changes.append(Change(row.rsp_id, row.month, "add", None, row.values, None, row.line))
        else:
            stored, batch_id = existing
            # Only what the row states is compared (and would be written): silence keeps a stored value.
            old = {m: stored[m] for m in row.values}
            action = "same" if all(_same(old[m], v) for m, v in row.values.items()) else "change"
            changes.append(Change(row.rsp_id, row.month, action, old, row.values, batch_id, row.line))
        if i % 500 == 0:
            progress(0.5 + 0.2 * i / total, f"Compared {i:,} of {total:,} rows with the store")
    _add_warnings(conn, report, current)
    return Plan(report, changes, _existing_batch(conn, report.checksum))


def _same(stored, new) -> bool:
    if stored is None:
        return False
    if isinstance(new, float):  # a wage: dollars and cents
        return round(float(stored), 2) == new
    return stored == new


def _add_warnings(conn, report: ValidationReport, current) -> None:
    """Plausibility warnings over the store as it would be after the import."""
    facts = schema.monthly_metrics
    ids = sorted({r.rsp_id for r in report.rows})
    merged: dict[tuple[str, date], dict[str, int]] = {}
    if ids:
        # Only the months the checks look at: the file's quarters and the month before each row.
        first = min(r.month for r in report.rows)
        first = date(first.year - (first.month <= 3), (first.month - 4) % 12 + 1, 1)
        last = max(r.month for r in report.rows)
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            stmt = select(facts).where(facts.c.rsp_id.in_(chunk), facts.c.month >= first, facts.c.month <= last)
            for row in conn.execute(stmt).mappings():
                merged[(row["rsp_id"], as_date(row["month"]))] = {m: row[m] for m in METRIC_COLUMNS}
    lines = {}
    for r in report.rows:
        merged[(r.rsp_id, r.month)] = r.values
        lines[(r.rsp_id, r.month)] = r.line

    quarters: dict[tuple[str, int, int], list[dict[str, int]]] = {}
    for (rsp_id, month), values in merged.items():
        quarters.setdefault((rsp_id, month.year, (month.month - 1) // 3 + 1), []).append(values)
    touched = {(r.rsp_id, r.month.year, (r.month.month - 1) // 3 + 1) for r in report.rows}
    for key in sorted(touched):
        rows = quarters[key]
        placed = sum(v["placements"] for v in rows)
        completed = sum(v["trainees_completed"] for v in rows)
        if placed > completed:
            first_line = min(
                r.line for r in report.rows if (r.rsp_id, r.month.year, (r.month.month - 1) // 3 + 1) == key
            )
            report.add(
                first_line,
                "placements",
                placed,
                f"{key[0]} places {placed} people in {key[1]} Q{key[2]} but only {completed} completed training then",
                "warning",
            )
    for r in report.rows:
        prev_month = date(r.month.year - (r.month.month == 1), 12 if r.month.month == 1 else r.month.month - 1, 1)
        prev = merged.get((r.rsp_id, prev_month))
        if prev and prev["employers_engaged"] > 0:
            before, after = prev["employers_engaged"], r.values["employers_engaged"]
            if abs(after - before) / before > EMPLOYER_JUMP:
                report.add(
                    r.line,
                    "employers_engaged",
                    after,
                    f"{r.rsp_id} goes from {before} employers in {prev_month:%Y-%m} to {after}: "
                    "a jump of more than half",
                    "warning",
                )


def plan_import(engine: Engine, report: ValidationReport, progress: Progress = _no_progress) -> Plan:
    """What the file would add and change, without writing anything."""
    with engine.connect() as conn:
        return _plan(conn, report, progress)


# ------------------------------------------------------------------ applying


@dataclass
class ImportResult:
    batch_id: int | None
    plan: Plan

    @property
    def message(self) -> str:
        if self.batch_id is None:
            return self.plan.summary()
        return (
            f"Imported as batch {self.batch_id}: {len(self.plan.added)} row(s) added, {len(self.plan.changed)} changed."
        )


def _clean_text(value: str, limit: int) -> str:
    """Names from uploads and sign-ins, made storable everywhere: no control characters
    (PostgreSQL text cannot hold NUL), bounded length."""
    return "".join(ch for ch in value if ch.isprintable())[:limit]


def _take_lock(conn, holder: str) -> None:
    # The first statement of every write transaction: later writers wait here.
    conn.execute(
        update(schema.import_lock)
        .where(schema.import_lock.c.lock_id == 1)
        .values(holder=_clean_text(holder, 200), taken_at=datetime.now(UTC))
    )


def apply_import(
    engine: Engine,
    content: bytes,
    file_name: str,
    loaded_by: str,
    *,
    today: date | None = None,
    progress: Progress = _no_progress,
) -> ImportResult:
    """Validate and write the file as one batch in one transaction; raise ImportRejected on any error."""
    progress(0.0, "Reading and checking the file")
    report = validate(content, file_name, today=today)
    if not report.ok:
        raise ImportRejected(report)
    progress(0.5, "Comparing with the store")
    with engine.begin() as conn:
        _take_lock(conn, f"import {file_name} by {loaded_by}")
        plan = _plan(conn, report, progress)  # recomputed under the lock: the authoritative plan
        if plan.already_imported is not None or (not plan.added and not plan.changed):
            return ImportResult(None, plan)
        batches = schema.import_batches
        batch_id = conn.execute(
            insert(batches).values(
                kind="import",
                file_name=_clean_text(file_name, 260),
                checksum=report.checksum,
                loaded_by=_clean_text(loaded_by, 200),
                loaded_at=datetime.now(UTC),
                rows_added=len(plan.added),
                rows_changed=len(plan.changed),
                note=f"{len(report.warnings)} warning(s)" if report.warnings else "",
            )
        ).inserted_primary_key[0]
        facts = schema.monthly_metrics
        writes = plan.added + plan.changed
        pause_after = int(os.environ.get("RSP_IMPORT_TEST_PAUSE_AFTER", "0"))  # crash tests only
        for i, change in enumerate(writes):
            history = {
                "batch_id": batch_id,
                "rsp_id": change.rsp_id,
                "month": change.month,
                "action": "added" if change.action == "add" else "changed",
                "old_batch_id": change.old_batch_id,
                **{f"old_{m}": (change.old or {}).get(m) for m in METRIC_COLUMNS},
                **{f"new_{m}": change.new[m] for m in METRIC_COLUMNS},
                # Optional metrics the row does not state stay NULL here: the batch did not touch them.
                **{f"old_{m}": (change.old or {}).get(m) for m in OPTIONAL_COLUMNS},
                **{f"new_{m}": change.new.get(m) for m in OPTIONAL_COLUMNS},
            }
            conn.execute(insert(schema.fact_history).values(**history))
            if change.action == "add":
                conn.execute(
                    insert(facts).values(rsp_id=change.rsp_id, month=change.month, batch_id=batch_id, **change.new)
                )
            else:
                conn.execute(
                    update(facts)
                    .where(and_(facts.c.rsp_id == change.rsp_id, facts.c.month == change.month))
                    .values(batch_id=batch_id, **change.new)
                )
            if pause_after and i + 1 == pause_after:
                print(f"paused after {pause_after} rows", flush=True)
                time.sleep(3600)
            if i % 200 == 0:
                progress(0.7 + 0.3 * i / len(writes), f"Writing {i:,} of {len(writes):,} rows")
        progress(0.98, "Updating the rollups")
        rollups.refresh(conn, [(c.rsp_id, c.month) for c in writes])
        rollups.recount_batches(conn, {batch_id, *(c.old_batch_id for c in plan.changed)})
        progress(1.0, "Done")
        return ImportResult(batch_id, plan)


def rollback(engine: Engine, batch_id: int, by: str) -> int:
    """Undo an import batch exactly: rows it added are removed, rows it changed get their old values back.

    Refused when a later batch has since changed one of the same rows (roll that one back first).
    Returns the number of rows restored or removed.
    """
    batches, facts, history = schema.import_batches, schema.monthly_metrics, schema.fact_history
    with engine.begin() as conn:
        _take_lock(conn, f"rollback {batch_id} by {by}")
        batch = conn.execute(select(batches).where(batches.c.batch_id == batch_id)).mappings().first()
        if batch is None:
            raise RollbackRefused(f"there is no batch {batch_id}")
        if batch["kind"] != "import":
            raise RollbackRefused(f"batch {batch_id} is the {batch['kind']} data, not an import")
        if batch["rolled_back_at"] is not None:
            raise RollbackRefused(
                f"batch {batch_id} was already rolled back on {batch['rolled_back_at']:%Y-%m-%d %H:%M}"
            )
        entries = list(conn.execute(select(history).where(history.c.batch_id == batch_id)).mappings())
        keys = [(e["rsp_id"], e["month"]) for e in entries]
        current = _current_values(
            conn, [(k, m if isinstance(m, date) else date.fromisoformat(str(m)[:10])) for k, m in keys]
        )
        later = sorted({b for (_, b) in current.values() if b != batch_id})
        if later:
            raise RollbackRefused(
                f"batch {later[-1]} has since changed rows that batch {batch_id} wrote: "
                f"roll back batch {later[-1]} first"
            )
        for e in entries:
            where = and_(facts.c.rsp_id == e["rsp_id"], facts.c.month == e["month"])
            if e["action"] == "added":
                conn.execute(delete(facts).where(where))
            else:
                # An optional metric this batch wrote (new_ not NULL) gets its old value back, NULL
                # included; one it did not touch keeps its value.
                written = [m for m in OPTIONAL_COLUMNS if e[f"new_{m}"] is not None]
                conn.execute(
                    update(facts)
                    .where(where)
                    .values(batch_id=e["old_batch_id"], **{m: e[f"old_{m}"] for m in (*METRIC_COLUMNS, *written)})
                )
        rollups.refresh(conn, [(e["rsp_id"], as_date(e["month"])) for e in entries])
        rollups.recount_batches(conn, {batch_id, *(e["old_batch_id"] for e in entries)})
        conn.execute(
            update(batches)
            .where(batches.c.batch_id == batch_id)
            .values(rolled_back_at=datetime.now(UTC), rolled_back_by=_clean_text(by, 200))
        )
        return len(entries)


# ------------------------------------------------------------------ templates


def template_rows(month: str | None = None) -> list[dict[str, str]]:
    """One blank row per registry partnership for `month` (default: last month)."""
    if month is None:
        today = date.today()
        last = date(today.year - (today.month == 1), 12 if today.month == 1 else today.month - 1, 1)
        month = f"{last:%Y-%m}"
    return [{"rsp_id": p.id, "month": month, **{m: "" for m in FACT_COLUMNS}} for p in registry().partnerships]


def template_csv(month: str | None = None) -> bytes:
    """The import template: the required columns, then the optional ones (leave blank if not tracked)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=ALL_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(template_rows(month))
    return out.getvalue().encode("utf-8-sig")


def template_xlsx(month: str | None = None) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = "monthly figures"
    sheet.append(list(ALL_COLUMNS))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in template_rows(month):
        sheet.append([row[c] for c in ALL_COLUMNS])
    for column, width in zip("ABCDEFGHIJ", (30, 10, 20, 20, 20, 14, 20, 24, 14, 26), strict=True):
        sheet.column_dimensions[column].width = width
    for cell in sheet["G"]:
        cell.number_format = "0.00"  # dollars and cents an hour
    # Keep "2025-03" text: Excel would otherwise turn it into a date.
    for cell in sheet["B"]:
        cell.number_format = "@"
    names = book.create_sheet("partnerships")
    names.append(["rsp_id", "name", "sector", "region"])
    for p in registry().partnerships:
        names.append([p.id, p.name, p.sector, p.region])
    notes = book.create_sheet("optional columns")
    notes.append(["column", "what to enter (leave blank if you do not track it)"])
    notes.append([WAGE, f"average hourly starting wage of the month's placements, ${MIN_WAGE:.2f}-${MAX_WAGE:.2f}"])
    notes.append(["placements_no_bachelor", "placements into roles not requiring a bachelor's degree (≤ placements)"])
    notes.append(["wbl_started", "internships and apprenticeships started in the month"])
    notes.append(["trainees_underrepresented", "trainees enrolled in the month from under-represented groups"])
    notes.column_dimensions["A"].width = 28
    notes.column_dimensions["B"].width = 100
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()

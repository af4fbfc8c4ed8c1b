"""Goals: a target for one flow metric over a scope, from a start month to a due month.

Read from goals.csv (or `import-goals FILE`), checked, and inserted or updated in place; never deleted.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy import Connection, insert, select, update

from rsp_data import schema
from rsp_data.imports.read import THOUSANDS_RE, ImportRejected, ValidationReport, _parse_month, _suggest
from rsp_data.metrics import FLOW_KEYS, METRICS, REQUIRED_KEYS
from rsp_data.months import as_date

GOALS_FILE = Path(__file__).resolve().parent / "data" / "goals.csv"
COLUMNS = ("goal_id", "name", "scope", "rsp_id", "metric", "target", "start_month", "due_month", "source")
SCOPES = ("statewide", "grant", "partnership")
ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,59}$")
MAX_TARGET = 100_000_000


@dataclass(frozen=True)
class Goal:
    goal_id: str
    name: str
    scope: str
    rsp_id: str | None
    metric: str
    target: int
    start_month: date
    due_month: date
    source: str = ""

    @property
    def illustrative(self) -> bool:
        """Made up for the demo: the source says so first."""
        return self.source.strip().lower().startswith("illustrative")

    @property
    def due_assumed(self) -> bool:
        """No due date was published: the source says "due month assumed"."""
        return "due month assumed" in self.source.lower()


def goal_from_row(row) -> Goal:
    """A Goal from a `goals` table row (dates come back as strings from some drivers)."""
    months = {name: as_date(row[name]) for name in ("start_month", "due_month")}
    return Goal(**{**row, "rsp_id": row["rsp_id"] or None, "target": int(row["target"]), **months})


@dataclass
class GoalsReport(ValidationReport):
    """An upload's report whose rows are the Goals without a problem."""

    lines: dict[str, int] = field(default_factory=dict)  # goal_id -> its line in the file

    @property
    def goals(self) -> list[Goal]:
        """The goals to write: all of them, or none when any row has an error."""
        return list(self.rows) if self.ok else []


def _target(text: str) -> tuple[int | None, str]:
    raw = text.replace(",", "") if THOUSANDS_RE.fullmatch(text) else text
    if not raw:
        return None, "blank: every goal needs a target"
    if not re.fullmatch(r"-?[0-9]+", raw):
        return None, "not a whole number"
    if int(raw) <= 0:
        return None, "the target must be above 0"
    if int(raw) > MAX_TARGET:
        return None, f"too large: more than {MAX_TARGET:,}"
    return int(raw), ""


def _month(text: str) -> tuple[date | None, str]:
    value, why = _parse_month(text, today=date.max)  # a goal's months may lie ahead
    if value and value.year > 2100:
        return None, "the year is after 2100"
    return value, why


def read_goals(content: bytes, file_name: str, known_ids: Iterable[str]) -> GoalsReport:
    """Read and check a goals file; every problem is in the report. `known_ids`: the partnership ids."""
    known = set(known_ids)
    report = GoalsReport(file_name, checksum="")
    try:
        text = content.removeprefix(b"\xef\xbb\xbf").decode("utf-8")
    except UnicodeDecodeError:
        report.add(0, "", "", "the file is not UTF-8 text: save it as CSV UTF-8")
        return report
    reader = csv.reader(io.StringIO(text))
    rows = [  # (file line, cells): '#' comment lines and blank lines skipped
        (reader.line_num, cells)
        for cells in reader
        if any(c.strip() for c in cells) and not cells[0].lstrip().startswith("#")
    ]
    if not rows:
        report.add(0, "", "", "the file is empty")
        return report
    (header_line, header_cells), data = rows[0], rows[1:]
    header = [h.strip().lower() for h in header_cells]
    positions: dict[str, int] = {}
    for index, name in enumerate(header):
        if name in COLUMNS:
            if name in positions:
                report.add(header_line, name, name, "this column appears twice")
            positions.setdefault(name, index)
        elif name:
            report.add(header_line, name, header_cells[index], "unknown column" + _suggest(name, COLUMNS))
    for name in COLUMNS:
        if name not in positions and name != "source":
            report.add(header_line, name, "", "required column is missing")
    if not report.ok:
        return report
    if not data:
        report.add(0, "", "", "the file has a header but no goals")
        return report

    seen: dict[str, int] = {}
    for line, raw in data:
        cells = {name: raw[index].strip() if index < len(raw) else "" for name, index in positions.items()}
        before = len(report.problems)
        goal_id = cells["goal_id"]
        if not goal_id:
            report.add(line, "goal_id", "", "blank: every goal needs an id")
        elif not ID_RE.match(goal_id):
            report.add(line, "goal_id", goal_id, "ids are lower-case letters, digits and hyphens (at most 60)")
        elif goal_id in seen:
            report.add(line, "goal_id", goal_id, f"duplicate id: goal {goal_id} is already on row {seen[goal_id]}")
        else:
            seen[goal_id] = line
        name = cells["name"]
        if not name:
            report.add(line, "name", "", "blank: every goal needs a name people read")
        elif len(name) > 200:
            report.add(line, "name", name, "longer than 200 characters")
        scope = cells["scope"].lower()
        if scope not in SCOPES:
            report.add(
                line, "scope", cells["scope"], "unknown scope" + (_suggest(scope, SCOPES) or f" ({', '.join(SCOPES)})")
            )
        rsp_id = cells["rsp_id"]
        if scope == "partnership":
            if not rsp_id:
                report.add(line, "rsp_id", "", "blank: a goal of scope partnership names its partnership")
            elif rsp_id not in known:
                report.add(line, "rsp_id", rsp_id, "unknown partnership id" + _suggest(rsp_id, known, cutoff=0.4))
        elif rsp_id and scope in SCOPES:
            report.add(line, "rsp_id", rsp_id, f"only a goal of scope partnership names one; this goal is {scope}")
        metric = cells["metric"].lower()
        if metric not in FLOW_KEYS:  # a stock or a rate has no running total
            kind = "a count at month end" if metric in REQUIRED_KEYS else "a rate"
            why = f"{metric} is {kind}, not a flow: goals count flows ({', '.join(FLOW_KEYS)})"
            if metric not in METRICS:
                why = "unknown metric" + (_suggest(metric, FLOW_KEYS) or f" ({', '.join(FLOW_KEYS)})")
            report.add(line, "metric", cells["metric"], why)
        parsed = {}
        for column, parse in (("target", _target), ("start_month", _month), ("due_month", _month)):
            parsed[column], why = parse(cells[column])
            if why:
                report.add(line, column, cells[column], why)
        target, start, due = parsed["target"], parsed["start_month"], parsed["due_month"]
        if start and due and due < start:
            report.add(line, "due_month", cells["due_month"], f"the due month is before the start month {start:%Y-%m}")
        extra = [c for c in raw[len(header) :] if c.strip()]
        if extra:
            report.add(line, "", extra[0], "more cells than columns in the header (a stray comma?)")
        if len(report.problems) == before:
            report.lines[goal_id] = line
            report.rows.append(
                Goal(goal_id, name, scope, rsp_id or None, metric, target, start, due, cells.get("source", ""))  # type: ignore[arg-type]
            )
    return report


def keep_committed(report: GoalsReport, committed: Iterable[Goal]) -> GoalsReport:
    """An imported file may add goals, not change the committed ones (`init` would write them back)."""
    fixed = {g.goal_id: g for g in committed}
    for goal in report.rows:
        if goal.goal_id in fixed and goal != fixed[goal.goal_id]:
            report.add(
                report.lines.get(goal.goal_id, 0),
                "goal_id",
                goal.goal_id,
                f"this goal comes from the committed {GOALS_FILE.name}: change it there (`init` writes it "
                "back), or import it under another id",
            )
    return report


def partnership_ids(conn: Connection) -> list[str]:
    return list(conn.execute(select(schema.partnerships.c.rsp_id)).scalars())


@dataclass(frozen=True)
class GoalChange:
    goal: Goal
    action: str  # "add", "change" or "same"
    changed: dict[str, tuple] = field(default_factory=dict)  # column -> (old, new)

    def __str__(self) -> str:
        diffs = ", ".join(f"{c} {_shown(o)} -> {_shown(n)}" for c, (o, n) in self.changed.items())
        return f"{self.action} goal {self.goal.goal_id}" + (f": {diffs}" if diffs else "")


def _shown(value) -> str:
    if isinstance(value, date):
        return f"{value:%Y-%m}"
    text = str(value)
    return text if isinstance(value, int) else repr(text if len(text) <= 40 else text[:40] + "…")


def plan_goals(conn: Connection, goals: Iterable[Goal]) -> list[GoalChange]:
    """What writing `goals` would do to the store: add, change (old -> new per column) or nothing."""
    current = {row["goal_id"]: asdict(goal_from_row(row)) for row in conn.execute(select(schema.goals)).mappings()}
    changes = []
    for goal in goals:
        old = current.get(goal.goal_id)
        diff = {} if old is None else {c: (old[c], v) for c, v in asdict(goal).items() if old[c] != v}
        changes.append(GoalChange(goal, "add" if old is None else "change" if diff else "same", diff))
    return changes


def write_goals(conn: Connection, goals: Iterable[Goal]) -> tuple[int, int]:
    """Insert new goals and update changed ones in place; returns (inserted, updated)."""
    table = schema.goals
    changes = plan_goals(conn, goals)
    for change in changes:
        if change.action == "add":
            conn.execute(insert(table).values(**asdict(change.goal)))
        elif change.action == "change":
            conn.execute(update(table).where(table.c.goal_id == change.goal.goal_id).values(**asdict(change.goal)))
    return sum(c.action == "add" for c in changes), sum(c.action == "change" for c in changes)


def committed_goals(conn: Connection, path: Path = GOALS_FILE) -> list[Goal]:
    """The committed goals file, checked against the store's partnerships; ImportRejected if bad."""
    report = read_goals(path.read_bytes(), path.name, partnership_ids(conn))
    if not report.ok:
        raise ImportRejected(report)
    return report.goals


def sync_goals(conn: Connection, path: Path = GOALS_FILE) -> tuple[int, int]:
    """init_store's step: write the committed goals into the store (inserted, updated)."""
    return write_goals(conn, committed_goals(conn, path))

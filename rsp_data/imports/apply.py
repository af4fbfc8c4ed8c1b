"""Planning, applying and rolling back an import: one batch in one transaction behind the import lock (a
crash leaves the store as it was; imports never interleave), every overwritten value kept in fact_history."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import Engine, and_, delete, insert, select, tuple_, update

from rsp_data import grants, rollups, schema
from rsp_data.imports.read import ImportRejected, ValidationReport, validate
from rsp_data.metrics import STORED_KEYS
from rsp_data.months import as_date, shift
from rsp_data.schema import monthly_metrics as facts

EMPLOYER_JUMP = 0.5  # warn when employers engaged moves by more than half from one month to the next
CHUNK = 500  # keys per IN (...) list

Progress = Callable[[float, str], None]


def no_progress(fraction: float, message: str) -> None: ...


class RollbackRefused(Exception):
    pass


@dataclass
class Change:
    """old and new hold the same keys: the required metrics and the optional ones the row states."""

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

    def summary(self) -> str:
        same = sum(c.action == "same" for c in self.changes)
        if self.already_imported is not None:
            return f"This exact file was already imported as batch {self.already_imported}: nothing to change."
        if not self.added and not self.changed:
            return f"Every one of the {same} rows matches the store: nothing to change."
        return f"{len(self.added)} row(s) to add, {len(self.changed)} to change, {same} unchanged."


@dataclass
class ImportResult:
    batch_id: int | None
    plan: Plan

    @property
    def message(self) -> str:
        if self.batch_id is None:
            return self.plan.summary()
        added, changed = len(self.plan.added), len(self.plan.changed)
        return f"Imported as batch {self.batch_id}: {added} row(s) added, {changed} changed."


def _stored(conn, column, keys: list, *conds) -> dict[tuple[str, date], dict]:
    """The stored fact rows (NULL as None) whose `column` is among `keys` and that meet `conds`, by key."""
    found: dict[tuple[str, date], dict] = {}
    for start in range(0, len(keys), CHUNK):
        stmt = select(facts).where(column.in_(keys[start : start + CHUNK]), *conds)
        for row in conn.execute(stmt).mappings():
            found[(row["rsp_id"], as_date(row["month"]))] = dict(row)
    return found


def _same(stored, new) -> bool:
    if stored is None:
        return False
    if isinstance(new, float):  # a decimal metric is read to two places
        return round(float(stored), 2) == new
    return stored == new


def _plan(conn, report: ValidationReport, progress: Progress = no_progress) -> Plan:
    current = _stored(conn, tuple_(facts.c.rsp_id, facts.c.month), [(r.rsp_id, r.month) for r in report.rows])
    changes = []
    total = max(len(report.rows), 1)
    for i, row in enumerate(report.rows):
        stored = current.get((row.rsp_id, row.month))
        action, old = "add", None
        if stored is not None:
            # Only what the row states is compared (and would be written): silence keeps a stored value.
            old = {m: stored[m] for m in row.values}
            action = "same" if all(_same(old[m], v) for m, v in row.values.items()) else "change"
        changes.append(Change(row.rsp_id, row.month, action, old, row.values, stored and stored["batch_id"], row.line))
        if i % CHUNK == 0:
            progress(0.5 + 0.2 * i / total, f"Compared {i:,} of {total:,} rows with the store")
    _add_warnings(conn, report)
    batches = schema.import_batches
    same_file = (batches.c.checksum == report.checksum, batches.c.kind == "import", batches.c.rolled_back_at.is_(None))
    return Plan(report, changes, conn.execute(select(batches.c.batch_id).where(*same_file)).scalar())


def _quarter(rsp_id: str, month: date) -> tuple[str, int, int]:
    return rsp_id, month.year, (month.month - 1) // 3 + 1


def _add_warnings(conn, report: ValidationReport) -> None:
    """Plausibility warnings over the store as it would be after the import."""
    if not report.rows:
        return
    ids = sorted({r.rsp_id for r in report.rows})
    # Only the months the checks look at: the file's quarters and the month before each row.
    first = shift(min(r.month for r in report.rows), -3)  # its quarter's start may be 2 months before, and 1 more
    merged = _stored(conn, facts.c.rsp_id, ids, facts.c.month.between(first, max(r.month for r in report.rows)))
    merged.update({(r.rsp_id, r.month): r.values for r in report.rows})

    quarters: dict[tuple[str, int, int], list[dict]] = {}
    for key, values in merged.items():
        quarters.setdefault(_quarter(*key), []).append(values)
    for key in sorted({_quarter(r.rsp_id, r.month) for r in report.rows}):
        placed = sum(v["placements"] for v in quarters[key])
        completed = sum(v["trainees_completed"] for v in quarters[key])
        if placed > completed:
            line = min(r.line for r in report.rows if _quarter(r.rsp_id, r.month) == key)
            quarter = f"{key[1]} Q{key[2]}"
            reason = f"{key[0]} places {placed} people in {quarter} but only {completed} completed training then"
            report.add(line, "placements", placed, reason, "warning")
    for r in report.rows:
        prev_month = shift(r.month, -1)
        prev = merged.get((r.rsp_id, prev_month))
        if prev and prev["employers_engaged"] > 0:
            before, after = prev["employers_engaged"], r.values["employers_engaged"]
            if abs(after - before) / before > EMPLOYER_JUMP:
                reason = f"{r.rsp_id} goes from {before} employers in {prev_month:%Y-%m} to {after}"
                report.add(r.line, "employers_engaged", after, f"{reason}: a jump of more than half", "warning")


def plan_import(engine: Engine, report: ValidationReport, progress: Progress = no_progress) -> Plan:
    """What the file would add and change, without writing anything."""
    with engine.connect() as conn:
        return _plan(conn, report, progress)


def _clean_text(value: str, limit: int) -> str:
    """A name from an upload or sign-in, storable everywhere: no control characters (PostgreSQL text holds no NUL)."""
    return "".join(ch for ch in value if ch.isprintable())[:limit]


def _take_lock(conn, holder: str) -> None:
    # The first statement of every write transaction: later writers wait here.
    conn.execute(
        update(schema.import_lock)
        .where(schema.import_lock.c.lock_id == 1)
        .values(holder=_clean_text(holder, 200), taken_at=datetime.now(UTC))
    )


def _write(conn, batch_id: int, change: Change) -> None:
    """One row's history entry and its fact, added or updated."""
    conn.execute(
        insert(schema.fact_history).values(
            batch_id=batch_id,
            rsp_id=change.rsp_id,
            month=change.month,
            action="added" if change.action == "add" else "changed",
            old_batch_id=change.old_batch_id,
            # A metric the row does not state stays NULL here: the batch did not touch it.
            **{f"old_{m}": (change.old or {}).get(m) for m in STORED_KEYS},
            **{f"new_{m}": change.new.get(m) for m in STORED_KEYS},
        )
    )
    if change.action == "add":
        conn.execute(insert(facts).values(rsp_id=change.rsp_id, month=change.month, batch_id=batch_id, **change.new))
    else:
        where = and_(facts.c.rsp_id == change.rsp_id, facts.c.month == change.month)
        conn.execute(update(facts).where(where).values(batch_id=batch_id, **change.new))


def apply_import(
    engine: Engine,
    content: bytes,
    file_name: str,
    loaded_by: str,
    *,
    today: date | None = None,
    progress: Progress = no_progress,
    writer: grants.Writer | None = None,
) -> ImportResult:
    """Validate and write the file as one batch in one transaction; raise ImportRejected on any error,
    including a row of a partnership `writer` may not write (None: the trusted operator)."""
    progress(0.0, "Reading and checking the file")
    report = validate(content, file_name, today=today)
    if not report.ok:
        raise ImportRejected(report)
    progress(0.5, "Comparing with the store")
    with engine.begin() as conn:
        _take_lock(conn, f"import {file_name} by {loaded_by}")
        if writer is not None:
            grants.refuse_rows(conn, writer, report)
            if not report.ok:  # a partnership they may not write: leaving the transaction writes nothing
                raise ImportRejected(report)
        plan = _plan(conn, report, progress)  # recomputed under the lock: the authoritative plan
        if plan.already_imported is not None or (not plan.added and not plan.changed):
            return ImportResult(None, plan)
        batch = insert(schema.import_batches).values(
            kind="import",
            file_name=_clean_text(report.file_name, 260),
            checksum=report.checksum,
            loaded_by=_clean_text(loaded_by, 200),
            loaded_at=datetime.now(UTC),
            rows_added=len(plan.added),
            rows_changed=len(plan.changed),
            note=f"{len(report.warnings)} warning(s)" if report.warnings else "",
        )
        batch_id = conn.execute(batch).inserted_primary_key[0]
        writes = plan.added + plan.changed
        for i, change in enumerate(writes):
            _write(conn, batch_id, change)
            if i % 200 == 0:
                progress(0.7 + 0.3 * i / len(writes), f"Writing {i:,} of {len(writes):,} rows")
        progress(0.98, "Updating the rollups")
        rollups.refresh(conn, [(c.rsp_id, c.month) for c in writes])
        rollups.recount_batches(conn, {batch_id, *(c.old_batch_id for c in plan.changed)})
        progress(1.0, "Done")
        return ImportResult(batch_id, plan)


def rollback(engine: Engine, batch_id: int, by: str, writer: grants.Writer | None = None) -> int:
    """Undo an import batch exactly (refused when a later batch changed one of its rows, or when `writer` is
    neither its submitter nor allowed every partnership); rows restored or removed."""
    batches, history = schema.import_batches, schema.fact_history
    with engine.begin() as conn:
        _take_lock(conn, f"rollback {batch_id} by {by}")
        batch = conn.execute(select(batches).where(batches.c.batch_id == batch_id)).mappings().first()
        if batch is None:
            raise RollbackRefused(f"there is no batch {batch_id}")
        if batch["kind"] != "import":
            raise RollbackRefused(f"batch {batch_id} is the {batch['kind']} data, not an import")
        if writer is not None and (why := grants.rollback_refusal(conn, writer, batch)):
            raise RollbackRefused(why)
        if (rolled_back := batch["rolled_back_at"]) is not None:
            raise RollbackRefused(f"batch {batch_id} was already rolled back on {rolled_back:%Y-%m-%d %H:%M}")
        entries = list(conn.execute(select(history).where(history.c.batch_id == batch_id)).mappings())
        keys = [(e["rsp_id"], as_date(e["month"])) for e in entries]
        stored = _stored(conn, tuple_(facts.c.rsp_id, facts.c.month), keys).values()
        later = sorted({r["batch_id"] for r in stored if r["batch_id"] != batch_id})
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
                # A metric this batch wrote (new_ not NULL) gets its old value back, NULL included; others stay.
                written = [m for m in STORED_KEYS if e[f"new_{m}"] is not None]
                conn.execute(
                    update(facts).where(where).values(batch_id=e["old_batch_id"], **{m: e[f"old_{m}"] for m in written})
                )
        rollups.refresh(conn, keys)
        rollups.recount_batches(conn, {batch_id, *(e["old_batch_id"] for e in entries)})
        conn.execute(
            update(batches)
            .where(batches.c.batch_id == batch_id)
            .values(rolled_back_at=datetime.now(UTC), rolled_back_by=_clean_text(by, 200))
        )
        return len(entries)

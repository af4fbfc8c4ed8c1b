"""The metrics store: its URL, engine, and the idempotent `init` that fills schema and registry.

The default is a SQLite file under var/, filled with the registry and demo data on first use;
DATABASE_URL (environment, or the app's secrets) points at any SQLAlchemy database instead."""

from __future__ import annotations

import csv
import hashlib
import os
import time
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, create_engine, delete, event, exc, func, insert, inspect, select, update
from sqlalchemy.engine import make_url

from rsp_data import schema
from rsp_data.imports.apply import Change
from rsp_data.imports.apply import _write as write_change
from rsp_data.metrics import METRICS, OPTIONAL_KEYS, REQUIRED_KEYS, STORED_KEYS
from rsp_data.months import month_to_date
from rsp_data.registry import Registry, registry

DEFAULT_SQLITE_PATH = Path(__file__).resolve().parent.parent / "var" / "rsp_metrics.sqlite"
DEMO_FILE = Path(__file__).resolve().parent / "data" / "demo_metrics.csv"
CONNECTICUT = ZoneInfo("America/New_York")


class StoreNotReady(RuntimeError):
    """The configured store is reachable but has no schema or no registry yet."""


def default_url() -> str:
    return f"sqlite:///{DEFAULT_SQLITE_PATH}"


def database_url(configured: str | None = None) -> str:
    """DATABASE_URL from the environment wins, then a configured value (app secrets), then the default."""
    return os.environ.get("DATABASE_URL") or configured or default_url()


def is_default(url: str) -> bool:
    return url == default_url()


def make_engine(url: str | None = None) -> Engine:
    url = url or database_url()
    if is_default(url):
        DEFAULT_SQLITE_PATH.parent.mkdir(parents=True, exist_ok=True)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        # A writer waits for the file's write lock (a long import) instead of failing at the driver's default.
        engine = create_engine(url, connect_args={"timeout": 120}, module=sqlite_driver())
        event.listen(engine, "connect", _map_sqlite_file)
    elif parsed.get_backend_name() == "postgresql":
        engine = create_engine(url, connect_args={"options": pg_options(parsed.query.get("options"))})
    else:
        engine = create_engine(url)
    _ping_after_idle(engine)
    return engine


# Memory-mapped reads: a ranking's arrays (chains of overflow pages) come in with the kernel's read-ahead.
SQLITE_MMAP_BYTES = 8 << 30


def sqlite_driver():
    """pysqlite3 where installed (its SQLite maps files beyond the 2 GB of Debian 12's), else sqlite3."""
    try:
        from pysqlite3 import dbapi2
    except ImportError:
        import sqlite3 as dbapi2
    return dbapi2


def _map_sqlite_file(dbapi_connection, record) -> None:
    dbapi_connection.execute(f"PRAGMA mmap_size = {int(SQLITE_MMAP_BYTES)}").close()  # a constant, not input


# A pooled connection is pinged only after this long idle (pool_pre_ping costs a round trip per query).
IDLE_PING_SECONDS = 10.0


def _ping_after_idle(engine: Engine) -> None:
    @event.listens_for(engine, "checkin")
    def _checked_in(dbapi_connection, record) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection, record, proxy) -> None:
        since = record.info.pop("idle_since", None)
        if since is None or time.monotonic() - since < IDLE_PING_SECONDS:
            return  # new, or used moments ago
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as error:  # any failure: the pool discards it and connects again
            raise exc.DisconnectionError(f"a pooled connection idle since {since:.0f} failed its ping") from error


# PostgreSQL's JIT compiles longer than a dashboard's short queries take (docs/benchmarks.md).
PG_SESSION_OPTIONS = "-c jit=off"


def pg_options(given: str | tuple | None = None) -> str:
    """The libpq `options` for the app's PostgreSQL sessions: the URL's own (?options=...) first."""
    given = " ".join(given) if isinstance(given, tuple) else (given or "")
    return f"{given} {PG_SESSION_OPTIONS}".strip()


@dataclass
class InitReport:
    created_tables: list[str]
    registry_inserted: int
    registry_updated: int
    demo_rows: int
    goals_changed: int = 0  # committed goals (rsp_data/data/goals.csv) inserted or updated

    def changed(self) -> bool:
        registry_changed = self.registry_inserted or self.registry_updated
        return bool(self.created_tables or registry_changed or self.demo_rows or self.goals_changed)

    def __str__(self) -> str:
        if not self.changed():
            return "store already up to date, nothing changed"
        parts = []
        if self.created_tables:
            parts.append(f"created tables: {', '.join(self.created_tables)}")
        parts.append(f"registry rows inserted: {self.registry_inserted}, updated: {self.registry_updated}")
        parts.append(f"illustrative demo rows loaded: {self.demo_rows}")
        if self.goals_changed:
            parts.append(f"goals inserted or updated: {self.goals_changed}")
        return "; ".join(parts)


def init_store(engine: Engine, demo: bool = False, reg: Registry | None = None) -> InitReport:
    """Migrate the schema and upsert the registry and committed goals (and with demo=True the
    illustrative data); idempotent: a second run changes nothing."""
    from rsp_data import migrate
    from rsp_data.goals import sync_goals

    reg = reg or registry()
    existing = set(inspect(engine).get_table_names())
    migrate.upgrade(engine)  # Alembic: creates a new store, upgrades an older one in place
    created = [t.name for t in schema.metadata.sorted_tables if t.name not in existing]
    with engine.begin() as conn:
        if conn.execute(select(schema.import_lock.c.lock_id)).first() is None:
            conn.execute(insert(schema.import_lock).values(lock_id=1, holder=""))
        inserted, updated = _upsert_registry(conn, reg)
        goals_changed = sum(sync_goals(conn))  # like the registry: the committed file, in place
        demo_rows = _load_demo(conn) if demo else 0
        if updated or demo_rows:  # a partnership moved region, sector or grant, or new demo rows
            from rsp_data import rollups

            rollups.rebuild_all(conn)
    return InitReport(created, inserted, updated, demo_rows, goals_changed)


def _row(table, item, **renamed) -> dict:
    """A registry entry as a row of `table`: its fields that are columns, and the renamed ones."""
    return {**{k: v for k, v in asdict(item).items() if k in table.c}, **renamed}


def _registry_rows(reg: Registry) -> list[tuple]:
    regions = [
        _row(schema.regions, r, region_id=r.id, towns=r.towns, counties=", ".join(r.counties)) for r in reg.regions
    ]
    sectors = [_row(schema.sectors, s, sector_id=s.id) for s in reg.sectors]
    partnerships = [
        _row(schema.partnerships, p, rsp_id=p.id, sector_id=p.sector, region_id=p.region) for p in reg.partnerships
    ]
    return [
        (schema.regions, "region_id", regions),
        (schema.sectors, "sector_id", sectors),
        (schema.partnerships, "rsp_id", partnerships),
    ]


def next_partnership_number(conn) -> int:
    """The number a new partnership gets (schema.partnerships.number): one past the highest."""
    top = conn.execute(select(func.max(schema.partnerships.c.number))).scalar()
    number = (top or 0) + 1
    if number > schema.MAX_PARTNERSHIPS:
        raise ValueError(f"the store holds its maximum of {schema.MAX_PARTNERSHIPS:,} partnerships")
    return number


def _upsert_registry(conn, reg: Registry) -> tuple[int, int]:
    inserted = updated = 0
    for table, key, rows in _registry_rows(reg):
        current = {row[key]: dict(row) for row in conn.execute(select(table)).mappings()}
        for row in rows:
            old = current.get(row[key])
            if old is None:
                if table is schema.partnerships:
                    row = {**row, "number": next_partnership_number(conn)}
                conn.execute(insert(table).values(**row))
                inserted += 1
            elif any(old[c] != v for c, v in row.items()):
                conn.execute(update(table).where(table.c[key] == row[key]).values(**row))
                updated += 1
    return inserted, updated


def read_demo_rows(path: Path = DEMO_FILE, *, as_sent: bool = False) -> list[dict]:
    """The demo file's latest figures per partnership-month as fact values (an empty optional cell, not
    reported, is None); `as_sent`: every row as sent, in order, with its `sent_on` day."""

    def optional(text: str | None, kind):
        return None if text is None or text == "" else kind(text)

    with open(path, newline="", encoding="utf-8") as fh:
        rows = [
            {
                "rsp_id": r["rsp_id"],
                "month": month_to_date(r["month"]),
                **{m: int(r[m]) for m in REQUIRED_KEYS},
                **{m: optional(r.get(m), int if METRICS[m].whole else float) for m in OPTIONAL_KEYS},
                "sent_on": date.fromisoformat(r["sent_on"]),
            }
            for r in csv.DictReader(fh)
        ]
    if as_sent:
        return rows
    latest = {(r["rsp_id"], r["month"]): r for r in rows}
    return [{k: v for k, v in r.items() if k != "sent_on"} for r in latest.values()]


def _load_demo(conn, path: Path = DEMO_FILE) -> int:
    """Load the illustrative rows as the 'demo' batches they were sent in (one a sending day, loaded at noon
    in Connecticut; a correction is written with its history, as an import would), unless this exact file is
    already loaded; never over a row an import wrote."""
    checksum = hashlib.sha256(path.read_bytes()).hexdigest()
    batches = schema.import_batches
    demo_batches = [
        (row.batch_id, row.checksum)
        for row in conn.execute(select(batches.c.batch_id, batches.c.checksum).where(batches.c.kind == "demo"))
    ]
    if any(c == checksum for _, c in demo_batches):
        return 0
    facts = schema.monthly_metrics
    if demo_batches:  # an older demo file: replace its rows
        conn.execute(delete(facts).where(facts.c.batch_id.in_([b for b, _ in demo_batches])))
    taken = {(r.rsp_id, r.month) for r in conn.execute(select(facts.c.rsp_id, facts.c.month))}
    sent: dict[date, list[dict]] = {}
    for row in read_demo_rows(path, as_sent=True):
        if (row["rsp_id"], row["month"]) not in taken:
            sent.setdefault(row.pop("sent_on"), []).append(row)
    loaded: dict[tuple, tuple[int, dict]] = {}
    for day, rows in sorted(sent.items()):
        added = [r for r in rows if (r["rsp_id"], r["month"]) not in loaded]
        batch_id = conn.execute(
            insert(batches).values(
                kind="demo",
                file_name=path.name,
                checksum=checksum,
                loaded_by="rsp_data init --demo",
                loaded_at=datetime(day.year, day.month, day.day, 12, tzinfo=CONNECTICUT).astimezone(UTC),
                rows_added=len(added),
                rows_changed=len(rows) - len(added),
                note="Illustrative data generated by rsp_data/demo.py; not real figures.",
            )
        ).inserted_primary_key[0]
        if added:
            conn.execute(insert(facts), [{**r, "batch_id": batch_id} for r in added])
        for r in rows:
            key = (r["rsp_id"], r["month"])
            new = {m: r[m] for m in STORED_KEYS}
            if key in loaded:
                old_batch, old = loaded[key]
                write_change(conn, batch_id, Change(*key, "change", old, new, old_batch))
            loaded[key] = (batch_id, new)
    return len(loaded)


def check_ready(engine: Engine) -> None:
    """Raise StoreNotReady with the command that fixes it when schema or registry is missing."""
    names = set(inspect(engine).get_table_names())
    missing = [t.name for t in schema.metadata.sorted_tables if t.name not in names]
    if missing:
        raise StoreNotReady(
            f"The metrics store has no {', '.join(missing)} table(s). "
            "Create them with: python -m rsp_data init --demo (or without --demo for an empty store)."
        )
    with engine.connect() as conn:
        count = conn.execute(select(func.count()).select_from(schema.partnerships)).scalar_one()
    if count == 0:
        raise StoreNotReady("The metrics store has no partnerships. Fill the registry with: python -m rsp_data init")


def open_store(url: str | None = None) -> Engine:
    """Engine for the app. The embedded default fills itself on first use; other stores must be ready."""
    url = database_url(url)
    engine = make_engine(url)
    if is_default(url):
        init_store(engine, demo=True)
    check_ready(engine)
    return engine

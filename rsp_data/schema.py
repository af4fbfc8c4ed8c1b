"""Table definitions of the metrics store (SQLAlchemy Core, portable across dialects)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from rsp_data.metrics import CARRY_SUMS, FLOW_SUMS, METRICS, OPTIONAL_KEYS, REQUIRED_KEYS, STOCK_SUMS, SUMS
from rsp_data.months import index_month, month_index  # noqa: F401  (running_key; rollups)

metadata = MetaData()

# The fact columns, the rollups' sums and the running columns all follow rsp_data/metrics.py.


def _fact_type(key: str):
    return Integer if METRICS[key].whole else Float


regions = Table(
    "regions",
    metadata,
    Column("region_id", String(40), primary_key=True),
    Column("name", String(80), nullable=False),
    Column("also_called", String(80), nullable=False, default=""),
    Column("workforce_board", String(200), nullable=False, default=""),
    Column("towns", Integer, nullable=False),
    Column("counties", String(200), nullable=False, default=""),
)

sectors = Table(
    "sectors",
    metadata,
    Column("sector_id", String(40), primary_key=True),
    Column("name", String(80), nullable=False),
)

partnerships = Table(
    "partnerships",
    metadata,
    Column("rsp_id", String(60), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("name_source", String(20), nullable=False),
    Column("sector_id", String(40), ForeignKey("sectors.sector_id"), nullable=False, index=True),
    Column("region_id", String(40), ForeignKey("regions.region_id"), nullable=False, index=True),
    Column("convener", String(300), nullable=False, default=""),
    Column("launched", String(7), nullable=False, default=""),
    Column("published_size", String(200), nullable=False, default=""),
    Column("gjc_supported", Boolean, nullable=False, default=False),
    # 1, 2, ... (never reused): the partnership's part of the running_totals key (running_key).
    Column("number", Integer, nullable=False),
    UniqueConstraint("number", name="uq_partnerships_number"),
    # The search box walks names in order and stops at the 50th match (migration 0003).
    Index("ix_partnerships_name_search", "name", "rsp_id", "region_id", "sector_id"),
)
# Migration 0003's pg_trgm indexes for "contains" searches: PostgreSQL only, so not declared above.
OPTIONAL_INDEXES = frozenset({"ix_partnerships_name_trgm", "ix_partnerships_id_trgm"})


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """Alembic's filter for schema comparisons: everything but the OPTIONAL_INDEXES."""
    return not (type_ == "index" and name in OPTIONAL_INDEXES)


# Every write to the facts is a recorded batch (the demo data is one, kind "demo").
import_batches = Table(
    "import_batches",
    metadata,
    Column("batch_id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(20), nullable=False),  # "demo" or "import"
    Column("file_name", String(260), nullable=False),
    Column("checksum", String(64), nullable=False, index=True),
    Column("loaded_by", String(200), nullable=False, default=""),
    Column("loaded_at", DateTime(timezone=True), nullable=False),
    Column("rows_added", Integer, nullable=False, default=0),
    Column("rows_changed", Integer, nullable=False, default=0),
    Column("note", Text, nullable=False, default=""),
    Column("rolled_back_at", DateTime(timezone=True), nullable=True),
    Column("rolled_back_by", String(200), nullable=True),
    # Fact rows this batch holds now, kept by every write: the load history never counts the facts.
    Column("rows_held", Integer, nullable=False, default=0, server_default="0"),
)

# One row per partnership per month. `month` is the first day of the month.
monthly_metrics = Table(
    "monthly_metrics",
    metadata,
    Column("rsp_id", String(60), ForeignKey("partnerships.rsp_id"), primary_key=True),
    Column("month", Date, primary_key=True),
    *[Column(m, _fact_type(m), nullable=False) for m in REQUIRED_KEYS],
    Column("batch_id", Integer, ForeignKey("import_batches.batch_id"), nullable=False, index=True),
    *[Column(m, _fact_type(m), nullable=True) for m in OPTIONAL_KEYS],
    CheckConstraint(
        "employers_engaged >= 0 AND trainees_enrolled >= 0 AND trainees_completed >= 0 AND placements >= 0",
        name="ck_monthly_metrics_non_negative",
    ),
    UniqueConstraint("month", "rsp_id", name="uq_monthly_metrics_month_rsp"),
)


# What each batch did to each fact row, for an exact rollback: "added" (old_* NULL) or "changed".
fact_history = Table(
    "fact_history",
    metadata,
    Column("batch_id", Integer, ForeignKey("import_batches.batch_id"), primary_key=True),
    Column("rsp_id", String(60), primary_key=True),
    Column("month", Date, primary_key=True),
    Column("action", String(10), nullable=False),
    Column("old_batch_id", Integer, nullable=True),
    *[Column(f"old_{m}", _fact_type(m), nullable=True) for m in REQUIRED_KEYS],
    *[Column(f"new_{m}", _fact_type(m), nullable=False) for m in REQUIRED_KEYS],
    *[Column(f"{side}_{m}", _fact_type(m), nullable=True) for side in ("old", "new") for m in OPTIONAL_KEYS],
)

# A single row every import and rollback updates first, so writers queue behind each other.
import_lock = Table(
    "import_lock",
    metadata,
    Column("lock_id", Integer, primary_key=True),
    Column("holder", String(200), nullable=False, default=""),
    Column("taken_at", DateTime(timezone=True), nullable=True),
)


# Who may write which partnership's figures (rsp_data/grants.py): an identity (a lower-cased e-mail, or
# "sub:" + an OpenID Connect subject) and a partnership id, or "all" (state staff). No foreign key to
# partnerships: "all" is not one, and the grants command checks every id against the registry.
write_grants = Table(
    "write_grants",
    metadata,
    Column("identity", String(200), primary_key=True),
    Column("rsp_id", String(60), primary_key=True),
    Column("granted_at", DateTime(timezone=True), nullable=False),
    Column("granted_by", String(200), nullable=False),
)

# Every grant and revoke, as it happened: nothing here is ever updated or deleted.
grant_changes = Table(
    "grant_changes",
    metadata,
    Column("change_id", Integer, primary_key=True, autoincrement=True),
    Column("changed_at", DateTime(timezone=True), nullable=False),
    Column("changed_by", String(200), nullable=False),
    Column("action", String(10), nullable=False),  # "grant" or "revoke"
    Column("identity", String(200), nullable=False, index=True),
    Column("rsp_id", String(60), nullable=False),
)


# Goals are data (rsp_data/data/goals.csv, importable): a metric's target over a scope and months.
goals = Table(
    "goals",
    metadata,
    Column("goal_id", String(60), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("scope", String(20), nullable=False),  # "statewide", "grant" or "partnership"
    Column("rsp_id", String(60), nullable=True),  # the partnership, when scope is "partnership"
    Column("metric", String(40), nullable=False),
    Column("target", Integer, nullable=False),
    Column("start_month", Date, nullable=False),
    Column("due_month", Date, nullable=False),
    Column("source", Text, nullable=False, default=""),
)


def _summed_columns() -> list[Column]:
    types = {s.name: Float if not s.whole else Integer if s.count else BigInteger for s in SUMS}
    types |= dict.fromkeys(CARRY_SUMS, BigInteger)  # (metrics.carried: a stock's part carried into later months)
    return [Column(name, kind, nullable=False, default=0) for name, kind in types.items()]


# Rollups (README's data dictionary), kept in step with the facts by rsp_data.rollups so that no page
# reads the fact table whole. rollup_cells has no rowid: a query reads one stretch of rows in key order.
rollup_cells = Table(
    "rollup_cells",
    metadata,
    Column("grain", String(8), primary_key=True),
    Column("region_id", String(40), primary_key=True),
    Column("sector_id", String(40), primary_key=True),
    Column("month", Date, primary_key=True),
    Column("gjc", Boolean, primary_key=True),
    Column("reporting", Integer, nullable=False, default=0),
    Column("demo_rows", Integer, nullable=False, default=0),
    *_summed_columns(),
    sqlite_with_rowid=False,
)

# running_totals: a range's total is running(to) - running(from - 1). Its key is one integer (running_key),
# so one month's rows are one stretch of keys; last_*: the month index of the latest report so far.
RUNNING_COLUMNS = (*FLOW_SUMS, "months_reported")
FLOAT_RUNNING = frozenset(s.name for s in SUMS if not s.whole)
LAST_COLUMNS = ("last_report", *[f"last_{m}" for m in OPTIONAL_KEYS])
KEY_BITS = 20
MAX_PARTNERSHIPS = 2**KEY_BITS - 1


def running_key(month, number: int = 0) -> int:
    """month index x 2^20 + partnership `number` (0: where the month's keys begin); `month` a date or index."""
    index = month if isinstance(month, int) else month_index(month)
    return (index << KEY_BITS) + number


def running_month(table, month) -> list:
    """The condition that reads one month's running_totals rows (of `table`, or an alias of it)."""
    return [table.c.k.between(running_key(month), running_key(month, MAX_PARTNERSHIPS))]


running_totals = Table(
    "running_totals",
    metadata,
    Column("k", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False),
    Column("month", Date, nullable=False),
    Column("rsp_id", String(60), nullable=False),
    Column("region_id", String(40), nullable=False),
    Column("sector_id", String(40), nullable=False),
    Column("gjc", Boolean, nullable=False),
    # Each stock as of the latest report so far (never summed; last_report says which month's).
    *[Column(name, Integer, nullable=True) for name in STOCK_SUMS],
    *[
        Column(f"cum_{m}", Float if m in FLOAT_RUNNING else BigInteger, nullable=False, default=0)
        for m in RUNNING_COLUMNS
    ],
    *[Column(c, Integer, nullable=True) for c in LAST_COLUMNS],
)

# running_arrays: the running_totals columns a ranking reads, one array per month and column indexed by
# partnership number, so a ranking is numpy on two arrays (docs/benchmarks.md); month -1: the registry's.
ARRAY_COLUMNS = (
    *STOCK_SUMS,
    *[f"cum_{s.name}" for s in SUMS if not (s.stock or s.count)],
    *LAST_COLUMNS,
    "cum_months_reported",  # (migration 0007): a ranked page's rows then come from arrays alone
)
ID_RANK = "id_rank"
GROUP_CODES = {"region": "region_code", "sector": "sector_code"}  # a number's region (sector): its place in sorted ids
REGISTRY_MONTH = -1

running_arrays = Table(
    "running_arrays",
    metadata,
    Column("month_index", Integer, primary_key=True, autoincrement=False),
    Column("name", String(100), primary_key=True),
    Column("dtype", String(8), nullable=False),  # numpy's dtype string, e.g. "<i4"
    Column("data", LargeBinary, nullable=False),
    sqlite_with_rowid=False,
)

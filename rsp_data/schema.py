"""Table definitions of the metrics store (SQLAlchemy Core, portable across dialects)."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

METRIC_COLUMNS = ("employers_engaged", "trainees_enrolled", "trainees_completed", "placements")

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
)

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
)

# One row per partnership per month. `month` is the first day of the month.
monthly_metrics = Table(
    "monthly_metrics",
    metadata,
    Column("rsp_id", String(60), ForeignKey("partnerships.rsp_id"), primary_key=True),
    Column("month", Date, primary_key=True),
    Column("employers_engaged", Integer, nullable=False),
    Column("trainees_enrolled", Integer, nullable=False),
    Column("trainees_completed", Integer, nullable=False),
    Column("placements", Integer, nullable=False),
    Column("batch_id", Integer, ForeignKey("import_batches.batch_id"), nullable=False),
    CheckConstraint(
        "employers_engaged >= 0 AND trainees_enrolled >= 0 AND trainees_completed >= 0 AND placements >= 0",
        name="ck_monthly_metrics_non_negative",
    ),
    UniqueConstraint("month", "rsp_id", name="uq_monthly_metrics_month_rsp"),
)


# What each batch did to each fact row, so that a batch can be rolled back exactly:
# action "added" (old_* are NULL) or "changed" (old_* hold the values it overwrote).
fact_history = Table(
    "fact_history",
    metadata,
    Column("batch_id", Integer, ForeignKey("import_batches.batch_id"), primary_key=True),
    Column("rsp_id", String(60), primary_key=True),
    Column("month", Date, primary_key=True),
    Column("action", String(10), nullable=False),
    Column("old_batch_id", Integer, nullable=True),
    *[Column(f"old_{m}", Integer, nullable=True) for m in METRIC_COLUMNS],
    *[Column(f"new_{m}", Integer, nullable=False) for m in METRIC_COLUMNS],
)

# A single row every import and rollback updates first: writers queue behind each other
# on every database (a row lock on PostgreSQL, the write lock on SQLite).
import_lock = Table(
    "import_lock",
    metadata,
    Column("lock_id", Integer, primary_key=True),
    Column("holder", String(200), nullable=False, default=""),
    Column("taken_at", DateTime(timezone=True), nullable=True),
)

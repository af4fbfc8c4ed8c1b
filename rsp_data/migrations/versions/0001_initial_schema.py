"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "import_batches",
        sa.Column("batch_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("file_name", sa.String(length=260), nullable=False),
        sa.Column("checksum", sa.String(length=64), nullable=False),
        sa.Column("loaded_by", sa.String(length=200), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rows_added", sa.Integer(), nullable=False),
        sa.Column("rows_changed", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("rolled_back_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rolled_back_by", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("batch_id"),
    )
    with op.batch_alter_table("import_batches", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_import_batches_checksum"), ["checksum"], unique=False)

    op.create_table(
        "import_lock",
        sa.Column("lock_id", sa.Integer(), nullable=False),
        sa.Column("holder", sa.String(length=200), nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("lock_id"),
    )
    op.create_table(
        "regions",
        sa.Column("region_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("also_called", sa.String(length=80), nullable=False),
        sa.Column("workforce_board", sa.String(length=200), nullable=False),
        sa.Column("towns", sa.Integer(), nullable=False),
        sa.Column("counties", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("region_id"),
    )
    op.create_table(
        "sectors",
        sa.Column("sector_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.PrimaryKeyConstraint("sector_id"),
    )
    op.create_table(
        "fact_history",
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("rsp_id", sa.String(length=60), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("action", sa.String(length=10), nullable=False),
        sa.Column("old_batch_id", sa.Integer(), nullable=True),
        sa.Column("old_employers_engaged", sa.Integer(), nullable=True),
        sa.Column("old_trainees_enrolled", sa.Integer(), nullable=True),
        sa.Column("old_trainees_completed", sa.Integer(), nullable=True),
        sa.Column("old_placements", sa.Integer(), nullable=True),
        sa.Column("new_employers_engaged", sa.Integer(), nullable=False),
        sa.Column("new_trainees_enrolled", sa.Integer(), nullable=False),
        sa.Column("new_trainees_completed", sa.Integer(), nullable=False),
        sa.Column("new_placements", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["import_batches.batch_id"],
        ),
        sa.PrimaryKeyConstraint("batch_id", "rsp_id", "month"),
    )
    op.create_table(
        "partnerships",
        sa.Column("rsp_id", sa.String(length=60), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_source", sa.String(length=20), nullable=False),
        sa.Column("sector_id", sa.String(length=40), nullable=False),
        sa.Column("region_id", sa.String(length=40), nullable=False),
        sa.Column("convener", sa.String(length=300), nullable=False),
        sa.Column("launched", sa.String(length=7), nullable=False),
        sa.Column("published_size", sa.String(length=200), nullable=False),
        sa.Column("gjc_supported", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["region_id"],
            ["regions.region_id"],
        ),
        sa.ForeignKeyConstraint(
            ["sector_id"],
            ["sectors.sector_id"],
        ),
        sa.PrimaryKeyConstraint("rsp_id"),
    )
    with op.batch_alter_table("partnerships", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_partnerships_region_id"), ["region_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_partnerships_sector_id"), ["sector_id"], unique=False)

    op.create_table(
        "monthly_metrics",
        sa.Column("rsp_id", sa.String(length=60), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("employers_engaged", sa.Integer(), nullable=False),
        sa.Column("trainees_enrolled", sa.Integer(), nullable=False),
        sa.Column("trainees_completed", sa.Integer(), nullable=False),
        sa.Column("placements", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "employers_engaged >= 0 AND trainees_enrolled >= 0 AND trainees_completed >= 0 AND placements >= 0",
            name="ck_monthly_metrics_non_negative",
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["import_batches.batch_id"],
        ),
        sa.ForeignKeyConstraint(
            ["rsp_id"],
            ["partnerships.rsp_id"],
        ),
        sa.PrimaryKeyConstraint("rsp_id", "month"),
        sa.UniqueConstraint("month", "rsp_id", name="uq_monthly_metrics_month_rsp"),
    )


def downgrade() -> None:
    op.drop_table("monthly_metrics")
    with op.batch_alter_table("partnerships", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_partnerships_sector_id"))
        batch_op.drop_index(batch_op.f("ix_partnerships_region_id"))

    op.drop_table("partnerships")
    op.drop_table("fact_history")
    op.drop_table("sectors")
    op.drop_table("regions")
    op.drop_table("import_lock")
    with op.batch_alter_table("import_batches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_import_batches_checksum"))

    op.drop_table("import_batches")

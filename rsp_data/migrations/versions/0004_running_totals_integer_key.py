"""running_totals keyed by one integer; partnership numbers; the latest report carried in each row

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01

Per-partnership figures over a month range pair two running_totals rows per partnership
(running(to) - running(from - 1)). At 89,203 partnerships that pairing, by (month, rsp_id) text
keys, was most of the time of the slowest page queries. Now:

- partnerships.number: a whole number per partnership (1, 2, ... in rsp_id order here; new
  partnerships get the next one), unique.
- running_totals: the key is k = month index x 2^20 + number (a rowid table on SQLite: one month's
  rows are one stretch of keys, a partnership's earlier row is k minus a multiple of 2^20). The
  month and rsp_id stay as columns.
- last_report and last_<optional metric>: the month index of the latest report (of that metric)
  up to the row's month, so "which partnerships reported in from..to" reads one month's rows.

The table is derived: it is dropped, created anew and filled from the facts by
rsp_data.migrate.upgrade once the migrations have run (rollups.rebuild_all).
"""

import sqlalchemy as sa
from alembic import op

from rsp_data.migrate import REBUILD

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

RUNNING = (
    "trainees_enrolled",
    "trainees_completed",
    "placements",
    "placements_no_bachelor",
    "wbl_started",
    "trainees_underrepresented",
    "wage_dollars",
    "wage_placements",
    "no_bachelor_placements",
    "avg_starting_wage_rows",
    "placements_no_bachelor_rows",
    "wbl_started_rows",
    "trainees_underrepresented_rows",
    "months_reported",
)
LAST = ("last_report", "last_avg_starting_wage", "last_placements_no_bachelor", "last_wbl_started",
        "last_trainees_underrepresented")  # fmt: skip


def _cum_columns() -> list:
    return [
        sa.Column(f"cum_{m}", sa.Float() if m == "wage_dollars" else sa.BigInteger(), nullable=False) for m in RUNNING
    ]


def _common_columns() -> list:
    return [
        sa.Column("region_id", sa.String(length=40), nullable=False),
        sa.Column("sector_id", sa.String(length=40), nullable=False),
        sa.Column("gjc", sa.Boolean(), nullable=False),
        sa.Column("employers_engaged", sa.Integer(), nullable=True),
        *_cum_columns(),
    ]


def upgrade() -> None:
    bind = op.get_bind()
    with op.batch_alter_table("partnerships", schema=None) as batch_op:
        batch_op.add_column(sa.Column("number", sa.Integer(), nullable=True))
    partnerships = sa.table("partnerships", sa.column("rsp_id", sa.String), sa.column("number", sa.Integer))
    ids = [row[0] for row in bind.execute(sa.select(partnerships.c.rsp_id).order_by(partnerships.c.rsp_id))]
    if ids:
        bind.execute(
            partnerships.update().where(partnerships.c.rsp_id == sa.bindparam("id")).values(number=sa.bindparam("n")),
            [{"id": rsp_id, "n": n} for n, rsp_id in enumerate(ids, start=1)],
        )
    with op.batch_alter_table("partnerships", schema=None) as batch_op:
        batch_op.alter_column("number", existing_type=sa.Integer(), nullable=False)
        batch_op.create_unique_constraint("uq_partnerships_number", ["number"])

    op.drop_table("running_totals")
    op.create_table(
        "running_totals",
        sa.Column("k", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=False, nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("rsp_id", sa.String(length=60), nullable=False),
        *_common_columns(),
        *[sa.Column(c, sa.Integer(), nullable=True) for c in LAST],
        sa.PrimaryKeyConstraint("k"),
    )
    # Filled from the facts once every migration has run (rsp_data.migrate.upgrade).
    bind.info[REBUILD] = True


def downgrade() -> None:
    op.drop_table("running_totals")
    op.create_table(
        "running_totals",
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("rsp_id", sa.String(length=60), nullable=False),
        *_common_columns(),
        sa.PrimaryKeyConstraint("month", "rsp_id"),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("partnerships", schema=None) as batch_op:
        batch_op.drop_constraint("uq_partnerships_number", type_="unique")
        batch_op.drop_column("number")
    # The old table is left empty: it is derived data, which rsp_data.rollups.rebuild_all of the
    # code of revision 0003 refills.

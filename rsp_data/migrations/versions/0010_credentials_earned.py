"""credentials_earned: an optional flow, and its rate over completions

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05

The metric's column in the facts and their history, and its sums in the rollups (its own, the
rows reporting it, and credential_rate's denominator: the completions of those rows). Nobody has
reported it yet, so every new sum is 0 and every latest report NULL: no rebuild, only the months'
arrays are written again (rsp_data.migrate.upgrade).
"""

import sqlalchemy as sa
from alembic import op

from rsp_data.migrate import REFRESH_ARRAYS

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

SUMS = {"credentials_earned": sa.BigInteger(), "credential_rate_base": sa.BigInteger()}
ROWS = "credentials_earned_rows"


def upgrade() -> None:
    op.add_column("monthly_metrics", sa.Column("credentials_earned", sa.Integer(), nullable=True))
    for side in ("old", "new"):
        op.add_column("fact_history", sa.Column(f"{side}_credentials_earned", sa.Integer(), nullable=True))
    for name, kind in SUMS.items():
        op.add_column("rollup_cells", sa.Column(name, kind, nullable=False, server_default="0"))
        op.add_column("running_totals", sa.Column(f"cum_{name}", kind, nullable=False, server_default="0"))
    op.add_column("rollup_cells", sa.Column(ROWS, sa.Integer(), nullable=False, server_default="0"))
    op.add_column("running_totals", sa.Column(f"cum_{ROWS}", sa.BigInteger(), nullable=False, server_default="0"))
    op.add_column("running_totals", sa.Column("last_credentials_earned", sa.Integer(), nullable=True))
    op.get_bind().info[REFRESH_ARRAYS] = True


def downgrade() -> None:
    with op.batch_alter_table("running_totals") as batch:
        for name in ("last_credentials_earned", f"cum_{ROWS}", *[f"cum_{n}" for n in SUMS]):
            batch.drop_column(name)
    with op.batch_alter_table("rollup_cells") as batch:
        for name in (ROWS, *SUMS):
            batch.drop_column(name)
    with op.batch_alter_table("fact_history") as batch:
        for side in ("old", "new"):
            batch.drop_column(f"{side}_credentials_earned")
    with op.batch_alter_table("monthly_metrics") as batch:
        batch.drop_column("credentials_earned")
    arrays = sa.table("running_arrays", sa.column("name", sa.String))
    op.execute(
        arrays.delete().where(
            arrays.c.name.in_(["cum_credentials_earned", "cum_credential_rate_base", "last_credentials_earned"])
        )
    )

"""A stock as of each partnership's latest report: the carried parts of the rollups

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05

Employers engaged (a stock) now counts a partnership that has not reported the as-of month with its
latest report of the two months before (rsp_data/metrics.py, CARRY). rollup_cells gains, per stock,
`<stock>_carry1` and `<stock>_carry2`: the month's reports that stand for the next month, and for the
one after, because their partnership did not report them. running_totals' stock holds the latest report
so far (it was NULL in the months a partnership did not report). Both are derived: every rollup is
filled again from the facts by rsp_data.migrate.upgrade once the migrations have run (rollups.rebuild_all).
"""

import sqlalchemy as sa
from alembic import op

from rsp_data.migrate import REBUILD

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

STOCKS = ("employers_engaged",)  # the stocks at this revision (metrics.STOCK_SUMS may grow later)
CARRIED = [f"{name}_carry{k}" for name in STOCKS for k in (1, 2)]
KEY_BITS = 20  # running_totals.k: month index × 2^20 + partnership number


def upgrade() -> None:
    for name in CARRIED:
        op.add_column("rollup_cells", sa.Column(name, sa.BigInteger(), nullable=False, server_default="0"))
    op.get_bind().info[REBUILD] = True


def downgrade() -> None:
    from rsp_data import rollups  # (the months' arrays follow the running rows, as 0011 had them)

    with op.batch_alter_table("rollup_cells") as batch:
        for name in CARRIED:
            batch.drop_column(name)
    running = sa.table(
        "running_totals", sa.column("k", sa.BigInteger), sa.column("last_report", sa.Integer), *map(sa.column, STOCKS)
    )
    reported_then = running.c.last_report == running.c.k.op(">>")(sa.cast(sa.literal(KEY_BITS), sa.Integer()))
    op.execute(running.update().where(~reported_then).values(dict.fromkeys(STOCKS)))
    rollups.refresh_all_arrays(op.get_bind())

"""running_arrays: the ranked running_totals columns as one array per month

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01

Ranking every partnership over a month range (the Partnerships table, the map's markers, the
leaders of Trends and Good jobs & reach) paired two running_totals rows per partnership in SQL:
35-90 ms at 89,203 partnerships. Each month's column of running sums for every partnership, as
one array indexed by partnership number, makes a ranking two arrays per column and numpy.

The table is derived: it is filled from running_totals by rsp_data.migrate.upgrade once the
migrations have run (rollups.rebuild_all).
"""

import sqlalchemy as sa
from alembic import op

from rsp_data.migrate import REBUILD

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "running_arrays",
        sa.Column("month_index", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("dtype", sa.String(length=8), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("month_index", "name"),
        sqlite_with_rowid=False,
    )
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        # Stored as they are, not compressed (TOAST's pglz): a ranking reads a few arrays of a few
        # hundred KB, and decompressing each would cost more than reading it.
        op.execute("ALTER TABLE running_arrays ALTER COLUMN data SET STORAGE EXTERNAL")
    # Filled once every migration has run (rsp_data.migrate.upgrade).
    bind.info[REBUILD] = True


def downgrade() -> None:
    op.drop_table("running_arrays")

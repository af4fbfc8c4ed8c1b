"""running_arrays: each month's cum_months_reported

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01

A ranked page of partnerships (the map's 300 markers, a table page) read its rows from
running_totals by key: two rows per partnership, scattered over two months' stretches of the
table, which the OS cache seldom held whole at 10 million rows (a map of 300 on PostgreSQL: p95
159-240 ms). Every figure of those rows but the months reported was already an array; with this
one the page is numpy over arrays the ranking reads anyway, and the registry's rows by number. No
table changes: every month's arrays are rewritten once every migration has run
(rsp_data.migrate.upgrade), from running_totals, which stays as it is.
"""

import sqlalchemy as sa
from alembic import op

from rsp_data.migrate import REFRESH_ARRAYS

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.get_bind().info[REFRESH_ARRAYS] = True


def downgrade() -> None:
    # Revision 0006's arrays, as its code wrote them: without cum_months_reported.
    arrays = sa.table("running_arrays", sa.column("name", sa.String))
    op.execute(arrays.delete().where(arrays.c.name == "cum_months_reported"))

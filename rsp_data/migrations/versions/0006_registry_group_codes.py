"""running_arrays: each partnership's region and sector as a code array

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01

The sector × region grid summed every partnership's range totals by cell with the registry's
0/1 masks: one mask per region and per sector, 5.2 MB read for 89,203 partnerships and 63 groups.
Two arrays of codes (rsp_data.rollups.registry_arrays, "region_code" and "sector_code") hold the
same in 180 KB. No table changes: the registry's arrays are rewritten once every migration has
run (rsp_data.migrate.upgrade), which leaves the months' arrays as they are.
"""

import sqlalchemy as sa
from alembic import op

from rsp_data.migrate import REFRESH_REGISTRY

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.get_bind().info[REFRESH_REGISTRY] = True


def downgrade() -> None:
    # Revision 0005's registry arrays, as its code wrote them: without the two code arrays.
    arrays = sa.table("running_arrays", sa.column("month_index", sa.Integer), sa.column("name", sa.String))
    op.execute(arrays.delete().where(arrays.c.month_index == -1, arrays.c.name.in_(["region_code", "sector_code"])))

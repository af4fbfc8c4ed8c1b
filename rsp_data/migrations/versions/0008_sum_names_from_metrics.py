"""The rollups' sums named after the metric declarations

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05

rsp_data/metrics.py now names every sum the rollups hold: a weighted average's two sums are
`<metric>_weighted` and `<metric>_weight`, and a rate over an optional numerator divides by
`<rate>_base`. Renames only: no value changes, nothing is rebuilt.
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

RENAMED = {
    "wage_dollars": "avg_starting_wage_weighted",
    "wage_placements": "avg_starting_wage_weight",
    "no_bachelor_placements": "no_bachelor_share_base",
}


def _rename(names: dict[str, str]) -> None:
    arrays = sa.table("running_arrays", sa.column("name", sa.String))
    for old, new in names.items():
        # Fixed identifiers from this file, not input.
        op.execute(f"ALTER TABLE rollup_cells RENAME COLUMN {old} TO {new}")
        op.execute(f"ALTER TABLE running_totals RENAME COLUMN cum_{old} TO cum_{new}")
        op.execute(arrays.update().where(arrays.c.name == f"cum_{old}").values(name=f"cum_{new}"))


def upgrade() -> None:
    _rename(RENAMED)


def downgrade() -> None:
    _rename({new: old for old, new in RENAMED.items()})

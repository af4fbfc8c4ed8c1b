"""Drop partnership_spans

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05

A partnership's first and last month are one probe each of the facts' primary key (rsp_id,
month), and the Data page walks the registry instead, so the derived table no longer pays for
itself. Downgrading recreates it from the facts.
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_table("partnership_spans")


def downgrade() -> None:
    op.create_table(
        "partnership_spans",
        sa.Column("rsp_id", sa.String(length=60), nullable=False),
        sa.Column("first_month", sa.Date(), nullable=False),
        sa.Column("last_month", sa.Date(), nullable=False),
        sa.Column("months_reported", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("rsp_id"),
    )
    spans = sa.table(
        "partnership_spans",
        sa.column("rsp_id"),
        sa.column("first_month"),
        sa.column("last_month"),
        sa.column("months_reported"),
    )
    facts = sa.table("monthly_metrics", sa.column("rsp_id"), sa.column("month"))
    op.execute(
        spans.insert().from_select(
            ["rsp_id", "first_month", "last_month", "months_reported"],
            sa.select(facts.c.rsp_id, sa.func.min(facts.c.month), sa.func.max(facts.c.month), sa.func.count()).group_by(
                facts.c.rsp_id
            ),
        )
    )

"""write_grants and grant_changes: who may write which partnership's figures, and every change to that

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05

Two new tables, empty: until someone is granted a partnership, only the command line (trusted, as
before), the password administrator and admin_emails may write.
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "write_grants",
        sa.Column("identity", sa.String(200), primary_key=True),
        sa.Column("rsp_id", sa.String(60), primary_key=True),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("granted_by", sa.String(200), nullable=False),
    )
    op.create_table(
        "grant_changes",
        sa.Column("change_id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_by", sa.String(200), nullable=False),
        sa.Column("action", sa.String(10), nullable=False),
        sa.Column("identity", sa.String(200), nullable=False),
        sa.Column("rsp_id", sa.String(60), nullable=False),
    )
    op.create_index("ix_grant_changes_identity", "grant_changes", ["identity"])


def downgrade() -> None:
    op.drop_index("ix_grant_changes_identity", table_name="grant_changes")
    op.drop_table("grant_changes")
    op.drop_table("write_grants")

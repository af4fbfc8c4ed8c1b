"""indexes for the partnership search box: names in order (every store), trigrams (PostgreSQL)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22

With tens of thousands of partnerships the sidebar search ("contains", by name, first 50) read the
whole table for every keystroke: ~45 ms on SQLite and ~70 ms on PostgreSQL at 89,203 partnerships.

- Every store: an index on (name, rsp_id, region_id, sector_id). Walking it in name order stops at
  the 50th match (1-4 ms for common words on SQLite); a search that matches nothing reads the
  index alone, not the table.
- PostgreSQL: trigram indexes (the pg_trgm extension, shipped with PostgreSQL) on lower(name) and
  lower(rsp_id), which answer "contains" directly (1-5 ms for any word). Where the extension is
  not available or the role may not create it, they are left out with a warning: searching still
  works, reading the table.
"""

import warnings

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# Named in rsp_data.schema.OPTIONAL_INDEXES (left out of schema comparisons).
TRIGRAM_INDEXES = {"ix_partnerships_name_trgm": "name", "ix_partnerships_id_trgm": "rsp_id"}


def upgrade() -> None:
    op.create_index(
        "ix_partnerships_name_search", "partnerships", ["name", "rsp_id", "region_id", "sector_id"], unique=False
    )
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    try:
        with bind.begin_nested():
            bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    except sa.exc.DBAPIError as exc:
        warnings.warn(f"pg_trgm not available, partnership search reads the table: {exc.orig}", stacklevel=1)
        return
    for name, column in TRIGRAM_INDEXES.items():
        # Fixed identifiers from this file, not input.
        bind.execute(sa.text(f"CREATE INDEX {name} ON partnerships USING gin (lower({column}) gin_trgm_ops)"))


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        for name in TRIGRAM_INDEXES:
            bind.execute(sa.text(f"DROP INDEX IF EXISTS {name}"))
    op.drop_index("ix_partnerships_name_search", table_name="partnerships")

"""``sales_rows.id`` hands out its identity values a thousand at a time per session (sequence
``CACHE 1000``): a 1,000,000-row report's COPY asked the sequence once per row, a buffer lock
each time and a WAL record every 32 values, about a tenth of the COPY's server time (issue 21,
item 4). Within one session the values still come in order (a report's rows keep their file
order by id); across sessions they interleave, and the unused rest of a session's thousand is
skipped: ids are unique, not dense and not in commit order (nothing reads them so).

Revision ID: 21_ing_sales_rows_id_cache
Revises: 21_kept_items
Create Date: 2026-12-08 01:00:00
"""

from __future__ import annotations

from alembic import op

revision: str = "21_ing_sales_rows_id_cache"
down_revision: str | None = "21_kept_items"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.execute("ALTER TABLE sales_rows ALTER COLUMN id SET CACHE 1000")


def downgrade() -> None:
    op.execute("ALTER TABLE sales_rows ALTER COLUMN id SET CACHE 1")

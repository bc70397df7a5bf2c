"""Kept items of the whole-workspace day report by storefront (issue 21: a dashboard's 90 days
by storefront at concurrency 32): ``sales_items_workspace_day``, each (day, storefront)'s item
as the API writes it, rewritten by ``sales_items_workspace_refresh`` wherever
``sales_rollup_workspace_day`` changes (a replaced day, an account purged); backfilled here.

The function is written by ``app.sales.item_sql.refresh_function`` as of this revision; when the
item's JSON changes, a new revision re-creates it and rewrites the kept items
(``item_sql.FUNCTION_SHA256``).

Revision ID: 21_kept_items
Revises: 18_count_rows
Create Date: 2026-12-07 03:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from app.sales.item_sql import refresh_function

revision: str = "21_kept_items"
down_revision: str | None = "18_count_rows"
branch_labels: str | None = None
depends_on: str | None = None

TABLE = "sales_items_workspace_day"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("workspace_id", sa.UUID(), nullable=False),
        sa.Column("report_date", sa.Date(), nullable=False),
        sa.Column("country_code", sa.Text(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("item", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f(f"fk_{TABLE}_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{TABLE}")),
    )
    op.create_index(
        "ix_sales_items_workspace_day_order", TABLE, ["workspace_id", "report_date", "position"]
    )
    op.execute(refresh_function())
    # After ``zz_sales_rollup_workspace_refresh`` has recomputed the purged account's
    # workspace days (triggers fire in name order).
    op.execute(
        """
        CREATE FUNCTION sales_items_workspace_purged() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM sales_items_workspace_refresh(OLD.workspace_id, '-infinity', 'infinity');
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER zzz_sales_items_workspace_purged AFTER DELETE ON asc_accounts "
        "FOR EACH ROW EXECUTE FUNCTION sales_items_workspace_purged()"
    )
    op.execute("SELECT sales_items_workspace_refresh(id, '-infinity', 'infinity') FROM workspaces")


def downgrade() -> None:
    op.execute("DROP TRIGGER zzz_sales_items_workspace_purged ON asc_accounts")
    op.execute("DROP FUNCTION sales_items_workspace_purged()")
    op.execute("DROP FUNCTION sales_items_workspace_refresh(uuid, date, date)")
    op.drop_index("ix_sales_items_workspace_day_order", table_name=TABLE)
    op.drop_table(TABLE)

"""Kept converted items (issue 17: a dashboard's 90 days by storefront in its reporting
currency): ``sales_items_workspace_day_converted``, each (day, storefront)'s item of the
whole-workspace day report converted into the workspace's default reporting currency, written
by the worker (``app.sales.converted_items``), and ``…_converted_days``, the days kept and the
rates they were converted with.

A day's converted items are only as good as its unconverted ones: a trigger deletes both the
day's mark and its converted items whenever ``sales_items_workspace_refresh`` deletes the day's
kept items (it does before every rewrite: a replaced day, an account purged), in the same
transaction. Rates are checked when read: a mark names the ``fx_data_version`` it was
converted at.

Revision ID: 17_kept_converted_items
Revises: 21_ing_sales_rows_id_cache
Create Date: 2026-12-09 01:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "17_kept_converted_items"
down_revision: str | None = "21_ing_sales_rows_id_cache"
branch_labels: str | None = None
depends_on: str | None = None

ITEMS = "sales_items_workspace_day_converted"
DAYS = "sales_items_workspace_day_converted_days"


def upgrade() -> None:
    op.create_table(
        ITEMS,
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("workspace_id", sa.UUID(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("report_date", sa.Date(), nullable=False),
        sa.Column("country_code", sa.Text(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("item", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f(f"fk_{ITEMS}_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{ITEMS}")),
    )
    op.create_index(
        "ix_sales_items_workspace_day_converted_order",
        ITEMS,
        ["workspace_id", "currency", "report_date", "position"],
    )
    op.create_table(
        DAYS,
        sa.Column("workspace_id", sa.UUID(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("report_date", sa.Date(), nullable=False),
        sa.Column("fx_version", sa.Uuid(), nullable=False),
        sa.Column("max_rate_age_days", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f(f"fk_{DAYS}_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", "currency", "report_date", name=op.f(f"pk_{DAYS}")),
    )
    # Once per statement over the deleted rows (a purge deletes a workspace's every item).
    op.execute(
        f"""
        CREATE FUNCTION sales_items_converted_forget() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            DELETE FROM {DAYS} AS d
            USING (SELECT DISTINCT workspace_id, report_date FROM old_items) AS o
            WHERE d.workspace_id = o.workspace_id AND d.report_date = o.report_date;
            DELETE FROM {ITEMS} AS c
            USING (SELECT DISTINCT workspace_id, report_date FROM old_items) AS o
            WHERE c.workspace_id = o.workspace_id AND c.report_date = o.report_date;
            RETURN NULL;
        END $$
        """  # noqa: S608  (fixed identifiers)
    )
    op.execute(
        "CREATE TRIGGER sales_items_converted_forget AFTER DELETE ON sales_items_workspace_day "
        "REFERENCING OLD TABLE AS old_items FOR EACH STATEMENT "
        "EXECUTE FUNCTION sales_items_converted_forget()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER sales_items_converted_forget ON sales_items_workspace_day")
    op.execute("DROP FUNCTION sales_items_converted_forget()")
    op.drop_table(DAYS)
    op.drop_index("ix_sales_items_workspace_day_converted_order", table_name=ITEMS)
    op.drop_table(ITEMS)

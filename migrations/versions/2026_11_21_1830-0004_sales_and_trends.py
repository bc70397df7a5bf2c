"""sales and trends

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21 18:30:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sales_daily_rollup",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("workspace_id", sa.UUID(), nullable=False),
        sa.Column("account_id", sa.UUID(), nullable=False),
        sa.Column("report_date", sa.Date(), nullable=False),
        sa.Column("app_id", sa.UUID(), nullable=True),
        sa.Column("app_apple_id", sa.Text(), nullable=True),
        sa.Column("product", sa.Text(), nullable=True),
        sa.Column("sku", sa.Text(), nullable=True),
        sa.Column("country_code", sa.Text(), nullable=True),
        sa.Column("device", sa.Text(), nullable=True),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("unit_kind", sa.String(length=24), nullable=False),
        sa.Column("proceeds_currency", sa.Text(), nullable=True),
        sa.Column("customer_currency", sa.Text(), nullable=True),
        sa.Column("units_in", sa.Numeric(), nullable=False),
        sa.Column("refunds", sa.Numeric(), nullable=False),
        sa.Column("net_units", sa.Numeric(), nullable=False),
        sa.Column("proceeds", sa.Numeric(), nullable=False),
        sa.Column("customer_sales", sa.Numeric(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["asc_accounts.id"],
            name=op.f("fk_sales_daily_rollup_account_id_asc_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["app_id"],
            ["apps.id"],
            name=op.f("fk_sales_daily_rollup_app_id_apps"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_sales_daily_rollup_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sales_daily_rollup")),
    )
    op.create_index(
        "ix_sales_daily_rollup_account_date",
        "sales_daily_rollup",
        ["account_id", "report_date"],
        unique=False,
    )
    op.create_index(
        "ix_sales_daily_rollup_app_date",
        "sales_daily_rollup",
        ["app_id", "report_date"],
        unique=False,
    )
    op.create_index(
        "ix_sales_daily_rollup_workspace_date",
        "sales_daily_rollup",
        ["workspace_id", "report_date"],
        unique=False,
    )
    op.create_table(
        "sales_rows",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("workspace_id", sa.UUID(), nullable=False),
        sa.Column("account_id", sa.UUID(), nullable=False),
        sa.Column("frequency", sa.String(length=8), nullable=False),
        sa.Column("report_date", sa.Date(), nullable=False),
        sa.Column("app_id", sa.UUID(), nullable=True),
        sa.Column("begin_date", sa.Date(), nullable=True),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("provider", sa.Text(), nullable=True),
        sa.Column("provider_country", sa.Text(), nullable=True),
        sa.Column("sku", sa.Text(), nullable=True),
        sa.Column("developer", sa.Text(), nullable=True),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("version", sa.Text(), nullable=True),
        sa.Column("product_type", sa.Text(), nullable=True),
        sa.Column("unit_kind", sa.String(length=24), nullable=False),
        sa.Column("units", sa.Numeric(), nullable=False),
        sa.Column("developer_proceeds", sa.Numeric(), nullable=True),
        sa.Column("proceeds_currency", sa.Text(), nullable=True),
        sa.Column("customer_price", sa.Numeric(), nullable=True),
        sa.Column("customer_currency", sa.Text(), nullable=True),
        sa.Column("country_code", sa.Text(), nullable=True),
        sa.Column("apple_identifier", sa.Text(), nullable=True),
        sa.Column("parent_identifier", sa.Text(), nullable=True),
        sa.Column("promo_code", sa.Text(), nullable=True),
        sa.Column("subscription", sa.Text(), nullable=True),
        sa.Column("period", sa.Text(), nullable=True),
        sa.Column("category", sa.Text(), nullable=True),
        sa.Column("cmb", sa.Text(), nullable=True),
        sa.Column("device", sa.Text(), nullable=True),
        sa.Column("supported_platforms", sa.Text(), nullable=True),
        sa.Column("proceeds_reason", sa.Text(), nullable=True),
        sa.Column("preserved_pricing", sa.Text(), nullable=True),
        sa.Column("client", sa.Text(), nullable=True),
        sa.Column("order_type", sa.Text(), nullable=True),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column(
            "extra",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["asc_accounts.id"],
            name=op.f("fk_sales_rows_account_id_asc_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["app_id"], ["apps.id"], name=op.f("fk_sales_rows_app_id_apps"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_sales_rows_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sales_rows")),
    )
    op.create_index(
        "ix_sales_rows_partition",
        "sales_rows",
        ["account_id", "frequency", "report_date"],
        unique=False,
    )
    op.create_index(
        "ix_sales_rows_workspace_date",
        "sales_rows",
        ["workspace_id", "frequency", "report_date", "id"],
        unique=False,
    )
    # The sales API's one-app queries: a covering index instead of the plain (app, date) one.
    op.drop_index("ix_sales_daily_rollup_app_date", table_name="sales_daily_rollup")
    op.create_index(
        "ix_sales_daily_rollup_app_totals",
        "sales_daily_rollup",
        ["app_id", "report_date", "proceeds_currency", "customer_currency"],
        unique=False,
        postgresql_include=[
            "workspace_id",
            "unit_kind",
            "units_in",
            "refunds",
            "net_units",
            "proceeds",
            "customer_sales",
        ],
    )
    op.create_index(
        "ix_sales_rows_unlinked",
        "sales_rows",
        ["account_id"],
        unique=False,
        postgresql_where=sa.text("app_id IS NULL"),
    )


def downgrade() -> None:
    op.drop_index(
        "ix_sales_rows_unlinked",
        table_name="sales_rows",
        postgresql_where=sa.text("app_id IS NULL"),
    )
    op.drop_index("ix_sales_daily_rollup_app_totals", table_name="sales_daily_rollup")
    op.create_index(
        "ix_sales_daily_rollup_app_date",
        "sales_daily_rollup",
        ["app_id", "report_date"],
        unique=False,
    )
    op.drop_index("ix_sales_rows_workspace_date", table_name="sales_rows")
    op.drop_index("ix_sales_rows_partition", table_name="sales_rows")
    op.drop_table("sales_rows")
    op.drop_index("ix_sales_daily_rollup_workspace_date", table_name="sales_daily_rollup")
    op.drop_index("ix_sales_daily_rollup_app_date", table_name="sales_daily_rollup")
    op.drop_index("ix_sales_daily_rollup_account_date", table_name="sales_daily_rollup")
    op.drop_table("sales_daily_rollup")

"""Apple fidelity: the report versions Orchard learned from Apple, the history of report
dates whose availability changed (a "no sales" day that got its file later), and the money of
zero-unit sales rows (partial refunds) in the daily rollup.

Revision ID: 13_fidelity
Revises: 21_request_budgets
Create Date: 2026-12-05 20:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "13_fidelity"
down_revision: str | None = "21_request_budgets"
branch_labels: str | None = None
depends_on: str | None = None

TIMESTAMP = postgresql.TIMESTAMP(timezone=True)


def upgrade() -> None:
    op.create_table(
        "report_versions",
        sa.Column("report_type", sa.String(length=64), nullable=False),
        sa.Column("report_subtype", sa.String(length=32), nullable=False),
        sa.Column("frequency", sa.String(length=16), nullable=False),
        sa.Column("version", sa.String(length=16), nullable=False),
        sa.Column("previous_version", sa.String(length=16), nullable=True),
        sa.Column("learned_at", TIMESTAMP, server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint(
            "report_type", "report_subtype", "frequency", name=op.f("pk_report_versions")
        ),
    )
    op.create_table(
        "dataset_availability_changes",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("account_id", sa.UUID(), nullable=False),
        sa.Column("dataset", sa.String(length=64), nullable=False),
        sa.Column("report_date", sa.Date(), nullable=False),
        sa.Column("from_state", sa.String(length=24), nullable=False),
        sa.Column("to_state", sa.String(length=24), nullable=False),
        sa.Column("changed_at", TIMESTAMP, server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["asc_accounts.id"],
            name=op.f("fk_dataset_availability_changes_account_id_asc_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataset_availability_changes")),
    )
    op.create_index(
        "ix_dataset_availability_changes_date",
        "dataset_availability_changes",
        ["account_id", "dataset", "report_date"],
        unique=False,
    )

    for column in ("partial_refunds", "partial_refund_proceeds", "partial_refund_customer"):
        op.add_column(
            "sales_daily_rollup",
            sa.Column(column, sa.Numeric(), server_default=sa.text("0"), nullable=False),
        )
    # Days already stored: their zero-unit rows' money, summed as the rollup now does.
    op.execute(
        """
        UPDATE sales_daily_rollup AS r SET partial_refunds = g.n,
               partial_refund_proceeds = g.proceeds, partial_refund_customer = g.customer
        FROM (
            SELECT account_id, report_date, app_id, apple_identifier, sku, country_code, device,
                   platform, unit_kind, proceeds_currency, customer_currency, count(*) AS n,
                   COALESCE(-sum(abs(developer_proceeds)), 0) AS proceeds,
                   COALESCE(-sum(abs(customer_price)), 0) AS customer
            FROM sales_rows
            WHERE frequency = 'DAILY' AND units = 0
              AND (COALESCE(developer_proceeds, 0) <> 0 OR COALESCE(customer_price, 0) <> 0)
            GROUP BY account_id, report_date, app_id, apple_identifier, sku, country_code,
                     device, platform, unit_kind, proceeds_currency, customer_currency
        ) AS g
        WHERE r.account_id = g.account_id AND r.report_date = g.report_date
          AND r.app_id IS NOT DISTINCT FROM g.app_id
          AND r.product IS NOT DISTINCT FROM g.apple_identifier
          AND r.sku IS NOT DISTINCT FROM g.sku
          AND r.country_code IS NOT DISTINCT FROM g.country_code
          AND r.device IS NOT DISTINCT FROM g.device AND r.platform = g.platform
          AND r.unit_kind = g.unit_kind
          AND r.proceeds_currency IS NOT DISTINCT FROM g.proceeds_currency
          AND r.customer_currency IS NOT DISTINCT FROM g.customer_currency
        """
    )

    op.create_table(
        "pre_order_rows",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("workspace_id", sa.UUID(), nullable=False),
        sa.Column("account_id", sa.UUID(), nullable=False),
        sa.Column("report_date", sa.Date(), nullable=False),
        sa.Column("provider", sa.Text(), nullable=True),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("apple_identifier", sa.Text(), nullable=True),
        sa.Column("pre_order_start", sa.Date(), nullable=True),
        sa.Column("pre_order_end", sa.Date(), nullable=True),
        sa.Column("ordered", sa.Numeric(), nullable=True),
        sa.Column("canceled", sa.Numeric(), nullable=True),
        sa.Column("cumulative_ordered", sa.Numeric(), nullable=True),
        sa.Column("cumulative_canceled", sa.Numeric(), nullable=True),
        sa.Column("begin_date", sa.Date(), nullable=True),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("country_code", sa.Text(), nullable=True),
        sa.Column("category", sa.Text(), nullable=True),
        sa.Column("device", sa.Text(), nullable=True),
        sa.Column("supported_platforms", sa.Text(), nullable=True),
        sa.Column("client", sa.Text(), nullable=True),
        sa.Column("provider_country", sa.Text(), nullable=True),
        sa.Column(
            "extra",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["asc_accounts.id"],
            name=op.f("fk_pre_order_rows_account_id_asc_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_pre_order_rows_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pre_order_rows")),
    )
    op.create_index("ix_pre_order_rows_partition", "pre_order_rows", ["account_id", "report_date"])

    op.create_table(
        "offer_code_redemption_rows",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("workspace_id", sa.UUID(), nullable=False),
        sa.Column("account_id", sa.UUID(), nullable=False),
        sa.Column("report_date", sa.Date(), nullable=False),
        sa.Column("event_date", sa.Date(), nullable=True),
        sa.Column("app_name", sa.Text(), nullable=True),
        sa.Column("app_apple_id", sa.Text(), nullable=True),
        sa.Column("subscription_name", sa.Text(), nullable=True),
        sa.Column("subscription_apple_id", sa.Text(), nullable=True),
        sa.Column("offer_reference_name", sa.Text(), nullable=True),
        sa.Column("offer_code", sa.Text(), nullable=True),
        sa.Column("territory", sa.Text(), nullable=True),
        sa.Column("redemptions", sa.Numeric(), nullable=True),
        sa.Column(
            "extra",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["asc_accounts.id"],
            name=op.f("fk_offer_code_redemption_rows_account_id_asc_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_offer_code_redemption_rows_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offer_code_redemption_rows")),
    )
    op.create_index(
        "ix_offer_code_redemption_rows_partition",
        "offer_code_redemption_rows",
        ["account_id", "report_date"],
    )
    op.create_table(
        "win_back_eligibility_rows",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("workspace_id", sa.UUID(), nullable=False),
        sa.Column("account_id", sa.UUID(), nullable=False),
        sa.Column("report_date", sa.Date(), nullable=False),
        sa.Column("app_name", sa.Text(), nullable=True),
        sa.Column("app_apple_id", sa.Text(), nullable=True),
        sa.Column("subscription_name", sa.Text(), nullable=True),
        sa.Column("subscription_apple_id", sa.Text(), nullable=True),
        sa.Column("subscription_group_id", sa.Text(), nullable=True),
        sa.Column("standard_duration", sa.Text(), nullable=True),
        sa.Column("paid_tenure_months", sa.Numeric(), nullable=True),
        sa.Column("months_since_subscribed", sa.Numeric(), nullable=True),
        sa.Column("redeemed_win_back", sa.Boolean(), nullable=True),
        sa.Column("months_since_win_back", sa.Numeric(), nullable=True),
        sa.Column("territory", sa.Text(), nullable=True),
        sa.Column("churned_count", sa.Numeric(), nullable=True),
        sa.Column(
            "extra",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["asc_accounts.id"],
            name=op.f("fk_win_back_eligibility_rows_account_id_asc_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_win_back_eligibility_rows_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_win_back_eligibility_rows")),
    )
    op.create_index(
        "ix_win_back_eligibility_rows_partition",
        "win_back_eligibility_rows",
        ["account_id", "report_date"],
    )


def downgrade() -> None:
    for name in ("offer_code_redemption_rows", "win_back_eligibility_rows"):
        op.drop_index(f"ix_{name}_partition", table_name=name)
        op.drop_table(name)
    op.drop_index("ix_pre_order_rows_partition", table_name="pre_order_rows")
    op.drop_table("pre_order_rows")
    for column in ("partial_refunds", "partial_refund_proceeds", "partial_refund_customer"):
        op.drop_column("sales_daily_rollup", column)
    op.drop_index("ix_dataset_availability_changes_date", table_name="dataset_availability_changes")
    op.drop_table("dataset_availability_changes")
    op.drop_table("report_versions")

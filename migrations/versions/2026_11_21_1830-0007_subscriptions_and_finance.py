"""subscriptions and finance

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-21 18:30:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "finance_report_rows",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("workspace_id", sa.UUID(), nullable=False),
        sa.Column("account_id", sa.UUID(), nullable=False),
        sa.Column("fiscal_request", sa.String(length=7), nullable=False),
        sa.Column("report_type", sa.String(length=16), nullable=False),
        sa.Column("region_code", sa.String(length=4), nullable=False),
        sa.Column("fiscal_period", sa.String(length=7), nullable=True),
        sa.Column("period_start", sa.Date(), nullable=True),
        sa.Column("period_end", sa.Date(), nullable=True),
        sa.Column("vendor_identifier", sa.Text(), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=True),
        sa.Column("partner_share", sa.Numeric(), nullable=True),
        sa.Column("extended_partner_share", sa.Numeric(), nullable=True),
        sa.Column("partner_share_currency", sa.Text(), nullable=True),
        sa.Column("sale_or_return", sa.Text(), nullable=True),
        sa.Column("apple_identifier", sa.Text(), nullable=True),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("product_type", sa.Text(), nullable=True),
        sa.Column("country_of_sale", sa.Text(), nullable=True),
        sa.Column("preorder_flag", sa.Text(), nullable=True),
        sa.Column("promo_code", sa.Text(), nullable=True),
        sa.Column("customer_price", sa.Numeric(), nullable=True),
        sa.Column("customer_currency", sa.Text(), nullable=True),
        sa.Column(
            "extra",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["asc_accounts.id"],
            name=op.f("fk_finance_report_rows_account_id_asc_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_finance_report_rows_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_finance_report_rows")),
    )
    op.create_index(
        "ix_finance_report_rows_partition",
        "finance_report_rows",
        ["account_id", "fiscal_request", "report_type", "region_code"],
        unique=False,
    )
    op.create_index(
        "ix_finance_report_rows_workspace_period",
        "finance_report_rows",
        ["workspace_id", "fiscal_period", "region_code", "id"],
        unique=False,
    )
    op.create_table(
        "subscriber_transaction_rows",
        sa.Column("event_date", sa.Date(), nullable=True),
        sa.Column("offer_type", sa.Text(), nullable=True),
        sa.Column("offer_duration", sa.Text(), nullable=True),
        sa.Column("marketing_opt_in_duration", sa.Text(), nullable=True),
        sa.Column("customer_price", sa.Numeric(), nullable=True),
        sa.Column("customer_currency", sa.Text(), nullable=True),
        sa.Column("developer_proceeds", sa.Numeric(), nullable=True),
        sa.Column("proceeds_currency", sa.Text(), nullable=True),
        sa.Column("subscriber_id", sa.Text(), nullable=True),
        sa.Column("subscriber_id_reset", sa.Boolean(), nullable=True),
        sa.Column("refund", sa.Boolean(), nullable=True),
        sa.Column("purchase_date", sa.Date(), nullable=True),
        sa.Column("units", sa.Numeric(), nullable=True),
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
        sa.Column("offer_name", sa.Text(), nullable=True),
        sa.Column("promotional_offer_id", sa.Text(), nullable=True),
        sa.Column("preserved_pricing", sa.Text(), nullable=True),
        sa.Column("proceeds_reason", sa.Text(), nullable=True),
        sa.Column("client", sa.Text(), nullable=True),
        sa.Column("device", sa.Text(), nullable=True),
        sa.Column("country", sa.Text(), nullable=True),
        sa.Column(
            "extra",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["asc_accounts.id"],
            name=op.f("fk_subscriber_transaction_rows_account_id_asc_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_subscriber_transaction_rows_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscriber_transaction_rows")),
    )
    op.create_index(
        "ix_subscriber_transaction_rows_partition",
        "subscriber_transaction_rows",
        ["account_id", "report_date"],
        unique=False,
    )
    op.create_index(
        "ix_subscriber_transaction_rows_workspace_event_date",
        "subscriber_transaction_rows",
        ["workspace_id", "event_date"],
        unique=False,
    )
    op.create_table(
        "subscription_event_rows",
        sa.Column("event_date", sa.Date(), nullable=True),
        sa.Column("event", sa.Text(), nullable=True),
        sa.Column("offer_type", sa.Text(), nullable=True),
        sa.Column("offer_duration", sa.Text(), nullable=True),
        sa.Column("marketing_opt_in", sa.Text(), nullable=True),
        sa.Column("marketing_opt_in_duration", sa.Text(), nullable=True),
        sa.Column("consecutive_paid_periods", sa.Integer(), nullable=True),
        sa.Column("original_start_date", sa.Date(), nullable=True),
        sa.Column("state", sa.Text(), nullable=True),
        sa.Column("previous_subscription_name", sa.Text(), nullable=True),
        sa.Column("previous_subscription_apple_id", sa.Text(), nullable=True),
        sa.Column("days_before_canceling", sa.Integer(), nullable=True),
        sa.Column("cancellation_reason", sa.Text(), nullable=True),
        sa.Column("days_canceled", sa.Integer(), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("paid_service_days_recovered", sa.Integer(), nullable=True),
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
        sa.Column("offer_name", sa.Text(), nullable=True),
        sa.Column("promotional_offer_id", sa.Text(), nullable=True),
        sa.Column("preserved_pricing", sa.Text(), nullable=True),
        sa.Column("proceeds_reason", sa.Text(), nullable=True),
        sa.Column("client", sa.Text(), nullable=True),
        sa.Column("device", sa.Text(), nullable=True),
        sa.Column("country", sa.Text(), nullable=True),
        sa.Column(
            "extra",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["asc_accounts.id"],
            name=op.f("fk_subscription_event_rows_account_id_asc_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_subscription_event_rows_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscription_event_rows")),
    )
    op.create_index(
        "ix_subscription_event_rows_partition",
        "subscription_event_rows",
        ["account_id", "report_date"],
        unique=False,
    )
    op.create_index(
        "ix_subscription_event_rows_workspace_event_date",
        "subscription_event_rows",
        ["workspace_id", "event_date"],
        unique=False,
    )
    op.create_table(
        "subscription_snapshot_rows",
        sa.Column("offer_type", sa.Text(), nullable=True),
        sa.Column("customer_price", sa.Numeric(), nullable=True),
        sa.Column("customer_currency", sa.Text(), nullable=True),
        sa.Column("developer_proceeds", sa.Numeric(), nullable=True),
        sa.Column("proceeds_currency", sa.Text(), nullable=True),
        sa.Column("state", sa.Text(), nullable=True),
        sa.Column("active_standard", sa.Integer(), nullable=True),
        sa.Column("free_trial_introductory", sa.Integer(), nullable=True),
        sa.Column("pay_up_front_introductory", sa.Integer(), nullable=True),
        sa.Column("pay_as_you_go_introductory", sa.Integer(), nullable=True),
        sa.Column("free_trial_promotional", sa.Integer(), nullable=True),
        sa.Column("pay_up_front_promotional", sa.Integer(), nullable=True),
        sa.Column("pay_as_you_go_promotional", sa.Integer(), nullable=True),
        sa.Column("free_trial_offer_code", sa.Integer(), nullable=True),
        sa.Column("pay_up_front_offer_code", sa.Integer(), nullable=True),
        sa.Column("pay_as_you_go_offer_code", sa.Integer(), nullable=True),
        sa.Column("free_trial_win_back", sa.Integer(), nullable=True),
        sa.Column("pay_up_front_win_back", sa.Integer(), nullable=True),
        sa.Column("pay_as_you_go_win_back", sa.Integer(), nullable=True),
        sa.Column("marketing_opt_ins", sa.Integer(), nullable=True),
        sa.Column("billing_retry", sa.Integer(), nullable=True),
        sa.Column("grace_period", sa.Integer(), nullable=True),
        sa.Column("subscribers", sa.Integer(), nullable=True),
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
        sa.Column("offer_name", sa.Text(), nullable=True),
        sa.Column("promotional_offer_id", sa.Text(), nullable=True),
        sa.Column("preserved_pricing", sa.Text(), nullable=True),
        sa.Column("proceeds_reason", sa.Text(), nullable=True),
        sa.Column("client", sa.Text(), nullable=True),
        sa.Column("device", sa.Text(), nullable=True),
        sa.Column("country", sa.Text(), nullable=True),
        sa.Column(
            "extra",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["asc_accounts.id"],
            name=op.f("fk_subscription_snapshot_rows_account_id_asc_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_subscription_snapshot_rows_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscription_snapshot_rows")),
    )
    op.create_index(
        "ix_subscription_snapshot_rows_partition",
        "subscription_snapshot_rows",
        ["account_id", "report_date"],
        unique=False,
    )
    op.create_index(
        "ix_subscription_snapshot_rows_workspace_date",
        "subscription_snapshot_rows",
        ["workspace_id", "report_date"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(
        "ix_subscription_snapshot_rows_workspace_date", table_name="subscription_snapshot_rows"
    )
    op.drop_index(
        "ix_subscription_snapshot_rows_partition", table_name="subscription_snapshot_rows"
    )
    op.drop_table("subscription_snapshot_rows")
    op.drop_index(
        "ix_subscription_event_rows_workspace_event_date", table_name="subscription_event_rows"
    )
    op.drop_index("ix_subscription_event_rows_partition", table_name="subscription_event_rows")
    op.drop_table("subscription_event_rows")
    op.drop_index(
        "ix_subscriber_transaction_rows_workspace_event_date",
        table_name="subscriber_transaction_rows",
    )
    op.drop_index(
        "ix_subscriber_transaction_rows_partition", table_name="subscriber_transaction_rows"
    )
    op.drop_table("subscriber_transaction_rows")
    op.drop_index("ix_finance_report_rows_workspace_period", table_name="finance_report_rows")
    op.drop_index("ix_finance_report_rows_partition", table_name="finance_report_rows")
    op.drop_table("finance_report_rows")

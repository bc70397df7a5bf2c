"""Per-day rollups of the subscription event and Subscriber reports (issue 18's speed), built
from the rows already stored.

Revision ID: 18_subscription_rollups
Revises: 14_freshness
Create Date: 2026-12-05 22:00:00
"""

# ruff: noqa: S608  (fixed SQL, no values)
from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "18_subscription_rollups"
down_revision: str | None = "14_freshness"
branch_labels: str | None = None
depends_on: str | None = None

_DIMENSIONS = "app_apple_id, subscription_apple_id, country, offer_name, standard_duration"
_NOT_COUNTRY = "app_apple_id, subscription_apple_id, offer_name, standard_duration"
_REFUND = "(COALESCE(refund, false) OR COALESCE(customer_price, 0) < 0)"

# A copy of app/subscriptions/rollup.py's statements as of this revision, over every row.
BACKFILL_EVENTS = f"""
    INSERT INTO subscription_event_day_rollup (
        workspace_id, account_id, report_date, event_date, {_DIMENSIONS}, cancellation_reason,
        n, free, quantity, paid_periods, quantity_with_periods, source_rows, by_country)
    SELECT workspace_id, account_id, report_date, event_date, {_DIMENSIONS}, cancellation_reason,
           lower(btrim(COALESCE(event, ''))) AS n,
           COALESCE(lower(btrim(offer_type)) = 'free trial', false) AS free,
           sum(quantity),
           COALESCE(sum(consecutive_paid_periods * quantity)
                    FILTER (WHERE consecutive_paid_periods IS NOT NULL), 0),
           COALESCE(sum(quantity) FILTER (WHERE consecutive_paid_periods IS NOT NULL), 0),
           count(*), GROUPING(country) = 0
    FROM subscription_event_rows
    WHERE event_date IS NOT NULL
    GROUP BY workspace_id, account_id, report_date, event_date, {_NOT_COUNTRY},
             cancellation_reason, n, free, GROUPING SETS ((country), ())
"""
BACKFILL_TRANSACTIONS = f"""
    INSERT INTO subscriber_transaction_day_rollup (
        workspace_id, account_id, report_date, event_date, {_DIMENSIONS}, customer_currency,
        proceeds_currency, refund, customer_price, developer_proceeds, abs_customer_price,
        abs_developer_proceeds, source_rows, by_country)
    SELECT workspace_id, account_id, report_date, event_date, {_DIMENSIONS}, customer_currency,
           proceeds_currency, {_REFUND} AS r,
           sum(customer_price), sum(developer_proceeds),
           sum(abs(customer_price)), sum(abs(developer_proceeds)), count(*),
           GROUPING(country) = 0
    FROM subscriber_transaction_rows
    WHERE event_date IS NOT NULL
    GROUP BY workspace_id, account_id, report_date, event_date, {_NOT_COUNTRY},
             customer_currency, proceeds_currency, r, GROUPING SETS ((country), ())
"""
BACKFILL_PAYER_MONTHS = f"""
    INSERT INTO subscriber_payer_months (
        workspace_id, account_id, month, app_apple_id, customer_currency, proceeds_currency,
        total, payers)
    SELECT workspace_id, account_id, m, app_apple_id, customer_currency, proceeds_currency,
           GROUPING(customer_currency, proceeds_currency) <> 0, count(DISTINCT subscriber_id)
    FROM (
        SELECT workspace_id, account_id, date_trunc('month', event_date)::date AS m,
               app_apple_id, customer_currency, proceeds_currency, subscriber_id
        FROM subscriber_transaction_rows
        WHERE event_date IS NOT NULL AND NOT {_REFUND}
    ) AS charges
    GROUP BY GROUPING SETS (
        (workspace_id, account_id, m, app_apple_id, customer_currency, proceeds_currency),
        (workspace_id, account_id, m, app_apple_id)
    )
"""


def _common(table: str) -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("workspace_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("account_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("report_date", sa.Date(), nullable=False),
        sa.Column("event_date", sa.Date(), nullable=False),
        sa.Column("app_apple_id", sa.Text(), nullable=True),
        sa.Column("subscription_apple_id", sa.Text(), nullable=True),
        sa.Column("country", sa.Text(), nullable=True),
        sa.Column("offer_name", sa.Text(), nullable=True),
        sa.Column("standard_duration", sa.Text(), nullable=True),
        sa.Column("source_rows", sa.BigInteger(), nullable=False),
        sa.Column("by_country", sa.Boolean(), nullable=False),
    ]


def _constraints(table: str) -> list[sa.Constraint]:
    return [
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["asc_accounts.id"],
            name=op.f(f"fk_{table}_account_id_asc_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f(f"fk_{table}_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
    ]


def _indexes(table: str) -> None:
    op.create_index(f"ix_{table}_partition", table, ["account_id", "report_date"], unique=False)
    op.create_index(
        f"ix_{table}_workspace_event_date", table, ["workspace_id", "event_date"], unique=False
    )


def upgrade() -> None:
    events = "subscription_event_day_rollup"
    op.create_table(
        events,
        *_common(events),
        sa.Column("cancellation_reason", sa.Text(), nullable=True),
        sa.Column("n", sa.Text(), nullable=False),
        sa.Column("free", sa.Boolean(), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("paid_periods", sa.BigInteger(), nullable=False),
        sa.Column("quantity_with_periods", sa.BigInteger(), nullable=False),
        *_constraints(events),
    )
    _indexes(events)
    transactions = "subscriber_transaction_day_rollup"
    op.create_table(
        transactions,
        *_common(transactions),
        sa.Column("customer_currency", sa.Text(), nullable=True),
        sa.Column("proceeds_currency", sa.Text(), nullable=True),
        sa.Column("refund", sa.Boolean(), nullable=False),
        sa.Column("customer_price", sa.Numeric(), nullable=True),
        sa.Column("developer_proceeds", sa.Numeric(), nullable=True),
        sa.Column("abs_customer_price", sa.Numeric(), nullable=True),
        sa.Column("abs_developer_proceeds", sa.Numeric(), nullable=True),
        *_constraints(transactions),
    )
    _indexes(transactions)
    payers = "subscriber_payer_months"
    op.create_table(
        payers,
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("workspace_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("account_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("app_apple_id", sa.Text(), nullable=True),
        sa.Column("customer_currency", sa.Text(), nullable=True),
        sa.Column("proceeds_currency", sa.Text(), nullable=True),
        sa.Column("total", sa.Boolean(), nullable=False),
        sa.Column("payers", sa.BigInteger(), nullable=False),
        *_constraints(payers),
    )
    op.create_index(
        "ix_subscriber_payer_months_account_app_month",
        payers,
        ["account_id", "app_apple_id", "month"],
        unique=False,
    )
    op.execute(BACKFILL_EVENTS)
    op.execute(BACKFILL_TRANSACTIONS)
    op.execute(BACKFILL_PAYER_MONTHS)


def downgrade() -> None:
    op.drop_table("subscriber_payer_months")
    op.drop_table("subscriber_transaction_day_rollup")
    op.drop_table("subscription_event_day_rollup")

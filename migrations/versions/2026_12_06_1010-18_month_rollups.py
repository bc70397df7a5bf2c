"""The monthly sums of the subscription event and Subscriber rollups (issue 18's speed for
monthly metric buckets: a year by month and country reads 12 months of sums instead of 365
days of rows), built from the day rollups already stored.

Revision ID: 18_month_rollups
Revises: 17_fx_version
Create Date: 2026-12-06 10:10:00
"""

# ruff: noqa: S608  (fixed SQL, no values)
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "18_month_rollups"
down_revision: str | None = "17_fx_version"
branch_labels: str | None = None
depends_on: str | None = None

TABLE = "subscription_event_month_rollup"
_KEYS = (
    "app_apple_id, subscription_apple_id, country, offer_name, standard_duration, "
    "cancellation_reason, n, free, by_country"
)
# Copies of app/subscriptions/rollup.py's EVENT_MONTHS_INSERT and TRANSACTION_MONTHS_INSERT as
# of this revision, over every month of every account.
BACKFILL = f"""
    INSERT INTO {TABLE} (
        workspace_id, account_id, month, {_KEYS}, quantity, paid_periods,
        quantity_with_periods, source_rows, first_report, last_report, first_event,
        last_event)
    SELECT workspace_id, account_id, date_trunc('month', event_date)::date AS m, {_KEYS},
           sum(quantity), sum(paid_periods), sum(quantity_with_periods), sum(source_rows),
           min(report_date), max(report_date), min(event_date), max(event_date)
    FROM subscription_event_day_rollup
    GROUP BY workspace_id, account_id, m, {_KEYS}
"""
TRANSACTIONS = "subscriber_transaction_month_rollup"
_TRANSACTION_KEYS = (
    "app_apple_id, subscription_apple_id, country, offer_name, standard_duration, "
    "customer_currency, proceeds_currency, refund, by_country"
)
BACKFILL_TRANSACTIONS = f"""
    INSERT INTO {TRANSACTIONS} (
        workspace_id, account_id, month, {_TRANSACTION_KEYS}, customer_price,
        developer_proceeds, abs_customer_price, abs_developer_proceeds, source_rows,
        first_report, last_report, first_event, last_event)
    SELECT workspace_id, account_id, date_trunc('month', event_date)::date AS m,
           {_TRANSACTION_KEYS}, sum(customer_price), sum(developer_proceeds),
           sum(abs_customer_price), sum(abs_developer_proceeds), sum(source_rows),
           min(report_date), max(report_date), min(event_date), max(event_date)
    FROM subscriber_transaction_day_rollup
    GROUP BY workspace_id, account_id, m, {_TRANSACTION_KEYS}
"""


def _keys() -> list[Any]:
    return [
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("workspace_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("account_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("app_apple_id", sa.Text(), nullable=True),
        sa.Column("subscription_apple_id", sa.Text(), nullable=True),
        sa.Column("country", sa.Text(), nullable=True),
        sa.Column("offer_name", sa.Text(), nullable=True),
        sa.Column("standard_duration", sa.Text(), nullable=True),
    ]


def _tail(table: str) -> list[Any]:
    return [
        sa.Column("source_rows", sa.BigInteger(), nullable=False),
        sa.Column("first_report", sa.Date(), nullable=False),
        sa.Column("last_report", sa.Date(), nullable=False),
        sa.Column("first_event", sa.Date(), nullable=False),
        sa.Column("last_event", sa.Date(), nullable=False),
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
    op.create_index(f"ix_{table}_partition", table, ["account_id", "month"], unique=False)
    op.create_index(
        f"ix_{table}_workspace_month", table, ["workspace_id", "by_country", "month"], unique=False
    )


def upgrade() -> None:
    op.create_table(
        TABLE,
        *_keys(),
        sa.Column("cancellation_reason", sa.Text(), nullable=True),
        sa.Column("n", sa.Text(), nullable=False),
        sa.Column("free", sa.Boolean(), nullable=False),
        sa.Column("by_country", sa.Boolean(), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("paid_periods", sa.BigInteger(), nullable=False),
        sa.Column("quantity_with_periods", sa.BigInteger(), nullable=False),
        *_tail(TABLE),
    )
    _indexes(TABLE)
    op.create_table(
        TRANSACTIONS,
        *_keys(),
        sa.Column("customer_currency", sa.Text(), nullable=True),
        sa.Column("proceeds_currency", sa.Text(), nullable=True),
        sa.Column("refund", sa.Boolean(), nullable=False),
        sa.Column("by_country", sa.Boolean(), nullable=False),
        sa.Column("customer_price", sa.Numeric(), nullable=True),
        sa.Column("developer_proceeds", sa.Numeric(), nullable=True),
        sa.Column("abs_customer_price", sa.Numeric(), nullable=True),
        sa.Column("abs_developer_proceeds", sa.Numeric(), nullable=True),
        *_tail(TRANSACTIONS),
    )
    _indexes(TRANSACTIONS)
    op.execute(BACKFILL)
    op.execute(BACKFILL_TRANSACTIONS)


def downgrade() -> None:
    op.drop_table(TRANSACTIONS)
    op.drop_table(TABLE)

"""The monthly sums of the subscription event rollup (issue 18's speed for monthly metric
buckets: a year by month and country read 12 months of sums instead of 365 days of rows),
built from the day rollup already stored.

Revision ID: 18_event_months
Revises: 17_fx_version
Create Date: 2026-12-06 10:10:00
"""

# ruff: noqa: S608  (fixed SQL, no values)
from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "18_event_months"
down_revision: str | None = "17_fx_version"
branch_labels: str | None = None
depends_on: str | None = None

TABLE = "subscription_event_month_rollup"
_KEYS = (
    "app_apple_id, subscription_apple_id, country, offer_name, standard_duration, "
    "cancellation_reason, n, free, by_country"
)
# A copy of app/subscriptions/rollup.py's EVENT_MONTHS_INSERT as of this revision, over every
# month of every account.
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


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("workspace_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("account_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("app_apple_id", sa.Text(), nullable=True),
        sa.Column("subscription_apple_id", sa.Text(), nullable=True),
        sa.Column("country", sa.Text(), nullable=True),
        sa.Column("offer_name", sa.Text(), nullable=True),
        sa.Column("standard_duration", sa.Text(), nullable=True),
        sa.Column("cancellation_reason", sa.Text(), nullable=True),
        sa.Column("n", sa.Text(), nullable=False),
        sa.Column("free", sa.Boolean(), nullable=False),
        sa.Column("by_country", sa.Boolean(), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("paid_periods", sa.BigInteger(), nullable=False),
        sa.Column("quantity_with_periods", sa.BigInteger(), nullable=False),
        sa.Column("source_rows", sa.BigInteger(), nullable=False),
        sa.Column("first_report", sa.Date(), nullable=False),
        sa.Column("last_report", sa.Date(), nullable=False),
        sa.Column("first_event", sa.Date(), nullable=False),
        sa.Column("last_event", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["asc_accounts.id"],
            name=op.f(f"fk_{TABLE}_account_id_asc_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f(f"fk_{TABLE}_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{TABLE}")),
    )
    op.create_index(f"ix_{TABLE}_partition", TABLE, ["account_id", "month"], unique=False)
    op.create_index(
        f"ix_{TABLE}_workspace_month", TABLE, ["workspace_id", "by_country", "month"], unique=False
    )
    op.execute(BACKFILL)


def downgrade() -> None:
    op.drop_table(TABLE)

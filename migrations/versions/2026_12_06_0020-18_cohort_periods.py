"""Precomputed renewal-by-period and trial-conversion cohorts (issue 18's speed), backfilled
from the rows already stored.

- ``subscriber_periods``: per Subscriber ID, its n-th paid period (charge) with its end and
  whether an (n+1)-th charge follows; ``subscriber_renewal_periods`` their sums per app,
  cohort month, period number and end day.
- ``subscription_trial_conversion_months``: free-trial conversions per report date, app,
  storefront (and summed over storefronts), month of Original Start Date and of Event Date.

Revision ID: 18_cohort_periods
Revises: 18_subscriber_months
Create Date: 2026-12-06 00:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "18_cohort_periods"
down_revision: str | None = "18_subscriber_months"
branch_labels: str | None = None
depends_on: str | None = None

# Copies of app/subscriptions/subscriber_rollup.py's and rollup.py's statements as of this
# revision, over every row.
BACKFILL_PERIODS = r"""
    WITH raw AS MATERIALIZED (
        SELECT id, workspace_id, account_id, app_apple_id, btrim(subscriber_id) AS sid,
               event_date AS d, purchase_date, standard_duration AS dur,
               COALESCE(NULLIF(substring(standard_duration from '\d+'), ''), '0')::int AS n,
               (COALESCE(refund, false) OR COALESCE(customer_price, 0) < 0) AS r
        FROM subscriber_transaction_rows
        WHERE true AND app_apple_id IS NOT NULL
              AND NULLIF(btrim(subscriber_id), '') IS NOT NULL AND event_date IS NOT NULL
    ),
    t AS MATERIALIZED (
        SELECT raw.*,
               min(d) FILTER (WHERE NOT r)
                   OVER (PARTITION BY account_id, app_apple_id, sid) AS first,
               bool_or(r) OVER (PARTITION BY account_id, app_apple_id, sid,
                                CASE WHEN r THEN purchase_date ELSE d END) AS refunded
        FROM raw
    ),
    charge AS (
        SELECT c.*, (c.d +
    CASE
      WHEN lower(dur) LIKE '%day%' THEN make_interval(days => n)
      WHEN lower(dur) LIKE '%week%' THEN make_interval(weeks => n)
      WHEN lower(dur) LIKE '%month%' THEN make_interval(months => n)
      WHEN lower(dur) LIKE '%year%' THEN make_interval(years => n)
    END
)::date AS until
        FROM t AS c
        WHERE NOT c.r AND NOT c.refunded
    )
    INSERT INTO subscriber_periods (workspace_id, account_id, app_apple_id, subscriber_id, cohort,
                                    period, ended, renewed)
    SELECT workspace_id, account_id, app_apple_id, sid, date_trunc('month', first)::date,
           period, until, period < charges
    FROM (
        SELECT ch.*,
               row_number() OVER (PARTITION BY account_id, app_apple_id, sid
                                  ORDER BY d, id) AS period,
               count(*) OVER (PARTITION BY account_id, app_apple_id, sid) AS charges
        FROM charge AS ch
    ) AS ranked
    WHERE period <= 36 AND until IS NOT NULL
"""
BACKFILL_RENEWALS = """
    INSERT INTO subscriber_renewal_periods (
        workspace_id, account_id, app_apple_id, cohort, period, ended, subscribers, renewed)
    SELECT workspace_id, account_id, app_apple_id, cohort, period, ended, 1 * count(*),
           1 * count(*) FILTER (WHERE renewed)
    FROM subscriber_periods WHERE true
    GROUP BY workspace_id, account_id, app_apple_id, cohort, period, ended
"""
BACKFILL_TRIAL_CONVERSIONS = """
    INSERT INTO subscription_trial_conversion_months (
        workspace_id, account_id, report_date, app_apple_id, country, start_month,
        event_month, quantity, source_rows, by_country)
    SELECT workspace_id, account_id, report_date, app_apple_id, country, start_month,
           event_month, sum(quantity), count(*), GROUPING(country) = 0
    FROM (
        SELECT workspace_id, account_id, report_date, app_apple_id, country, quantity,
               date_trunc('month', original_start_date)::date AS start_month,
               date_trunc('month', event_date)::date AS event_month,
               lower(btrim(COALESCE(event, ''))) AS n,
               COALESCE(lower(btrim(offer_type)) = 'free trial', false) AS free
        FROM subscription_event_rows
        WHERE event_date IS NOT NULL AND original_start_date IS NOT NULL AND true
    ) AS e
    WHERE ((n LIKE 'paid subscription from %' OR n LIKE '%from introductory offer'
            OR n LIKE '%from offer code') AND n NOT LIKE 'billing retry%')
          AND n LIKE '%introductory offer' AND free
    GROUP BY workspace_id, account_id, report_date, app_apple_id, start_month, event_month,
             GROUPING SETS ((country), ())
"""

TABLES = (
    "subscriber_periods",
    "subscriber_renewal_periods",
    "subscription_trial_conversion_months",
)


def _id() -> sa.Column[int]:
    return sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False)


def _uuid(name: str) -> sa.Column[object]:
    return sa.Column(name, postgresql.UUID(as_uuid=True), nullable=False)


def _keys(table: str, workspace_key: bool) -> list[sa.SchemaItem]:
    """The account's key (a purge cascades); the workspace's only on the sums (a checked key
    per per-subscriber row doubles their writes, as in 18_subscriber_months)."""
    keys: list[sa.SchemaItem] = [
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["asc_accounts.id"],
            name=op.f(f"fk_{table}_account_id_asc_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
    ]
    if workspace_key:
        keys.append(
            sa.ForeignKeyConstraint(
                ["workspace_id"],
                ["workspaces.id"],
                name=op.f(f"fk_{table}_workspace_id_workspaces"),
                ondelete="CASCADE",
            )
        )
    return keys


def upgrade() -> None:
    t = "subscriber_periods"
    op.create_table(
        t,
        _id(),
        _uuid("workspace_id"),
        _uuid("account_id"),
        sa.Column("app_apple_id", sa.Text(), nullable=False),
        sa.Column("subscriber_id", sa.Text(), nullable=False),
        sa.Column("cohort", sa.Date(), nullable=False),
        sa.Column("period", sa.Integer(), nullable=False),
        sa.Column("ended", sa.Date(), nullable=False),
        sa.Column("renewed", sa.Boolean(), nullable=False),
        *_keys(t, workspace_key=False),
    )
    op.create_index(f"ix_{t}_subscriber", t, ["account_id", "app_apple_id", "subscriber_id"])
    t = "subscriber_renewal_periods"
    op.create_table(
        t,
        _id(),
        _uuid("workspace_id"),
        _uuid("account_id"),
        sa.Column("app_apple_id", sa.Text(), nullable=False),
        sa.Column("cohort", sa.Date(), nullable=False),
        sa.Column("period", sa.Integer(), nullable=False),
        sa.Column("ended", sa.Date(), nullable=False),
        sa.Column("subscribers", sa.BigInteger(), nullable=False),
        sa.Column("renewed", sa.BigInteger(), nullable=False),
        *_keys(t, workspace_key=True),
    )
    op.create_index(f"ix_{t}_cohort", t, ["account_id", "app_apple_id", "cohort"])
    t = "subscription_trial_conversion_months"
    op.create_table(
        t,
        _id(),
        _uuid("workspace_id"),
        _uuid("account_id"),
        sa.Column("report_date", sa.Date(), nullable=False),
        sa.Column("app_apple_id", sa.Text(), nullable=True),
        sa.Column("country", sa.Text(), nullable=True),
        sa.Column("start_month", sa.Date(), nullable=False),
        sa.Column("event_month", sa.Date(), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=True),
        sa.Column("source_rows", sa.BigInteger(), nullable=False),
        sa.Column("by_country", sa.Boolean(), nullable=False),
        *_keys(t, workspace_key=True),
    )
    op.create_index(f"ix_{t}_partition", t, ["account_id", "report_date"])
    op.create_index(f"ix_{t}_workspace_start", t, ["workspace_id", "start_month"])
    op.execute(BACKFILL_PERIODS)
    op.execute(BACKFILL_RENEWALS)
    op.execute(BACKFILL_TRIAL_CONVERSIONS)


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)

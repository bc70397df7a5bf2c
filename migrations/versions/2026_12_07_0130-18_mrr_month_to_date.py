"""MRR movements of days and ISO weeks: each bucket's closing stock from two reads (issue 18's
speed): per app, day, proceeds currency and dimensions, the closing MRR's change since the month
before's end (``subscriber_mrr_month_to_date``: running sums of the month's day spans), so a
bucket no longer re-reads every day span since its month's end; backfilled from the day spans
already stored.

Revision ID: 18_mrr_month_to_date
Revises: 18_series_days
Create Date: 2026-12-07 01:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "18_mrr_month_to_date"
down_revision: str | None = "18_series_days"
branch_labels: str | None = None
depends_on: str | None = None

_G = ("g_app", "g_subscription", "g_country", "g_offer", "g_duration")
_GROUPS = ", ".join(_G)
_S_GROUPS = ", ".join(f"s.{g}" for g in _G)

# A copy of app/subscriptions/subscriber_rollup.py's MONTH_TO_DATE as of this revision, over
# every month with a day span.
BACKFILL_MONTH_TO_DATE = f"""
    WITH t AS MATERIALIZED (
        SELECT DISTINCT account_id AS account, app_apple_id AS app,
               CAST(date_trunc('month', start) AS date) AS month
        FROM subscriber_mrr_movement_spans WHERE span = 'day'
    ),
    s AS (
        SELECT s.workspace_id, s.account_id, s.app_apple_id, s.start, s.proceeds_currency,
               {_S_GROUPS},
               sum(s.net) OVER w AS net, sum(s.held) OVER w AS held,
               COALESCE(lead(s.start) OVER w,
                        CAST(t.month + interval '1 month' AS date)) AS following
        FROM t JOIN subscriber_mrr_movement_spans AS s
          ON s.account_id = t.account AND s.app_apple_id = t.app AND s.span = 'day'
             AND s.start >= t.month AND s.start < CAST(t.month + interval '1 month' AS date)
        WINDOW w AS (PARTITION BY s.account_id, s.app_apple_id, t.month, s.proceeds_currency,
                                  {_S_GROUPS}
                     ORDER BY s.start)
    )
    INSERT INTO subscriber_mrr_month_to_date (
        workspace_id, account_id, app_apple_id, day, proceeds_currency, {_GROUPS}, net, held)
    SELECT workspace_id, account_id, app_apple_id, start + n, proceeds_currency, {_GROUPS},
           net, held
    FROM s CROSS JOIN LATERAL generate_series(0, following - start - 1) AS n
    WHERE net <> 0 OR held <> 0
"""  # noqa: S608  (fixed SQL)


def upgrade() -> None:
    t = "subscriber_mrr_month_to_date"
    op.create_table(
        t,
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("account_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("app_apple_id", sa.Text(), nullable=False),
        sa.Column("workspace_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["asc_accounts.id"],
            name=op.f(f"fk_{t}_account_id_asc_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{t}")),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("proceeds_currency", sa.Text(), nullable=True),
        *[sa.Column(name, sa.Text(), nullable=True) for name in _G],
        sa.Column("net", sa.Numeric(), nullable=False),
        sa.Column("held", sa.BigInteger(), nullable=False),
    )
    op.create_index(f"ix_{t}_day", t, ["account_id", "app_apple_id", "day"])
    op.create_index(f"ix_{t}_workspace", t, ["workspace_id", "day"])
    op.execute("SET LOCAL jit = off")
    op.execute(BACKFILL_MONTH_TO_DATE)
    op.execute(f"ANALYZE {t}")


def downgrade() -> None:
    op.drop_table("subscriber_mrr_month_to_date")

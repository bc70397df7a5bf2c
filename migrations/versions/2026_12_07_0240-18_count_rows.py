"""The source rows behind each stored day's Subscription Report counts (issue 18's speed): the
metrics' stocks of one app or account (active, paying, MRR, …) read ``subscription_count_days``
and ``subscription_mrr_days`` instead of every snapshot rollup row of every day asked for, and
their trace names the rows behind each day, so the count table keeps them; backfilled from the
snapshot rollup.

Revision ID: 18_count_rows
Revises: 18_mrr_month_to_date
Create Date: 2026-12-07 02:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "18_count_rows"
down_revision: str | None = "18_mrr_month_to_date"
branch_labels: str | None = None
depends_on: str | None = None

COUNTS_TABLE = "subscription_count_days"
# Every count column of the Subscription Report as of this revision
# (app/subscriptions/series_days.py's COUNT_COLUMNS).
COUNT_COLUMNS = (
    "active_standard", "free_trial_introductory", "pay_up_front_introductory",
    "pay_as_you_go_introductory", "free_trial_promotional", "pay_up_front_promotional",
    "pay_as_you_go_promotional", "free_trial_offer_code", "pay_up_front_offer_code",
    "pay_as_you_go_offer_code", "free_trial_win_back", "pay_up_front_win_back",
    "pay_as_you_go_win_back", "billing_retry", "grace_period", "marketing_opt_ins",
    "subscribers",
)  # fmt: skip
# A copy of app/subscriptions/series_days.py's COUNTS_INSERT as of this revision, over every
# day: the table is rebuilt whole, so each row gets its source rows in the same grouping.
COUNTS_BACKFILL = f"""
    INSERT INTO {COUNTS_TABLE} (workspace_id, account_id, report_date, by_app, app_apple_id,
                                {", ".join(COUNT_COLUMNS)}, source_rows)
    SELECT workspace_id, account_id, report_date, GROUPING(app_apple_id) = 0, app_apple_id,
           {", ".join(f"sum({c})" for c in COUNT_COLUMNS)}, sum(source_rows)
    FROM subscription_snapshot_day_rollup
    WHERE NOT by_country
    GROUP BY workspace_id, account_id, report_date, GROUPING SETS ((app_apple_id), ())
"""  # noqa: S608  (fixed SQL, no values)


def upgrade() -> None:
    op.execute(f"DELETE FROM {COUNTS_TABLE}")  # noqa: S608
    op.add_column(COUNTS_TABLE, sa.Column("source_rows", sa.BigInteger(), nullable=False))
    op.execute(COUNTS_BACKFILL)


def downgrade() -> None:
    op.drop_column(COUNTS_TABLE, "source_rows")

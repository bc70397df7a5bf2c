"""The per-day rollup of the Subscription Report (issue 18's speed for actives, MRR, the
summary and its series), built from the rows already stored.

Revision ID: 18_snapshot_rollup
Revises: 21_sales_rollups
Create Date: 2026-12-05 23:00:00
"""

# ruff: noqa: S608  (fixed SQL, no values)
from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "18_snapshot_rollup"
down_revision: str | None = "21_sales_rollups"
branch_labels: str | None = None
depends_on: str | None = None

TABLE = "subscription_snapshot_day_rollup"
# The columns as of this revision (app/subscriptions/snapshot_rollup.py builds the same).
COUNT_COLUMNS = (
    "active_standard",
    "free_trial_introductory",
    "pay_up_front_introductory",
    "pay_as_you_go_introductory",
    "free_trial_promotional",
    "pay_up_front_promotional",
    "pay_as_you_go_promotional",
    "free_trial_offer_code",
    "pay_up_front_offer_code",
    "pay_as_you_go_offer_code",
    "free_trial_win_back",
    "pay_up_front_win_back",
    "pay_as_you_go_win_back",
    "billing_retry",
    "grace_period",
    "marketing_opt_ins",
    "subscribers",
)
MRR_COLUMNS = (
    "active_standard",
    "pay_as_you_go_introductory",
    "pay_as_you_go_promotional",
    "pay_as_you_go_offer_code",
    "pay_as_you_go_win_back",
)
_KEYS = "app_apple_id, subscription_apple_id, offer_name, standard_duration, proceeds_currency"
_RECURRING = " + ".join(f"COALESCE({c}, 0)" for c in MRR_COLUMNS)
_COLUMNS = ", ".join(
    [
        *COUNT_COLUMNS,
        *(f"{c}_{part}" for c in MRR_COLUMNS for part in ("proceeds", "unpriced")),
        "mrr_base",
        "mrr_priced",
        "mrr_unpriced",
        "source_rows",
    ]
)
_VALUES = ", ".join(
    [
        *(f"sum({c}) FILTER (WHERE {c} <> 0)" for c in COUNT_COLUMNS),
        *(
            value
            for c in MRR_COLUMNS
            for value in (
                f"sum({c} * developer_proceeds) FILTER (WHERE {c} <> 0)",
                f"COALESCE(sum({c}) FILTER (WHERE developer_proceeds IS NULL), 0)",
            )
        ),
        f"sum(({_RECURRING}) * developer_proceeds)",
        f"COALESCE(sum({_RECURRING}) FILTER (WHERE developer_proceeds IS NOT NULL), 0)",
        f"COALESCE(sum({_RECURRING}) FILTER (WHERE developer_proceeds IS NULL), 0)",
        "count(*)",
    ]
)
# A copy of app/subscriptions/snapshot_rollup.py's statement as of this revision, over every row.
BACKFILL = f"""
    INSERT INTO {TABLE} (
        workspace_id, account_id, report_date, {_KEYS}, country, by_country, subscription_name,
        {_COLUMNS})
    SELECT workspace_id, account_id, report_date, {_KEYS}, country, GROUPING(country) = 0,
           max(subscription_name), {_VALUES}
    FROM subscription_snapshot_rows
    GROUP BY workspace_id, account_id, report_date, {_KEYS}, GROUPING SETS ((country), ())
"""


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("workspace_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("account_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("report_date", sa.Date(), nullable=False),
        sa.Column("app_apple_id", sa.Text(), nullable=True),
        sa.Column("subscription_apple_id", sa.Text(), nullable=True),
        sa.Column("offer_name", sa.Text(), nullable=True),
        sa.Column("standard_duration", sa.Text(), nullable=True),
        sa.Column("proceeds_currency", sa.Text(), nullable=True),
        sa.Column("country", sa.Text(), nullable=True),
        sa.Column("by_country", sa.Boolean(), nullable=False),
        sa.Column("subscription_name", sa.Text(), nullable=True),
        *(sa.Column(c, sa.BigInteger(), nullable=True) for c in COUNT_COLUMNS),
        *(
            column
            for c in MRR_COLUMNS
            for column in (
                sa.Column(f"{c}_proceeds", sa.Numeric(), nullable=True),
                sa.Column(f"{c}_unpriced", sa.BigInteger(), nullable=False),
            )
        ),
        sa.Column("mrr_base", sa.Numeric(), nullable=True),
        sa.Column("mrr_priced", sa.BigInteger(), nullable=False),
        sa.Column("mrr_unpriced", sa.BigInteger(), nullable=False),
        sa.Column("source_rows", sa.BigInteger(), nullable=False),
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
    op.create_index(f"ix_{TABLE}_partition", TABLE, ["account_id", "report_date"], unique=False)
    op.create_index(
        f"ix_{TABLE}_workspace_date",
        TABLE,
        ["workspace_id", "by_country", "report_date"],
        unique=False,
    )
    op.execute(BACKFILL)


def downgrade() -> None:
    op.drop_table(TABLE)

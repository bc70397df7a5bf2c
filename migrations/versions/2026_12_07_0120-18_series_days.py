"""Each report date's series values precomputed per account and per app — the estimated MRR
per currency and the Subscription Report's counts (issue 18's speed for year-long series),
backfilled from the snapshot rollup.

Revision ID: 18_series_days
Revises: 21_analytics_partitions
Create Date: 2026-12-07 01:20:00
"""

from __future__ import annotations

import re
from decimal import Decimal
from itertools import groupby
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from app.kit.money import amount_text, minor_units

revision: str = "18_series_days"
down_revision: str | None = "21_analytics_partitions"
branch_labels: str | None = None
depends_on: str | None = None

TABLE = "subscription_mrr_days"
COUNTS_TABLE = "subscription_count_days"
# The count columns as of this revision (app/subscriptions/series_days.py's COUNT_COLUMNS).
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
# A copy of app/subscriptions/series_days.py's COUNTS_INSERT as of this revision, over every day.
COUNTS_BACKFILL = f"""
    INSERT INTO {COUNTS_TABLE} (workspace_id, account_id, report_date, by_app, app_apple_id,
                                {", ".join(COUNT_COLUMNS)})
    SELECT workspace_id, account_id, report_date, GROUPING(app_apple_id) = 0, app_apple_id,
           {", ".join(f"sum({c})" for c in COUNT_COLUMNS)}
    FROM subscription_snapshot_day_rollup
    WHERE NOT by_country
    GROUP BY workspace_id, account_id, report_date, GROUPING SETS ((app_apple_id), ())
"""  # noqa: S608  (fixed SQL, no values)
# A copy of app/subscriptions/series_days.py's PARTS as of this revision, over every day, in the
# order the backfill walks (account, report date, layer, app).
PARTS = """
    SELECT workspace_id, account_id, report_date, GROUPING(app_apple_id) = 0 AS by_app,
           app_apple_id, proceeds_currency, standard_duration, sum(mrr_base) AS base
    FROM subscription_snapshot_day_rollup
    WHERE NOT by_country
    GROUP BY workspace_id, account_id, report_date, proceeds_currency, standard_duration,
             GROUPING SETS ((app_apple_id), ())
    ORDER BY account_id, report_date, 4, app_apple_id IS NULL,
             COALESCE(app_apple_id, '') COLLATE "C"
"""
INSERT = f"""
    INSERT INTO {TABLE} (workspace_id, account_id, report_date, by_app, app_apple_id,
                         proceeds_currency, amount, decimals, amount_text)
    VALUES (:ws, :a, :d, :by_app, :app, :currency, :amount, :decimals, :text)
"""  # noqa: S608  (fixed SQL; values are bound)

# A copy of app/subscriptions/metrics.py's MRR arithmetic as of this revision (monthly_factor,
# MrrTotal.add and .amounts): the backfill must store what the units store, digit for digit
# (the money rule, ``amount_text``, is the one every amount follows: imported).
_DURATION = re.compile(r"^\s*(\d+)\s*(day|week|month|year)s?\s*$", re.IGNORECASE)
DAYS_PER_MONTH = Decimal("30.4375")


def _factor(duration: str | None) -> Decimal | None:
    found = _DURATION.match(duration or "")
    if not found or int(found[1]) == 0:
        return None
    count, unit = Decimal(found[1]), found[2].lower()
    if unit == "day":
        return DAYS_PER_MONTH / count
    if unit == "week":
        return DAYS_PER_MONTH / (7 * count)
    if unit == "month":
        return 1 / count
    return 1 / (12 * count)


def _order(part: tuple[Any, ...]) -> tuple[Any, ...]:
    currency, duration, _ = part
    return (currency is None, currency or "", duration is None, duration or "")


def _amounts(parts: list[tuple[Any, ...]]) -> dict[str, Decimal]:
    bases: dict[tuple[str, Decimal], Decimal] = {}
    for currency, duration, base in sorted(parts, key=_order):
        factor = _factor(duration)
        if factor is None or base is None or not currency:
            continue
        key = (currency, factor)
        bases[key] = bases.get(key, Decimal(0)) + base
    found: dict[str, Decimal] = {}
    for (currency, factor), base in sorted(bases.items()):
        found[currency] = found.get(currency, Decimal(0)) + base * factor
    return found


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("workspace_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("account_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("report_date", sa.Date(), nullable=False),
        sa.Column("by_app", sa.Boolean(), nullable=False),
        sa.Column("app_apple_id", sa.Text(), nullable=True),
        sa.Column("proceeds_currency", sa.Text(), nullable=False),
        sa.Column("amount", sa.Numeric(), nullable=False),
        sa.Column("decimals", sa.SmallInteger(), nullable=False),
        sa.Column("amount_text", sa.Text(), nullable=False),
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
        f"ix_{TABLE}_scope",
        TABLE,
        ["account_id", "by_app", "app_apple_id", "report_date"],
        unique=False,
    )
    op.create_index(
        f"ix_{TABLE}_workspace", TABLE, ["workspace_id", "by_app", "report_date"], unique=False
    )
    backfill(op.get_bind())
    op.create_table(
        COUNTS_TABLE,
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("workspace_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("account_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("report_date", sa.Date(), nullable=False),
        sa.Column("by_app", sa.Boolean(), nullable=False),
        sa.Column("app_apple_id", sa.Text(), nullable=True),
        *(sa.Column(c, sa.BigInteger(), nullable=True) for c in COUNT_COLUMNS),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["asc_accounts.id"],
            name=op.f(f"fk_{COUNTS_TABLE}_account_id_asc_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f(f"fk_{COUNTS_TABLE}_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{COUNTS_TABLE}")),
    )
    op.create_index(
        f"ix_{COUNTS_TABLE}_partition", COUNTS_TABLE, ["account_id", "report_date"], unique=False
    )
    op.create_index(
        f"ix_{COUNTS_TABLE}_scope",
        COUNTS_TABLE,
        ["workspace_id", "by_app", "report_date"],
        unique=False,
    )
    op.execute(COUNTS_BACKFILL)


def backfill(bind: sa.Connection) -> None:
    """Every stored day's amounts, from the snapshot rollup (streamed, a day's layer at a time)."""
    parts = sa.text(PARTS).execution_options(stream_results=True, yield_per=5000)
    rows = bind.execute(parts)
    batch: list[dict[str, Any]] = []
    for (ws, account, day, by_app, app), parts in groupby(rows, key=lambda r: tuple(r[:5])):
        amounts = _amounts([(p[5], p[6], p[7]) for p in parts])
        batch += [
            {"ws": ws, "a": account, "d": day, "by_app": by_app, "app": app, "currency": c,
             "amount": amount, "decimals": minor_units(c), "text": amount_text(amount, c)}
            for c, amount in amounts.items()
        ]  # fmt: skip
        if len(batch) >= 5000:
            bind.execute(sa.text(INSERT), batch)
            batch = []
    if batch:
        bind.execute(sa.text(INSERT), batch)


def downgrade() -> None:
    op.drop_table(COUNTS_TABLE)
    op.drop_table(TABLE)

"""Measure-set sales rollups per day and per month, by app and by account (issue 21): what the
sales API's planner reads instead of the per-dimension daily rollup when a query needs only
account, app and country. Backfilled here from ``sales_daily_rollup``.

Revision ID: 21_sales_rollups
Revises: 14_freshness
Create Date: 2026-12-05 22:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "21_sales_rollups"
down_revision: str | None = "14_freshness"
branch_labels: str | None = None
depends_on: str | None = None

KINDS = {
    "first_time_download": "first_time_downloads",
    "redownload": "redownloads",
    "update": "updates",
    "iap": "iap_units",
    "subscription": "subscription_units",
    "restore": "restores",
}
COUNTS = (*KINDS.values(), "refunds", "net_units", "partial_refunds")
MONEY = ("proceeds", "customer_sales", "partial_refund_proceeds", "partial_refund_customer")
# (table, keeps the app, monthly, filled from)
TABLES = (
    ("sales_rollup_app_day", True, False, "sales_daily_rollup"),
    ("sales_rollup_account_day", False, False, "sales_rollup_app_day"),
    ("sales_rollup_app_month", True, True, "sales_rollup_app_day"),
    ("sales_rollup_account_month", False, True, "sales_rollup_account_day"),
)


def _create(table: str, app: bool) -> None:
    columns: list[sa.SchemaItem] = [
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("workspace_id", sa.UUID(), nullable=False),
        sa.Column("account_id", sa.UUID(), nullable=False),
        sa.Column("report_date", sa.Date(), nullable=False),
        sa.Column("country_code", sa.Text(), nullable=True),
        sa.Column("proceeds_currency", sa.Text(), nullable=True),
        sa.Column("customer_currency", sa.Text(), nullable=True),
        *(sa.Column(name, sa.BigInteger(), nullable=False) for name in COUNTS),
        *(sa.Column(name, sa.Numeric(), nullable=False) for name in MONEY),
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
    if app:
        columns += [
            sa.Column("app_id", sa.UUID(), nullable=True),
            sa.ForeignKeyConstraint(
                ["app_id"], ["apps.id"], name=op.f(f"fk_{table}_app_id_apps"), ondelete="SET NULL"
            ),
        ]
    op.create_table(table, *columns)
    op.create_index(f"ix_{table}_workspace_date", table, ["workspace_id", "report_date"])
    op.create_index(f"ix_{table}_account_date", table, ["account_id", "report_date"])
    if app:
        op.create_index(f"ix_{table}_app_date", table, ["app_id", "report_date"])


def _backfill(table: str, app: bool, monthly: bool, source: str) -> None:
    if source == "sales_daily_rollup":
        measures = [
            f"CAST(COALESCE(sum(r.units_in) FILTER (WHERE r.unit_kind = '{kind}'), 0) AS bigint)"
            for kind in KINDS
        ] + [f"CAST(sum(r.{c}) AS bigint)" for c in ("refunds", "net_units", "partial_refunds")]
    else:
        measures = [f"CAST(sum(r.{c}) AS bigint)" for c in COUNTS]
    measures += [f"sum(r.{c})" for c in MONEY]
    period = (
        "CAST(date_trunc('month', CAST(r.report_date AS timestamp)) AS date)"
        if monthly
        else "r.report_date"
    )
    keys = ["r.workspace_id", "r.account_id", period, *(["r.app_id"] if app else [])]
    keys += ["r.country_code", "r.proceeds_currency", "r.customer_currency"]
    names = ["workspace_id", "account_id", "report_date", *(["app_id"] if app else [])]
    names += ["country_code", "proceeds_currency", "customer_currency", *COUNTS, *MONEY]
    op.execute(
        f"""
        INSERT INTO {table} ({", ".join(names)})
        SELECT {", ".join(keys)}, {", ".join(measures)}
        FROM {source} AS r
        GROUP BY {", ".join(str(n + 1) for n in range(len(keys)))}
        """  # noqa: S608  (fixed identifiers)
    )


def upgrade() -> None:
    for table, app, monthly, source in TABLES:
        _create(table, app)
        _backfill(table, app, monthly, source)


def downgrade() -> None:
    for table, _, _, _ in reversed(TABLES):
        op.drop_table(table)

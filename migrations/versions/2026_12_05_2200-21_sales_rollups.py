"""Measure-set sales rollups per day and per month, by app and by account, and per day for
the whole workspace (issue 21): what the
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
down_revision: str | None = "15_platform_casing"
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
# (table, its keys before the period, monthly, filled from)
APP, ACCOUNT, WORKSPACE = (
    ("workspace_id", "account_id", "app_id"),
    ("workspace_id", "account_id"),
    ("workspace_id",),
)
TABLES = (
    ("sales_rollup_app_day", APP, False, "sales_daily_rollup"),
    ("sales_rollup_account_day", ACCOUNT, False, "sales_rollup_app_day"),
    ("sales_rollup_workspace_day", WORKSPACE, False, "sales_rollup_account_day"),
    ("sales_rollup_app_month", APP, True, "sales_rollup_app_day"),
    ("sales_rollup_account_month", ACCOUNT, True, "sales_rollup_account_day"),
)


def _create(table: str, keys: tuple[str, ...]) -> None:
    columns: list[sa.SchemaItem] = [
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("workspace_id", sa.UUID(), nullable=False),
        sa.Column("report_date", sa.Date(), nullable=False),
        sa.Column("country_code", sa.Text(), nullable=True),
        sa.Column("proceeds_currency", sa.Text(), nullable=True),
        sa.Column("customer_currency", sa.Text(), nullable=True),
        *(sa.Column(name, sa.BigInteger(), nullable=False) for name in COUNTS),
        *(sa.Column(name, sa.Numeric(), nullable=False) for name in MONEY),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f(f"fk_{table}_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
    ]
    if "account_id" in keys:
        columns += [
            sa.Column("account_id", sa.UUID(), nullable=False),
            sa.ForeignKeyConstraint(
                ["account_id"],
                ["asc_accounts.id"],
                name=op.f(f"fk_{table}_account_id_asc_accounts"),
                ondelete="CASCADE",
            ),
        ]
    if "app_id" in keys:
        columns += [
            sa.Column("app_id", sa.UUID(), nullable=True),
            sa.ForeignKeyConstraint(
                ["app_id"], ["apps.id"], name=op.f(f"fk_{table}_app_id_apps"), ondelete="SET NULL"
            ),
        ]
    op.create_table(table, *columns)
    op.create_index(f"ix_{table}_workspace_date", table, ["workspace_id", "report_date"])
    if "account_id" in keys:
        op.create_index(f"ix_{table}_account_date", table, ["account_id", "report_date"])
    if "app_id" in keys:
        op.create_index(f"ix_{table}_app_date", table, ["app_id", "report_date"])


def _backfill(table: str, keys: tuple[str, ...], monthly: bool, source: str) -> None:
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
    columns = [f"r.{key}" for key in keys]
    columns += [period, "r.country_code", "r.proceeds_currency", "r.customer_currency"]
    names = [*keys, "report_date", "country_code", "proceeds_currency", "customer_currency"]
    names += [*COUNTS, *MONEY]
    op.execute(
        f"""
        INSERT INTO {table} ({", ".join(names)})
        SELECT {", ".join(columns)}, {", ".join(measures)}
        FROM {source} AS r
        GROUP BY {", ".join(str(n + 1) for n in range(len(columns)))}
        """  # noqa: S608  (fixed identifiers)
    )


def _refresh_on_purge() -> None:
    """The workspace table has no account to cascade from: when an account row is deleted
    (a purge), its workspace's days are recomputed from the account table, after the foreign
    keys' cascades (triggers fire by name: ``RI_ConstraintTrigger…`` sort before ``zz_``)."""
    names = ["workspace_id", "report_date", "country_code", "proceeds_currency"]
    names += ["customer_currency", *COUNTS, *MONEY]
    sums = [f"CAST(sum(r.{c}) AS bigint)" for c in COUNTS] + [f"sum(r.{c})" for c in MONEY]
    op.execute(
        f"""
        CREATE FUNCTION sales_rollup_workspace_refresh() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            DELETE FROM sales_rollup_workspace_day WHERE workspace_id = OLD.workspace_id;
            INSERT INTO sales_rollup_workspace_day ({", ".join(names)})
            SELECT r.workspace_id, r.report_date, r.country_code, r.proceeds_currency,
                   r.customer_currency, {", ".join(sums)}
            FROM sales_rollup_account_day AS r
            WHERE r.workspace_id = OLD.workspace_id
            GROUP BY 1, 2, 3, 4, 5;
            RETURN NULL;
        END $$
        """  # noqa: S608  (fixed identifiers)
    )
    op.execute(
        "CREATE TRIGGER zz_sales_rollup_workspace_refresh AFTER DELETE ON asc_accounts "
        "FOR EACH ROW EXECUTE FUNCTION sales_rollup_workspace_refresh()"
    )


def upgrade() -> None:
    for table, keys, monthly, source in TABLES:
        _create(table, keys)
        _backfill(table, keys, monthly, source)
    _refresh_on_purge()


def downgrade() -> None:
    op.execute("DROP TRIGGER zz_sales_rollup_workspace_refresh ON asc_accounts")
    op.execute("DROP FUNCTION sales_rollup_workspace_refresh()")
    for table, _, _, _ in reversed(TABLES):
        op.drop_table(table)

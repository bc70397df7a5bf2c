"""Per-subscriber tables of the Subscriber Report (issue 18's speed: MRR movements and
Subscriber ID cohorts), backfilled from the rows already stored.

Revision ID: 18_subscriber_months
Revises: 21_sales_rollups
Create Date: 2026-12-05 23:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "18_subscriber_months"
down_revision: str | None = "21_partitions"
branch_labels: str | None = None
depends_on: str | None = None

# A copy of app/subscriptions/subscriber_rollup.py's statements as of this revision, over
# every row (every subscriber, every month and cohort touched).
BACKFILL_REPORT_DAYS = r"""
    INSERT INTO subscriber_report_days (account_id, report_date, app_apple_id, subscriber_id)
    SELECT DISTINCT account_id, report_date, app_apple_id, btrim(subscriber_id)
    FROM subscriber_transaction_rows
    WHERE true AND app_apple_id IS NOT NULL
          AND NULLIF(btrim(subscriber_id), '') IS NOT NULL AND event_date IS NOT NULL
"""
BACKFILL_SUBSCRIBERS = r"""
    WITH raw AS MATERIALIZED (
        SELECT id, workspace_id, account_id, app_apple_id, btrim(subscriber_id) AS sid,
               event_date AS d, purchase_date, standard_duration AS dur,
               COALESCE(NULLIF(substring(standard_duration from '\d+'), ''), '0')::int AS n,
               (COALESCE(refund, false) OR COALESCE(customer_price, 0) < 0) AS r, developer_proceeds AS p, proceeds_currency AS pc,
               NULLIF(btrim(app_apple_id), '') AS g_app,
               NULLIF(btrim(subscription_apple_id), '') AS g_subscription,
               NULLIF(btrim(country), '') AS g_country,
               NULLIF(btrim(offer_name), '') AS g_offer,
               NULLIF(btrim(standard_duration), '') AS g_duration
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
)::date AS until,
    CASE
      WHEN n = 0 THEN NULL
      WHEN lower(dur) LIKE '%day%' THEN p * 30.4375 / n
      WHEN lower(dur) LIKE '%week%' THEN p * 30.4375 / (7 * n)
      WHEN lower(dur) LIKE '%month%' THEN p / n
      WHEN lower(dur) LIKE '%year%' THEN p / (12 * n)
    END
 AS m
        FROM t AS c
        WHERE NOT c.r AND NOT c.refunded
    ),
    cover AS (
        SELECT ch.*, CAST(mo AS date) AS month
        FROM charge AS ch
        CROSS JOIN LATERAL generate_series(
            date_trunc('month', ch.d), date_trunc('month', ch.until) - interval '1 month',
            interval '1 month'
        ) AS mo
    ),
    months AS (
        INSERT INTO subscriber_months (
            workspace_id, account_id, app_apple_id, subscriber_id, month, first_charge, cohort, mrr, proceeds_currency, g_app,
            g_subscription, g_country, g_offer, g_duration)
        SELECT DISTINCT ON (c.account_id, c.app_apple_id, c.sid, c.month)
               c.workspace_id, c.account_id, c.app_apple_id, c.sid, c.month, c.first,
               date_trunc('month', c.first)::date, c.m,
               CASE WHEN c.m IS NOT NULL THEN c.pc END,
               CASE WHEN c.m IS NOT NULL THEN c.g_app END,
               CASE WHEN c.m IS NOT NULL THEN c.g_subscription END,
               CASE WHEN c.m IS NOT NULL THEN c.g_country END,
               CASE WHEN c.m IS NOT NULL THEN c.g_offer END,
               CASE WHEN c.m IS NOT NULL THEN c.g_duration END
        FROM cover AS c
        ORDER BY c.account_id, c.app_apple_id, c.sid, c.month, c.m IS NULL, c.d DESC,
                 c.id DESC
        RETURNING 1
    ),
    money AS (
        INSERT INTO subscriber_day_proceeds (
            workspace_id, account_id, app_apple_id, subscriber_id, cohort, event_date, proceeds_currency, proceeds, source_rows)
        SELECT workspace_id, account_id, app_apple_id, sid, date_trunc('month', first)::date,
               d, pc, sum(CASE WHEN r THEN -abs(p) ELSE p END), count(*)
        FROM t
        WHERE p IS NOT NULL AND first IS NOT NULL
        GROUP BY workspace_id, account_id, app_apple_id, sid, first, d, pc
        RETURNING 1
    )
    INSERT INTO subscriber_cohorts (workspace_id, account_id, app_apple_id, subscriber_id, first_charge, cohort)
    SELECT workspace_id, account_id, app_apple_id, sid, first, date_trunc('month', first)::date
    FROM t
    WHERE first IS NOT NULL
    GROUP BY workspace_id, account_id, app_apple_id, sid, first
"""
BACKFILL_MOVEMENTS = r"""
    WITH z AS (
        SELECT * FROM subscriber_months WHERE true AND mrr IS NOT NULL
    ),
    a AS (
        SELECT *, CAST(month + interval '1 month' AS date) AS next
        FROM subscriber_months WHERE true AND mrr IS NOT NULL
    ),
    p AS (
        SELECT COALESCE(z.workspace_id, a.workspace_id) AS workspace_id,
               COALESCE(z.account_id, a.account_id) AS account_id,
               COALESCE(z.app_apple_id, a.app_apple_id) AS app_apple_id,
               COALESCE(z.month, a.next) AS month,
               COALESCE(z.first_charge, a.first_charge) AS first_charge,
               z.subscriber_id IS NOT NULL AS has_z, a.mrr AS a, z.mrr AS z,
               CASE WHEN z.subscriber_id IS NOT NULL THEN z.proceeds_currency
                    ELSE a.proceeds_currency END AS pc,
               CASE WHEN z.subscriber_id IS NOT NULL THEN z.g_app ELSE a.g_app END AS g_app,
               CASE WHEN z.subscriber_id IS NOT NULL THEN z.g_subscription
                    ELSE a.g_subscription END AS g_subscription,
               CASE WHEN z.subscriber_id IS NOT NULL THEN z.g_country
                    ELSE a.g_country END AS g_country,
               CASE WHEN z.subscriber_id IS NOT NULL THEN z.g_offer ELSE a.g_offer END AS g_offer,
               CASE WHEN z.subscriber_id IS NOT NULL THEN z.g_duration
                    ELSE a.g_duration END AS g_duration
        FROM z FULL JOIN a
          ON a.account_id = z.account_id AND a.app_apple_id = z.app_apple_id
             AND a.subscriber_id = z.subscriber_id AND a.next = z.month
    )
    INSERT INTO subscriber_mrr_movement_months (
        workspace_id, account_id, app_apple_id, month, proceeds_currency, g_app, g_subscription,
        g_country, g_offer, g_duration, new, reactivation, expansion, contraction, churned,
        closing, subscribers)
    SELECT workspace_id, account_id, app_apple_id, month, pc, g_app, g_subscription, g_country,
           g_offer, g_duration,
           1 * COALESCE(sum(z) FILTER (WHERE a IS NULL AND first_charge >= month), 0),
           1 * COALESCE(sum(z) FILTER (WHERE a IS NULL AND first_charge < month), 0),
           1 * COALESCE(sum(z - a) FILTER (WHERE z > a), 0),
           1 * COALESCE(sum(a - z) FILTER (WHERE z < a), 0),
           1 * COALESCE(sum(a) FILTER (WHERE NOT has_z), 0),
           1 * COALESCE(sum(z), 0),
           1 * count(*)
    FROM p
    GROUP BY workspace_id, account_id, app_apple_id, month, pc, g_app, g_subscription,
             g_country, g_offer, g_duration
    RETURNING app_apple_id, month
"""
BACKFILL_COHORTS = r"""
    INSERT INTO subscriber_cohort_months (
        workspace_id, account_id, app_apple_id, cohort, month, kind, proceeds_currency,
        subscribers, proceeds)
    SELECT workspace_id, account_id, app_apple_id, cohort, cohort, 'size', CAST(NULL AS text),
           1 * count(*), CAST(NULL AS numeric)
    FROM subscriber_cohorts WHERE true
    GROUP BY workspace_id, account_id, app_apple_id, cohort
    UNION ALL
    SELECT workspace_id, account_id, app_apple_id, cohort, month, 'retained',
           CAST(NULL AS text), 1 * count(*), CAST(NULL AS numeric)
    FROM subscriber_months WHERE true
    GROUP BY workspace_id, account_id, app_apple_id, cohort, month
    UNION ALL
    SELECT workspace_id, account_id, app_apple_id, cohort,
           GREATEST(date_trunc('month', event_date)::date, cohort) AS m, 'revenue',
           proceeds_currency, 1 * sum(source_rows), 1 * sum(proceeds)
    FROM subscriber_day_proceeds WHERE true
    GROUP BY workspace_id, account_id, app_apple_id, cohort, m, proceeds_currency
    RETURNING app_apple_id, cohort
"""

TABLES = (
    "subscriber_report_days",
    "subscriber_cohorts",
    "subscriber_months",
    "subscriber_day_proceeds",
    "subscriber_mrr_movement_months",
    "subscriber_cohort_months",
)
_G = ("g_app", "g_subscription", "g_country", "g_offer", "g_duration")


def _keys(table: str, subscriber: bool = True) -> list[sa.SchemaItem]:
    columns: list[sa.SchemaItem] = [
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("account_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("app_apple_id", sa.Text(), nullable=False),
    ]
    if subscriber:
        columns.append(sa.Column("subscriber_id", sa.Text(), nullable=False))
    columns += [
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["asc_accounts.id"],
            name=op.f(f"fk_{table}_account_id_asc_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
    ]
    return columns


def _workspace(table: str, key: bool = True) -> list[sa.SchemaItem]:
    """The workspace column; its foreign key on the sums, not on the per-subscriber rows (their
    account's key cascades a purge, and a checked key per row doubles their writes)."""
    column = sa.Column("workspace_id", postgresql.UUID(as_uuid=True), nullable=False)
    if not key:
        return [column]
    return [
        column,
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f(f"fk_{table}_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
    ]


def _groups() -> list[sa.SchemaItem]:
    return [sa.Column(name, sa.Text(), nullable=True) for name in _G]


def upgrade() -> None:
    t = "subscriber_report_days"
    op.create_table(t, *_keys(t), sa.Column("report_date", sa.Date(), nullable=False))
    op.create_index(f"ix_{t}_day", t, ["account_id", "report_date"])
    t = "subscriber_cohorts"
    op.create_table(
        t,
        *_keys(t),
        *_workspace(t, key=False),
        sa.Column("first_charge", sa.Date(), nullable=False),
        sa.Column("cohort", sa.Date(), nullable=False),
    )
    op.create_index(f"ix_{t}_subscriber", t, ["account_id", "app_apple_id", "subscriber_id"])
    t = "subscriber_months"
    op.create_table(
        t,
        *_keys(t),
        *_workspace(t, key=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("first_charge", sa.Date(), nullable=False),
        sa.Column("cohort", sa.Date(), nullable=False),
        sa.Column("mrr", sa.Numeric(), nullable=True),
        sa.Column("proceeds_currency", sa.Text(), nullable=True),
        *_groups(),
    )
    op.create_index(f"ix_{t}_subscriber", t, ["account_id", "app_apple_id", "subscriber_id"])
    t = "subscriber_day_proceeds"
    op.create_table(
        t,
        *_keys(t),
        *_workspace(t, key=False),
        sa.Column("cohort", sa.Date(), nullable=False),
        sa.Column("event_date", sa.Date(), nullable=False),
        sa.Column("proceeds_currency", sa.Text(), nullable=True),
        sa.Column("proceeds", sa.Numeric(), nullable=False),
        sa.Column("source_rows", sa.BigInteger(), nullable=False),
    )
    op.create_index(f"ix_{t}_subscriber", t, ["account_id", "app_apple_id", "subscriber_id"])
    t = "subscriber_mrr_movement_months"
    op.create_table(
        t,
        *_keys(t, subscriber=False),
        *_workspace(t),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("proceeds_currency", sa.Text(), nullable=True),
        *_groups(),
        *[
            sa.Column(name, sa.Numeric(), nullable=False)
            for name in ("new", "reactivation", "expansion", "contraction", "churned", "closing")
        ],
        sa.Column("subscribers", sa.BigInteger(), nullable=False),
    )
    op.create_index(f"ix_{t}_month", t, ["account_id", "app_apple_id", "month"])
    t = "subscriber_cohort_months"
    op.create_table(
        t,
        *_keys(t, subscriber=False),
        *_workspace(t),
        sa.Column("cohort", sa.Date(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("proceeds_currency", sa.Text(), nullable=True),
        sa.Column("subscribers", sa.BigInteger(), nullable=False),
        sa.Column("proceeds", sa.Numeric(), nullable=True),
    )
    op.create_index(f"ix_{t}_cohort", t, ["account_id", "app_apple_id", "cohort"])
    # The Subscriber rows of one Subscriber ID, read when a report day naming it is replaced.
    op.execute(
        "CREATE INDEX ix_subscriber_transaction_rows_subscriber ON subscriber_transaction_rows "
        "(account_id, app_apple_id, btrim(subscriber_id))"
    )
    op.execute(BACKFILL_REPORT_DAYS)
    op.execute(BACKFILL_SUBSCRIBERS)
    op.execute(BACKFILL_MOVEMENTS)
    op.execute(BACKFILL_COHORTS)


def downgrade() -> None:
    op.execute("DROP INDEX ix_subscriber_transaction_rows_subscriber")
    for table in reversed(TABLES):
        op.drop_table(table)

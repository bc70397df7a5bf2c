"""MRR movements of days, ISO weeks and other spans from precomputed sums (issue 18's speed):
per Subscriber ID the days its MRR state changes (``subscriber_mrr_changes``), per app the
movements of each day and ISO week (``subscriber_mrr_movement_spans``), and the subscribers
with a charge at each month's end (``subscriber_mrr_movement_months.holders``, the stock a
day's closing starts from); backfilled from the rows already stored.

Revision ID: 18_mrr_spans
Revises: 17_fx_version
Create Date: 2026-12-06 10:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "18_mrr_spans"
down_revision: str | None = "18_month_rollups"
branch_labels: str | None = None
depends_on: str | None = None

# Copies of app/subscriptions/subscriber_rollup.py's statements as of this revision, over
# every row (every subscriber, day, week and month).
BACKFILL_CHANGES = r"""
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
    live AS MATERIALIZED (
        SELECT * FROM charge WHERE m IS NOT NULL
    ),
    points AS (
        SELECT DISTINCT workspace_id, account_id, app_apple_id, sid, first, v.at
        FROM live CROSS JOIN LATERAL (VALUES (live.d), (live.until)) AS v(at)
    ),
    tops AS (
        SELECT DISTINCT ON (pt.account_id, pt.app_apple_id, pt.sid, pt.at)
               pt.*, l.m, l.pc, l.g_app, l.g_subscription, l.g_country, l.g_offer, l.g_duration
        FROM points AS pt
        LEFT JOIN live AS l
          ON l.account_id = pt.account_id AND l.app_apple_id = pt.app_apple_id
             AND l.sid = pt.sid AND l.d <= pt.at AND pt.at < l.until
        ORDER BY pt.account_id, pt.app_apple_id, pt.sid, pt.at, l.d DESC, l.id DESC
    ),
    steps AS (
        SELECT tp.*, lag(m) OVER w AS a_m, lag(pc) OVER w AS a_pc, lag(g_app) OVER w AS a_app,
               lag(g_subscription) OVER w AS a_subscription, lag(g_country) OVER w AS a_country,
               lag(g_offer) OVER w AS a_offer, lag(g_duration) OVER w AS a_duration
        FROM tops AS tp
        WINDOW w AS (PARTITION BY account_id, app_apple_id, sid ORDER BY at)
    )
    INSERT INTO subscriber_mrr_changes (
        workspace_id, account_id, app_apple_id, subscriber_id, day, first_charge, a_mrr, a_currency, a_g_app, a_g_subscription, a_g_country, a_g_offer, a_g_duration, z_mrr, z_currency, z_g_app, z_g_subscription, z_g_country, z_g_offer, z_g_duration)
    SELECT workspace_id, account_id, app_apple_id, sid, at, first, a_m, a_pc, a_app,
           a_subscription, a_country, a_offer, a_duration, m, pc, g_app, g_subscription,
           g_country, g_offer, g_duration
    FROM steps
    WHERE (a_m, a_pc, a_app, a_subscription, a_country, a_offer, a_duration)
          IS DISTINCT FROM (m, pc, g_app, g_subscription, g_country, g_offer, g_duration)
"""
BACKFILL_SPANS = r"""
    WITH c AS MATERIALIZED (
        SELECT * FROM subscriber_mrr_changes WHERE true
    ),
    p AS (
        SELECT 'day' AS span, day AS start, workspace_id, account_id, app_apple_id,
               first_charge, a_mrr, a_currency, a_g_app, a_g_subscription, a_g_country, a_g_offer, a_g_duration, z_mrr, z_currency, z_g_app, z_g_subscription, z_g_country, z_g_offer, z_g_duration
        FROM c
        UNION ALL
        SELECT 'week', w, workspace_id, account_id, app_apple_id, min(first_charge),
               (array_agg(a_mrr ORDER BY day))[1], (array_agg(a_currency ORDER BY day))[1], (array_agg(a_g_app ORDER BY day))[1], (array_agg(a_g_subscription ORDER BY day))[1], (array_agg(a_g_country ORDER BY day))[1], (array_agg(a_g_offer ORDER BY day))[1], (array_agg(a_g_duration ORDER BY day))[1], (array_agg(z_mrr ORDER BY day DESC))[1], (array_agg(z_currency ORDER BY day DESC))[1], (array_agg(z_g_app ORDER BY day DESC))[1], (array_agg(z_g_subscription ORDER BY day DESC))[1], (array_agg(z_g_country ORDER BY day DESC))[1], (array_agg(z_g_offer ORDER BY day DESC))[1], (array_agg(z_g_duration ORDER BY day DESC))[1]
        FROM (SELECT c.*, CAST(date_trunc('week', day) AS date) AS w FROM c) AS cw
        GROUP BY workspace_id, account_id, app_apple_id, subscriber_id, w
    ),
    q AS (
        SELECT * FROM p WHERE (a_mrr, a_currency, a_g_app, a_g_subscription, a_g_country, a_g_offer, a_g_duration) IS DISTINCT FROM (z_mrr, z_currency, z_g_app, z_g_subscription, z_g_country, z_g_offer, z_g_duration)
    ),
    r AS (
        SELECT span, start, workspace_id, account_id, app_apple_id, CASE WHEN z_mrr IS NOT NULL THEN z_currency ELSE a_currency END AS pc, CASE WHEN z_mrr IS NOT NULL THEN z_g_app ELSE a_g_app END AS g_app, CASE WHEN z_mrr IS NOT NULL THEN z_g_subscription ELSE a_g_subscription END AS g_subscription, CASE WHEN z_mrr IS NOT NULL THEN z_g_country ELSE a_g_country END AS g_country, CASE WHEN z_mrr IS NOT NULL THEN z_g_offer ELSE a_g_offer END AS g_offer, CASE WHEN z_mrr IS NOT NULL THEN z_g_duration ELSE a_g_duration END AS g_duration,
               CASE WHEN a_mrr IS NULL AND first_charge >= start THEN z_mrr END AS new,
               CASE WHEN a_mrr IS NULL AND first_charge < start THEN z_mrr END AS reactivation,
               CASE WHEN z_mrr > a_mrr THEN z_mrr - a_mrr END AS expansion,
               CASE WHEN z_mrr < a_mrr THEN a_mrr - z_mrr END AS contraction,
               CASE WHEN z_mrr IS NULL THEN a_mrr END AS churned,
               CASE WHEN z_mrr IS NULL THEN 1 ELSE 0 END AS churners,
               CAST(NULL AS numeric) AS net, 0 AS held
        FROM q
        UNION ALL
        SELECT span, start, workspace_id, account_id, app_apple_id, z_currency AS pc, z_g_app AS g_app, z_g_subscription AS g_subscription, z_g_country AS g_country, z_g_offer AS g_offer, z_g_duration AS g_duration, NULL, NULL,
               NULL, NULL, NULL, 0, z_mrr, 1
        FROM q WHERE z_mrr IS NOT NULL
        UNION ALL
        SELECT span, start, workspace_id, account_id, app_apple_id, a_currency AS pc, a_g_app AS g_app, a_g_subscription AS g_subscription, a_g_country AS g_country, a_g_offer AS g_offer, a_g_duration AS g_duration, NULL, NULL,
               NULL, NULL, NULL, 0, -a_mrr, -1
        FROM q WHERE a_mrr IS NOT NULL
    )
    INSERT INTO subscriber_mrr_movement_spans (
        workspace_id, account_id, app_apple_id, span, start, proceeds_currency, g_app,
        g_subscription, g_country, g_offer, g_duration, new, reactivation, expansion,
        contraction, churned, churners, net, held, subscribers)
    SELECT workspace_id, account_id, app_apple_id, span, start, pc, g_app, g_subscription, g_country, g_offer, g_duration,
           1 * COALESCE(sum(new), 0), 1 * COALESCE(sum(reactivation), 0),
           1 * COALESCE(sum(expansion), 0), 1 * COALESCE(sum(contraction), 0),
           1 * COALESCE(sum(churned), 0), 1 * sum(churners),
           1 * COALESCE(sum(net), 0), 1 * sum(held), 1 * count(*)
    FROM r
    GROUP BY workspace_id, account_id, app_apple_id, span, start, pc, g_app, g_subscription, g_country, g_offer, g_duration
    RETURNING app_apple_id, span, start
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
        closing, subscribers, holders)
    SELECT workspace_id, account_id, app_apple_id, month, pc, g_app, g_subscription, g_country,
           g_offer, g_duration,
           1 * COALESCE(sum(z) FILTER (WHERE a IS NULL AND first_charge >= month), 0),
           1 * COALESCE(sum(z) FILTER (WHERE a IS NULL AND first_charge < month), 0),
           1 * COALESCE(sum(z - a) FILTER (WHERE z > a), 0),
           1 * COALESCE(sum(a - z) FILTER (WHERE z < a), 0),
           1 * COALESCE(sum(a) FILTER (WHERE NOT has_z), 0),
           1 * COALESCE(sum(z), 0),
           1 * count(*),
           1 * count(*) FILTER (WHERE has_z)
    FROM p
    GROUP BY workspace_id, account_id, app_apple_id, month, pc, g_app, g_subscription,
             g_country, g_offer, g_duration
    RETURNING app_apple_id, month
"""

STATE = ("mrr", "currency", "g_app", "g_subscription", "g_country", "g_offer", "g_duration")
_G = ("g_app", "g_subscription", "g_country", "g_offer", "g_duration")


def _keys(table: str) -> list[sa.SchemaItem]:
    return [
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("account_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("app_apple_id", sa.Text(), nullable=False),
        sa.Column("workspace_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["asc_accounts.id"],
            name=op.f(f"fk_{table}_account_id_asc_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
    ]


def upgrade() -> None:
    t = "subscriber_mrr_changes"
    op.create_table(
        t,
        *_keys(t),
        sa.Column("subscriber_id", sa.Text(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("first_charge", sa.Date(), nullable=False),
        *[
            sa.Column(f"{side}_{name}", sa.Numeric() if name == "mrr" else sa.Text(), nullable=True)
            for side in ("a", "z")
            for name in STATE
        ],
    )
    op.create_index(f"ix_{t}_subscriber", t, ["account_id", "app_apple_id", "subscriber_id"])
    op.create_index(f"ix_{t}_day", t, ["account_id", "app_apple_id", "day"])
    op.create_index(f"ix_{t}_workspace", t, ["workspace_id", "day"])
    t = "subscriber_mrr_movement_spans"
    op.create_table(
        t,
        *_keys(t),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f(f"fk_{t}_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.Column("span", sa.Text(), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("proceeds_currency", sa.Text(), nullable=True),
        *[sa.Column(name, sa.Text(), nullable=True) for name in _G],
        *[
            sa.Column(name, sa.Numeric(), nullable=False)
            for name in ("new", "reactivation", "expansion", "contraction", "churned")
        ],
        sa.Column("churners", sa.BigInteger(), nullable=False),
        sa.Column("net", sa.Numeric(), nullable=False),
        sa.Column("held", sa.BigInteger(), nullable=False),
        sa.Column("subscribers", sa.BigInteger(), nullable=False),
    )
    op.create_index(f"ix_{t}_start", t, ["account_id", "app_apple_id", "span", "start"])
    op.create_index(f"ix_{t}_workspace", t, ["workspace_id", "span", "start"])
    op.add_column(
        "subscriber_mrr_movement_months",
        sa.Column("holders", sa.BigInteger(), server_default="0", nullable=False),
    )
    op.execute("SET LOCAL jit = off")
    op.execute(BACKFILL_CHANGES)
    op.execute("ANALYZE subscriber_mrr_changes")
    op.execute(BACKFILL_SPANS)
    # The monthly sums again, now with their holders.
    op.execute("DELETE FROM subscriber_mrr_movement_months")
    op.execute(BACKFILL_MOVEMENTS)


def downgrade() -> None:
    op.drop_column("subscriber_mrr_movement_months", "holders")
    op.drop_table("subscriber_mrr_movement_spans")
    op.drop_table("subscriber_mrr_changes")

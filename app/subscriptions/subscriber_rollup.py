"""Per-subscriber precomputation of the Subscriber Report, maintained in the unit's transaction.

MRR movements and Subscriber ID cohorts need, per Subscriber ID, its whole history of charges:
read from the raw SUBSCRIBER rows that is a window over every row of the app per request. These
tables hold the per-subscriber facts instead, keyed by (account, App Apple ID, Subscriber ID) —
the partition an app's request computes over — so a request reads a few thousand sums:

- ``subscriber_cohorts``: one row per Subscriber ID with a charge (a row that is not a refund):
  its first charge date and cohort month. A Subscriber ID reset (FACTS §5.5) is a new random ID,
  so a returning customer after a reset is a new row here: a new subscriber in a new cohort.
- ``subscriber_months``: per Subscriber ID and calendar month whose last day a charge (not
  refunded: no refund row of the ID whose Purchase Date is the charge's Event Date) covers
  (Event Date ≤ month end < Event Date + Standard Subscription Duration): the subscriber is
  retained that month; with the newest such charge that has proceeds, its monthly proceeds
  (MRR contribution, normalised by duration), proceeds currency and dimensions (null when no
  covering charge has proceeds).
- ``subscriber_day_proceeds``: per Subscriber ID, Event Date and proceeds currency, the
  developer proceeds of charges minus |proceeds| of refunds (revenue cohorts; per day, so a
  conversion can price each day).
- ``subscriber_mrr_movement_months``: per app, calendar month, proceeds currency and
  dimensions, the MRR movements between the ends of the previous month and of the month
  (new, reactivation, expansion, contraction, churned, closing) — summed from
  ``subscriber_months``.
- ``subscriber_cohort_months``: per app, cohort month, month and (for money) currency: the
  cohort's size, its retained subscribers and its revenue — summed from the tables above.
- ``subscriber_report_days``: which Subscriber IDs each report day's rows name, so a report day
  replaced re-derives the IDs of its old rows as well as of its new ones.

When a SUBSCRIBER report day is replaced, ``rebuild_subscribers`` (the report's ``after_load``,
after the per-day rollups) re-derives the rows of every Subscriber ID the day names (old rows
and new) from all of that ID's stored rows, then re-sums the movement months and cohorts those
IDs touch (before or after). ``rebuild_all`` derives everything from the stored rows (the
migration's backfill uses the same statements).

Rows without an App Apple ID or a Subscriber ID are in no app's request and no subscriber's
history, and are left out.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

#: Refund rows of the Subscriber Report (FACTS §5.5): Refund = Yes, or a negative price (the
#: rule of ``rollup.REFUND``, which re-derives these rows after its own).
REFUND = "(COALESCE(refund, false) OR COALESCE(customer_price, 0) < 0)"

#: The period a charge pays for, from Apple's Standard Subscription Duration.
SPAN = """
    CASE
      WHEN lower(dur) LIKE '%day%' THEN make_interval(days => n)
      WHEN lower(dur) LIKE '%week%' THEN make_interval(weeks => n)
      WHEN lower(dur) LIKE '%month%' THEN make_interval(months => n)
      WHEN lower(dur) LIKE '%year%' THEN make_interval(years => n)
    END
"""
#: A charge's monthly proceeds: developer proceeds × the monthly factor of its duration (as
#: the snapshot MRR: a month of 30.4375 days).
MONTHLY = """
    CASE
      WHEN n = 0 THEN NULL
      WHEN lower(dur) LIKE '%day%' THEN p * 30.4375 / n
      WHEN lower(dur) LIKE '%week%' THEN p * 30.4375 / (7 * n)
      WHEN lower(dur) LIKE '%month%' THEN p / n
      WHEN lower(dur) LIKE '%year%' THEN p / (12 * n)
    END
"""

_KEY = "account_id, app_apple_id, subscriber_id"

#: The per-subscriber rows of the Subscriber IDs whose stored rows match ``{where}`` (over
#: ``subscriber_transaction_rows``), in one statement: the rows are read once.
DERIVE = f"""
    WITH raw AS MATERIALIZED (
        SELECT id, workspace_id, account_id, app_apple_id, btrim(subscriber_id) AS sid,
               event_date AS d, purchase_date, standard_duration AS dur,
               COALESCE(NULLIF(substring(standard_duration from '\\d+'), ''), '0')::int AS n,
               {REFUND} AS r, developer_proceeds AS p, proceeds_currency AS pc,
               NULLIF(btrim(app_apple_id), '') AS g_app,
               NULLIF(btrim(subscription_apple_id), '') AS g_subscription,
               NULLIF(btrim(country), '') AS g_country,
               NULLIF(btrim(offer_name), '') AS g_offer,
               NULLIF(btrim(standard_duration), '') AS g_duration
        FROM subscriber_transaction_rows
        WHERE {{where}} AND app_apple_id IS NOT NULL
              AND NULLIF(btrim(subscriber_id), '') IS NOT NULL AND event_date IS NOT NULL
    ),
    firsts AS MATERIALIZED (
        SELECT workspace_id, account_id, app_apple_id, sid, min(d) AS first
        FROM raw WHERE NOT r
        GROUP BY workspace_id, account_id, app_apple_id, sid
    ),
    charge AS (
        SELECT c.*, (c.d + {SPAN})::date AS until, {MONTHLY} AS m
        FROM raw AS c
        WHERE NOT c.r AND NOT EXISTS (
            SELECT 1 FROM raw AS back
            WHERE back.r AND back.account_id = c.account_id
                  AND back.app_apple_id = c.app_apple_id AND back.sid = c.sid
                  AND back.purchase_date = c.d
        )
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
            workspace_id, {_KEY}, month, cohort, mrr, proceeds_currency, g_app,
            g_subscription, g_country, g_offer, g_duration)
        SELECT DISTINCT ON (c.account_id, c.app_apple_id, c.sid, c.month)
               c.workspace_id, c.account_id, c.app_apple_id, c.sid, c.month,
               date_trunc('month', f.first)::date, c.m,
               CASE WHEN c.m IS NOT NULL THEN c.pc END,
               CASE WHEN c.m IS NOT NULL THEN c.g_app END,
               CASE WHEN c.m IS NOT NULL THEN c.g_subscription END,
               CASE WHEN c.m IS NOT NULL THEN c.g_country END,
               CASE WHEN c.m IS NOT NULL THEN c.g_offer END,
               CASE WHEN c.m IS NOT NULL THEN c.g_duration END
        FROM cover AS c
        JOIN firsts AS f
          ON f.account_id = c.account_id AND f.app_apple_id = c.app_apple_id AND f.sid = c.sid
        ORDER BY c.account_id, c.app_apple_id, c.sid, c.month, c.m IS NULL, c.d DESC,
                 c.id DESC
        RETURNING 1
    ),
    money AS (
        INSERT INTO subscriber_day_proceeds (
            workspace_id, {_KEY}, cohort, event_date, proceeds_currency, proceeds, source_rows)
        SELECT f.workspace_id, f.account_id, f.app_apple_id, f.sid,
               date_trunc('month', f.first)::date, t.d, t.pc,
               sum(CASE WHEN t.r THEN -abs(t.p) ELSE t.p END), count(*)
        FROM raw AS t
        JOIN firsts AS f
          ON f.account_id = t.account_id AND f.app_apple_id = t.app_apple_id AND f.sid = t.sid
        WHERE t.p IS NOT NULL
        GROUP BY f.workspace_id, f.account_id, f.app_apple_id, f.sid, f.first, t.d, t.pc
        RETURNING 1
    )
    INSERT INTO subscriber_cohorts (workspace_id, {_KEY}, first_charge, cohort)
    SELECT workspace_id, account_id, app_apple_id, sid, first,
           date_trunc('month', first)::date
    FROM firsts
"""  # noqa: S608  (fixed SQL; values are bound)

#: For each touched (app, month) pair ``{touched}``: each subscriber's monthly proceeds at the
#: end of the month before (``a``) and at the month's end (``z``), classified, summed per
#: proceeds currency and dimensions (of ``z``'s charge, else ``a``'s).
MOVEMENTS_INSERT = """
    WITH z AS (
        SELECT s.* FROM subscriber_months AS s JOIN {touched} AS t
          ON s.account_id = t.account_id AND s.app_apple_id = t.app
             AND s.month = t.month
        WHERE s.mrr IS NOT NULL
    ),
    a AS (
        SELECT s.*, CAST(s.month + interval '1 month' AS date) AS next
        FROM subscriber_months AS s JOIN {touched} AS t
          ON s.account_id = t.account_id AND s.app_apple_id = t.app
             AND s.month = CAST(t.month - interval '1 month' AS date)
        WHERE s.mrr IS NOT NULL
    ),
    pair AS (
        SELECT COALESCE(z.workspace_id, a.workspace_id) AS workspace_id,
               COALESCE(z.account_id, a.account_id) AS account_id,
               COALESCE(z.app_apple_id, a.app_apple_id) AS app_apple_id,
               COALESCE(z.month, a.next) AS month,
               COALESCE(z.subscriber_id, a.subscriber_id) AS sid,
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
        closing)
    SELECT p.workspace_id, p.account_id, p.app_apple_id, p.month, p.pc, p.g_app,
           p.g_subscription, p.g_country, p.g_offer, p.g_duration,
           COALESCE(sum(p.z) FILTER (WHERE p.a IS NULL AND c.first_charge >= p.month), 0),
           COALESCE(sum(p.z) FILTER (WHERE p.a IS NULL AND c.first_charge < p.month), 0),
           COALESCE(sum(p.z - p.a) FILTER (WHERE p.z > p.a), 0),
           COALESCE(sum(p.a - p.z) FILTER (WHERE p.z < p.a), 0),
           COALESCE(sum(p.a) FILTER (WHERE NOT p.has_z), 0),
           COALESCE(sum(p.z), 0)
    FROM pair AS p
    JOIN subscriber_cohorts AS c
      ON c.account_id = p.account_id AND c.app_apple_id = p.app_apple_id
         AND c.subscriber_id = p.sid
    GROUP BY p.workspace_id, p.account_id, p.app_apple_id, p.month, p.pc, p.g_app,
             p.g_subscription, p.g_country, p.g_offer, p.g_duration
"""

#: The touched cohorts' sizes, retained subscribers per month and revenue per month and
#: currency (by month of Event Date; a row dated before its cohort month counts in it).
COHORTS_INSERT = """
    INSERT INTO subscriber_cohort_months (
        workspace_id, account_id, app_apple_id, cohort, month, kind, proceeds_currency,
        subscribers, proceeds)
    SELECT c.workspace_id, c.account_id, c.app_apple_id, c.cohort, c.cohort, 'size',
           CAST(NULL AS text), count(*), CAST(NULL AS numeric)
    FROM subscriber_cohorts AS c JOIN {touched} AS t
      ON c.account_id = t.account_id AND c.app_apple_id = t.app AND c.cohort = t.cohort
    GROUP BY c.workspace_id, c.account_id, c.app_apple_id, c.cohort
    UNION ALL
    SELECT s.workspace_id, s.account_id, s.app_apple_id, s.cohort, s.month, 'retained',
           CAST(NULL AS text), count(*), CAST(NULL AS numeric)
    FROM subscriber_months AS s JOIN {touched} AS t
      ON s.account_id = t.account_id AND s.app_apple_id = t.app AND s.cohort = t.cohort
    GROUP BY s.workspace_id, s.account_id, s.app_apple_id, s.cohort, s.month
    UNION ALL
    SELECT p.workspace_id, p.account_id, p.app_apple_id, p.cohort,
           GREATEST(date_trunc('month', p.event_date)::date, p.cohort) AS m, 'revenue',
           p.proceeds_currency, count(*), sum(p.proceeds)
    FROM subscriber_day_proceeds AS p JOIN {touched} AS t
      ON p.account_id = t.account_id AND p.app_apple_id = t.app AND p.cohort = t.cohort
    GROUP BY p.workspace_id, p.account_id, p.app_apple_id, p.cohort, m, p.proceeds_currency
"""

_AFFECTED = """
    SELECT app_apple_id, subscriber_id FROM subscriber_report_days
    WHERE account_id = :a AND report_date = :d
    UNION
    SELECT app_apple_id, btrim(subscriber_id) FROM subscriber_transaction_rows
    WHERE account_id = :a AND report_date = :d AND app_apple_id IS NOT NULL
          AND NULLIF(btrim(subscriber_id), '') IS NOT NULL AND event_date IS NOT NULL
"""
_IDS = "unnest(CAST(:apps AS text[]), CAST(:sids AS text[])) AS x(app, sid)"
_OF_IDS = f"""
    account_id = :a AND (app_apple_id, subscriber_id) IN (SELECT app, sid FROM {_IDS})
"""  # noqa: S608  (fixed SQL)
_RAW_OF_IDS = f"""
    account_id = :a AND (app_apple_id, btrim(subscriber_id)) IN (SELECT app, sid FROM {_IDS})
"""  # noqa: S608
_TOUCHED = """
    SELECT DISTINCT app_apple_id, m FROM subscriber_months,
           LATERAL (VALUES (month), (CAST(month + interval '1 month' AS date))) AS x(m)
    WHERE {where}
"""
_TOUCHED_COHORTS = "SELECT DISTINCT app_apple_id, cohort FROM subscriber_cohorts WHERE {where}"
_REPORT_DAYS = """
    INSERT INTO subscriber_report_days (account_id, report_date, app_apple_id, subscriber_id)
    SELECT DISTINCT account_id, report_date, app_apple_id, btrim(subscriber_id)
    FROM subscriber_transaction_rows
    WHERE {where} AND app_apple_id IS NOT NULL
          AND NULLIF(btrim(subscriber_id), '') IS NOT NULL AND event_date IS NOT NULL
"""


@dataclass
class _Touched:
    months: set[tuple[str, dt.date]] = field(default_factory=set)
    cohorts: set[tuple[str, dt.date]] = field(default_factory=set)


async def _collect(
    session: AsyncSession, where: str, params: dict[str, Any], touched: _Touched
) -> None:
    """Add the movement months and cohorts of the subscribers matching ``where`` (their
    current per-subscriber rows): a month's movements read its own and the previous month's
    rows."""
    for sql, into in ((_TOUCHED, touched.months), (_TOUCHED_COHORTS, touched.cohorts)):
        for app, month in await session.execute(text(sql.format(where=where)), params):
            into.add((app, month))


async def _resum(session: AsyncSession, account_id: uuid.UUID, touched: _Touched) -> None:
    """Re-sum the movement months and the cohorts touched."""
    months = sorted(touched.months)
    cohorts = sorted(touched.cohorts)
    params: dict[str, Any] = {
        "a": account_id,
        "t_apps": [app for app, _ in months],
        "t_months": [month for _, month in months],
        "c_apps": [app for app, _ in cohorts],
        "c_months": [month for _, month in cohorts],
    }
    await session.execute(
        text(f"""
            DELETE FROM subscriber_mrr_movement_months AS m USING {_TOUCHED_LIST} AS t
            WHERE m.account_id = :a AND m.app_apple_id = t.app AND m.month = t.month
        """),  # noqa: S608  (fixed SQL)
        params,
    )
    await session.execute(
        text(f"""
            DELETE FROM subscriber_cohort_months AS m USING {_COHORT_LIST} AS t
            WHERE m.account_id = :a AND m.app_apple_id = t.app AND m.cohort = t.cohort
        """),  # noqa: S608
        params,
    )
    await session.execute(text(MOVEMENTS_INSERT.format(touched=_TOUCHED_LIST)), params)
    await session.execute(text(COHORTS_INSERT.format(touched=_COHORT_LIST)), params)


_TOUCHED_LIST = """(
    SELECT CAST(:a AS uuid) AS account_id, app, month
    FROM unnest(CAST(:t_apps AS text[]), CAST(:t_months AS date[])) AS x(app, month)
)"""
_COHORT_LIST = """(
    SELECT CAST(:a AS uuid) AS account_id, app, cohort
    FROM unnest(CAST(:c_apps AS text[]), CAST(:c_months AS date[])) AS x(app, cohort)
)"""

_TABLES = ("subscriber_months", "subscriber_day_proceeds", "subscriber_cohorts")


async def rebuild_subscribers(
    session: AsyncSession, account_id: uuid.UUID, report_date: dt.date
) -> None:
    """Re-derive the per-subscriber rows of every Subscriber ID one account's report day
    names (in its replaced rows and in its new ones), then re-sum the movement months and
    cohorts they touch; runs in the unit's transaction."""
    params: dict[str, Any] = {"a": account_id, "d": report_date}
    pairs = (await session.execute(text(_AFFECTED), params)).all()
    await session.execute(
        text("DELETE FROM subscriber_report_days WHERE account_id = :a AND report_date = :d"),
        params,
    )
    await session.execute(
        text(_REPORT_DAYS.format(where="account_id = :a AND report_date = :d")), params
    )
    if not pairs:
        return
    params["apps"] = [app for app, _ in pairs]
    params["sids"] = [sid for _, sid in pairs]
    touched = _Touched()
    await _collect(session, _OF_IDS, params, touched)
    for table in _TABLES:
        await session.execute(text(f"DELETE FROM {table} WHERE {_OF_IDS}"), params)  # noqa: S608
    await session.execute(text(DERIVE.format(where=_RAW_OF_IDS)), params)
    await _collect(session, _OF_IDS, params, touched)
    await _resum(session, account_id, touched)


async def rebuild_all(session: AsyncSession, account_id: uuid.UUID) -> None:
    """Derive every per-subscriber row and sum of one account from its stored rows."""
    params: dict[str, Any] = {"a": account_id}
    for table in (*_TABLES, "subscriber_report_days", "subscriber_mrr_movement_months",
                  "subscriber_cohort_months"):  # fmt: skip
        await session.execute(text(f"DELETE FROM {table} WHERE account_id = :a"), params)  # noqa: S608
    await session.execute(text(_REPORT_DAYS.format(where="account_id = :a")), params)
    await session.execute(text(DERIVE.format(where="account_id = :a")), params)
    touched = _Touched()
    await _collect(session, "account_id = :a", params, touched)
    await _resum(session, account_id, touched)


# --- reads -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AppScope:
    """The partition these tables answer for: one app (App Apple ID) of one account."""

    workspace_id: uuid.UUID
    account_id: uuid.UUID
    app_apple_id: str


def _app_where(scope: AppScope, params: dict[str, Any]) -> str:
    params.update(ws=scope.workspace_id, f_account=scope.account_id, f_app=scope.app_apple_id)
    return "workspace_id = :ws AND account_id = :f_account AND app_apple_id = :f_app"


MOVEMENT_COLUMNS = ("new", "reactivation", "expansion", "contraction", "churned", "closing")
_GROUP_COLUMNS = {
    "app": "g_app",
    "subscription": "g_subscription",
    "country": "g_country",
    "offer": "g_offer",
    "duration": "g_duration",
}


@dataclass(frozen=True)
class MonthMovements:
    month: dt.date
    group: tuple[str | None, ...]
    currency: str | None
    amounts: dict[str, Decimal]


def groupable(dimensions: Sequence[str]) -> bool:
    return all(d in _GROUP_COLUMNS for d in dimensions)


async def movement_months(
    session: AsyncSession,
    scope: AppScope,
    first: dt.date,
    last: dt.date,
    dimensions: Sequence[str],
) -> list[MonthMovements]:
    """MRR movements per calendar month ``first``…``last`` (first days), group (dimension
    values, empty as null) and proceeds currency."""
    params: dict[str, Any] = {"first": first, "last": last}
    names = "".join(f", {_GROUP_COLUMNS[d]}" for d in dimensions)
    sums = ", ".join(f"sum({c})" for c in MOVEMENT_COLUMNS)
    sql = f"""
        SELECT month{names}, proceeds_currency, {sums}
        FROM subscriber_mrr_movement_months
        WHERE {_app_where(scope, params)} AND month BETWEEN :first AND :last
        GROUP BY month{names}, proceeds_currency
    """  # noqa: S608  (identifiers from a fixed map; values are bound)
    width = len(dimensions)
    return [
        MonthMovements(
            month=row[0],
            group=tuple(row[1 : 1 + width]),
            currency=row[1 + width],
            amounts=dict(zip(MOVEMENT_COLUMNS, row[2 + width :], strict=True)),
        )
        for row in await session.execute(text(sql), params)
    ]


async def cohort_sizes(
    session: AsyncSession, scope: AppScope, first: dt.date, last: dt.date
) -> dict[dt.date, int]:
    params: dict[str, Any] = {"first": first, "last": last}
    sql = f"""
        SELECT cohort, subscribers FROM subscriber_cohort_months
        WHERE {_app_where(scope, params)} AND kind = 'size' AND cohort BETWEEN :first AND :last
    """  # noqa: S608
    return {row[0]: int(row[1]) for row in await session.execute(text(sql), params)}


_K = "((extract(year FROM month)::int - extract(year FROM cohort)::int) * 12 \
+ extract(month FROM month)::int - extract(month FROM cohort)::int)"


async def retention(
    session: AsyncSession, scope: AppScope, first: dt.date, last: dt.date, periods: int
) -> dict[tuple[dt.date, int], int]:
    """(cohort month, k) → subscribers retained at the end of cohort month + k."""
    params: dict[str, Any] = {"first": first, "last": last, "periods": periods}
    sql = f"""
        SELECT cohort, {_K}, subscribers FROM subscriber_cohort_months
        WHERE {_app_where(scope, params)} AND kind = 'retained'
              AND cohort BETWEEN :first AND :last AND {_K} BETWEEN 0 AND :periods
    """  # noqa: S608
    return {(row[0], int(row[1])): int(row[2]) for row in await session.execute(text(sql), params)}


async def revenue_months(
    session: AsyncSession, scope: AppScope, first: dt.date, last: dt.date
) -> dict[tuple[dt.date, int], dict[str | None, Decimal]]:
    """(cohort month, k) → proceeds currency → net proceeds dated in cohort month + k (a row
    dated before its cohort month counts in month 0)."""
    params: dict[str, Any] = {"first": first, "last": last}
    sql = f"""
        SELECT cohort, {_K}, proceeds_currency, proceeds FROM subscriber_cohort_months
        WHERE {_app_where(scope, params)} AND kind = 'revenue'
              AND cohort BETWEEN :first AND :last
    """  # noqa: S608
    found: dict[tuple[dt.date, int], dict[str | None, Decimal]] = {}
    for row in await session.execute(text(sql), params):
        found.setdefault((row[0], int(row[1])), {})[row[2]] = row[3]
    return found


@dataclass(frozen=True)
class CohortDayProceeds:
    cohort: dt.date
    day: dt.date
    currency: str | None
    proceeds: Decimal


async def cohort_day_proceeds(
    session: AsyncSession, scope: AppScope, first: dt.date, last: dt.date
) -> list[CohortDayProceeds]:
    """Per cohort month (``first``…``last``), Event Date and proceeds currency: the net
    developer proceeds of the cohort's subscribers (charges minus |refunds|) — the money of
    revenue cohorts, per day so each day can be converted at its own rate."""
    params: dict[str, Any] = {"first": first, "last": last}
    sql = f"""
        SELECT cohort, event_date, proceeds_currency, sum(proceeds)
        FROM subscriber_day_proceeds
        WHERE {_app_where(scope, params)} AND cohort BETWEEN :first AND :last
        GROUP BY cohort, event_date, proceeds_currency
        ORDER BY cohort, event_date, proceeds_currency
    """  # noqa: S608
    return [
        CohortDayProceeds(row[0], row[1], row[2], row[3])
        for row in await session.execute(text(sql), params)
    ]

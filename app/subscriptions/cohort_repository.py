"""SQL of subscription cohorts: trial-start cohorts from the event report, subscriber cohorts
from the Subscriber Report (Subscriber ID × Event Date).

A subscriber is a Subscriber ID: Apple resets it after 180 days without a subscription, so a
returning customer after a reset is a new subscriber in a new cohort. A charge is a SUBSCRIBER
row that is not a refund; a charge later refunded (a refund row of the same Subscriber ID whose
Purchase Date is the charge's Event Date) gave no service and counts for no period.

One app's sizes, retention and revenue read the per-subscriber sums of ``subscriber_rollup``
(the same answer); other scopes, and ``source="raw"`` (for the test that proves it), read the
rows.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.fx.convert import DEFAULT_CURRENCY_SQL
from app.subscriptions import subscriber_rollup
from app.subscriptions.analytics_repository import RowScope, app_scope, rollup_layer, row_where
from app.subscriptions.catalog import TRIAL_CONVERSION, TRIAL_START

_MONTHS = "(extract(year FROM {0})::int * 12 + extract(month FROM {0})::int)"


def _charges(scope: RowScope, params: dict[str, Any]) -> str:
    """CTEs ``t`` (usable rows, each with ``m``: the month of its Subscriber ID's first
    charge, its cohort) and ``charge`` (charges not refunded, with the end of their period).
    The cohort is a window over the rows, not a join: a join on the Subscriber ID is
    misestimated by the planner into a nested loop over every pair of subscribers."""
    return f"""
        raw AS (
            SELECT btrim(subscriber_id) AS sid, event_date AS d, purchase_date,
                   standard_duration AS dur,
                   COALESCE(NULLIF(substring(standard_duration from '\\d+'), ''), '0')::int AS n,
                   (COALESCE(refund, false) OR COALESCE(customer_price, 0) < 0) AS r,
                   developer_proceeds AS p, proceeds_currency AS pc
            FROM subscriber_transaction_rows
            WHERE {row_where(scope, params)} AND NULLIF(btrim(subscriber_id), '') IS NOT NULL
                  AND event_date IS NOT NULL
        ),
        t AS (
            SELECT raw.*,
                   date_trunc('month', min(d) FILTER (WHERE NOT r) OVER (PARTITION BY sid))::date
                       AS m
            FROM raw
        ),
        charge AS (
            SELECT t.sid, t.m, t.d, (t.d + {subscriber_rollup.SPAN})::date AS until, t.p, t.pc
            FROM t
            WHERE NOT t.r AND t.m BETWEEN :first AND :last AND NOT EXISTS (
                SELECT 1 FROM t AS back
                WHERE back.r AND back.sid = t.sid AND back.purchase_date = t.d
            )
        )
    """  # noqa: S608  (identifiers fixed; values are bound)


async def cohort_sizes(
    session: AsyncSession,
    scope: RowScope,
    first: dt.date,
    last: dt.date,
    source: str = "precomputed",
) -> dict[dt.date, int]:
    app = app_scope(scope)
    if source == "precomputed" and app is not None:
        return await subscriber_rollup.cohort_sizes(session, app, first, last)
    params: dict[str, Any] = {"first": first, "last": last}
    sql = f"""
        WITH {_charges(scope, params)}
        SELECT m, count(DISTINCT sid) FROM t WHERE NOT r AND m BETWEEN :first AND :last
        GROUP BY m
    """  # noqa: S608
    return {row[0]: int(row[1]) for row in await session.execute(text(sql), params)}


async def newest_event_date(
    session: AsyncSession, scope: RowScope, *, trial: bool
) -> dt.date | None:
    """The newest Event Date stored (event rows for trial cohorts, else Subscriber rows)."""
    params: dict[str, Any] = {}
    table = "subscription_event_rows" if trial else "subscriber_transaction_rows"
    sql = f"SELECT max(event_date) FROM {table} WHERE {row_where(scope, params)}"  # noqa: S608
    value = await session.scalar(text(sql), params)
    return value if isinstance(value, dt.date) else None


async def retention(
    session: AsyncSession,
    scope: RowScope,
    first: dt.date,
    last: dt.date,
    periods: int,
    source: str = "precomputed",
) -> dict[tuple[dt.date, int], int]:
    """(cohort month, k) → subscribers with a charge whose period covers the last day of
    cohort month + k (a charge of no known duration covers no day, as in MRR)."""
    app = app_scope(scope)
    if source == "precomputed" and app is not None:
        return await subscriber_rollup.retention(session, app, first, last, periods)
    params: dict[str, Any] = {"first": first, "last": last, "periods": periods}
    # Month end E(k) of cohort month + k is covered by a charge iff d <= E(k) < until, i.e.
    # month(d) <= month(m + k) <= month(until) - 1: expand each charge only over those k.
    sql = f"""
        WITH {_charges(scope, params)}
        SELECT ch.m, k, count(DISTINCT ch.sid)
        FROM charge AS ch
        CROSS JOIN LATERAL generate_series(
            GREATEST(0, {_MONTHS.format("ch.d")} - {_MONTHS.format("ch.m")}),
            LEAST(:periods, {_MONTHS.format("ch.until")} - {_MONTHS.format("ch.m")} - 1)
        ) AS k
        WHERE ch.until IS NOT NULL
        GROUP BY ch.m, k
    """  # noqa: S608  (identifiers fixed; values are bound)
    return {(row[0], int(row[1])): int(row[2]) for row in await session.execute(text(sql), params)}


async def revenue(
    session: AsyncSession,
    scope: RowScope,
    first: dt.date,
    last: dt.date,
    periods: int,
    source: str = "precomputed",
) -> dict[tuple[dt.date, int], dict[str | None, Decimal]]:
    """(cohort month, k) → currency → Σ developer proceeds of charges minus |proceeds| of
    refunds of the cohort's subscribers with Event Date up to the end of cohort month + k."""
    app = app_scope(scope)
    if source == "precomputed" and app is not None:
        monthly = await subscriber_rollup.revenue_months(session, app, first, last)
    else:
        monthly = await _raw_revenue_months(session, scope, first, last)
    # Per month of the cohort's life, then accumulated: month k holds everything up to it.
    found: dict[tuple[dt.date, int], dict[str | None, Decimal]] = {}
    for month in {m for m, _ in monthly}:
        running: dict[str | None, Decimal] = {}
        for k in range(periods + 1):
            for currency, amount in monthly.get((month, k), {}).items():
                running[currency] = running.get(currency, Decimal(0)) + amount
            if running:
                found[(month, k)] = dict(running)
    return found


async def _raw_revenue_months(
    session: AsyncSession, scope: RowScope, first: dt.date, last: dt.date
) -> dict[tuple[dt.date, int], dict[str | None, Decimal]]:
    params: dict[str, Any] = {"first": first, "last": last}
    sql = f"""
        WITH {_charges(scope, params)}
        SELECT t.m, GREATEST(0, {_MONTHS.format("t.d")} - {_MONTHS.format("t.m")}) AS k0, t.pc,
               sum(CASE WHEN t.r THEN -abs(t.p) ELSE t.p END)
        FROM t
        WHERE t.p IS NOT NULL AND t.m BETWEEN :first AND :last
        GROUP BY t.m, k0, t.pc
    """  # noqa: S608
    monthly: dict[tuple[dt.date, int], dict[str | None, Decimal]] = {}
    for row in await session.execute(text(sql), params):
        monthly.setdefault((row[0], int(row[1])), {})[row[2]] = row[3]
    return monthly


async def renewals_by_period(
    session: AsyncSession,
    scope: RowScope,
    first: dt.date,
    last: dt.date,
    periods: int,
    newest: dt.date,
) -> dict[tuple[dt.date, int], tuple[int, int]]:
    """(cohort month, n) → (subscribers whose n-th paid period ended by ``newest``, those of
    them with an (n+1)-th charge)."""
    params: dict[str, Any] = {"first": first, "last": last, "periods": periods, "newest": newest}
    sql = f"""
        WITH {_charges(scope, params)},
        ranked AS (
            SELECT ch.sid, ch.m, ch.until,
                   row_number() OVER (PARTITION BY ch.sid ORDER BY ch.d) AS n,
                   count(*) OVER (PARTITION BY ch.sid) AS charges
            FROM charge AS ch
        )
        SELECT r.m, r.n, count(*), count(*) FILTER (WHERE r.charges > r.n)
        FROM ranked AS r
        WHERE r.n <= :periods AND r.until <= :newest
        GROUP BY r.m, r.n
    """  # noqa: S608
    return {
        (row[0], int(row[1])): (int(row[2]), int(row[3]))
        for row in await session.execute(text(sql), params)
    }


async def trial_cohorts(
    session: AsyncSession, scope: RowScope, first: dt.date, last: dt.date, periods: int
) -> tuple[dict[dt.date, int], dict[tuple[dt.date, int], int]]:
    """(trial starts per month of Event Date, conversions per (month of Original Start Date,
    months from it to the conversion's Event Date))."""
    params: dict[str, Any] = {"first": first, "last": last, "periods": periods}
    params["through"] = (last + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    params["by_country"] = rollup_layer(scope, [])
    # A conversion dated before the first cohort month is in no cohort's months 0…periods.
    base = f"""
        WITH e AS (
            SELECT quantity AS q, event_date, original_start_date,
                   lower(btrim(COALESCE(event, ''))) AS n,
                   COALESCE(lower(btrim(offer_type)) = 'free trial', false) AS free,
                   lower(COALESCE(cancellation_reason, '')) AS reason,
                   COALESCE(btrim(offer_name), '') AS offer
            FROM subscription_event_rows
            WHERE {row_where(scope, params)} AND event_date >= :first
        )
    """  # noqa: S608
    # Starts from the per-day event rollup (its ``n`` and ``free`` are the predicate's own).
    starts_sql = f"""
        SELECT date_trunc('month', event_date)::date AS m, sum(quantity)
        FROM subscription_event_day_rollup
        WHERE {row_where(scope, params)} AND {TRIAL_START}
              AND event_date BETWEEN :first AND :through AND by_country = :by_country
              AND date_trunc('month', event_date)::date BETWEEN :first AND :last
        GROUP BY m
    """  # noqa: S608
    conversions_sql = f"""{base}
        SELECT date_trunc('month', original_start_date)::date AS m,
               (extract(year FROM age(date_trunc('month', event_date),
                                      date_trunc('month', original_start_date))) * 12
                + extract(month FROM age(date_trunc('month', event_date),
                                         date_trunc('month', original_start_date))))::int AS k,
               sum(q)
        FROM e
        WHERE {TRIAL_CONVERSION}
              AND date_trunc('month', original_start_date)::date BETWEEN :first AND :last
        GROUP BY m, k
    """  # noqa: S608
    starts = {row[0]: int(row[1]) for row in await session.execute(text(starts_sql), params)}
    conversions = {
        (row[0], int(row[1])): int(row[2])
        for row in await session.execute(text(conversions_sql), params)
        if 0 <= int(row[1]) <= periods
    }
    return starts, conversions


async def revenue_days(
    session: AsyncSession, scope: RowScope, first: dt.date, last: dt.date
) -> list[tuple[dt.date, dt.date, str | None, Decimal]]:
    """(cohort month, Event Date, proceeds currency, Σ developer proceeds of charges minus
    |proceeds| of refunds) of the cohorts' subscribers: :func:`revenue` per day, which
    conversion needs (each day converts at its own rate)."""
    params: dict[str, Any] = {"first": first, "last": last}
    sql = f"""
        WITH {_charges(scope, params)}
        SELECT t.m, t.d, t.pc, sum(CASE WHEN t.r THEN -abs(t.p) ELSE t.p END)
        FROM t
        WHERE t.p IS NOT NULL AND t.m BETWEEN :first AND :last
        GROUP BY t.m, t.d, t.pc
    """  # noqa: S608
    return [(row[0], row[1], row[2], row[3]) for row in await session.execute(text(sql), params)]


async def newest_event_date_and_default_currency(
    session: AsyncSession, scope: RowScope
) -> tuple[dt.date | None, str | None]:
    """:func:`newest_event_date` of the Subscriber rows and the workspace's default reporting
    currency, in one statement (revenue cohorts convert into it when no currency is asked)."""
    params: dict[str, Any] = {}
    sql = f"""
        SELECT (SELECT max(event_date) FROM subscriber_transaction_rows
                WHERE {row_where(scope, params)}),
               {DEFAULT_CURRENCY_SQL}
    """  # noqa: S608  (fixed SQL; values are bound)
    row = (await session.execute(text(sql), params)).one()
    day = row[0] if isinstance(row[0], dt.date) else None
    return day, row[1]

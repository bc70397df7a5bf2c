"""SQL of subscription cohorts: trial-start cohorts from the event report, subscriber cohorts
from the Subscriber Report (Subscriber ID × Event Date).

A subscriber is a Subscriber ID: Apple resets it after 180 days without a subscription, so a
returning customer after a reset is a new subscriber in a new cohort. A charge is a SUBSCRIBER
row that is not a refund; a charge later refunded (a refund row of the same Subscriber ID whose
Purchase Date is the charge's Event Date) gave no service and counts for no period.

Each read is a SELECT with its parameters (``*_sql``) and a parser of its rows (``*_of``), so
a request runs them all as parts of one statement (``request_repository.Batch``); the async
functions run one read alone (the tests compare the two sources through them).

One app's sizes, retention, revenue and renewals read the per-subscriber sums of
``subscriber_rollup``, and trial conversions the per-day conversion sums of ``rollup`` (the
same answers); other scopes, and ``source="raw"`` (for the tests that prove it), read the rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.subscriptions import subscriber_rollup
from app.subscriptions.analytics_repository import RowScope, rollup_layer, row_where
from app.subscriptions.catalog import TRIAL_CONVERSION, TRIAL_START

_MONTHS = "(extract(year FROM {0})::int * 12 + extract(month FROM {0})::int)"
#: Months from ``a`` to ``b`` (calendar months, days ignored).
_AFTER = "(" + _MONTHS.format("{1}") + " - " + _MONTHS.format("{0}") + ")"

Rows = Sequence[Sequence[Any]]
Sql = tuple[str, dict[str, Any]]
PRECOMPUTED = "precomputed"


def one_app(scope: RowScope, source: str = PRECOMPUTED) -> bool:
    """Whether the precomputed per-subscriber sums answer: one app of one account (named by
    Orchard's id or by account and App Apple ID), all storefronts (a Subscriber ID's history
    is over all its app's rows)."""
    filters = scope.filters
    named = scope.app_id is not None or (
        filters.account_id is not None and filters.app_apple_id is not None
    )
    return source == PRECOMPUTED and named and not scope.countries


def _charges(scope: RowScope, params: dict[str, Any]) -> str:
    """CTEs ``t`` (usable rows, each with ``m``: the month of its Subscriber ID's first
    charge, its cohort) and ``charge`` (charges not refunded, with the end of their period).
    The cohort is a window over the rows, not a join: a join on the Subscriber ID is
    misestimated by the planner into a nested loop over every pair of subscribers."""
    return f"""
        raw AS (
            SELECT id, btrim(subscriber_id) AS sid, event_date AS d, purchase_date,
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
            SELECT t.id, t.sid, t.m, t.d, (t.d + {subscriber_rollup.SPAN})::date AS until, t.p,
                   t.pc
            FROM t
            WHERE NOT t.r AND t.m BETWEEN :first AND :last AND NOT EXISTS (
                SELECT 1 FROM t AS back
                WHERE back.r AND back.sid = t.sid AND back.purchase_date = t.d
            )
        )
    """  # noqa: S608  (identifiers fixed; values are bound)


async def _fetch(session: AsyncSession, read: Sql) -> Rows:
    sql, params = read
    return (await session.execute(text(sql), params)).all()


# --- the newest stored Event Date -------------------------------------------------------------


def newest_sql(scope: RowScope, *, trial: bool, source: str = PRECOMPUTED) -> Sql:
    """The newest Event Date stored (event rows for trial cohorts, else Subscriber rows): the
    max of the per-day rollup's layer that the scope's filters read (the same rows' dates)."""
    params: dict[str, Any] = {}
    sql = f"SELECT {newest_value(scope, params, trial=trial, source=source)}"
    return sql, params


def newest_value(
    scope: RowScope, params: dict[str, Any], *, trial: bool, source: str = PRECOMPUTED
) -> str:
    """:func:`newest_sql` as a scalar subquery, for use inside another read."""
    if source == PRECOMPUTED:
        table = "subscription_event_day_rollup" if trial else "subscriber_transaction_day_rollup"
        params["newest_layer"] = rollup_layer(scope, [])
        layer = " AND by_country = :newest_layer"
    else:
        table = "subscription_event_rows" if trial else "subscriber_transaction_rows"
        layer = ""
    return f"(SELECT max(event_date) FROM {table} WHERE {row_where(scope, params)}{layer})"  # noqa: S608


def newest_of(rows: Rows) -> dt.date | None:
    value = rows[0][0] if rows else None
    return value if isinstance(value, dt.date) else None


async def newest_event_date(
    session: AsyncSession, scope: RowScope, *, trial: bool, source: str = PRECOMPUTED
) -> dt.date | None:
    return newest_of(await _fetch(session, newest_sql(scope, trial=trial, source=source)))


# --- cohort sizes -----------------------------------------------------------------------------


def sizes_sql(scope: RowScope, first: dt.date, last: dt.date, source: str = PRECOMPUTED) -> Sql:
    """(cohort month, subscribers whose first charge is in it)."""
    params: dict[str, Any] = {"first": first, "last": last}
    if one_app(scope, source):
        sql = f"""
            SELECT cohort, subscribers FROM subscriber_cohort_months
            WHERE {row_where(scope, params)} AND kind = 'size'
                  AND cohort BETWEEN :first AND :last
        """  # noqa: S608
    else:
        sql = f"""
            WITH {_charges(scope, params)}
            SELECT m, count(DISTINCT sid) FROM t WHERE NOT r AND m BETWEEN :first AND :last
            GROUP BY m
        """  # noqa: S608
    return sql, params


def sizes_of(rows: Rows) -> dict[dt.date, int]:
    return {row[0]: int(row[1]) for row in rows}


async def cohort_sizes(
    session: AsyncSession,
    scope: RowScope,
    first: dt.date,
    last: dt.date,
    source: str = PRECOMPUTED,
) -> dict[dt.date, int]:
    return sizes_of(await _fetch(session, sizes_sql(scope, first, last, source)))


# --- retention --------------------------------------------------------------------------------


def retention_sql(
    scope: RowScope, first: dt.date, last: dt.date, periods: int, source: str = PRECOMPUTED
) -> Sql:
    """(cohort month, k, subscribers with a charge whose period covers the last day of cohort
    month + k; a charge of no known duration covers no day, as in MRR)."""
    params: dict[str, Any] = {"first": first, "last": last, "periods": periods}
    if one_app(scope, source):
        k = _AFTER.format("cohort", "month")
        sql = f"""
            SELECT cohort, {k}, subscribers FROM subscriber_cohort_months
            WHERE {row_where(scope, params)} AND kind = 'retained'
                  AND cohort BETWEEN :first AND :last AND {k} BETWEEN 0 AND :periods
        """  # noqa: S608
        return sql, params
    # Month end E(k) of cohort month + k is covered by a charge iff d <= E(k) < until, i.e.
    # month(d) <= month(m + k) <= month(until) - 1: expand each charge only over those k.
    sql = f"""
        WITH {_charges(scope, params)}
        SELECT ch.m, k, count(DISTINCT ch.sid)
        FROM charge AS ch
        CROSS JOIN LATERAL generate_series(
            GREATEST(0, {_AFTER.format("ch.m", "ch.d")}),
            LEAST(:periods, {_AFTER.format("ch.m", "ch.until")} - 1)
        ) AS k
        WHERE ch.until IS NOT NULL
        GROUP BY ch.m, k
    """  # noqa: S608  (identifiers fixed; values are bound)
    return sql, params


def retention_of(rows: Rows) -> dict[tuple[dt.date, int], int]:
    return {(row[0], int(row[1])): int(row[2]) for row in rows}


async def retention(
    session: AsyncSession,
    scope: RowScope,
    first: dt.date,
    last: dt.date,
    periods: int,
    source: str = PRECOMPUTED,
) -> dict[tuple[dt.date, int], int]:
    return retention_of(await _fetch(session, retention_sql(scope, first, last, periods, source)))


# --- revenue (realised LTV) -------------------------------------------------------------------


def revenue_months_sql(
    scope: RowScope, first: dt.date, last: dt.date, source: str = PRECOMPUTED
) -> Sql:
    """(cohort month, k, proceeds currency, net proceeds dated in cohort month + k: charges
    minus |refunds|; a row dated before its cohort month counts in month 0)."""
    params: dict[str, Any] = {"first": first, "last": last}
    if one_app(scope, source):
        sql = f"""
            SELECT cohort, {_AFTER.format("cohort", "month")}, proceeds_currency, proceeds
            FROM subscriber_cohort_months
            WHERE {row_where(scope, params)} AND kind = 'revenue'
                  AND cohort BETWEEN :first AND :last
        """  # noqa: S608
        return sql, params
    sql = f"""
        WITH {_charges(scope, params)}
        SELECT t.m, GREATEST(0, {_AFTER.format("t.m", "t.d")}) AS k0, t.pc,
               sum(CASE WHEN t.r THEN -abs(t.p) ELSE t.p END)
        FROM t
        WHERE t.p IS NOT NULL AND t.m BETWEEN :first AND :last
        GROUP BY t.m, k0, t.pc
    """  # noqa: S608
    return sql, params


def revenue_of(rows: Rows, periods: int) -> dict[tuple[dt.date, int], dict[str | None, Decimal]]:
    """(cohort month, k) → currency → Σ net proceeds of the cohort's subscribers with Event
    Date up to the end of cohort month + k."""
    monthly: dict[tuple[dt.date, int], dict[str | None, Decimal]] = {}
    for row in rows:
        monthly.setdefault((row[0], int(row[1])), {})[row[2]] = row[3]
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


async def revenue(
    session: AsyncSession,
    scope: RowScope,
    first: dt.date,
    last: dt.date,
    periods: int,
    source: str = PRECOMPUTED,
) -> dict[tuple[dt.date, int], dict[str | None, Decimal]]:
    rows = await _fetch(session, revenue_months_sql(scope, first, last, source))
    return revenue_of(rows, periods)


DayProceeds = tuple[dt.date, dt.date, str | None, Decimal]


def revenue_days_sql(
    scope: RowScope, first: dt.date, last: dt.date, source: str = PRECOMPUTED
) -> Sql:
    """(cohort month, Event Date, proceeds currency, Σ developer proceeds of charges minus
    |proceeds| of refunds) of the cohorts' subscribers: revenue per day, which conversion
    needs (each day converts at its own rate)."""
    params: dict[str, Any] = {"first": first, "last": last}
    if one_app(scope, source):
        sql = f"""
            SELECT cohort, event_date, proceeds_currency, sum(proceeds)
            FROM subscriber_day_proceeds
            WHERE {row_where(scope, params)} AND cohort BETWEEN :first AND :last
            GROUP BY cohort, event_date, proceeds_currency
        """  # noqa: S608
        return sql, params
    sql = f"""
        WITH {_charges(scope, params)}
        SELECT t.m, t.d, t.pc, sum(CASE WHEN t.r THEN -abs(t.p) ELSE t.p END)
        FROM t
        WHERE t.p IS NOT NULL AND t.m BETWEEN :first AND :last
        GROUP BY t.m, t.d, t.pc
    """  # noqa: S608
    return sql, params


def revenue_days_of(rows: Rows) -> list[DayProceeds]:
    return [(row[0], row[1], row[2], row[3]) for row in rows]


async def revenue_days(
    session: AsyncSession,
    scope: RowScope,
    first: dt.date,
    last: dt.date,
    source: str = PRECOMPUTED,
) -> list[DayProceeds]:
    return revenue_days_of(await _fetch(session, revenue_days_sql(scope, first, last, source)))


# --- renewal rate by period number ------------------------------------------------------------


def renewals_sql(
    scope: RowScope, first: dt.date, last: dt.date, periods: int, source: str = PRECOMPUTED
) -> Sql:
    """(cohort month, n, subscribers whose n-th paid period ended by the newest stored Event
    Date, those of them with an (n+1)-th charge). Charges are ranked by Event Date, then as
    stored (two charges of one day)."""
    params: dict[str, Any] = {"first": first, "last": last, "periods": periods}
    newest = newest_value(scope, params, trial=False, source=source)
    if one_app(scope, source) and periods <= subscriber_rollup.PERIODS_KEPT:
        sql = f"""
            SELECT cohort, period, sum(subscribers), sum(renewed)
            FROM subscriber_renewal_periods
            WHERE {row_where(scope, params)} AND cohort BETWEEN :first AND :last
                  AND period <= :periods AND ended <= {newest}
            GROUP BY cohort, period
        """  # noqa: S608
        return sql, params
    sql = f"""
        WITH {_charges(scope, params)},
        ranked AS (
            SELECT ch.sid, ch.m, ch.until,
                   row_number() OVER (PARTITION BY ch.sid ORDER BY ch.d, ch.id) AS n,
                   count(*) OVER (PARTITION BY ch.sid) AS charges
            FROM charge AS ch
        )
        SELECT r.m, r.n, count(*), count(*) FILTER (WHERE r.charges > r.n)
        FROM ranked AS r
        WHERE r.n <= :periods AND r.until <= {newest}
        GROUP BY r.m, r.n
    """  # noqa: S608
    return sql, params


def renewals_of(rows: Rows) -> dict[tuple[dt.date, int], tuple[int, int]]:
    return {(row[0], int(row[1])): (int(row[2]), int(row[3])) for row in rows}


async def renewals_by_period(
    session: AsyncSession,
    scope: RowScope,
    first: dt.date,
    last: dt.date,
    periods: int,
    source: str = PRECOMPUTED,
) -> dict[tuple[dt.date, int], tuple[int, int]]:
    return renewals_of(await _fetch(session, renewals_sql(scope, first, last, periods, source)))


# --- trial → paid conversion ------------------------------------------------------------------


def _last_day(last: dt.date) -> dt.date:
    return (last + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)


def trial_starts_sql(scope: RowScope, first: dt.date, last: dt.date) -> Sql:
    """(month, free-trial starts with Event Date in it), from the per-day event rollup (its
    ``n`` and ``free`` are the predicate's own)."""
    params: dict[str, Any] = {"first": first, "last": last, "through": _last_day(last)}
    params["by_country"] = rollup_layer(scope, [])
    sql = f"""
        SELECT date_trunc('month', event_date)::date AS m, sum(quantity)
        FROM subscription_event_day_rollup
        WHERE {row_where(scope, params)} AND {TRIAL_START}
              AND event_date BETWEEN :first AND :through AND by_country = :by_country
              AND date_trunc('month', event_date)::date BETWEEN :first AND :last
        GROUP BY m
    """  # noqa: S608
    return sql, params


def trial_conversions_sql(
    scope: RowScope, first: dt.date, last: dt.date, source: str = PRECOMPUTED
) -> Sql:
    """(month of Original Start Date, months from it to the conversion's Event Date, Σ
    Quantity of free-trial conversions). A conversion dated before the first cohort month is
    in no cohort's months 0…periods. Any scope reads the per-day conversion sums (``rollup``:
    the layer the scope's filters read); ``source="raw"`` the event rows."""
    params: dict[str, Any] = {"first": first, "last": last}
    if source == PRECOMPUTED:
        params["by_country"] = rollup_layer(scope, [])
        sql = f"""
            SELECT start_month, {_AFTER.format("start_month", "event_month")} AS k,
                   sum(quantity)
            FROM subscription_trial_conversion_months
            WHERE {row_where(scope, params)} AND by_country = :by_country
                  AND event_month >= :first AND start_month BETWEEN :first AND :last
            GROUP BY start_month, k
        """  # noqa: S608
        return sql, params
    sql = f"""
        WITH e AS (
            SELECT quantity AS q, event_date, original_start_date,
                   lower(btrim(COALESCE(event, ''))) AS n,
                   COALESCE(lower(btrim(offer_type)) = 'free trial', false) AS free
            FROM subscription_event_rows
            WHERE {row_where(scope, params)} AND event_date >= :first
        )
        SELECT date_trunc('month', original_start_date)::date AS m,
               {_AFTER.format("original_start_date", "event_date")} AS k, sum(q)
        FROM e
        WHERE {TRIAL_CONVERSION}
              AND date_trunc('month', original_start_date)::date BETWEEN :first AND :last
        GROUP BY m, k
    """  # noqa: S608
    return sql, params


def trial_starts_of(rows: Rows) -> dict[dt.date, int]:
    return {row[0]: int(row[1]) for row in rows}


def trial_conversions_of(
    rows: Iterable[Sequence[Any]], periods: int
) -> dict[tuple[dt.date, int], int]:
    return {(row[0], int(row[1])): int(row[2]) for row in rows if 0 <= int(row[1]) <= periods}


async def trial_cohorts(
    session: AsyncSession,
    scope: RowScope,
    first: dt.date,
    last: dt.date,
    periods: int,
    source: str = PRECOMPUTED,
) -> tuple[dict[dt.date, int], dict[tuple[dt.date, int], int]]:
    """(trial starts per month of Event Date, conversions per (month of Original Start Date,
    months from it to the conversion's Event Date))."""
    starts = trial_starts_of(await _fetch(session, trial_starts_sql(scope, first, last)))
    rows = await _fetch(session, trial_conversions_sql(scope, first, last, source))
    return starts, trial_conversions_of(rows, periods)

"""The per-day rollups of the event-dated subscription reports, rebuilt in the unit's transaction.

A SUBSCRIPTION_EVENT or SUBSCRIBER file of one report date is replaced atomically; right after
(in the same transaction, through the report spec's ``after_load``) the rollup rows of that
(account, report date) are deleted and re-aggregated from the rows just stored, so a rollup is
never stale and a crash never leaves it half built. A file can carry several Event Dates:
the rollup keeps both dates, so metrics bucket by Event Date and traces still name the report
dates behind a figure.

The metric queries (``analytics_repository``) read these sums instead of the raw rows whenever
the request allows — always for event metrics and for transaction money and counts; distinct
paying Subscriber IDs cannot be summed over days and still read the raw rows.

Every dimension and filter of the metrics API is kept as stored (not normalised), so grouping
and filtering the rollup gives exactly the raw rows' answer. Each rollup has two layers
(``by_country``): per storefront, and summed over storefronts (country null) — a twentieth of
the rows for an app sold in twenty storefronts, read when a request neither groups nor filters
by country. Both are also summed per calendar month of Event Date (the months a report day's
rows left or entered, rebuilt right after its day rollup): a year by month reads twelve
months of sums instead of 365 days of rows.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.reports import calendar
from app.subscriptions.catalog import TRIAL_CONVERSION
from app.subscriptions.subscriber_rollup import rebuild_subscribers

#: Refund rows of the Subscriber Report (FACTS §5.5): Refund = Yes, or a negative price.
REFUND = "(COALESCE(refund, false) OR COALESCE(customer_price, 0) < 0)"

_DIMENSIONS = "app_apple_id, subscription_apple_id, country, offer_name, standard_duration"
_NOT_COUNTRY = "app_apple_id, subscription_apple_id, offer_name, standard_duration"

EVENT_ROLLUP_INSERT = f"""
    INSERT INTO subscription_event_day_rollup (
        workspace_id, account_id, report_date, event_date, {_DIMENSIONS}, cancellation_reason,
        n, free, quantity, paid_periods, quantity_with_periods, source_rows, by_country)
    SELECT workspace_id, account_id, report_date, event_date, {_DIMENSIONS}, cancellation_reason,
           lower(btrim(COALESCE(event, ''))) AS n,
           COALESCE(lower(btrim(offer_type)) = 'free trial', false) AS free,
           sum(quantity),
           COALESCE(sum(consecutive_paid_periods * quantity)
                    FILTER (WHERE consecutive_paid_periods IS NOT NULL), 0),
           COALESCE(sum(quantity) FILTER (WHERE consecutive_paid_periods IS NOT NULL), 0),
           count(*), GROUPING(country) = 0
    FROM subscription_event_rows
    WHERE event_date IS NOT NULL AND {{where}}
    GROUP BY workspace_id, account_id, report_date, event_date, {_NOT_COUNTRY},
             cancellation_reason, n, free, GROUPING SETS ((country), ())
"""  # noqa: S608  (fixed SQL; values are bound)

#: Free-trial conversions (the catalogue's ``TRIAL_CONVERSION``) per report date, app,
#: storefront (both layers, as above), month of Original Start Date (the trial's start: an
#: introductory offer is once per subscription group) and month of Event Date: what
#: trial-start cohorts read instead of every event row since the first cohort month.
TRIAL_CONVERSION_INSERT = f"""
    INSERT INTO subscription_trial_conversion_months (
        workspace_id, account_id, report_date, app_apple_id, country, start_month,
        event_month, quantity, source_rows, by_country)
    SELECT workspace_id, account_id, report_date, app_apple_id, country, start_month,
           event_month, sum(quantity), count(*), GROUPING(country) = 0
    FROM (
        SELECT workspace_id, account_id, report_date, app_apple_id, country, quantity,
               date_trunc('month', original_start_date)::date AS start_month,
               date_trunc('month', event_date)::date AS event_month,
               lower(btrim(COALESCE(event, ''))) AS n,
               COALESCE(lower(btrim(offer_type)) = 'free trial', false) AS free
        FROM subscription_event_rows
        WHERE event_date IS NOT NULL AND original_start_date IS NOT NULL AND {{where}}
    ) AS e
    WHERE {TRIAL_CONVERSION}
    GROUP BY workspace_id, account_id, report_date, app_apple_id, start_month, event_month,
             GROUPING SETS ((country), ())
"""  # noqa: S608  (fixed SQL; values are bound)

TRANSACTION_ROLLUP_INSERT = f"""
    INSERT INTO subscriber_transaction_day_rollup (
        workspace_id, account_id, report_date, event_date, {_DIMENSIONS}, customer_currency,
        proceeds_currency, refund, customer_price, developer_proceeds, abs_customer_price,
        abs_developer_proceeds, source_rows, by_country)
    SELECT workspace_id, account_id, report_date, event_date, {_DIMENSIONS}, customer_currency,
           proceeds_currency, {REFUND} AS r,
           sum(customer_price), sum(developer_proceeds),
           sum(abs(customer_price)), sum(abs(developer_proceeds)), count(*),
           GROUPING(country) = 0
    FROM subscriber_transaction_rows
    WHERE event_date IS NOT NULL AND {{where}}
    GROUP BY workspace_id, account_id, report_date, event_date, {_NOT_COUNTRY},
             customer_currency, proceeds_currency, r, GROUPING SETS ((country), ())
"""  # noqa: S608  (fixed SQL; values are bound)

_ONE_DAY = "account_id = :a AND report_date = :d"

_EVENT_KEYS = (
    f"{_DIMENSIONS}, cancellation_reason, n, free, by_country"  # the day rollup's, but dates
)
#: The day rollup of events summed per calendar month of Event Date (``month``), keeping the
#: report and event dates each month row spans: what monthly metric buckets read for whole
#: months (``analytics_repository.event_buckets_sql``) instead of every day's rows.
EVENT_MONTHS_INSERT = f"""
    INSERT INTO subscription_event_month_rollup (
        workspace_id, account_id, month, {_EVENT_KEYS}, quantity, paid_periods,
        quantity_with_periods, source_rows, first_report, last_report, first_event,
        last_event)
    SELECT workspace_id, account_id, date_trunc('month', event_date)::date AS m, {_EVENT_KEYS},
           sum(quantity), sum(paid_periods), sum(quantity_with_periods), sum(source_rows),
           min(report_date), max(report_date), min(event_date), max(event_date)
    FROM subscription_event_day_rollup
    WHERE {{where}}
    GROUP BY workspace_id, account_id, m, {_EVENT_KEYS}
"""  # noqa: S608  (fixed SQL; values are bound)
_EVENT_MONTH = "account_id = :a AND event_date >= :first AND event_date < :last"
_TRANSACTION_KEYS = f"{_DIMENSIONS}, customer_currency, proceeds_currency, refund, by_country"
#: The same for the day rollup of Subscriber rows (``analytics_repository``'s transaction
#: buckets read it for whole months when no per-day money is asked for).
TRANSACTION_MONTHS_INSERT = f"""
    INSERT INTO subscriber_transaction_month_rollup (
        workspace_id, account_id, month, {_TRANSACTION_KEYS}, customer_price,
        developer_proceeds, abs_customer_price, abs_developer_proceeds, source_rows,
        first_report, last_report, first_event, last_event)
    SELECT workspace_id, account_id, date_trunc('month', event_date)::date AS m,
           {_TRANSACTION_KEYS}, sum(customer_price), sum(developer_proceeds),
           sum(abs_customer_price), sum(abs_developer_proceeds), sum(source_rows),
           min(report_date), max(report_date), min(event_date), max(event_date)
    FROM subscriber_transaction_day_rollup
    WHERE {{where}}
    GROUP BY workspace_id, account_id, m, {_TRANSACTION_KEYS}
"""  # noqa: S608  (fixed SQL; values are bound)
#: The calendar months of Event Date of a report day's event rollup rows (the rows about to
#: be replaced) or of its stored event rows (the new ones).
_EVENT_MONTHS = """
    SELECT DISTINCT date_trunc('month', event_date)::date FROM {table}
    WHERE account_id = :a AND report_date = :d AND event_date IS NOT NULL
"""

#: The calendar months of Event Date a report day's Subscriber rows fall in, before its rollup
#: is rebuilt (the rows replaced) and after its rows were loaded (the new ones).
_TOUCHED_MONTHS = """
    SELECT DISTINCT date_trunc('month', event_date)::date FROM subscriber_transaction_day_rollup
    WHERE account_id = :a AND report_date = :d
    UNION
    SELECT DISTINCT date_trunc('month', event_date)::date FROM subscriber_transaction_rows
    WHERE account_id = :a AND report_date = :d AND event_date IS NOT NULL
"""

PAYER_MONTHS_INSERT = f"""
    INSERT INTO subscriber_payer_months (
        workspace_id, account_id, month, app_apple_id, customer_currency, proceeds_currency,
        total, payers)
    SELECT workspace_id, account_id, m, app_apple_id, customer_currency, proceeds_currency,
           GROUPING(customer_currency, proceeds_currency) <> 0, count(DISTINCT subscriber_id)
    FROM (
        SELECT workspace_id, account_id, date_trunc('month', event_date)::date AS m,
               app_apple_id, customer_currency, proceeds_currency, subscriber_id
        FROM subscriber_transaction_rows
        WHERE event_date IS NOT NULL AND NOT {REFUND} AND {{where}}
    ) AS charges
    GROUP BY GROUPING SETS (
        (workspace_id, account_id, m, app_apple_id, customer_currency, proceeds_currency),
        (workspace_id, account_id, m, app_apple_id)
    )
"""  # noqa: S608  (fixed SQL; values are bound)
_MONTHS = """
    workspace_id = (SELECT workspace_id FROM asc_accounts WHERE id = :a) AND account_id = :a
    AND event_date >= :first AND event_date < :last
"""


async def _rebuild(
    session: AsyncSession, table: str, insert: str, account_id: uuid.UUID, report_date: dt.date
) -> None:
    params = {"a": account_id, "d": report_date}
    await session.execute(text(f"DELETE FROM {table} WHERE {_ONE_DAY}"), params)  # noqa: S608
    await session.execute(text(insert.format(where=_ONE_DAY)), params)


async def rebuild_event_rollup(
    session: AsyncSession, account_id: uuid.UUID, report_date: dt.date
) -> None:
    """Re-aggregate one account's event rows of one report date (and their free-trial
    conversions), then the monthly sums of the Event Date months its rows fall in, before
    and after (``EVENT_MONTHS_INSERT``); runs in the unit's transaction."""
    params = {"a": account_id, "d": report_date}
    months = {
        m
        for table in ("subscription_event_day_rollup", "subscription_event_rows")
        for (m,) in await session.execute(text(_EVENT_MONTHS.format(table=table)), params)
    }
    await _rebuild(
        session, "subscription_event_day_rollup", EVENT_ROLLUP_INSERT, account_id, report_date
    )
    for month in sorted(months):
        span = {
            "a": account_id,
            "first": month,
            "last": calendar.month_end(month) + dt.timedelta(days=1),
        }
        await session.execute(
            text(
                "DELETE FROM subscription_event_month_rollup WHERE account_id = :a "
                "AND month = :first"
            ),
            span,
        )
        await session.execute(text(EVENT_MONTHS_INSERT.format(where=_EVENT_MONTH)), span)
    await _rebuild(
        session,
        "subscription_trial_conversion_months",
        TRIAL_CONVERSION_INSERT,
        account_id,
        report_date,
    )


async def rebuild_transaction_rollup(
    session: AsyncSession, account_id: uuid.UUID, report_date: dt.date
) -> None:
    """Re-aggregate one account's Subscriber rows of one report date, recount the distinct
    payers of the months its rows (old and new) fall in, and re-derive the per-subscriber
    rows of the Subscriber IDs it names (``subscriber_rollup``); runs in the unit's
    transaction."""
    params = {"a": account_id, "d": report_date}
    months = sorted(m for (m,) in await session.execute(text(_TOUCHED_MONTHS), params))
    for month in months:
        following = (month + dt.timedelta(days=32)).replace(day=1)
        span = {"a": account_id, "first": month, "last": following}
        await session.execute(
            text("DELETE FROM subscriber_payer_months WHERE account_id = :a AND month = :first"),
            span,
        )
        await session.execute(text(PAYER_MONTHS_INSERT.format(where=_MONTHS)), span)
    await _rebuild(
        session,
        "subscriber_transaction_day_rollup",
        TRANSACTION_ROLLUP_INSERT,
        account_id,
        report_date,
    )
    for month in months:  # the monthly sums of the months the day's rows left or entered
        following = calendar.month_end(month) + dt.timedelta(days=1)
        span = {"a": account_id, "first": month, "last": following}
        await session.execute(
            text(
                "DELETE FROM subscriber_transaction_month_rollup WHERE account_id = :a "
                "AND month = :first"
            ),
            span,
        )
        await session.execute(text(TRANSACTION_MONTHS_INSERT.format(where=_EVENT_MONTH)), span)
    await rebuild_subscribers(session, account_id, report_date)

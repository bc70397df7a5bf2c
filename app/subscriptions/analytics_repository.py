"""SQL of subscription analytics: every metric is aggregated in PostgreSQL from the stored rows
of Apple's reports, per calendar bucket and group; Python only divides and formats.

Event and transaction sums read the per-day rollups (``rollup``: the same answer, rebuilt with
each report day; ``source="raw"`` reads the rows themselves, for the test that proves it) —
for the whole calendar months of a monthly request, their monthly sums (``rollup``'s
``EVENT_MONTHS_INSERT`` and ``TRANSACTION_MONTHS_INSERT``, not when money is kept per day);
distinct paying Subscriber IDs read the monthly payer counts for one app's whole months, else
the raw rows. MRR movements read the per-subscriber sums (``subscriber_rollup``, for any apps and
storefronts): of whole calendar months, of days and ISO weeks, other spans composed from the
per-subscriber changes; ``source="raw"`` reads the rows. Snapshot stocks
read the per-day snapshot rollup (``snapshot_rollup``) — for one app or account, ungrouped, the
values stored per report date instead (``series_days``, ``stored_days_sql``); the traces' row
lists, the raw rows.

Identifiers in the SQL come from fixed maps (dimensions, count columns) and from the metric
catalogue's predicates; every value is bound.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.fx.convert import DEFAULT_CURRENCY_SQL
from app.reports import calendar
from app.subscriptions import series_days, subscriber_rollup
from app.subscriptions.catalog import ACTIVE_COLUMNS, IN_MRR_COLUMNS
from app.subscriptions.rollup import REFUND
from app.subscriptions.schemas import RowFilter

#: Group-by dimension → the column of the three tables it groups by (all three carry them,
#: except the cancellation reason, which only the event report has).
DIMENSIONS = {
    "app": "app_apple_id",
    "subscription": "subscription_apple_id",
    "country": "country",
    "offer": "offer_name",
    "duration": "standard_duration",
    "cancellation_reason": "cancellation_reason",
}
#: The Subscription Report count columns every snapshot metric adds up.
COUNT_COLUMNS = (*ACTIVE_COLUMNS, "billing_retry", "grace_period", "marketing_opt_ins")


@dataclass(frozen=True)
class RowScope:
    workspace_id: uuid.UUID
    filters: RowFilter
    countries: tuple[str, ...] = ()
    #: An app named by Orchard's id, resolved inside each statement (its account and Apple ID
    #: filter the rows) instead of by a lookup first; ``filters`` then names no app.
    app_id: uuid.UUID | None = None


@dataclass(frozen=True)
class Trace:
    rows: int
    first_report: dt.date | None
    last_report: dt.date | None
    first_event: dt.date | None = None
    last_event: dt.date | None = None


#: Memory for the hash aggregates of the metric reads (rollup sums, distinct payers): with
#: PostgreSQL's default 4 MB the planner sorts on disk instead. For this transaction only;
#: not for the Subscriber ID windows of cohorts and movements, measured slower with it.
ANALYTIC_WORK_MEM = "64MB"


async def roomy(session: AsyncSession) -> None:
    """Let this transaction's analytic queries sort and hash in memory (``SET LOCAL``)."""
    await session.execute(text(f"SET LOCAL work_mem = '{ANALYTIC_WORK_MEM}'"))


def app_scope(scope: RowScope) -> subscriber_rollup.AppScope | None:
    """The per-subscriber tables' partition that answers for ``scope``: one app of one
    account, no storefront filter (a Subscriber ID's history is over all its app's rows)."""
    filters = scope.filters
    if filters.account_id is None or filters.app_apple_id is None or scope.countries:
        return None
    return subscriber_rollup.AppScope(scope.workspace_id, filters.account_id, filters.app_apple_id)


def row_where(scope: RowScope, params: dict[str, Any]) -> str:
    params["ws"] = scope.workspace_id
    sql = "workspace_id = :ws"
    if scope.filters.account_id is not None:
        sql += " AND account_id = :f_account"
        params["f_account"] = scope.filters.account_id
    if scope.filters.app_apple_id is not None:
        sql += " AND app_apple_id = :f_app"
        params["f_app"] = scope.filters.app_apple_id
    if scope.app_id is not None:
        app = "FROM apps WHERE workspace_id = :ws AND id = :f_app_id"
        sql += f" AND account_id = (SELECT account_id {app})"
        sql += f" AND app_apple_id = (SELECT apple_id {app})"
        params["f_app_id"] = scope.app_id
    if scope.countries:
        sql += " AND country = ANY(CAST(:f_countries AS text[]))"
        params["f_countries"] = list(scope.countries)
    return sql


def _groups(dimensions: list[str]) -> tuple[str, str]:
    """(select list, group-by list) of the dimensions, empty text values read as null."""
    selects = "".join(
        f", NULLIF(btrim({DIMENSIONS[d]}), '') AS g{i}" for i, d in enumerate(dimensions)
    )
    names = "".join(f", g{i}" for i in range(len(dimensions)))
    return selects, names


def rollup_layer(scope: RowScope, dimensions: list[str]) -> bool:
    """Which layer of a per-day rollup answers: per storefront when the request groups or
    filters by country, else the one summed over storefronts (see ``rollup``)."""
    return "country" in dimensions or bool(scope.countries)


def _layer(source: str, scope: RowScope, dimensions: list[str], params: dict[str, Any]) -> str:
    if source != "rollup":
        return ""
    params["by_country"] = rollup_layer(scope, dimensions)
    return "AND by_country = :by_country"


def _bucket(column: str) -> str:
    return f"date_trunc(CAST(:granularity AS text), CAST({column} AS timestamp))::date"


# --- events ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class EventBucket:
    bucket: dt.date
    group: tuple[str | None, ...]
    counts: dict[str, int]
    paid_periods: int
    cancellations_with_periods: int
    trace: Trace


#: Where event sums are read from: the per-day rollup (``rollup``), or the raw rows (the
#: same answer, kept for the property test that proves it). Both yield the same columns.
_EVENT_SOURCES = {
    "rollup": """
        SELECT {bucket} AS bucket, app_apple_id, subscription_apple_id, country, offer_name,
               standard_duration, cancellation_reason, n, free, quantity AS q,
               paid_periods AS pp, quantity_with_periods AS qp, source_rows AS rows,
               report_date AS r0, report_date AS r1, event_date AS e0, event_date AS e1
        FROM subscription_event_day_rollup
    """,
    "raw": """
        SELECT {bucket} AS bucket, app_apple_id, subscription_apple_id, country, offer_name,
               standard_duration, cancellation_reason,
               lower(btrim(COALESCE(event, ''))) AS n,
               COALESCE(lower(btrim(offer_type)) = 'free trial', false) AS free,
               quantity AS q,
               COALESCE(consecutive_paid_periods * quantity, 0) AS pp,
               CASE WHEN consecutive_paid_periods IS NULL THEN 0 ELSE quantity END AS qp,
               1 AS rows, report_date AS r0, report_date AS r1, event_date AS e0,
               event_date AS e1
        FROM subscription_event_rows
    """,
}
#: The monthly sums of the event rollup (``rollup.EVENT_MONTHS_INSERT``): read for the whole
#: calendar months of a monthly request, the same columns as ``_EVENT_SOURCES``.
_EVENT_MONTHS = """
    SELECT month AS bucket, app_apple_id, subscription_apple_id, country, offer_name,
           standard_duration, cancellation_reason, n, free, quantity AS q, paid_periods AS pp,
           quantity_with_periods AS qp, source_rows AS rows, first_report AS r0,
           last_report AS r1, first_event AS e0, last_event AS e1
    FROM subscription_event_month_rollup
"""


def whole_months(start: dt.date, end: dt.date) -> tuple[dt.date, dt.date] | None:
    """(first day, last day) of the calendar months wholly inside [start, end], if any."""
    first = start if start.day == 1 else calendar.month_end(start) + dt.timedelta(days=1)
    month = end.replace(day=1)
    last = end if end == calendar.month_end(month) else month - dt.timedelta(days=1)
    return (first, last) if first <= last else None


async def event_buckets(
    session: AsyncSession,
    scope: RowScope,
    *,
    start: dt.date,
    end: dt.date,
    granularity: str,
    dimensions: list[str],
    predicates: dict[str, str],
    source: str = "rollup",
) -> list[EventBucket]:
    """Σ Quantity per bucket and group of the events matching each named predicate.

    The rows are first summed per bucket and distinct stored values (hashing only); the
    trimming, lower-casing and the catalogue's predicates then run over those few sums."""
    sql, params = event_buckets_sql(
        scope,
        start=start,
        end=end,
        granularity=granularity,
        dimensions=dimensions,
        predicates=predicates,
        source=source,
    )
    rows = await session.execute(text(sql), params)
    return event_buckets_of(rows, dimensions, predicates)


def event_buckets_sql(
    scope: RowScope,
    *,
    start: dt.date,
    end: dt.date,
    granularity: str,
    dimensions: list[str],
    predicates: dict[str, str],
    source: str = "rollup",
) -> tuple[str, dict[str, Any]]:
    """``event_buckets``' statement and its parameters."""
    params: dict[str, Any] = {"start": start, "end": end, "granularity": granularity}
    selects, names = _groups(dimensions)
    raw = ", ".join(
        sorted({DIMENSIONS[d] for d in dimensions} | {"cancellation_reason", "offer_name"})
    )
    names_list = list(predicates)
    sums = "".join(
        f", COALESCE(sum(q) FILTER (WHERE {predicates[name]}), 0) AS m{i}"
        for i, name in enumerate(names_list)
    )
    rows = _EVENT_SOURCES[source].format(bucket=_bucket("event_date"))
    layer = _layer(source, scope, dimensions, params)
    where = f"{row_where(scope, params)} AND event_date BETWEEN :start AND :end {layer}"
    months = whole_months(start, end) if source == "rollup" and granularity == "month" else None
    if months is not None:
        # Whole calendar months from their monthly sums, the partial edges from the days.
        params.update(m_first=months[0], m_last=months[1])
        where += " AND event_date NOT BETWEEN :m_first AND :m_last"
        rows = f"""
            {_EVENT_MONTHS}
            WHERE {row_where(scope, params)} AND month BETWEEN :m_first AND :m_last {layer}
            UNION ALL
            {rows}
        """
    sql = f"""
        WITH s AS (
            {rows}
            WHERE {where}
        ),
        k AS (
            SELECT bucket, {raw}, n, free, sum(q) AS q, sum(pp) AS pp, sum(qp) AS qp,
                   sum(rows) AS rows, min(r0) AS r0, max(r1) AS r1, min(e0) AS e0,
                   max(e1) AS e1
            FROM s GROUP BY bucket, {raw}, n, free
        ),
        e AS (
            SELECT bucket{selects}, q, n, free,
                   lower(COALESCE(cancellation_reason, '')) AS reason,
                   COALESCE(btrim(offer_name), '') AS offer, pp, qp, rows, r0, r1, e0, e1
            FROM k
        )
        SELECT bucket{names}{sums},
               COALESCE(sum(pp) FILTER (WHERE n LIKE 'cancel%'), 0),
               COALESCE(sum(qp) FILTER (WHERE n LIKE 'cancel%'), 0),
               sum(rows), min(r0), max(r1), min(e0), max(e1)
        FROM e GROUP BY bucket{names}
    """  # noqa: S608  (identifiers from fixed maps and the catalogue; values are bound)
    return sql, params


def event_buckets_of(
    rows: Iterable[Sequence[Any]], dimensions: list[str], predicates: dict[str, str]
) -> list[EventBucket]:
    """``event_buckets_sql``'s rows as buckets."""
    names_list = list(predicates)
    width, many = len(dimensions), len(names_list)
    found = []
    for row in rows:
        tail = row[1 + width + many :]
        found.append(
            EventBucket(
                bucket=row[0],
                group=tuple(row[1 : 1 + width]),
                counts={name: int(row[1 + width + i]) for i, name in enumerate(names_list)},
                paid_periods=int(tail[0]),
                cancellations_with_periods=int(tail[1]),
                trace=Trace(int(tail[2]), tail[3], tail[4], tail[5], tail[6]),
            )
        )
    return found


# --- transactions ----------------------------------------------------------------------------


@dataclass
class TransactionBucket:
    bucket: dt.date
    group: tuple[str | None, ...]
    charges: int = 0
    refunds: int = 0
    payers: int = 0
    sales: dict[str | None, Decimal] = field(default_factory=dict)
    proceeds: dict[str | None, Decimal] = field(default_factory=dict)
    refunded: dict[str | None, Decimal] = field(default_factory=dict)
    refunded_proceeds: dict[str | None, Decimal] = field(default_factory=dict)
    payers_by_currency: dict[str | None, int] = field(default_factory=dict)
    trace: Trace = Trace(0, None, None)
    #: With ``by_day``: per money measure (``sales``, ``proceeds``, ``refunded``,
    #: ``refunded_proceeds``), (Event Date, currency, amount) — what conversion needs.
    daily: dict[str, list[tuple[dt.date, str | None, Decimal]]] = field(default_factory=dict)


def _add(totals: dict[str | None, Decimal], currency: str | None, amount: Any) -> None:
    if amount is not None:
        totals[currency] = totals.get(currency, Decimal(0)) + amount


async def transaction_buckets(
    session: AsyncSession,
    scope: RowScope,
    *,
    start: dt.date,
    end: dt.date,
    granularity: str,
    dimensions: list[str],
    distinct_payers: bool = True,
    source: str = "rollup",
    by_day: bool = False,
) -> list[TransactionBucket]:
    """Charges, refunds and their money per bucket, group and currency (from the per-day
    rollup, or the raw rows: the same answer), with the distinct paying Subscriber IDs per
    currency and over all currencies when ``distinct_payers`` (always from the raw rows:
    distinct IDs do not add up over days; without it payers read 0). ``by_day`` also keeps
    the money per Event Date (``daily``), in the same statement: conversion needs each day."""
    sql, params = transaction_buckets_sql(
        scope,
        start=start,
        end=end,
        granularity=granularity,
        dimensions=dimensions,
        source=source,
        by_day=by_day,
    )
    buckets: dict[tuple[Any, ...], TransactionBucket] = {}
    rows = await session.execute(text(sql), params)
    add_transactions(buckets, rows, len(dimensions), by_day=by_day)
    if distinct_payers:
        await _distinct_payers(session, scope, buckets, params, dimensions, source)
    return list(buckets.values())


def transaction_buckets_sql(
    scope: RowScope,
    *,
    start: dt.date,
    end: dt.date,
    granularity: str,
    dimensions: list[str],
    source: str = "rollup",
    by_day: bool = False,
) -> tuple[str, dict[str, Any]]:
    """``transaction_buckets``' statement (without the distinct payers) and its parameters."""
    params: dict[str, Any] = {"start": start, "end": end, "granularity": granularity}
    selects, names = _groups(dimensions)
    day = "event_date" if by_day else "CAST(NULL AS date)"
    per_day = "event_date, " if by_day else ""
    rows = _TRANSACTION_SOURCES[source].format(bucket=_bucket("event_date"), selects=selects)
    layer = _layer(source, scope, dimensions, params)
    where = f"{row_where(scope, params)} AND event_date BETWEEN :start AND :end {layer}"
    months = None
    if source == "rollup" and granularity == "month" and not by_day:
        months = whole_months(start, end)
    if months is not None:
        # Whole calendar months from their monthly sums, the partial edges from the days.
        params.update(m_first=months[0], m_last=months[1])
        where += " AND event_date NOT BETWEEN :m_first AND :m_last"
        rows = f"""
            {_TRANSACTION_MONTHS.format(selects=selects)}
            WHERE {row_where(scope, params)} AND month BETWEEN :m_first AND :m_last {layer}
            UNION ALL
            {rows}
        """
    sql = f"""
        WITH t AS (
            {rows}
            WHERE {where}
        )
        SELECT bucket{names}, cc, pc, GROUPING(cc, pc) AS total, {day} AS day,
               COALESCE(sum(rows) FILTER (WHERE NOT r), 0),
               COALESCE(sum(rows) FILTER (WHERE r), 0),
               sum(price) FILTER (WHERE NOT r), sum(proceeds) FILTER (WHERE NOT r),
               sum(abs_price) FILTER (WHERE r), sum(abs_proceeds) FILTER (WHERE r),
               sum(rows), min(r0), max(r1), min(e0), max(e1)
        FROM t
        GROUP BY GROUPING SETS ((bucket{names}, {per_day}cc, pc), (bucket{names}))
    """  # noqa: S608  (identifiers from fixed maps; values are bound)
    return sql, params


def add_transactions(
    buckets: dict[tuple[Any, ...], TransactionBucket],
    rows: Iterable[Sequence[Any]],
    width: int,
    *,
    by_day: bool = False,
) -> None:
    """``transaction_buckets_sql``'s rows added to ``buckets``."""
    for row in rows:
        key = (row[0], tuple(row[1 : 1 + width]))
        found = buckets.setdefault(key, TransactionBucket(bucket=row[0], group=key[1]))
        cc, pc, total = row[1 + width], row[2 + width], row[3 + width]
        v = row[5 + width :]
        if total:
            found.charges, found.refunds = int(v[0]), int(v[1])
            found.trace = Trace(int(v[6]), v[7], v[8], v[9], v[10])
            continue
        _add(found.sales, cc, v[2])
        _add(found.proceeds, pc, v[3])
        _add(found.refunded, cc, v[4])
        _add(found.refunded_proceeds, pc, v[5])
        if by_day:
            for measure, currency, amount in (
                ("sales", cc, v[2]),
                ("proceeds", pc, v[3]),
                ("refunded", cc, v[4]),
                ("refunded_proceeds", pc, v[5]),
            ):
                if amount is not None:
                    found.daily.setdefault(measure, []).append((row[4 + width], currency, amount))


_TRANSACTION_SOURCES = {
    "rollup": """
        SELECT {bucket} AS bucket{selects}, customer_currency AS cc, proceeds_currency AS pc,
               customer_price AS price, developer_proceeds AS proceeds,
               abs_customer_price AS abs_price, abs_developer_proceeds AS abs_proceeds,
               refund AS r, source_rows AS rows, report_date AS r0, report_date AS r1,
               event_date, event_date AS e0, event_date AS e1
        FROM subscriber_transaction_day_rollup
    """,
    "raw": f"""
        SELECT {{bucket}} AS bucket{{selects}}, customer_currency AS cc, proceeds_currency AS pc,
               customer_price AS price, developer_proceeds AS proceeds,
               abs(customer_price) AS abs_price, abs(developer_proceeds) AS abs_proceeds,
               {REFUND} AS r, 1 AS rows, report_date AS r0, report_date AS r1, event_date,
               event_date AS e0, event_date AS e1
        FROM subscriber_transaction_rows
    """,  # noqa: S608  (fixed SQL)
}
#: The monthly sums of the transaction rollup (``rollup.TRANSACTION_MONTHS_INSERT``): read for
#: the whole calendar months of a monthly request without per-day money.
_TRANSACTION_MONTHS = """
    SELECT month AS bucket{selects}, customer_currency AS cc, proceeds_currency AS pc,
           customer_price AS price, developer_proceeds AS proceeds,
           abs_customer_price AS abs_price, abs_developer_proceeds AS abs_proceeds,
           refund AS r, source_rows AS rows, first_report AS r0, last_report AS r1,
           CAST(NULL AS date) AS event_date, first_event AS e0, last_event AS e1
    FROM subscriber_transaction_month_rollup
"""


async def _distinct_payers(
    session: AsyncSession,
    scope: RowScope,
    buckets: dict[tuple[Any, ...], TransactionBucket],
    params: dict[str, Any],
    dimensions: list[str],
    source: str,
) -> None:
    """Distinct paying Subscriber IDs per (bucket, group, customer and proceeds currency, added
    up per proceeds currency) and per (bucket, group), from the raw charges: de-duplicated
    by hashing first, then counted (cheaper than ``count(DISTINCT …)``, which sorts every
    row)."""
    sql, precomputed = payers_sql(scope, params, dimensions, source)
    if not precomputed:
        await roomy(session)
    add_payers(buckets, await session.execute(text(sql), params), len(dimensions), precomputed)


def payers_sql(
    scope: RowScope, params: dict[str, Any], dimensions: list[str], source: str = "rollup"
) -> tuple[str, bool]:
    """The distinct payers' statement over ``params`` (``transaction_buckets_sql``'s), and
    whether it reads the monthly counts (``subscriber_payer_months``) or the raw rows."""
    if source == "rollup" and _whole_app_months(scope, params, dimensions):
        return _precomputed_payers_sql(scope, params), True
    selects, names = _groups(dimensions)
    sql = f"""
        WITH t AS MATERIALIZED (
            SELECT DISTINCT {_bucket("event_date")} AS bucket{selects},
                   customer_currency AS cc, proceeds_currency AS pc, subscriber_id AS sid
            FROM subscriber_transaction_rows
            WHERE {row_where(scope, params)} AND event_date BETWEEN :start AND :end
                  AND NOT {REFUND}
        )
        SELECT bucket{names}, pc, false, count(*) FROM t GROUP BY bucket{names}, cc, pc
        UNION ALL
        SELECT bucket{names}, NULL, true, count(*)
        FROM (SELECT DISTINCT bucket{names}, sid FROM t) AS u GROUP BY bucket{names}
    """  # noqa: S608  (identifiers from fixed maps; values are bound)
    return sql, False


def add_payers(
    buckets: dict[tuple[Any, ...], TransactionBucket],
    rows: Iterable[Sequence[Any]],
    width: int,
    precomputed: bool,
) -> None:
    """``payers_sql``'s rows added to ``buckets``."""
    if precomputed:
        for month, pc, total, count in rows:
            found = buckets.setdefault((month, ()), TransactionBucket(bucket=month, group=()))
            if total:
                found.payers = int(count)
            else:
                found.payers_by_currency[pc] = found.payers_by_currency.get(pc, 0) + int(count)
        return
    for row in rows:
        key = (row[0], tuple(row[1 : 1 + width]))
        found = buckets.setdefault(key, TransactionBucket(bucket=row[0], group=key[1]))
        pc, total, count = row[1 + width], row[2 + width], int(row[3 + width])
        if total:
            found.payers = count
        else:
            found.payers_by_currency[pc] = found.payers_by_currency.get(pc, 0) + count


def _whole_app_months(scope: RowScope, params: dict[str, Any], dimensions: list[str]) -> bool:
    """Whether the monthly payer counts (``subscriber_payer_months``) answer the request: one
    app of one account, no storefront filter, no grouping, whole calendar months."""
    start, end = params["start"], params["end"]
    return (
        (scope.app_id is not None or scope.filters.account_id is not None)
        and (scope.app_id is not None or scope.filters.app_apple_id is not None)
        and not scope.countries
        and not dimensions
        and params["granularity"] == "month"
        and start.day == 1
        and (end + dt.timedelta(days=1)).day == 1
    )


def _precomputed_payers_sql(scope: RowScope, params: dict[str, Any]) -> str:
    return f"""
        SELECT month, proceeds_currency, total, sum(payers)
        FROM subscriber_payer_months
        WHERE {row_where(scope, params)} AND month BETWEEN :start AND :end
        GROUP BY month, customer_currency, proceeds_currency, total
    """  # noqa: S608  (fixed SQL; values are bound)


# --- snapshot --------------------------------------------------------------------------------


@dataclass
class SnapshotDay:
    """Sums of the Subscription Report counts of one report date and group."""

    day: dt.date
    group: tuple[str | None, ...]
    counts: dict[str, int] = field(default_factory=dict)
    active_by_currency: dict[str | None, int] = field(default_factory=dict)
    #: (proceeds currency, duration) → (Σ in-MRR count × proceeds, in-MRR count, unpriced)
    mrr_parts: list[tuple[str | None, str | None, Decimal | None, int, int]] = field(
        default_factory=list
    )
    #: Currency → the estimated MRR (unrounded): ``metrics.MrrTotal`` over ``mrr_parts``.
    mrr: dict[str, Decimal] = field(default_factory=dict)
    rows: int = 0


#: Where snapshot sums are read from: the per-day rollup (``snapshot_rollup``), or the raw
#: rows (the same answer, kept for the property test that proves it).
_SNAPSHOT_TABLES = {
    "rollup": "subscription_snapshot_day_rollup",
    "raw": "subscription_snapshot_rows",
}


async def bucket_ends(
    session: AsyncSession,
    scope: RowScope,
    *,
    start: dt.date,
    end: dt.date,
    granularity: str,
    source: str = "rollup",
) -> dict[dt.date, dt.date]:
    """Bucket → the newest report date of the Subscription Report stored in it (in range).

    One ``max`` per bucket, each answered by walking the (workspace, report date) index back
    from the bucket's end, instead of grouping every snapshot row of the range."""
    sql, params = bucket_ends_sql(
        scope, start=start, end=end, granularity=granularity, source=source
    )
    return {row[0]: row[1] for row in await session.execute(text(sql), params)}


def bucket_ends_sql(
    scope: RowScope,
    *,
    start: dt.date,
    end: dt.date,
    granularity: str,
    source: str = "rollup",
) -> tuple[str, dict[str, Any]]:
    """``bucket_ends``' statement (rows: bucket, newest report date) and its parameters."""
    params: dict[str, Any] = {"start": start, "end": end, "granularity": granularity}
    step = "CAST('1 ' || CAST(:granularity AS text) AS interval)"
    sql = f"""
        SELECT bucket, newest FROM (
            SELECT CAST(b AS date) AS bucket, (
                SELECT max(report_date) FROM {_SNAPSHOT_TABLES[source]}
                WHERE {row_where(scope, params)} {_layer(source, scope, [], params)}
                      AND report_date BETWEEN GREATEST(CAST(b AS date), :start)
                                          AND LEAST(CAST(b + {step} AS date) - 1, :end)
            ) AS newest
            FROM generate_series(
                date_trunc(CAST(:granularity AS text), CAST(:start AS timestamp)),
                CAST(:end AS timestamp), {step}
            ) AS b
        ) AS ends
        WHERE newest IS NOT NULL
    """  # noqa: S608
    return sql, params


#: Per source: the base (Σ in-MRR count × proceeds), priced and unpriced in-MRR counts, and
#: source rows of one stored row, for ``snapshot_days`` to sum.
_SNAPSHOT_MRR = {
    "rollup": "mrr_base AS base, mrr_priced AS priced, mrr_unpriced AS unpriced, "
    "source_rows AS rows",
    "raw": "({in_mrr}) * developer_proceeds AS base, "
    "CASE WHEN developer_proceeds IS NULL THEN 0 ELSE ({in_mrr}) END AS priced, "
    "CASE WHEN developer_proceeds IS NULL THEN ({in_mrr}) ELSE 0 END AS unpriced, 1 AS rows",
}


async def snapshot_days(
    session: AsyncSession,
    scope: RowScope,
    *,
    days: list[dt.date],
    dimensions: list[str],
    source: str = "rollup",
) -> list[SnapshotDay]:
    """The count columns summed per (report date, group), for the given report dates: from the
    per-day rollup (``snapshot_rollup``), or the raw rows (``source="raw"``, the same answer)."""
    if not days:
        return []
    sql, params = snapshot_days_sql(scope, days=days, dimensions=dimensions, source=source)
    return snapshot_days_of(await session.execute(text(sql), params), dimensions)


def _day_list(more_days: str) -> str:
    """The report dates asked for (``:days``), and ``more_days``' (a subquery with a column
    ``newest``, evaluated once) when given."""
    if not more_days:
        return "CAST(:days AS date[])"
    return f"(CAST(:days AS date[]) || ARRAY(SELECT newest FROM ({more_days}) AS more))"  # noqa: S608


def snapshot_days_sql(
    scope: RowScope,
    *,
    days: list[dt.date],
    dimensions: list[str],
    source: str = "rollup",
    more_days: str = "",
) -> tuple[str, dict[str, Any]]:
    """``snapshot_days``' statement and its parameters; ``more_days``: a subquery of further
    report dates (a column ``newest``), evaluated once."""
    params: dict[str, Any] = {"days": days}
    selects, names = _groups(dimensions)
    day_list = _day_list(more_days)
    counts = "".join(f", COALESCE(sum({c}), 0)" for c in COUNT_COLUMNS)
    active = " + ".join(f"COALESCE({c}, 0)" for c in ACTIVE_COLUMNS)
    in_mrr = " + ".join(f"COALESCE({c}, 0)" for c in IN_MRR_COLUMNS)
    mrr = _SNAPSHOT_MRR[source].format(in_mrr=in_mrr)
    sql = f"""
        WITH s AS (
            SELECT report_date{selects}, proceeds_currency AS pc, standard_duration AS d,
                   {mrr}, ({active}) AS active, {", ".join(COUNT_COLUMNS)}
            FROM {_SNAPSHOT_TABLES[source]}
            WHERE {row_where(scope, params)} AND report_date = ANY({day_list})
                  {_layer(source, scope, dimensions, params)}
        )
        SELECT report_date{names}, pc, d{counts},
               COALESCE(sum(active), 0), sum(base),
               COALESCE(sum(priced), 0), COALESCE(sum(unpriced), 0), sum(rows)
        FROM s GROUP BY report_date{names}, pc, d
    """  # noqa: S608  (identifiers from fixed maps; values are bound)
    return sql, params


def snapshot_days_of(rows: Iterable[Sequence[Any]], dimensions: list[str]) -> list[SnapshotDay]:
    """``snapshot_days_sql``'s rows as report days."""
    width, many = len(dimensions), len(COUNT_COLUMNS)
    found: dict[tuple[Any, ...], SnapshotDay] = {}
    for row in rows:
        key = (row[0], tuple(row[1 : 1 + width]))
        day = found.setdefault(key, SnapshotDay(day=row[0], group=key[1]))
        currency, duration = row[1 + width], row[2 + width]
        values = row[3 + width :]
        for i, column in enumerate(COUNT_COLUMNS):
            day.counts[column] = day.counts.get(column, 0) + int(values[i])
        active, base, priced, unpriced, summed = values[many:]
        day.active_by_currency[currency] = day.active_by_currency.get(currency, 0) + int(active)
        day.mrr_parts.append((currency, duration, base, int(priced), int(unpriced)))
        day.rows += int(summed)
    for day in found.values():
        day.mrr = series_days.amounts_of(p[:3] for p in day.mrr_parts)
    return list(found.values())


def stored_days_answer(scope: RowScope, dimensions: list[str], by_currency: bool) -> bool:
    """Whether ``stored_days_sql`` answers a snapshot read: one app or one account, neither
    grouped nor filtered by storefront, and no count per proceeds currency needed (``arpu``;
    the stored days keep none). A workspace's MRR is not stored exactly (see ``series_days``)."""
    one_account = scope.filters.account_id is not None or scope.app_id is not None
    return one_account and not dimensions and not scope.countries and not by_currency


async def stored_days(
    session: AsyncSession, scope: RowScope, *, days: list[dt.date]
) -> list[SnapshotDay]:
    """``snapshot_days`` for a scope ``stored_days_answer`` admits, from the stored days."""
    if not days:
        return []
    sql, params = stored_days_sql(scope, days=days)
    return stored_days_of(await session.execute(text(sql), params))


def stored_days_sql(
    scope: RowScope, *, days: list[dt.date], more_days: str = ""
) -> tuple[str, dict[str, Any]]:
    """``snapshot_days_sql`` for a scope ``stored_days_answer`` admits, from the values stored
    per report date (``series_days``: the counts and MRR the units computed from the same
    rollup rows, in their transaction): one row per day instead of every rollup row.
    Rows: report date, the count sums (``COUNT_COLUMNS``), the source rows, and the MRR's
    currencies and unrounded amounts."""
    params: dict[str, Any] = {"days": days}
    day_list = _day_list(more_days)
    params["stored_by_app"] = scope.app_id is not None or scope.filters.app_apple_id is not None
    counts = "".join(f", COALESCE(c.{column}, 0)" for column in COUNT_COLUMNS)
    sql = f"""
        SELECT c.report_date{counts}, c.source_rows, m.currencies, m.amounts
        FROM {series_days.COUNTS_TABLE} AS c
        LEFT JOIN LATERAL (
            SELECT array_agg(proceeds_currency ORDER BY id) AS currencies,
                   array_agg(CAST(amount AS text) ORDER BY id) AS amounts
            FROM {series_days.TABLE}
            WHERE account_id = c.account_id AND report_date = c.report_date
                  AND by_app = c.by_app AND app_apple_id IS NOT DISTINCT FROM c.app_apple_id
        ) AS m ON true
        WHERE {row_where(scope, params)} AND by_app = :stored_by_app
              AND report_date = ANY({day_list})
    """  # noqa: S608  (identifiers from fixed maps; values are bound)
    return sql, params


def stored_days_of(rows: Iterable[Sequence[Any]]) -> list[SnapshotDay]:
    """``stored_days_sql``'s rows as report days (no parts or counts per currency)."""
    many = len(COUNT_COLUMNS)
    found = []
    for row in rows:
        counts = dict(zip(COUNT_COLUMNS, map(int, row[1 : 1 + many]), strict=True))
        # In currency order, as ``metrics.MrrTotal`` gives them; the amounts as text (asyncpg
        # decodes no numeric array inside a record), every digit kept.
        amounts = map(Decimal, row[3 + many] or [])
        mrr = dict(sorted(zip(row[2 + many] or [], amounts, strict=True)))
        found.append(SnapshotDay(day=row[0], group=(), counts=counts, mrr=mrr, rows=row[1 + many]))
    return found


# --- the rows behind a metric (traceability) -------------------------------------------------


@dataclass(frozen=True)
class SourceRow:
    dataset: str
    id: int
    report_date: dt.date
    event_date: dt.date | None
    subscription_apple_id: str | None
    country: str | None
    detail: dict[str, Any]
    count: Decimal  # the row's count or amount as the metric adds it
    currency: str | None
    duration: str | None = None
    #: The workspace's default reporting currency, read in the same statement (money rows).
    reporting_currency: str | None = None


_ROW_COLUMNS = "id, report_date, subscription_apple_id, country"


async def event_rows(
    session: AsyncSession,
    scope: RowScope,
    predicate: str,
    start: dt.date,
    end: dt.date,
    after: tuple[dt.date, int] | None,
    limit: int,
) -> list[SourceRow]:
    """Event rows with Event Date in range matching the metric's predicate, by (report date,
    id)."""
    params: dict[str, Any] = {"start": start, "end": end, "limit": limit}
    keyset = ""
    if after is not None:
        keyset = "AND (report_date, id) > (:after_day, :after_id)"
        params.update(after_day=after[0], after_id=after[1])
    sql = f"""
        SELECT * FROM (
            SELECT {_ROW_COLUMNS}, event_date, event, offer_type, offer_name,
                   cancellation_reason, consecutive_paid_periods, original_start_date, quantity,
                   quantity AS q,
                   lower(btrim(COALESCE(event, ''))) AS n,
                   COALESCE(lower(btrim(offer_type)) = 'free trial', false) AS free,
                   lower(COALESCE(cancellation_reason, '')) AS reason,
                   COALESCE(btrim(offer_name), '') AS offer
            FROM subscription_event_rows
            WHERE {row_where(scope, params)} AND event_date BETWEEN :start AND :end {keyset}
        ) AS e
        WHERE {predicate}
        ORDER BY report_date, id LIMIT :limit
    """  # noqa: S608  (the predicate is the catalogue's; values are bound)
    result = await session.execute(text(sql), params)
    return [
        SourceRow(
            dataset="subscription_events_daily",
            id=row.id,
            report_date=row.report_date,
            event_date=row.event_date,
            subscription_apple_id=row.subscription_apple_id,
            country=row.country,
            detail={
                "event": row.event,
                "offer_type": row.offer_type,
                "offer_name": row.offer_name,
                "cancellation_reason": row.cancellation_reason,
                "consecutive_paid_periods": row.consecutive_paid_periods,
                "original_start_date": row.original_start_date,
            },
            count=Decimal(row.quantity),
            currency=None,
        )
        for row in result
    ]


async def transaction_rows(
    session: AsyncSession,
    scope: RowScope,
    which: str,
    start: dt.date,
    end: dt.date,
    after: tuple[dt.date, int] | None,
    limit: int,
) -> list[SourceRow]:
    """Subscriber rows with Event Date in range: ``charges``, ``refunds`` or ``all``."""
    params: dict[str, Any] = {"start": start, "end": end, "limit": limit}
    refund = "(COALESCE(refund, false) OR COALESCE(customer_price, 0) < 0)"
    pick = {"charges": f"AND NOT {refund}", "refunds": f"AND {refund}", "all": ""}[which]
    keyset = ""
    if after is not None:
        keyset = "AND (report_date, id) > (:after_day, :after_id)"
        params.update(after_day=after[0], after_id=after[1])
    sql = f"""
        SELECT {_ROW_COLUMNS}, event_date, subscriber_id, subscriber_id_reset, {refund} AS r,
               purchase_date, customer_price, customer_currency, developer_proceeds,
               proceeds_currency, offer_name, {DEFAULT_CURRENCY_SQL} AS reporting_currency
        FROM subscriber_transaction_rows
        WHERE {row_where(scope, params)} AND event_date BETWEEN :start AND :end {pick} {keyset}
        ORDER BY report_date, id LIMIT :limit
    """  # noqa: S608  (fixed fragments; values are bound)
    result = await session.execute(text(sql), params)
    return [
        SourceRow(
            dataset="subscribers_daily",
            id=row.id,
            report_date=row.report_date,
            event_date=row.event_date,
            subscription_apple_id=row.subscription_apple_id,
            country=row.country,
            detail={
                "subscriber_id": row.subscriber_id,
                "subscriber_id_reset": row.subscriber_id_reset,
                "refund": row.r,
                "purchase_date": row.purchase_date,
                "customer_price": row.customer_price,
                "customer_currency": row.customer_currency,
                "developer_proceeds": row.developer_proceeds,
                "proceeds_currency": row.proceeds_currency,
                "offer_name": row.offer_name,
            },
            count=Decimal(1),
            currency=None,
            reporting_currency=row.reporting_currency,
        )
        for row in result
    ]


async def snapshot_rows(
    session: AsyncSession,
    scope: RowScope,
    columns: tuple[str, ...],
    days: list[dt.date],
    after: tuple[dt.date, int] | None,
    limit: int,
) -> list[SourceRow]:
    """Subscription Report rows of the given report dates with a non-zero count in
    ``columns`` (names from the fixed count-column list)."""
    params: dict[str, Any] = {"days": days, "limit": limit}
    total = " + ".join(f"COALESCE({c}, 0)" for c in columns if c in COUNT_COLUMNS)
    keyset = ""
    if after is not None:
        keyset = "AND (report_date, id) > (:after_day, :after_id)"
        params.update(after_day=after[0], after_id=after[1])
    sql = f"""
        SELECT {_ROW_COLUMNS}, ({total}) AS total, standard_duration, developer_proceeds,
               proceeds_currency, offer_name, customer_price, customer_currency,
               {DEFAULT_CURRENCY_SQL} AS reporting_currency
        FROM subscription_snapshot_rows
        WHERE {row_where(scope, params)} AND report_date = ANY(CAST(:days AS date[]))
              AND ({total}) <> 0 {keyset}
        ORDER BY report_date, id LIMIT :limit
    """  # noqa: S608  (fixed column names; values are bound)
    result = await session.execute(text(sql), params)
    return [
        SourceRow(
            dataset="subscriptions_daily",
            id=row.id,
            report_date=row.report_date,
            event_date=None,
            subscription_apple_id=row.subscription_apple_id,
            country=row.country,
            detail={
                "standard_duration": row.standard_duration,
                "offer_name": row.offer_name,
                "customer_price": row.customer_price,
                "customer_currency": row.customer_currency,
                "developer_proceeds": row.developer_proceeds,
                "proceeds_currency": row.proceeds_currency,
            },
            count=Decimal(row.total),
            currency=row.proceeds_currency,
            duration=row.standard_duration,
            reporting_currency=row.reporting_currency,
        )
        for row in result
    ]


# --- MRR movements (Subscriber Report) -------------------------------------------------------

MOVEMENTS = ("new", "reactivation", "expansion", "contraction", "churned", "closing")


@dataclass(frozen=True)
class MovementRow:
    bucket: dt.date
    group: tuple[str | None, ...]
    currency: str | None
    amounts: dict[str, Decimal]


async def mrr_movements(
    session: AsyncSession,
    scope: RowScope,
    *,
    buckets: list[tuple[dt.date, dt.date, dt.date]],
    dimensions: list[str],
    source: str = "precomputed",
) -> list[MovementRow]:
    """Per (bucket, first day in range, last day in range): each subscriber's (Subscriber ID of
    one app of one account) monthly proceeds at the end of the day before the bucket (``a``)
    and at its end (``z``) — from the newest charge, not refunded, whose period covers that
    day — classified and summed per group and proceeds currency, each subscriber in the group
    of its charge at ``z`` (else at ``a``). A storefront filter keeps the subscribers whose
    charge there is in one of the storefronts (as ``group_by=country`` splits them).

    Whole calendar months read the monthly sums of ``subscriber_rollup`` (the same answer),
    for one app or several (a subscriber is in one app: the apps' sums add up); other spans
    its sums per day and ISO week, or its per-subscriber changes (``movement_spans``);
    ``source="raw"`` (for the test that proves it), the rows. A charge is refunded
    by a refund row of its Subscriber ID dated any time (as cohorts); two charges of one ID
    with one Event Date covering a day: the one stored last. Rows without an App Apple ID
    are in no subscriber's history."""
    if not buckets:
        return []
    if source == "precomputed" and subscriber_rollup.groupable(dimensions):
        if all(first.day == 1 and last == calendar.month_end(first) for _, first, last in buckets):
            return await _month_movements(session, scope, buckets, dimensions)
        return await _span_movements(session, scope, buckets, dimensions)
    params: dict[str, Any] = {
        "b": [b for b, _, _ in buckets],
        "o": [first - dt.timedelta(days=1) for _, first, _ in buckets],
        "e": [last for _, _, last in buckets],
    }
    params["points"] = sorted(set(params["o"]) | set(params["e"]))
    selects, names = _groups(dimensions)
    picked = "".join(
        f", (array_agg(s.g{i} ORDER BY s.at DESC))[1] AS g{i}" for i in range(len(dimensions))
    )
    # The storefront filter picks subscribers by their charge's storefront, not rows: the
    # history of a subscriber is all of its app's rows.
    everywhere = replace(scope, countries=())
    storefront = ""
    if scope.countries:
        params["m_countries"] = list(scope.countries)
        storefront = "WHERE mv.gc = ANY(CAST(:m_countries AS text[]))"
    key = "account_id, app_apple_id, sid"
    sql = f"""
        WITH raw AS (
            SELECT id, account_id, app_apple_id, btrim(subscriber_id) AS sid, event_date AS d,
                   purchase_date, standard_duration AS dur, developer_proceeds AS p,
                   proceeds_currency AS pc, NULLIF(btrim(country), '') AS gc{selects},
                   COALESCE(NULLIF(substring(standard_duration from '\\d+'), ''), '0')::int AS n,
                   (COALESCE(refund, false) OR COALESCE(customer_price, 0) < 0) AS r
            FROM subscriber_transaction_rows
            WHERE {row_where(everywhere, params)} AND app_apple_id IS NOT NULL
                  AND NULLIF(btrim(subscriber_id), '') IS NOT NULL AND event_date IS NOT NULL
        ),
        t AS (
            SELECT raw.*, min(d) FILTER (WHERE NOT r) OVER (PARTITION BY {key}) AS first
            FROM raw
        ),
        charge AS (
            SELECT t.*, (t.d + {subscriber_rollup.SPAN})::date AS until,
                   {subscriber_rollup.MONTHLY} AS m
            FROM t
            WHERE NOT t.r AND NOT EXISTS (
                SELECT 1 FROM t AS back
                WHERE back.r AND back.account_id = t.account_id
                      AND back.app_apple_id = t.app_apple_id AND back.sid = t.sid
                      AND back.purchase_date = t.d
            )
        ),
        pairs AS (
            SELECT * FROM unnest(CAST(:b AS date[]), CAST(:o AS date[]), CAST(:e AS date[]))
                AS x(b, o, e)
        ),
        -- The points a charge covers (d <= point < until), found by position in the sorted
        -- points (width_bucket counts the points <= a date), not by testing every point.
        cover AS (
            SELECT DISTINCT ON (at, ch.account_id, ch.app_apple_id, ch.sid)
                   (CAST(:points AS date[]))[i] AS at, ch.account_id, ch.app_apple_id, ch.sid,
                   ch.pc, ch.m, ch.first, ch.gc{names.replace("g", "ch.g")}
            FROM charge AS ch
            CROSS JOIN LATERAL generate_series(
                width_bucket(ch.d - 1, CAST(:points AS date[])) + 1,
                width_bucket(ch.until - 1, CAST(:points AS date[]))
            ) AS i
            WHERE ch.m IS NOT NULL
            ORDER BY at, ch.account_id, ch.app_apple_id, ch.sid, ch.d DESC, ch.id DESC
        ),
        sides AS (
            SELECT p.b, p.o, c.*, c.m AS a, NULL::numeric AS z
            FROM pairs AS p JOIN cover AS c ON c.at = p.o
            UNION ALL
            SELECT p.b, p.o, c.*, NULL::numeric AS a, c.m AS z
            FROM pairs AS p JOIN cover AS c ON c.at = p.e
        ),
        moves AS (
            SELECT s.b, s.o, max(s.a) AS a, max(s.z) AS z, min(s.first) AS first,
                   (array_agg(s.pc ORDER BY s.at DESC))[1] AS pc,
                   (array_agg(s.gc ORDER BY s.at DESC))[1] AS gc{picked}
            FROM sides AS s
            GROUP BY s.b, s.o, s.account_id, s.app_apple_id, s.sid
        )
        SELECT mv.b{names.replace("g", "mv.g")}, mv.pc,
               COALESCE(sum(z) FILTER (WHERE a IS NULL AND mv.first > mv.o), 0),
               COALESCE(sum(z) FILTER (WHERE a IS NULL AND mv.first <= mv.o), 0),
               COALESCE(sum(z - a) FILTER (WHERE z > a), 0),
               COALESCE(sum(a - z) FILTER (WHERE z < a), 0),
               COALESCE(sum(a) FILTER (WHERE z IS NULL), 0),
               COALESCE(sum(z), 0)
        FROM moves AS mv
        {storefront}
        GROUP BY mv.b{names.replace("g", "mv.g")}, mv.pc
    """  # noqa: S608  (identifiers from fixed maps; values are bound)
    width = len(dimensions)
    return [
        MovementRow(
            bucket=row[0],
            group=tuple(row[1 : 1 + width]),
            currency=row[1 + width],
            amounts=dict(zip(MOVEMENTS, row[2 + width :], strict=True)),
        )
        for row in await session.execute(text(sql), params)
    ]


def movement_where(scope: RowScope, params: dict[str, Any]) -> str:
    """``scope`` over ``subscriber_mrr_movement_months``: its account(s) and app(s), and a
    storefront filter on the storefront of the subscribers' charges (``g_country``)."""
    sql = row_where(replace(scope, countries=()), params)
    if scope.countries:
        sql += " AND g_country = ANY(CAST(:m_countries AS text[]))"
        params["m_countries"] = list(scope.countries)
    return sql


async def _month_movements(
    session: AsyncSession,
    scope: RowScope,
    buckets: list[tuple[dt.date, dt.date, dt.date]],
    dimensions: list[str],
) -> list[MovementRow]:
    bucket_of = {first: b for b, first, _ in buckets}
    params: dict[str, Any] = {}
    where = movement_where(scope, params)
    rows = await subscriber_rollup.movement_months(
        session, where, params, min(bucket_of), max(bucket_of), dimensions
    )
    return [
        MovementRow(
            bucket=bucket_of[row.month], group=row.group, currency=row.currency, amounts=row.amounts
        )
        for row in rows
        if row.month in bucket_of
    ]


async def _span_movements(
    session: AsyncSession,
    scope: RowScope,
    buckets: list[tuple[dt.date, dt.date, dt.date]],
    dimensions: list[str],
) -> list[MovementRow]:
    params: dict[str, Any] = {}
    where = movement_where(scope, params)
    changes_where = row_where(replace(scope, countries=()), params)
    rows = await subscriber_rollup.movement_spans(
        session, where, changes_where, params, buckets, dimensions, bool(scope.countries)
    )
    return [
        MovementRow(bucket=row.month, group=row.group, currency=row.currency, amounts=row.amounts)
        for row in rows
    ]

"""SQL for sales: the daily rollup and the queries behind the sales API."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, text, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import SalesRow
from app.sales.schemas import SalesFilter

#: Rows with 0 units and money (FACTS §8: a real IAY row has Units 0, Customer Price −85.43,
#: Developer Proceeds 59.80): units × proceeds drops their money, so it is summed apart, as
#: given back (negative, like a refund's line amounts). Over ``sales_rows`` aliased ``s``.
PARTIAL_REFUND = (
    "s.units = 0 AND (COALESCE(s.developer_proceeds, 0) <> 0 OR COALESCE(s.customer_price, 0) <> 0)"
)
PARTIAL_REFUND_SUMS = f"""
    count(*) FILTER (WHERE {PARTIAL_REFUND}) AS partial_refunds,
    COALESCE(-sum(abs(s.developer_proceeds)) FILTER (WHERE {PARTIAL_REFUND}), 0)
        AS partial_refund_proceeds,
    COALESCE(-sum(abs(s.customer_price)) FILTER (WHERE {PARTIAL_REFUND}), 0)
        AS partial_refund_customer"""


async def rebuild_daily_rollup(
    session: AsyncSession, account_id: uuid.UUID, report_date: dt.date
) -> None:
    """Re-aggregate one account-day from ``sales_rows``; runs in the unit's transaction."""
    params = {"a": account_id, "d": report_date}
    await session.execute(
        text("DELETE FROM sales_daily_rollup WHERE account_id = :a AND report_date = :d"), params
    )
    await session.execute(
        text(
            f"""
            INSERT INTO sales_daily_rollup (
                workspace_id, account_id, report_date, app_id, app_apple_id, product, sku,
                country_code, device, platform, unit_kind, proceeds_currency, customer_currency,
                units_in, refunds, net_units, proceeds, customer_sales, partial_refunds,
                partial_refund_proceeds, partial_refund_customer)
            SELECT account.workspace_id, account.id, CAST(:d AS date), g.app_id, a.apple_id,
                   g.apple_identifier, g.sku, g.country_code, g.device, g.platform,
                   g.unit_kind, g.proceeds_currency, g.customer_currency,
                   g.units_in, g.refunds, g.net_units, g.proceeds, g.customer_sales,
                   g.partial_refunds, g.partial_refund_proceeds, g.partial_refund_customer
            FROM (
                -- Only the varying columns are grouping keys (the account and day are fixed,
                -- the app's Apple id follows from the app): half the sort work of a 1M-row day.
                SELECT s.app_id, s.apple_identifier, s.sku, s.country_code, s.device,
                       s.platform, s.unit_kind, s.proceeds_currency, s.customer_currency,
                       COALESCE(sum(s.units) FILTER (WHERE s.units > 0), 0) AS units_in,
                       COALESCE(-sum(s.units) FILTER (WHERE s.units < 0), 0) AS refunds,
                       sum(s.units) AS net_units,
                       sum(s.units * COALESCE(s.developer_proceeds, 0)) AS proceeds,
                       sum(s.units * abs(COALESCE(s.customer_price, 0))) AS customer_sales,
                       {PARTIAL_REFUND_SUMS}
                FROM sales_rows s
                WHERE s.account_id = :a AND s.frequency = 'DAILY' AND s.report_date = :d
                GROUP BY s.app_id, s.apple_identifier, s.sku, s.country_code, s.device,
                         s.platform, s.unit_kind, s.proceeds_currency, s.customer_currency
            ) AS g
            JOIN asc_accounts AS account ON account.id = :a
            LEFT JOIN apps AS a ON a.id = g.app_id
            """  # noqa: S608  (fixed SQL; values are bound)
        ),
        params,
    )


# --- queries behind the sales API -------------------------------------------------------------

#: Rollup column of each ``group_by`` dimension (keys are ``Dimension`` values).
DIMENSION_COLUMNS = {
    "account": "account_id",
    "app": "app_id",
    "product": "product",
    "country": "country_code",
    "device": "device",
    "unit_kind": "unit_kind",
    "platform": "platform",
}
BUCKETS = {
    "day": "r.report_date",
    "week": "CAST(date_trunc('week', CAST(r.report_date AS timestamp)) AS date)",
    "month": "CAST(date_trunc('month', CAST(r.report_date AS timestamp)) AS date)",
    "year": "CAST(date_trunc('year', CAST(r.report_date AS timestamp)) AS date)",
}
#: Measure name → the unit kind whose positive units it counts.
KIND_MEASURES = {
    "first_time_downloads": "first_time_download",
    "redownloads": "redownload",
    "updates": "update",
    "iap_units": "iap",
    "subscription_units": "subscription",
    "restores": "restore",
}


_FILTER_COLUMNS = (
    ("account_ids", "account_id", "uuid"),
    ("app_ids", "app_id", "uuid"),
    ("skus", "sku", "text"),
    ("countries", "country_code", "text"),
    ("devices", "device", "text"),
    ("unit_kinds", "unit_kind", "text"),
    ("platforms", "platform", "text"),
)


def _filter_sql(filters: SalesFilter, alias: str, params: dict[str, Any]) -> str:
    clauses = []
    for attribute, column, sql_type in _FILTER_COLUMNS:
        values = getattr(filters, attribute)
        if len(values) == 1:  # plain equality gives the planner exact estimates
            clauses.append(f"{alias}.{column} = :f_{attribute}")
            params[f"f_{attribute}"] = values[0]
        elif values:
            clauses.append(f"{alias}.{column} = ANY(CAST(:f_{attribute} AS {sql_type}[]))")
            params[f"f_{attribute}"] = values
    return "".join(f" AND {clause}" for clause in clauses)


@dataclass(frozen=True)
class AggregateRow:
    bucket: dt.date
    group: tuple[str | None, ...]  # one value per requested dimension, in request order
    counts: dict[str, int]  # KIND_MEASURES keys, refunds, net_units
    # (currency, amount as decimal text): one entry per currency with a non-zero total,
    # sorted by currency, null (Apple left it empty) last.
    proceeds: list[tuple[str | None, str]]
    customer_sales: list[tuple[str | None, str]]
    partial_refund_proceeds: list[tuple[str | None, str]] = field(default_factory=list)
    partial_refund_customer: list[tuple[str | None, str]] = field(default_factory=list)
    # With ``by_day``: (report date, proceeds currency, proceeds, customer currency, customer
    # sales) per day and currency pair, for conversion at each day's rate.
    daily: list[tuple[dt.date, str | None, Any, str | None, Any]] | None = None

    def sort_key(self) -> list[Any]:
        """The keyset position of this row (what ``aggregate``'s ``after`` takes)."""
        key: list[Any] = [self.bucket.isoformat()]
        for value in self.group:
            key += [value is None, value or ""]
        return key


COUNTS = (*KIND_MEASURES, "refunds", "net_units", "partial_refunds")
# One row's money per currency: non-zero totals as decimal text, by currency, null last.
_CURRENCY_TOTALS = """
    SELECT array_agg(currency ORDER BY currency COLLATE "C" NULLS LAST) AS currencies,
           array_agg(CAST(total AS text) ORDER BY currency COLLATE "C" NULLS LAST) AS amounts
    FROM (SELECT currency, sum(amount) AS total
          FROM unnest(grouped.{currencies}, grouped.{amounts}) AS pair(currency, amount)
          GROUP BY currency) AS per_currency
    WHERE total <> 0
"""


async def aggregate(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    *,
    start: dt.date,
    end: dt.date,
    granularity: str,
    dimensions: list[str],
    filters: SalesFilter,
    after: list[Any] | None,
    limit: int,
    by_day: bool = False,
) -> list[AggregateRow]:
    """Sum the daily rollup per calendar bucket and group, ordered by bucket then each group
    value (nulls last); ``after`` is the ``sort_key`` of the last row of the previous page.

    ``base`` sums per (bucket, group, proceeds currency, customer currency); ``grouped`` per
    (bucket, group), carrying the per-currency-pair money as arrays; the lateral subqueries
    total those per currency, so currencies never mix and the API has nothing left to add.
    ``by_day`` keeps each report date apart in ``base`` and returns the per-day money too.
    """
    params: dict[str, Any] = {"ws": workspace_id, "start": start, "end": end, "limit": limit}
    groups = [f"g{n}" for n in range(len(dimensions))]
    inner_groups = "".join(
        f", CAST(r.{DIMENSION_COLUMNS[d]} AS text) AS {g}"
        for d, g in zip(dimensions, groups, strict=True)
    )
    kind_sums = "".join(
        f", sum(r.units_in) FILTER (WHERE r.unit_kind = '{kind}') AS {measure}"
        for measure, kind in KIND_MEASURES.items()
    )
    order = ["bucket"]
    for g in groups:
        order += [f"({g} IS NULL)", f"COALESCE({g}, '') COLLATE \"C\""]
    keyset = ""
    if after is not None:
        placeholders = []
        for n, value in enumerate(after):
            params[f"k{n}"] = dt.date.fromisoformat(value) if n == 0 else value
            placeholders.append(f":k{n}")
        keyset = f"WHERE ({', '.join(order)}) > ({', '.join(placeholders)})"
        # Lets the scan skip days before the cursor's bucket instead of grouping them again.
        params["start"] = max(start, params["k0"])
    keys = "bucket" + "".join(f", {g}" for g in groups)
    counts = ", ".join(f"CAST(COALESCE(sum({m}), 0) AS bigint) AS {m}" for m in COUNTS)
    day_column = ", r.report_date AS day" if by_day else ""
    day_group = ", r.report_date" if by_day else ""
    day_array = ", array_agg(day) AS ds" if by_day else ""
    day_select = (
        ", grouped.ds, grouped.pcs, grouped.pas, grouped.ccs, grouped.cas" if by_day else ""
    )
    sql = f"""
        WITH base AS (
            SELECT {BUCKETS[granularity]} AS bucket{inner_groups},
                   r.proceeds_currency, r.customer_currency{day_column}{kind_sums},
                   sum(r.refunds) AS refunds, sum(r.net_units) AS net_units,
                   sum(r.proceeds) AS proceeds, sum(r.customer_sales) AS customer_sales,
                   sum(r.partial_refunds) AS partial_refunds,
                   sum(r.partial_refund_proceeds) AS partial_refund_proceeds,
                   sum(r.partial_refund_customer) AS partial_refund_customer
            FROM sales_daily_rollup AS r
            WHERE r.workspace_id = :ws AND r.report_date BETWEEN :start AND :end
                  {_filter_sql(filters, "r", params)}
            GROUP BY 1{"".join(f", {n + 2}" for n in range(len(groups)))},
                     r.proceeds_currency, r.customer_currency{day_group}
        ), grouped AS (
            SELECT {keys}, {counts},
                   array_agg(proceeds_currency) AS pcs, array_agg(proceeds) AS pas,
                   array_agg(customer_currency) AS ccs, array_agg(customer_sales) AS cas,
                   array_agg(partial_refund_proceeds) AS rps,
                   array_agg(partial_refund_customer) AS rcs
                   {day_array}
            FROM base
            {keyset}
            GROUP BY {keys}
            ORDER BY {", ".join(order)}
            LIMIT :limit
        )
        SELECT {keys}, {", ".join(COUNTS)}, p.currencies, p.amounts, c.currencies, c.amounts,
               rp.currencies, rp.amounts, rc.currencies, rc.amounts
               {day_select}
        FROM grouped
        CROSS JOIN LATERAL ({_CURRENCY_TOTALS.format(currencies="pcs", amounts="pas")}) AS p
        CROSS JOIN LATERAL ({_CURRENCY_TOTALS.format(currencies="ccs", amounts="cas")}) AS c
        CROSS JOIN LATERAL ({_CURRENCY_TOTALS.format(currencies="pcs", amounts="rps")}) AS rp
        CROSS JOIN LATERAL ({_CURRENCY_TOTALS.format(currencies="ccs", amounts="rcs")}) AS rc
        ORDER BY {", ".join(order)}
    """  # noqa: S608  (every identifier comes from the fixed maps above; values are bound)
    result = await session.execute(text(sql), params)
    money = 1 + len(groups) + len(COUNTS)  # first money column
    return [
        AggregateRow(
            bucket=row[0],
            group=tuple(row[1 : 1 + len(groups)]),
            counts=dict(zip(COUNTS, row[1 + len(groups) : money], strict=True)),
            proceeds=list(zip(row[money] or (), row[money + 1] or (), strict=True)),
            customer_sales=list(zip(row[money + 2] or (), row[money + 3] or (), strict=True)),
            partial_refund_proceeds=list(
                zip(row[money + 4] or (), row[money + 5] or (), strict=True)
            ),
            partial_refund_customer=list(
                zip(row[money + 6] or (), row[money + 7] or (), strict=True)
            ),
            daily=list(zip(*row[money + 8 : money + 13], strict=True)) if by_day else None,
        )
        for row in result
    ]


async def list_rows(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    *,
    frequency: str,
    start: dt.date | None,
    end: dt.date | None,
    filters: SalesFilter,
    after: tuple[dt.date, int] | None,
    limit: int,
) -> list[SalesRow]:
    """Rows in (report_date, id) order — the order of ``ix_sales_rows_workspace_date``."""
    statement = select(SalesRow).where(
        SalesRow.workspace_id == workspace_id, SalesRow.frequency == frequency
    )
    if start is not None:
        statement = statement.where(SalesRow.report_date >= start)
    if end is not None:
        statement = statement.where(SalesRow.report_date <= end)
    for attribute, column, _ in _FILTER_COLUMNS:
        values = getattr(filters, attribute)
        if values:
            statement = statement.where(getattr(SalesRow, column).in_(values))
    if after is not None:
        statement = statement.where(tuple_(SalesRow.report_date, SalesRow.id) > tuple_(*after))
    statement = statement.order_by(SalesRow.report_date, SalesRow.id).limit(limit)
    return list(await session.scalars(statement))


async def link_rows_to_apps(session: AsyncSession, account_id: uuid.UUID) -> list[dt.date]:
    """Give rows loaded before their app was in the catalog their ``app_id`` now.

    Units run in any order (a report day can land before the account's first app list, or a
    new app's first sales before the next catalog refresh), so the catalog calls this after
    each refresh; the days touched get their rollup rebuilt. Returns those DAILY days.
    """
    result = await session.execute(
        text(
            """
            UPDATE sales_rows AS s SET app_id = matched.app_id
            FROM (
                SELECT r.id AS row_id, COALESCE(direct.id, parent.id) AS app_id
                FROM sales_rows AS r
                LEFT JOIN apps AS direct
                    ON direct.account_id = :a AND direct.apple_id = r.apple_identifier
                LEFT JOIN (SELECT DISTINCT ON (sku) id, sku FROM apps WHERE account_id = :a
                           ORDER BY sku, removed_at NULLS FIRST, id) AS parent
                    ON parent.sku = r.parent_identifier
                WHERE r.account_id = :a AND r.app_id IS NULL
            ) AS matched
            WHERE s.id = matched.row_id AND matched.app_id IS NOT NULL
            RETURNING s.frequency, s.report_date
            """
        ),
        {"a": account_id},
    )
    days = sorted({day for frequency, day in result if frequency == "DAILY"})
    for day in days:
        await rebuild_daily_rollup(session, account_id, day)
    return days

"""SQL behind ``/v1/sales?granularity=year``: each (account, year) from exactly one source.

Apple keeps daily files for a year but yearly files for ten (FACTS §5.7), so a year is read
from the account's yearly SALES file (``sales_rows`` with frequency ``YEARLY``) when that file
is a fact (``published`` or Apple's "no data") and the query covers the whole year; otherwise
from the daily rollup, as every other granularity. The choice is per (account, year) and the
two sources are never added for the same one: a year's yearly file already holds its days.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.sales.planner import COLUMNS as DIMENSION_COLUMNS
from app.sales.repository import (
    COUNTS,
    KIND_MEASURES,
    PARTIAL_REFUND,
    AggregateRow,
    _filter_sql,
)
from app.sales.schemas import SalesFilter

YEARLY_DATASET = "sales_yearly"
FACT_STATES = ("published", "no_data")

#: ``sales_rows`` column of each dimension where it differs from the rollup's.
_ROW_COLUMNS = {**DIMENSION_COLUMNS, "product": "apple_identifier"}
_YEAR_OF = "CAST(date_trunc('year', CAST({0} AS timestamp)) AS date)"
#: The rate date of a yearly file's money (Apple does not split it by day): the year's last day.
_YEAR_END = "CAST(s.report_date + interval '1 year' - interval '1 day' AS date)"


@dataclass(slots=True)
class YearRow(AggregateRow):
    """A year bucket's measures and where they came from (``yearly``, ``daily``, ``mixed``)."""

    source: str = "daily"


def full_years(start: dt.date, end: dt.date) -> list[dt.date]:
    """First days of the calendar years lying wholly inside [start, end]."""
    return [
        dt.date(year, 1, 1)
        for year in range(start.year, end.year + 1)
        if dt.date(year, 1, 1) >= start and dt.date(year, 12, 31) <= end
    ]


async def yearly_facts(
    session: AsyncSession, workspace_id: uuid.UUID, years: list[dt.date]
) -> set[tuple[uuid.UUID, dt.date]]:
    """(account, year) pairs of the workspace whose yearly SALES file is a fact."""
    if not years:
        return set()
    result = await session.execute(
        text(
            """
            SELECT av.account_id, av.report_date
            FROM dataset_availability AS av
            JOIN asc_accounts AS account ON account.id = av.account_id
            WHERE account.workspace_id = :ws AND av.dataset = :dataset
              AND av.state IN ('published', 'no_data')
              AND av.report_date = ANY(CAST(:years AS date[]))
            """
        ),
        {"ws": workspace_id, "dataset": YEARLY_DATASET, "years": years},
    )
    return {(row.account_id, row.report_date) for row in result}


def _source_sql(dimensions: list[str], filters: SalesFilter, params: dict[str, Any]) -> str:
    """Rollup-shaped lines: the yearly rows of account-years with a yearly fact, and the
    daily rollup of every other account-year in the range."""
    groups = [f"g{n}" for n in range(len(dimensions))]
    yearly_groups = "".join(
        f", CAST(s.{_ROW_COLUMNS[d]} AS text) AS {g}"
        for d, g in zip(dimensions, groups, strict=True)
    )
    daily_groups = "".join(
        f", CAST(r.{DIMENSION_COLUMNS[d]} AS text) AS {g}"
        for d, g in zip(dimensions, groups, strict=True)
    )
    partial = PARTIAL_REFUND
    return f"""
        facts AS (
            SELECT av.account_id, av.report_date AS year
            FROM dataset_availability AS av
            JOIN asc_accounts AS account ON account.id = av.account_id
            WHERE account.workspace_id = :ws AND av.dataset = '{YEARLY_DATASET}'
              AND av.state IN {FACT_STATES}
              AND av.report_date = ANY(CAST(:years AS date[]))
        ), src AS (
            SELECT s.report_date AS bucket{yearly_groups}, s.proceeds_currency,
                   s.customer_currency, {_YEAR_END} AS day, s.unit_kind,
                   GREATEST(s.units, 0) AS units_in, GREATEST(-s.units, 0) AS refunds,
                   s.units AS net_units,
                   s.units * COALESCE(s.developer_proceeds, 0) AS proceeds,
                   s.units * abs(COALESCE(s.customer_price, 0)) AS customer_sales,
                   CASE WHEN {partial} THEN 1 ELSE 0 END AS partial_refunds,
                   CASE WHEN {partial} THEN -abs(COALESCE(s.developer_proceeds, 0)) ELSE 0 END
                       AS partial_refund_proceeds,
                   CASE WHEN {partial} THEN -abs(COALESCE(s.customer_price, 0)) ELSE 0 END
                       AS partial_refund_customer,
                   true AS yearly
            FROM sales_rows AS s
            JOIN facts AS f ON f.account_id = s.account_id AND f.year = s.report_date
            WHERE s.workspace_id = :ws AND s.frequency = 'YEARLY'
                  {_filter_sql(filters, "s", params)}
            UNION ALL
            SELECT {_YEAR_OF.format("r.report_date")}{daily_groups}, r.proceeds_currency,
                   r.customer_currency, r.report_date, r.unit_kind, r.units_in, r.refunds,
                   r.net_units, r.proceeds, r.customer_sales, r.partial_refunds,
                   r.partial_refund_proceeds, r.partial_refund_customer, false
            FROM sales_daily_rollup AS r
            WHERE r.workspace_id = :ws AND r.report_date BETWEEN :start AND :end
                  {_filter_sql(filters, "r", params)}
                  AND NOT EXISTS (
                      SELECT 1 FROM facts AS f WHERE f.account_id = r.account_id
                      AND f.year = {_YEAR_OF.format("r.report_date")})
        )"""  # noqa: S608  (identifiers come from fixed maps; values are bound)


async def aggregate_years(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    *,
    start: dt.date,
    end: dt.date,
    dimensions: list[str],
    filters: SalesFilter,
    after: list[Any] | None,
    limit: int,
    by_day: bool = False,
) -> list[YearRow]:
    """Measures per year and group, ordered and paged like ``repository.aggregate`` (same
    ``sort_key``), each (account, year) from its yearly file or its daily rollup."""
    params: dict[str, Any] = {
        "ws": workspace_id,
        "start": start,
        "end": end,
        "limit": limit,
        "years": full_years(start, end),
    }
    groups = [f"g{n}" for n in range(len(dimensions))]
    keyset = ""
    if after is not None:
        placeholders = []
        for n, value in enumerate(after):
            params[f"k{n}"] = dt.date.fromisoformat(value) if n == 0 else value
            placeholders.append(f":k{n}")
        keyset = f"WHERE ({', '.join(_order(groups, ''))}) > ({', '.join(placeholders)})"
    keys = ", ".join(["bucket", *groups])
    kind_sums = "".join(
        f", COALESCE(sum(units_in) FILTER (WHERE unit_kind = '{kind}'), 0) AS {measure}"
        for measure, kind in KIND_MEASURES.items()
    )
    day = ", day" if by_day else ""
    order = ", ".join(_order(groups, ""))
    # ``src`` is read once (so PostgreSQL inlines it rather than materialising every line);
    # the page is the first ``limit`` keys of the small grouped result, by dense rank.
    sql = f"""
        WITH {_source_sql(dimensions, filters, params)},
        base AS (
            SELECT {keys}, proceeds_currency, customer_currency{day}{kind_sums},
                   sum(refunds) AS refunds, sum(net_units) AS net_units,
                   sum(partial_refunds) AS partial_refunds, sum(proceeds) AS proceeds,
                   sum(customer_sales) AS customer_sales,
                   sum(partial_refund_proceeds) AS partial_refund_proceeds,
                   sum(partial_refund_customer) AS partial_refund_customer,
                   bool_or(yearly) AS any_yearly, bool_and(yearly) AS all_yearly
            FROM src
            GROUP BY {keys}, proceeds_currency, customer_currency{day}
        ), ranked AS (
            SELECT base.*, dense_rank() OVER (ORDER BY {order}) AS position
            FROM base
            {keyset}
        )
        SELECT {keys}, proceeds_currency, customer_currency{day or ", NULL"},
               {", ".join(KIND_MEASURES)}, refunds, net_units, partial_refunds, proceeds,
               customer_sales, partial_refund_proceeds, partial_refund_customer,
               any_yearly, all_yearly
        FROM ranked
        WHERE position <= :limit
        ORDER BY {order}
    """  # noqa: S608  (identifiers come from fixed maps; values are bound)
    result = await session.execute(text(sql), params)
    return _assemble(list(result), len(groups), by_day)


def _order(groups: list[str], prefix: str) -> list[str]:
    """The keyset order of ``repository.aggregate``: bucket, then per group nulls last."""
    order = [f"{prefix}bucket"]
    for g in groups:
        order += [f"({prefix}{g} IS NULL)", f"COALESCE({prefix}{g}, '') COLLATE \"C\""]
    return order


class _Building:
    def __init__(self, bucket: dt.date, group: tuple[str | None, ...]) -> None:
        self.bucket = bucket
        self.group = group
        self.counts = dict.fromkeys(COUNTS, 0)
        self.money: dict[str, dict[str | None, Decimal]] = {
            name: {} for name in ("p", "c", "rp", "rc")
        }
        self.daily: list[tuple[dt.date, str | None, Any, str | None, Any]] = []
        self.yearly = False
        self.daily_source = False

    def add(self, name: str, currency: str | None, amount: Decimal) -> None:
        totals = self.money[name]
        totals[currency] = totals.get(currency, Decimal(0)) + amount

    def row(self, by_day: bool) -> YearRow:
        def pairs(name: str) -> list[tuple[str | None, str]]:
            ordered = sorted(self.money[name].items(), key=lambda i: (i[0] is None, i[0] or ""))
            return [(c, format(a, "f")) for c, a in ordered if a != 0]

        source = "yearly" if self.yearly else "daily"
        if self.yearly and self.daily_source:
            source = "mixed"
        return YearRow(
            bucket=self.bucket,
            group=self.group,
            counts=self.counts,
            proceeds=pairs("p"),
            customer_sales=pairs("c"),
            partial_refund_proceeds=pairs("rp"),
            partial_refund_customer=pairs("rc"),
            daily=self.daily if by_day else None,
            source=source,
        )


def _assemble(rows: list[Any], width: int, by_day: bool) -> list[YearRow]:
    built: list[_Building] = []
    for row in rows:
        bucket, group = row[0], tuple(row[1 : 1 + width])
        if not built or (built[-1].bucket, built[-1].group) != (bucket, group):
            built.append(_Building(bucket, group))
        current = built[-1]
        pc, cc, day = row[1 + width], row[2 + width], row[3 + width]
        values = list(row[4 + width :])
        kinds, values = values[: len(KIND_MEASURES)], values[len(KIND_MEASURES) :]
        for measure, value in zip(KIND_MEASURES, kinds, strict=True):
            current.counts[measure] += int(value)
        refunds, net_units, partial, proceeds, sales, rp, rc, any_yearly, all_yearly = values
        current.counts["refunds"] += int(refunds)
        current.counts["net_units"] += int(net_units)
        current.counts["partial_refunds"] += int(partial)
        current.add("p", pc, proceeds)
        current.add("c", cc, sales)
        current.add("rp", pc, rp)
        current.add("rc", cc, rc)
        current.yearly |= bool(any_yearly)
        current.daily_source |= not all_yearly
        if by_day:
            current.daily.append((day, pc, proceeds, cc, sales))
    return [b.row(by_day) for b in built]

"""SQL for the payments API. Every query is scoped to one workspace."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.finance.regions import COUNTRY_REGION_JSON, PAYMENT_REGION_SQL
from app.models import FinanceReportRow
from app.reports.repository import Also, bind, with_also


@dataclass(frozen=True)
class PaymentGroup:
    period: str
    account_id: uuid.UUID
    region: str
    payment_region: str
    currency: str | None
    period_start: dt.date | None
    period_end: dt.date | None
    units_sold: int
    returns: int
    net_units: int
    earned: Decimal
    rows: int
    #: After the page's keyset position (see :func:`payment_groups`).
    past_cursor: bool = True

    def sort_key(self) -> list[Any]:
        return [
            self.period,
            str(self.account_id),
            self.region,
            self.payment_region,
            self.currency is None,
            self.currency or "",
        ]


async def payment_groups(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    *,
    first: str,
    last: str,
    region: str,
    account_id: uuid.UUID | None,
    after: list[Any] | None,
    limit: int | None,
) -> list[PaymentGroup]:
    """Σ per (fiscal period, account, region file, payment region, partner share currency), in
    that order. The payment region of a ZZ row comes from its country (see ``regions``).

    With a ``limit``: that many groups after the keyset position ``after``. Without one:
    every group of the range, each marked ``past_cursor`` when it lies after ``after`` (a
    page is then the first groups so marked, cut from the whole range's)."""
    params: dict[str, Any] = {
        "regions": COUNTRY_REGION_JSON,
        "ws": workspace_id,
        "first": first,
        "last": last,
        "region": region,
    }
    account = ""
    if account_id is not None:
        account = " AND f.account_id = :account"
        params["account"] = account_id
    order = (
        "period, account_id, region_code, payment_region, currency IS NULL, COALESCE(currency, '')"
    )
    past = "true"
    if after is not None:
        past = f"({order}) > (:k0, CAST(:k1 AS uuid), :k2, :k3, :k4, :k5)"
        params.update({f"k{n}": value for n, value in enumerate(after)})
    where, page = "", ""
    if limit is not None:
        where, page = "WHERE past_cursor", "LIMIT :limit"
        params["limit"] = limit
    sql = f"""
        SELECT * FROM (SELECT g.*, {past} AS past_cursor FROM (
            SELECT f.fiscal_period AS period, f.account_id, f.region_code,
                   {PAYMENT_REGION_SQL} AS payment_region,
                   f.partner_share_currency AS currency,
                   min(f.period_start) AS period_start, max(f.period_end) AS period_end,
                   COALESCE(sum(f.quantity) FILTER (WHERE f.sale_or_return IS DISTINCT FROM 'R'),
                            0) AS units_sold,
                   COALESCE(-sum(f.quantity) FILTER (WHERE f.sale_or_return = 'R'), 0) AS returns,
                   COALESCE(sum(f.quantity), 0) AS net_units,
                   COALESCE(sum(f.extended_partner_share), 0) AS earned,
                   count(*) AS row_count
            FROM finance_report_rows AS f
            WHERE f.workspace_id = :ws AND f.region_code = :region
                  AND f.fiscal_period BETWEEN :first AND :last{account}
            GROUP BY f.fiscal_period, f.account_id, f.region_code, payment_region,
                     f.partner_share_currency
        ) AS g) AS h
        {where}
        ORDER BY {order}
        {page}
    """  # noqa: S608  (fixed SQL; values are bound)
    result = await session.execute(text(sql), params)
    return [
        PaymentGroup(
            period=row["period"],
            account_id=row["account_id"],
            region=row["region_code"],
            payment_region=row["payment_region"],
            currency=row["currency"],
            period_start=row["period_start"],
            period_end=row["period_end"],
            units_sold=int(row["units_sold"]),
            returns=int(row["returns"]),
            net_units=int(row["net_units"]),
            earned=Decimal(row["earned"]),
            rows=int(row["row_count"]),
            past_cursor=row["past_cursor"],
        )
        for row in result.mappings()
    ]


async def payment_rows(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    *,
    period: str,
    region: str,
    account_id: uuid.UUID | None,
    currency: str | None,
    after_id: int | None,
    limit: int,
) -> list[FinanceReportRow]:
    statement = select(FinanceReportRow).where(
        FinanceReportRow.workspace_id == workspace_id,
        FinanceReportRow.fiscal_period == period,
        FinanceReportRow.region_code == region,
    )
    if account_id is not None:
        statement = statement.where(FinanceReportRow.account_id == account_id)
    if currency is not None:
        statement = statement.where(FinanceReportRow.partner_share_currency == currency)
    if after_id is not None:
        statement = statement.where(FinanceReportRow.id > after_id)
    statement = statement.order_by(FinanceReportRow.id).limit(limit)
    return list(await session.scalars(statement))


async def scope_month_states(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    account_id: uuid.UUID | None,
    dataset: str,
    months: list[dt.date],
    also: Also | None = None,
) -> tuple[Any, list[uuid.UUID], dict[tuple[dt.date, uuid.UUID], str]]:
    """``also``'s value (a conversion's rates), the workspace's linked accounts (only
    ``account_id`` when named) and, in the same statement, the availability state per (named
    month's first day, account) where one is recorded."""
    named = "AND a.id = :account" if account_id is not None else ""
    inner = f"""
        SELECT a.id, av.report_date, av.state
        FROM asc_accounts AS a
        LEFT JOIN dataset_availability AS av
            ON av.account_id = a.id AND av.dataset = :dataset
            AND av.report_date = ANY(CAST(:months AS date[]))
        WHERE a.workspace_id = :ws AND a.unlinked_at IS NULL {named}
    """  # noqa: S608  (a constant clause)
    params = {"ws": workspace_id, "account": account_id, "dataset": dataset, "months": months}
    result = await session.execute(
        text(with_also(inner, "s.id, s.report_date, s.state", "id", also)), bind(params, also)
    )
    value = None
    accounts: list[uuid.UUID] = []
    states: dict[tuple[dt.date, uuid.UUID], str] = {}
    for row in result:
        if also is not None:
            value = row.also
        if row.id is None:  # ``also``'s row when there is no account
            continue
        if not accounts or accounts[-1] != row.id:
            accounts.append(row.id)
        if row.report_date is not None:
            states[(row.report_date, row.id)] = row.state
    return value, accounts, states


async def partition_sums(
    session: AsyncSession, partition: Mapping[str, Any]
) -> tuple[int, Decimal]:
    """Rows and the sum of Extended Partner Share of one loaded finance file."""
    row = (
        await session.execute(
            text(
                "SELECT count(*), COALESCE(sum(extended_partner_share), 0) FROM finance_report_rows"
                " WHERE account_id = :account_id AND fiscal_request = :fiscal_request"
                " AND report_type = :report_type AND region_code = :region_code"
            ),
            dict(partition),
        )
    ).one()
    return int(row[0]), Decimal(row[1])


async def period_label(session: AsyncSession, account_id: uuid.UUID, key: str) -> str | None:
    """The fiscal period (``YYYY-MM``) the account's ZZ file of request ``key`` covered."""
    label = await session.scalar(
        text(
            "SELECT fiscal_period FROM finance_report_rows WHERE account_id = :a "
            "AND fiscal_request = :k AND report_type = 'FINANCIAL' AND region_code = 'ZZ' "
            "AND fiscal_period IS NOT NULL LIMIT 1"
        ),
        {"a": account_id, "k": key},
    )
    return str(label) if label is not None else None


async def country_sums(
    session: AsyncSession, partition: Mapping[str, Any]
) -> dict[tuple[str, str | None], Decimal]:
    """Σ Extended Partner Share of one loaded finance file per (country, currency)."""
    result = await session.execute(
        text(
            "SELECT country_of_sale, partner_share_currency,"
            " COALESCE(sum(extended_partner_share), 0) FROM finance_report_rows"
            " WHERE account_id = :account_id AND fiscal_request = :fiscal_request"
            " AND report_type = :report_type AND region_code = :region_code"
            " GROUP BY country_of_sale, partner_share_currency"
        ),
        dict(partition),
    )
    return {(str(row[0] or ""), row[1]): Decimal(row[2]) for row in result}

"""SQL for sales: the daily rollup and the queries behind the sales API."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


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
            """
            INSERT INTO sales_daily_rollup (
                workspace_id, account_id, report_date, app_id, app_apple_id, product, sku,
                country_code, device, platform, unit_kind, proceeds_currency, customer_currency,
                units_in, refunds, net_units, proceeds, customer_sales)
            SELECT s.workspace_id, s.account_id, s.report_date, s.app_id,
                   a.apple_id, s.apple_identifier, s.sku, s.country_code, s.device, s.platform,
                   s.unit_kind, s.proceeds_currency, s.customer_currency,
                   COALESCE(sum(s.units) FILTER (WHERE s.units > 0), 0),
                   COALESCE(-sum(s.units) FILTER (WHERE s.units < 0), 0),
                   sum(s.units),
                   sum(s.units * COALESCE(s.developer_proceeds, 0)),
                   sum(s.units * abs(COALESCE(s.customer_price, 0)))
            FROM sales_rows s LEFT JOIN apps a ON a.id = s.app_id
            WHERE s.account_id = :a AND s.frequency = 'DAILY' AND s.report_date = :d
            GROUP BY s.workspace_id, s.account_id, s.report_date, s.app_id, a.apple_id,
                     s.apple_identifier, s.sku, s.country_code, s.device, s.platform,
                     s.unit_kind, s.proceeds_currency, s.customer_currency
            """
        ),
        params,
    )

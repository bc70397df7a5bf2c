"""Traceability (``/v1/subscriptions/metrics/rows``): the stored rows of Apple's reports that
one metric adds up over a range, each with what it contributes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import ValidationFailed
from app.kit import cursors
from app.kit.money import Money
from app.kit.pagination import PageRequest
from app.reports import query
from app.subscriptions import analytics_repository as repo
from app.subscriptions.analytics import MAX_RANGE_DAYS
from app.subscriptions.analytics_repository import RowScope, SourceRow
from app.subscriptions.analytics_schemas import MetricRows, MetricSourceRow
from app.subscriptions.catalog import CANCELLATION, Family, MetricDef
from app.subscriptions.metrics import monthly_factor

_TRANSACTIONS = {
    "transactions": "charges",
    "gross_sales": "charges",
    "proceeds": "charges",
    "paying_subscribers": "charges",
    "refunds": "refunds",
    "refunded_amount": "refunds",
    "refunded_proceeds": "refunds",
    "net_proceeds": "all",
}


def _plain(value: Any) -> str | int | bool | None:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def _transaction_amount(name: str, detail: dict[str, Any]) -> Money | None:
    price, proceeds = detail["customer_price"], detail["developer_proceeds"]
    if name == "gross_sales" and price is not None:
        return Money.of(price, detail["customer_currency"])
    if name == "refunded_amount" and price is not None:
        return Money.of(abs(price), detail["customer_currency"])
    if proceeds is None or name not in ("proceeds", "refunded_proceeds", "net_proceeds"):
        return None
    signed = -abs(proceeds) if name == "net_proceeds" and detail["refund"] else abs(proceeds)
    return Money.of(signed, detail["proceeds_currency"])


def _read(metric: MetricDef, row: SourceRow) -> MetricSourceRow:
    count: int | None = int(row.count)
    amount: Money | None = None
    if metric.family is Family.TRANSACTIONS:
        amount = _transaction_amount(metric.name, row.detail)
        if amount is not None:
            count = None
    elif metric.name in ("mrr", "arr"):
        factor = monthly_factor(row.duration)
        proceeds = row.detail["developer_proceeds"]
        count = None
        if factor is not None and proceeds is not None:
            value = row.count * proceeds * factor * (12 if metric.name == "arr" else 1)
            amount = Money.of(value, row.currency)
    return MetricSourceRow(
        dataset=row.dataset,
        id=row.id,
        report_date=row.report_date,
        event_date=row.event_date,
        subscription_apple_id=row.subscription_apple_id,
        country=row.country,
        detail={key: _plain(value) for key, value in row.detail.items()},
        count=count,
        amount=amount,
    )


async def metric_rows(
    session: AsyncSession,
    rows: RowScope,
    *,
    metric: MetricDef,
    start: dt.date,
    end: dt.date,
    paging: PageRequest,
) -> MetricRows:
    query.date_range(start, end, MAX_RANGE_DAYS)
    if metric.family is Family.RATIO:
        raise ValidationFailed.single(
            "query.metric",
            f"'{metric.name}' is a ratio: list the rows of its parts "
            f"({metric.parts[0]} and {metric.parts[1]})",
            "invalid",
        )
    if metric.family is Family.MOVEMENTS:
        raise ValidationFailed.single(
            "query.metric",
            f"'{metric.name}' is computed per Subscriber ID from its charges: list them with "
            "metric=transactions (and metric=refunds) over the range and the periods before it",
            "invalid",
        )
    after = paging.after(cursors.day, cursors.integer)
    keyset = (after[0], after[1]) if after is not None else None
    snapshot_date = None
    if metric.family is Family.EVENTS:
        predicate = metric.sql
        if metric.name == "paid_periods_before_cancel":
            predicate = f"{CANCELLATION} AND consecutive_paid_periods IS NOT NULL"
        found = await repo.event_rows(session, rows, predicate, start, end, keyset, paging.fetch)
    elif metric.family is Family.TRANSACTIONS:
        found = await repo.transaction_rows(
            session, rows, _TRANSACTIONS[metric.name], start, end, keyset, paging.fetch
        )
    else:
        ends = await repo.bucket_ends(session, rows, start=start, end=end, granularity="year")
        snapshot_date = max(ends.values()) if ends else None
        found = await repo.snapshot_rows(
            session,
            rows,
            metric.snapshot_columns,
            [snapshot_date] if snapshot_date else [],
            keyset,
            paging.fetch,
        ) if snapshot_date else []  # fmt: skip
    page, next_cursor = paging.split(found, lambda r: [r.report_date.isoformat(), r.id])
    return MetricRows(
        metric=metric.name,
        snapshot_date=snapshot_date,
        items=[_read(metric, row) for row in page],
        next_cursor=next_cursor,
    )

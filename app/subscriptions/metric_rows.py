"""Traceability (``/v1/subscriptions/metrics/rows``): the stored rows of Apple's reports that
one metric adds up over a range, each with what it contributes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import ValidationFailed
from app.fx import convert
from app.fx.convert import Triple
from app.fx.schemas import ConvertedTotal, ConvertibleMoney
from app.kit import cursors
from app.kit.pagination import PageRequest
from app.reports import query
from app.subscriptions import analytics_repository as repo
from app.subscriptions.analytics import MAX_RANGE_DAYS
from app.subscriptions.analytics_repository import RowScope, SourceRow
from app.subscriptions.analytics_schemas import MetricRows, MetricSourceRow
from app.subscriptions.catalog import CANCELLATION, Family, MetricDef, Unit
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


def _transaction_amount(name: str, detail: dict[str, Any]) -> tuple[Decimal, str | None] | None:
    price, proceeds = detail["customer_price"], detail["developer_proceeds"]
    if name == "gross_sales" and price is not None:
        return price, detail["customer_currency"]
    if name == "refunded_amount" and price is not None:
        return abs(price), detail["customer_currency"]
    if proceeds is None or name not in ("proceeds", "refunded_proceeds", "net_proceeds"):
        return None
    signed = -abs(proceeds) if name == "net_proceeds" and detail["refund"] else abs(proceeds)
    return signed, detail["proceeds_currency"]


def _exact(metric: MetricDef, row: SourceRow) -> Triple | None:
    """What a money metric's row adds, unrounded, dated by the day whose rate converts it:
    the Event Date of a Subscriber row, the report date of a snapshot row."""
    if metric.family is Family.TRANSACTIONS:
        found = _transaction_amount(metric.name, row.detail)
        if found is None or row.event_date is None:
            return None
        return row.event_date, found[1], found[0]
    if metric.name in ("mrr", "arr"):
        factor = monthly_factor(row.duration)
        proceeds = row.detail["developer_proceeds"]
        if factor is not None and proceeds is not None:
            value = row.count * proceeds * factor * (12 if metric.name == "arr" else 1)
            return row.report_date, row.currency, value
    return None


def _read(metric: MetricDef, row: SourceRow, exact: Triple | None) -> MetricSourceRow:
    count: int | None = int(row.count)
    amount: ConvertibleMoney | None = None
    if exact is not None:
        amount = ConvertibleMoney.of(exact[2], exact[1])
        count = None
    elif metric.name in ("mrr", "arr"):
        count = None
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
    currency: str | None = None,
    max_rate_age_days: int = 7,
) -> MetricRows:
    """The rows behind ``metric``; with a reporting currency (``currency``, else the
    workspace's default) each row's amount also converts at its own day's rate, and the
    page gains its converted total."""
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
    exact = [_exact(metric, row) for row in page]
    items = [_read(metric, row, e) for row, e in zip(page, exact, strict=True)]
    extra: dict[str, Any] = {}
    if metric.unit is Unit.MONEY:
        # The workspace's default came with the rows (no read of its own); an empty page
        # has nothing to convert unless a currency is asked for.
        target = (
            await convert.resolve_target(session, rows.workspace_id, currency)
            if (currency is not None)
            else (page[0].reporting_currency if page else None)
        )
        if target is not None:
            extra = await _convert_rows(
                session, rows, items, exact, target, start, end, max_rate_age_days
            )
    return MetricRows(
        metric=metric.name,
        snapshot_date=snapshot_date,
        items=items,
        next_cursor=next_cursor,
        **extra,
    )


async def _convert_rows(
    session: AsyncSession,
    rows: RowScope,
    items: list[MetricSourceRow],
    exact: list[Triple | None],
    target: str,
    start: dt.date,
    end: dt.date,
    max_rate_age_days: int,
) -> dict[str, Any]:
    """Each row's amount gains ``converted`` (its own day's rate); the page's converted
    total lists what had no rate."""
    triples = [e for e in exact if e is not None]
    book = await convert.book_for(
        session,
        rows.workspace_id,
        target=target,
        currencies={c for _, c, _ in triples if c},
        start=start,
        end=end,
        max_age_days=max_rate_age_days,
    )
    for item, found in zip(items, exact, strict=True):
        if item.amount is not None and found is not None:
            listed = [item.amount.model_dump()]
            convert.convert_measure(book, listed, [found])
            item.amount = ConvertibleMoney.model_validate(listed[0])
    scratch: list[dict[str, Any]] = []
    total = convert.convert_measure(book, scratch, triples)
    return {"currency": target, "amounts_total_converted": ConvertedTotal.model_validate(total)}

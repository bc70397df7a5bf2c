"""Payments queries: fiscal-month ranges, scope, completeness, rows."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.credentials import lookup
from app.errors import NotFound, ValidationFailed
from app.finance import regions, repository
from app.finance.jobs import DATASET
from app.finance.schemas import (
    IncompletePeriod,
    PaymentRowRead,
    PaymentsReport,
    PaymentSummary,
    PeriodTotal,
)
from app.fx import convert, kept
from app.fx.rates import RateBook
from app.fx.schemas import ConvertedTotal, ConvertibleMoney
from app.kit import cursors
from app.kit.money import Money
from app.kit.pagination import Page, PageRequest
from app.models import FinanceReportRow
from app.reports import fiscal, query
from app.reports.repository import Also

_PERIOD = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
MAX_MONTHS = 120
DEFAULT_MONTHS = 12


def parse_period(value: str, field: str) -> dt.date:
    """``YYYY-MM`` → the first day of that month (raises a 422 naming ``field``)."""
    found = _PERIOD.match(value)
    if not found:
        raise ValidationFailed.single(field, "a fiscal month as YYYY-MM, e.g. 2014-09", "format")
    return dt.date(int(found[1]), int(found[2]), 1)


def _add_months(first: dt.date, months: int) -> dt.date:
    index = first.year * 12 + first.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def _months(first: dt.date, last: dt.date) -> list[dt.date]:
    count = (last.year - first.year) * 12 + last.month - first.month + 1
    return [_add_months(first, n) for n in range(count)]


def _money(amount: Decimal | None, currency: str | None) -> Money | None:
    return Money.of(amount, currency)


async def _accounts(
    session: AsyncSession, workspace_id: uuid.UUID, account_id: uuid.UUID | None
) -> list[uuid.UUID]:
    """The named account (404 unless it is the workspace's), else every linked account."""
    if account_id is not None:
        await lookup.get_account(session, workspace_id, account_id)
        return [account_id]
    return await query.accounts_in_scope(session, workspace_id)


async def _scope(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    account_id: uuid.UUID | None,
    months: list[dt.date],
    also: Also | None,
) -> tuple[Any, list[uuid.UUID], dict[tuple[dt.date, uuid.UUID], str]]:
    """``also``'s value, ``_accounts`` (404 for a named account not the workspace's) and the
    availability state of each of their months, read together."""
    value, accounts, states = await repository.scope_month_states(
        session, workspace_id, account_id, DATASET, months, also
    )
    if account_id is not None and not accounts:
        raise NotFound(f"no account with id {account_id}")
    return value, accounts, states


def _incomplete(
    accounts: list[uuid.UUID],
    states: dict[tuple[dt.date, uuid.UUID], str],
    months: list[dt.date],
    now: dt.datetime,
) -> list[IncompletePeriod]:
    newest = fiscal.latest_expected(now)
    missing = []
    for month in months:
        for account_id in accounts:
            state = query.day_state(month, states.get((month, account_id)), newest)
            if state not in query.COMPLETE:
                missing.append(
                    IncompletePeriod(
                        period=month.strftime("%Y-%m"), account_id=account_id, state=state
                    )
                )
    return missing


def _period_text(value: object) -> str:
    if not isinstance(value, str) or _PERIOD.match(value) is None:
        raise ValueError("not a fiscal period")
    return value


def _uuid_text(value: object) -> str:
    return str(cursors.UUID(value))


def _after(paging: PageRequest) -> list[Any] | None:
    """The payments keyset: period, account, region, payment region, has-currency flag,
    currency."""
    after = paging.after(
        _period_text, _uuid_text, cursors.TEXT, cursors.TEXT, cursors.boolean, cursors.TEXT
    )
    return list(after) if after is not None else None


async def payments(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    *,
    from_period: str | None,
    to_period: str | None,
    region: str,
    account_id: uuid.UUID | None,
    paging: PageRequest,
    now: dt.datetime,
    currency: str | None = None,
    default_currency: str | None,
    max_rate_age_days: int = 7,
) -> PaymentsReport:
    target = convert.target_currency(currency, default_currency)
    last = (
        parse_period(to_period, "query.to_period")
        if to_period is not None
        else fiscal.latest_expected(now)
    )
    first = (
        parse_period(from_period, "query.from_period")
        if from_period is not None
        else _add_months(last, 1 - DEFAULT_MONTHS)
    )
    if first > last:
        raise ValidationFailed.single(
            "query.from_period", "must not be after 'to_period'", "out_of_range"
        )
    months = _months(first, last)
    if len(months) > MAX_MONTHS:
        raise ValidationFailed.single(
            "query.to_period", f"the range may span at most {MAX_MONTHS} months", "out_of_range"
        )
    # The span's rates are read along with the scope (a kept book: only their version while
    # it is current); a conversion needs the whole range's groups for its per-month totals, so
    # the page is then cut from those instead of being read on its own.
    span = _rate_span(first, last)
    read = kept.book_read(
        workspace_id, target=target, start=span[0], end=span[1], max_age_days=max_rate_age_days
    )
    rates, accounts, states = await _scope(session, workspace_id, account_id, months, read.also)
    groups = await repository.payment_groups(
        session,
        workspace_id,
        first=first.strftime("%Y-%m"),
        last=last.strftime("%Y-%m"),
        region=region,
        account_id=account_id,
        after=_after(paging),
        limit=paging.fetch if target is None else None,
    )
    listed = [group for group in groups if group.past_cursor][: paging.fetch]
    page, next_cursor = paging.split(listed, repository.PaymentGroup.sort_key)
    report = PaymentsReport(
        items=[
            PaymentSummary(
                account_id=group.account_id,
                period=group.period,
                period_start=group.period_start,
                period_end=group.period_end,
                region=group.region,
                payment_region=group.payment_region,
                payment_region_name=regions.REGION_NAMES.get(group.payment_region),
                currency=group.currency,
                units_sold=group.units_sold,
                returns=group.returns,
                net_units=group.net_units,
                earned=ConvertibleMoney.of(group.earned, group.currency),
                rows=group.rows,
            )
            for group in page
        ],
        next_cursor=next_cursor,
        incomplete_periods=_incomplete(accounts, states, months, now),
    )
    book = read.book(rates)  # None: no reporting currency
    if book is None:
        return report
    days = [rate_day(g) for g in groups]
    if days and (min(days) < span[0] or max(days) > span[1]):
        # A file whose End Date lies far from the month it is named after: its rates are
        # outside the span read along, so they are read now (one more statement).
        book = await convert.book_for(
            session,
            workspace_id,
            target=book.target,
            currencies={g.currency for g in groups if g.currency},
            start=min(days),
            end=max(days),
            max_age_days=max_rate_age_days,
        )
    _convert(report, page, groups, book)
    return report


#: How far a fiscal period's End Date may lie from the end of the calendar month it is named
#: after: Apple's periods run Sunday–Saturday in whole weeks (``app.reports.fiscal``), so an
#: end is at most a week or two away; the rates read along cover this margin.
PERIOD_END_MARGIN = dt.timedelta(days=21)


def _rate_span(first: dt.date, last: dt.date) -> tuple[dt.date, dt.date]:
    """The report dates whose rates a conversion of fiscal months ``first``..``last`` reads
    along: every period's End Date, with ``PERIOD_END_MARGIN`` on either side."""
    first_end = _add_months(first, 1) - dt.timedelta(days=1)
    last_end = _add_months(last, 1) - dt.timedelta(days=1)
    return first_end - PERIOD_END_MARGIN, last_end + PERIOD_END_MARGIN


def rate_day(group: repository.PaymentGroup) -> dt.date:
    """Payments convert at the fiscal period's End Date (FACTS fx §5: Apple's payment-time
    rate is only in its UI); without one, at the end of the named month."""
    if group.period_end is not None:
        return group.period_end
    return _add_months(parse_period(group.period, "period"), 1) - dt.timedelta(days=1)


def _convert(
    report: PaymentsReport,
    page: list[repository.PaymentGroup],
    everything: list[repository.PaymentGroup],
    book: RateBook,
) -> None:
    report.currency = book.target
    for item, group in zip(report.items, page, strict=True):
        if item.earned is None:
            continue
        listed = [{"amount": item.earned.amount, "currency": item.earned.currency}]
        convert.convert_measure(
            book, listed, [(rate_day(group), group.currency, group.earned)], estimated=True
        )
        item.earned = ConvertibleMoney.model_validate(listed[0])
    by_period: dict[str, list[repository.PaymentGroup]] = {}
    for group in everything:
        by_period.setdefault(group.period, []).append(group)
    report.totals_converted = [
        PeriodTotal(
            period=period,
            earned=ConvertedTotal.model_validate(
                convert.convert_measure(
                    book, [], [(rate_day(g), g.currency, g.earned) for g in groups], estimated=True
                )
            ),
        )
        for period, groups in sorted(by_period.items())
    ]


def row_read(row: FinanceReportRow) -> PaymentRowRead:
    currency = row.partner_share_currency
    return PaymentRowRead(
        id=row.id,
        account_id=row.account_id,
        period=row.fiscal_period,
        period_start=row.period_start,
        period_end=row.period_end,
        region=row.region_code,
        payment_region=(
            row.region_code
            if row.region_code not in ("ZZ", "Z1")
            else regions.payment_region(row.country_of_sale, row.fiscal_period)
        ),
        report_type=row.report_type,
        vendor_identifier=row.vendor_identifier,
        quantity=row.quantity,
        partner_share=_money(row.partner_share, currency),
        extended_partner_share=_money(row.extended_partner_share, currency),
        sale_or_return=row.sale_or_return,
        apple_identifier=row.apple_identifier,
        title=row.title,
        product_type=row.product_type,
        country_of_sale=row.country_of_sale,
        preorder_flag=row.preorder_flag,
        promo_code=row.promo_code,
        customer_price=_money(row.customer_price, row.customer_currency),
        extra=row.extra or {},
    )


async def payment_rows(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    period: str,
    *,
    region: str,
    account_id: uuid.UUID | None,
    currency: str | None,
    paging: PageRequest,
) -> Page[PaymentRowRead]:
    parse_period(period, "path.period")
    if account_id is not None:
        await _accounts(session, workspace_id, account_id)
    after = paging.after(cursors.integer)
    after_id = after[0] if after is not None else None
    rows = await repository.payment_rows(
        session,
        workspace_id,
        period=period,
        region=region,
        account_id=account_id,
        currency=currency,
        after_id=after_id,
        limit=paging.fetch,
    )
    return paging.page(rows, lambda row: [row.id], row_read)

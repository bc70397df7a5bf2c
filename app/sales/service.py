"""Sales queries: validation, calendar buckets, money per currency, completeness of dates.

Everything reads rollups, never raw rows, except the row listing itself: the repository's
planner (``app.sales.planner``) picks the smallest one that answers each query. Every query is
scoped to the caller's workspace.
"""

from __future__ import annotations

import datetime as dt
import gc
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from app.asc.enums import ReportPlatform
from app.errors import NotFound, ValidationFailed
from app.fx import convert, in_sql, kept
from app.kit import cursors
from app.kit.money import Money, money_entry
from app.kit.pagination import Page, PageRequest, encode_cursor
from app.models import SalesRow
from app.reports import calendar, query
from app.reports.query import DateRange
from app.reports.repository import Also, together
from app.sales import card, report_json, repository, version_repository
from app.sales.layout import UnitKind
from app.sales.repository import AggregateRow
from app.sales.schemas import (
    Dimension,
    Frequency,
    Granularity,
    SalesFilter,
    SalesRowRead,
)

#: A response document exactly as the API sends it, shaped like its pydantic schema in
#: ``app.sales.schemas`` (which documents it). Reports are built as plain data and serialised
#: without a second validation: a 90-day report holds thousands of amounts, and turning each
#: into a model object cost ~10 ms and enough garbage to trigger 100 ms collections. The
#: tests validate every response against the schema. An unconverted report's items come
#: already written as JSON (``app.sales.report_json``): serialise with ``encode``.
Payload = dict[str, Any]
States = TypeVar("States")

_ZERO = Decimal(0)
DAILY_DATASET = "sales_daily"


encode = report_json.encode


def normalise_filter(
    *,
    account_ids: list[uuid.UUID] | None = None,
    app_ids: list[uuid.UUID] | None = None,
    skus: list[str] | None = None,
    countries: list[str] | None = None,
    devices: list[str] | None = None,
    unit_kinds: list[UnitKind] | None = None,
    platforms: list[ReportPlatform] | None = None,
) -> SalesFilter:
    return SalesFilter(
        account_ids=list(dict.fromkeys(account_ids or [])),
        app_ids=list(dict.fromkeys(app_ids or [])),
        skus=list(dict.fromkeys(skus or [])),
        # Apple writes storefronts in capitals; accept `us` as well.
        countries=list(dict.fromkeys(c.upper() for c in countries or [])),
        devices=list(dict.fromkeys(devices or [])),
        unit_kinds=list(dict.fromkeys(k.value for k in unit_kinds or [])),
        platforms=list(dict.fromkeys(p.value for p in platforms or [])),
    )


def _money(pairs: list[tuple[str | None, str]]) -> list[dict[str, str]]:
    # Plain dicts (see ``Payload``): a big report has thousands of them.
    if len(pairs) == 1:  # the common case, without a generator
        entry = money_entry(pairs[0][1], pairs[0][0])
        return [] if entry is None else [entry]
    entries = (money_entry(amount, currency) for currency, amount in pairs)
    return [entry for entry in entries if entry is not None]


def _measures(
    row: AggregateRow, book: convert.RateBook | None = None, fx: in_sql.DayRates | None = None
) -> dict[str, Any]:
    counts = dict(row.counts)
    partial = counts.pop("partial_refunds", 0)
    measures: dict[str, Any] = {
        **counts,
        "proceeds": _money(row.proceeds),
        "customer_sales": _money(row.customer_sales),
        "partial_refunds": {
            "rows": partial,
            "proceeds": _money(row.partial_refund_proceeds),
            "customer_amounts": _money(row.partial_refund_customer),
        },
    }
    _convert(measures, row, book, fx)
    return measures


def _convert(
    measures: dict[str, Any],
    row: AggregateRow,
    book: convert.RateBook | None,
    fx: in_sql.DayRates | None,
) -> None:
    """``measures``' money (``row``'s) also in the reporting currency, when one is asked:
    summed and converted in SQL (``fx``), or by report date in Python (``book``)."""
    if fx is not None and row.proceeds_fx is not None and row.customer_sales_fx is not None:
        measures["proceeds_total_converted"] = in_sql.convert_sums(
            fx, measures["proceeds"], row.proceeds_fx
        )
        measures["customer_sales_total_converted"] = in_sql.convert_sums(
            fx, measures["customer_sales"], row.customer_sales_fx
        )
    elif book is not None and row.daily is None:  # a one-day bucket
        convert.convert_day_measures(book, measures, row.bucket)
    elif book is not None:
        convert.convert_measures(book, measures, _daily(row))


def _daily(row: AggregateRow) -> list[convert.DailyMoney]:
    """The row's money per report date: the repository's ``by_day`` arrays, or for a
    one-day bucket its per-currency totals (one rate per currency and day: the same sum)."""
    if row.daily is not None:
        return row.daily
    return [(row.bucket, c, Decimal(a), None, _ZERO) for c, a in row.proceeds] + [
        (row.bucket, None, _ZERO, c, Decimal(a)) for c, a in row.customer_sales
    ]


async def _book(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    target: str | None,
    span: DateRange,
    max_rate_age_days: int,
) -> convert.RateBook | None:
    """The book of the span's rates (every currency), kept while the rates are unchanged
    (``app.fx.kept``): one statement, which reads only their version when it is current."""
    if target is None:
        return None
    return await kept.book(
        session,
        workspace_id,
        target=target,
        start=span.start,
        end=span.end,
        max_age_days=max_rate_age_days,
    )


def _book_read(
    workspace_id: uuid.UUID, target: str | None, span: DateRange, max_rate_age_days: int
) -> kept.BookRead:
    """``_book``, read inside a statement the route runs anyway (``kept.book_read``)."""
    return kept.book_read(
        workspace_id,
        target=target,
        start=span.start,
        end=span.end,
        max_age_days=max_rate_age_days,
    )


def _converted_current(
    workspace_id: uuid.UUID,
    target: str | None,
    span: DateRange,
    granularity: Granularity,
    group_by: list[Dimension],
    filters: SalesFilter,
    max_rate_age_days: int,
) -> Also | None:
    """For a converted report that kept items can answer: whether they are kept converted at
    the current rates (``repository.converted_current``), read in the route's first
    statement; else None."""
    dimensions = [d.value for d in group_by]
    if target is None or not repository.kept_shape(granularity.value, dimensions, filters):
        return None
    return repository.converted_current(
        workspace_id, target, max_rate_age_days, span.start, span.end
    )


def _merged(rows: list[AggregateRow]) -> dict[str, Any]:
    """The measures of several rows together (money added per currency)."""
    counts = dict.fromkeys(repository.COUNTS, 0)
    proceeds: dict[str | None, Decimal] = {}
    sales: dict[str | None, Decimal] = {}
    partial_proceeds: dict[str | None, Decimal] = {}
    partial_customer: dict[str | None, Decimal] = {}
    for row in rows:
        for name, value in row.counts.items():
            counts[name] += value
        for totals, pairs in (
            (proceeds, row.proceeds),
            (sales, row.customer_sales),
            (partial_proceeds, row.partial_refund_proceeds),
            (partial_customer, row.partial_refund_customer),
        ):
            for currency, amount in pairs:
                totals[currency] = totals.get(currency, _ZERO) + Decimal(amount)

    def money(totals: dict[str | None, Decimal]) -> list[dict[str, str]]:
        ordered = sorted(totals.items(), key=lambda item: (item[0] is None, item[0] or ""))
        return _money([(currency, str(amount)) for currency, amount in ordered if amount])

    partial = counts.pop("partial_refunds", 0)
    return {
        **counts,
        "proceeds": money(proceeds),
        "customer_sales": money(sales),
        "partial_refunds": {
            "rows": partial,
            "proceeds": money(partial_proceeds),
            "customer_amounts": money(partial_customer),
        },
    }


def _count(value: Decimal) -> int:
    # Apple types Units as DECIMAL but only ever writes whole counts.
    return int(value.to_integral_value())


def bucket_end(start: dt.date, granularity: Granularity) -> dt.date:
    """Last day of the calendar bucket starting at ``start``. Weeks run Monday to Sunday, like
    Apple's weekly reports (which are named by their week-ending Sunday)."""
    if granularity is Granularity.DAY:
        return start
    if granularity is Granularity.WEEK:
        return start + dt.timedelta(days=6)
    if granularity is Granularity.MONTH:
        return calendar.month_end(start)
    return dt.date(start.year, 12, 31)


async def incomplete_dates(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    filters: SalesFilter,
    span: DateRange,
    now: dt.datetime,
) -> list[dict[str, Any]]:
    """The daily report dates of ``span`` not stored yet for the scope's accounts (a sales
    document's ``incomplete_dates``)."""
    return (await _incomplete_dates_and(session, workspace_id, filters, span, now, None))[1]


async def _incomplete_dates_and(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    filters: SalesFilter,
    span: DateRange,
    now: dt.datetime,
    also: Also | None,
) -> tuple[Any, list[dict[str, Any]]]:
    """(``also``'s value, ``incomplete_dates``), in one statement."""
    value, states = await query.scope_day_states_and(
        session,
        workspace_id,
        DAILY_DATASET,
        span,
        calendar.latest_daily(now),
        account_ids=filters.account_ids,
        app_ids=filters.app_ids,
        incomplete_only=True,
        also=also,
    )
    return value, [
        {"report_date": day, "account_id": account_id, "state": state}
        for day, account_id, state in states
    ]


def _day_text(value: Any) -> str:
    """A report date in a cursor, kept as the text the aggregate query compares."""
    cursors.day(value)
    return str(value)


def _after(paging: PageRequest, groups: int) -> list[Any] | None:
    """The aggregate's keyset: the bucket, then per group (is-null flag, value)."""
    after = paging.after(_day_text, *(cursors.boolean, cursors.TEXT) * groups)
    return list(after) if after is not None else None


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off while a converted report's items are built.

    A converted 90-day report makes ~10⁵ new dicts and lists (each money entry gains a
    ``converted`` document, each measure a total): enough allocations to run several full
    collections, each walking every object the request built so far (measured: ~40% of the
    items' build time). The documents hold no reference cycles — reference counting frees
    them — and the block is synchronous (no other request runs meanwhile), so the collector
    is simply resumed after it, as it was."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


_KIND_COUNTS = tuple(name for name in repository.COUNTS if name != "partial_refunds")


def _items(
    page: list[AggregateRow],
    span: DateRange,
    granularity: Granularity,
    group_by: list[Dimension],
    book: convert.RateBook | None,
    fx: in_sql.DayRates | None,
) -> list[dict[str, Any]]:
    """The report's items (thousands for a dashboard's 90 days by storefront), each built in
    one dict display: no intermediate measure dicts, money entries made in one pass; with a
    reporting currency the money is then converted in place."""
    names = [d.value for d in group_by]
    items = []
    converting = book is not None or fx is not None
    day = granularity is Granularity.DAY
    first, last = span.start, span.end
    for row in page:
        start = row.bucket
        end = start if day else bucket_end(start, granularity)
        counts = row.counts
        item = {
            "period_start": start,
            "period_end": end,
            "partial": start < first or end > last,
            "group": dict(zip(names, row.group, strict=True)),
            "source": "daily",
        }
        for name in _KIND_COUNTS:
            item[name] = counts[name]
        item["proceeds"] = _money(row.proceeds)
        item["customer_sales"] = _money(row.customer_sales)
        item["partial_refunds"] = {
            "rows": counts.get("partial_refunds", 0),
            "proceeds": _money(row.partial_refund_proceeds) if row.partial_refund_proceeds else [],
            "customer_amounts": (
                _money(row.partial_refund_customer) if row.partial_refund_customer else []
            ),
        }
        if converting:
            _convert(item, row, book, fx)
        items.append(item)
    return items


async def sales_report(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    *,
    span: DateRange,
    granularity: Granularity,
    group_by: list[Dimension],
    filters: SalesFilter,
    paging: PageRequest,
    now: dt.datetime,
    currency: str | None = None,
    default_currency: str | None,
    max_rate_age_days: int = 7,
    known: Known[list[dict[str, Any]]] | None = None,
) -> Payload:
    """The `SalesReport` document (see ``Payload``); with a reporting currency (``currency``
    or the workspace's default) every money entry is also converted (``app.fx.convert``).
    ``known``: its incomplete dates and rates, already read (``kept_report_states``)."""
    target = convert.target_currency(currency, default_currency)
    after = _after(paging, len(group_by))
    # The span's rates (only their version while a kept book is current): read in the
    # statement that reads the incomplete dates, unless those came read already.
    if known is None:
        read = _book_read(workspace_id, target, span, max_rate_age_days)
        current = _converted_current(
            workspace_id, target, span, granularity, group_by, filters, max_rate_age_days
        )
        also = None if read.also is None else together(read.also, current)
        value, dates = await _incomplete_dates_and(session, workspace_id, filters, span, now, also)
        rates, current_value = (None, None) if value is None else value
        kept_converted = current_value == "true"
        book = read.book(rates)
    else:
        dates, book, kept_converted = known.states, known.book, known.kept_converted
    items: list[dict[str, Any]] | report_json.ArrayItems
    if group_by or granularity is Granularity.DAY:
        # Items enough to matter: PostgreSQL writes each item's JSON, converted too (a few
        # buckets without groups are built here: the bigger statement's planning cost more).
        # Converted: buckets of several days per report date inside the aggregate, one-day
        # buckets per listed entry — the rules of ``_convert`` below, byte for byte
        # (``tests/fx/test_converted_written.py``).
        written = await repository.aggregate_written(
            session,
            workspace_id,
            start=span.start,
            end=span.end,
            granularity=granularity.value,
            dimensions=[d.value for d in group_by],
            filters=filters,
            after=after,
            limit=paging.fetch,
            span=(span.start, span.end),
            fx=None if book is None else in_sql.kept_table(book, span.start, span.end),
            kept=book is None or kept_converted,
        )
        next_cursor = None if written.last_key is None else encode_cursor(written.last_key)
        items = report_json.ArrayItems(written.items)
    else:
        # Buckets of several days without groups: each rollup row converts at its own report
        # date's rate inside the aggregate (see ``app.fx.in_sql``).
        fx = None if book is None else in_sql.kept_table(book, span.start, span.end)
        book = None
        rows = await repository.aggregate(
            session,
            workspace_id,
            start=span.start,
            end=span.end,
            granularity=granularity.value,
            dimensions=[d.value for d in group_by],
            filters=filters,
            after=after,
            limit=paging.fetch,
            fx=fx,
        )
        page, next_cursor = paging.split(rows, AggregateRow.sort_key)
        if book is None and fx is None:
            items = _items(page, span, granularity, group_by, book, fx)
        else:
            with _collector_paused():
                items = _items(page, span, granularity, group_by, book, fx)
    return {
        "currency": target,
        "granularity": granularity,
        "group_by": group_by,
        "items": items,
        "next_cursor": next_cursor,
        "incomplete_dates": dates,
    }


@dataclass(frozen=True)
class Known(Generic[States]):
    """What a kept answer's first statement read besides its version, for building the answer
    when it is not kept yet: the states of its dates and, converted, the rates' book."""

    states: States
    book: convert.RateBook | None
    #: Whether the answer's items are kept converted at the book's rates, as
    #: ``repository.converted_current`` read them (False: not such an answer).
    kept_converted: bool = False


def _answer_version(
    version: str, read: kept.BookRead, rates: str | None
) -> tuple[str | None, convert.RateBook | None]:
    """(the version an answer is kept under, its book): a converted answer's version includes
    the rates' (``fx_data_version``); None when the rates have no version row (such an answer
    is built, not kept: a rate written later could not be told apart)."""
    if read.also is None:  # no reporting currency
        return version, None
    rates_version, book = read.versioned_book(rates)
    return (None if rates_version is None else f"{version};fx:{rates_version}"), book


async def kept_report_states(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    *,
    span: DateRange,
    granularity: Granularity,
    group_by: list[Dimension],
    filters: SalesFilter,
    now: dt.datetime,
    target: str | None = None,
    max_rate_age_days: int = 7,
) -> tuple[str | None, Known[list[dict[str, Any]]]]:
    """(the version of the data a ``sales_report`` reads — in ``target`` with its rates —,
    its incomplete dates and book), in one statement: what a kept answer is looked up by, and
    what building it needs besides the aggregate."""
    read = _book_read(workspace_id, target, span, max_rate_age_days)
    current = _converted_current(
        workspace_id, target, span, granularity, group_by, filters, max_rate_age_days
    )
    version, (rates, current_value), states = await version_repository.sales_states(
        session,
        workspace_id,
        start=span.start,
        end=span.end,
        granularity=granularity.value,
        dimensions=[d.value for d in group_by],
        filters=filters,
        also=(read.also, current),
    )
    newest = calendar.latest_daily(now)
    incomplete = [
        {"report_date": day, "account_id": account_id, "state": query.day_state(day, state, newest)}
        for day, account_id, state in states
    ]
    answer_version, book = _answer_version(version, read, rates)
    return answer_version, Known(incomplete, book, current_value == "true")


async def kept_app_states(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    app_id: uuid.UUID,
    *,
    span: DateRange,
    now: dt.datetime,
    target: str | None = None,
    max_rate_age_days: int = 7,
) -> tuple[str | None, Known[query.AppDays]]:
    """(the version of the data an ``app_summary`` reads — in ``target`` with its rates —, the
    app with its account's state of every day — 404 outside the workspace — and the book), in
    one statement."""
    read = _book_read(workspace_id, target, span, max_rate_age_days)
    version, rates, found = await version_repository.app_states(
        session, workspace_id, app_id, start=span.start, end=span.end, rates=read.also
    )
    if found is None:
        raise NotFound(f"no app with id {app_id}")
    newest = calendar.latest_daily(now)
    states = {day: query.day_state(day, state, newest) for day, state in found.states}
    app = query.AppDays(found.app_id, found.name, found.account_id, states)
    answer_version, book = _answer_version(version, read, rates)
    return answer_version, Known(app, book)


async def app_summary(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    app_id: uuid.UUID,
    *,
    span: DateRange,
    now: dt.datetime,
    currency: str | None = None,
    default_currency: str | None,
    max_rate_age_days: int = 7,
    known: Known[query.AppDays] | None = None,
) -> Payload:
    """The `AppSalesSummary` document (see ``Payload``), converted like ``sales_report``.
    ``known``: the app with its days' states and the rates, already read
    (``kept_app_states``)."""
    target = convert.target_currency(currency, default_currency)
    if known is not None:
        app, book = known.states, known.book
    else:
        # The app (404 outside the workspace) with its account's state of every day, and
        # the span's rates read along (only their version while a kept book is current).
        read = _book_read(workspace_id, target, span, max_rate_age_days)
        newest = calendar.latest_daily(now)
        value, app = await query.app_day_states_and(
            session, workspace_id, app_id, DAILY_DATASET, span, newest, read.also
        )
        book = read.book(value)
    if target is None:  # PostgreSQL writes the measures' JSON (``app.sales.card``)
        return await card.written_summary(session, workspace_id, app, span)
    return await _built_summary(session, workspace_id, app, span, target, book)


async def _built_summary(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    app: query.AppDays,
    span: DateRange,
    target: str | None,
    book: convert.RateBook | None,
) -> Payload:
    """``app_summary``'s document built here from the aggregate's rows: converted with
    ``book``; unconverted (``book`` None), the bytes ``card.written_summary`` writes."""
    states = app.states
    filters = SalesFilter(app_ids=[app.app_id])
    rows = await repository.aggregate(
        session,
        workspace_id,
        start=span.start,
        end=span.end,
        granularity=Granularity.DAY.value,
        dimensions=[],
        filters=filters,
        after=None,
        limit=span.days,
    )
    by_day = {row.bucket: row for row in rows}
    series = []
    for day in calendar.days(span.start, span.end):
        row = by_day.get(day)
        measures = _measures(row, book) if row else _merged([])
        if row is None and book is not None:
            convert.convert_measures(book, measures, [])
        series.append({"report_date": day, "state": states[day], **measures})
    totals = _merged(rows)
    if book is not None:
        convert.convert_measures(book, totals, (t for row in rows for t in _daily(row)))
    return {
        "currency": target,
        "app_id": app.app_id,
        "app_name": app.name,
        "from": span.start,
        "to": span.end,
        "totals": totals,
        "series": series,
        "incomplete_dates": [
            {"report_date": day, "account_id": app.account_id, "state": state}
            for day, state in states.items()
            if state not in query.COMPLETE
        ],
    }


async def list_rows(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    *,
    frequency: str,
    start: dt.date | None,
    end: dt.date | None,
    filters: SalesFilter,
    paging: PageRequest,
) -> Page[SalesRowRead]:
    if start is not None and end is not None and start > end:
        raise ValidationFailed.single("query.from", "must not be after 'to'", "out_of_range")
    after = paging.after(cursors.day, cursors.integer)
    rows = await repository.list_rows(
        session,
        workspace_id,
        frequency=frequency,
        start=start,
        end=end,
        filters=filters,
        after=after,
        limit=paging.fetch,
    )
    return paging.page(rows, lambda r: [r.report_date.isoformat(), r.id], _row_read)


def _unit_money(amount: Decimal | None, currency: str | None) -> Money | None:
    return Money.of(amount, currency)


def _row_read(row: SalesRow) -> SalesRowRead:
    proceeds = row.units * (row.developer_proceeds or Decimal(0))
    # abs(): Apple writes refunds as negative units *and* a negative price.
    customer_sales = row.units * abs(row.customer_price or Decimal(0))
    return SalesRowRead(
        id=row.id,
        account_id=row.account_id,
        app_id=row.app_id,
        frequency=Frequency(row.frequency),
        report_date=row.report_date,
        begin_date=row.begin_date,
        end_date=row.end_date,
        provider=row.provider,
        provider_country=row.provider_country,
        sku=row.sku,
        developer=row.developer,
        title=row.title,
        version=row.version,
        product_type=row.product_type,
        unit_kind=UnitKind(row.unit_kind),
        platform=row.platform,
        units=_count(row.units),
        developer_proceeds=_unit_money(row.developer_proceeds, row.proceeds_currency),
        customer_price=_unit_money(row.customer_price, row.customer_currency),
        proceeds=Money.of(proceeds, row.proceeds_currency),
        customer_sales=Money.of(customer_sales, row.customer_currency),
        country=row.country_code,
        apple_identifier=row.apple_identifier,
        parent_identifier=row.parent_identifier,
        promo_code=row.promo_code,
        subscription=row.subscription,
        period=row.period,
        category=row.category,
        cmb=row.cmb,
        device=row.device,
        supported_platforms=row.supported_platforms,
        proceeds_reason=row.proceeds_reason,
        preserved_pricing=row.preserved_pricing,
        client=row.client,
        order_type=row.order_type,
        extra=row.extra or {},
    )


async def day_totals(
    session: AsyncSession, workspace_id: uuid.UUID, account_id: uuid.UUID, day: dt.date
) -> Payload:
    """One account's measures of one report date (``SalesMeasures``), from the rollup."""
    rows = await repository.aggregate(
        session,
        workspace_id,
        start=day,
        end=day,
        granularity=Granularity.DAY.value,
        dimensions=[],
        filters=SalesFilter(account_ids=[account_id]),
        after=None,
        limit=1,
    )
    return _measures(rows[0]) if rows else _merged([])

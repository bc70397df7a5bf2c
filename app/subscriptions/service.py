"""Subscription queries: scope, completeness of dates, and the measures of ``metrics``."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from itertools import groupby
from operator import itemgetter
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import NotFound
from app.fx import convert
from app.fx.schemas import ConvertedTotal, ConvertibleMoney
from app.kit.money import Money, amount_text
from app.models import AscAccount
from app.reports import calendar, query
from app.reports.schemas import IncompleteDate
from app.subscriptions import request_repository
from app.subscriptions.metrics import (
    OFFER_KINDS,
    STATISTICS,
    EventGroup,
    MrrTotal,
    OfferType,
    event_group,
)
from app.subscriptions.repository import EventRow, KindRow
from app.subscriptions.request_repository import Fetched, ScopeAsk
from app.subscriptions.schemas import (
    EVENT_METRICS,
    CountPoint,
    CountSeries,
    EventCount,
    EventDimension,
    EventGroupTotals,
    Metric,
    RowFilter,
    SubscriptionEvents,
    SubscriptionMeasures,
    SubscriptionSummary,
    SummaryDimension,
    SummaryGroup,
)
from app.subscriptions.series_days import is_zero

SNAPSHOT_DATASET = "subscriptions_daily"
EVENTS_DATASET = "subscription_events_daily"
#: Report files that can hold events of a date E (FACTS §5.4, §8): a real file for 2020-10-05
#: holds event dates 10-04 … 10-06, and an event date's totals can still change for about two
#: report days after it. Event totals of E are complete only once the files of E−1 … E+2 are
#: all facts; until then the missing files are listed in ``incomplete_dates``.
EVENT_FILES_BEFORE = 1
EVENT_FILES_AFTER = 2
MAX_RANGE_DAYS = 400
D = TypeVar("D", bound=StrEnum)


@dataclass(frozen=True)
class Scope:
    filters: RowFilter
    accounts: list[uuid.UUID]


async def resolve_scope(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    account_id: uuid.UUID | None,
    app_id: uuid.UUID | None,
) -> Scope:
    """Rows and accounts a query covers. A named account or app of another workspace is 404."""
    if account_id is not None:
        account = await session.get(AscAccount, account_id)
        if account is None or account.workspace_id != workspace_id:
            raise NotFound(f"no account with id {account_id}")
    if app_id is None:
        accounts = await query.accounts_in_scope(
            session, workspace_id, account_ids=[account_id] if account_id else []
        )
        return Scope(RowFilter(account_id=account_id), accounts)
    app = await query.get_app(session, workspace_id, app_id)
    if account_id is not None and app.account_id != account_id:
        raise NotFound(f"no app with id {app_id} in account {account_id}")
    return Scope(RowFilter(account_id=app.account_id, app_apple_id=app.apple_id), [app.account_id])


# --- completeness -----------------------------------------------------------------------


@dataclass
class Completeness:
    facts: dict[dt.date, int] = field(default_factory=lambda: defaultdict(int))
    incomplete: list[IncompleteDate] = field(default_factory=list)
    accounts: int = 0

    def complete(self, day: dt.date) -> bool:
        return self.facts[day] == self.accounts

    def known(self, day: dt.date) -> bool:
        return self.facts[day] > 0


async def _requested(session: AsyncSession, ask: ScopeAsk, currency: str | None) -> str | None:
    """The ``currency`` asked for, checked (no statement); the workspace's default reporting
    currency comes with the request's statement (``Fetched.reporting_currency``)."""
    if currency is None:
        return None
    return await convert.resolve_target(session, ask.workspace_id, currency)


def check_scope(ask: ScopeAsk, fetched: Fetched) -> None:
    """``resolve_scope``'s 404s, from what the request's statement found."""
    if ask.account_id is not None and not fetched.account_found:
        raise NotFound(f"no account with id {ask.account_id}")
    if ask.app_id is None:
        return
    if not fetched.app_found:
        raise NotFound(f"no app with id {ask.app_id}")
    if ask.account_id is not None and fetched.app_account != ask.account_id:
        raise NotFound(f"no app with id {ask.app_id} in account {ask.account_id}")


def fetched_completeness(fetched: Fetched, now: dt.datetime) -> Completeness:
    """``completeness`` from the availability states the request's statement read."""
    found = Completeness(accounts=fetched.accounts)
    found.facts.update(fetched.facts)
    newest = calendar.latest_daily(now)
    found.incomplete = [
        IncompleteDate(
            report_date=day, account_id=account, state=query.day_state(day, state, newest)
        )
        for day, account, state in fetched.incomplete
    ]
    return found


# --- snapshot measures ------------------------------------------------------------------


def _money(pairs: Iterable[tuple[str, Decimal]]) -> list[Money]:
    entries = (Money.of(a, c) for c, a in pairs if a != 0)
    return [m for m in entries if m is not None]


_PROGRAMS = ("introductory", "promotional", "offer_code", "win_back")


@dataclass
class Tally:
    kinds: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    mrr: MrrTotal = field(default_factory=MrrTotal)

    def add(self, row: KindRow) -> None:
        self.kinds[row.kind] += row.count
        if row.kind in OFFER_KINDS and OfferType(row.kind).in_mrr:
            self.mrr.add(row.currency, row.duration, row.proceeds, row.count - row.unpriced)
            self.mrr.excluded += row.unpriced

    def measures(self, *, statistics: bool = True) -> dict[str, Any]:
        offers = [(OfferType(k), n) for k, n in self.kinds.items() if k in OFFER_KINDS]
        values: dict[str, Any] = {
            "active": sum(n for _, n in offers),
            "paying": sum(n for kind, n in offers if kind.paying),
            "free_trial": sum(n for kind, n in offers if not kind.paying),
            **{
                program: sum(n for kind, n in offers if kind.program == program)
                for program in _PROGRAMS
            },
            "estimated_mrr": _money(self.mrr.rounded()),
            "mrr_excluded_subscriptions": self.mrr.excluded,
        }
        for name in STATISTICS:
            values[name] = self.kinds.get(name, 0) if statistics else None
        return values

    def value(self, metric: Metric) -> int:
        """One count measure of ``measures`` — computed alone: a year's series asks for one
        measure of 365 days."""
        name = metric.value
        if name in STATISTICS:
            return int(self.kinds.get(name, 0))
        offers = [(OfferType(k), n) for k, n in self.kinds.items() if k in OFFER_KINDS]
        if name == "active":
            return int(sum(n for _, n in offers))
        if name == "paying":
            return int(sum(n for kind, n in offers if kind.paying))
        if name == "free_trial":
            return int(sum(n for kind, n in offers if not kind.paying))
        if name in _PROGRAMS:
            return int(sum(n for kind, n in offers if kind.program == name))
        return int(self.measures()[name])


def _sort_key(values: tuple[str | None, ...]) -> tuple[tuple[bool, str], ...]:
    return tuple((value is None, value or "") for value in values)


def summary_groups(rows: list[KindRow], group_by: list[SummaryDimension]) -> list[SummaryGroup]:
    sql_dims = [d for d in group_by if d is not SummaryDimension.OFFER_TYPE]
    by_offer = SummaryDimension.OFFER_TYPE in group_by
    tallies: dict[tuple[str | None, ...], Tally] = defaultdict(Tally)
    names: dict[str | None, tuple[str | None, str | None]] = {}
    for row in rows:
        if by_offer and row.kind not in OFFER_KINDS:
            continue  # Apple does not split billing retry & co. by offer
        values: dict[SummaryDimension, str | None] = dict(zip(sql_dims, row.group, strict=True))
        values[SummaryDimension.OFFER_TYPE] = row.kind
        key = tuple(values[d] for d in group_by)
        tallies[key].add(row)
        if SummaryDimension.SUBSCRIPTION in values:
            names[values[SummaryDimension.SUBSCRIPTION]] = (
                row.subscription_name,
                row.app_apple_id,
            )
    groups = []
    for key in sorted(tallies, key=_sort_key):
        values = dict(zip(group_by, key, strict=True))
        subscription = values.get(SummaryDimension.SUBSCRIPTION)
        name, app_apple_id = names.get(subscription, (None, None)) if subscription else (None,) * 2
        offer = values.get(SummaryDimension.OFFER_TYPE)
        groups.append(
            SummaryGroup(
                subscription_apple_id=subscription,
                subscription_name=name,
                app_apple_id=app_apple_id,
                country=values.get(SummaryDimension.COUNTRY),
                offer_type=OfferType(offer) if offer else None,
                **tallies[key].measures(statistics=not by_offer),
            )
        )
    return groups


async def summary(
    session: AsyncSession,
    ask: ScopeAsk,
    *,
    day: dt.date | None,
    group_by: list[SummaryDimension],
    now: dt.datetime,
    currency: str | None = None,
    max_rate_age_days: int = 7,
) -> SubscriptionSummary:
    """One statement reads the scope, the day, its rows and their completeness
    (``request_repository``); a second the rates, only when converting."""
    requested = (
        await convert.resolve_target(session, ask.workspace_id, currency) if currency else None
    )
    sql_dims = [d.value for d in group_by if d is not SummaryDimension.OFFER_TYPE]
    fetched = await request_repository.snapshot_request(
        session, ask, dataset=SNAPSHOT_DATASET, start=day, end=day, dimensions=sql_dims
    )
    check_scope(ask, fetched)
    target = requested or fetched.reporting_currency
    day = fetched.day
    if day is None:
        return SubscriptionSummary(
            report_date=None,
            group_by=group_by,
            totals=SubscriptionMeasures(**Tally().measures()),
            groups=[],
            incomplete_dates=[],
        )
    rows = fetched.kinds
    totals = Tally()
    for row in rows:
        totals.add(row)
    done = fetched_completeness(fetched, now)
    report = SubscriptionSummary(
        report_date=day,
        group_by=group_by,
        totals=SubscriptionMeasures(**totals.measures()),
        groups=summary_groups(rows, group_by) if group_by else [],
        incomplete_dates=done.incomplete,
    )
    if target is not None:
        await _convert_mrr(session, ask.workspace_id, report, day, target, max_rate_age_days)
    return report


async def _convert_mrr(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    report: SubscriptionSummary,
    day: dt.date,
    target: str,
    max_rate_age_days: int,
) -> None:
    """Every ``estimated_mrr`` of the summary converted at the report date's rate."""
    report.currency = target
    measures = [report.totals, *report.groups]
    currencies = {m.currency for item in measures for m in item.estimated_mrr if m.currency}
    book = await convert.book_for(
        session,
        workspace_id,
        target=target,
        currencies=currencies,
        start=day,
        end=day,
        max_age_days=max_rate_age_days,
    )
    for item in measures:
        listed = [m.model_dump() for m in item.estimated_mrr]
        triples = [(day, m.currency, Decimal(m.amount)) for m in item.estimated_mrr]
        total = convert.convert_measure(book, listed, triples)
        item.estimated_mrr = [ConvertibleMoney.model_validate(m) for m in listed]
        item.estimated_mrr_total_converted = ConvertedTotal.model_validate(total)


# --- events ------------------------------------------------------------------------------


@dataclass
class EventTally:
    groups: dict[EventGroup, int] = field(default_factory=lambda: dict.fromkeys(EventGroup, 0))
    trial_starts: int = 0
    trial_conversions: int = 0

    def add(self, row: EventRow) -> None:
        group = event_group(row.event)
        self.groups[group] += row.quantity
        if row.free_trial and group is EventGroup.ACTIVATION:
            self.trial_starts += row.quantity
        if row.free_trial and group is EventGroup.CONVERSION:
            self.trial_conversions += row.quantity

    def metric(self, metric: Metric) -> int:
        if metric is Metric.CHURNED:
            return self.groups[EventGroup.CANCELLATION]
        return self.trial_starts if metric is Metric.TRIAL_STARTS else self.trial_conversions


def event_groups(rows: list[EventRow], group_by: list[EventDimension]) -> list[EventCount]:
    sql_dims = [d for d in group_by if d in (EventDimension.SUBSCRIPTION, EventDimension.COUNTRY)]
    totals: dict[tuple[str | None, ...], int] = defaultdict(int)
    names: dict[str | None, str | None] = {}
    for row in rows:
        values: dict[EventDimension, str | None] = dict(zip(sql_dims, row.group, strict=True))
        values[EventDimension.EVENT] = row.event
        values[EventDimension.EVENT_GROUP] = event_group(row.event).value
        totals[tuple(values[d] for d in group_by)] += row.quantity
        names[values.get(EventDimension.SUBSCRIPTION)] = row.subscription_name
    counts = []
    for key in sorted(totals, key=_sort_key):
        values = dict(zip(group_by, key, strict=True))
        event = values.get(EventDimension.EVENT)
        group = values.get(EventDimension.EVENT_GROUP)
        if EventDimension.EVENT in values:
            group = event_group(event).value
        subscription = values.get(EventDimension.SUBSCRIPTION)
        counts.append(
            EventCount(
                event=event,
                event_group=EventGroup(group) if group else None,
                subscription_apple_id=subscription,
                subscription_name=names.get(subscription) if subscription else None,
                country=values.get(EventDimension.COUNTRY),
                quantity=totals[key],
            )
        )
    return counts


async def events(
    session: AsyncSession,
    ask: ScopeAsk,
    *,
    start: dt.date,
    end: dt.date,
    group_by: list[EventDimension],
    now: dt.datetime,
) -> SubscriptionEvents:
    """One statement reads the scope, the event sums and the files' completeness."""
    query.date_range(start, end, MAX_RANGE_DAYS)
    sql_dims = [
        d.value for d in group_by if d in (EventDimension.SUBSCRIPTION, EventDimension.COUNTRY)
    ]
    fetched = await request_repository.event_request(
        session,
        ask,
        dataset=EVENTS_DATASET,
        start=start,
        end=end,
        files=_event_files(start, end),
        dimensions=sql_dims,
    )
    check_scope(ask, fetched)
    rows = fetched.events
    tally = EventTally()
    for row in rows:
        tally.add(row)
    done = fetched_completeness(fetched, now)
    return SubscriptionEvents(
        from_date=start,
        to_date=end,
        group_by=group_by,
        groups=event_groups(rows, group_by),
        totals=EventGroupTotals(**{g.value: n for g, n in tally.groups.items()}),
        churned=tally.groups[EventGroup.CANCELLATION],
        trial_starts=tally.trial_starts,
        trial_conversions=tally.trial_conversions,
        incomplete_dates=done.incomplete,
    )


def _event_files(start: dt.date, end: dt.date) -> tuple[dt.date, dt.date]:
    """The report files that can hold events of [start, end] (see ``EVENT_FILES_BEFORE``)."""
    return (
        start - dt.timedelta(days=EVENT_FILES_BEFORE),
        end + dt.timedelta(days=EVENT_FILES_AFTER),
    )


# --- series ------------------------------------------------------------------------------


async def series(
    session: AsyncSession,
    ask: ScopeAsk,
    *,
    metric: Metric,
    start: dt.date,
    end: dt.date,
    now: dt.datetime,
    currency: str | None = None,
    max_rate_age_days: int = 7,
    series_source: str = "precomputed",
) -> CountSeries | Payload:
    """``metric`` per day; ``estimated_mrr`` (a ``MoneySeries`` document, see
    ``_mrr_series``) with a reporting currency (``currency`` or the workspace's default) also
    converted, each day at its own report date's rate. One statement reads the scope, the rows
    and their completeness (``request_repository``); a second the rates, only when
    converting. ``series_source``: where the snapshot values come from (the values
    precomputed per day in ``series_days`` where they answer, else the snapshot rollup;
    ``"rollup"`` or ``"raw"``: the rollup or the raw rows, for the test that proves them
    equal)."""
    query.date_range(start, end, MAX_RANGE_DAYS)
    requested = await _requested(session, ask, currency)
    values: dict[dt.date, int] = {}
    if metric in EVENT_METRICS:
        fetched = await request_repository.event_request(
            session,
            ask,
            dataset=EVENTS_DATASET,
            start=start,
            end=end,
            files=_event_files(start, end),
            dimensions=[],
        )
        check_scope(ask, fetched)
        done = fetched_completeness(fetched, now)
        per_day: dict[dt.date, EventTally] = defaultdict(EventTally)
        for event in fetched.events:
            per_day[event.event_date].add(event)
        values = {day: tally.metric(metric) for day, tally in per_day.items()}

        def complete(day: dt.date) -> bool:
            return all(
                done.complete(day + dt.timedelta(days=offset))
                for offset in range(-EVENT_FILES_BEFORE, EVENT_FILES_AFTER + 1)
            )

    else:
        fetched = await request_repository.snapshot_request(
            session,
            ask,
            dataset=SNAPSHOT_DATASET,
            start=start,
            end=end,
            dimensions=[],
            money=False,
            mrr_only=metric is Metric.ESTIMATED_MRR,
            series_source=series_source,
        )
        check_scope(ask, fetched)
        done = fetched_completeness(fetched, now)
        if metric is Metric.ESTIMATED_MRR:
            return await _mrr_series(
                session, ask.workspace_id, fetched, done, start, end, requested, max_rate_age_days
            )
        tallies: dict[dt.date, Tally] = defaultdict(Tally)
        for row in fetched.kinds:
            tallies[row.report_date].add(row)
        values = {day: tally.value(metric) for day, tally in tallies.items()}
        complete = done.complete

    return CountSeries(
        kind="count",
        metric=metric,
        from_date=start,
        to_date=end,
        points=[
            CountPoint(
                report_date=day,
                value=values.get(day, 0) if done.known(day) else None,
                complete=complete(day),
            )
            for day in calendar.days(start, end)
        ],
        incomplete_dates=done.incomplete,
    )


def _listed(amounts: Iterable[tuple[str, Decimal]]) -> list[dict[str, Any]]:
    """``_money`` of (currency, unrounded amount) in currency order as plain data: each amount
    rounded once, zeros left out."""
    listed = []
    for currency, amount in amounts:
        text = amount_text(amount, currency)
        if Decimal(text) != 0:
            listed.append({"amount": text, "currency": currency})
    return listed


#: A response document exactly as the API sends it, shaped like its pydantic schema (here
#: ``MoneySeries``, which documents it), built as plain data and serialised without a second
#: validation (as ``app.sales.service.Payload``): a year of MRR is thousands of amounts, and
#: a model object per amount cost more than the statement. The tests validate the responses
#: against the schema.
Payload = dict[str, Any]


async def _mrr_series(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    fetched: Fetched,
    done: Completeness,
    start: dt.date,
    end: dt.date,
    requested: str | None,
    max_rate_age_days: int,
) -> Payload:
    """The ``estimated_mrr`` series document: per day, ``MrrTotal`` of the day's bases (read in
    one order, ``repository.mrr_order``) or the same amounts precomputed (``series_days``), each
    currency rounded once (``_money``'s amounts, as plain data); with a reporting currency also
    converted at the day's rate."""
    amounts: dict[dt.date, list[dict[str, Any]]] = {}
    if fetched.mrr_amounts is not None:  # already rounded
        for day, found in groupby(fetched.mrr_amounts, key=itemgetter(0)):
            amounts[day] = [{"amount": a, "currency": c} for _, c, a in found if not is_zero(a)]
    for day, rows in groupby(fetched.mrr_rows, key=itemgetter(0)):
        total = MrrTotal()
        for _, currency, duration, base in rows:
            total.add(currency, duration, base, 0)
        amounts[day] = _listed(sorted(total.amounts.items()))
    target = requested or fetched.reporting_currency
    book = None
    if target is not None:
        book = await convert.book_for(
            session,
            workspace_id,
            target=target,
            currencies={m["currency"] for ms in amounts.values() for m in ms},
            start=start,
            end=end,
            max_age_days=max_rate_age_days,
        )
    points: list[dict[str, Any]] = []
    for day in calendar.days(start, end):
        point: dict[str, Any] = {"report_date": day, "amounts": None}
        if done.known(day):
            listed = amounts.get(day, [])
            if book is not None:
                listed = [dict(m) for m in listed]
                triples = [(day, m["currency"], Decimal(m["amount"])) for m in listed]
                point["amounts_total_converted"] = convert.convert_measure(book, listed, triples)
            point["amounts"] = listed
        elif book is not None:
            point["amounts_total_converted"] = None
        point["complete"] = done.complete(day)
        points.append(point)
    return {
        "kind": "money",
        **({"currency": target} if book is not None else {}),
        "metric": Metric.ESTIMATED_MRR.value,
        "from": start,
        "to": end,
        "points": points,
        "incomplete_dates": [
            d.model_dump(mode="json", by_alias=True, exclude_unset=True) for d in done.incomplete
        ],
    }

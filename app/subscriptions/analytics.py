"""Subscription analytics: the metric catalogue and metric buckets (``/v1/subscriptions/metrics``).

The SQL aggregates (``analytics_repository``); this module decides which sources a request
needs, reads stocks on each bucket's ``as_of`` date, divides ratios per bucket and group (never
summing rates), formats money per currency, pages, and lists incomplete report dates.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import ValidationFailed
from app.fx import convert, kept
from app.fx.schemas import ConvertedTotal, ConvertibleMoney
from app.kit.money import CURRENCY_PATTERN, NO_CURRENCY, amount_text, minor_units
from app.kit.pagination import PageRequest, bad_cursor, decode_cursor, encode_cursor
from app.reports import calendar, query
from app.reports.repository import Also
from app.subscriptions import analytics_repository as repo
from app.subscriptions import service
from app.subscriptions.analytics_repository import (
    EventBucket,
    RowScope,
    SnapshotDay,
    Trace,
    TransactionBucket,
)
from app.subscriptions.analytics_schemas import (
    MetricCatalog,
    MetricDimension,
    MetricGranularity,
    MetricIncompleteDate,
    MetricInfo,
)
from app.subscriptions.catalog import BY_NAME, METRICS, QUERYABLE, Family, MetricDef, Unit
from app.subscriptions.request_repository import Batch, ScopeAsk, prefixed

MAX_RANGE_DAYS = 400
MAX_METRICS = 40
RATIO_PLACES = Decimal("0.000001")
CENT = Decimal("0.01")
SNAPSHOT_DATASET = "subscriptions_daily"
EVENTS_DATASET = "subscription_events_daily"
SUBSCRIBERS_DATASET = "subscribers_daily"
#: Event and Subscriber files carry events up to two days late (FACTS §8).
LATE_DAYS = 2
CONVERSION_NOTE = (
    "none: money is per currency as Apple reports it (developer proceeds in the proceeds "
    "currency, customer prices in the customer currency). Ask for a reporting currency "
    "(`currency=`, or set the workspace's default) to add converted amounts."
)
#: The rule of converted subscription metrics (``currency_conversion`` when converting).
CONVERSION_RULE = (
    "Money keeps its per-currency amounts and gains `converted` in the reporting currency; "
    "`values_total_converted` holds each money metric's converted total, with what had no "
    "rate (`unconverted`, `partial`). Flows (proceeds, sales, refunds, net proceeds) convert "
    "each Event Date at that day's rate, then sum — never one rate for a week or month. "
    "Stocks (mrr, arr) convert at the rate of the day they are read on (`as_of`). MRR "
    "movements and subscriber_mrr (differences of two MRR states, not sums of days) convert "
    "at the rate of the bucket's last day in range. Ratios of money (arpu, arppu) divide the "
    "exactly converted numerator by the same denominator as per currency; their total "
    "divides the converted net proceeds of every currency by the bucket's whole "
    "denominator, and lists the numerator's money without a rate as `unconverted`. A rate "
    "is the latest published on or before its day. " + convert.RULE
)
_TABLES = {
    SNAPSHOT_DATASET: "subscription_snapshot_rows",
    EVENTS_DATASET: "subscription_event_rows",
    SUBSCRIBERS_DATASET: "subscriber_transaction_rows",
}


def catalog() -> MetricCatalog:
    return MetricCatalog(
        metrics=[
            MetricInfo(
                name=m.name,
                title=m.title,
                family=m.family,
                unit=m.unit,
                definition=m.definition,
                sources=list(m.sources),
                columns=list(m.columns),
                additive_over_time=m.additive_over_time,
                additive_over_groups=m.additive_over_groups,
                caveats=list(m.caveats),
                route=(
                    "/v1/subscriptions/cohorts"
                    if m.family is Family.COHORT
                    else "/v1/subscriptions/metrics"
                ),
            )
            for m in METRICS
        ]
    )


# --- request -------------------------------------------------------------------------------


def parse_metrics(values: list[str] | None) -> list[MetricDef]:
    """``metric`` given comma-separated, repeated or both; in the order first named."""
    names: list[str] = []
    for value in values or []:
        for name in (part.strip() for part in value.split(",")):
            if name and name not in names:
                names.append(name)
    if not names:
        raise ValidationFailed.single("query.metric", "name at least one metric", "missing")
    if len(names) > MAX_METRICS:
        raise ValidationFailed.single(
            "query.metric", f"at most {MAX_METRICS} metrics per call", "too_long"
        )
    for name in names:
        if name not in QUERYABLE:
            hint = " (a cohort metric: see /v1/subscriptions/cohorts)" if name in BY_NAME else ""
            raise ValidationFailed.single(
                "query.metric",
                f"unknown metric '{name[:40]}'{hint}; see /v1/subscriptions/metrics/catalog",
                "enum",
            )
    return [BY_NAME[name] for name in names]


def parse_metric(value: str) -> MetricDef:
    """Exactly one metric name."""
    if "," in value:
        raise ValidationFailed.single("query.metric", "name exactly one metric", "invalid")
    return parse_metrics([value])[0]


@dataclass(frozen=True)
class Needs:
    """What a request reads: event predicates, transactions, snapshots (and opening days)."""

    events: dict[str, str]
    transactions: bool
    snapshot: bool
    opening: bool
    movements: bool = False
    payers: bool = False  # distinct paying Subscriber IDs (paying_subscribers, arppu)
    by_currency: bool = False  # actives per proceeds currency (arpu)


def _expand(metrics: list[MetricDef]) -> set[str]:
    names: set[str] = set()
    for metric in metrics:
        names.add(metric.name)
        if metric.family is Family.RATIO:
            names.update(metric.parts)
    if "billing_resolutions" in names:
        names.update({"billing_recoveries", "involuntary_cancellations"})
    if "net_proceeds" in names:
        names.add("proceeds")
    return names


def needs_of(metrics: list[MetricDef]) -> Needs:
    names = _expand(metrics)
    defs = [BY_NAME[n] for n in names if n in BY_NAME]
    return Needs(
        events={m.name: m.sql for m in defs if m.family is Family.EVENTS},
        transactions=any(m.family is Family.TRANSACTIONS for m in defs),
        snapshot=any(m.family is Family.SNAPSHOT for m in defs) or "opening_paying_active" in names,
        opening="opening_paying_active" in names,
        movements=any(m.family is Family.MOVEMENTS for m in defs),
        payers="paying_subscribers" in names,
        by_currency="arpu" in names,
    )


# --- buckets -------------------------------------------------------------------------------


def bucket_start(day: dt.date, granularity: MetricGranularity) -> dt.date:
    if granularity is MetricGranularity.WEEK:
        return day - dt.timedelta(days=day.weekday())
    if granularity is MetricGranularity.MONTH:
        return day.replace(day=1)
    return day


def bucket_end(start: dt.date, granularity: MetricGranularity) -> dt.date:
    if granularity is MetricGranularity.WEEK:
        return start + dt.timedelta(days=6)
    if granularity is MetricGranularity.MONTH:
        return calendar.month_end(start)
    return start


def buckets_of(start: dt.date, end: dt.date, granularity: MetricGranularity) -> list[dt.date]:
    found, day = [], bucket_start(start, granularity)
    while day <= end:
        found.append(day)
        day = bucket_end(day, granularity) + dt.timedelta(days=1)
    return found


Key = tuple[dt.date, tuple[str | None, ...]]


@dataclass
class Sources:
    events: dict[Key, EventBucket] = field(default_factory=dict)
    transactions: dict[Key, TransactionBucket] = field(default_factory=dict)
    as_of: dict[dt.date, dt.date] = field(default_factory=dict)  # bucket → snapshot date
    closing: dict[Key, SnapshotDay] = field(default_factory=dict)
    opening: dict[Key, SnapshotDay] = field(default_factory=dict)
    opening_known: set[dt.date] = field(default_factory=set)  # buckets with an opening day
    movements: dict[Key, dict[str, dict[str | None, Decimal]]] = field(default_factory=dict)


async def _read(
    session: AsyncSession,
    ask: ScopeAsk,
    scope: RowScope,
    needs: Needs,
    start: dt.date,
    end: dt.date,
    granularity: MetricGranularity,
    dims: list[str],
    now: dt.datetime,
    by_day: bool = False,
    rates: Also | None = None,
) -> tuple[Sources, list[MetricIncompleteDate], Any]:
    """Every source a request needs, its incomplete report dates, and ``rates``' value (a
    conversion's rates: ``kept.book_read``), read by one statement
    (``request_repository.Batch``: the scope and its 404s, events, transactions, distinct
    payers, bucket ends, snapshot days, availability), after ``roomy``; MRR movements first,
    by their own statement, when asked for. ``by_day`` keeps transaction money per Event Date
    (conversion needs each day)."""
    found = Sources()
    g = granularity.value
    # Movements first: their whole-history window runs faster with the default work_mem
    # (measured) than with the room the rollup aggregates get below.
    if needs.movements:
        spans = [
            (b, max(b, start), min(bucket_end(b, granularity), end))
            for b in buckets_of(start, end, granularity)
        ]
        for row in await repo.mrr_movements(session, scope, buckets=spans, dimensions=dims):
            cell = found.movements.setdefault((row.bucket, row.group), {})
            for name, amount in row.amounts.items():
                cell.setdefault(name, {})[row.currency] = amount
    await repo.roomy(session)
    batch = Batch(ask)
    if needs.events:
        events = batch.add(
            *repo.event_buckets_sql(
                scope,
                start=start,
                end=end,
                granularity=g,
                dimensions=dims,
                predicates=needs.events,
            )
        )
    if needs.transactions:
        sql, params = repo.transaction_buckets_sql(
            scope, start=start, end=end, granularity=g, dimensions=dims, by_day=by_day
        )
        transactions = batch.add(sql, params)
        if needs.payers:
            payers_sql, precomputed = repo.payers_sql(scope, params, dims)
            payers = batch.add(payers_sql, params)
    openings: dict[dt.date, dt.date] = {}
    if needs.snapshot:
        ends_sql, ends_params = repo.bucket_ends_sql(scope, start=start, end=end, granularity=g)
        ends = batch.add(ends_sql, ends_params)
        if needs.opening:
            openings = {
                max(b, start) - dt.timedelta(days=1): b for b in buckets_of(start, end, granularity)
            }
        more_sql, more_params = prefixed(ends_sql, ends_params, "more_")
        stored = repo.stored_days_answer(scope, dims, needs.by_currency)
        if stored:
            days_sql, days_params = repo.stored_days_sql(
                scope, days=sorted(openings), more_days=more_sql
            )
        else:
            days_sql, days_params = repo.snapshot_days_sql(
                scope, days=sorted(openings), dimensions=dims, more_days=more_sql
            )
        days = batch.add(days_sql, {**days_params, **more_params})
    states = [
        (dataset, batch.add_states(dataset, first, last))
        for dataset, first, last in _incomplete_spans(needs, start, end)
    ]
    read_rates = None if rates is None else batch.add(f"SELECT {rates.sql} AS also", rates.params)
    fetched, results = await batch.run(session)
    service.check_scope(ask, fetched)
    if needs.events:
        for e in repo.event_buckets_of(results[events], dims, needs.events):
            found.events[(e.bucket, e.group)] = e
    if needs.transactions:
        buckets: dict[tuple[Any, ...], TransactionBucket] = {}
        repo.add_transactions(buckets, results[transactions], len(dims), by_day=by_day)
        if needs.payers:
            repo.add_payers(buckets, results[payers], len(dims), precomputed)
        found.transactions = {(t.bucket, t.group): t for t in buckets.values()}
    if needs.snapshot:
        found.as_of = {row[0]: row[1] for row in results[ends]}
        closing_bucket = {d: b for b, d in found.as_of.items()}
        rows = results[days]
        for s in repo.stored_days_of(rows) if stored else repo.snapshot_days_of(rows, dims):
            if s.day in closing_bucket:
                found.closing[(closing_bucket[s.day], s.group)] = s
            if s.day in openings:
                found.opening[(openings[s.day], s.group)] = s
                found.opening_known.add(openings[s.day])
    newest = calendar.latest_daily(now)
    incomplete = [
        found
        for dataset, index in states
        for found in incomplete_dates(dataset, results[index], newest)
    ]
    return found, incomplete, None if read_rates is None else results[read_rates][0][0]


def incomplete_dates(dataset: str, rows: list[Any], newest: dt.date) -> list[MetricIncompleteDate]:
    """A ``Batch.add_states`` part's (date, account, stored state) rows, by date then account,
    as incomplete report dates (``newest``: the newest date Apple can have published)."""
    return [
        MetricIncompleteDate(
            dataset=dataset,
            report_date=day,
            account_id=account,
            state=query.day_state(day, state, newest).value,
        )
        for day, account, state in sorted(rows, key=lambda r: (r[0], r[1]))
    ]


# --- values --------------------------------------------------------------------------------


#: A money object as the document holds it: ``{"amount", "currency"}`` (and ``converted``
#: with a reporting currency), exactly ``ConvertibleMoney``'s dump without its unset fields.
Entry = dict[str, Any]
#: A metric's value in the document: a count, a ratio's decimal text, money, or null.
Value = int | str | list[Entry] | None
#: A document of the API as plain data, serialised once by the router (see ``metric_report``).
Document = dict[str, Any]


def money_list(totals: dict[str | None, Decimal]) -> list[ConvertibleMoney]:
    """``money_entries`` as models (for documents built of models: cohorts). Convertible:
    with a reporting currency each gains ``converted`` (unset, so absent, without one)."""
    return [
        # The set fields named, so no default is resolved: ``converted`` stays unset.
        ConvertibleMoney.model_construct({"amount", "currency"}, **entry, converted=None)
        for entry in money_entries(totals)
    ]


_CURRENCY = re.compile(CURRENCY_PATTERN)
#: Per currency code the pattern accepts: the step its amounts are rounded to (its minor units).
_STEPS: dict[str, Decimal] = {}


def money_entries(totals: dict[str | None, Decimal]) -> list[Entry]:
    """Non-zero totals as money, by currency (null last), each rounded once, at presentation,
    by Money's rule (the currency's minor units, half-even): ``ConvertibleMoney.of`` of each,
    as plain data. The amount is written here as ``amount_text`` writes a Decimal, which the
    model's validator would only apply again (a 90-day request by day has thousands of
    amounts: building models was most of its time). A currency the pattern refuses still goes
    through validation, and fails there as before."""
    ordered = sorted(totals.items(), key=lambda item: (item[0] is None, item[0] or ""))
    entries = []
    for currency, amount in ordered:
        if not amount:
            continue  # no money; a zero with no currency is none either
        code = NO_CURRENCY if currency is None else currency
        step = _STEPS.get(code)
        if step is None:
            if not _CURRENCY.fullmatch(code):
                written = amount_text(amount, code)
                refused = ConvertibleMoney(amount=written, currency=code)  # raises
                entries.append(refused.model_dump(exclude_unset=True))
                continue
            step = _STEPS.setdefault(code, Decimal(1).scaleb(-minor_units(code)))
        number = Decimal(amount).quantize(step, rounding=ROUND_HALF_EVEN)
        if number.is_zero():
            number = abs(number)  # never `-0.00`
        entries.append({"amount": format(number, "f"), "currency": code})
    return entries


def ratio_text(numerator: int | None, denominator: int | None) -> str | None:
    if numerator is None or not denominator:
        return None
    return format((Decimal(numerator) / Decimal(denominator)).quantize(RATIO_PLACES), "f")


def _per(amounts: dict[str | None, Decimal], counts: dict[str | None, int]) -> list[Entry] | None:
    per = {
        currency: amounts.get(currency, Decimal(0)) / count
        for currency, count in counts.items()
        if count
    }
    return money_entries(per) if per else None


@dataclass
class Cell:
    """Everything known about one bucket and group, and the values derived from it."""

    key: Key
    sources: Sources

    @property
    def snapshot(self) -> SnapshotDay | None:
        return self.sources.closing.get(self.key)

    def has_snapshot(self) -> bool:
        return self.key[0] in self.sources.as_of

    def stock(self, metric: MetricDef) -> Value:
        if not self.has_snapshot():
            return None
        day = self.snapshot
        if metric.name in ("mrr", "arr"):
            factor = 12 if metric.name == "arr" else 1
            return money_entries({c: a * factor for c, a in day.mrr.items()} if day else {})
        if day is None:
            return 0
        return sum(day.counts.get(c, 0) for c in metric.snapshot_columns)

    def event(self, name: str) -> int:
        found = self.sources.events.get(self.key)
        return found.counts.get(name, 0) if found else 0

    def opening_paying(self) -> int | None:
        if self.key[0] not in self.sources.opening_known:
            return None
        day = self.sources.opening.get(self.key)
        columns = BY_NAME["paying_active"].snapshot_columns
        return sum(day.counts.get(c, 0) for c in columns) if day else 0

    def transactions(self) -> TransactionBucket:
        return self.sources.transactions.get(self.key) or TransactionBucket(*self.key)

    def net_proceeds(self) -> dict[str | None, Decimal]:
        t = self.transactions()
        net = dict(t.proceeds)
        for currency, amount in t.refunded_proceeds.items():
            net[currency] = net.get(currency, Decimal(0)) - amount
        return net

    def count(self, name: str) -> int | None:
        """A count metric (or helper) of the cell, for ratios."""
        if name == "opening_paying_active":
            return self.opening_paying()
        if name == "billing_resolutions":
            return self.event("billing_recoveries") + self.event("involuntary_cancellations")
        metric = BY_NAME[name]
        if metric.family is Family.EVENTS:
            return self.event(name)
        if metric.family is Family.TRANSACTIONS:
            t = self.transactions()
            return {"transactions": t.charges, "refunds": t.refunds}.get(name, t.payers)
        value = self.stock(metric)
        return value if isinstance(value, int) else None

    def value(self, metric: MetricDef) -> Value:
        return _VALUES.get(metric.name, _default)(self, metric)

    def money_days(self, name: str, last: dt.date) -> list[convert.Triple]:
        """The money of a money metric (or of a ratio's numerator) as (day, currency, exact
        amount), the day being the one whose rate converts it: each Event Date for flows
        (the transactions read ``by_day``), ``as_of`` for mrr/arr, the bucket's last day in
        range (``last``) for MRR movements."""
        metric = BY_NAME[name]
        if name in ("mrr", "arr"):
            day = self.snapshot
            if day is None:
                return []
            factor = 12 if name == "arr" else 1
            return [(day.day, c, a * factor) for c, a in day.mrr.items()]
        if metric.family is Family.MOVEMENTS:
            amounts = self.sources.movements.get(self.key, {}).get(_MOVEMENT_OF[name], {})
            return [(last, c, a) for c, a in amounts.items()]
        daily = self.transactions().daily
        if name in ("net_proceeds", "arpu", "arppu"):
            refunds = daily.get("refunded_proceeds", [])
            return daily.get("proceeds", []) + [(d, c, -a) for d, c, a in refunds]
        return list(daily.get(_DAILY_OF[name], []))

    def per_counts(self, name: str) -> tuple[dict[str | None, int], int]:
        """A money ratio's denominators: per proceeds currency, and the bucket's whole."""
        if name == "arppu":
            t = self.transactions()
            return t.payers_by_currency, t.payers
        snapshot = self.snapshot
        counts = snapshot.active_by_currency if snapshot else {}
        return counts, sum(counts.values())


_DAILY_OF = {
    "gross_sales": "sales",
    "proceeds": "proceeds",
    "refunded_amount": "refunded",
    "refunded_proceeds": "refunded_proceeds",
}
_MONEY_RATIOS = ("arpu", "arppu")


def is_money(metric: MetricDef) -> bool:
    return metric.unit in (Unit.MONEY, Unit.MONEY_PER_SUBSCRIBER)


_MOVEMENT_OF = {
    "subscriber_mrr": "closing",
    "mrr_new": "new",
    "mrr_reactivation": "reactivation",
    "mrr_expansion": "expansion",
    "mrr_contraction": "contraction",
    "mrr_churned": "churned",
}


def _default(cell: Cell, metric: MetricDef) -> Value:
    if metric.family is Family.MOVEMENTS:
        amounts = cell.sources.movements.get(cell.key, {}).get(_MOVEMENT_OF[metric.name], {})
        return money_entries(amounts)
    if metric.family is Family.SNAPSHOT:
        return cell.stock(metric)
    if metric.family is Family.RATIO:
        numerator, denominator = metric.parts
        return ratio_text(cell.count(numerator), cell.count(denominator))
    return cell.count(metric.name)


def _paid_periods(cell: Cell, _: MetricDef) -> Value:
    found = cell.sources.events.get(cell.key)
    if found is None or not found.cancellations_with_periods:
        return None
    average = Decimal(found.paid_periods) / found.cancellations_with_periods
    return format(average.quantize(RATIO_PLACES), "f")


def _arpu(cell: Cell, _: MetricDef) -> Value:
    snapshot = cell.snapshot
    if snapshot is None:
        return None
    return _per(cell.net_proceeds(), snapshot.active_by_currency)


_VALUES: dict[str, Callable[[Cell, MetricDef], Value]] = {
    "paid_periods_before_cancel": _paid_periods,
    "gross_sales": lambda c, _: money_entries(c.transactions().sales),
    "proceeds": lambda c, _: money_entries(c.transactions().proceeds),
    "refunded_amount": lambda c, _: money_entries(c.transactions().refunded),
    "refunded_proceeds": lambda c, _: money_entries(c.transactions().refunded_proceeds),
    "net_proceeds": lambda c, _: money_entries(c.net_proceeds()),
    "arppu": lambda c, _: _per(c.net_proceeds(), c.transactions().payers_by_currency),
    "arpu": _arpu,
}


def _trace(cell: Cell) -> list[Document]:
    """The bucket's ``trace``: ``SourceTrace`` objects as plain data (every field set)."""
    traces: list[tuple[str, Trace]] = []
    snapshot = cell.snapshot
    if snapshot is not None:
        day = snapshot.day
        traces.append((SNAPSHOT_DATASET, Trace(snapshot.rows, day, day)))
    if (e := cell.sources.events.get(cell.key)) is not None:
        traces.append((EVENTS_DATASET, e.trace))
    if (t := cell.sources.transactions.get(cell.key)) is not None:
        traces.append((SUBSCRIBERS_DATASET, t.trace))
    return [
        {
            "dataset": dataset,
            "table": _TABLES[dataset],
            "rows": trace.rows,
            "first_report_date": trace.first_report,
            "last_report_date": trace.last_report,
            "first_event_date": trace.first_event,
            "last_event_date": trace.last_event,
        }
        for dataset, trace in traces
    ]


# --- the report ----------------------------------------------------------------------------


def _sort_key(key: Key) -> list[Any]:
    values: list[Any] = [key[0].isoformat()]
    for value in key[1]:
        values += [value is None, value or ""]
    return values


def _after(paging: PageRequest, width: int) -> list[Any] | None:
    if paging.cursor is None:
        return None
    values = decode_cursor(paging.cursor, 1 + 2 * width)
    try:
        dt.date.fromisoformat(str(values[0]))
    except ValueError:
        raise bad_cursor() from None
    for flag, text in zip(values[1::2], values[2::2], strict=True):
        if not isinstance(flag, bool) or not isinstance(text, str):
            raise bad_cursor()
    return values


def _check_dimensions(group_by: list[MetricDimension], needs: Needs) -> None:
    others = needs.snapshot or needs.transactions or needs.movements
    if MetricDimension.CANCELLATION_REASON in group_by and others:
        raise ValidationFailed.single(
            "query.group_by",
            "cancellation_reason groups event metrics only (the other reports have no reason)",
            "invalid",
        )


def _incomplete_spans(
    needs: Needs, start: dt.date, end: dt.date
) -> list[tuple[str, dt.date, dt.date]]:
    """The report dates whose availability a request reports, per dataset."""
    spans = []
    if needs.snapshot:
        opening = start - dt.timedelta(days=1) if needs.opening else start
        spans.append((SNAPSHOT_DATASET, opening, end))
    late = end + dt.timedelta(days=LATE_DAYS)
    if needs.events:
        spans.append((EVENTS_DATASET, start, late))
    if needs.transactions or needs.movements:
        spans.append((SUBSCRIBERS_DATASET, start, late))
    return spans


async def metric_report(
    session: AsyncSession,
    ask: ScopeAsk,
    rows: RowScope,
    *,
    metrics: list[MetricDef],
    start: dt.date,
    end: dt.date,
    granularity: MetricGranularity,
    group_by: list[MetricDimension],
    paging: PageRequest,
    now: dt.datetime,
    currency: str | None = None,
    default_currency: str | None = None,
    max_rate_age_days: int = 7,
) -> Document:
    """The metrics of one page of buckets; with a reporting currency (``currency``, else the
    workspace's default ``default_currency``) every money value is also converted
    (``CONVERSION_RULE``).

    The `MetricReport` document as plain data, in its fields' order and without its unset
    fields (what ``model_dump(by_alias=True, exclude_unset=True)`` of the model gives): a
    year of MRR movements by day holds thousands of money objects, and building a model of
    each, then having the response model check and dump them again, was most of the API
    process's time (``tests/subscriptions/test_metrics_document.py`` proves the bytes equal
    the model's)."""
    query.date_range(start, end, MAX_RANGE_DAYS)
    needs = needs_of(metrics)
    _check_dimensions(group_by, needs)
    after = _after(paging, len(group_by))
    dims = [d.value for d in group_by]
    money = [m for m in metrics if is_money(m)]
    # Validated even when nothing is money; no money asked for: the document as without one.
    target = convert.target_currency(currency, default_currency)
    if not money:
        target = None
    # The rates (a kept book: only their version while it is current) come with the sources.
    read = kept.book_read(
        rows.workspace_id, target=target, start=start, end=end, max_age_days=max_rate_age_days
    )
    sources, incomplete, rates = await _read(
        session, ask, rows, needs, start, end, granularity, dims, now,
        by_day=target is not None, rates=read.also,
    )  # fmt: skip
    keys = set(sources.events) | set(sources.transactions) | set(sources.closing)
    keys |= set(sources.movements)
    ordered = sorted(keys, key=_sort_key)
    if after is not None:
        ordered = [k for k in ordered if _sort_key(k) > after]
    page = ordered[: paging.limit]
    next_cursor = encode_cursor(_sort_key(page[-1])) if len(ordered) > paging.limit else None
    cells = [Cell(key, sources) for key in page]
    values = [{m.name: cell.value(m) for m in metrics} for cell in cells]
    totals: list[dict[str, Document | None]] | None = None
    book = read.book(rates)
    if book is not None:
        lasts = [min(bucket_end(cell.key[0], granularity), end) for cell in cells]
        totals = _convert_page(values, cells, lasts, money, book)
    items = []
    for n, cell in enumerate(cells):
        first, group = cell.key
        end_of = bucket_end(first, granularity)
        item: Document = {
            "period_start": first,
            "period_end": end_of,
            "partial": first < start or end_of > end,
            "group": dict(zip(dims, group, strict=True)),
            "as_of": sources.as_of.get(first) if needs.snapshot else None,
            "values": values[n],
        }
        if totals is not None:
            item["values_total_converted"] = totals[n]
        item["trace"] = _trace(cell)
        items.append(item)
    document: Document = {
        "metrics": [m.name for m in metrics],
        "granularity": granularity.value,
        "group_by": dims,
        "from": start,
        "to": end,
    }
    if target is not None:
        document["currency"] = target
    document["currency_conversion"] = CONVERSION_RULE if target is not None else CONVERSION_NOTE
    document["items"] = items
    document["next_cursor"] = next_cursor
    document["incomplete_dates"] = [found.model_dump() for found in incomplete]
    return document


def _convert_page(
    values: list[dict[str, Value]],
    cells: list[Cell],
    lasts: list[dt.date],
    money: list[MetricDef],
    book: convert.RateBook,
) -> list[dict[str, Document | None]]:
    """Every money value of the page gains ``converted`` (in place); returns each bucket's
    converted totals. ``book``: the rates of the whole range, read with the sources.
    ``lasts``: each bucket's last day in range. Converted entries and totals go through their
    models (a converted page is not the hot path), so they are exactly the models' dumps."""
    days = [
        {m.name: cell.money_days(m.name, last) for m in money if per[m.name] is not None}
        for per, cell, last in zip(values, cells, lasts, strict=True)
    ]
    found: list[dict[str, Document | None]] = []
    for per, cell, per_days in zip(values, cells, days, strict=True):
        totals: dict[str, Document | None] = {}
        for metric in money:
            value = per[metric.name]
            if not isinstance(value, list):
                totals[metric.name] = None
                continue
            listed = [{**entry, "converted": None} for entry in value]
            triples = per_days[metric.name]
            if metric.name in _MONEY_RATIOS:
                counts, whole = cell.per_counts(metric.name)
                total = convert_ratio(book, listed, triples, counts, whole)
            else:
                total = convert.convert_measure(book, listed, triples)
            per[metric.name] = [
                ConvertibleMoney.model_validate(m).model_dump(exclude_unset=True) for m in listed
            ]
            totals[metric.name] = (
                None
                if total is None
                else ConvertedTotal.model_validate(total).model_dump(exclude_unset=True)
            )
        found.append(totals)
    return found


def convert_ratio(
    book: convert.RateBook,
    listed: list[dict[str, Any]],
    triples: list[convert.Triple],
    counts: dict[str | None, int],
    whole: int,
) -> dict[str, Any] | None:
    """A money ratio in the reporting currency: each per-currency entry gains ``converted``
    = its numerator converted exactly (each day at its rate) ÷ its own denominator; the total
    is every currency's converted numerator ÷ ``whole``, rounded once. The numerator's money
    without a rate is listed as ``unconverted`` (the total is then ``partial``); no
    denominator (zero): no total."""
    scratch = [{"amount": "0", "currency": e["currency"]} for e in listed]
    numerator = convert.convert_measure(book, scratch, triples)
    for entry, done in zip(listed, scratch, strict=True):
        currency, found = entry["currency"], done["converted"]
        count = counts.get(currency, 0)
        if found is None or not count:
            entry["converted"] = None
            continue
        exact, _ = convert.exact_sum(book, (t for t in triples if t[1] == currency))
        entry["converted"] = {**found, "amount": book.present(exact / count)}
    if not whole:
        return None
    exact, _ = convert.exact_sum(book, triples)
    return {**numerator, "amount": book.present(exact / whole)}

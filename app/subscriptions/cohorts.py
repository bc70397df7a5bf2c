"""Subscription cohorts (``/v1/subscriptions/cohorts``): retention, realised LTV and renewal
rate by period of Subscriber ID cohorts, and trial → paid conversion of trial-start cohorts."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import ValidationFailed
from app.fx import convert
from app.fx.schemas import ConvertedTotal, ConvertibleMoney
from app.reports import calendar
from app.subscriptions import cohort_repository as repo
from app.subscriptions import service
from app.subscriptions.analytics import (
    CONVERSION_NOTE,
    EVENTS_DATASET,
    SUBSCRIBERS_DATASET,
    convert_ratio,
    incomplete_dates,
    money_list,
    ratio_text,
)
from app.subscriptions.analytics_repository import RowScope
from app.subscriptions.analytics_schemas import (
    Cohort,
    CohortBy,
    CohortCell,
    CohortMetric,
    CohortTable,
)
from app.subscriptions.catalog import BY_NAME
from app.subscriptions.request_repository import Batch, ScopeAsk

MAX_COHORT_MONTHS = 24
MAX_PERIODS = 36
COHORT_CONVERSION_RULE = (
    "Revenue cells keep their per-currency amounts and gain `converted`: the cumulative net "
    "proceeds convert each Event Date at that day's rate (the latest published on or before "
    "it), then sum — never one rate for a month or for the cohort; `per_subscriber` is the "
    "converted amount ÷ the cohort size. `amounts_total_converted` and "
    "`per_subscriber_total_converted` add up every currency, listing what had no rate "
    "(`unconverted`, `partial`). " + convert.RULE
)


def _add_months(first: dt.date, months: int) -> dt.date:
    index = first.year * 12 + first.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def months_between(first: dt.date, last: dt.date) -> list[dt.date]:
    found, month = [], first.replace(day=1)
    while month <= last:
        found.append(month)
        month = _add_months(month, 1)
    return found


def _check(by: CohortBy, metric: CohortMetric, months: list[dt.date], periods: int) -> None:
    trial = metric is CohortMetric.TRIAL_CONVERSION
    if trial != (by is CohortBy.TRIAL_START_MONTH):
        raise ValidationFailed.single(
            "query.by",
            "trial_conversion takes by=trial_start_month; the other metrics by=start_month",
            "invalid",
        )
    if not months:
        raise ValidationFailed.single("query.from", "must not be after 'to'", "out_of_range")
    if len(months) > MAX_COHORT_MONTHS:
        raise ValidationFailed.single(
            "query.to", f"at most {MAX_COHORT_MONTHS} cohort months", "out_of_range"
        )
    if not 0 <= periods <= MAX_PERIODS:
        raise ValidationFailed.single(
            "query.periods", f"between 0 and {MAX_PERIODS}", "out_of_range"
        )


def _over(month: dt.date, k: int, through: dt.date | None) -> bool:
    """Whether cohort month + k has ended by ``through``."""
    return through is not None and calendar.month_end(_add_months(month, k)) <= through


def _started(month: dt.date, k: int, through: dt.date | None) -> bool:
    return through is not None and _add_months(month, k) <= through


def _cell(period: int, **values: object) -> CohortCell:
    fields: dict[str, object] = {
        "count": None,
        "cumulative": None,
        "rate": None,
        "amounts": None,
        "per_subscriber": None,
    }
    fields.update(values)
    return CohortCell.model_validate({"period": period, **fields})


def _months_after(month: dt.date, day: dt.date) -> int:
    return max(0, (day.year - month.year) * 12 + day.month - month.month)


def _cumulative_days(
    days: list[tuple[dt.date, dt.date, str | None, Decimal]], periods: int
) -> dict[tuple[dt.date, int], list[convert.Triple]]:
    """(cohort month, k) → the (Event Date, currency, net proceeds) of months 0…k."""
    by_month: dict[tuple[dt.date, int], list[convert.Triple]] = {}
    for month, day, currency, amount in days:
        by_month.setdefault((month, _months_after(month, day)), []).append((day, currency, amount))
    found: dict[tuple[dt.date, int], list[convert.Triple]] = {}
    for month in {m for m, _ in by_month}:
        running: list[convert.Triple] = []
        for k in range(periods + 1):
            running = running + by_month.get((month, k), [])
            if running:
                found[(month, k)] = running
    return found


def _sums(triples: list[convert.Triple]) -> dict[str | None, Decimal]:
    totals: dict[str | None, Decimal] = {}
    for _, currency, amount in triples:
        totals[currency] = totals.get(currency, Decimal(0)) + amount
    return totals


async def _convert_revenue(
    session: AsyncSession,
    rows: RowScope,
    cohorts: list[Cohort],
    sizes: dict[dt.date, int],
    cumulative: dict[tuple[dt.date, int], list[convert.Triple]],
    target: str,
    max_rate_age_days: int,
) -> None:
    """Revenue cells gain their converted amounts and totals (see ``COHORT_CONVERSION_RULE``);
    the rates of every day with money come from one read."""
    every = [t for triples in cumulative.values() for t in triples]
    book = await convert.book_for(
        session,
        rows.workspace_id,
        target=target,
        currencies={c for _, c, _ in every if c},
        start=min((d for d, _, _ in every), default=dt.date.today()),
        end=max((d for d, _, _ in every), default=dt.date.today()),
        max_age_days=max_rate_age_days,
    )
    for cohort in cohorts:
        month = dt.date.fromisoformat(cohort.cohort + "-01")
        size = sizes.get(month, 0)
        for cell in cohort.periods:
            if cell.amounts is None:
                cell.amounts_total_converted = None
                cell.per_subscriber_total_converted = None
                continue
            triples = cumulative.get((month, cell.period), [])
            listed = [m.model_dump() for m in cell.amounts]
            total = convert.convert_measure(book, listed, triples)
            cell.amounts = [ConvertibleMoney.model_validate(m) for m in listed]
            cell.amounts_total_converted = ConvertedTotal.model_validate(total)
            per = [m.model_dump() for m in cell.per_subscriber or []]
            counts: dict[str | None, int] = {m["currency"]: size for m in per}
            ratio = convert_ratio(book, per, triples, counts, size)
            cell.per_subscriber = [ConvertibleMoney.model_validate(m) for m in per]
            cell.per_subscriber_total_converted = (
                None if ratio is None else ConvertedTotal.model_validate(ratio)
            )


@dataclass
class _Reads:
    """What one cohort request read (``cohort_table``'s one statement), parsed."""

    through: dt.date | None = None
    sizes: dict[dt.date, int] = field(default_factory=dict)
    kept: dict[tuple[dt.date, int], int] = field(default_factory=dict)
    money: dict[tuple[dt.date, int], dict[str | None, Decimal]] = field(default_factory=dict)
    cumulative: dict[tuple[dt.date, int], list[convert.Triple]] = field(default_factory=dict)
    renewed: dict[tuple[dt.date, int], tuple[int, int]] = field(default_factory=dict)
    conversions: dict[tuple[dt.date, int], int] = field(default_factory=dict)
    incomplete: list[Any] = field(default_factory=list)  # Batch.add_states rows


async def _read(
    session: AsyncSession,
    ask: ScopeAsk,
    rows: RowScope,
    metric: CohortMetric,
    months: list[dt.date],
    periods: int,
    states: tuple[str, dt.date, dt.date] | None,
    converting: bool,
) -> _Reads:
    """Everything a cohort table reads, by one statement (``request_repository.Batch``): the
    scope and its 404s, the newest stored Event Date, the cohort sizes (trial starts), the
    metric's cells and the incomplete report dates of ``states`` (dataset, first, last)."""
    first, last = months[0], months[-1]
    trial = metric is CohortMetric.TRIAL_CONVERSION
    batch = Batch(ask)
    newest = batch.add(*repo.newest_sql(rows, trial=trial))
    if trial:
        sizes = batch.add(*repo.trial_starts_sql(rows, first, last))
        data = batch.add(*repo.trial_conversions_sql(rows, first, last))
    else:
        sizes = batch.add(*repo.sizes_sql(rows, first, last))
    if metric is CohortMetric.RETENTION:
        data = batch.add(*repo.retention_sql(rows, first, last, periods))
    elif metric is CohortMetric.REVENUE and converting:
        # Converting: the same sums per Event Date (each day converts at its own rate).
        data = batch.add(*repo.revenue_days_sql(rows, first, last))
    elif metric is CohortMetric.REVENUE:
        data = batch.add(*repo.revenue_months_sql(rows, first, last))
    elif metric is CohortMetric.RENEWAL_BY_PERIOD:
        data = batch.add(*repo.renewals_sql(rows, first, last, periods))
    incomplete = None if states is None else batch.add_states(*states)
    fetched, results = await batch.run(session)
    service.check_scope(ask, fetched)
    found = _Reads(through=repo.newest_of(results[newest]))
    if trial:
        found.sizes = repo.trial_starts_of(results[sizes])
        found.conversions = repo.trial_conversions_of(results[data], periods)
    else:
        found.sizes = repo.sizes_of(results[sizes])
    if metric is CohortMetric.RETENTION:
        found.kept = repo.retention_of(results[data])
    elif metric is CohortMetric.REVENUE and converting:
        found.cumulative = _cumulative_days(repo.revenue_days_of(results[data]), periods)
        found.money = {key: _sums(triples) for key, triples in found.cumulative.items()}
    elif metric is CohortMetric.REVENUE:
        found.money = repo.revenue_of(results[data], periods)
    elif metric is CohortMetric.RENEWAL_BY_PERIOD:
        found.renewed = repo.renewals_of(results[data])
    if incomplete is not None:
        found.incomplete = results[incomplete]
    return found


def _subscriber_cohorts(
    reads: _Reads, metric: CohortMetric, months: list[dt.date], periods: int
) -> list[Cohort]:
    through, sizes = reads.through, reads.sizes
    cohorts = []
    for month in months:
        size = sizes.get(month, 0)
        cells = []
        if metric is CohortMetric.RENEWAL_BY_PERIOD:
            for n in range(1, periods + 1):
                ended, again = reads.renewed.get((month, n), (0, 0))
                cells.append(_cell(n, count=ended, cumulative=again, rate=ratio_text(again, ended)))
        for k in range(periods + 1) if metric is not CohortMetric.RENEWAL_BY_PERIOD else ():
            if not _over(month, k, through):
                cells.append(_cell(k))
            elif metric is CohortMetric.RETENTION:
                count = reads.kept.get((month, k), 0)
                cells.append(_cell(k, count=count, rate=ratio_text(count, size)))
            else:
                amounts = reads.money.get((month, k), {})
                per = {c: a / size for c, a in amounts.items()} if size else {}
                cells.append(
                    _cell(
                        k,
                        amounts=money_list(amounts),
                        per_subscriber=money_list(per),
                    )
                )
        cohorts.append(Cohort(cohort=month.strftime("%Y-%m"), size=size, periods=cells))
    return cohorts


def _trial_cohorts(reads: _Reads, months: list[dt.date], periods: int) -> list[Cohort]:
    cohorts = []
    for month in months:
        size = reads.sizes.get(month, 0)
        cells, total = [], 0
        for k in range(periods + 1):
            if not _started(month, k, reads.through):
                cells.append(_cell(k))
                continue
            count = reads.conversions.get((month, k), 0)
            total += count
            cells.append(_cell(k, count=count, cumulative=total, rate=ratio_text(total, size)))
        cohorts.append(Cohort(cohort=month.strftime("%Y-%m"), size=size, periods=cells))
    return cohorts


async def cohort_table(
    session: AsyncSession,
    ask: ScopeAsk,
    rows: RowScope,
    *,
    by: CohortBy,
    metric: CohortMetric,
    start: dt.date,
    end: dt.date,
    periods: int,
    now: dt.datetime,
    currency: str | None = None,
    default_currency: str | None = None,
    max_rate_age_days: int = 7,
) -> CohortTable:
    """The cohort table, read by one statement; ``revenue`` with a reporting currency
    (``currency``, else the workspace's default ``default_currency``) also converted
    (``COHORT_CONVERSION_RULE``: the rates are a second read)."""
    months = months_between(start, end)
    _check(by, metric, months, periods)
    trial = metric is CohortMetric.TRIAL_CONVERSION
    dataset = EVENTS_DATASET if trial else SUBSCRIBERS_DATASET
    target = None
    if metric is CohortMetric.REVENUE:
        target = convert.target_currency(currency, default_currency)
    newest = calendar.latest_daily(now)
    last = min(calendar.month_end(_add_months(months[-1], periods)), newest)
    states = (dataset, months[0], last) if months[0] <= last else None
    reads = await _read(session, ask, rows, metric, months, periods, states, target is not None)
    if trial:
        cohorts = _trial_cohorts(reads, months, periods)
    else:
        cohorts = _subscriber_cohorts(reads, metric, months, periods)
    if target is not None:
        await _convert_revenue(
            session, rows, cohorts, reads.sizes, reads.cumulative, target, max_rate_age_days
        )
    incomplete = incomplete_dates(dataset, reads.incomplete, newest)
    extra: dict[str, Any] = {} if target is None else {"currency": target}
    return CohortTable(
        by=by,
        metric=metric,
        from_month=months[0].strftime("%Y-%m"),
        to_month=months[-1].strftime("%Y-%m"),
        definition=BY_NAME[metric.value].definition,
        data_through=reads.through,
        currency_conversion=CONVERSION_NOTE if target is None else COHORT_CONVERSION_RULE,
        cohorts=cohorts,
        incomplete_dates=incomplete,
        **extra,
    )

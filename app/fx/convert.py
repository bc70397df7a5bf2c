"""Conversion of revenue read models into one reporting currency, with provenance.

Domains hand over the money they already computed — per currency, and per report date behind
each amount — and get back, per currency entry, a ``converted`` object and, per money measure,
a converted total that lists what could not be converted (``unconverted``), never dropping it
or counting it as zero.

Arithmetic: every amount of report date *d* is multiplied by the rate of *d* (see
:mod:`app.fx.rates`), exactly, in decimals; a total over several days or currencies is the
exact sum of those products. Only the presented ``amount`` of a converted value is rounded:
half-even to the reporting currency's ISO 4217 minor units (0 for JPY, 2 for USD, …). So
converting then summing equals summing the converted per-day values before rounding; after
rounding a total may differ from the sum of its rounded parts by less than one minor unit per
part.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import ValidationFailed
from app.fx import repository
from app.fx.currencies import is_known
from app.fx.rates import NoRate, Rate, RateBook

__all__ = [
    "DailyMoney",
    "RateBook",
    "book_for",
    "convert_measure",
    "convert_measures",
    "resolve_target",
    "target_currency",
]

Triple = tuple[dt.date, str | None, Decimal]  # (report date, currency, amount)

RULE = (
    "Each amount converts at the rate of its report date: the latest rate published on or "
    "before that date (weekends and holidays use the previous fix) and at most "
    "ORCHARD_FX_MAX_RATE_AGE_DAYS old; an aggregate over several days converts each day "
    "separately, then sums. Cross rates go through EUR (the ECB's quotation); sources: a "
    "workspace's manual rate first, then the ECB, then Frankfurter; BGN and HRK use their "
    "fixed euro rates. Amounts are exact decimals; only the presented amount is rounded, "
    "half-even, to the target currency's minor units. An amount without a rate is listed "
    "under `unconverted` and the total is `partial`, never counted as zero."
)


#: The workspace's default reporting currency as a scalar subquery (the workspace bound as
#: ``:ws``): a domain statement can carry it as a column instead of a separate read.
DEFAULT_CURRENCY_SQL = (
    "(SELECT reporting_currency FROM fx_workspace_settings WHERE workspace_id = :ws)"
)


def text(value: Decimal) -> str:
    """Decimal text without exponent notation."""
    return format(value, "f")


def target_currency(requested: str | None, default: str | None) -> str | None:
    """The reporting currency: the ``currency`` parameter, else the workspace's default
    (``default``, as the caller's principal carries it), else None (no conversion)."""
    if requested is not None:
        code = requested.upper()
        if not is_known(code):
            raise ValidationFailed.single(
                "query.currency", f"{requested!r} is not an ISO 4217 currency code", "currency"
            )
        return code
    return default


async def resolve_target(
    session: AsyncSession, workspace_id: uuid.UUID, requested: str | None
) -> str | None:
    """``target_currency`` with the workspace's default read from the database (one
    statement; a request's principal already carries it)."""
    if requested is not None:
        return target_currency(requested, None)
    return await repository.reporting_currency(session, workspace_id)


async def book_for(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    *,
    target: str,
    currencies: set[str],
    start: dt.date,
    end: dt.date,
    max_age_days: int,
) -> RateBook:
    return await RateBook.load(
        session,
        workspace_id,
        target=target,
        currencies=currencies,
        start=start,
        end=end,
        max_age_days=max_age_days,
    )


@dataclass
class _Missing:
    amount: Decimal = Decimal(0)
    first: dt.date | None = None
    last: dt.date | None = None
    detail: str = ""

    def add(self, day: dt.date, amount: Decimal, detail: str) -> None:
        self.amount += amount
        if self.first is None or day < self.first:  # the detail names the first date
            self.first, self.detail = day, detail
        self.last = day if self.last is None else max(self.last, day)


_ZERO = Decimal(0)


def convert_measure(
    book: RateBook,
    listed: list[dict[str, Any]],
    triples: Iterable[Triple],
    *,
    estimated: bool = False,
) -> dict[str, Any]:
    """Add ``converted`` to each entry of ``listed`` (a measure's per-currency money, as the
    domain lists it) and return the measure's converted total (``ConvertedTotal``).

    Hot path of every converted report (thousands of entries): plain dicts, rates resolved
    once per (currency, day) by the book, each rate's JSON entry built once and shared."""
    converted: dict[str | None, Decimal] = {}
    used: dict[str | None, dict[Rate, None]] = {}
    missing: dict[tuple[str | None, str], _Missing] = {}
    for day, currency, amount in triples:
        if not amount:
            continue
        found = book.rate(currency, day)
        if isinstance(found, NoRate):
            key = (currency, found.reason)
            if key not in missing:
                missing[key] = _Missing()
            missing[key].add(day, amount, found.detail)
            continue
        converted[currency] = converted.get(currency, _ZERO) + amount * found.rate
        if currency in used:
            used[currency][found] = None
        else:
            used[currency] = {found: None}
    gaps = {key: (m.amount, m.first, m.last, m.detail) for key, m in missing.items()}
    return finish_measure(book, listed, converted, used, gaps, estimated=estimated)


Gap = tuple[Decimal, dt.date | None, dt.date | None, str]  # amount, first, last date, detail


def finish_measure(
    book: RateBook,
    listed: list[dict[str, Any]],
    converted: dict[str | None, Decimal],
    used: dict[str | None, dict[Rate, None]],
    missing: dict[tuple[str | None, str], Gap],
    *,
    estimated: bool = False,
) -> dict[str, Any]:
    """``listed`` entries gain ``converted`` and the measure's ``ConvertedTotal`` is returned,
    from the exact converted sums per currency, the rates each used, and the amounts without
    a rate per (currency, reason)."""
    for entry in listed:
        currency = entry["currency"]
        rates = used.get(currency)
        if rates is None:
            entry["converted"] = None
            continue
        complete = not missing or not any(m[0] for (c, _), m in missing.items() if c == currency)
        entry["converted"] = _converted(book, converted[currency], rates, complete, estimated)
    unconverted = (
        []
        if not missing
        else [
            {
                "amount": text(amount),
                "currency": currency,
                "reason": reason,
                "detail": f"{detail} (report dates {first}..{last})",
            }
            for (currency, reason), (amount, first, last, detail) in sorted(
                missing.items(), key=lambda i: (i[0][0] is None, i[0][0] or "", i[0][1])
            )
            if amount
        ]
    )
    return {
        "amount": book.present(sum(converted.values(), _ZERO)),
        "currency": book.target,
        "partial": bool(unconverted),
        "unconverted": unconverted,
    }


def _converted(
    book: RateBook,
    amount: Decimal,
    rates: dict[Rate, None],
    complete: bool,
    estimated: bool,
) -> dict[str, Any]:
    if len(rates) == 1:
        [only] = rates
        document = _at_one_rate(book, amount, only, complete)
    else:
        document = {"amount": book.present(amount), **book.several(tuple(rates))}
        if not complete:
            document["complete"] = False
    if estimated:
        document["estimated"] = True
    return document


def _at_one_rate(book: RateBook, amount: Decimal, rate: Rate, complete: bool) -> dict[str, Any]:
    """The ``converted`` document of ``amount`` (already in the target) made at one rate."""
    if complete:
        return {"amount": book.present(amount), **rate.whole}
    return {"amount": book.present(amount), **rate.whole, "complete": False}


DailyMoney = tuple[dt.date, str | None, Any, str | None, Any]


def convert_measures(book: RateBook, measures: dict[str, Any], daily: Iterable[DailyMoney]) -> None:
    """Convert a sales-like measures document in place: ``proceeds`` and ``customer_sales``
    entries gain ``converted``; ``proceeds_total_converted`` and
    ``customer_sales_total_converted`` are added. ``daily`` holds, per report date and
    currency pair, (date, proceeds currency, proceeds, customer currency, customer sales)."""
    rows = list(daily)
    measures["proceeds_total_converted"] = convert_measure(
        book, measures["proceeds"], ((d, pc, Decimal(pa)) for d, pc, pa, _, _ in rows)
    )
    measures["customer_sales_total_converted"] = convert_measure(
        book, measures["customer_sales"], ((d, cc, Decimal(ca)) for d, _, _, cc, ca in rows)
    )


def exact_sum(book: RateBook, triples: Iterable[Triple]) -> tuple[Decimal, bool]:
    """The converted sum of ``triples`` before rounding, and whether every amount had a rate:
    what a ratio derived from converted money (cost per tap, …) divides, so it is computed
    from the exact sum and rounded once, like every converted amount."""
    total, complete = _ZERO, True
    for day, currency, amount in triples:
        if not amount:
            continue
        found = book.rate(currency, day)
        if isinstance(found, NoRate):
            complete = False
        else:
            total += amount * found.rate
    return total, complete


def convert_day(book: RateBook, listed: list[dict[str, Any]], day: dt.date) -> dict[str, Any]:
    """:func:`convert_measure` for a measure of one report date whose ``listed`` entries are
    all its money (one per currency): the same documents, without the per-day bookkeeping
    (the hot path of daily reports: thousands of entries, most of them a measure's only one,
    whose rounded amount is then its total's too)."""
    if len(listed) == 1:
        [entry] = listed
        amount = Decimal(entry["amount"])
        found = book.rate(entry["currency"], day) if amount else None
        if isinstance(found, Rate):
            shown = book.present(amount * found.rate)
            entry["converted"] = {"amount": shown, **found.whole}
            return {"amount": shown, "currency": book.target, "partial": False, "unconverted": []}
    total = _ZERO
    unconverted = []
    for entry in listed:
        currency = entry["currency"]
        amount = Decimal(entry["amount"])
        found = book.rate(currency, day) if amount else None
        if found is None:
            entry["converted"] = None
        elif isinstance(found, NoRate):
            entry["converted"] = None
            unconverted.append(
                {
                    "amount": text(amount),
                    "currency": currency,
                    "reason": found.reason,
                    "detail": f"{found.detail} (report dates {day}..{day})",
                }
            )
        else:
            value = amount * found.rate
            total += value
            entry["converted"] = {"amount": book.present(value), **found.whole}
    if len(unconverted) > 1:
        unconverted.sort(key=lambda u: (u["currency"] is None, u["currency"] or "", u["reason"]))
    return {
        "amount": book.present(total),
        "currency": book.target,
        "partial": bool(unconverted),
        "unconverted": unconverted,
    }


def convert_day_measures(book: RateBook, measures: dict[str, Any], day: dt.date) -> None:
    """:func:`convert_measures` for a sales-like document of one report date."""
    measures["proceeds_total_converted"] = convert_day(book, measures["proceeds"], day)
    measures["customer_sales_total_converted"] = convert_day(book, measures["customer_sales"], day)

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
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import ValidationFailed
from app.fx import repository
from app.fx.currencies import is_known, minor_units
from app.fx.rates import NoRate, RateBook

__all__ = ["RateBook", "book_for", "convert_measure", "convert_measures", "resolve_target"]

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


def text(value: Decimal) -> str:
    """Decimal text without exponent notation."""
    return format(value, "f")


def present(value: Decimal, currency: str) -> str:
    step = Decimal(1).scaleb(-minor_units(currency))
    return text(value.quantize(step, rounding=ROUND_HALF_EVEN))


async def resolve_target(
    session: AsyncSession, workspace_id: uuid.UUID, requested: str | None
) -> str | None:
    """The reporting currency: the ``currency`` parameter, else the workspace's default,
    else None (no conversion)."""
    if requested is not None:
        code = requested.upper()
        if not is_known(code):
            raise ValidationFailed.single(
                "query.currency", f"{requested!r} is not an ISO 4217 currency code", "currency"
            )
        return code
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
        self.first = day if self.first is None else min(self.first, day)
        self.last = day if self.last is None else max(self.last, day)
        self.detail = self.detail or detail


@dataclass
class _Part:
    converted: Decimal = Decimal(0)
    native_converted: Decimal = Decimal(0)
    rates: dict[tuple[Decimal, dt.date, str, str], None] = field(default_factory=dict)
    missing: dict[str, _Missing] = field(default_factory=dict)


def convert_measure(
    book: RateBook,
    listed: list[dict[str, Any]],
    triples: Iterable[Triple],
    *,
    estimated: bool = False,
) -> dict[str, Any]:
    """Add ``converted`` to each entry of ``listed`` (a measure's per-currency money, as the
    domain lists it) and return the measure's converted total (``ConvertedTotal``)."""
    parts: dict[str | None, _Part] = {}
    for day, currency, amount in triples:
        if not amount:
            continue
        part = parts.setdefault(currency, _Part())
        found = book.rate(currency, day)
        if isinstance(found, NoRate):
            part.missing.setdefault(found.reason, _Missing()).add(day, amount, found.detail)
            continue
        part.converted += amount * found.rate
        part.native_converted += amount
        part.rates[(found.rate, found.rate_date, found.source, found.method)] = None
    target = book.target
    for entry in listed:
        entry["converted"] = _converted(parts.get(entry["currency"]), target, estimated)
    total = sum((p.converted for p in parts.values()), Decimal(0))
    unconverted = [
        {
            "amount": text(missing.amount),
            "currency": currency,
            "reason": reason,
            "detail": f"{missing.detail} (report dates {missing.first}..{missing.last})",
        }
        for currency, part in sorted(parts.items(), key=lambda i: (i[0] is None, i[0] or ""))
        for reason, missing in sorted(part.missing.items())
        if missing.amount
    ]
    return {
        "amount": present(total, target),
        "currency": target,
        "partial": bool(unconverted),
        "unconverted": unconverted,
    }


def _converted(part: _Part | None, target: str, estimated: bool) -> dict[str, Any] | None:
    if part is None or not part.rates:
        return None
    rates = [
        {"rate": text(rate), "rate_date": day, "source": source, "method": method}
        for rate, day, source, method in part.rates
    ]
    single = rates[0] if len(rates) == 1 else None
    return {
        "amount": present(part.converted, target),
        "currency": target,
        "rate": single["rate"] if single else None,
        "rate_date": single["rate_date"] if single else None,
        "source": "+".join(sorted({str(r["source"]) for r in rates})),
        "complete": not any(m.amount for m in part.missing.values()),
        "rates": sorted(rates, key=lambda r: (r["rate_date"], r["source"], r["rate"])),
        **({"estimated": True} if estimated else {}),
    }


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


def daily_currencies(rows: Iterable[Iterable[DailyMoney]]) -> set[str]:
    return {c for daily in rows for _, pc, _, cc, _ in daily for c in (pc, cc) if c}

"""The rate book: which rate converts an amount of one currency on one report date into the
reporting currency, and where that rate came from.

Rule (FACTS fx §5): an amount of report date *d* converts at the latest rate published on or
before *d* — a weekend, a TARGET holiday or a day not yet published falls back to the previous
fix — but never one older than ``ORCHARD_FX_MAX_RATE_AGE_DAYS``; then it stays unconverted.
Every currency is first expressed per EUR (the ECB's quotation: 1 EUR = x units):

* EUR itself is 1; BGN and HRK use their irrevocably fixed euro rates (``euro-fixed``);
* otherwise the stored rate of the day: a workspace's ``manual`` rate first, then ``ecb``, then
  ``frankfurter``; a manual rate against another base (``1 USD = 3.6725 AED``) goes through
  that base's rate of the same day.

A → T is then ``per_eur(T) / per_eur(A)`` (cross rate via EUR), rounded to 10 significant
digits; the converted amount is exactly amount × that rate, so it can be recomputed from the
rate the response shows. Rates are decimals throughout, never floats.
"""

from __future__ import annotations

import bisect
import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Context, Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.fx import repository
from app.fx.currencies import EUR, EURO_FIXED, is_known, minor_units

SIGNIFICANT_DIGITS = 10
_PRIORITY = {"manual": 0, "ecb": 1, "frankfurter": 2}
_DIVISION = Context(prec=34)
#: Distinct rate lists a book keeps made (``RateBook.several``); beyond, they are made anew.
_MAX_SEVERAL = 20_000


def significant(value: Decimal, digits: int = SIGNIFICANT_DIGITS) -> Decimal:
    """``value`` rounded half-even to ``digits`` significant digits."""
    if value == 0:
        return value
    return value.quantize(Decimal(1).scaleb(value.adjusted() - digits + 1)).normalize(
        Context(prec=digits)
    )


@dataclass(frozen=True)
class Leg:
    """One currency expressed per EUR, as used for one report date."""

    per_eur: Decimal
    day: dt.date | None  # None: EUR itself or a fixed euro rate (valid on every date)
    source: str  # "identity" | "euro-fixed" | "ecb" | "manual" | "frankfurter:<provider>"


@dataclass(frozen=True, eq=False)
class Rate:
    """Target units per one unit of the amount's currency, with provenance. The book hands
    out one object per distinct (rate, date, source, method), so identity is equality."""

    rate: Decimal
    rate_date: dt.date  # the (oldest) rate date used
    source: str
    method: str  # "identity" | "direct" | "cross-EUR"
    entry: dict[str, Any] = field(default_factory=dict)  # the API's `RateUsed`, built once
    #: A `ConvertedAmount` made wholly at this rate, but its ``amount`` (built once, shared:
    #: a converted entry is ``{"amount": …, **whole}``).
    whole: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class NoRate:
    reason: str  # "no_currency" | "unknown_currency" | "no_rate"
    detail: str


@dataclass
class _Series:
    days: list[dt.date] = field(default_factory=list)
    legs: list[Leg] = field(default_factory=list)


class RateBook:
    """Rates for converting into ``target`` between ``start`` and ``end`` (loaded once)."""

    def __init__(self, target: str, max_age_days: int) -> None:
        self.target = target
        self.max_age = dt.timedelta(days=max_age_days)
        self._direct: dict[str, _Series] = {}
        self._cross: dict[str, list[tuple[dt.date, str, Decimal]]] = {}  # quote → (day, base, r)
        self._memo: dict[tuple[str | None, dt.date], Rate | NoRate] = {}
        self._rates: dict[tuple[Decimal, dt.date, str, str], Rate] = {}
        self._legs: dict[tuple[str, dt.date], Leg | None] = {}
        # (currency, source leg, target leg) → rate: days between two fixes share their legs,
        # so the decimal division runs once per fix, not once per report date.
        self._by_legs: dict[tuple[str, Leg, Leg, dt.date | None], Rate] = {}
        self._step = Decimal(1).scaleb(-minor_units(target))
        #: What callers derive from this book's rates and keep with it (``app.fx.in_sql``'s
        #: rate table of a span): valid as long as the book.
        self.derived: dict[object, Any] = {}
        self._several: dict[tuple[Rate, ...], dict[str, Any]] = {}

    def present(self, value: Decimal) -> str:
        """``value`` rounded half-even to the target's minor units, as decimal text."""
        return format(value.quantize(self._step, rounding=ROUND_HALF_EVEN), "f")

    def _rate(self, value: Decimal, rate_date: dt.date, source: str, method: str) -> Rate:
        key = (value, rate_date, source, method)
        found = self._rates.get(key)
        if found is None:
            # The date as the JSON has it, formatted once: these documents are shared by every
            # entry converted at this rate (thousands in a 90-day report).
            day = rate_date.isoformat()
            entry = {
                "rate": format(value, "f"),
                "rate_date": day,
                "source": source,
                "method": method,
            }
            whole = {
                "currency": self.target,
                "rate": entry["rate"],
                "rate_date": day,
                "source": source,
                "complete": True,
            }
            found = self._rates[key] = Rate(value, rate_date, source, method, entry, whole)
        return found

    def several(self, rates: tuple[Rate, ...]) -> dict[str, Any]:
        """A `ConvertedAmount` made at several ``rates`` (complete), but its ``amount``: the
        rates listed by date, the sources joined. Made once per distinct tuple and shared: a
        month of a 90-day report by storefront lists the same rates for most storefronts."""
        found = self._several.get(rates)
        if found is None:
            entries = sorted(
                (r.entry for r in rates), key=lambda e: (e["rate_date"], e["source"], e["rate"])
            )
            found = {
                "currency": self.target,
                "rate": None,
                "rate_date": None,
                "source": "+".join(sorted({e["source"] for e in entries})),
                "complete": True,
                "rates": entries,
            }
            if len(self._several) < _MAX_SEVERAL:  # a kept book serves many requests
                self._several[rates] = found
        return found

    @classmethod
    async def load(
        cls,
        session: AsyncSession,
        workspace_id: uuid.UUID,
        *,
        target: str,
        currencies: set[str],
        start: dt.date,
        end: dt.date,
        max_age_days: int,
    ) -> RateBook:
        book = cls(target, max_age_days)
        wanted = {c for c in currencies | {target} if c != EUR and c not in EURO_FIXED}
        first = start - book.max_age
        rows = list(
            await repository.rates_for(
                session, workspace_id, currencies=sorted(wanted), start=first, end=end
            )
        )
        bases = {r[1] for r in rows if r[1] not in wanted and r[1] != EUR}
        if bases:  # manual rates against another base need that base's rates too
            rows += await repository.rates_for(
                session, workspace_id, currencies=sorted(bases), start=first, end=end
            )
        book._index(rows)
        return book

    @classmethod
    def of_rows(cls, target: str, max_age_days: int, rows: Sequence[Any]) -> RateBook:
        """A book of already read rates (``rows`` as ``_index`` takes them): every currency's
        rates of the span, so it answers any currency (``app.fx.kept``)."""
        book = cls(target, max_age_days)
        book._index(rows)
        return book

    def _index(self, rows: Sequence[Any]) -> None:
        """``rows``: stored rates as ``(day, base, quote, rate, source, provider)``."""
        best: dict[tuple[str, dt.date], tuple[int, Decimal, str]] = {}
        for day, base, quote, rate, source, provider in rows:
            if base == EUR:
                code, per_eur = quote, rate
            elif quote == EUR:
                code, per_eur = base, None
            else:
                self._cross.setdefault(quote, []).append((day, base, rate))
                continue
            priority = _PRIORITY.get(source, 9)
            key = (code, day)
            if key not in best or priority < best[key][0]:
                label = (
                    f"frankfurter:{provider}" if source == "frankfurter" and provider else source
                )
                best[key] = (priority, rate if per_eur is None else per_eur, label)
                if per_eur is None:  # 1 X = rate EUR → per EUR = 1 / rate
                    best[key] = (priority, _DIVISION.divide(Decimal(1), rate), label)
        for (code, day), (_, per_eur, label) in sorted(best.items()):
            series = self._direct.setdefault(code, _Series())
            series.days.append(day)
            series.legs.append(Leg(per_eur, day, label))
        for entries in self._cross.values():
            entries.sort()

    def _direct_leg(self, code: str, day: dt.date) -> Leg | None:
        series = self._direct.get(code)
        if series is None:
            return None
        index = bisect.bisect_right(series.days, day) - 1
        if index < 0 or series.days[index] < day - self.max_age:
            return None
        return series.legs[index]

    def leg(self, code: str, day: dt.date) -> Leg | None:
        key = (code, day)
        if key in self._legs:
            return self._legs[key]
        found = self._legs[key] = self._find_leg(code, day)
        return found

    def _find_leg(self, code: str, day: dt.date) -> Leg | None:
        if code == EUR:
            return Leg(Decimal(1), None, "identity")
        if code in EURO_FIXED:
            return Leg(EURO_FIXED[code], None, "euro-fixed")
        direct = self._direct_leg(code, day)
        cross = self._cross_leg(code, day)
        if cross is not None and (direct is None or (cross.day or day) > (direct.day or day)):
            return cross
        return direct

    def _cross_leg(self, code: str, day: dt.date) -> Leg | None:
        entries = self._cross.get(code)
        if not entries:
            return None
        index = bisect.bisect_right(entries, (day, "\uffff", Decimal(0))) - 1
        if index < 0 or entries[index][0] < day - self.max_age:
            return None
        rate_day, base, rate = entries[index]
        base_leg = self._direct_leg(base, day) if base != EUR else Leg(Decimal(1), None, "")
        if base_leg is None:
            return None
        oldest = min(d for d in (rate_day, base_leg.day) if d is not None)
        return Leg(base_leg.per_eur * rate, oldest, "manual")

    def rate(self, currency: str | None, day: dt.date) -> Rate | NoRate:
        """The rate converting ``currency`` amounts of report date ``day`` into the target."""
        key = (currency, day)
        found = self._memo.get(key)
        if found is None:
            found = self._memo[key] = self._resolve(currency, day)
        return found

    def _resolve(self, currency: str | None, day: dt.date) -> Rate | NoRate:
        if currency is None:
            return NoRate("no_currency", "Apple left the currency empty")
        if not is_known(currency):
            return NoRate("unknown_currency", f"{currency} is not an ISO 4217 code")
        if currency == self.target:
            return self._rate(Decimal(1), day, "identity", "identity")
        source_leg, target_leg = self.leg(currency, day), self.leg(self.target, day)
        for code, leg in ((currency, source_leg), (self.target, target_leg)):
            if leg is None:
                return NoRate(
                    "no_rate",
                    f"no {code} rate on or within {self.max_age.days} days before "
                    f"{day.isoformat()}",
                )
        assert source_leg is not None
        assert target_leg is not None
        # Two undated legs (EUR, fixed euro rates) date the rate by the report date itself.
        undated = source_leg.day is None and target_leg.day is None
        legs = (currency, source_leg, target_leg, day if undated else None)
        known = self._by_legs.get(legs)
        if known is None:
            known = self._by_legs[legs] = self._cross_rate(currency, day, source_leg, target_leg)
        return known

    def _cross_rate(self, currency: str, day: dt.date, source_leg: Leg, target_leg: Leg) -> Rate:
        if currency == EUR:
            value = target_leg.per_eur
        else:
            value = significant(_DIVISION.divide(target_leg.per_eur, source_leg.per_eur))
        days = [leg.day for leg in (source_leg, target_leg) if leg.day is not None]
        sources = sorted({leg.source for leg in (source_leg, target_leg)} - {"identity"})
        method = "direct" if EUR in (currency, self.target) else "cross-EUR"
        return self._rate(value, min(days, default=day), "+".join(sources), method)

    def convertible(self) -> set[str]:
        """Every currency this book may hold a rate for (others never convert)."""
        return {EUR, self.target, *EURO_FIXED, *self._direct, *self._cross}

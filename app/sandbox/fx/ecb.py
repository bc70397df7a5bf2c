"""The ECB's side: which days have a fix, when each is published, and its rates (FACTS §2).

A day has a fix when it is a TARGET working day [ECB-T2], on or after ``history_start`` and not
skipped by a test. Its rates come out at ``publish_time`` (16:00) Frankfurt time plus any
delay a test set; before that instant no file shows the day. Each currency is published while
it is on the roster (RUB until 2022-03-01, HRK until 2022-12-30, BGN until 2025-12-31) with
the ECB's decimals; BGN at its fixed 1.9558.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from app.sandbox.fx.calendar import frankfurt_date, is_target_closing_day, local_to_utc
from app.sandbox.fx.currencies import ECB_BY_CODE, ECB_CURRENCIES, EcbCurrency
from app.sandbox.fx.numbers import quantize

if TYPE_CHECKING:
    from app.sandbox.fx.state import FxState


class EcbBook:
    def __init__(self, state: FxState) -> None:
        self.state = state

    # --- days ------------------------------------------------------------------------------

    def has_fix(self, day: date) -> bool:
        """Whether the ECB fixes (or will fix) rates for ``day``, ignoring the clock."""
        if day < self.state.history_start or is_target_closing_day(day):
            return False
        return day not in self.state.knobs.skipped.get("ECB", ())

    def publication_time(self, day: date) -> datetime:
        state = self.state
        on_time = local_to_utc(day, state.publish_time, state.variants.publish_clock)
        return on_time + state.knobs.delays.get(day, timedelta(0))

    def is_published(self, day: date, at: datetime | None = None) -> bool:
        """Whether ``day``'s rates are out at ``at`` (default: now)."""
        moment = at or self.state.now()
        return self.has_fix(day) and self.publication_time(day) <= moment

    def today(self) -> date:
        """Today's date in Frankfurt by the sandbox clock."""
        return frankfurt_date(self.state.now(), self.state.variants.publish_clock)

    def visible_days(self, start: date | None = None, end: date | None = None) -> list[date]:
        """Published days from ``start`` (default ``history_start``) to ``end`` (default
        today), oldest first. A delayed day can surface after later days (FACTS §2 knobs)."""
        now = self.state.now()
        first = max(start or self.state.history_start, self.state.history_start)
        last = min(end or self.today(), self.today())
        days: list[date] = []
        day = first
        while day <= last:
            if self.is_published(day, now):
                days.append(day)
            day += timedelta(days=1)
        return days

    def latest_on_or_before(self, day: date, *, visible: bool = True) -> date | None:
        """The newest fix on or before ``day`` (published by now when ``visible``)."""
        now = self.state.now()
        cursor = day
        while cursor >= self.state.history_start:
            published = self.is_published(cursor, now) if visible else self.has_fix(cursor)
            if published:
                return cursor
            cursor -= timedelta(days=1)
        return None

    # --- rates -----------------------------------------------------------------------------

    def roster(self, day: date) -> list[EcbCurrency]:
        """Currencies the ECB publishes on ``day``, in the XML's order."""
        return [c for c in ECB_CURRENCIES if c.last_day is None or day <= c.last_day]

    def rate(self, day: date, code: str) -> Decimal | None:
        """The ECB's rate for ``code`` on ``day`` as published now (revisions applied), or
        None when the ECB has no fix that day or does not publish the currency."""
        currency = ECB_BY_CODE.get(code)
        if currency is None or not self.has_fix(day):
            return None
        if currency.last_day is not None and day > currency.last_day:
            return None
        return self._revised(day, currency, self.state.now())

    def rates(self, day: date) -> dict[str, Decimal]:
        """All of ``day``'s rates in the XML's order (empty when there is no fix)."""
        if not self.has_fix(day):
            return {}
        now = self.state.now()
        return {c.code: self._revised(day, c, now) for c in self.roster(day)}

    def original(self, day: date, currency: EcbCurrency) -> Decimal:
        if currency.fixed is not None:
            return currency.fixed
        walks = self.state.walks
        level = walks.level(currency.code, currency.level, currency.volatility, day)
        return quantize(level, currency.decimals)

    def _revised(self, day: date, currency: EcbCurrency, now: datetime) -> Decimal:
        value = self.original(day, currency)
        for revision in self.state.knobs.revisions:
            if revision.day == day and revision.currency == currency.code and revision.at <= now:
                value = quantize(revision.rate, currency.decimals)
        return value

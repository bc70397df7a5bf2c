"""Frankfurter's other providers: when each observes the gap currencies, and at what rate (§3).

Providers' data starts 60 days before the ECB history (the walks' origin), so a monthly rate
exists at ``history_start``. Daily providers observe on weekdays; the "monthly" ones (SBP for
PKR, CBC for TWD — FACTS §3 cadence) observe once a month, on its last weekday. An
observation becomes visible at 12:00 UTC of its day (sandbox choice). Frankfurter carries an
observation forward for up to 14 days (45 for monthly providers) when asked for a later date
([R-FRANK] ``Rate.latest``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from app.sandbox.fx.currencies import GAP_BY_CODE, PROVIDERS
from app.sandbox.fx.numbers import frankfurter_round

if TYPE_CHECKING:
    from app.sandbox.fx.state import FxState

VISIBLE_FROM = time(12, 0)  # UTC, on the observation day
LOOKBACK = {"daily": 14, "monthly": 45}


def last_weekday_of_month(day: date) -> date:
    following = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    last = following - timedelta(days=1)
    while last.weekday() >= 5:
        last -= timedelta(days=1)
    return last


class ProviderBook:
    def __init__(self, state: FxState) -> None:
        self.state = state

    def provider_of(self, code: str) -> str | None:
        """The provider publishing gap currency ``code`` (None: not a gap currency)."""
        currency = GAP_BY_CODE.get(code)
        if currency is None:
            return None
        return "IMF" if self.state.variants.gap_source == "imf" else currency.provider

    def observes(self, provider: str, day: date) -> bool:
        """Whether ``provider`` has (or will have) an observation dated ``day``."""
        if day < self.state.walks.origin or day.weekday() >= 5:
            return False
        if day in self.state.knobs.skipped.get(provider, ()):
            return False
        if PROVIDERS[provider].cadence == "monthly":
            return day == last_weekday_of_month(day)
        return True

    def visible(self, provider: str, day: date, now: datetime) -> bool:
        return self.observes(provider, day) and datetime.combine(day, VISIBLE_FROM, UTC) <= now

    def latest_observation(self, provider: str, day: date, *, visible: bool) -> date | None:
        """The provider's newest observation on or before ``day`` within its look-back."""
        now = self.state.now()
        span = LOOKBACK[PROVIDERS[provider].cadence]
        for back in range(span + 1):
            cursor = day - timedelta(days=back)
            seen = (
                self.visible(provider, cursor, now) if visible else self.observes(provider, cursor)
            )
            if seen:
                return cursor
        return None

    def value(self, code: str, day: date) -> Decimal:
        """The provider's ``code`` rate per EUR on ``day``, as Frankfurter shows it."""
        currency = GAP_BY_CODE[code]
        level = self.state.walks.level(code, currency.level, currency.volatility, day)
        return frankfurter_round(Decimal(str(level)))

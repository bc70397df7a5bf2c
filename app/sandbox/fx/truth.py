"""The simulator's own truth, for tests to check Orchard's conversions against (FACTS §5).

* :meth:`Truth.rate` — units per EUR published for exactly a day, whatever the clock says:
  EUR is 1; HRK and BGN from their changeover on are their fixed euro rates (§2); a currency the
  ECB publishes that day is the ECB's rate (revisions applied as of now); AED/SAR/QAR are the
  ECB's USD rate times the peg (exact); the other gap currencies are their Frankfurter
  provider's observation of that day. None when nobody publishes the currency that day.
* :meth:`Truth.quote` — what a client syncing *now* should use for a day: the latest rate on
  or before it that is already published (FACTS §5 "use the latest earlier fix and record both
  dates"), with its date and source (``ecb``, ``frankfurter:<KEY>``, ``peg``, ``euro-fixed``,
  ``eur``).
* :meth:`Truth.frankfurter_rate` — Frankfurter v2's EUR-based row for exactly a day (rounded
  the way Frankfurter shows it; the blend of ECB and CBR for RUB before 2022-03-02).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from app.sandbox.fx.blend import snapshot
from app.sandbox.fx.currencies import EURO_FIXED, GAP_BY_CODE, PEGS
from app.sandbox.fx.numbers import frankfurter_round

if TYPE_CHECKING:
    from app.sandbox.fx.state import FxState

QUOTE_LOOKBACK_DAYS = 45


@dataclass(frozen=True)
class RateQuote:
    rate: Decimal  # units per EUR
    date_used: date
    source: str

    def as_dict(self) -> dict[str, str]:
        return {
            "rate": str(self.rate),
            "date_used": self.date_used.isoformat(),
            "source": self.source,
        }


class Truth:
    def __init__(self, state: FxState) -> None:
        self.state = state

    def rate(self, day: date, currency: str) -> Decimal | None:
        found = self._on(day, currency.upper(), visible=False)
        return found.rate if found else None

    def quote(self, day: date, currency: str) -> RateQuote | None:
        code = currency.upper()
        for back in range(QUOTE_LOOKBACK_DAYS + 1):
            cursor = day - timedelta(days=back)
            if cursor < self.state.walks.origin:
                return None
            found = self._on(cursor, code, visible=True)
            if found is not None:
                return found
        return None

    def frankfurter_rate(self, day: date, currency: str) -> Decimal | None:
        row = snapshot(self.state, day, visible=False).get(currency.upper())
        if row is None or row.day != day:
            return None
        return frankfurter_round(row.rate)

    def _on(self, day: date, code: str, *, visible: bool) -> RateQuote | None:
        if code == "EUR":
            return RateQuote(Decimal(1), day, "eur")
        fixed = EURO_FIXED.get(code)
        if fixed is not None and day >= fixed[0]:
            return RateQuote(fixed[1], day, "euro-fixed")
        ecb = self.state.ecb
        ecb_out = ecb.is_published(day) if visible else ecb.has_fix(day)
        ecb_rate = ecb.rate(day, code) if ecb_out else None
        if ecb_rate is not None:
            return RateQuote(ecb_rate, day, "ecb")
        usd = ecb.rate(day, "USD") if ecb_out else None
        if code in PEGS and usd is not None:
            return RateQuote(usd * PEGS[code], day, "peg")
        return self._gap(day, code, visible=visible)

    def _gap(self, day: date, code: str, *, visible: bool) -> RateQuote | None:
        providers = self.state.providers
        provider = providers.provider_of(code)
        if provider is None or code not in GAP_BY_CODE:
            return None
        now = self.state.now()
        seen = (
            providers.visible(provider, day, now) if visible else providers.observes(provider, day)
        )
        if not seen:
            return None
        return RateQuote(providers.value(code, day), day, f"frankfurter:{provider}")

"""Frankfurter's view of one date: every currency's latest rate, blended across providers.

For a requested date each provider contributes its newest observation on or before it (within
its look-back, [R-FRANK] ``Rate.latest``); contributions for one currency are averaged and the
row is dated by the newest contribution. Pegged currencies (AED, SAR, QAR — FACTS §3) are
derived from the USD row when no ``providers`` filter is given, and carry no provider list.
All rates here are units per EUR, unrounded; :mod:`.frankfurter_v2` rebases and rounds.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from app.sandbox.fx.currencies import ECB_CURRENCIES, GAP_CURRENCIES, PEGS
from app.sandbox.fx.providers import LOOKBACK

if TYPE_CHECKING:
    from app.sandbox.fx.state import FxState


@dataclass(frozen=True)
class Contribution:
    quote: str
    provider: str
    day: date
    rate: Decimal  # per EUR


@dataclass(frozen=True)
class Blended:
    quote: str
    day: date
    rate: Decimal  # per EUR, unrounded
    contributions: tuple[Contribution, ...] = ()

    @property
    def pegged(self) -> bool:
        return not self.contributions


def _ecb_contributions(state: FxState, day: date, visible: bool) -> list[Contribution]:
    """The ECB's newest rate per currency within 14 days before ``day``."""
    span = LOOKBACK["daily"]
    oldest = day - timedelta(days=span)
    wanted = {c.code for c in ECB_CURRENCIES if c.last_day is None or c.last_day >= oldest}
    found: dict[str, Contribution] = {}
    for back in range(span + 1):
        cursor = day - timedelta(days=back)
        published = state.ecb.is_published(cursor) if visible else state.ecb.has_fix(cursor)
        if not published:
            continue
        for code, rate in state.ecb.rates(cursor).items():
            found.setdefault(code, Contribution(code, "ECB", cursor, rate))
        if wanted <= found.keys():
            break
    return [found[c.code] for c in ECB_CURRENCIES if c.code in found]


def _gap_contributions(state: FxState, day: date, visible: bool) -> list[Contribution]:
    found: list[Contribution] = []
    for currency in GAP_CURRENCIES:
        provider = state.providers.provider_of(currency.code)
        assert provider is not None
        observed = state.providers.latest_observation(provider, day, visible=visible)
        if observed is not None:
            rate = state.providers.value(currency.code, observed)
            found.append(Contribution(currency.code, provider, observed, rate))
    return found


def snapshot(
    state: FxState,
    day: date,
    *,
    providers: Collection[str] | None = None,
    visible: bool = True,
) -> dict[str, Blended]:
    """Blended rows per quote currency for ``day`` (EUR base), sorted by code."""
    by_quote: dict[str, list[Contribution]] = {}
    for item in [
        *_ecb_contributions(state, day, visible),
        *_gap_contributions(state, day, visible),
    ]:
        by_quote.setdefault(item.quote, []).append(item)
    rows: dict[str, Blended] = {}
    for quote, items in by_quote.items():
        chosen = tuple(i for i in items if providers is None or i.provider in providers)
        if chosen:
            rate = sum((i.rate for i in chosen), Decimal(0)) / len(chosen)
            rows[quote] = Blended(quote, max(i.day for i in chosen), rate, chosen)
    usd = rows.get("USD")
    if providers is None and usd is not None:
        for code, per_usd in PEGS.items():
            rows[code] = Blended(code, usd.day, usd.rate * per_usd)
    return dict(sorted(rows.items()))

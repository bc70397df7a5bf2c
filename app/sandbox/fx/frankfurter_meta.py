"""Frankfurter v2 metadata: ``/v2/currencies``, ``/v2/currency/{code}``, ``/v2/providers``.

Shapes from [R-FRANK] ``lib/public/v2/openapi.json`` and ``versions/v2.rb``: a currency is
``{"iso_code", "iso_numeric", "name", "symbol", "start_date", "end_date", "providers"}``
(``/v2/currency/{code}`` adds ``"peg": {"base", "rate", "authority"}`` for pegged ones); by
default only currencies with data in the last 30 days, ``scope=all`` adds legacy ones (HRK,
BGN, RUB's ECB series ends but CBR keeps RUB alive). A provider is ``{"key", "name", "base",
"start_date", "end_date", "currencies"}``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from app.sandbox.fx.currencies import (
    CURRENCY_INFO,
    ECB_CURRENCIES,
    GAP_CURRENCIES,
    PEGS,
    PROVIDERS,
)
from app.sandbox.fx.state import FxState

ACTIVE_DAYS = 30
PEG_AUTHORITY = {
    "AED": "Central Bank of the UAE",
    "SAR": "Saudi Central Bank",
    "QAR": "Qatar Central Bank",
}


@dataclass(frozen=True)
class Span:
    start: date | None
    end: date | None


def _ecb_span(state: FxState, last_day: date | None) -> Span:
    ecb, today = state.ecb, state.now().date()
    first = state.history_start
    while first <= today and not ecb.has_fix(first):
        first += timedelta(days=1)
    last = ecb.latest_on_or_before(min(today, last_day or today))
    return Span(first if first <= today else None, last)


def _provider_span(state: FxState, key: str) -> Span:
    books, today = state.providers, state.now().date()
    first = state.walks.origin
    while first <= today and not books.observes(key, first):
        first += timedelta(days=1)
    last = books.latest_observation(key, today, visible=True)
    return Span(first if first <= today else None, last)


def _merge(spans: list[Span]) -> Span:
    starts = [s.start for s in spans if s.start]
    ends = [s.end for s in spans if s.end]
    return Span(min(starts) if starts else None, max(ends) if ends else None)


def coverage(state: FxState) -> dict[str, tuple[Span, list[str]]]:
    """Per currency: the span of its data and the providers covering it."""
    found: dict[str, tuple[list[Span], set[str]]] = {}

    def add(code: str, span: Span, provider: str | None) -> None:
        spans, keys = found.setdefault(code, ([], set()))
        spans.append(span)
        if provider:
            keys.add(provider)

    ecb_all = _ecb_span(state, None)
    add("EUR", ecb_all, "ECB")
    for currency in ECB_CURRENCIES:
        add(currency.code, _ecb_span(state, currency.last_day), "ECB")
    for gap in GAP_CURRENCIES:
        key = state.providers.provider_of(gap.code) or gap.provider
        add(gap.code, _provider_span(state, key), key)
    usd = _ecb_span(state, None)
    for code in PEGS:
        add(code, usd, None)
    return {code: (_merge(spans), sorted(keys)) for code, (spans, keys) in sorted(found.items())}


def _currency(code: str, span: Span, providers: list[str]) -> dict[str, object]:
    numeric, name, symbol = CURRENCY_INFO[code]
    return {
        "iso_code": code,
        "iso_numeric": numeric,
        "name": name,
        "symbol": symbol,
        "start_date": span.start.isoformat() if span.start else None,
        "end_date": span.end.isoformat() if span.end else None,
        "providers": providers,
    }


def currencies(state: FxState, scope: str | None) -> list[dict[str, object]]:
    cutoff = state.now().date() - timedelta(days=ACTIVE_DAYS)
    return [
        _currency(code, span, providers)
        for code, (span, providers) in coverage(state).items()
        if scope == "all" or (span.end is not None and span.end >= cutoff)
    ]


def currency(state: FxState, code: str) -> dict[str, object] | None:
    found = coverage(state).get(code.upper())
    if found is None:
        return None
    body = _currency(code.upper(), *found)
    if code.upper() in PEGS:
        body["peg"] = {
            "base": "USD",
            "rate": float(PEGS[code.upper()]),
            "authority": PEG_AUTHORITY[code.upper()],
        }
    return body


def providers(state: FxState) -> list[dict[str, object]]:
    covered: dict[str, list[str]] = {"ECB": [c.code for c in ECB_CURRENCIES]}
    for gap in GAP_CURRENCIES:
        key = state.providers.provider_of(gap.code) or gap.provider
        covered.setdefault(key, []).append(gap.code)
    out: list[dict[str, object]] = []
    for key in sorted(covered):
        provider = PROVIDERS[key]
        span = _ecb_span(state, None) if key == "ECB" else _provider_span(state, key)
        out.append(
            {
                "key": key,
                "name": provider.name,
                "base": provider.base,
                "start_date": span.start.isoformat() if span.start else None,
                "end_date": span.end.isoformat() if span.end else None,
                "currencies": sorted(covered[key]),
            }
        )
    return out

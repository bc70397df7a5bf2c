"""Frankfurter's v1 API (FACTS §3 [R-FRANK] ``lib/public/v1/openapi.json``, ``versions/v1``).

==========================================  ===========================================
``GET /v1/latest`` (also ``/v1/current``)   ``{"amount", "base", "date", "rates"}``
``GET /v1/{YYYY-MM-DD}``                    the same for the nearest working day on or
                                            before the date (a future date → latest)
``GET /v1/{start}..{end}``, ``/v1/{start}..``  ``{"amount", "base", "start_date",
                                            "end_date", "rates": {date: {code: rate}}}``;
                                            a start on a closed day snaps back to the
                                            previous working day; a future start → 404
``GET /v1/currencies``                      ``{code: name}``
==========================================  ===========================================

Parameters: ``base`` (alias ``from``, default EUR), ``symbols`` (alias ``to``, comma list),
``amount`` (> 0). Errors: 404 ``{"message": "not found"}`` when nothing matches (unknown
base, no data); 422 ``{"message": ...}`` for "invalid date", "invalid amount", "bad currency
pair" (``symbols`` equal to ``base``). Rates are the ECB's own digits unless rebased or
multiplied, which rounds them Frankfurter's way. The same routes answer without the ``/v1``
prefix (the older unversioned API). ``v1_source="blended"`` adds the gap currencies.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from app.sandbox.fx.blend import snapshot
from app.sandbox.fx.currencies import CURRENCY_INFO, V1_NAMES
from app.sandbox.fx.numbers import frankfurter_round, json_number
from app.sandbox.fx.state import FxState

_DAY = r"\d{4}-\d{2}-\d{2}"
_ONE = re.compile(f"^({_DAY})$")
_RANGE = re.compile(f"^({_DAY})\\.\\.({_DAY})?$")
CACHE = {"Cache-Control": "public, max-age=86400"}


class V1Error(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class V1Query:
    base: str
    symbols: list[str] | None
    amount: Decimal

    @classmethod
    def parse(cls, request: Request) -> V1Query:
        params = request.query_params
        base = (params.get("from") or params.get("base") or "EUR").upper()
        raw_symbols = params.get("to") or params.get("symbols")
        symbols = raw_symbols.upper().split(",") if raw_symbols is not None else None
        amount = Decimal(1)
        if "amount" in params:
            try:
                amount = Decimal(str(float(params["amount"])))
            except (ValueError, InvalidOperation):
                amount = Decimal(0)
            if amount <= 0:
                raise V1Error(422, "invalid amount")
        if symbols == [base]:
            raise V1Error(422, "bad currency pair")
        return cls(base, symbols, amount)


def _parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise V1Error(422, "invalid date") from None


def _day_rates(state: FxState, day: date) -> dict[str, Decimal]:
    rates = state.ecb.rates(day)
    if state.variants.v1_source == "blended":
        for code, row in snapshot(state, day).items():
            rates.setdefault(code, frankfurter_round(row.rate))
    return rates


def _convert(rates: dict[str, Decimal], query: V1Query) -> dict[str, Decimal]:
    """[R-FRANK] ``Quote::Base#prepare_rates`` and ``#rebase_rates`` for one day."""
    base, symbols, amount = query.base, query.symbols, query.amount
    if symbols is not None:
        rates = {code: v for code, v in rates.items() if code in symbols or code == base}
    rounding = amount != 1 or base != "EUR"
    prepared = {
        code: frankfurter_round(amount * v) if rounding else amount * v for code, v in rates.items()
    }
    if base == "EUR":
        return dict(sorted(prepared.items()))
    if symbols is None or "EUR" in symbols:
        prepared["EUR"] = amount
    divisor = prepared.pop(base, None)
    if divisor is None or not prepared:
        return {}
    return {code: frankfurter_round(amount * v / divisor) for code, v in sorted(prepared.items())}


def _as_json(rates: dict[str, Decimal]) -> dict[str, int | float]:
    return {code: json_number(value) for code, value in rates.items()}


def _end_of_day(state: FxState, requested: date, query: V1Query) -> dict[str, object]:
    day = state.ecb.latest_on_or_before(min(requested, state.now().date()))
    rates = _convert(_day_rates(state, day), query) if day else {}
    if day is None or not rates:
        raise V1Error(404, "not found")
    return {
        "amount": float(query.amount),
        "base": query.base,
        "date": day.isoformat(),
        "rates": _as_json(rates),
    }


def _interval(state: FxState, start: date, end: date, query: V1Query) -> dict[str, object]:
    if start > state.now().date():
        raise V1Error(404, "not found")
    first = state.ecb.latest_on_or_before(start) or start
    result: dict[str, dict[str, int | float]] = {}
    for day in state.ecb.visible_days(first, end):
        rates = _convert(_day_rates(state, day), query)
        if rates:
            result[day.isoformat()] = _as_json(rates)
    if not result:
        raise V1Error(404, "not found")
    days = list(result)
    return {
        "amount": float(query.amount),
        "base": query.base,
        "start_date": days[0],
        "end_date": days[-1],
        "rates": result,
    }


def _currencies(state: FxState) -> dict[str, str]:
    latest = state.ecb.latest_on_or_before(state.now().date())
    codes = set(_day_rates(state, latest)) if latest else set()
    codes.add("EUR")
    return {c: V1_NAMES.get(c, CURRENCY_INFO[c][1]) for c in sorted(codes) if c in CURRENCY_INFO}


def answer(state: FxState, rest: str, request: Request) -> Response:
    """Answer the v1 path ``rest`` (without the ``/v1/`` prefix)."""
    try:
        if rest == "currencies":
            return JSONResponse(_currencies(state), headers=CACHE)
        body: dict[str, object]
        if rest in ("latest", "current"):
            body = _end_of_day(state, state.now().date(), V1Query.parse(request))
        elif one := _ONE.match(rest):
            day = _parse_day(one.group(1))
            body = _end_of_day(state, day, V1Query.parse(request))
        elif span := _RANGE.match(rest):
            start = _parse_day(span.group(1))
            end = _parse_day(span.group(2)) if span.group(2) else state.now().date()
            body = _interval(state, start, end, V1Query.parse(request))
        else:
            return Response(status_code=404)
        return JSONResponse(body, headers=CACHE)
    except V1Error as error:
        return JSONResponse({"message": error.message}, status_code=error.status)

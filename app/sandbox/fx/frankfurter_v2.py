"""Frankfurter's v2 rates (FACTS §3 [R-FRANK] ``lib/public/v2/openapi.json``, ``RateQuery``).

=====================================  ==================================================
``GET /v2/rates``                      ``[{"date", "base", "quote", "rate"}, ...]``; latest
                                       by default, ``date=`` one day, ``from=``/``to=`` a
                                       series (``to`` defaults to today)
``GET /v2/rates.csv``                  the same as ``date,base,quote,rate`` CSV (also with
                                       ``Accept: text/csv``)
``GET /v2/rate/{base}/{quote}``        one ``{"date", "base", "quote", "rate"}`` object
=====================================  ==================================================

Parameters: ``base`` (default EUR), ``quotes``, ``providers`` (e.g. ``ECB``), ``group``
(``week``/``month``, series only), ``expand=providers`` (each row gains ``providers``:
``[{"key", "date", "rate"}]``; pegged rows have none). A date without a rate falls back to each
provider's newest earlier observation (14 days; 45 for monthly providers), and the row's
``date`` says which day it is. Errors: 422 ``{"status": 422, "message": ...}`` for "unknown
parameter: x", "invalid date", "conflicting params", "invalid group", "invalid expand: x",
"invalid currency: XYZ"; 404 ``{"status": 404, "message": "not found"}`` when nothing matches
(or ``[]`` with ``v2_empty="empty_list"``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from app.sandbox.fx.blend import Blended, snapshot
from app.sandbox.fx.currencies import known_code
from app.sandbox.fx.numbers import frankfurter_round, json_number
from app.sandbox.fx.state import FxState

ALLOWED_PARAMS = ("base", "quotes", "providers", "date", "from", "to", "group", "expand")
Row = dict[str, object]


class V2Error(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message

    def body(self) -> dict[str, object]:
        return {"status": self.status, "message": self.message}


def _parse_day(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise V2Error(422, "invalid date") from None


def _split(value: str | None) -> list[str] | None:
    return value.upper().split(",") if value is not None else None


def check_currencies(codes: list[str]) -> None:
    invalid = [code for code in codes if not known_code(code)]
    if invalid:
        raise V2Error(422, "invalid currency: " + ",".join(invalid))


@dataclass(frozen=True)
class V2Query:
    base: str
    quotes: list[str] | None
    providers: list[str] | None
    day: date | None
    start: date | None
    end: date | None
    group: str | None
    expand: bool

    @classmethod
    def parse(cls, params: dict[str, str], *, allowed: tuple[str, ...] = ALLOWED_PARAMS) -> V2Query:
        unknown = [name for name in params if name not in allowed]
        if unknown:
            raise V2Error(422, "unknown parameter: " + ", ".join(unknown))
        day, start, end = (_parse_day(params.get(k)) for k in ("date", "from", "to"))
        if day is not None and (start is not None or end is not None):
            raise V2Error(422, "conflicting params")
        group = params["group"].lower() if "group" in params else None
        if group is not None and group not in ("week", "month"):
            raise V2Error(422, "invalid group")
        expand = params["expand"].lower().split(",") if "expand" in params else []
        if bad := [e for e in expand if e != "providers"]:
            raise V2Error(422, "invalid expand: " + ",".join(bad))
        base, quotes = params.get("base", "EUR").upper(), _split(params.get("quotes"))
        check_currencies(([base] if "base" in params else []) + (quotes or []))
        providers = _split(params.get("providers"))
        return cls(base, quotes, providers, day, start, end, group, bool(expand))


@dataclass(frozen=True)
class OutRow:
    """One answer row before rounding: ``rate`` in the request's base."""

    day: date
    quote: str
    rate: Decimal
    providers: tuple[tuple[str, date, Decimal], ...] | None  # None: a pegged row
    exact: bool = False  # a single provider's own digits ([R-FRANK] passthrough): no rounding


def _providers(
    row: Blended, transform: Decimal, invert: bool = False
) -> tuple[tuple[str, date, Decimal], ...] | None:
    if row.pegged:
        return None
    return tuple(
        (c.provider, c.day, (transform / c.rate) if invert else (c.rate / transform))
        for c in row.contributions
    )


def rebase(rows: dict[str, Blended], base: str, *, exact: bool = False) -> list[OutRow]:
    """Per-EUR rows expressed in ``base`` (cross rates through EUR, as [ECB-1998])."""
    if base == "EUR":
        return [OutRow(r.day, q, r.rate, _providers(r, Decimal(1)), exact) for q, r in rows.items()]
    anchor = rows.get(base)
    if anchor is None:
        return []
    out = [
        OutRow(max(r.day, anchor.day), q, r.rate / anchor.rate, _providers(r, anchor.rate))
        for q, r in rows.items()
        if q != base
    ]
    inverse = Decimal(1) / anchor.rate
    out.append(OutRow(anchor.day, "EUR", inverse, _providers(anchor, Decimal(1), invert=True)))
    return out


def _record(row: OutRow, base: str, query: V2Query, dated_providers: bool) -> Row:
    rate = row.rate if row.exact else frankfurter_round(row.rate)
    record: Row = {
        "date": row.day.isoformat(),
        "base": base,
        "quote": row.quote,
        "rate": json_number(rate),
    }
    if query.expand and row.providers is not None:
        entries: list[dict[str, object]] = []
        for key, day, value in row.providers:
            entry: dict[str, object] = {"key": key}
            if dated_providers:
                entry["date"] = day.isoformat()
            entry["rate"] = json_number(value if row.exact else frankfurter_round(value))
            entries.append(entry)
        record["providers"] = entries
    return record


def records_for_day(state: FxState, day: date, query: V2Query) -> list[Row]:
    """The rows of one date (carry-forward snapshot), sorted by quote."""
    providers = query.providers
    exact = providers == ["ECB"] and query.base == "EUR"
    rows = rebase(snapshot(state, day, providers=providers), query.base, exact=exact)
    dated = state.variants.v2_provider_dates
    out = [
        _record(r, query.base, query, dated)
        for r in rows
        if query.quotes is None or r.quote in query.quotes
    ]
    wants_base = query.quotes is None or query.base in query.quotes
    if state.variants.v2_identity_row and rows and wants_base:
        newest = max((str(r["date"]) for r in out), default=max(r.day for r in rows).isoformat())
        out.append({"date": newest, "base": query.base, "quote": query.base, "rate": 1.0})
    return sorted(out, key=lambda r: str(r["quote"]))


def _series(state: FxState, start: date, end: date, query: V2Query) -> list[Row]:
    """Rows for every date of a period, each (quote, date) once ([R-FRANK] daily range)."""
    today = state.now().date()
    if start > today:
        return []
    seen: set[tuple[object, object]] = set()
    out: list[Row] = []
    day = start
    while day <= min(end, today):
        if day == start or day.weekday() < 5:
            for record in records_for_day(state, day, query):
                key = (record["quote"], record["date"])
                if key not in seen:
                    seen.add(key)
                    out.append(record)
        day += timedelta(days=1)
    out.sort(key=lambda r: (str(r["date"]), str(r["quote"])))
    return _grouped(out, query.group) if query.group else out


def _bucket(day: date, group: str) -> date:
    return day - timedelta(days=day.weekday()) if group == "week" else day.replace(day=1)


def _grouped(rows: list[Row], group: str) -> list[Row]:
    """Average rates per week (from Monday) or month (from the 1st); dated by the bucket's
    first day. Frankfurter's own bucket dating is unconfirmed."""
    buckets: dict[tuple[str, str, str], list[Decimal]] = {}
    for row in rows:
        start = _bucket(date.fromisoformat(str(row["date"])), group).isoformat()
        key = (start, str(row["base"]), str(row["quote"]))
        buckets.setdefault(key, []).append(Decimal(str(row["rate"])))
    return [
        {
            "date": start,
            "base": base,
            "quote": quote,
            "rate": json_number(frankfurter_round(sum(values, Decimal(0)) / len(values))),
        }
        for (start, base, quote), values in sorted(buckets.items())
    ]


def rates(state: FxState, params: dict[str, str]) -> list[Row]:
    """``/v2/rates``: raises :class:`V2Error` (422, or 404 when empty and so configured)."""
    query = V2Query.parse(params)
    if query.start is not None:
        rows = _series(state, query.start, query.end or state.now().date(), query)
    else:
        rows = records_for_day(state, query.day or state.now().date(), query)
    if not rows and state.variants.v2_empty == "not_found":
        raise V2Error(404, "not found")
    return rows


def one_rate(state: FxState, base: str, quote: str, params: dict[str, str]) -> Row:
    """``/v2/rate/{base}/{quote}``: one row, 404 when there is none."""
    check_currencies([base.upper(), quote.upper()])
    query = V2Query.parse({**params, "base": base, "quotes": quote}, allowed=(*ALLOWED_PARAMS,))
    if query.start is not None or query.group is not None:
        raise V2Error(422, "conflicting params")
    for row in records_for_day(state, query.day or state.now().date(), query):
        if row["quote"] == query.quotes[0]:  # type: ignore[index]
            return row
    raise V2Error(404, "not found")


def as_csv(rows: list[Row]) -> str:
    lines = ["date,base,quote,rate"]
    lines += [f"{r['date']},{r['base']},{r['quote']},{r['rate']}" for r in rows]
    return "\n".join(lines) + "\n"

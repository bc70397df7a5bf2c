"""Conversion inside a revenue aggregate: the rates of every (report date, currency) of a span
joined into the aggregating statement, so it returns converted sums beside the originals in
one pass (no second query, no per-day rows shipped to Python).

The rule is :mod:`app.fx.convert`'s: each stored row of report date *d* multiplies by the
rate of *d* (the book's, see :mod:`app.fx.rates`), the products are summed exactly
(PostgreSQL ``numeric``), and only the presented amount is rounded. For provenance the
statement also returns, per currency, the report dates that had money and a rate (as day
numbers *k* = span start + *k* days, comma-separated), from which the rates used are named, and
the amount, first and last date of what had no rate.

A domain uses it in four places of its SQL (all fragments below), over rows already summed
per report date and currency (a few thousand): the ``fx_map`` CTE (:func:`rates_cte`), a
lookup per converted currency column (:func:`join`, a LATERAL row), the per-day
columns (:func:`columns`), then, once the days and currency pairs of a bucket are merged into
arrays, :func:`merged` per currency. :func:`convert_sums` turns the result into the API's
converted documents.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from app.fx.convert import Gap, finish_measure
from app.fx.rates import NoRate, Rate, RateBook

__all__ = [
    "CurrencySums",
    "DayRates",
    "columns",
    "convert_sums",
    "join",
    "kept_table",
    "merged",
    "rates_cte",
    "rows_of",
    "table",
]

#: Distinct (currency, days) a kept table remembers the rates of (``DayRates.used``).
_MAX_USED = 20_000

#: Per currency of one measure: (currency, Σ amount × rate of the rows with a rate, day numbers
#: with money and a rate as comma-separated text, Σ amount without a rate, first and last date
#: without a rate).
CurrencySums = tuple[str | None, Any, str | None, Any, dt.date | None, dt.date | None]


@dataclass(frozen=True)
class DayRates:
    """The book's rate of every (report date, currency) of ``start``..``end`` it can convert,
    as bind parameters of :func:`rates_cte`."""

    book: RateBook
    start: dt.date
    end: dt.date
    days: list[dt.date]
    currencies: list[str]
    rates: list[str]  # decimal text: exact, whatever the driver does with numerics
    _used: dict[tuple[str, str], dict[Rate, None]] = field(default_factory=dict, compare=False)

    def params(self) -> dict[str, Any]:
        return {"fx_start": self.start, "fx_map": self.rate_map}

    def used(self, currency: str, days: str) -> dict[Rate, None]:
        """The rates of ``currency`` on the ``days`` (ascending day numbers *k*: ``start`` + *k*
        days, comma-separated), in day order; made once per distinct (currency, days) while
        the table is kept (most storefronts of a month share them)."""
        key = (currency, days)
        found = self._used.get(key)
        if found is None:
            found = {}
            for number in days.split(","):
                rate = self.book.rate(currency, self.start + dt.timedelta(days=int(number)))
                assert isinstance(rate, Rate)  # the statement joined a rate for that day
                found[rate] = None
            if len(self._used) < _MAX_USED:
                self._used[key] = found
        return found

    @functools.cached_property
    def rate_map(self) -> str:
        """The ``fx_map`` parameter (JSON text), made once: the table is kept with its book.
        Per currency, the rate text of each day number (null: no rate that day)."""
        span = (self.end - self.start).days + 1
        by_code: dict[str, list[str | None]] = {}
        for day, code, rate in zip(self.days, self.currencies, self.rates, strict=True):
            if code not in by_code:
                by_code[code] = [None] * span
            by_code[code][(day - self.start).days] = rate
        return json.dumps(by_code)


def kept_table(book: RateBook, start: dt.date, end: dt.date) -> DayRates:
    """:func:`table`, made once per book and span and kept with the book (a kept book,
    :mod:`app.fx.kept`, serves many requests while the rates are unchanged). The book holds
    every currency: which ones the data holds is not known before the aggregate runs."""
    key = ("in_sql.table", start, end)
    found = book.derived.get(key)
    if found is None:
        found = book.derived[key] = table(book, start, end)
    assert isinstance(found, DayRates)
    return found


def table(book: RateBook, start: dt.date, end: dt.date) -> DayRates:
    """The book's rate of every (date, currency) of ``start``..``end`` it can convert."""
    days: list[dt.date] = []
    currencies: list[str] = []
    rates: list[str] = []
    span = [start + dt.timedelta(days=n) for n in range((end - start).days + 1)]
    for code in sorted(book.convertible()):
        for day in span:
            found = book.rate(code, day)
            if isinstance(found, Rate):
                days.append(day)
                currencies.append(code)
                rates.append(found.entry["rate"])
    return DayRates(book, start, end, days, currencies, rates)


def rates_cte() -> str:
    """``fx_map(m)``: one JSON object, currency → array of rate texts by day number."""
    return "fx_map AS (SELECT CAST(:fx_map AS jsonb) AS m)"


def join(alias: str, day: str, currency: str) -> str:
    """The rate of ``day`` and ``currency`` (SQL expressions) as ``alias.rate`` (null: none),
    and ``alias.day``, the day's number, when there is a rate. A lookup per row, not a join:
    no plan can turn it into a scan of every rate per row; a currency's array is indexed by
    the day number (no date formatted per row)."""
    number = f"({day} - CAST(:fx_start AS date))"
    return f"""CROSS JOIN LATERAL (
                SELECT x.rate, CASE WHEN x.rate IS NOT NULL THEN {number} END AS day
                FROM (SELECT CASE WHEN {number} >= 0 THEN  -- (a negative index counts back)
                                 CAST((SELECT m FROM fx_map) -> ({currency}) ->> {number}
                                      AS numeric)
                             END AS rate) AS x
            ) AS {alias}"""  # noqa: S608  (SQL expressions of the caller; values are bound)


def columns(alias: str, amount: str, day: str, prefix: str) -> str:
    """Per-day columns of ``amount`` converted with the rate joined as ``alias``:
    ``{prefix}_conv`` (amount × rate), ``_days`` (the day's number, when it has money and a
    rate), ``_miss``, ``_first``, ``_last`` (the amount and day, when it has money and no
    rate)."""
    money = f"{amount} <> 0"
    gap = f"{alias}.rate IS NULL AND {money}"
    return f"""{amount} * {alias}.rate AS {prefix}_conv,
                   CASE WHEN {money} THEN {alias}.day END AS {prefix}_days,
                   CASE WHEN {gap} THEN {amount} END AS {prefix}_miss,
                   CASE WHEN {gap} THEN {day} END AS {prefix}_first,
                   CASE WHEN {gap} THEN {day} END AS {prefix}_last"""


def merged(currencies: str, prefix: str) -> str:
    """A LATERAL subquery over arrays (``{prefix}_conv`` … per row of ``currencies``) that
    merges them per currency: one array each, ordered by currency (null last); the days as
    their ascending distinct numbers, comma-separated."""
    order = 'ORDER BY currency COLLATE "C" NULLS LAST'
    return f"""
    SELECT array_agg(currency {order}) AS currencies,
           array_agg(CAST(conv AS text) {order}) AS conv,
           array_agg(days {order}) AS days,
           array_agg(CAST(miss AS text) {order}) AS miss,
           array_agg(first {order}) AS first,
           array_agg(last {order}) AS last
    FROM (SELECT currency, sum(conv) AS conv,
                 array_to_string(array_agg(DISTINCT days ORDER BY days), ',') AS days,
                 sum(miss) AS miss, min(first) AS first, max(last) AS last
          FROM unnest(grouped.{currencies}, grouped.{prefix}_conv, grouped.{prefix}_days,
                      grouped.{prefix}_miss, grouped.{prefix}_first, grouped.{prefix}_last)
               AS x(currency, conv, days, miss, first, last)
          GROUP BY currency) AS per_currency
    """  # noqa: S608  (identifiers come from the caller's fixed SQL; no values)


def rows_of(columns: Sequence[Any]) -> list[CurrencySums]:
    """The six arrays :func:`merged` returns as one tuple per currency."""
    return list(zip(*(c or () for c in columns), strict=True))


def convert_sums(
    rates: DayRates, listed: list[dict[str, Any]], per_currency: Sequence[CurrencySums]
) -> dict[str, Any]:
    """Like :func:`app.fx.convert.convert_measure`, from the statement's per-currency sums:
    ``listed`` entries gain ``converted``; returns the measure's ``ConvertedTotal``."""
    book = rates.book
    converted: dict[str | None, Decimal] = {}
    used: dict[str | None, dict[Rate, None]] = {}
    missing: dict[tuple[str | None, str], Gap] = {}
    for currency, conv, days, miss, first, last in per_currency:
        if days and currency is not None:
            converted[currency] = Decimal(conv)
            used[currency] = rates.used(currency, days)
        if miss is not None and first is not None and last is not None:
            amount = Decimal(miss)
            if amount:
                gap = book.rate(currency, first)
                reason, detail = (
                    (gap.reason, gap.detail) if isinstance(gap, NoRate) else ("no_rate", "")
                )
                missing[(currency, reason)] = (amount, first, last, detail)
    return finish_measure(book, listed, converted, used, missing)

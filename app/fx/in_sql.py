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

import pydantic_core

from app.fx.convert import Gap, finish_measure
from app.fx.currencies import ISO_4217
from app.fx.rates import NoRate, Rate, RateBook
from app.kit.money import amount_sql, minor_units, minor_units_sql

__all__ = [
    "CurrencySums",
    "DayRates",
    "WrittenRates",
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

    @functools.cached_property
    def written(self) -> WrittenRates:
        """What a statement that writes converted documents as JSON binds (:func:`rates`),
        made once: the table is kept with its book."""
        return WrittenRates.of(self)


#: In :class:`WrittenRates`' map, a day without a rate whose ``NoRate`` names the currency
#: itself (it has no rate within the allowed age), or the reporting currency (it has none).
NAMES_CURRENCY = -1
NAMES_TARGET = -2


@dataclass(frozen=True)
class WrittenRates:
    """A :class:`DayRates` as a statement that writes converted documents binds it
    (:func:`written_params`): each distinct rate of the span numbered (1, 2, …), each
    currency's days as those numbers — or, for a day without a rate, which currency its
    ``NoRate`` names — and, per number, the parts of the JSON the Python path writes for it
    (``Rate.whole``, ``Rate.entry``), so the statement only splices them."""

    ids: str  # JSON: currency → [rate number | NAMES_CURRENCY | NAMES_TARGET] by day number
    values: str  # JSON arrays by rate number − 1: the rate (decimal text), …
    dates: str  # … its date (ISO), …
    sources: str  # … its source, …
    sources_json: str  # … its source as a JSON string, …
    methods_json: str  # … its method as a JSON string
    ranks: list[int]  # position in ``RateBook.several``'s order (date, source, rate)

    @classmethod
    def of(cls, table: DayRates) -> WrittenRates:
        book = table.book
        numbers: dict[Rate, int] = {}
        span = (table.end - table.start).days + 1
        days = [table.start + dt.timedelta(days=n) for n in range(span)]
        by_code: dict[str, list[int]] = {}
        for code in sorted(book.convertible()):
            marks = []
            for day in days:
                found = book.rate(code, day)
                if isinstance(found, Rate):
                    marks.append(numbers.setdefault(found, len(numbers) + 1))
                else:  # ``RateBook._resolve`` names the currency first when it has no leg
                    marks.append(NAMES_CURRENCY if book.leg(code, day) is None else NAMES_TARGET)
            by_code[code] = marks
        entries = [rate.entry for rate in numbers]
        order = sorted(
            range(len(entries)),
            key=lambda n: (entries[n]["rate_date"], entries[n]["source"], entries[n]["rate"]),
        )
        ranks = [0] * len(entries)
        for position, n in enumerate(order):
            ranks[n] = position

        def as_json(values: list[Any]) -> str:
            return json.dumps(values, separators=(",", ":"))

        def quoted(value: str) -> str:
            return pydantic_core.to_json(value).decode()

        return cls(
            ids=as_json(by_code),  # type: ignore[arg-type]
            values=as_json([e["rate"] for e in entries]),
            dates=as_json([e["rate_date"] for e in entries]),
            sources=as_json([e["source"] for e in entries]),
            sources_json=as_json([quoted(e["source"]) for e in entries]),
            methods_json=as_json([quoted(e["method"]) for e in entries]),
            ranks=ranks,
        )


def written_params(table: DayRates) -> dict[str, Any]:
    """The bind parameters of :func:`written_cte` and the fragments that use it."""
    written = table.written
    target = table.book.target
    return {
        "fx_start": table.start,
        "fx_ids": written.ids,
        "fx_values": written.values,
        "fx_dates": written.dates,
        "fx_sources": written.sources,
        "fx_sources_json": written.sources_json,
        "fx_methods_json": written.methods_json,
        "fx_ranks": written.ranks,
        "fx_target": pydantic_core.to_json(target).decode(),
        "fx_target_code": target,
        "fx_decimals": minor_units(target),
        "fx_day_rates": table.rate_map,
        "fx_zero": table.book.present(Decimal(0)),
        "fx_max_age": f" rate on or within {table.book.max_age.days} days before ",
    }


def written_cte() -> str:
    """``rate_book``: :func:`written_params` as one row, made once per statement; a query
    level that uses the fragments below joins :data:`WRITTEN_ROW`."""
    return """rate_book AS MATERIALIZED (
        SELECT p.*, r.entries, r.wholes, r.partials, CAST(:fx_decimals AS integer) AS d,
               0.5 * power(CAST(10 AS numeric), -CAST(:fx_decimals AS integer)) AS half,
               power(CAST(10 AS numeric), CAST(:fx_decimals AS integer)) AS unit
        FROM (SELECT CAST(:fx_ids AS jsonb) AS ids, CAST(:fx_values AS jsonb) AS vals,
                     CAST(:fx_dates AS jsonb) AS dates, CAST(:fx_sources AS jsonb) AS srcs,
                     CAST(:fx_sources_json AS jsonb) AS srcs_json,
                     CAST(:fx_methods_json AS jsonb) AS methods_json,
                     CAST(:fx_ranks AS integer[]) AS ranks,
                     CAST(:fx_day_rates AS jsonb) AS day_rates) AS p
        -- Per rate number, its JSON made once per statement: the ``RateUsed`` entry, and
        -- a ``converted`` document made wholly at it after its amount (complete or not).
        CROSS JOIN LATERAL (
            SELECT jsonb_agg(x.entry ORDER BY x.n) AS entries,
                   jsonb_agg(x.head || 'true}' ORDER BY x.n) AS wholes,
                   jsonb_agg(x.head || 'false}' ORDER BY x.n) AS partials
            FROM (SELECT y.n, y.entry,
                         '"currency":' || :fx_target || ',"rate":"' || y.v
                         || '","rate_date":"' || y.d || '","source":' || y.s
                         || ',"complete":' AS head
                  FROM (SELECT v.n, v.v, p.dates ->> CAST(v.n - 1 AS integer) AS d,
                               p.srcs_json ->> CAST(v.n - 1 AS integer) AS s,
                               '{"rate":"' || v.v || '","rate_date":"'
                               || (p.dates ->> CAST(v.n - 1 AS integer)) || '","source":'
                               || (p.srcs_json ->> CAST(v.n - 1 AS integer)) || ',"method":'
                               || (p.methods_json ->> CAST(v.n - 1 AS integer)) || '}'
                                   AS entry
                        FROM jsonb_array_elements_text(p.vals) WITH ORDINALITY AS v(v, n)
                        OFFSET 0) AS y
                  OFFSET 0) AS x
        ) AS r)"""


def written_lookup(alias: str, day: str, currency: str) -> str:
    """The mark of ``day`` and ``currency`` (SQL expressions) as ``alias.mark`` — a rate
    number, ``NAMES_CURRENCY``/``NAMES_TARGET`` (no rate), or null (a currency the book never
    converts) — and its rate as ``alias.rate`` (null: none). A lookup per row (see
    :func:`join`). Its own init plans, not ``fx_w``'s columns: where rows are sorted before
    their lookups run (an aggregate's input), they would carry the whole map each."""
    number = f"({day} - CAST(:fx_start AS date))"
    return f"""CROSS JOIN LATERAL (
                SELECT y.mark,
                       CASE WHEN y.mark > 0
                            THEN CAST((SELECT vals FROM rate_book) ->> (y.mark - 1) AS numeric)
                       END AS rate
                FROM (SELECT CASE WHEN {number} >= 0 THEN  -- (a negative index counts back)
                                 CAST((SELECT ids FROM rate_book) -> ({currency}) ->> {number}
                                      AS integer)
                             END AS mark OFFSET 0) AS y
                OFFSET 0  -- (flattened, the lookup would be inlined into each use)
            ) AS {alias}"""  # noqa: S608  (SQL expressions of the caller; values are bound)


def written_marked(source: str, lookups: dict[str, tuple[str, str]]) -> str:
    """``source`` (a relation, rows summed per report date and currency) with each lookup of
    :func:`written_lookup` as plain columns — per ``alias``: (day, currency) SQL expressions
    over ``source``'s row ``s``, whose mark and rate become ``alias.mark`` and ``alias.rate``
    in the query that selects ``FROM`` this, for :func:`written_columns`. Expressions on the
    map's init plans, one level each (``OFFSET 0``: the mark is computed once, not inlined
    into every use), for the thousands of report dates by storefront of a converted month:
    a LATERAL lookup per row runs a subquery scan, a memoize and a result node each. (A join
    with the marks as rows was worse: PostgreSQL merges it, sorting both sides by currency.)"""
    marks = "".join(
        f""", CASE WHEN {day} >= CAST(:fx_start AS date) THEN
                       CAST((SELECT ids FROM rate_book) -> ({currency})
                            ->> ({day} - CAST(:fx_start AS date)) AS integer)
                   END AS {alias}_mark"""  # noqa: S608  (SQL of the caller)
        for alias, (day, currency) in lookups.items()
    )
    rates = "".join(
        f""", CASE WHEN j.{alias}_mark > 0 THEN
                       CAST((SELECT vals FROM rate_book) ->> (j.{alias}_mark - 1) AS numeric)
                   END AS {alias}_rate"""  # noqa: S608  (fixed SQL)
        for alias in lookups
    )
    aliases = "".join(
        f"""
            CROSS JOIN LATERAL (SELECT k.{alias}_mark AS mark, k.{alias}_rate AS rate) AS {alias}"""
        for alias in lookups
    )
    return f"""(SELECT j.*{rates}
                 FROM (SELECT s.*{marks} FROM {source} AS s OFFSET 0) AS j
                 OFFSET 0) AS k{aliases}"""  # noqa: S608  (SQL of the caller; values are bound)


def written_columns(alias: str, amount: str, day: str, prefix: str) -> str:
    """Per-day columns of ``amount`` with the mark looked up as ``alias``
    (:func:`written_lookup`): ``{prefix}_conv`` (amount × rate), ``_rid`` (the rate's number,
    when the day has money and a rate), ``_miss`` and ``_gap`` (the amount and day, when it
    has money and no rate)."""
    money = f"{amount} <> 0"
    gap = f"{alias}.rate IS NULL AND {money}"
    return f"""{amount} * {alias}.rate AS {prefix}_conv,
                   CASE WHEN {money} AND {alias}.mark > 0 THEN {alias}.mark END AS {prefix}_rid,
                   CASE WHEN {gap} THEN {amount} END AS {prefix}_miss,
                   CASE WHEN {gap} THEN {day} END AS {prefix}_gap"""


#: ``rate_book``' row as ``fx_w``, to join where the fragments below are used: its values
#: are init plans, each read once — not a scan of the CTE per row joined, which copies its
#: row (hundreds of kilobytes) each time, nor an init plan per use (over a hundred: tens of
#: milliseconds of planning).
WRITTEN_ROW = "CROSS JOIN (SELECT {}) AS fx_w".format(
    ", ".join(
        f"(SELECT {c} FROM rate_book) AS {c}"  # noqa: S608  (fixed column names)
        for c in (
            "ids",
            "vals",
            "srcs",
            "ranks",
            "entries",
            "wholes",
            "partials",
            "day_rates",
            "d",
            "half",
            "unit",
        )
    )
)
_KNOWN = ", ".join(f"'{code}'" for code in sorted(ISO_4217))


def _present(value: str) -> str:
    """SQL for ``RateBook.present``: ``value`` (a column) half-even to the target's minor
    units (``amount_sql``, with ``fx_w``'s constants) — and, as ``Decimal.quantize``, with
    the sign of a negative amount rounded to zero."""
    d = "fx_w.d"
    cut = f"trunc({value}, {d})"
    return (
        f"(CASE WHEN {value} < 0 AND round({value}, {d}) = 0 THEN '-' ELSE '' END || "
        f"CAST(CASE WHEN scale({value}) <= {d} THEN round({value}, {d}) "
        f"WHEN abs({value} - {cut}) = fx_w.half AND mod({cut} * fx_w.unit, 2) = 0 "
        f"THEN {cut} ELSE round({value}, {d}) END AS text))"
    )


def _rate_part(rid: str, array: str) -> str:
    return f"(fx_w.{array} ->> ({rid} - 1))"


def _converted(conv: str, rids: str, complete: str) -> str:
    """A listed entry's ``converted`` JSON (``convert._converted``) from its exact converted
    sum (``conv``, a column), its rates' numbers (``rids``, an array: not null) and whether
    all its money had a rate (``complete``, SQL text ``'true'``/``'false'``)."""
    one = f"{rids}[1]"
    return f"""CASE WHEN cardinality({rids}) = 1 THEN
            '{{"amount":"' || {_present(conv)} || '",'
            || CASE WHEN {complete} = 'true' THEN {_rate_part(one, "wholes")}
                    ELSE {_rate_part(one, "partials")} END
        ELSE (
            SELECT '{{"amount":"' || {_present(conv)} || '","currency":' || :fx_target
                   || ',"rate":' || 'null,"rate_date":' || 'null,"source":'
                   || CAST(to_json(string_agg(DISTINCT r.src, '+' ORDER BY r.src)) AS text)
                   || ',"complete":' || {complete} || ',"rates":['
                   || string_agg({_rate_part("r.rid", "entries")}, ',' ORDER BY r.rank) || ']}}'
            FROM (SELECT u.rid, {_rate_part("u.rid", "srcs")} COLLATE "C" AS src,
                         fx_w.ranks[u.rid] AS rank
                  FROM unnest({rids}) AS u(rid)) AS r)
        END"""  # noqa: S608  (fixed fragments; values are bound)


def _gap(code: str, day: str, first: str, last: str, amount: str) -> str:
    """An ``unconverted`` entry's JSON: ``amount`` (text) of ``code`` (null: Apple left it
    empty) without a rate from ``first`` to ``last``, its reason and detail those of ``day``
    (``RateBook._resolve``'s ``NoRate``)."""
    mark = f"""CAST(fx_w.ids -> ({code}) ->> ({day} - CAST(:fx_start AS date)) AS integer)"""
    known = f"{code} IN ({_KNOWN})"
    return f"""'{{"amount":"' || {amount} || '","currency":'
        || COALESCE(CAST(to_json({code}) AS text), 'null') || ',"reason":"'
        || CASE WHEN {code} IS NULL THEN 'no_currency' WHEN NOT {known} THEN 'unknown_currency'
                ELSE 'no_rate' END
        || '","detail":' || CAST(to_json(
            CASE WHEN {code} IS NULL THEN 'Apple left the currency empty'
                 WHEN NOT {known} THEN {code} || ' is not an ISO 4217 code'
                 ELSE 'no ' || CASE WHEN {mark} = {NAMES_TARGET} THEN :fx_target_code
                                    ELSE {code} END
                      || :fx_max_age || to_char({day}, 'YYYY-MM-DD') END
            || ' (report dates ' || to_char({first}, 'YYYY-MM-DD') || '..'
            || to_char({last}, 'YYYY-MM-DD') || ')') AS text) || '}}'"""


def _total(conv: str, gaps: str) -> str:
    """A measure's ``ConvertedTotal`` JSON from its exact converted sum (a column) and its
    ``unconverted`` entries (JSON text, comma-separated; empty: none)."""
    return f"""'{{"amount":"' || {_present(conv)} || '","currency":' || :fx_target
        || ',"partial":' || CASE WHEN {gaps} <> '' THEN 'true' ELSE 'false' END
        || ',"unconverted":[' || {gaps} || ']}}'"""


def written_span(currencies: str, amounts: str, prefix: str) -> str:
    """A LATERAL subquery over a bucket's per-day arrays (``grouped.{currencies}``,
    ``grouped.{amounts}`` and :func:`written_columns`' ``{prefix}_*``) that writes the
    measure as ``convert_sums`` and ``finish_measure`` do: ``list``, its money entries with
    ``converted`` (JSON, comma-separated), and ``total``, its ``ConvertedTotal``."""
    code = "COALESCE(t.currency, 'XXX')"
    complete = "CASE WHEN t.miss IS NULL OR t.miss = 0 THEN 'true' ELSE 'false' END"
    order = 'ORDER BY c.currency COLLATE "C" NULLS LAST'
    return f"""
    SELECT s.list, {_total("s.conv", "s.gaps")} AS total
    FROM (
        SELECT COALESCE(string_agg(c.entry, ',' {order}) FILTER (WHERE c.total <> 0), '')
                   AS list,
               COALESCE(sum(c.conv) FILTER (WHERE c.rids IS NOT NULL), 0) AS conv,
               COALESCE(string_agg(c.gap, ',' {order}) FILTER (WHERE c.miss <> 0), '') AS gaps
        FROM (
            SELECT t.currency, t.total, t.conv, t.rids, t.miss,
                   CASE WHEN t.total <> 0 THEN
                       '{{"amount":"' || {amount_sql("t.total", "m.d")} || '","currency":'
                       || CAST(to_json({code}) AS text) || ',"converted":'
                       || CASE WHEN t.currency IS NULL OR t.rids IS NULL THEN 'null'
                               ELSE {_converted("t.conv", "t.rids", complete)} END
                       || '}}'
                   END AS entry,
                   CASE WHEN t.miss <> 0 THEN
                       {_gap("t.currency", "t.first", "t.first", "t.last", "CAST(t.miss AS text)")}
                   END AS gap
            FROM (
                SELECT x.currency, sum(x.amount) AS total, sum(x.conv) AS conv,
                       array_agg(DISTINCT x.rid) FILTER (WHERE x.rid IS NOT NULL) AS rids,
                       sum(x.miss) AS miss, min(x.gap) AS first, max(x.gap) AS last
                FROM unnest(grouped.{currencies}, grouped.{amounts}, grouped.{prefix}_conv,
                            grouped.{prefix}_rid, grouped.{prefix}_miss, grouped.{prefix}_gap)
                     AS x(currency, amount, conv, rid, miss, gap)
                GROUP BY x.currency
            ) AS t
            CROSS JOIN LATERAL (SELECT {minor_units_sql(code)} AS d OFFSET 0) AS m
            OFFSET 0
        ) AS c
    ) AS s
    WHERE NOT {_ONE_CURRENCY.format(c=currencies)}
    OFFSET 0
    """  # noqa: S608  (identifiers come from the caller's fixed SQL; values are bound)


def written_one_span(currencies: str, prefix: str, decimals: str) -> str:
    """:func:`written_span` for a bucket whose money is all of one currency (most buckets
    split by storefront), from its sums over the bucket (``grouped.{currencies}_sum``,
    ``grouped.{prefix}_csum``, ``_rids``, ``_msum``, ``_first``, ``_last``: what
    :func:`written_span` sums per currency), without unnesting and grouping its arrays: a
    sort and an aggregate per bucket and side were most of a converted month's statement.
    ``decimals``: the minor units of the bucket's currency (the caller's). No row for other
    buckets."""
    complete = "CASE WHEN t.miss IS NULL OR t.miss = 0 THEN 'true' ELSE 'false' END"
    return f"""
    SELECT CASE WHEN t.total <> 0 THEN
               '{{"amount":"' || {amount_sql("t.total", decimals)} || '","currency":'
               || CAST(to_json(t.code) AS text) || ',"converted":'
               || CASE WHEN t.currency IS NULL OR t.rids IS NULL THEN 'null'
                       ELSE {_converted("t.conv", "t.rids", complete)} END
               || '}}'
           ELSE '' END AS list,
           {_total("t.conv_total", "t.gaps")} AS total
    FROM (
        SELECT g.*, COALESCE(CASE WHEN g.rids IS NOT NULL THEN g.conv END, 0) AS conv_total,
               CASE WHEN g.miss <> 0 THEN
                   {_gap("g.currency", "g.first", "g.first", "g.last", "CAST(g.miss AS text)")}
               ELSE '' END AS gaps
        FROM (SELECT grouped.{currencies}_min AS currency,
                     COALESCE(grouped.{currencies}_min, 'XXX') AS code,
                     grouped.{currencies}_sum AS total, grouped.{prefix}_csum AS conv,
                     grouped.{prefix}_rids AS rids, grouped.{prefix}_msum AS miss,
                     grouped.{prefix}_first AS first, grouped.{prefix}_last AS last
              OFFSET 0) AS g
        OFFSET 0) AS t
    WHERE {_ONE_CURRENCY.format(c=currencies)}
    OFFSET 0
    """  # noqa: S608  (identifiers come from the caller's fixed SQL; values are bound)


def written_day(currencies: str, amounts: str, day: str) -> str:
    """(``OFFSET 0`` below, here and in :func:`written_span`, keeps each level a level of
    its own: flattened, each computed column is inlined into every use — the presented
    amount, say, six times over — and the gating ``WHERE`` would run after the subquery.)

    :func:`written_span` for a bucket of one report date ``day`` (an SQL expression), as
    ``convert.convert_day`` writes it: each listed entry's presented amount converts at the
    day's rate; its currency is the entry's (``XXX`` for an empty one). No row for a bucket
    of one currency (:func:`written_one_day` writes it)."""
    # Entries as listed (by currency, an empty one last); gaps by the entry's code.
    listed = 'ORDER BY c.currency COLLATE "C" NULLS LAST'
    order = 'ORDER BY c.code COLLATE "C"'
    return f"""
    SELECT s.list, {_total("s.conv", "s.gaps")} AS total
    FROM (
        SELECT COALESCE(string_agg(c.entry, ',' {listed}), '') AS list,
               COALESCE(sum(c.conv), 0) AS conv,
               COALESCE(string_agg(c.gap, ',' {order}) FILTER (WHERE c.gap IS NOT NULL), '')
                   AS gaps
        FROM (
            SELECT a.currency, a.code,
                   CASE WHEN f.rate IS NOT NULL THEN a.amount * f.rate END AS conv,
                   '{{"amount":"' || a.text || '","currency":' || CAST(to_json(a.code) AS text)
                   || ',"converted":' || CASE WHEN f.rate IS NULL THEN 'null' ELSE
                         '{{"amount":"' || {_present("a.amount * f.rate")} || '",'
                         || {_rate_part("f.mark", "wholes")} END
                   || '}}' AS entry,
                   CASE WHEN f.rate IS NULL AND a.amount <> 0 THEN
                       {_gap("a.code", day, day, day, "a.text")}
                   END AS gap
            FROM (
                SELECT t.currency, t.code, t.text, CAST(t.text AS numeric) AS amount
                FROM (
                    SELECT m.currency, m.code, {amount_sql("m.total", "m.d")} AS text
                    FROM (
                        SELECT k.currency, k.code, k.total, {minor_units_sql("k.code")} AS d
                        FROM (SELECT x.currency, COALESCE(x.currency, 'XXX') AS code,
                                     sum(x.amount) AS total
                              FROM unnest(grouped.{currencies}, grouped.{amounts})
                                   AS x(currency, amount)
                              GROUP BY x.currency) AS k
                        WHERE k.total <> 0 OFFSET 0) AS m
                    OFFSET 0) AS t
                OFFSET 0) AS a
            LEFT JOIN LATERAL (
                SELECT q.mark, q.rate FROM (SELECT 1) AS one
                {written_lookup("q", day, "a.code")}
                WHERE a.amount <> 0 OFFSET 0
            ) AS f ON true
            OFFSET 0
        ) AS c
    ) AS s
    WHERE NOT {_ONE_CURRENCY.format(c=currencies)}
    OFFSET 0
    """  # noqa: S608  (identifiers come from the caller's fixed SQL; values are bound)


#: Whether a bucket's money (``grouped``'s ``{c}_min`` … of its currency column) is all of
#: one currency, or all without one.
_ONE_CURRENCY = """(grouped.{c}_count = 0
    OR (grouped.{c}_count = grouped.{c}_rows AND grouped.{c}_min = grouped.{c}_max))"""


def written_one_day(currencies: str, day: str, decimals: str) -> str:
    """:func:`written_day` for a one-day bucket whose money is all of one currency (most
    buckets split by storefront): its total (``grouped.{currencies}_sum``) is its one listed
    entry, converted without merging arrays. No row for other buckets. ``decimals``: the
    minor units of the bucket's currency (the caller's, computed once per row).

    Three levels (``OFFSET 0`` each: a column used several times is computed once): the
    presented amount; its mark and its value at the day's rate (``rate_map``'s, looked up
    beside the mark rather than from it); the value presented — once, the converted entry's
    and the total's (a bucket of one currency: the same sum). Thousands of buckets by
    storefront: each level and each numeric operation per row counts."""
    code = f"COALESCE(grouped.{currencies}_min, 'XXX')"
    number = f"({day} - CAST(:fx_start AS date))"
    return f"""
    SELECT CASE WHEN r.total = 0 THEN '' ELSE
               '{{"amount":"' || r.text || '","currency":' || CAST(to_json(r.code) AS text)
               || ',"converted":' || CASE WHEN r.value IS NULL THEN 'null' ELSE
                     '{{"amount":"' || r.shown || '",' || {_rate_part("r.mark", "wholes")} END
               || '}}' END AS list,
           '{{"amount":"' || COALESCE(r.shown, :fx_zero) || '","currency":' || :fx_target
           || CASE WHEN r.value IS NULL AND r.money THEN
                  ',"partial":' || 'true,"unconverted":['
                  || {_gap("r.code", day, day, day, "r.text")} || ']}}'
              ELSE ',"partial":' || 'false,"unconverted":[]}}' END AS total
    FROM (
        SELECT q.*, {_present("q.value")} AS shown
        FROM (
            SELECT t.code, t.total, t.text, CAST(t.text AS numeric) <> 0 AS money,
                   CAST(fx_w.ids -> t.code ->> {number} AS integer) AS mark,
                   CASE WHEN CAST(t.text AS numeric) <> 0 THEN
                       CAST(t.text AS numeric)
                       * CAST(fx_w.day_rates -> t.code ->> {number} AS numeric)
                   END AS value
            FROM (SELECT {code} AS code, grouped.{currencies}_sum AS total,
                         {amount_sql(f"grouped.{currencies}_sum", decimals)} AS text
                  OFFSET 0) AS t
            OFFSET 0) AS q
        OFFSET 0) AS r
    WHERE {_ONE_CURRENCY.format(c=currencies)}
    OFFSET 0
    """  # noqa: S608  (identifiers come from the caller's fixed SQL; values are bound)


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

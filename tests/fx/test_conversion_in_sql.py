"""Conversion inside an aggregate statement (``app.fx.in_sql``) equals the Python conversion
(``convert_measure``) of the same per-day amounts: the same converted total and per-currency
amounts, the same rates named, the same unconverted list — on random days, currencies (one
without any rate, one left empty by Apple), amounts and rate tables, in real PostgreSQL."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

from sqlalchemy import text

from app.db.engine import create_engine, create_sessionmaker
from app.fx import in_sql
from app.fx.convert import convert_day, convert_measure
from app.fx.rates import RateBook

START = dt.date(2025, 6, 2)
SPAN = 20
CURRENCIES = ["USD", "JPY", "EUR", "GBP", "KZT", None]


def _book(generator: random.Random, target: str) -> RateBook:
    book = RateBook(target, 3)
    rows = [
        (
            START + dt.timedelta(days=day),
            "EUR",
            code,
            Decimal(generator.randint(1, 2_000_000)) / 100,
            "ecb",
            "",
        )
        for code in ("USD", "JPY", "GBP")
        for day in range(-2, SPAN)
        if generator.random() < 0.6  # gaps: weekends, holidays, older than the allowed age
    ]
    book._index(rows)
    return book


def _statement(table: in_sql.DayRates) -> str:
    """The fragments over a stand-in for a domain's per-day sums (``base``)."""
    return f"""
        WITH base AS (
            SELECT * FROM unnest(CAST(:b_days AS date[]), CAST(:b_codes AS text[]),
                                 CAST(:b_amounts AS numeric[])) AS b(day, currency, amount)
        ), {in_sql.rates_cte()}, converted AS (
            SELECT base.*, {in_sql.columns("fp", "base.amount", "base.day", "pfx")}
            FROM base {in_sql.join("fp", "base.day", "base.currency")}
        ), grouped AS (
            SELECT array_agg(currency) AS pcs, array_agg(pfx_conv) AS pfx_conv,
                   array_agg(pfx_days) AS pfx_days, array_agg(pfx_miss) AS pfx_miss,
                   array_agg(pfx_first) AS pfx_first, array_agg(pfx_last) AS pfx_last
            FROM converted
        )
        SELECT pf.currencies, pf.conv, pf.days, pf.miss, pf.first, pf.last
        FROM grouped CROSS JOIN LATERAL ({in_sql.merged("pcs", "pfx")}) AS pf
    """


async def test_in_sql_conversion_equals_the_python_conversion(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            for seed in range(40):
                generator = random.Random(seed)
                target = generator.choice(["USD", "JPY", "EUR"])
                book = _book(generator, target)
                table = in_sql.table(book, START, START + dt.timedelta(days=SPAN - 1))
                # Per-day sums per currency (as a domain's ``base`` has them), some zero.
                triples = [
                    (
                        START + dt.timedelta(days=generator.randrange(SPAN)),
                        generator.choice(CURRENCIES),
                        Decimal(generator.randint(-50_000, 50_000)) / 100,
                    )
                    for _ in range(generator.randint(0, 25))
                ]
                keyed: dict[tuple[dt.date, str | None], Decimal] = {}
                for day, code, amount in triples:
                    keyed[(day, code)] = keyed.get((day, code), Decimal(0)) + amount
                params: dict[str, Any] = {
                    **table.params(),
                    "b_days": [d for d, _ in keyed],
                    "b_codes": [c for _, c in keyed],
                    "b_amounts": list(keyed.values()),
                }
                row = (await session.execute(text(_statement(table)), params)).one()
                codes = sorted({c for _, c in keyed}, key=lambda c: (c is None, c or ""))
                listed_sql = [{"amount": "1", "currency": c} for c in codes]
                listed_py = [{"amount": "1", "currency": c} for c in codes]
                from_sql = in_sql.convert_sums(table, listed_sql, in_sql.rows_of(row))
                in_python = convert_measure(
                    book, listed_py, [(d, c, a) for (d, c), a in keyed.items()]
                )
                assert from_sql == in_python, seed
                assert listed_sql == listed_py, seed
    finally:
        await engine.dispose()


def test_one_day_conversion_equals_the_general_one() -> None:
    for seed in range(60):
        generator = random.Random(seed)
        book = _book(generator, generator.choice(["USD", "JPY", "EUR", "GBP"]))
        day = START + dt.timedelta(days=generator.randrange(SPAN))
        codes = generator.sample(CURRENCIES, generator.randint(0, len(CURRENCIES)))
        codes.sort(key=lambda c: (c is None, c or ""))
        listed = [
            {"amount": str(Decimal(generator.randint(-50_000, 50_000)) / 100), "currency": c}
            for c in codes
        ]
        general = [dict(entry) for entry in listed]
        one_day = [dict(entry) for entry in listed]
        expected = convert_measure(
            book, general, [(day, e["currency"], Decimal(e["amount"])) for e in listed]
        )
        assert convert_day(book, one_day, day) == expected, seed
        assert one_day == general, seed

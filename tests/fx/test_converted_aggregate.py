"""A converted sales aggregate (``repository.aggregate(fx=…)``: each day converted at its rate
inside the statement, per currency) equals the reference conversion in Python — the same
aggregate's per-day money (``by_day``) converted day by day with ``convert_measure`` — and its
original money equals the unconverted aggregate's, property-based, on the random world of the
rollup tests (mixed currency pairs in one storefront, rows without currency or storefront).

Random ranges, granularities, groupings (with and without ``country``, which the statement
reads from different rollups and totals differently) and filters, each
against two rate books: one where a day's GBP rate is not published yet (that day converts at
the previous fix, or not at all past the allowed age) and one after it arrived late; GBP has
gaps, an empty currency never converts."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from app.fx import in_sql
from app.fx.convert import convert_measure
from app.fx.rates import RateBook
from app.kit.money import money_entry
from app.sales import repository
from app.sales.repository import AggregateRow
from tests.sales.test_rollup_planner import (
    DAYS,
    FIRST,
    FIXTURE_OK,
    Query,
    RollupWorld,
    _queries,
    rollup_world,
)

__all__ = ["rollup_world"]  # the fixture, used by name

LATE = FIRST + dt.timedelta(days=20)


def _books() -> tuple[RateBook, RateBook]:
    """(before, after) the late GBP rate of ``LATE``: USD every weekday, GBP with gaps."""
    generator = random.Random(17)
    rows = []
    for offset in range(-3, DAYS + 3):
        day = FIRST + dt.timedelta(days=offset)
        if day.weekday() >= 5:
            continue
        rows.append(
            (day, "EUR", "USD", Decimal(generator.randint(100_000, 120_000)) / 100_000, "ecb", "")
        )
        if day != LATE and generator.random() < 0.6:
            rows.append(
                (day, "EUR", "GBP", Decimal(generator.randint(80_000, 90_000)) / 100_000, "ecb", "")
            )
    late = (LATE, "EUR", "GBP", Decimal("0.91234"), "ecb", "")
    return RateBook.of_rows("USD", 3, rows), RateBook.of_rows("USD", 3, [*rows, late])


BOOKS = _books()


def _money(pairs: list[tuple[str | None, Any]]) -> list[dict[str, str]]:
    entries = (money_entry(str(amount), currency) for currency, amount in pairs)
    return [entry for entry in entries if entry is not None]


async def _rows(world: RollupWorld, query: Query, **extra: Any) -> list[AggregateRow]:
    async with world.sessions() as session:
        return await repository.aggregate(
            session,
            world.workspace_id,
            start=query.start,
            end=query.end,
            granularity=query.granularity,
            dimensions=query.dimensions,
            filters=query.filters,
            after=None,
            limit=10_000,
            **extra,
        )


@FIXTURE_OK
@given(data=st.data(), with_country=st.booleans())
async def test_a_converted_aggregate_equals_the_per_day_conversion(
    rollup_world: RollupWorld, data: st.DataObject, with_country: bool
) -> None:
    query = data.draw(_queries(rollup_world))
    dimensions = [d for d in query.dimensions if d != "country"]
    if with_country:
        dimensions.insert(data.draw(st.integers(0, len(dimensions))), "country")
    query = Query(query.start, query.end, query.granularity, dimensions, query.filters, False)
    if query.start > query.end:
        return
    plain = await _rows(rollup_world, query)
    per_day = await _rows(rollup_world, query, by_day=True)
    for book in BOOKS:
        table = in_sql.table(book, query.start, query.end)
        converted = await _rows(rollup_world, query, fx=table)
        assert [(r.bucket, r.group) for r in converted] == [(r.bucket, r.group) for r in plain]
        assert len(per_day) == len(converted)
        for row, reference, original in zip(converted, per_day, plain, strict=True):
            assert (row.bucket, row.group) == (reference.bucket, reference.group)
            for money in ("proceeds", "customer_sales"):
                assert _money(getattr(row, money)) == _money(getattr(original, money))
            assert row.proceeds_fx is not None and row.customer_sales_fx is not None
            assert reference.daily is not None
            for listed_of, sums, triples in (
                (
                    row.proceeds,
                    row.proceeds_fx,
                    [(d, c, Decimal(a)) for d, c, a, _, _ in reference.daily],
                ),
                (
                    row.customer_sales,
                    row.customer_sales_fx,
                    [(d, c, Decimal(a)) for d, _, _, c, a in reference.daily],
                ),
            ):
                from_sql, in_python = _money(listed_of), _money(listed_of)
                expected = convert_measure(book, in_python, triples)
                assert in_sql.convert_sums(table, from_sql, sums) == expected
                assert from_sql == in_python

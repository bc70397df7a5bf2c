"""PostgreSQL writes a converted sales report's items as JSON (``aggregate_written(fx=…)``):
byte for byte what the API wrote from the aggregate's rows converted in Python
(``service._items`` with ``service._convert``, serialised by ``pydantic_core``) — the
reference kept here — property-based.

The random world of ``test_rollup_planner`` (mixed currency pairs in one storefront, rows
without currency or storefront, amounts with more decimals than their currency), plus
storefronts in JPY and KWD (zero and three minor units), RUB and SAR (Apple currencies
without any rate) and a code that is no ISO 4217 currency. Random ranges, granularities
(a day converts per listed entry, longer buckets per report date in the aggregate),
groupings, filters, page sizes and rate books: reporting currencies of 2, 0 and 3 minor units,
EUR itself, a gappy GBP and SAR, which has no rate at all; rates on weekdays only (a weekend
converts at Friday's fix, within the allowed age), GBP with gaps longer than that age, and
each book before and after a late-published GBP rate.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from decimal import Decimal
from typing import Any

import asyncpg
import pydantic_core
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.fx import in_sql
from app.fx.rates import RateBook
from app.reports.query import DateRange
from app.sales import repository, service
from app.sales.schemas import Dimension, Granularity
from tests.sales.test_rollup_planner import (
    DAYS,
    FIRST,
    FIXTURE_OK,
    INSERT,
    Query,
    RollupWorld,
    _queries,
    _rebuild,
    _row,
)
from tests.sales.test_rollup_planner import rollup_world as rollup_world  # the fixture

LATE = FIRST + dt.timedelta(days=20)
#: Storefronts added to the rollup world: (country, currency).
EXTRA = [("JP", "JPY"), ("KW", "KWD"), ("RU", "RUB"), ("SA", "SAR"), ("ZZ", "ZZZ")]


def _rates() -> list[tuple[Any, ...]]:
    """Stored rates as ``RateBook`` reads them: USD, JPY and KWD every weekday, GBP on 60% of
    them (never on ``LATE``); RUB and SAR never."""
    generator = random.Random(1717)
    rows = []
    for offset in range(-5, DAYS + 3):
        day = FIRST + dt.timedelta(days=offset)
        if day.weekday() >= 5:
            continue
        for code, low in (("USD", 100_000), ("JPY", 15_000_000), ("KWD", 33_000)):
            value = Decimal(generator.randint(low, low + low // 5)) / 100_000
            rows.append((day, "EUR", code, value, "ecb", ""))
        if day != LATE and generator.random() < 0.6:
            value = Decimal(generator.randint(80_000, 90_000)) / 100_000
            rows.append((day, "EUR", "GBP", value, "ecb", ""))
    return rows


def _books() -> list[RateBook]:
    rows = _rates()
    late = (LATE, "EUR", "GBP", Decimal("0.91234"), "ecb", "")
    return [
        RateBook.of_rows(target, 3, stored)
        for target in ("USD", "JPY", "KWD", "EUR", "GBP", "SAR")
        for stored in (rows, [*rows, late])
    ]


BOOKS = _books()


@pytest.fixture
async def fx_world(rollup_world: RollupWorld, db: asyncpg.Connection) -> RollupWorld:
    """The rollup world with the ``EXTRA`` storefronts' rows on most days."""
    rng = random.Random(17)
    account = rollup_world.accounts[0]
    app = (rollup_world.apps[0], "1400000001")
    rows = []
    days = [FIRST + dt.timedelta(days=n) for n in range(DAYS)]
    for day in days:
        for country, currency in EXTRA:
            if rng.random() < 0.7:
                row = list(_row(rng, rollup_world.workspace_id, account, day, app))
                row[10] = row[12] = currency
                row[13] = country
                rows.append(tuple(row))
    await db.executemany(INSERT, rows)
    await _rebuild(rollup_world, account, days)
    return rollup_world


async def _pages(
    world: RollupWorld, query: Query, limit: int, book: RateBook, written: bool
) -> list[bytes]:
    """Every page of the converted answer: its items' JSON, then the cursor after it."""
    span = DateRange(query.start, query.end)
    several_days = query.granularity != "day"
    table = in_sql.table(book, span.start, span.end)
    out: list[bytes] = []
    after = None
    async with world.sessions() as session:
        while True:
            kwargs: dict[str, Any] = {
                "start": query.start,
                "end": query.end,
                "granularity": query.granularity,
                "dimensions": query.dimensions,
                "filters": query.filters,
                "after": after,
                "limit": limit + 1,
            }
            if written:
                page = await repository.aggregate_written(
                    session, world.workspace_id, span=(span.start, span.end), fx=table, **kwargs
                )
                items = b"[" + page.joined + b"]"
                read, last = page.rows, page.last_key
            else:  # the reference: what ``service.sales_report`` did before
                fx = table if several_days else None
                rows = await repository.aggregate(session, world.workspace_id, fx=fx, **kwargs)
                made = service._items(
                    rows[:limit],
                    span,
                    Granularity(query.granularity),
                    [Dimension(d) for d in query.dimensions],
                    None if several_days else book,
                    fx,
                )
                items = pydantic_core.to_json(made)
                read, last = len(rows), rows[limit - 1].sort_key() if len(rows) > limit else None
            out.append(items)
            if read <= limit:
                assert last is None
                return out
            after = last
            out.append(pydantic_core.to_json(after))


# Half the planner's examples: each draws two paged reports, and 12 books × 4 filters × 3 page
# sizes are well covered by 30 (the suite's time is counted).
@settings(FIXTURE_OK, max_examples=30)
@given(data=st.data())
async def test_written_converted_items_are_the_bytes_the_api_wrote(
    fx_world: RollupWorld, data: st.DataObject
) -> None:
    query = data.draw(_queries(fx_world))
    countries = data.draw(st.sampled_from([[], ["JP", "RU"], ["SA", "ZZ", "GB"], ["KW"]]))
    if countries:
        query = Query(
            query.start,
            query.end,
            query.granularity,
            query.dimensions,
            dataclasses.replace(query.filters, countries=countries),
            False,
        )
    limit = data.draw(st.sampled_from([1, 3, 10_000]))
    book = data.draw(st.sampled_from(BOOKS))
    expected = await _pages(fx_world, query, limit, book, written=False)
    assert await _pages(fx_world, query, limit, book, written=True) == expected


async def test_the_reference_meets_every_case(fx_world: RollupWorld) -> None:
    """The world and books reach what the property compares: converted entries at one
    rate and at several, partial totals of each reason, the late rate, and a weekend
    converted at Friday's fix."""
    query = Query(FIRST, FIRST + dt.timedelta(days=DAYS - 1), "month", ["country"], _all(), False)
    documents = {}
    for book in BOOKS[:2]:
        pages = await _pages(fx_world, query, 10_000, book, written=False)
        documents[id(book)] = text = b"".join(pages).decode()
        for reason in ("no_currency", "unknown_currency", "no_rate"):
            assert f'"reason":"{reason}"' in text
        assert '"rate":null' in text and '"complete":false' in text
    before, after = documents.values()
    assert before != after  # the late GBP rate changed what converts
    day = Query(FIRST, FIRST + dt.timedelta(days=6), "day", ["country"], _all(), False)
    text = b"".join(await _pages(fx_world, day, 10_000, BOOKS[0], written=False)).decode()
    saturday = next(
        FIRST + dt.timedelta(days=n)
        for n in range(7)
        if (FIRST + dt.timedelta(days=n)).weekday() == 5
    )
    friday = saturday - dt.timedelta(days=1)
    assert f'"period_start":"{saturday}"' in text and f'"rate_date":"{friday}"' in text


def _all() -> Any:
    from app.sales.schemas import SalesFilter

    return SalesFilter()


async def test_written_storefronts_are_the_reference_for_every_book(
    fx_world: RollupWorld,
) -> None:
    """The dashboard's query — the whole range by storefront, by day and by month — for each
    book: its buckets are nearly all of one currency, the ones written without merging
    arrays (``in_sql.written_one_day``, ``in_sql.written_one_span``), with every reason a
    total is partial, several rates per entry and the late rate among the books. (One world
    for all: building it is most of a test's time.)"""
    last = FIRST + dt.timedelta(days=DAYS - 1)
    for granularity in ("day", "month"):
        query = Query(FIRST, last, granularity, ["country"], _all(), False)
        for book in BOOKS:
            expected = await _pages(fx_world, query, 10_000, book, written=False)
            written = await _pages(fx_world, query, 10_000, book, written=True)
            assert written == expected, (granularity, book.target)

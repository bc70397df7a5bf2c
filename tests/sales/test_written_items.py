"""PostgreSQL writes an unconverted sales report's items as JSON (``aggregate_written``):
byte for byte what the API wrote from the aggregate's rows (``service._items`` serialised by
``pydantic_core``), property-based.

Over the random world of ``test_rollup_planner`` (unlinked rows, refunds, partial refunds,
rows without currency or storefront, two currency pairs in one storefront, amounts with more
decimals than their currency): random ranges, granularities, groupings, filters and page
sizes give the same bytes and the same cursors page by page. Apart: the money text
(``amount_sql`` against ``amount_text``: padding, cutting, half-even rounding, zero- and
three-decimal currencies) and the string escapes (PostgreSQL's ``to_json`` against
``pydantic_core``) over any value.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import asyncpg
import pydantic_core
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.kit.money import amount_sql, amount_text, minor_units_sql
from app.reports.query import DateRange
from app.sales import report_json, repository, service
from app.sales.schemas import Dimension, Granularity
from tests.sales.test_rollup_planner import (  # noqa: F401  (rollup_world: the fixture)
    FIXTURE_OK,
    Query,
    RollupWorld,
    _queries,
    rollup_world,
)


async def _pages(
    world: RollupWorld, query: Query, limit: int, written: bool, kept: bool | None = None
) -> list[bytes]:
    """Every page of the answer, page by page: its items' JSON, then the cursor after it.
    ``kept``: whether each written page must come from kept items (None: either)."""
    span = DateRange(query.start, query.end)
    out: list[bytes] = []
    after = None
    async with world.sessions() as session:
        for _ in range(100_000):  # (more pages than any world's rows: the cursor went nowhere)
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
                    session, world.workspace_id, span=(span.start, span.end), **kwargs
                )
                assert kept is None or page.kept == kept
                items = b"[" + page.joined + b"]"
                read, last = page.rows, page.last_key
            else:
                rows = await repository.aggregate(session, world.workspace_id, **kwargs)
                made = service._items(
                    rows[:limit],
                    span,
                    Granularity(query.granularity),
                    [Dimension(d) for d in query.dimensions],
                    None,
                    None,
                )
                items = pydantic_core.to_json(made)
                read, last = len(rows), rows[limit - 1].sort_key() if len(rows) > limit else None
            out.append(items)
            if read <= limit:
                assert last is None
                return out
            after = last
            out.append(pydantic_core.to_json(after))
    raise AssertionError("the pages never ended")


@FIXTURE_OK
@given(data=st.data())
async def test_written_items_are_the_bytes_the_api_wrote(
    rollup_world: RollupWorld,  # noqa: F811  (the fixture)
    data: st.DataObject,
) -> None:
    query = data.draw(_queries(rollup_world))
    limit = data.draw(st.sampled_from([1, 3, 7, 10_000]))
    expected = await _pages(rollup_world, query, limit, written=False)
    assert await _pages(rollup_world, query, limit, written=True) == expected


CURRENCIES = st.one_of(
    st.sampled_from(["USD", "EUR", "JPY", "KWD", "XXX", "CLP", "BHD", "VND", "TND"]),
    st.text(alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\x00")),
)
AMOUNTS = st.one_of(
    st.decimals(min_value=-(10**15), max_value=10**15, places=5, allow_nan=False),
    st.integers(-(10**6), 10**6).map(lambda n: Decimal(n) / 1000),  # exact halves of cents
    st.integers(-(10**4), 10**4).map(lambda n: Decimal(n) / 10 + Decimal("0.05")),
    st.sampled_from([Decimal(0), Decimal("-0.005"), Decimal("0.015"), Decimal("2.5")]),
)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(amount=AMOUNTS, currency=CURRENCIES)
async def test_amounts_are_written_as_amount_text_writes_them(
    db: asyncpg.Connection, amount: Decimal, currency: str
) -> None:
    sql = f"SELECT {amount_sql('v', minor_units_sql('c'))} FROM (SELECT $1::numeric AS v, $2::text AS c) AS x"
    assert await db.fetchval(sql, amount, currency) == amount_text(amount, currency)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(value=st.text(alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\x00")))
async def test_strings_are_escaped_as_pydantic_core_escapes_them(
    db: asyncpg.Connection, value: str
) -> None:
    written = await db.fetchval("SELECT CAST(to_json(CAST($1 AS text)) AS text)", value)
    assert written == pydantic_core.to_json(value).decode()


def test_a_written_part_takes_its_place_in_the_document() -> None:
    document = {"currency": None, "items": [], "next_cursor": "abc", "incomplete_dates": [1]}
    written = report_json.encode({**document, "items": report_json.Encoded(b'[{"a":1}]')})
    assert written == pydantic_core.to_json({**document, "items": [{"a": 1}]})
    assert report_json.encode(document) == pydantic_core.to_json(document)
    # Items joined without their brackets go between the placeholder's, their parts joined by
    # commas; several written parts each take their own place, whatever the order of the keys.
    joined = report_json.ArrayItems([b'{"a":1}', b'{"b":2},{"c":3}'])
    both = {**document, "next_cursor": report_json.Encoded(b'"x"'), "items": joined}
    assert report_json.encode({**document, "items": joined}) == pydantic_core.to_json(
        {**document, "items": [{"a": 1}, {"b": 2}, {"c": 3}]}
    )
    assert report_json.encode({**document, "items": report_json.ArrayItems([])}) == (
        pydantic_core.to_json(document)
    )
    assert report_json.encode(both) == pydantic_core.to_json(
        {**document, "next_cursor": "x", "items": [{"a": 1}, {"b": 2}, {"c": 3}]}
    )

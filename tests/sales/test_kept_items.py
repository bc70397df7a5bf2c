"""Kept items (``sales_items_workspace_day``, issue 21): a whole-workspace day report by
storefront is joined from items written at ingest, byte for byte the report the API writes
from the aggregate's rows (``service._items`` serialised by ``pydantic_core``), page by page
with the same cursors — over random ranges, storefront filters and page sizes, after a day
replaced, rows linked to a new app and an account purged. And the function that keeps them is
the one this code writes, or a migration is missing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from typing import Any

import asyncpg
from hypothesis import given
from hypothesis import strategies as st

from app.sales import item_sql, repository
from app.sales.schemas import SalesFilter
from tests.sales.test_rollup_planner import (  # noqa: F401  (rollup_world: the fixture)
    DAYS,
    FIRST,
    FIXTURE_OK,
    INSERT,
    Query,
    RollupWorld,
    _app,
    _rebuild,
    _row,
    rollup_world,
)
from tests.sales.test_written_items import _pages


def _by_storefront(start: dt.date, end: dt.date, countries: list[str]) -> Query:
    return Query(start, end, "day", ["country"], SalesFilter(countries=countries), False)


@FIXTURE_OK
@given(data=st.data())
async def test_kept_items_are_the_bytes_the_api_wrote(
    rollup_world: RollupWorld,  # noqa: F811  (the fixture)
    data: st.DataObject,
) -> None:
    first = data.draw(st.integers(-3, DAYS))
    start = FIRST + dt.timedelta(days=first)
    end = start + dt.timedelta(days=data.draw(st.integers(0, DAYS)))
    countries = data.draw(
        st.lists(st.sampled_from(["US", "DE", "JP", "FR"]), max_size=2, unique=True)
    )
    query = _by_storefront(start, end, countries)
    limit = data.draw(st.sampled_from([1, 3, 7, 10_000]))
    expected = await _pages(rollup_world, query, limit, written=False)
    assert await _pages(rollup_world, query, limit, written=True, kept=True) == expected


async def test_other_shapes_are_written_not_kept(
    rollup_world: RollupWorld,  # noqa: F811  (the fixture)
) -> None:
    whole = (FIRST, FIRST + dt.timedelta(days=DAYS - 1))
    account = rollup_world.accounts[0]
    others = [
        Query(*whole, "week", ["country"], SalesFilter(), False),
        Query(*whole, "day", [], SalesFilter(), False),
        Query(*whole, "day", ["country", "app"], SalesFilter(), False),
        Query(*whole, "day", ["country"], SalesFilter(account_ids=[account]), False),
    ]
    for query in others:
        await _pages(rollup_world, query, 10_000, written=True, kept=False)


async def test_kept_items_follow_a_replaced_day_linked_rows_and_a_purge(
    rollup_world: RollupWorld,  # noqa: F811  (the fixture)
    db: asyncpg.Connection,
) -> None:
    world = rollup_world
    whole = _by_storefront(FIRST, FIRST + dt.timedelta(days=DAYS - 1), [])
    states: list[list[bytes]] = [await _pages(world, whole, 7, written=True, kept=True)]

    async def check() -> None:
        kept = await _pages(world, whole, 7, written=True, kept=True)
        assert kept == await _pages(world, whole, 7, written=False)
        assert kept != states[-1]  # the change reached the kept items
        states.append(kept)

    day = dt.date(2024, 2, 14)
    account = world.accounts[0]
    await db.execute(
        "DELETE FROM sales_rows WHERE account_id = $1 AND report_date = $2", account, day
    )
    rng = random.Random(11)
    rows: list[Any] = [
        _row(rng, world.workspace_id, account, day, (None, "1400000007")) for _ in range(6)
    ]
    await db.executemany(INSERT, rows)
    await _rebuild(world, account, [day])
    await check()
    # Rows linked to an app the catalog learns of later change no storefront's sums: the
    # items stay right (and equal).
    await _app(db, world.workspace_id, account, "1400000007")
    async with world.sessions() as session, session.begin():
        await repository.link_rows_to_apps(session, account)
    assert await _pages(world, whole, 7, written=True, kept=True) == await _pages(
        world, whole, 7, written=False
    )
    # A purged account: its rows leave every kept day (the purge trigger).
    await db.execute("DELETE FROM asc_accounts WHERE id = $1", world.accounts[1])
    await check()


async def test_the_database_keeps_items_with_this_codes_function(db: asyncpg.Connection) -> None:
    # The function was created by a migration, not by this code: if the item's JSON changed
    # since, kept items are in the old format until a migration re-creates it and rewrites
    # them (then update FUNCTION_SHA256).
    written = item_sql.refresh_function()
    assert hashlib.sha256(written.encode()).hexdigest() == item_sql.FUNCTION_SHA256, (
        "the kept items' JSON changed: add a migration that re-creates "
        "sales_items_workspace_refresh and rewrites sales_items_workspace_day"
    )
    body = await db.fetchval(
        "SELECT prosrc FROM pg_proc WHERE proname = 'sales_items_workspace_refresh'"
    )
    assert body.strip() in written

"""Kept converted items (``app.sales.converted_items``, issue 17): a whole-workspace day report
by storefront in the workspace's reporting currency is joined from items the worker converted,
byte for byte — cursors included — the page written now from the same rates (itself checked
against the API's Python reference in ``test_converted_written``), over random ranges,
storefront filters and page sizes. And never older than what it reads: a day replaced, a rate
published late, another maximum rate age, another reporting currency or an account purged
make the answer written again until the worker converts anew; the worker converts under the
locks a unit changing those days takes.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
from decimal import Decimal
from typing import Any, cast

import asyncpg
import hypothesis
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.credentials.clients import AscClientFactory
from app.db import migrate
from app.fx import in_sql, kept
from app.fx import repository as fx_repository
from app.registry import worker_parts
from app.sales import converted_items, repository, rollups
from app.sales.schemas import SalesFilter
from tests.fx.test_converted_written import (  # noqa: F401  (fx_world: the fixture)
    LATE,
    _rates,
    fx_world,
)
from tests.sales.test_rollup_planner import (  # noqa: F401  (rollup_world: the fixture)
    DAYS,
    FIRST,
    FIXTURE_OK,
    INSERT,
    RollupWorld,
    _rebuild,
    _row,
    rollup_world,
)

AGE = 3
LAST = FIRST + dt.timedelta(days=DAYS - 1)
NOW = dt.datetime(2024, 4, 1, tzinfo=dt.UTC)


async def _store_rates(world: RollupWorld, rows: list[tuple[Any, ...]]) -> None:
    async with world.sessions() as session, session.begin():
        await fx_repository.upsert_public(
            session,
            source="ecb",
            rows=[
                {"day": day, "base": base, "quote": quote, "rate": rate, "provider": provider}
                for day, base, quote, rate, _, provider in rows
            ],
            source_url="https://ecb.test/eurofxref-hist.xml",
            now=NOW,
        )


async def _reporting(world: RollupWorld, currency: str | None) -> None:
    async with world.sessions() as session, session.begin():
        await fx_repository.set_reporting_currency(session, world.workspace_id, currency, NOW)


@pytest.fixture
async def kept_world(fx_world: RollupWorld) -> RollupWorld:  # noqa: F811  (the fixture)
    """The converted-items world with its rates stored and USD its reporting currency."""
    await _store_rates(fx_world, _rates())
    await _reporting(fx_world, "USD")
    kept.forget()
    return fx_world


async def _page(
    session: AsyncSession,
    world: RollupWorld,
    fx: in_sql.DayRates,
    start: dt.date,
    end: dt.date,
    limit: int,
    after: list[Any] | None,
    countries: list[str] | None = None,
    use_kept: bool = True,
) -> repository.WrittenPage:
    """One page of the converted day report by storefront, as the API reads it."""
    return await repository.aggregate_written(
        session,
        world.workspace_id,
        start=start,
        end=end,
        granularity="day",
        dimensions=["country"],
        filters=SalesFilter(countries=countries or []),
        after=after,
        limit=limit + 1,
        span=(start, end),
        fx=fx,
        kept=use_kept,
    )


async def _pages(
    world: RollupWorld,
    start: dt.date,
    end: dt.date,
    limit: int,
    *,
    currency: str = "USD",
    age: int = AGE,
    countries: list[str] | None = None,
    use_kept: bool = True,
) -> tuple[list[bytes], set[bool]]:
    """Every page of the converted day report by storefront (items, then the cursor after
    them), as the API reads it; and whether its pages were kept ones."""
    out: list[bytes] = []
    sources: set[bool] = set()
    after = None
    async with world.sessions() as session:
        book = await kept.book(
            session, world.workspace_id, target=currency, start=start, end=end, max_age_days=age
        )
        fx = in_sql.kept_table(book, start, end)
        while True:
            page = await _page(session, world, fx, start, end, limit, after, countries, use_kept)
            out.append(page.joined)
            sources.add(page.kept)
            if page.last_key is None:
                return out, sources
            after = page.last_key
            out.append(repr(after).encode())
            assert len(out) < 4 * DAYS * 20, "the pages never end"


async def _keep(world: RollupWorld, age: int = AGE) -> int:
    days = await converted_items.keep_all(world.sessions, age)
    return days.get(world.workspace_id, 0)


async def _check(world: RollupWorld, *, kept_now: bool, limit: int = 7, **kwargs: Any) -> bytes:
    """The whole answer, asserting it equals the one written now and where it came from:
    every page kept, or not (a page after the cursor reads only the days from it on: those
    may be kept when an earlier one is not)."""
    pages, sources = await _pages(world, FIRST, LAST, limit, **kwargs)
    written, _ = await _pages(world, FIRST, LAST, limit, use_kept=False, **kwargs)
    assert pages == written
    assert sources == {True} if kept_now else False in sources
    return b"".join(pages)


# Half the planner's examples, as ``test_converted_written`` (the suite's time is counted):
# each draws a paged report both ways.
@hypothesis.settings(FIXTURE_OK, max_examples=30)
@given(data=st.data())
async def test_kept_converted_items_are_the_written_ones(
    kept_world: RollupWorld, data: st.DataObject
) -> None:
    await _keep(kept_world)  # the first example converts every day; the others find none
    first = data.draw(st.integers(-3, DAYS))
    start = FIRST + dt.timedelta(days=first)
    end = start + dt.timedelta(days=data.draw(st.integers(0, DAYS)))
    countries = data.draw(
        st.lists(st.sampled_from(["US", "JP", "RU", "SA", "ZZ", "KW"]), max_size=2, unique=True)
    )
    limit = data.draw(st.sampled_from([1, 3, 7, 10_000]))
    pages, sources = await _pages(kept_world, start, end, limit, countries=countries)
    written, _ = await _pages(kept_world, start, end, limit, countries=countries, use_kept=False)
    assert pages == written
    assert sources == {True}


async def test_the_worker_keeps_only_what_changed(
    kept_world: RollupWorld, db: asyncpg.Connection
) -> None:
    world = kept_world
    await _check(world, kept_now=False)  # nothing converted yet: written now
    assert await _keep(world) == DAYS
    assert await _keep(world) == 0  # all current
    before = await _check(world, kept_now=True)
    assert '"rate_date"' in before.decode() and '"currency":"USD"' in before.decode()

    # A replaced day: that day is written again until the worker converts it anew.
    day = FIRST + dt.timedelta(days=9)
    account = world.accounts[0]
    rng = random.Random(5)
    await db.executemany(
        INSERT,
        [_row(rng, world.workspace_id, account, day, (None, "1400000009")) for _ in range(4)],
    )
    await _rebuild(world, account, [day])
    await _check(world, kept_now=False)
    assert await _keep(world) == 1
    replaced = await _check(world, kept_now=True)
    assert replaced != before

    # A rate published late (GBP on LATE): every day is written until converted at it.
    await _store_rates(world, [(LATE, "EUR", "GBP", Decimal("0.91234"), "ecb", "")])
    await _check(world, kept_now=False)
    assert await _keep(world) == DAYS
    await _check(world, kept_now=True)

    # Another maximum rate age: not the one the items were converted with.
    await _check(world, kept_now=False, age=AGE + 1)
    # Another currency asked for: written now.
    await _check(world, kept_now=False, currency="JPY")


async def test_items_kept_before_a_rate_was_named_once_are_forgotten(
    kept_world: RollupWorld, database_url: str
) -> None:
    """Migration ``17_converted_one_rate``: items kept before it (whose one-rate ``converted``
    also listed that rate under ``rates``) go with their days' marks, so each answer is
    written now until the worker keeps the items again, each rate named once."""
    world = kept_world
    await asyncio.to_thread(migrate.downgrade_sync, database_url, "21_sales_rows_one_index")
    assert await _keep(world) == DAYS
    await migrate.upgrade(database_url)
    await _check(world, kept_now=False)
    assert await _keep(world) == DAYS
    kept_again = await _check(world, kept_now=True)
    assert '"rate_date"' in kept_again.decode() and '"rates"' not in kept_again.decode()


async def test_a_new_reporting_currency_replaces_the_kept_one(kept_world: RollupWorld) -> None:
    world = kept_world
    await _keep(world)
    await _reporting(world, "JPY")
    await _check(world, kept_now=False, currency="JPY")
    assert await _keep(world) == DAYS
    await _check(world, kept_now=True, currency="JPY")
    await _check(world, kept_now=False, currency="USD")
    async with world.sessions() as session:
        currencies = await session.execute(
            text(
                "SELECT DISTINCT currency FROM sales_items_workspace_day_converted "
                "WHERE workspace_id = :ws"
            ),
            {"ws": world.workspace_id},
        )
        assert list(currencies.scalars()) == ["JPY"]
    # No reporting currency: nothing more is converted, and nothing asked for is kept.
    await _reporting(world, None)
    assert await _keep(world) == 0


async def test_a_purged_account_leaves_no_kept_day(
    kept_world: RollupWorld, db: asyncpg.Connection
) -> None:
    world = kept_world
    await _keep(world)
    await db.execute("DELETE FROM asc_accounts WHERE id = $1", world.accounts[1])
    left = await db.fetchval(
        "SELECT count(*) FROM sales_items_workspace_day_converted_days WHERE workspace_id = $1",
        world.workspace_id,
    )
    assert left == 0
    await _check(world, kept_now=False)
    assert await _keep(world) > 0
    await _check(world, kept_now=True)


async def test_the_worker_converts_under_the_units_locks(kept_world: RollupWorld) -> None:
    """A unit changing a day holds its (workspace, day) lock to its commit: the worker's
    conversion of that day waits for it, so it reads what the unit committed."""
    world = kept_world
    day = FIRST + dt.timedelta(days=3)
    async with world.sessions() as unit, unit.begin():
        await rollups.lock_workspace_days(unit, world.workspace_id, [day])
        keeping = asyncio.create_task(_keep(world))
        await asyncio.sleep(0.5)
        assert not keeping.done()
    assert await asyncio.wait_for(keeping, 30) == DAYS
    await _check(world, kept_now=True)


async def test_two_workers_convert_each_day_once(kept_world: RollupWorld) -> None:
    """Every worker process runs the task: two passes that found the same stale days (both
    waiting on a unit's lock) convert them once between them, not once each."""
    world = kept_world
    async with world.sessions() as unit, unit.begin():
        await rollups.lock_workspace_days(unit, world.workspace_id, [FIRST + dt.timedelta(3)])
        passes = [asyncio.create_task(_keep(world)) for _ in range(2)]
        await asyncio.sleep(0.5)
        assert not any(p.done() for p in passes)
    assert sum(await asyncio.wait_for(asyncio.gather(*passes), 30)) == DAYS
    await _check(world, kept_now=True)


def test_spans_are_at_most_a_month_of_days() -> None:
    days = [FIRST + dt.timedelta(days=n) for n in (0, 1, 5, 30, 31, 90)]
    assert converted_items.spans(days) == [
        (days[0], days[3]),
        (days[4], days[4]),
        (days[5], days[5]),
    ]
    assert converted_items.spans([]) == []


async def test_the_worker_runs_the_task(kept_world: RollupWorld, settings: Settings) -> None:
    """``orchard worker`` has the task (at the configured maximum rate age)."""
    tasks = {task.name: task for task in worker_parts(settings).tasks}
    task = tasks["keep_converted_sales_items"]
    assert task.every_seconds == converted_items.EVERY_SECONDS
    kept_days = await task.run(kept_world.sessions, cast(AscClientFactory, None))
    assert kept_days == {kept_world.workspace_id: DAYS}
    await _check(kept_world, kept_now=True, age=settings.fx_max_rate_age_days)


async def test_the_rates_version_changes_only_with_a_rate(
    kept_world: RollupWorld, db: asyncpg.Connection
) -> None:
    """An hourly ECB run storing rates already stored changes nothing: the kept items stay
    current (migration ``17_fx_version_on_change``)."""
    world = kept_world
    await _keep(world)

    async def version() -> Any:
        return await db.fetchval("SELECT version FROM fx_data_version WHERE id = 1")

    first = await version()
    await _store_rates(world, _rates())  # the same rates again
    await db.execute("DELETE FROM fx_manual_rates WHERE false")
    await db.execute("UPDATE fx_rates SET rate = rate WHERE false")
    assert await version() == first
    assert await _keep(world) == 0
    await _check(world, kept_now=True)
    for statement in (
        "UPDATE fx_rates SET rate = rate * 2 WHERE quote = 'JPY' AND day = $1",
        "DELETE FROM fx_rates WHERE quote = 'JPY' AND day = $1",
        "TRUNCATE fx_manual_rates",
    ):
        before = await version()
        await db.execute(statement, *([FIRST + dt.timedelta(days=3)] if "$1" in statement else []))
        assert await version() != before, statement


async def _current(world: RollupWorld, session: AsyncSession) -> bool:
    """What a route's first statement reads: whether the kept converted items are current."""
    also = repository.converted_current(world.workspace_id, "USD", AGE, FIRST, LAST)
    value = await session.scalar(text(f"SELECT CAST(({also.sql}) AS text)"), also.params)
    return bool(value == "true")


async def test_a_page_is_one_statement_kept_or_not(kept_world: RollupWorld) -> None:
    """The kept page (with its own check that the items are current) or the written one is
    one statement, when the route's first statement read which it is (issue 21's at most two a
    route: the rates' version and the items' state, then this)."""
    world = kept_world
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(args[2])

    engine = world.sessions.kw["bind"].sync_engine
    for kept_now in (False, True):
        if kept_now:
            await _keep(world)
        async with world.sessions() as session:
            book = await kept.book(
                session, world.workspace_id, target="USD", start=FIRST, end=LAST, max_age_days=AGE
            )
            fx = in_sql.kept_table(book, FIRST, LAST)
            current = await _current(world, session)
            assert current is kept_now
            event.listen(engine, "before_cursor_execute", record)
            try:
                page = await _page(session, world, fx, FIRST, LAST, 10_000, None, use_kept=current)
            finally:
                event.remove(engine, "before_cursor_execute", record)
        assert page.kept is kept_now
        assert len(statements) == 1, statements
        assert ("sales_items_workspace_day_converted" in statements[0]) is kept_now
        statements.clear()


async def test_a_day_replaced_after_the_first_statement_is_written_now(
    kept_world: RollupWorld, db: asyncpg.Connection
) -> None:
    """A unit replacing a day between the route's first statement (which found the items
    current) and its page: the page checks again, finds that day's converted items gone, and
    is written now (a second statement), never a page missing that day."""
    world = kept_world
    await _keep(world)
    async with world.sessions() as session:
        book = await kept.book(
            session, world.workspace_id, target="USD", start=FIRST, end=LAST, max_age_days=AGE
        )
        fx = in_sql.kept_table(book, FIRST, LAST)
        assert await _current(world, session)
        day, account = FIRST + dt.timedelta(days=2), world.accounts[0]
        rng = random.Random(7)
        await db.executemany(
            INSERT,
            [_row(rng, world.workspace_id, account, day, (None, "1400000009")) for _ in range(3)],
        )
        await _rebuild(world, account, [day])  # the unit, in between
        page = await _page(session, world, fx, FIRST, LAST, 10_000, None, use_kept=True)
        written = await _page(session, world, fx, FIRST, LAST, 10_000, None, use_kept=False)
    assert page.kept is False
    assert page.rows == written.rows
    assert page.joined == written.joined
    assert f'"period_start":"{day.isoformat()}"'.encode() in page.joined

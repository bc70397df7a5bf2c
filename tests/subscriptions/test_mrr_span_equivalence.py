"""MRR movements of days, ISO weeks and partial months read from the precomputed sums and
per-subscriber changes (``subscriber_rollup.movement_spans``) equal those computed from the raw
Subscriber rows, for random scopes (one app by Apple ID or Orchard's id, an account's or the
workspace's apps), storefront filters, groupings and ranges cut anywhere; over the random world
of ``test_subscriber_rollup_equivalence`` (refunds, late rows, plan/storefront/price changes,
gaps and returns, two charges a day) with Subscriber ID resets (the same customer under a new ID
after 180 days), and after report days are replaced or emptied. Buckets of random sizes (each
bucket's closing read from the month-to-date sums at its last day) agree too, and the month-to-
date sums kept day by day equal those a full rebuild derives. The migrations' backfills build
the same tables as the units.
"""

import datetime as dt
import random
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import asyncpg
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.engine import create_engine, create_sessionmaker
from app.subscriptions import analytics, subscriber_rollup
from app.subscriptions.analytics_schemas import MetricGranularity
from tests.fixtures.accounts import Tenant
from tests.sales.helpers import add_app
from tests.subscriptions.test_subscriber_rollup_equivalence import (
    APPS,
    DAYS,
    DIMENSIONS,
    FIRST,
    Row,
    _account,
    _contents,
    _insert_rows,
    _migration,
    _movement_scope,
    _movements,
    _store_day,
    _world,
)


@pytest.fixture
async def session(database_url: str) -> AsyncIterator[AsyncSession]:
    engine = create_engine(database_url, pool_size=1)
    try:
        async with create_sessionmaker(engine)() as opened:
            yield opened
    finally:
        await engine.dispose()


def _resets(rng: random.Random, ws: uuid.UUID, account: uuid.UUID) -> dict[dt.date, list[Row]]:
    """Customers whose Subscriber ID is reset: monthly charges under one ID, 180+ days without
    one, then charges under a new ID (a new subscriber: new MRR, not a reactivation)."""
    by_day: dict[dt.date, list[Row]] = {}
    for i in range(6):
        app = rng.choice(APPS)
        day = FIRST + dt.timedelta(days=rng.randint(-30, 10))
        for sid in (f"reset{i}a", f"reset{i}b"):
            for _ in range(rng.randint(1, 3)):
                if day < FIRST + dt.timedelta(days=DAYS):
                    report = max(day, FIRST)  # rows of earlier days on the first report
                    row = (ws, account, report, day, app, "9001", "US", None, "1 Month",
                           Decimal("9.99"), "USD", Decimal("6.99"), "USD", sid, False, None)  # fmt: skip
                    by_day.setdefault(report, []).append(row)
                day += dt.timedelta(days=30)
            day += dt.timedelta(days=181)
    return by_day


def _buckets(rng: random.Random) -> tuple[list[tuple[dt.date, dt.date, dt.date]], str]:
    """A random range cut anywhere, in days, weeks or months (as the metrics route clips)."""
    granularity = rng.choice(list(MetricGranularity))
    start = FIRST + dt.timedelta(days=rng.randint(-10, DAYS))
    end = start + dt.timedelta(days=rng.randint(0, 75))
    spans = [
        (b, max(b, start), min(analytics.bucket_end(b, granularity), end))
        for b in analytics.buckets_of(start, end, granularity)
    ]
    return spans, granularity.value


async def _compare(
    session: AsyncSession,
    rng: random.Random,
    ws: uuid.UUID,
    accounts: list[uuid.UUID],
    app_ids: dict[Any, uuid.UUID],
) -> tuple[int, set[str]]:
    buckets, granularity = _buckets(rng)
    dims = rng.sample(DIMENSIONS, rng.randint(0, 2))
    scope = _movement_scope(rng, ws, accounts, app_ids)
    found = await _movements(session, scope, buckets, dims, "precomputed")
    expected = await _movements(session, scope, buckets, dims, "raw")
    assert found == expected, (scope, granularity, buckets, dims)
    kinds = {subscriber_rollup.span_kind(first, last) for _, first, last in buckets}
    return len(expected), kinds


async def test_day_week_and_partial_spans_answer_what_the_raw_rows_answer(
    db: asyncpg.Connection, tenant: Tenant, session: AsyncSession
) -> None:
    rng = random.Random(1818)
    ws = tenant.workspace_id
    accounts = [await _account(db, ws, n) for n in range(2)]
    app_ids = {
        (account, app): await add_app(db, tenant, account, app, f"subs{n}-{app}")
        for n, account in enumerate(accounts)
        for app in APPS
    }
    for account in accounts:
        world = _world(rng, ws, account)
        for day, rows in _resets(rng, ws, account).items():
            world.setdefault(day, []).extend(rows)
        for n in range(DAYS):
            day = FIRST + dt.timedelta(days=n)
            await _store_day(db, session, account, day, world.get(day, []))
    seen = [await _compare(session, rng, ws, accounts, app_ids) for _ in range(60)]
    assert sum(n for n, _ in seen) > 300
    # Every kind of bucket was asked: days, weeks, whole months and spans cut elsewhere.
    assert set().union(*(kinds for _, kinds in seen)) == {"day", "week", "month", "span"}
    assert await db.fetchval("SELECT count(*) FROM subscriber_mrr_movement_spans") > 0
    # Report days replaced (a re-sync with other rows; a day emptied): still the same answers.
    other = _world(rng, ws, accounts[0])
    for n in (10, 11, 40, 95):
        day = FIRST + dt.timedelta(days=n)
        await _store_day(db, session, accounts[0], day, other.get(day, []))
    await _store_day(db, session, accounts[0], FIRST + dt.timedelta(days=60), [])
    for _ in range(40):
        await _compare(session, rng, ws, accounts, app_ids)


async def test_the_migration_builds_what_the_units_build(
    db: asyncpg.Connection, tenant: Tenant, session: AsyncSession
) -> None:
    rng = random.Random(24)
    ws = tenant.workspace_id
    account = await _account(db, ws, 0)
    world = _world(rng, ws, account)
    for n in range(DAYS):
        day = FIRST + dt.timedelta(days=n)
        await _store_day(db, session, account, day, world.get(day, []))
    migration = _migration("18_mrr_spans")
    tables = ["subscriber_mrr_changes", "subscriber_mrr_movement_spans",
              "subscriber_mrr_movement_months"]  # fmt: skip
    built = {table: await _contents(db, table) for table in tables}
    assert all(built.values())
    for table in tables:
        await db.execute(f"DELETE FROM {table}")
    for backfill in (migration.BACKFILL_CHANGES, migration.BACKFILL_SPANS,
                     migration.BACKFILL_MOVEMENTS):  # fmt: skip
        await db.execute(backfill)
    for table in tables:
        assert await _contents(db, table) == built[table], table
    await subscriber_rollup.rebuild_all(session, account)
    await session.commit()
    for table in tables:
        assert await _contents(db, table) == built[table], table


def _sized_buckets(rng: random.Random) -> list[tuple[dt.date, dt.date, dt.date]]:
    """Consecutive buckets of random sizes (1–40 days) from a random first day: single days,
    Monday-to-Sunday weeks, whole months and other spans, ending anywhere in their month."""
    day = FIRST + dt.timedelta(days=rng.randint(-5, DAYS - 20))
    buckets = []
    for _ in range(rng.randint(1, 12)):
        size = rng.choice([1, 1, 2, 5, 7, 7, 10, 31, rng.randint(1, 40)])
        if size == 7 and not buckets:  # an ISO week (the next ones follow on)
            day -= dt.timedelta(days=day.weekday())
        last = day + dt.timedelta(days=size - 1)
        if size == 31:  # a whole calendar month: the next one that starts here or after
            if day.day != 1:
                day = (day + dt.timedelta(days=31)).replace(day=1)
            last = (day + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
        buckets.append((day, day, last))
        day = last + dt.timedelta(days=1)
    return buckets


async def test_random_bucket_sizes_answer_what_the_raw_rows_answer(
    db: asyncpg.Connection, tenant: Tenant, session: AsyncSession
) -> None:
    """Buckets of any size, scope, storefront filter and grouping, over rows with refunds and
    Subscriber ID resets: first derived in one full rebuild, then after report days are
    replaced (new rows, a reset customer's and a refund's day, a day emptied) by the sync
    unit's per-day rebuild — whose month-to-date sums equal a full rebuild's."""
    rng = random.Random(1807)
    ws = tenant.workspace_id
    account = await _account(db, ws, 0)
    app_ids = {(account, app): await add_app(db, tenant, account, app, f"s-{app}") for app in APPS}
    world = _world(rng, ws, account)
    resets = _resets(rng, ws, account)
    for day, rows in resets.items():
        world.setdefault(day, []).extend(rows)
    await _insert_rows(db, [row for rows in world.values() for row in rows])
    await subscriber_rollup.rebuild_all(session, account)
    await session.commit()
    kinds: set[str] = set()

    async def compare(times: int) -> int:
        found_rows = 0
        for _ in range(times):
            buckets = _sized_buckets(rng)
            kinds.update(subscriber_rollup.span_kind(first, last) for _, first, last in buckets)
            dims = rng.sample(DIMENSIONS, rng.randint(0, 2))
            scope = _movement_scope(rng, ws, [account], app_ids)
            found = await _movements(session, scope, buckets, dims, "precomputed")
            expected = await _movements(session, scope, buckets, dims, "raw")
            assert found == expected, (scope, buckets, dims)
            found_rows += len(expected)
        return found_rows

    assert await compare(25) > 100
    # Report days replaced: other rows; the newest day of the reset customers' rows, now with
    # refunds of its charges; a day emptied. Each through the sync unit's per-day rebuild.
    other = _world(rng, ws, account)
    for n in (3, 30, 31, 58, 100):
        day = FIRST + dt.timedelta(days=n)
        await _store_day(db, session, account, day, other.get(day, []))
    reset_day = max(resets)
    rows = list(world.get(reset_day, []))
    refunds = [(*row[:9], -row[9], *row[10:14], True, row[3]) for row in resets[reset_day]]
    await _store_day(db, session, account, reset_day, rows + refunds)
    await _store_day(db, session, account, FIRST + dt.timedelta(days=45), [])
    assert await compare(25) > 100
    assert {"day", "week", "month", "span"} <= kinds
    kept = await _contents(db, "subscriber_mrr_month_to_date")
    assert len(kept) > 100
    await subscriber_rollup.rebuild_all(session, account)
    await session.commit()
    assert await _contents(db, "subscriber_mrr_month_to_date") == kept


async def test_the_month_to_date_migration_builds_what_the_units_build(
    db: asyncpg.Connection, tenant: Tenant, session: AsyncSession
) -> None:
    rng = random.Random(25)
    ws = tenant.workspace_id
    account = await _account(db, ws, 0)
    world = _world(rng, ws, account)
    for n in range(0, DAYS, 3):  # every third report day, each rebuilt as the unit does
        day = FIRST + dt.timedelta(days=n)
        await _store_day(db, session, account, day, world.get(day, []))
    built = await _contents(db, "subscriber_mrr_month_to_date")
    assert built
    await db.execute("DELETE FROM subscriber_mrr_month_to_date")
    await db.execute(_migration("18_mrr_month_to_date").BACKFILL_MONTH_TO_DATE)
    assert await _contents(db, "subscriber_mrr_month_to_date") == built

"""The monthly sums of the event and Subscriber rollups answer exactly what the raw rows answer.

A random world of SUBSCRIPTION_EVENT and SUBSCRIBER rows over three calendar months (late
Event Dates that cross into the previous month, untrimmed and empty values, refunds, missing
prices, two accounts and two apps) is stored and each (account, report date) rebuilt by the
code the sync unit runs. Monthly metric buckets then read whole months from
``subscription_event_month_rollup`` / ``subscriber_transaction_month_rollup`` and partial edge
months from the day rollups: for many random ranges (whole months, partial edges, both),
groupings, predicates and scopes, the answer equals the raw rows' — also after report days are
replaced (one of them on a month's first day, its late rows in the month before) and a report
day emptied; and the migration's backfill builds exactly what the units build.
"""

import datetime as dt
import importlib.util
import random
import uuid
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncSession

from app.subscriptions import analytics_repository as repo
from app.subscriptions.analytics_repository import RowScope, whole_months
from app.subscriptions.schemas import RowFilter
from tests.fixtures.accounts import Tenant
from tests.subscriptions.test_rollup_equivalence import (
    APPS,
    DIMENSIONS,
    EVENT_PREDICATES,
    _account,
    _rebuild,
    _store_day,
    session,
)

__all__ = ["session"]  # the fixture, shared

FIRST = dt.date(2025, 1, 1)
DAYS = 90  # January to March
MONTH_TABLES = ("subscription_event_month_rollup", "subscriber_transaction_month_rollup")


def _span(rng: random.Random) -> tuple[dt.date, dt.date]:
    starts = [FIRST, dt.date(2025, 2, 1), dt.date(2025, 1, 17), dt.date(2024, 12, 20)]
    ends = [dt.date(2025, 3, 31), dt.date(2025, 2, 28), dt.date(2025, 3, 9), dt.date(2025, 4, 3)]
    if rng.random() < 0.3:
        start = FIRST + dt.timedelta(days=rng.randint(-5, DAYS))
        return start, start + dt.timedelta(days=rng.randint(0, DAYS))
    start, end = rng.choice(starts), rng.choice(ends)
    return min(start, end), max(start, end)


async def _compare(
    session: AsyncSession, rng: random.Random, ws: uuid.UUID, accounts: list[uuid.UUID]
) -> bool:
    """One random monthly request, from the rollups and from the raw rows; whether it read
    whole months."""
    start, end = _span(rng)
    filters = rng.choice(
        [RowFilter(), RowFilter(account_id=accounts[0]), RowFilter(accounts[1], rng.choice(APPS))]
    )
    scope = RowScope(ws, filters, rng.choice([(), ("US",), ("GB", " DE")]))
    dims = rng.sample(DIMENSIONS, rng.randint(0, 2))
    dims += ["cancellation_reason"] if rng.random() < 0.2 else []
    names = rng.sample(sorted(EVENT_PREDICATES), rng.randint(1, len(EVENT_PREDICATES)))
    found = {}
    for source in ("rollup", "raw"):
        buckets = await repo.event_buckets(
            session,
            scope,
            start=start,
            end=end,
            granularity="month",
            dimensions=dims,
            predicates={n: EVENT_PREDICATES[n] for n in names},
            source=source,
        )
        found[source] = {(b.bucket, b.group): b for b in buckets}
    assert found["rollup"] == found["raw"], (scope, start, end, dims, names)
    transactions = {}
    for source in ("rollup", "raw"):
        sums = await repo.transaction_buckets(
            session,
            scope,
            start=start,
            end=end,
            granularity="month",
            dimensions=[d for d in dims if d != "cancellation_reason"],  # events only
            distinct_payers=False,
            source=source,
        )
        transactions[source] = {(b.bucket, b.group): b for b in sums}
    assert transactions["rollup"] == transactions["raw"], (scope, start, end, dims)
    return whole_months(start, end) is not None and bool(found["raw"]) and bool(transactions["raw"])


async def test_the_event_month_rollup_answers_what_the_raw_rows_answer(
    db: asyncpg.Connection, tenant: Tenant, session: AsyncSession
) -> None:
    rng = random.Random(1812)
    ws = tenant.workspace_id
    accounts = [await _account(db, ws, n) for n in range(2)]
    for account in accounts:
        for n in range(DAYS):
            day = FIRST + dt.timedelta(days=n)
            await _store_day(db, rng, ws, account, day)
            await _rebuild(session, account, day)
    for table in MONTH_TABLES:
        assert await db.fetchval(f"SELECT count(*) FROM {table}") > 0
    assert sum([await _compare(session, rng, ws, accounts) for _ in range(40)]) > 10
    # Report days replaced (a re-sync; the 1st of February's late events are January's) and
    # one emptied: the months they touch, before and after, follow.
    for n in (31, 45, 89):
        day = FIRST + dt.timedelta(days=n)
        await _store_day(db, rng, ws, accounts[0], day)
        await _rebuild(session, accounts[0], day)
    emptied = dt.date(2025, 3, 1)
    for table in ("subscription_event_rows", "subscriber_transaction_rows"):
        await db.execute(
            f"DELETE FROM {table} WHERE account_id = $1 AND report_date = $2",
            accounts[1],
            emptied,
        )
    await _rebuild(session, accounts[1], emptied)
    for table in ("subscription_event_day_rollup", "subscriber_transaction_day_rollup"):
        assert not await db.fetchval(
            f"SELECT count(*) FROM {table} WHERE account_id = $1 AND report_date = $2",
            accounts[1],
            emptied,
        )
    assert sum([await _compare(session, rng, ws, accounts) for _ in range(25)]) > 5


def _migration() -> Any:
    path = next(Path(__file__).parents[2].glob("migrations/versions/*-18_month_rollups.py"))
    spec = importlib.util.spec_from_file_location("migration_18_month_rollups", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def test_the_migration_backfills_what_the_units_build(
    db: asyncpg.Connection, tenant: Tenant, session: AsyncSession
) -> None:
    rng = random.Random(7)
    ws = tenant.workspace_id
    account = await _account(db, ws, 0)
    for n in range(40):
        day = FIRST + dt.timedelta(days=n)
        await _store_day(db, rng, ws, account, day)
        await _rebuild(session, account, day)
    await _store_day(db, rng, ws, account, FIRST + dt.timedelta(days=31))  # replaced
    await _rebuild(session, account, FIRST + dt.timedelta(days=31))
    migration = _migration()
    for table, backfill in zip(
        MONTH_TABLES, (migration.BACKFILL, migration.BACKFILL_TRANSACTIONS), strict=True
    ):
        query = f"SELECT * FROM {table}"
        built = sorted((tuple(r.values())[1:] for r in await db.fetch(query)), key=repr)
        await db.execute(f"DELETE FROM {table}")
        await db.execute(backfill)
        backfilled = sorted((tuple(r.values())[1:] for r in await db.fetch(query)), key=repr)
        assert built and backfilled == built, table

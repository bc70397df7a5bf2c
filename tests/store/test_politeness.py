"""One politeness budget for Apple's public endpoints, shared by every process through
PostgreSQL; public units in the sync engine (owned by no account, one at a time per lane)."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from sqlalchemy import text

from app.config import Settings
from app.db.engine import create_engine, create_sessionmaker
from app.store.politeness import Politeness
from app.sync import queue
from app.sync.contract import DeferUnit, PlannedUnit

T0 = dt.datetime(2026, 1, 5, 12, 0, tzinfo=dt.UTC)


def test_the_default_budget_is_well_under_apples_limit() -> None:
    assert Settings().store_requests_per_minute <= 10  # Apple: "approximately 20 per minute"


async def test_two_processes_share_one_budget(database_url: str) -> None:
    engines = [create_engine(database_url, pool_size=2) for _ in range(2)]
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    processes = [
        Politeness(
            create_sessionmaker(engine),
            per_minute=12,
            max_wait=dt.timedelta(seconds=20),
            backoff=dt.timedelta(seconds=60),
            clock=lambda: T0,
            sleep=sleep,
        )
        for engine in engines
    ]
    try:
        slots = await asyncio.gather(*(processes[i % 2].acquire() for i in range(5)))
        assert sorted(slots) == [T0 + dt.timedelta(seconds=5 * k) for k in range(5)]
        assert sorted(waits) == [5.0, 10.0, 15.0, 20.0]
        # The next slot is further away than max_wait: the unit is deferred, not parked.
        with pytest.raises(DeferUnit) as deferred:
            await processes[0].acquire()
        assert deferred.value.until == T0 + dt.timedelta(seconds=5)

        # Apple throttles one process: both back off, longer each time.
        assert await processes[1].throttled() == T0 + dt.timedelta(seconds=60)
        with pytest.raises(DeferUnit) as blocked:
            await processes[0].acquire()
        assert blocked.value.until == T0 + dt.timedelta(seconds=60)
        assert await processes[0].throttled() == T0 + dt.timedelta(seconds=120)
        await processes[0].answered()
        assert await processes[1].throttled() == T0 + dt.timedelta(seconds=120)  # kept the max
        async with create_sessionmaker(engines[0])() as session:
            count = await session.scalar(
                text("SELECT consecutive_throttles FROM store_request_budget")
            )
        assert count == 1  # an answer restarted the backoff
    finally:
        for engine in engines:
            await engine.dispose()


async def test_public_units_are_one_per_key_and_one_at_a_time(database_url: str) -> None:
    engine = create_engine(database_url, pool_size=2)
    try:
        sessions = create_sessionmaker(engine)
        now = dt.datetime.now(dt.UTC)
        units = [PlannedUnit("us:top-free:36"), PlannedUnit("us:top-paid:36")]
        async with sessions() as session, session.begin():
            first = await queue.enqueue_public(
                session, key_id="~store", dataset="store_charts", units=units, now=now
            )
            again = await queue.enqueue_public(
                session, key_id="~store", dataset="store_charts", units=units, now=now
            )
        assert (first, again) == (2, 0)
        claims = []
        for _ in range(2):
            async with sessions() as session, session.begin():
                claims.append(
                    await queue.claim(
                        session,
                        worker_id="w",
                        lease=dt.timedelta(seconds=60),
                        key_concurrency=2,
                        budget_reserve=0,
                    )
                )
        assert claims[0] is not None and claims[0].account_id is None
        assert claims[0].workspace_id is None
        assert claims[1] is None  # the lane runs one unit at a time
    finally:
        await engine.dispose()

"""Per-token request limits: 429 problem+json with Retry-After, and other tokens unaffected."""

import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.auth.ratelimit import TokenRateLimiter
from app.config import Settings
from app.db.engine import create_engine, create_sessionmaker
from app.main import create_app
from tests.fixtures.accounts import Tenant
from tests.fixtures.database import plain
from tests.fixtures.serve import api_processes


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(database_url, pool_size=2)
    try:
        yield create_sessionmaker(engine)
    finally:
        await engine.dispose()


async def spend(
    limiter: TokenRateLimiter, sessions: async_sessionmaker[AsyncSession], token: uuid.UUID
) -> bool:
    """One request through the limiter, committed as the request edge does; True if served."""
    async with sessions() as session:
        refusal = await limiter.spend(session, token)
        await session.commit()
    return refusal is None


async def token_of(database_url: str, tenant: Tenant) -> uuid.UUID:
    conn = await asyncpg.connect(plain(database_url))
    try:
        return uuid.UUID(str(await conn.fetchval("SELECT id FROM api_tokens LIMIT 1")))
    finally:
        await conn.close()


async def test_processes_share_one_budget_and_never_serve_more_than_it(
    sessions: async_sessionmaker[AsyncSession], database_url: str, tenant: Tenant
) -> None:
    token = await token_of(database_url, tenant)
    # Slow refill (one request per 10 s): what is served is the burst and nothing more.
    replicas = [TokenRateLimiter(per_minute=6, burst=10, hold_seconds=60) for _ in range(3)]
    started = time.monotonic()
    served = [0, 0, 0]
    for n in range(45):
        served[n % 3] += await spend(replicas[n % 3], sessions, token)
    refilled = int((time.monotonic() - started) / 10)
    assert 10 <= sum(served) <= 10 + refilled, served
    assert all(served), "every replica got part of the budget"


async def test_an_unused_allowance_goes_back_to_the_others(
    sessions: async_sessionmaker[AsyncSession], database_url: str, tenant: Tenant
) -> None:
    token = await token_of(database_url, tenant)
    now = [0.0]
    idle = TokenRateLimiter(per_minute=6, burst=10, hold_seconds=1, clock=lambda: now[0])
    busy = TokenRateLimiter(per_minute=6, burst=10, hold_seconds=1, clock=lambda: now[0])
    assert await spend(idle, sessions, token)  # takes half the bucket, serves one
    taken_by_busy = 0
    while await spend(busy, sessions, token):
        taken_by_busy += 1
    assert taken_by_busy <= 6  # what the idle replica holds is not the busy one's
    now[0] += 2  # the idle replica's allowance is stale: its next take gives it back
    assert await spend(idle, sessions, token)
    conn = await asyncpg.connect(plain(database_url))
    try:
        left = await conn.fetchval("SELECT tokens FROM api_request_budgets")
    finally:
        await conn.close()
    assert left >= 1, "the stale allowance was given back to the shared bucket"


async def test_a_refusal_is_remembered_without_asking_the_database_again(
    sessions: async_sessionmaker[AsyncSession], database_url: str, tenant: Tenant
) -> None:
    token = await token_of(database_url, tenant)
    now = [0.0]
    limiter = TokenRateLimiter(per_minute=60, burst=3, clock=lambda: now[0])
    assert [await spend(limiter, sessions, token) for _ in range(4)] == [True] * 3 + [False]
    async with sessions() as session:
        refusal = await limiter.spend(session, token)
    assert refusal is not None and refusal.headers["Retry-After"] == "1"
    conn = await asyncpg.connect(plain(database_url))
    try:  # refill the shared bucket behind the limiter's back: it does not look until it may
        await conn.execute("UPDATE api_request_budgets SET tokens = 3")
        assert not await spend(limiter, sessions, token)
        now[0] += 1.0
        assert await spend(limiter, sessions, token)
    finally:
        await conn.close()


async def test_a_busy_token_gets_429_and_others_keep_working(
    settings: Settings, tenant: Tenant, other_tenant: Tenant
) -> None:
    # One request a minute refills the bucket: seven requests on a loaded machine (seconds
    # each) must not earn a sixth before the seventh is asked.
    app: FastAPI = create_app(
        settings.model_copy(update={"rate_limit_per_minute": 1, "rate_limit_burst": 5})
    )
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
    ):
        statuses = [
            (await client.get("/v1/tokens", headers=tenant.headers())).status_code for _ in range(7)
        ]
        assert statuses == [200] * 5 + [429] * 2
        limited = await client.get("/v1/tokens", headers=tenant.headers())
        assert limited.headers["content-type"] == "application/problem+json"
        # The wait is what the bucket lacks of one request at a request a minute: just under
        # a minute, less the seconds the requests themselves took.
        assert 45 <= limited.json()["retry_after_seconds"] <= 60
        assert limited.headers["retry-after"] == str(limited.json()["retry_after_seconds"])
        assert limited.json()["type"] == "/problems/rate_limited"
        # Another consumer is not starved by the first one.
        assert (await client.get("/v1/tokens", headers=other_tenant.headers())).status_code == 200
        # Unauthenticated health checks are not limited.
        for _ in range(20):
            assert (await client.get("/health")).status_code == 200


async def test_two_api_processes_on_one_database_hold_one_limit(
    database_url: str, tenant: Tenant, tmp_path: Path
) -> None:
    """Replicas behind no proxy: a token alternating between them gets the limit, not twice it."""
    async with (
        api_processes(
            database_url, tmp_path, 2, rate_limit_per_minute="60", rate_limit_burst="20"
        ) as urls,
        httpx.AsyncClient(timeout=30) as client,
    ):
        started = time.monotonic()
        statuses = [
            (await client.get(f"{urls[n % 2]}/v1/tokens", headers=tenant.headers())).status_code
            for n in range(100)
        ]
        elapsed = time.monotonic() - started
    assert set(statuses) == {200, 429}
    served = statuses.count(200)
    assert 20 <= served <= 20 + elapsed * 1.0, (served, elapsed)

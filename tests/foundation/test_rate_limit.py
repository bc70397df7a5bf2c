"""Per-token request limits: 429 problem+json with Retry-After, and other tokens unaffected."""

import uuid

import httpx
import pytest
from fastapi import FastAPI

from app.auth.ratelimit import TokenRateLimiter
from app.config import Settings
from app.errors import RateLimited
from app.main import create_app
from tests.fixtures.accounts import Tenant


def test_bucket_refills_at_the_configured_rate() -> None:
    now = [0.0]
    limiter = TokenRateLimiter(per_minute=60, burst=3, clock=lambda: now[0])
    token = uuid.uuid4()
    for _ in range(3):
        limiter.check(token)
    with pytest.raises(RateLimited) as raised:
        limiter.check(token)
    assert raised.value.headers["Retry-After"] == "1"
    now[0] += 1.0  # one request per second comes back
    limiter.check(token)
    with pytest.raises(RateLimited):
        limiter.check(token)
    limiter.check(uuid.uuid4())  # another token has its own bucket


async def test_a_busy_token_gets_429_and_others_keep_working(
    settings: Settings, tenant: Tenant, other_tenant: Tenant
) -> None:
    app: FastAPI = create_app(
        settings.model_copy(update={"rate_limit_per_minute": 6, "rate_limit_burst": 5})
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
        assert limited.headers["retry-after"] == "10"
        assert limited.json()["type"] == "/problems/rate_limited"
        assert limited.json()["retry_after_seconds"] == 10
        # Another consumer is not starved by the first one.
        assert (await client.get("/v1/tokens", headers=other_tenant.headers())).status_code == 200
        # Unauthenticated health checks are not limited.
        for _ in range(20):
            assert (await client.get("/health")).status_code == 200

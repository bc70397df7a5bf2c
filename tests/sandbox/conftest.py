from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from app.sandbox import SandboxKey, SandboxState, create_sandbox_app
from tests.sandbox.helpers import bearer, mint

# Tuesday 10 June 2025, 11:00 in Cupertino (PDT): yesterday's daily report is out.
NOW = datetime(2025, 6, 10, 18, 0, tzinfo=UTC)
BASE_URL = "https://sandbox.test"


class FakeClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
def state(clock: FakeClock) -> SandboxState:
    return SandboxState(seed=42, clock=clock)


@pytest.fixture
async def client(state: SandboxState) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_sandbox_app(state))
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
        yield http


@pytest.fixture
def admin_key(state: SandboxState) -> SandboxKey:
    return state.add_key(roles=("ADMIN",))


@pytest.fixture
def headers_for(clock: FakeClock) -> Callable[..., dict[str, str]]:
    """``headers_for(key, **mint_options)`` → Authorization header valid at the fake now."""

    def make(key: SandboxKey, **options: Any) -> dict[str, str]:
        return bearer(mint(key, clock.now, **options))

    return make


@pytest.fixture
def admin_headers(
    admin_key: SandboxKey, headers_for: Callable[..., dict[str, str]]
) -> dict[str, str]:
    return headers_for(admin_key)

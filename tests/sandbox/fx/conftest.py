"""Fixtures for the currency sandbox: a fake clock, a small state and an in-process client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest

from app.sandbox.fx import FxState, create_fx_app

# Tuesday 10 June 2025, 15:00 UTC = 17:00 in Frankfurt (CEST): today's fix is out.
NOW = datetime(2025, 6, 10, 15, 0, tzinfo=UTC)
HISTORY_START = date(2025, 1, 2)
BASE_URL = "https://fx.sandbox.test"


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
def state(clock: FakeClock) -> FxState:
    return FxState(seed=7, clock=clock, history_start=HISTORY_START)


@pytest.fixture
async def client(state: FxState) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_fx_app(state))
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
        yield http


@pytest.fixture
def make_client() -> Callable[[FxState], httpx.AsyncClient]:
    """A client for another state (close it with ``async with``)."""

    def make(other: FxState) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=create_fx_app(other))
        return httpx.AsyncClient(transport=transport, base_url=BASE_URL)

    return make

"""Fixtures for the store simulator: a state on the fake clock and an in-process client.

The ``clock`` fixture (a ``FakeClock`` at 2025-06-10 18:00 UTC) comes from
``tests/sandbox/conftest.py``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from app.sandbox.store import StoreState, create_store_app
from tests.sandbox.conftest import FakeClock

STORE_URL = "https://store.test"
USER_AGENT = "Orchard-test/1.0 (+mailto:ops@example.com)"


@pytest.fixture
def store(clock: FakeClock) -> StoreState:
    return StoreState(seed=42, clock=clock)


@pytest.fixture
async def store_client(store: StoreState) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_store_app(store))
    async with httpx.AsyncClient(
        transport=transport, base_url=STORE_URL, headers={"User-Agent": USER_AGENT}
    ) as http:
        yield http


def client_from(store: StoreState, address: str) -> httpx.AsyncClient:
    """A client whose requests come from ``address`` (for per-client throttling)."""
    transport = httpx.ASGITransport(app=create_store_app(store), client=(address, 50000))
    return httpx.AsyncClient(transport=transport, base_url=STORE_URL)

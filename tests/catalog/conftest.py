"""Catalog tests run against a sandbox whose clock they move (Orchard still mints tokens with
the real time, so the sandbox checks tokens against the real clock)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from app.sandbox import SandboxState, create_sandbox_app
from app.sandbox.state import utc_now
from tests.catalog.helpers import NOW
from tests.sandbox.conftest import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
def sandbox(clock: FakeClock) -> SandboxState:
    state = SandboxState(seed=7, clock=clock)
    state.token_clock = utc_now
    return state


@pytest.fixture
async def apple(sandbox: SandboxState) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client straight to the sandbox (for tests of the sandbox itself)."""
    transport = httpx.ASGITransport(app=create_sandbox_app(sandbox))
    async with httpx.AsyncClient(transport=transport, base_url="https://sandbox.test") as http:
        yield http

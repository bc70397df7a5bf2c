"""Store tests: Orchard against the public store simulator (on its own fake clock) and the App
Store Connect sandbox, each on its own host behind one transport.

The simulator's throttle is off unless a test turns it on; Orchard's own politeness budget is
relaxed to microseconds (its pacing is tested on its own, with an injected sleep).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from app.config import Settings
from app.main import create_app
from app.sandbox.app import create_sandbox_app
from app.sandbox.state import SandboxState
from app.sandbox.store import StoreSettings, StoreState, create_store_app
from tests.fixtures.engine import INSTANT_RETRY
from tests.fixtures.hosts import HostRouter
from tests.fixtures.sandbox import SANDBOX_URL
from tests.store.helpers import NOW, STORE_URL, FakeClock


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,  # type: ignore[arg-type]
        data_dir=tmp_path / "data",
        log_format="text",  # type: ignore[arg-type]
        asc_base_url=SANDBOX_URL,
        run_worker=False,
        expect_worker=False,
        store_enabled=True,
        fx_ecb_enabled=False,  # currency rates have their own tests (tests/fx)
        store_lookup_url=STORE_URL,
        store_rss_url=STORE_URL,
        store_legacy_rss_url=STORE_URL,
        store_contact="ops@example.com",
        store_requests_per_minute=60000,
        store_lookup_batch=3,
        store_legacy_feeds=True,
        store_legacy_genres="6007",
        store_default_storefronts="us,de",
    )


@pytest.fixture
def store_clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
def store(store_clock: FakeClock) -> StoreState:
    """The public App Store, simulated; Lookup answers at most 3 ids per call."""
    return StoreState(
        seed=42,
        clock=store_clock,
        settings=StoreSettings(throttle_per_minute=0, lookup_id_ceiling=3),
    )


@pytest.fixture
async def app(
    settings: Settings, sandbox: SandboxState, store: StoreState
) -> AsyncIterator[FastAPI]:
    router = HostRouter(
        {"store.test": httpx.ASGITransport(app=create_store_app(store))},
        default=httpx.ASGITransport(app=create_sandbox_app(sandbox)),
    )
    application = create_app(settings, asc_transport=router, asc_retry=INSTANT_RETRY)
    async with application.router.lifespan_context(application):
        yield application

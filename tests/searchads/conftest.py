"""Search Ads tests: Orchard against the Apple Ads sandbox (``ads.test``) and the App Store
Connect sandbox (default host), behind one transport.

The Apple Ads sandbox's clock is frozen at the test's start (real time), so report totals do
not move while a test runs; client secrets are checked against real time (``token_clock``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from app.config import Settings
from app.main import create_app
from app.sandbox.app import create_sandbox_app
from app.sandbox.catalog import team_apps
from app.sandbox.searchads import AdsApp, AppleAdsState, create_apple_ads_app
from app.sandbox.searchads.state import utc_now
from app.sandbox.state import SandboxState
from tests.fixtures.engine import INSTANT_RETRY
from tests.fixtures.hosts import HostRouter
from tests.fixtures.sandbox import SANDBOX_URL

ADS_URL = "https://ads.test"


class FrozenClock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,  # type: ignore[arg-type]
        data_dir=tmp_path / "data",
        log_format="text",  # type: ignore[arg-type]
        asc_base_url=SANDBOX_URL,
        run_worker=False,
        expect_worker=False,
        store_enabled=False,
        apple_ads_base_url=ADS_URL,
        apple_ads_token_url=f"{ADS_URL}/auth/oauth2/token",
        apple_ads_v5_base_url=ADS_URL,
        initial_backfill_days=20,
        searchads_backfill_days=20,
        searchads_window_days=10,
        searchads_restate_days=3,
    )


@pytest.fixture
def ads_clock() -> FrozenClock:
    return FrozenClock(utc_now().replace(microsecond=0))


@pytest.fixture
def ads(sandbox: SandboxState, ads_clock: FrozenClock) -> AppleAdsState:
    """Apple Ads, simulated; its campaigns promote the App Store Connect sandbox's first two
    apps (so they join Orchard's apps) and, per account, one app Orchard does not know."""
    apps = team_apps(sandbox.default_team())[:2]
    state = AppleAdsState(seed=11, clock=ads_clock, apps=[AdsApp(int(a.id), a.name) for a in apps])
    state.token_clock = utc_now
    return state


@asynccontextmanager
async def running(
    settings: Settings, sandbox: SandboxState, ads: AppleAdsState
) -> AsyncIterator[FastAPI]:
    """Orchard with both sandboxes behind one transport (a test may start a second one with
    other settings on the same database)."""
    router = HostRouter(
        {"ads.test": httpx.ASGITransport(app=create_apple_ads_app(ads))},
        default=httpx.ASGITransport(app=create_sandbox_app(sandbox)),
    )
    application = create_app(settings, asc_transport=router, asc_retry=INSTANT_RETRY)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def app(
    settings: Settings, sandbox: SandboxState, ads: AppleAdsState
) -> AsyncIterator[FastAPI]:
    async with running(settings, sandbox, ads) as application:
        yield application

"""Currency tests: Orchard against the currency simulator (the ECB's files and a Frankfurter
server, on its own fake clock) and the App Store Connect sandbox, each on its own host."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from app.config import Settings
from app.main import create_app
from app.sandbox.app import create_sandbox_app
from app.sandbox.fx import FxState, create_fx_app
from app.sandbox.state import SandboxState
from tests.fixtures.engine import INSTANT_RETRY
from tests.fixtures.hosts import HostRouter
from tests.fixtures.sandbox import SANDBOX_URL
from tests.fx.helpers import ECB_URL, NOW, FakeClock


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
        fx_ecb_enabled=True,
        fx_ecb_url=ECB_URL,
        fx_frankfurter_url="",  # off by default; tests/fx/test_frankfurter.py turns it on
        fx_frankfurter_backfill_days=30,
    )


@pytest.fixture
def fx_clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
def fx(fx_clock: FakeClock) -> FxState:
    """The ECB and a Frankfurter server, simulated, with history from 2025-01-02."""
    import datetime as dt

    return FxState(seed=42, clock=fx_clock, history_start=dt.date(2025, 1, 2))


@pytest.fixture
async def app(settings: Settings, sandbox: SandboxState, fx: FxState) -> AsyncIterator[FastAPI]:
    fx_transport = httpx.ASGITransport(app=create_fx_app(fx))
    router = HostRouter(
        {"ecb.test": fx_transport, "frankfurter.test": fx_transport},
        default=httpx.ASGITransport(app=create_sandbox_app(sandbox)),
    )
    application = create_app(settings, asc_transport=router, asc_retry=INSTANT_RETRY)
    async with application.router.lifespan_context(application):
        yield application

"""Reviews tests run against the sandbox on a fake clock, so time (new reviews, a reply going
from PENDING_PUBLISH to PUBLISHED, the weekly full pass) moves only when a test says so."""

from __future__ import annotations

import uuid

import httpx
import pytest
from fastapi import FastAPI

from app.sandbox.catalog import SandboxApp, team_apps
from app.sandbox.review_ledger import ReviewLedger, ledger
from app.sandbox.state import SandboxKey, SandboxState, utc_now
from tests.fixtures.accounts import Tenant, link_account
from tests.reviews.helpers import NOW, FakeClock, sync_apps, sync_reviews


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
def sandbox(clock: FakeClock) -> SandboxState:
    state = SandboxState(seed=7, clock=clock)
    state.token_clock = utc_now  # Orchard mints its tokens with the real time
    return state


@pytest.fixture
def changes(sandbox: SandboxState) -> ReviewLedger:
    return ledger(sandbox)


@pytest.fixture
def admin_key(sandbox: SandboxState) -> SandboxKey:
    return sandbox.add_key(roles=("ADMIN",))


@pytest.fixture
def sandbox_apps(admin_key: SandboxKey) -> tuple[SandboxApp, ...]:
    return team_apps(admin_key.team)


@pytest.fixture
async def account_id(
    app: FastAPI, client: httpx.AsyncClient, tenant: Tenant, admin_key: SandboxKey
) -> uuid.UUID:
    """The tenant's linked account with its app list synced (no reviews yet)."""
    linked = await link_account(client, tenant, admin_key, vendor=False)
    await sync_apps(app, linked, NOW)
    return linked


@pytest.fixture
async def synced(
    app: FastAPI,
    account_id: uuid.UUID,
    sandbox_apps: tuple[SandboxApp, ...],
    clock: FakeClock,
) -> uuid.UUID:
    """The account with every app's reviews synced once."""
    for sandbox_app in sandbox_apps:
        await sync_reviews(app, account_id, sandbox_app.id, clock.now)
    return account_id

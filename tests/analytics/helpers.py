"""Helpers of the analytics tests: a sandbox team whose app already has report requests."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import httpx
from fastapi import FastAPI

from app.config import Settings
from app.main import create_app
from app.sandbox.analytics_ledger import analytics
from app.sandbox.app import create_sandbox_app
from app.sandbox.catalog import SandboxApp, team_apps
from app.sandbox.state import SandboxKey, SandboxState
from tests.fixtures.accounts import Tenant, link
from tests.fixtures.engine import INSTANT_RETRY, run_unit


def one_app_team(
    sandbox: SandboxState, name: str = "acme", roles: tuple[str, ...] = ("ADMIN",)
) -> tuple[SandboxKey, SandboxApp]:
    team = sandbox.add_team(name, apps=1)
    [app] = team_apps(team)
    return sandbox.add_key(team, roles=roles), app


def existing_request(
    sandbox: SandboxState,
    app: SandboxApp,
    days_ago: int,
    access: str = "ONGOING",
    volume: float = 0.25,
) -> str:
    """A request an Admin created ``days_ago`` (Apple has published instances since); the
    app's event ``volume`` is turned down to keep the files small."""
    ledger = analytics(sandbox)
    ledger.volume[app.id] = volume
    team = next(t for t in sandbox.teams.values() if app in team_apps(t))
    now = sandbox.now()
    return ledger.add_request(team, app.id, access, now - dt.timedelta(days=days_ago)).id


async def sync_analytics(app: FastAPI, account_id: uuid.UUID, db: asyncpg.Connection) -> None:
    """The analytics units through the engine, and only them: the app list, one requests
    unit per app, then one unit per pending report instance."""
    await run_unit(app, account_id, "apps", "all")
    for row in await db.fetch("SELECT apple_id FROM apps WHERE account_id = $1", account_id):
        await run_unit(app, account_id, "analytics_requests", row["apple_id"])
    pending = await db.fetch(
        "SELECT apple_instance_id FROM analytics_instances WHERE account_id = $1 "
        "AND state = 'pending' ORDER BY processing_date",
        account_id,
    )
    for row in pending:
        await run_unit(app, account_id, "analytics_instances", row["apple_instance_id"])


async def link_and_sync(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    key: SandboxKey,
    db: asyncpg.Connection,
) -> uuid.UUID:
    response = await link(client, tenant, key)
    assert response.status_code == 201, response.text
    account_id = uuid.UUID(response.json()["id"])
    await sync_analytics(app, account_id, db)
    return account_id


@asynccontextmanager
async def running_app(
    settings: Settings, sandbox: SandboxState
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """Orchard over ``sandbox`` (for a test that builds its own, e.g. on a fake clock)."""
    application = create_app(
        settings,
        asc_transport=httpx.ASGITransport(app=create_sandbox_app(sandbox)),
        asc_retry=INSTANT_RETRY,
    )
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://orchard.test") as c:
            yield application, c

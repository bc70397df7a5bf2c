"""The per-app ONGOING report request: reused when Apple lists one, created when missing (an
Admin key), replaced when Apple stopped it for inactivity, and a clear capability reason when
the key may read but not create (ANALYTICS §3, FACTS §4.7)."""

from __future__ import annotations

import datetime as dt
import uuid

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from app.config import Settings
from app.sandbox.analytics_ledger import analytics
from app.sandbox.state import SandboxState
from tests.analytics.helpers import existing_request, link_and_sync, one_app_team, sync_analytics
from tests.fixtures.accounts import Tenant


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"initial_backfill_days": 1})


async def _requests(db: asyncpg.Connection) -> dict[str, asyncpg.Record]:
    rows = await db.fetch("SELECT * FROM analytics_requests ORDER BY access_type")
    return {row["access_type"]: row for row in rows}


async def _capability(
    client: httpx.AsyncClient, tenant: Tenant, account_id: uuid.UUID
) -> dict[str, object]:
    response = await client.get(f"/v1/accounts/{account_id}", headers=tenant.headers())
    assert response.status_code == 200, response.text
    capability: dict[str, object] = response.json()["capabilities"]["analytics"]
    return capability


async def test_an_admin_key_creates_the_ongoing_and_snapshot_requests_once(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    sandbox: SandboxState,
    db: asyncpg.Connection,
) -> None:
    key, sandbox_app = one_app_team(sandbox)
    account_id = await link_and_sync(app, client, tenant, key, db)

    ledger = analytics(sandbox)
    made = {r.access_type: r.id for r in ledger.requests.values() if r.app_id == sandbox_app.id}
    assert set(made) == {"ONGOING", "ONE_TIME_SNAPSHOT"}
    stored = await _requests(db)
    assert stored["ONGOING"]["apple_request_id"] == made["ONGOING"]
    assert stored["ONGOING"]["state"] == "active" and stored["ONGOING"]["created_by_orchard"]
    assert stored["ONE_TIME_SNAPSHOT"]["apple_request_id"] == made["ONE_TIME_SNAPSHOT"]
    assert (await _capability(client, tenant, account_id))["available"] is True

    # Apple publishes nothing for a day or two: nothing loaded, every date still to come.
    assert await db.fetchval("SELECT count(*) FROM analytics_instances") == 0
    today = sandbox.now().date()
    response = await client.get(
        "/v1/analytics",
        params={"from": str(today - dt.timedelta(days=2)), "to": str(today)},
        headers=tenant.headers(),
    )
    body = response.json()
    assert body["items"] == []
    assert {d["state"] for d in body["incomplete_dates"]} == {"not_yet_published"}

    # The next run reuses both: no second POST (Apple would answer 409).
    await sync_analytics(app, account_id, db)
    assert len([r for r in ledger.requests.values() if r.app_id == sandbox_app.id]) == 2
    assert (await _requests(db))["ONGOING"]["apple_request_id"] == made["ONGOING"]


async def test_a_sales_key_cannot_create_and_says_so_until_an_admin_has(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    sandbox: SandboxState,
    db: asyncpg.Connection,
) -> None:
    key, sandbox_app = one_app_team(sandbox, roles=("SALES",))
    account_id = await link_and_sync(app, client, tenant, key, db)

    assert not analytics(sandbox).requests, "the Sales key created nothing"
    stored = await _requests(db)
    assert stored["ONGOING"]["state"] == "admin_required"
    capability = await _capability(client, tenant, account_id)
    assert capability["available"] is False
    assert "an Admin must create the report request once" in str(capability["reason"])
    # A verification cannot see it (reading is allowed): the reason stays.
    verified = await client.post(f"/v1/accounts/{account_id}/verify", headers=tenant.headers())
    assert verified.status_code == 200, verified.text
    assert (await _capability(client, tenant, account_id))["available"] is False

    # An Admin creates it once; the Sales key then reads it.
    request_id = existing_request(sandbox, sandbox_app, days_ago=2)
    await sync_analytics(app, account_id, db)
    stored = await _requests(db)
    assert (stored["ONGOING"]["apple_request_id"], stored["ONGOING"]["state"]) == (
        request_id,
        "active",
    )
    assert (await _capability(client, tenant, account_id))["available"] is True
    assert await db.fetchval("SELECT count(*) FROM analytics_rows") > 0


async def test_a_request_apple_stopped_is_replaced_by_a_new_one(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    sandbox: SandboxState,
    db: asyncpg.Connection,
) -> None:
    key, sandbox_app = one_app_team(sandbox)
    old = existing_request(sandbox, sandbox_app, days_ago=3)
    ledger = analytics(sandbox)
    ledger.stop(old, sandbox.now() - dt.timedelta(days=1))
    await link_and_sync(app, client, tenant, key, db)

    ongoing = [r for r in ledger.requests.values() if r.access_type == "ONGOING"]
    assert [r.id for r in ongoing] != [old] and len(ongoing) == 1, "DELETE + POST"
    stored = (await _requests(db))["ONGOING"]
    assert stored["apple_request_id"] == ongoing[0].id
    assert stored["state"] == "active" and "stopped" in stored["detail"]

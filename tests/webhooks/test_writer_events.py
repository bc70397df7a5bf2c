"""The outbox is written by the transaction of the change: sales days, sync datasets failing
and recovering, credential statuses, and every changes-feed event (with the feed's id), and
nothing at all for a change that rolls back."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from app.config import Settings
from app.resources.changes import Change, EventType, SubjectType, record
from app.resources.units import AppRef
from app.sandbox import faults
from app.sandbox.state import SandboxState
from tests.fixtures.accounts import Tenant, link_account
from tests.fixtures.engine import drain, run_unit
from tests.webhooks.helpers import subscribe


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """One attempt per unit: a failing unit fails at once (the dataset is then failing)."""
    return settings.model_copy(update={"max_attempts": 1, "initial_backfill_days": 2})


async def _payloads(db: asyncpg.Connection, event_type: str) -> list[dict[str, Any]]:
    rows = await db.fetch(
        "SELECT body FROM webhook_events WHERE type = $1 ORDER BY created_at, id", event_type
    )
    return [json.loads(row["body"]) for row in rows]


async def test_a_published_sales_day_is_announced_once_with_its_totals(
    hooked: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    sandbox: SandboxState,
    db: asyncpg.Connection,
) -> None:
    key = sandbox.add_key("acme")
    account_id = await link_account(client, tenant, key)
    await subscribe(client, tenant, "/sales", ["sales.day_published"])
    day = (dt.datetime.now(dt.UTC) - dt.timedelta(days=3)).date().isoformat()
    await run_unit(hooked, account_id, "sales_daily", day)
    [event] = await _payloads(db, "sales.day_published")
    data = event["data"]
    assert (data["report_date"], data["account_id"], data["dataset"]) == (
        day,
        str(account_id),
        "sales_daily",
    )
    assert data["state"] in ("published", "no_data")
    sales = await client.get(
        "/v1/sales",
        params={"from": day, "to": day, "account_id": str(account_id)},
        headers=tenant.headers(),
    )
    assert sales.status_code == 200, sales.text
    items = sales.json()["items"]
    expected = items[0] if items else {}
    for measure in ("first_time_downloads", "redownloads", "refunds", "net_units", "proceeds"):
        assert data[measure] == expected.get(measure, [] if measure == "proceeds" else 0)
    await run_unit(hooked, account_id, "sales_daily", day)  # a re-fetch: nothing new
    assert len(await _payloads(db, "sales.day_published")) == 1


async def test_a_failing_dataset_and_its_recovery_are_announced(
    hooked: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    sandbox: SandboxState,
    db: asyncpg.Connection,
) -> None:
    key = sandbox.add_key("acme")
    account_id = await link_account(client, tenant, key, vendor=False)
    await subscribe(client, tenant, "/ops", ["sync.dataset_failing", "sync.dataset_recovered"])
    faults.inject(sandbox, faults.FaultPlan(rate=1.0, kinds=frozenset({faults.Fault.SERVER_ERROR})))
    await drain(hooked)
    failing = await _payloads(db, "sync.dataset_failing")
    assert failing and {e["data"]["state"] for e in failing} == {"failing"}
    assert all(e["data"]["account_id"] == str(account_id) for e in failing)
    datasets = {e["data"]["dataset"] for e in failing}
    assert "apps" in datasets and len(datasets) == len(failing)  # once per dataset
    faults.clear(sandbox)
    response = await client.post(
        f"/v1/accounts/{account_id}/sync", json={"datasets": ["apps"]}, headers=tenant.headers()
    )
    assert response.status_code == 202, response.text
    await drain(hooked)
    [recovered] = await _payloads(db, "sync.dataset_recovered")
    assert recovered["data"]["dataset"] == "apps" and recovered["data"]["state"] != "failing"
    assert recovered["data"]["last_success_at"] is not None


async def test_credential_status_changes_are_announced(
    hooked: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    sandbox: SandboxState,
    db: asyncpg.Connection,
) -> None:
    key = sandbox.add_key("acme")
    account_id = await link_account(client, tenant, key, vendor=False)
    await subscribe(client, tenant, "/ops", ["account.credential_status_changed"])
    key.revoked = True
    await drain(hooked)
    [revoked] = await _payloads(db, "account.credential_status_changed")
    assert revoked["data"]["credential_status"] == "revoked_or_invalid"
    assert revoked["data"]["previous_credential_status"] == "active"
    key.revoked = False
    verified = await client.post(f"/v1/accounts/{account_id}/verify", headers=tenant.headers())
    assert verified.status_code == 200, verified.text
    events = await _payloads(db, "account.credential_status_changed")
    assert [e["data"]["credential_status"] for e in events] == ["revoked_or_invalid", "active"]
    account = (await client.get(f"/v1/accounts/{account_id}", headers=tenant.headers())).json()
    shown = {k: v for k, v in events[-1]["data"].items() if k != "previous_credential_status"}
    detail_only = {"previous_keys", "apple_webhooks"}  # the detail view adds these
    assert shown == {k: v for k, v in account.items() if k not in detail_only}
    assert key.private_key_pem.splitlines()[1] not in json.dumps(events)


async def test_feed_events_land_in_the_outbox_with_the_feed_id_or_not_at_all(
    hooked: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    sandbox: SandboxState,
    db: asyncpg.Connection,
) -> None:
    key = sandbox.add_key("acme")
    account_id = await link_account(client, tenant, key, vendor=False)
    await run_unit(hooked, account_id, "apps", "all")
    app_row = await db.fetchrow("SELECT id, apple_id FROM apps LIMIT 1")
    await subscribe(client, tenant, "/rel", ["app_version.state_changed"])
    ref = AppRef(app_row["id"], app_row["apple_id"], tenant.workspace_id, account_id, None)
    change = Change(
        EventType.VERSION_STATE_CHANGED, SubjectType.APP_VERSION, "v1", "IN_REVIEW", "ACCEPTED"
    )
    subject = uuid.uuid4()

    class Boom(Exception):
        pass

    async def failing_unit() -> None:
        async with hooked.state.sessionmaker() as session, session.begin():
            await record(session, ref, [change], {"v1": subject}, dt.datetime.now(dt.UTC))
            raise Boom  # the unit failed after recording: its events go with it

    with pytest.raises(Boom):
        await failing_unit()
    assert await db.fetchval("SELECT count(*) FROM webhook_events") == 0
    assert await db.fetchval("SELECT count(*) FROM events") == 0

    async with hooked.state.sessionmaker() as session, session.begin():
        await record(session, ref, [change], {"v1": subject}, dt.datetime.now(dt.UTC))
    [event] = await _payloads(db, "app_version.state_changed")
    feed = (await client.get("/v1/events", headers=tenant.headers())).json()["items"]
    assert event["data"] == feed[0] and event["id"] == feed[0]["id"]
    assert await db.fetchval("SELECT count(*) FROM webhook_deliveries") == 1

"""Without ORCHARD_PUBLIC_URL Apple cannot reach Orchard: no webhook is registered, the account
says why, and data is polled as always."""

from __future__ import annotations

import asyncpg
import httpx
from fastapi import FastAPI

from app.apple_webhooks.jobs import NO_PUBLIC_URL
from app.sandbox.state import SandboxState
from tests.fixtures.accounts import Tenant, link_account
from tests.fixtures.engine import drain


async def test_without_a_public_url_webhooks_are_off_and_say_why(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    sandbox: SandboxState,
    db: asyncpg.Connection,
) -> None:
    assert app.state.settings.public_url is None
    account_id = await link_account(client, tenant, sandbox.add_key(roles=("ADMIN",)))
    await db.execute("DELETE FROM sync_jobs WHERE dataset <> 'apple_webhooks'")
    sandbox.clear_requests()
    assert await drain(app) == 1
    assert sandbox.requests == []  # not one request to Apple
    assert not [r for r in sandbox.requests if "webhook" in r.path]
    response = await client.get(f"/v1/accounts/{account_id}", headers=tenant.headers())
    state = response.json()["apple_webhooks"]
    assert state == {
        "state": "off",
        "reason": NO_PUBLIC_URL,
        "registered_apps": [],
        "checked_at": state["checked_at"],
        "last_delivery_at": None,
        "last_error": None,
        "last_error_at": None,
    }
    assert state["checked_at"] is not None

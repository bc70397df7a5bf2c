"""TestFlight feedback: the ``beta_feedback`` dataset against the sandbox, its API, and a
feedback webhook refreshing exactly that app."""

from __future__ import annotations

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from app.config import Settings
from app.sandbox.catalog import team_apps
from app.sandbox.feedback.model import add_feedback, app_feedback, feedback_ledger
from app.sandbox.state import SandboxState
from app.sandbox.webhooks.delivery import asgi_sender
from app.sandbox.webhooks.hub import webhooks
from app.sandbox.webhooks.scanner import FEEDBACK_CREATED
from tests.fixtures.accounts import Tenant, link_account
from tests.fixtures.engine import drain

DATASETS = ["apps", "builds", "beta_feedback", "apple_webhooks"]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"public_url": "https://orchard.example.test"})


async def test_feedback_is_stored_listed_and_refreshed_by_its_webhook(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    sandbox: SandboxState,
    db: asyncpg.Connection,
) -> None:
    hub = webhooks(sandbox)
    hub.sender = asgi_sender(app)
    feedback_ledger(sandbox).volume = 3  # several submissions per app
    key = sandbox.add_key(roles=("ADMIN",))
    apps = team_apps(key.team)
    await link_account(client, tenant, key)
    await db.execute("DELETE FROM sync_jobs WHERE NOT (dataset = ANY($1::text[]))", DATASETS)
    await drain(app, plan=True)

    now = sandbox.now()
    for sandbox_app in apps:
        for kind in ("crash", "screenshot"):
            served = {f.id for f in app_feedback(sandbox, key.team, sandbox_app, kind, now)}
            stored = await db.fetch(
                "SELECT f.apple_id FROM beta_feedback f JOIN apps a ON a.id = f.app_id "
                "WHERE a.apple_id = $1 AND f.kind = $2",
                sandbox_app.id,
                kind,
            )
            assert {r["apple_id"] for r in stored} == served, (sandbox_app.id, kind)
    busiest = max(apps, key=lambda a: len(app_feedback(sandbox, key.team, a, "screenshot", now)))
    app_id = await db.fetchval("SELECT id FROM apps WHERE apple_id = $1", busiest.id)
    url = f"/v1/apps/{app_id}/beta-feedback"
    shots = await client.get(url, params={"type": "screenshot"}, headers=tenant.headers())
    assert shots.status_code == 200, shots.text
    items = shots.json()["items"]
    expected = app_feedback(sandbox, key.team, busiest, "screenshot", now)
    assert [i["apple_id"] for i in items] == [f.id for f in reversed(expected)][: len(items)]
    assert items and all(i["type"] == "screenshot" and i["screenshots"] for i in items)
    first = items[0]["screenshots"][0]
    assert first["url"] and first["width"] and first["expires_at"]
    assert items[0]["tester_email"] and items[0]["device_model"] and items[0]["os_version"]
    crashes = (
        await client.get(url, params={"type": "crash", "limit": 2}, headers=tenant.headers())
    ).json()
    for item in crashes["items"]:
        assert item["crash_log_url"].endswith(
            f"/betaFeedbackCrashSubmissions/{item['apple_id']}/crashLog"
        )
    # Filter by Orchard's build id.
    some = items[0]
    assert some["build_id"] is not None
    on_build = await client.get(
        url, params={"build_id": some["build_id"]}, headers=tenant.headers()
    )
    assert on_build.json()["items"]
    assert {i["build_apple_id"] for i in on_build.json()["items"]} == {some["build_apple_id"]}
    bad = await client.get(
        url,
        params={"from": "2026-02-02T00:00:00Z", "to": "2026-01-01T00:00:00Z"},
        headers=tenant.headers(),
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "query.from"

    # A tester sends a crash now: Apple's webhook brings it in, for that app only.
    added = add_feedback(sandbox, key.team, busiest, "crash", sandbox.now(), comment="boom")
    assert added is not None
    hub.emit(key.team, busiest, FEEDBACK_CREATED["crash"], added.id)
    attempts = await hub.deliver_due()
    assert any(a.status == 200 and busiest.id in a.url for a in attempts)
    queued = await db.fetch("SELECT dataset, unit_key FROM sync_jobs WHERE state = 'queued'")
    assert [(r["dataset"], r["unit_key"]) for r in queued] == [("beta_feedback", busiest.id)]
    await drain(app)
    newest = (await client.get(url, params={"type": "crash"}, headers=tenant.headers())).json()
    assert newest["items"][0]["apple_id"] == added.id
    assert newest["items"][0]["comment"] == "boom"

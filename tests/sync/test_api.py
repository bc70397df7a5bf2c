"""Sync status, availability and backfill requests over HTTP, and the engine's metrics."""

import datetime as dt

import asyncpg
import httpx
from fastapi import FastAPI

from app.config import Settings
from app.registry import worker_parts
from app.reports.calendar import latest_daily
from app.sandbox.sales import is_no_sales_day
from app.sandbox.state import SandboxState
from app.sync.worker import SyncWorker
from tests.fixtures.accounts import Tenant, link_account
from tests.fixtures.engine import drain, run_unit
from tests.sync.helpers import daily_units, today_pacific


async def test_availability_says_what_apple_said_per_date(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    sandbox: SandboxState,
    db: asyncpg.Connection,
) -> None:
    key = sandbox.add_key("acme")
    account_id = await link_account(client, tenant, key)
    await drain(app)
    today = today_pacific()
    # Today's report does not exist yet: Apple says so, and Orchard asks again later.
    await run_unit(app, account_id, "sales_daily", today.isoformat())
    job = await db.fetchrow(
        "SELECT state, run_after FROM sync_jobs WHERE dataset = 'sales_daily' AND unit_key = $1",
        today.isoformat(),
    )
    assert job["state"] == "waiting"
    assert job["run_after"] > dt.datetime.now(dt.UTC)

    fetched = await daily_units(db, account_id)
    start = fetched[0] - dt.timedelta(days=3)
    response = await client.get(
        f"/v1/accounts/{account_id}/availability",
        params={"dataset": "sales_daily", "from": start.isoformat(), "to": today.isoformat()},
        headers=tenant.headers(),
    )
    assert response.status_code == 200, response.text
    entries = {e["report_date"]: e for e in response.json()["items"]}
    assert len(entries) == (today - start).days + 1
    for day in fetched:
        if day == today:
            continue
        entry = entries[day.isoformat()]
        expected = "no_data" if is_no_sales_day(key.team, day) else "published"
        assert entry["state"] == expected, day
        assert entry["fetched_at"] is not None
        if expected == "published":
            assert entry["row_count"] > 0
    assert entries[today.isoformat()]["state"] == "not_yet_published"
    assert entries[today.isoformat()]["row_count"] == 0
    assert entries[start.isoformat()]["state"] == "not_fetched"
    assert entries[start.isoformat()]["row_count"] is None


async def test_availability_and_sync_reject_bad_requests(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    sandbox: SandboxState,
) -> None:
    account_id = await link_account(client, tenant, sandbox.add_key("acme"))
    url = f"/v1/accounts/{account_id}/availability"
    cases = [
        ({"dataset": "nope", "from": "2026-01-01", "to": "2026-01-02"}, "query.dataset"),
        ({"dataset": "apps", "from": "2026-01-01", "to": "2026-01-02"}, "query.dataset"),
        ({"dataset": "sales_daily", "from": "2026-02-01", "to": "2026-01-02"}, "query.from"),
        ({"dataset": "sales_daily", "from": "2020-01-01", "to": "2026-01-02"}, "query.to"),
        ({"dataset": "sales_daily", "from": "yesterday", "to": "2026-01-02"}, "query.from"),
    ]
    for params, field in cases:
        response = await client.get(url, params=params, headers=tenant.headers())
        assert response.status_code == 422, params
        assert response.json()["errors"][0]["field"] == field, response.text

    sync = f"/v1/accounts/{account_id}/sync"
    today = dt.date.today()
    bad_bodies = [
        (
            {"datasets": ["sales_daily"], "from": (today - dt.timedelta(days=400)).isoformat()},
            "body.from",
        ),
        ({"datasets": ["nope"]}, "body.datasets"),
        ({"datasets": []}, "body.datasets"),
        ({"datasets": ["sales_daily"], "from": "2026-02-02", "to": "2026-02-01"}, "body.from"),
        (
            {"datasets": ["sales_daily"], "to": (today + dt.timedelta(days=3)).isoformat()},
            "body.to",
        ),
    ]
    before = await client.get(f"/v1/accounts/{account_id}/sync-status", headers=tenant.headers())
    for body, field in bad_bodies:
        response = await client.post(sync, json=body, headers=tenant.headers())
        assert response.status_code == 422, body
        assert response.json()["errors"][0]["field"] == field, response.text
    after = await client.get(f"/v1/accounts/{account_id}/sync-status", headers=tenant.headers())
    assert [e["units"] for e in after.json()["items"]] == [
        e["units"] for e in before.json()["items"]
    ]


async def test_sync_status_tells_ops_what_is_healthy_and_why_not(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    other_tenant: Tenant,
    sandbox: SandboxState,
) -> None:
    healthy = await link_account(client, tenant, sandbox.add_key("acme"))
    developer = await link_account(client, tenant, sandbox.add_key("acme", roles=["DEVELOPER"]))
    await drain(app)

    response = await client.get("/v1/sync-status", headers=tenant.headers())
    assert response.status_code == 200
    entries = {(e["account_id"], e["dataset"]): e for e in response.json()["items"]}
    apps = entries[(str(healthy), "apps")]
    assert apps["state"] == "ok"
    assert apps["last_success_at"] is not None
    assert apps["last_unit_requests"] == 1  # three apps, one page
    assert apps["rate_budget"]["limit"] == 3600
    daily = entries[(str(healthy), "sales_daily")]
    assert daily["state"] == "ok", daily
    assert daily["latest_expected_date"] == latest_daily(dt.datetime.now(dt.UTC)).isoformat()
    assert daily["lag_days"] == 0
    assert daily["units"]["failed"] == 0

    blocked = entries[(str(developer), "sales_daily")]
    assert blocked["state"] == "disabled_missing_capability"
    assert "Admin, Finance or Sales" in blocked["reason"]
    assert entries[(str(developer), "apps")]["state"] == "ok"

    one = await client.get(f"/v1/accounts/{healthy}/sync-status", headers=tenant.headers())
    assert {e["account_id"] for e in one.json()["items"]} == {str(healthy)}
    foreign = other_tenant.headers()
    assert (
        await client.get(f"/v1/accounts/{healthy}/sync-status", headers=foreign)
    ).status_code == 404
    assert (await client.get("/v1/sync-status", headers=foreign)).json()["items"] == []
    assert (
        await client.post(
            f"/v1/accounts/{healthy}/sync", json={"datasets": ["apps"]}, headers=foreign
        )
    ).status_code == 404


async def test_metrics_show_units_queue_apple_calls_and_budgets(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    sandbox: SandboxState,
    settings: Settings,
) -> None:
    key = sandbox.add_key("acme")
    await link_account(client, tenant, key)
    worker = SyncWorker(
        settings,
        app.state.sessionmaker,
        app.state.asc_clients,
        worker_parts(settings),
        app.state.metrics,
    )
    while await worker.runner.run_once():
        pass
    text = (await client.get("/metrics")).text
    assert 'orchard_sync_units_total{dataset="apps",outcome="done"} 1.0' in text
    assert 'orchard_sync_units_total{dataset="sales_daily",outcome="published"}' in text
    assert 'orchard_asc_requests_total{status="200"}' in text
    assert f'orchard_asc_budget_remaining{{key_id="{key.key_id}"}}' in text
    assert 'orchard_sync_queue_depth{state="queued"} 0.0' in text
    assert "orchard_sync_lease_expiries_total 0.0" in text

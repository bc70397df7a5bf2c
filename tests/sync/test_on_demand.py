"""On-demand sync: a refresh the caller asks for runs now, every unit of the dataset (per-app
units included), ahead of routine work, without duplicate work, and its progress is visible."""

from __future__ import annotations

import datetime as dt
import uuid

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from app.sandbox.catalog import team_apps
from app.sandbox.review_ledger import ledger
from app.sandbox.reviews import visible_reviews
from app.sandbox.state import SandboxState, utc_now
from app.sync import queue
from app.sync.contract import Priority
from app.sync.on_demand import ON_DEMAND_DATED_UNITS
from tests.fixtures.accounts import Tenant, link_account
from tests.fixtures.engine import drain
from tests.reviews.helpers import NOW, FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
def sandbox(clock: FakeClock) -> SandboxState:
    state = SandboxState(seed=11, clock=clock)
    state.token_clock = utc_now  # Orchard mints its tokens with the real time
    return state


async def _only(db: asyncpg.Connection, *datasets: str) -> None:
    """Keep only the named datasets' units (what linking queued for the rest is not under test)."""
    await db.execute("DELETE FROM sync_jobs WHERE NOT (dataset = ANY($1::text[]))", list(datasets))


async def _progress(client: httpx.AsyncClient, tenant: Tenant, request_id: str) -> dict:  # type: ignore[type-arg]
    response = await client.get(f"/v1/sync-requests/{request_id}", headers=tenant.headers())
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def test_a_reviews_refresh_reruns_every_app_unit_even_when_just_synced(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    sandbox: SandboxState,
    clock: FakeClock,
    db: asyncpg.Connection,
) -> None:
    key = sandbox.add_key(roles=("ADMIN",))
    apps = team_apps(key.team)
    ledger(sandbox).volume = 8  # busy apps: half a day brings new reviews
    account_id = await link_account(client, tenant, key, vendor=False)
    await _only(db, "apps")
    await drain(app)
    sync = f"/v1/accounts/{account_id}/sync"
    first = await client.post(sync, json={"datasets": ["reviews"]}, headers=tenant.headers())
    assert first.status_code == 202, first.text
    assert first.json()["datasets"] == {"reviews": len(apps)}
    assert await drain(app) == len(apps)

    # New reviews at Apple, minutes after every app's unit succeeded (well inside the cadence).
    before = await db.fetchval("SELECT count(*) FROM customer_reviews")
    clock.advance(hours=12)
    sandbox.clear_requests()
    response = await client.post(sync, json={"datasets": ["reviews"]}, headers=tenant.headers())
    assert response.status_code == 202, response.text
    accepted = response.json()
    assert accepted["datasets"] == {"reviews": len(apps)}
    assert accepted["coalesced"] == 0
    jobs = await db.fetch("SELECT state, priority FROM sync_jobs WHERE dataset = 'reviews'")
    assert [(j["state"], j["priority"]) for j in jobs] == [("queued", Priority.MANUAL)] * len(apps)
    progress = await _progress(client, tenant, accepted["sync_request_id"])
    assert progress["state"] == "queued" and progress["finished_at"] is None
    assert progress["units"]["queued"] == len(apps)

    assert await drain(app) == len(apps)
    listed = {r.path for r in sandbox.requests if r.path.endswith("/customerReviews")}
    assert listed == {f"/v1/apps/{a.id}/customerReviews" for a in apps}
    for sandbox_app in apps:
        served = {r.id for r in visible_reviews(sandbox, key.team, sandbox_app, clock.now)}
        stored = await db.fetch(
            "SELECT apple_id FROM customer_reviews WHERE app_apple_id = $1 AND removed_at IS NULL",
            sandbox_app.id,
        )
        # Every review Apple lists now is stored (the oldest leave Apple's 400-day window:
        # only a weekly full pass marks those removed).
        assert served <= {row["apple_id"] for row in stored}
    assert await db.fetchval("SELECT count(*) FROM customer_reviews") > before
    done = await _progress(client, tenant, accepted["sync_request_id"])
    assert done["state"] == "succeeded"
    assert done["finished_at"] is not None
    assert done["units"] == {
        "total": len(apps),
        "queued": 0,
        "running": 0,
        "paused": 0,
        "succeeded": len(apps),
        "failed": 0,
    }
    assert done["per_dataset"]["reviews"]["succeeded"] == len(apps)


async def test_requests_coalesce_with_queued_and_running_units(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    sandbox: SandboxState,
    db: asyncpg.Connection,
) -> None:
    account_id = await link_account(client, tenant, sandbox.add_key(roles=("ADMIN",)))
    await _only(db, "apps", "team")
    # `apps` is queued at routine priority; `team` is taken by a worker before the request.
    async with app.state.sessionmaker() as session, session.begin():
        await session.execute(
            queue.text("UPDATE sync_jobs SET priority = 1, state = 'paused' WHERE dataset = 'apps'")
        )
        running = await queue.claim(
            session,
            worker_id="busy-worker",
            lease=dt.timedelta(minutes=5),
            key_concurrency=4,
            budget_reserve=0,
        )
        await session.execute(
            queue.text("UPDATE sync_jobs SET state = 'queued' WHERE dataset = 'apps'")
        )
    assert running is not None and running.dataset == "team"
    sync = f"/v1/accounts/{account_id}/sync"
    body = {"datasets": ["apps", "team"]}
    response = await client.post(sync, json=body, headers=tenant.headers())
    assert response.status_code == 202, response.text
    accepted = response.json()
    assert accepted["enqueued"] == 2 and accepted["coalesced"] == 2
    again = (await client.post(sync, json=body, headers=tenant.headers())).json()
    assert again["coalesced"] == 2
    jobs = {
        r["dataset"]: r
        for r in await db.fetch("SELECT dataset, state, priority, rerun_priority FROM sync_jobs")
    }
    assert len(jobs) == 2  # no duplicate units
    assert (jobs["apps"]["state"], jobs["apps"]["priority"]) == ("queued", Priority.MANUAL)
    assert jobs["team"]["state"] == "running"
    assert jobs["team"]["rerun_priority"] == Priority.MANUAL
    progress = await _progress(client, tenant, accepted["sync_request_id"])
    # The run in progress began before the request: it does not count as the refresh.
    assert progress["units"]["running"] == 0 and progress["units"]["queued"] == 2

    # That run ends: the unit goes straight back to the queue instead of resting.
    async with app.state.sessionmaker() as session, session.begin():
        assert await queue.finish(
            session, running.id, "busy-worker", state=queue.SUCCEEDED, settles=queue.SUCCEEDED
        )
    team = await db.fetchrow(
        "SELECT state, priority, rerun_priority FROM sync_jobs WHERE dataset = 'team'"
    )
    assert dict(team) == {"state": "queued", "priority": Priority.MANUAL, "rerun_priority": None}
    assert (await _progress(client, tenant, accepted["sync_request_id"]))["units"]["queued"] == 2

    assert await drain(app) == 2  # each unit ran once more, once
    for request_id in (accepted["sync_request_id"], again["sync_request_id"]):
        done = await _progress(client, tenant, request_id)
        assert done["state"] == "succeeded", done
        assert done["units"]["succeeded"] == 2


async def test_on_demand_units_run_before_routine_and_backfill_work(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    sandbox: SandboxState,
    db: asyncpg.Connection,
) -> None:
    account_id = await link_account(client, tenant, sandbox.add_key(roles=("ADMIN",)))
    queued_before = await db.fetchval("SELECT count(*) FROM sync_jobs WHERE state = 'queued'")
    assert queued_before > 5  # the initial backfill and routine units wait
    await db.execute("UPDATE sync_jobs SET state = 'succeeded' WHERE dataset = 'apps'")
    today = dt.datetime.now(dt.UTC).date()
    response = await client.post(
        f"/v1/accounts/{account_id}/sync",
        json={
            "datasets": ["apps", "sales_daily"],
            "from": (today - dt.timedelta(days=60)).isoformat(),
            "to": (today - dt.timedelta(days=2)).isoformat(),
        },
        headers=tenant.headers(),
    )
    assert response.status_code == 202, response.text
    assert response.json()["datasets"] == {"apps": 1, "sales_daily": 59}
    rows = await db.fetch(
        "SELECT unit_key, priority FROM sync_jobs WHERE dataset = 'sales_daily' "
        "AND unit_key <= $1 ORDER BY unit_key DESC",
        (today - dt.timedelta(days=2)).isoformat(),
    )
    manual = [r["unit_key"] for r in rows if r["priority"] == Priority.MANUAL]
    # The newest dates of a long range run on demand; the tail is a backfill.
    assert len(manual) == ON_DEMAND_DATED_UNITS
    assert manual == [r["unit_key"] for r in rows[:ON_DEMAND_DATED_UNITS]]
    assert {r["priority"] for r in rows[ON_DEMAND_DATED_UNITS:]} == {Priority.BACKFILL}
    claimed = []
    async with app.state.sessionmaker() as session, session.begin():
        for n in range(ON_DEMAND_DATED_UNITS + 1):
            job = await queue.claim(
                session,
                worker_id=f"w{n}",
                lease=dt.timedelta(minutes=5),
                key_concurrency=100,
                budget_reserve=0,
            )
            assert job is not None
            claimed.append((job.dataset, job.priority))
    assert all(priority == Priority.MANUAL for _, priority in claimed)
    assert ("apps", Priority.MANUAL) in claimed


async def test_workspace_sync_covers_every_account_and_says_what_it_skipped(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    other_tenant: Tenant,
    sandbox: SandboxState,
    db: asyncpg.Connection,
) -> None:
    admin = await link_account(client, tenant, sandbox.add_key("acme", roles=("ADMIN",)))
    developer = await link_account(client, tenant, sandbox.add_key("beta", roles=("DEVELOPER",)))
    foreign = await link_account(client, other_tenant, sandbox.add_key("gamma"))
    await db.execute("DELETE FROM sync_jobs")
    response = await client.post(
        "/v1/sync", json={"datasets": ["apps", "sales_daily"]}, headers=tenant.headers()
    )
    assert response.status_code == 202, response.text
    accepted = response.json()
    assert accepted["accounts"] == 2
    assert [(s["account_id"], s["dataset"]) for s in accepted["skipped"]] == [
        (str(developer), "sales_daily")
    ]
    assert "Admin, Finance or Sales" in accepted["skipped"][0]["reason"]
    owners = await db.fetch("SELECT DISTINCT account_id, dataset FROM sync_jobs")
    pairs = {(r["account_id"], r["dataset"]) for r in owners}
    assert (admin, "apps") in pairs and (developer, "apps") in pairs
    assert (admin, "sales_daily") in pairs and (developer, "sales_daily") not in pairs
    assert foreign not in {account for account, _ in pairs}
    assert accepted["datasets"]["apps"] == 2
    assert accepted["enqueued"] == sum(accepted["datasets"].values())

    request_id = accepted["sync_request_id"]
    assert (
        await client.get(f"/v1/sync-requests/{request_id}", headers=other_tenant.headers())
    ).status_code == 404
    assert (
        await client.get(f"/v1/sync-requests/{uuid.uuid4()}", headers=tenant.headers())
    ).status_code == 404
    bad = await client.post("/v1/sync", json={"datasets": ["nope"]}, headers=tenant.headers())
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "body.datasets"
    assert await db.fetchval("SELECT count(*) FROM sync_requests") == 1

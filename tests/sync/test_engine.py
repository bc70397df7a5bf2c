"""The sync engine in one process: initial backfill, idempotent units, concurrent workers,
per-key caps and budgets, credential pauses, retries, fairness, graceful shutdown."""

import asyncio
import datetime as dt

import asyncpg
import httpx
import sqlalchemy
from fastapi import FastAPI

from app.config import Settings
from app.registry import worker_parts
from app.sandbox.state import SandboxState
from app.sync.on_demand import ON_DEMAND_DATED_UNITS
from app.sync.worker import SyncWorker
from tests.fixtures.accounts import Tenant, link_account
from tests.fixtures.engine import drain
from tests.sync.helpers import (
    daily_units,
    expected_daily_rows,
    job_states,
    run_workers_until,
    stored_daily_rows,
)


async def test_linking_queues_the_initial_backfill_and_it_completes(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    sandbox: SandboxState,
    db: asyncpg.Connection,
) -> None:
    key = sandbox.add_key("acme")
    account_id = await link_account(client, tenant, key)
    datasets = dict(
        await db.fetch(
            "SELECT dataset, count(*) FROM sync_jobs WHERE account_id = $1 GROUP BY 1", account_id
        )
    )
    assert datasets["apps"] == 1
    # ORCHARD_INITIAL_BACKFILL_DAYS=6 plus the routine plan's last 7 published days.
    assert 7 <= datasets["sales_daily"] <= 8
    assert {"sales_weekly", "sales_monthly", "sales_yearly"} <= set(datasets)

    ran = await drain(app)
    assert ran >= sum(datasets.values())
    assert set(await job_states(db, account_id)) == {"succeeded"}
    days = await daily_units(db, account_id)
    expected = {d: n for d, n in expected_daily_rows(sandbox, key, days).items() if n}
    assert await stored_daily_rows(db, account_id) == expected
    assert await db.fetchval("SELECT count(*) FROM apps WHERE account_id = $1", account_id) == 3

    # Every unit is idempotent: running them all again leaves the same rows.
    before = await db.fetchval("SELECT count(*) FROM sales_rows")
    response = await client.post(
        f"/v1/accounts/{account_id}/sync",
        json={
            "datasets": ["sales_daily", "apps"],
            "from": days[0].isoformat(),
            "to": days[-1].isoformat(),
        },
        headers=tenant.headers(),
    )
    assert response.status_code == 202
    assert response.json()["datasets"] == {"sales_daily": len(days), "apps": 1}
    await drain(app)
    assert await db.fetchval("SELECT count(*) FROM sales_rows") == before
    assert await stored_daily_rows(db, account_id) == expected


async def test_two_workers_share_the_queue_without_running_a_unit_twice(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    sandbox: SandboxState,
    db: asyncpg.Connection,
    settings: Settings,
) -> None:
    keys = [sandbox.add_key(f"team{n}") for n in range(3)]
    accounts = [await link_account(client, tenant, key) for key in keys]
    total = sum((await job_states(db)).values())
    # The units queued at link (units the workers' scheduler plans meanwhile do not count).
    linked = {row["id"] for row in await db.fetch("SELECT id FROM sync_jobs")}
    sandbox.latency_seconds = 0.01
    sandbox.clear_requests()
    # This test is about claiming: a lease that lapses while a loaded machine stalls the event
    # loop hands its unit to the other worker by design (at-least-once), so leases here outlast
    # any stall and a second request for a report can only come from a double claim.
    settings = settings.model_copy(update={"lease_seconds": 600.0})

    workers = [
        SyncWorker(
            settings,
            app.state.sessionmaker,
            app.state.asc_clients,
            worker_parts(settings),
            concurrency=3,
        )
        for _ in range(2)
    ]
    await run_workers_until(workers, db, total, among=linked)

    owners = await db.fetch("SELECT DISTINCT lease_owner FROM sync_jobs")
    assert owners == [{"lease_owner": None}] or all(o["lease_owner"] is None for o in owners)
    # Each report was requested exactly once: no unit ran twice, none was lost.
    report_requests = [
        (
            r.key_id,
            dict(r.query).get("filter[reportType]"),
            dict(r.query).get("filter[frequency]"),
            dict(r.query).get("filter[reportDate]"),
        )
        for r in sandbox.requests
        if r.path == "/v1/salesReports" and dict(r.query).get("filter[reportType]") == "SALES"
    ]
    assert len(report_requests) == len(set(report_requests))
    assert len(report_requests) == await db.fetchval(
        "SELECT count(*) FROM sync_jobs WHERE dataset LIKE 'sales_%'"
    )
    for key, account_id in zip(keys, accounts, strict=True):
        days = await daily_units(db, account_id)
        expected = {d: n for d, n in expected_daily_rows(sandbox, key, days).items() if n}
        assert await stored_daily_rows(db, account_id) == expected
    # Both workers did some of the work.
    assert all(w.runner is not None for w in workers)


async def test_per_key_concurrency_is_capped_across_workers(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    sandbox: SandboxState,
    db: asyncpg.Connection,
    settings: Settings,
) -> None:
    key = sandbox.add_key("acme")
    await link_account(client, tenant, key)
    total = sum((await job_states(db)).values())
    sandbox.latency_seconds = 0.05
    capped = settings.model_copy(update={"key_concurrency": 2})
    workers = [
        SyncWorker(
            capped,
            app.state.sessionmaker,
            app.state.asc_clients,
            worker_parts(capped),
            concurrency=3,
        )
        for _ in range(3)
    ]
    await run_workers_until(workers, db, total)
    # Nine runners wanted the key; two at a time got it (and the cap was reached).
    assert sandbox.max_concurrency[key.key_id] == 2


async def test_budget_reserve_stops_workers_before_apple_says_429(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    sandbox: SandboxState,
    db: asyncpg.Connection,
) -> None:
    key = sandbox.add_key("acme", hour_limit=20)
    account_id = await link_account(client, tenant, key)
    await drain(app)
    statuses = [r.status for r in sandbox.requests if r.key_id == key.key_id]
    assert 429 not in statuses
    budget = await db.fetchrow("SELECT * FROM asc_key_budgets WHERE key_id = $1", key.key_id)
    assert budget["remaining"] >= 1  # stopped at the reserve (3), never past the budget
    assert budget["blocked_until"] is not None
    left = await job_states(db, account_id)
    assert left.get("queued", 0) + left.get("waiting", 0) > 0  # held back, not failed
    assert left.get("failed", 0) == 0
    attempts = await db.fetchval(
        "SELECT max(attempts) FROM sync_jobs WHERE account_id = $1 AND state <> 'succeeded'",
        account_id,
    )
    assert attempts == 0  # a deferral is not a failed attempt

    status = (
        await client.get(f"/v1/accounts/{account_id}/sync-status", headers=tenant.headers())
    ).json()["items"]
    apps_status = next(entry for entry in status if entry["dataset"] == "sales_daily")
    assert apps_status["rate_budget"]["limit"] == 20
    assert apps_status["rate_budget"]["blocked_until"] is not None


async def test_revoked_key_pauses_the_account_without_a_retry_storm(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    sandbox: SandboxState,
    db: asyncpg.Connection,
) -> None:
    key = sandbox.add_key("acme")
    account_id = await link_account(client, tenant, key)
    key.revoked = True
    sandbox.clear_requests()
    await drain(app)
    # One unit met the 401, re-minted once (a second 401), and the account stopped there.
    assert [r.status for r in sandbox.requests] == [401, 401]
    account = (await client.get(f"/v1/accounts/{account_id}", headers=tenant.headers())).json()
    assert account["credential_status"] == "revoked_or_invalid"
    states = await job_states(db, account_id)
    assert set(states) == {"paused"}
    status = (
        await client.get(f"/v1/accounts/{account_id}/sync-status", headers=tenant.headers())
    ).json()["items"]
    assert {entry["state"] for entry in status} == {"paused_credentials"}

    # Fixing the key and verifying resumes everything.
    key.revoked = False
    verified = await client.post(f"/v1/accounts/{account_id}/verify", headers=tenant.headers())
    assert verified.json()["credential_status"] == "active"
    assert set(await job_states(db, account_id)) == {"queued"}
    await drain(app)
    assert set(await job_states(db, account_id)) == {"succeeded"}


async def test_apple_errors_are_retried_with_backoff_then_fail_with_the_error_kept(
    settings: Settings,
    tenant: Tenant,
    sandbox: SandboxState,
    db: asyncpg.Connection,
) -> None:
    from app.main import create_app
    from tests.fixtures.engine import INSTANT_RETRY

    calls = {"n": 0}

    def apple(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        return httpx.Response(
            503,
            json={
                "errors": [
                    {
                        "status": "503",
                        "code": "SERVICE_UNAVAILABLE",
                        "title": "down",
                        "detail": "try later",
                    }
                ]
            },
        )

    application = create_app(
        settings, asc_transport=httpx.MockTransport(apple), asc_retry=INSTANT_RETRY
    )
    async with (
        application.router.lifespan_context(application),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=application), base_url="http://t"
        ) as client,
    ):
        key = sandbox.add_key("acme")
        account_id = await link_account(client, tenant, key, verify=False)
        await db.execute("DELETE FROM sync_jobs WHERE dataset <> 'apps'")
        for _ in range(settings.max_attempts):
            await db.execute("UPDATE sync_jobs SET run_after = now() WHERE state = 'waiting'")
            await drain(application)
        job = await db.fetchrow("SELECT * FROM sync_jobs WHERE account_id = $1", account_id)
        assert job["state"] == "failed"
        assert job["attempts"] == settings.max_attempts
        assert job["last_error_code"] == "SERVICE_UNAVAILABLE"
        # Each unit attempt made the client's bounded retries (3), no more.
        assert calls["n"] == settings.max_attempts * 3
        status = (
            await client.get(f"/v1/accounts/{account_id}/sync-status", headers=tenant.headers())
        ).json()["items"]
        apps = next(entry for entry in status if entry["dataset"] == "apps")
        assert apps["state"] == "failing"
        assert apps["last_error"]["code"] == "SERVICE_UNAVAILABLE"
        assert apps["units"]["failed"] == 1


async def test_a_long_backfill_does_not_starve_another_accounts_routine_unit(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    sandbox: SandboxState,
    db: asyncpg.Connection,
    settings: Settings,
) -> None:
    from app.models import AscAccount
    from app.sync.scheduler import _enqueue, routine_units

    busy = await link_account(client, tenant, sandbox.add_key("busy"))
    quiet = await link_account(client, tenant, sandbox.add_key("quiet"))
    await db.execute("DELETE FROM sync_jobs")
    today = dt.datetime.now(dt.UTC).date()
    response = await client.post(
        f"/v1/accounts/{busy}/sync",
        json={"datasets": ["sales_daily"], "from": (today - dt.timedelta(days=364)).isoformat()},
        headers=tenant.headers(),
    )
    assert response.json()["enqueued"] >= 360
    # The newest dates run on demand (ahead of everything); the long tail is a backfill.
    manual = await db.fetchval(
        "SELECT count(*) FROM sync_jobs WHERE account_id = $1 AND priority = 0", busy
    )
    assert manual == ON_DEMAND_DATED_UNITS
    worker = SyncWorker(
        settings,
        app.state.sessionmaker,
        app.state.asc_clients,
        worker_parts(settings),
        concurrency=1,
    )
    for _ in range(manual):
        assert await worker.runner.run_once()  # the on-demand part; the backfill is next

    # The quiet account's scheduler round comes while 360 backfill units wait.
    daily = app.state.registry.get("sales_daily")
    assert daily is not None
    now = dt.datetime.now(dt.UTC)
    async with app.state.sessionmaker() as session, session.begin():
        account = await session.get(AscAccount, quiet)
        assert account is not None
        routine = await routine_units(session, account, daily, now)
        await _enqueue(session, account, daily, routine, now)
    for _ in range(len(routine)):
        assert await worker.runner.run_once()
    # Its routine units ran next, one after another: not one backfill unit before them.
    assert set(await job_states(db, quiet)) == {"succeeded"}
    assert (
        await db.fetchval(
            "SELECT count(*) FROM sync_jobs WHERE account_id = $1 AND state = 'succeeded'", busy
        )
        == manual
    )


async def test_backfills_of_two_accounts_interleave(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    sandbox: SandboxState,
    db: asyncpg.Connection,
    settings: Settings,
) -> None:
    first = await link_account(client, tenant, sandbox.add_key("one"), verify=False)
    second = await link_account(client, tenant, sandbox.add_key("two"), verify=False)
    await db.execute("DELETE FROM sync_jobs")
    today = dt.datetime.now(dt.UTC).date()
    for account_id, days in ((first, 200), (second, 20)):
        await client.post(
            f"/v1/accounts/{account_id}/sync",
            json={
                "datasets": ["sales_daily"],
                "from": (today - dt.timedelta(days=days)).isoformat(),
            },
            headers=tenant.headers(),
        )
    worker = SyncWorker(
        settings, app.state.sessionmaker, app.state.asc_clients, worker_parts(settings)
    )
    for _ in range(44):
        await worker.runner.run_once()
    # Round-robin: the 20-day backfill is done after ~2×20 units, not after the 200-day one.
    assert set(await job_states(db, second)) == {"succeeded"}


async def test_graceful_stop_hands_back_in_flight_units(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    sandbox: SandboxState,
    db: asyncpg.Connection,
    settings: Settings,
) -> None:
    key = sandbox.add_key("acme")
    await link_account(client, tenant, key)
    sandbox.latency_seconds = 2.0
    quick = settings.model_copy(update={"shutdown_timeout_seconds": 0.2})
    worker = SyncWorker(
        quick, app.state.sessionmaker, app.state.asc_clients, worker_parts(quick), concurrency=2
    )
    await worker.start()
    async with asyncio.timeout(10):
        while not (await job_states(db)).get("running"):
            await asyncio.sleep(0.05)
    started = asyncio.get_running_loop().time()
    await worker.stop()
    assert asyncio.get_running_loop().time() - started < 2.0
    states = await job_states(db)
    assert "running" not in states
    assert await db.fetchval("SELECT count(*) FROM sync_jobs WHERE lease_owner IS NOT NULL") == 0
    assert await db.fetchval("SELECT stopped_at IS NOT NULL FROM sync_workers") is True
    assert await db.fetchval("SELECT count(*) FROM sales_rows") == 0  # cancelled units rolled back


async def test_dead_workers_lease_expires_and_another_worker_finishes_the_unit(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    sandbox: SandboxState,
    db: asyncpg.Connection,
    settings: Settings,
) -> None:
    from app.sync import queue

    key = sandbox.add_key("acme")
    account_id = await link_account(client, tenant, key)
    # A worker claims a unit and dies without a word (its lease is simply never renewed).
    async with app.state.sessionmaker() as session, session.begin():
        job = await queue.claim(
            session,
            worker_id="dead-worker",
            lease=dt.timedelta(seconds=0.2),
            key_concurrency=2,
            budget_reserve=0,
        )
    assert job is not None
    await asyncio.sleep(0.3)
    await drain(app)
    row = await db.fetchrow("SELECT * FROM sync_jobs WHERE id = $1", job.id)
    assert row["state"] == "succeeded"
    assert row["attempts"] == 2
    days = await daily_units(db, account_id)
    expected = {d: n for d, n in expected_daily_rows(sandbox, key, days).items() if n}
    assert await stored_daily_rows(db, account_id) == expected


async def test_a_late_completion_by_a_worker_that_lost_its_lease_is_discarded(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    sandbox: SandboxState,
    db: asyncpg.Connection,
) -> None:
    from app.sync import queue

    key = sandbox.add_key("acme")
    await link_account(client, tenant, key)
    async with app.state.sessionmaker() as session, session.begin():
        job = await queue.claim(
            session,
            worker_id="slow-worker",
            lease=dt.timedelta(seconds=30),
            key_concurrency=2,
            budget_reserve=0,
        )
        assert job is not None
        # Another worker took the unit over after our lease expired.
        await session.execute(
            sqlalchemy.text("UPDATE sync_jobs SET lease_owner = 'other' WHERE id = :id"),
            {"id": job.id},
        )
    async with app.state.sessionmaker() as session, session.begin():
        held = await queue.finish(session, job.id, "slow-worker", state=queue.SUCCEEDED)
    assert held is False
    assert await db.fetchval("SELECT lease_owner FROM sync_jobs WHERE id = $1", job.id) == "other"


async def test_a_worker_without_the_encryption_key_hands_the_unit_back(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    sandbox: SandboxState,
    db: asyncpg.Connection,
    settings: Settings,
) -> None:
    from cryptography.fernet import Fernet

    from app.credentials.clients import AscClientFactory
    from app.credentials.crypto import CredentialCipher

    await link_account(client, tenant, sandbox.add_key("acme"))
    # A process started with the wrong ORCHARD_SECRET_KEYS (e.g. mid-rotation).
    stranger = AscClientFactory(
        app.state.asc_clients.http, settings.asc_base_url, CredentialCipher([Fernet.generate_key()])
    )
    worker = SyncWorker(settings, app.state.sessionmaker, stranger, worker_parts(settings))
    assert await worker.runner.run_once()
    row = await db.fetchrow("SELECT * FROM sync_jobs WHERE last_error_code IS NOT NULL")
    assert row["state"] == "waiting"  # handed back for a worker that has the key
    assert row["last_error_code"] == "credential_undecryptable"
    assert row["lease_owner"] is None
    await drain(app)  # the app's own worker holds the right key
    assert set(await job_states(db)) == {"succeeded"}

"""An on-demand sync is claimed at once by an idle worker (``LISTEN``/``NOTIFY`` on a connection
outside the pool), not at the worker's next poll; the listener survives a lost connection, and
a rolling stop of workers whose listeners wait loses no unit and logs no error."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid
from collections import Counter

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from app.config import Settings
from app.registry import worker_parts
from app.sandbox.state import SandboxState
from app.sync.worker import SyncWorker
from tests.fixtures.accounts import Tenant, link_account
from tests.sync.helpers import job_states, today_pacific

#: This test's database only: other tests (other databases) may run workers meanwhile.
LISTENERS = (
    "SELECT count(*) FROM pg_stat_activity "
    "WHERE application_name = 'orchard-listen' AND datname = current_database()"
)


def worker(app: FastAPI, settings: Settings) -> SyncWorker:
    return SyncWorker(
        settings, app.state.sessionmaker, app.state.asc_clients, worker_parts(settings)
    )


async def until(db: asyncpg.Connection, query: str, expected: object, timeout: float) -> None:
    async with asyncio.timeout(timeout):
        while await db.fetchval(query) != expected:
            await asyncio.sleep(0.02)


async def settled(db: asyncpg.Connection, timeout: float = 60) -> Counter[str]:
    async with asyncio.timeout(timeout):
        while True:
            states = await job_states(db)
            if states["queued"] + states["running"] == 0:
                return states
            await asyncio.sleep(0.02)


async def idle_worker(app: FastAPI, db: asyncpg.Connection, idle: Settings) -> SyncWorker:
    """A worker polling once a minute (``idle``), started once everything queued has run and
    its listener is connected: from then on, only a wake-up makes it claim within a minute."""
    started = worker(app, idle)
    await started.start()
    await settled(db)
    await until(db, LISTENERS, 1, timeout=10)
    await asyncio.sleep(0.3)  # its claim loops found nothing more and wait
    return started


async def claimed_within(
    client: httpx.AsyncClient,
    tenant: Tenant,
    db: asyncpg.Connection,
    account_id: uuid.UUID,
    seconds: float,
) -> None:
    """Ask for a sync of a day that already ran, and wait until a worker has taken its unit
    again (a claim sets ``started_at``)."""
    day = DAY
    before = await db.fetchval(
        "SELECT started_at FROM sync_jobs WHERE dataset = 'sales_daily' AND unit_key = $1", day
    )
    response = await client.post(
        f"/v1/accounts/{account_id}/sync",
        json={"datasets": ["sales_daily"], "from": day, "to": day},
        headers=tenant.headers(),
    )
    assert response.status_code == 202, response.text
    async with asyncio.timeout(seconds):
        while (
            await db.fetchval(
                "SELECT started_at FROM sync_jobs WHERE dataset = 'sales_daily' AND unit_key = $1",
                day,
            )
            == before
        ):
            await asyncio.sleep(0.02)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"initial_backfill_days": 12})


DAY = (today_pacific() - dt.timedelta(days=3)).isoformat()


async def only_sales_days(db: asyncpg.Connection, *days: str) -> None:
    """Park every unit but the daily sales reports (of ``days`` only, when given): the other
    units linking queued are not under test, and a parked unit is never planned again."""
    await db.execute(
        "UPDATE sync_jobs SET state = 'paused' WHERE NOT (dataset = 'sales_daily' "
        "AND (cardinality($1::text[]) = 0 OR unit_key = ANY($1::text[])))",
        list(days),
    )


@pytest.fixture
def idle(settings: Settings) -> Settings:
    # A minute between polls and scheduler rounds: a claim within 15 s (a loaded machine) is
    # the wake-up's.
    return settings.model_copy(update={"worker_poll_seconds": 60.0, "scheduler_seconds": 60.0})


async def test_an_idle_worker_claims_an_on_demand_unit_at_once(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    sandbox: SandboxState,
    db: asyncpg.Connection,
    idle: Settings,
) -> None:
    account_id = await link_account(client, tenant, sandbox.add_key("acme"))
    await only_sales_days(db, DAY)
    started = await idle_worker(app, db, idle)
    try:
        await claimed_within(client, tenant, db, account_id, seconds=15)
        await settled(db)
    finally:
        await started.stop()
    assert await db.fetchval(LISTENERS) == 0  # closed at stop, not left to the server


async def test_a_lost_listening_connection_is_replaced_and_wakes_the_worker_again(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    sandbox: SandboxState,
    db: asyncpg.Connection,
    idle: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    account_id = await link_account(client, tenant, sandbox.add_key("acme"))
    await only_sales_days(db, DAY)
    started = await idle_worker(app, db, idle)
    try:
        killed = await db.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE application_name = 'orchard-listen' AND datname = current_database()"
        )
        assert killed == 1
        # The worker goes on; its listener comes back (after a second) and wakes it again.
        await until(db, LISTENERS, 0, timeout=5)
        await until(db, LISTENERS, 1, timeout=10)
        await claimed_within(client, tenant, db, account_id, seconds=15)
        await settled(db)
    finally:
        await started.stop()
    assert any("lost the listening connection" in r.getMessage() for r in caplog.records)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_rolling_stop_while_units_run_and_listeners_wait_loses_no_unit(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    sandbox: SandboxState,
    db: asyncpg.Connection,
    settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    busy = settings.model_copy(
        update={
            "worker_poll_seconds": 0.02,
            "scheduler_seconds": 0.2,
            "worker_concurrency": 2,
            "lease_seconds": 60.0,
        }
    )
    for team in ("Rolling One", "Rolling Two"):
        await link_account(client, tenant, sandbox.add_key(sandbox.add_team(team, apps=1)))
    await only_sales_days(db)
    total = (await job_states(db))["queued"]
    assert total >= 20
    first, second = worker(app, busy), worker(app, busy)
    await first.start()
    await second.start()
    await until(db, LISTENERS, 2, timeout=10)
    async with asyncio.timeout(30):  # units are running when the first worker stops
        while (await job_states(db))["succeeded"] < 3:
            await asyncio.sleep(0.02)
    await first.stop()
    assert (await job_states(db))["succeeded"] < total, "the stop must land mid-stream"
    third = worker(app, busy)
    await third.start()
    await second.stop()
    # A unit lost by a stop would stay running until its lease (a minute) expired.
    await settled(db, timeout=30)
    await third.stop()

    assert await db.fetchval(LISTENERS) == 0
    final = await job_states(db)
    assert final["failed"] == 0, final
    assert set(final) <= {"succeeded", "waiting", "paused"}, final
    errors = await db.fetch(
        "SELECT dataset, unit_key, last_error_code FROM sync_jobs "
        "WHERE last_error_code IS NOT NULL OR last_error_message IS NOT NULL"
    )
    assert not errors, [dict(row) for row in errors]
    bad = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not bad, [(r.name, r.getMessage(), r.exc_info) for r in bad]

"""An on-demand sync is claimed at once by an idle worker (``LISTEN``/``NOTIFY``), not at the
worker's next poll."""

import asyncio
import datetime as dt

import asyncpg
import httpx
from fastapi import FastAPI

from app.config import Settings
from app.registry import worker_parts
from app.sandbox.state import SandboxState
from app.sync.worker import SyncWorker
from tests.fixtures.accounts import Tenant, link_account
from tests.sync.helpers import today_pacific


async def test_an_idle_worker_claims_an_on_demand_unit_at_once(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    sandbox: SandboxState,
    db: asyncpg.Connection,
    settings: Settings,
) -> None:
    key = sandbox.add_key("acme")
    account_id = await link_account(client, tenant, key)
    await db.execute("DELETE FROM sync_jobs")  # nothing queued: the worker goes idle
    slow = settings.model_copy(update={"worker_poll_seconds": 60.0, "scheduler_seconds": 60.0})
    worker = SyncWorker(slow, app.state.sessionmaker, app.state.asc_clients, worker_parts(slow))
    await worker.start()
    try:
        await asyncio.sleep(0.5)  # its first claims found nothing: it waits for a minute
        await db.execute("DELETE FROM sync_jobs")  # what its first planning round queued
        day = (today_pacific() - dt.timedelta(days=3)).isoformat()
        response = await client.post(
            f"/v1/accounts/{account_id}/sync",
            json={"datasets": ["sales_daily"], "from": day, "to": day},
            headers=tenant.headers(),
        )
        assert response.status_code == 202, response.text
        async with asyncio.timeout(5):  # a minute without the wake-up
            while await db.fetchval(
                "SELECT state FROM sync_jobs WHERE dataset = 'sales_daily' AND unit_key = $1",
                day,
            ) not in ("running", "succeeded"):
                await asyncio.sleep(0.05)
    finally:
        await worker.stop()

"""What a unit stores must not depend on which other units happened to run before it.

Crashes, faults and concurrent workers reorder units; a result that depends on the order makes
a stressed backfill end differently from a clean one.
"""

from __future__ import annotations

import asyncio

import asyncpg
import httpx
from fastapi import FastAPI

from app.reports.periods import DAILY
from app.sandbox.state import SandboxState
from tests.fixtures.accounts import Tenant, link_account
from tests.fixtures.database import plain
from tests.fixtures.engine import run_unit
from tests.reliability.world import TEAMS, add_keys, day_with_sales


async def _unlinked_rows(db: asyncpg.Connection, day: object) -> int:
    return int(
        await db.fetchval(
            "SELECT count(*) FROM sales_rows WHERE frequency = 'DAILY' AND report_date = $1 "
            "AND app_id IS NULL",
            day,
        )
    )


async def test_a_sales_day_loaded_before_the_app_list_is_linked_to_its_apps(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    sandbox: SandboxState,
    db: asyncpg.Connection,
) -> None:
    key = add_keys(sandbox, TEAMS[:1])[0]
    account_id = await link_account(client, tenant, key)
    daily = DAILY
    day = day_with_sales(key)  # a day that stores rows, whatever today is
    await run_unit(app, account_id, "sales_daily", daily.unit_key(day))  # before the app list
    await run_unit(app, account_id, "apps", "all")
    loaded_first = await _unlinked_rows(db, day)
    await run_unit(app, account_id, "sales_daily", daily.unit_key(day))  # the same file again
    loaded_after = await _unlinked_rows(db, day)
    assert loaded_first == loaded_after, f"{loaded_first - loaded_after} rows lack their app"
    assert await db.fetchval("SELECT count(*) FROM sales_rows WHERE report_date = $1", day) > 0


async def test_a_sales_day_committing_while_the_app_list_arrives_is_linked_to_its_apps(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    sandbox: SandboxState,
    db: asyncpg.Connection,
    database_url: str,
) -> None:
    """The two units overlap: the report is loaded while the app list arrives. Held apart
    deterministically with a row lock on the report unit's job."""
    key = add_keys(sandbox, TEAMS[:1])[0]
    account_id = await link_account(client, tenant, key)
    daily = DAILY
    day = day_with_sales(key)  # a day that stores rows, whatever today is
    sandbox.latency_seconds = 0.5  # time to take the lock once the report unit is running
    report_unit = asyncio.create_task(run_unit(app, account_id, "sales_daily", daily.unit_key(day)))
    blocker = await asyncpg.connect(plain(database_url))
    try:
        async with asyncio.timeout(30):
            while not await db.fetchval(
                "SELECT count(*) FROM sync_jobs WHERE dataset = 'sales_daily' AND state = 'running'"
            ):
                await asyncio.sleep(0.01)
        transaction = blocker.transaction()
        await transaction.start()
        # The report unit loads its rows, then waits here to mark its job done (uncommitted).
        await blocker.execute(
            "SELECT id FROM sync_jobs WHERE dataset = 'sales_daily' AND state = 'running' "
            "FOR UPDATE"
        )
        async with asyncio.timeout(30):
            while not await db.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock'"
            ):
                await asyncio.sleep(0.01)
        sandbox.latency_seconds = 0.0
        # The app list arrives meanwhile: its refresh must wait for the report (they are
        # serialised per account), rather than commit without seeing the report's rows.
        apps_unit = asyncio.create_task(run_unit(app, account_id, "apps", "all"))
        async with asyncio.timeout(30):
            while (
                await db.fetchval(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock'"
                )
                < 2
            ):
                await asyncio.sleep(0.01)
        assert not apps_unit.done()
        await transaction.commit()  # now the report commits, then the app list
        await report_unit
        await apps_unit
    finally:
        await blocker.close()
    assert await _unlinked_rows(db, day) == 0

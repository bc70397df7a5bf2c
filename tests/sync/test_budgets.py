"""Apple's per-key budget figures: a figure below the reserve is written at once (other workers
stop claiming the key), one with room to spare is written by the transaction that ends a unit
(no transaction of its own per Apple response, no wait for a next claim), a figure being written
is neither written again by a concurrent transaction nor lost if its transaction fails, and an
older figure never overwrites a newer."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.exc import DBAPIError

from app.asc.ratelimit import RateLimitInfo
from app.config import Settings
from app.sandbox import faults
from app.sandbox.app import create_sandbox_app
from app.sandbox.faults import Fault, FaultPlan
from app.sandbox.state import SandboxKey, SandboxState
from app.sync.budget import KeyBudgets
from tests.fixtures.accounts import Tenant, link_account
from tests.fixtures.engine import INSTANT_RETRY, run_unit


async def _stored(db: asyncpg.Connection, key: str) -> tuple[int, bool] | None:
    row = await db.fetchrow(
        "SELECT remaining, blocked_until IS NOT NULL AS blocked FROM asc_key_budgets "
        "WHERE key_id = $1",
        key,
    )
    return None if row is None else (row["remaining"], row["blocked"])


async def _end_unit(budgets: KeyBudgets) -> None:
    """What the transaction ending a unit does with the figures (its own work aside)."""
    async with budgets.transaction():
        pass


async def test_budget_figures_are_written_at_once_only_below_the_reserve(
    app: FastAPI, db: asyncpg.Connection
) -> None:
    budgets = KeyBudgets(app.state.sessionmaker, reserve=3)

    await budgets.record("KEYA", RateLimitInfo(limit=3600, remaining=3500))
    assert await _stored(db, "KEYA") is None  # waits for the unit's end
    await budgets.record("KEYA", RateLimitInfo(limit=3600, remaining=2))
    assert await _stored(db, "KEYA") == (2, True)  # below the reserve: blocked now
    await _end_unit(budgets)  # the earlier figure was superseded, not written after it
    assert await _stored(db, "KEYA") == (2, True)
    await budgets.record("KEYA", RateLimitInfo(limit=3600, remaining=3400))
    await _end_unit(budgets)
    assert await _stored(db, "KEYA") == (3400, True)  # the block stays until it ends
    # A unit that ends without a transaction (its lease was lost) writes them on their own.
    await budgets.record("KEYA", RateLimitInfo(limit=3600, remaining=3300))
    await budgets.write_pending()
    assert await _stored(db, "KEYA") == (3300, True)

    # Another worker's older figure, written after this one's newer: the newer stays.
    other = KeyBudgets(app.state.sessionmaker, reserve=3)
    await other.record("KEYB", RateLimitInfo(limit=3600, remaining=900))
    await budgets.record("KEYB", RateLimitInfo(limit=3600, remaining=1))
    await _end_unit(other)
    assert await _stored(db, "KEYB") == (1, True)
    await _end_unit(other)  # nothing pending: writes nothing
    assert await _stored(db, "KEYB") == (1, True)


async def _sync_status_budget(
    client: httpx.AsyncClient, tenant: Tenant, account_id: uuid.UUID
) -> dict[str, object]:
    response = await client.get(f"/v1/accounts/{account_id}/sync-status", headers=tenant.headers())
    assert response.status_code == 200, response.text
    apps = next(entry for entry in response.json()["items"] if entry["dataset"] == "apps")
    budget: dict[str, object] = apps["rate_budget"]
    return budget


async def _linked(
    client: httpx.AsyncClient, tenant: Tenant, sandbox: SandboxState, db: asyncpg.Connection
) -> tuple[uuid.UUID, SandboxKey]:
    key = sandbox.add_key("acme")
    account_id = await link_account(client, tenant, key)
    assert await _stored(db, key.key_id) is None  # verifying the key records no figure
    return account_id, key


async def test_a_units_budget_figures_are_stored_and_shown_when_it_ends_without_another_claim(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    sandbox: SandboxState,
    db: asyncpg.Connection,
) -> None:
    account_id, key = await _linked(client, tenant, sandbox, db)
    await run_unit(app, account_id, "apps", "all")  # claims once, runs, ends: no next claim

    assert key.remaining < key.hour_limit  # the unit spent some of the key's hour
    assert await _stored(db, key.key_id) == (key.remaining, False)
    shown = await _sync_status_budget(client, tenant, account_id)
    assert (shown["limit"], shown["remaining"], shown["blocked_until"]) == (
        key.hour_limit,
        key.remaining,
        None,
    )


async def test_a_failed_units_budget_figures_are_stored_by_the_transaction_ending_it(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    sandbox: SandboxState,
    db: asyncpg.Connection,
) -> None:
    account_id, key = await _linked(client, tenant, sandbox, db)
    key.set_remaining(1234)
    # Apple's edge fails every request (each answer still carries the key's budget).
    faults.inject(sandbox, FaultPlan(rate=1.0, kinds=frozenset({Fault.UNAVAILABLE})))
    await run_unit(app, account_id, "apps", "all")
    faults.clear(sandbox)

    job = await db.fetchrow(
        "SELECT state, last_error_code FROM sync_jobs "
        "WHERE account_id = $1 AND dataset = 'apps' AND unit_key = 'all'",
        account_id,
    )
    assert (job["state"], job["last_error_code"]) == ("waiting", "AscServerError")
    assert await _stored(db, key.key_id) == (1234, False)
    assert (await _sync_status_budget(client, tenant, account_id))["remaining"] == 1234


async def _waiting_for_a_lock(db: asyncpg.Connection) -> int:
    """The backend blocked on a row lock (the writing transaction), once it is."""
    for _ in range(500):
        await db.execute("SELECT pg_stat_clear_snapshot()")  # else a transaction sees one
        pid = await db.fetchval(
            "SELECT pid FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        if pid is not None:
            return int(pid)
        await asyncio.sleep(0.01)
    raise AssertionError("the figures' write never waited for the locked row")


async def test_a_figure_being_written_is_not_written_again_nor_lost_when_its_transaction_fails(
    app: FastAPI, db: asyncpg.Connection
) -> None:
    budgets = KeyBudgets(app.state.sessionmaker, reserve=3)
    await db.execute(
        "INSERT INTO asc_key_budgets (key_id, hour_limit, remaining, observed_at, "
        "consecutive_429) VALUES ('KEYC', 3600, 3500, now(), 0)"
    )
    for newer in (None, RateLimitInfo(limit=3600, remaining=2900)):
        await db.execute(
            "UPDATE asc_key_budgets SET remaining = 3500, observed_at = $1 WHERE key_id = 'KEYC'",
            dt.datetime.now(dt.UTC) - dt.timedelta(hours=1),
        )
        await budgets.record("KEYC", RateLimitInfo(limit=3600, remaining=3000))
        lock = db.transaction()
        await lock.start()
        await db.execute("SELECT 1 FROM asc_key_budgets WHERE key_id = 'KEYC' FOR UPDATE")
        # A unit ends: its transaction takes the pending figure and waits for the row.
        ending = asyncio.create_task(_end_unit(budgets))
        writer = await _waiting_for_a_lock(db)
        # Another unit of this worker ends meanwhile: the figure is not its to write (it would
        # wait for the row as well).
        await asyncio.wait_for(_end_unit(budgets), timeout=10)
        if newer is not None:
            await budgets.record("KEYC", newer)  # Apple answered again meanwhile
        # The first transaction fails (its statement is cancelled): nothing of it is stored.
        await db.execute("SELECT pg_cancel_backend($1)", writer)
        with pytest.raises(DBAPIError):
            await ending
        await lock.rollback()
        assert await _stored(db, "KEYC") == (3500, False)
        # The figure went back to wait for the next unit's end (unless a newer one replaced it).
        await _end_unit(budgets)
        expected = 3000 if newer is None else newer.remaining
        assert await _stored(db, "KEYC") == (expected, False)


async def test_a_unit_that_lost_its_lease_still_stores_the_budget_figures_it_saw(
    settings: Settings,
    tenant: Tenant,
    sandbox: SandboxState,
    db: asyncpg.Connection,
) -> None:
    from app.main import create_app

    apple = httpx.ASGITransport(app=create_sandbox_app(sandbox))

    async def stalled_worker(request: httpx.Request) -> httpx.Response:
        # While this worker waits for Apple, its lease expires and another worker takes the
        # unit: its completion is refused and its transaction rolled back.
        await db.execute(
            "UPDATE sync_jobs SET lease_owner = 'another-worker' "
            "WHERE state = 'running' AND dataset = 'apps'"
        )
        return await apple.handle_async_request(request)

    application = create_app(
        settings, asc_transport=httpx.MockTransport(stalled_worker), asc_retry=INSTANT_RETRY
    )
    async with (
        application.router.lifespan_context(application),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=application), base_url="http://t"
        ) as client,
    ):
        account_id, key = await _linked(client, tenant, sandbox, db)
        await run_unit(application, account_id, "apps", "all")
        assert (
            await db.fetchval(
                "SELECT lease_owner FROM sync_jobs WHERE account_id = $1 AND dataset = 'apps'",
                account_id,
            )
            == "another-worker"
        )
        assert await db.fetchval("SELECT count(*) FROM apps WHERE account_id = $1", account_id) == 0
        assert key.remaining < key.hour_limit
        assert await _stored(db, key.key_id) == (key.remaining, False)

"""A full backfill while Apple misbehaves ends with exactly the rows of a clean run.

Orchard runs in-process and reaches the sandbox over a real socket (uvicorn in a thread), so
connection resets are real dropped connections and read timeouts are Orchard's own
``ORCHARD_ASC_READ_TIMEOUT_SECONDS`` running out.
"""

from __future__ import annotations

import contextlib
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import urlencode

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from app.asc.retry import RetryPolicy
from app.config import Settings
from app.main import create_app
from app.sandbox import faults
from app.sandbox.faults import TRANSIENT, Fault, FaultPlan
from app.sandbox.state import SandboxState
from tests.fixtures.accounts import Tenant, link_account
from tests.reliability.world import (
    TEAMS,
    Reference,
    add_keys,
    final_job_states,
    run_workers,
    snapshot,
    sync_app_lists_first,
)
from tests.sync.test_processes import sandbox_url  # noqa: F401  (fixture)

READ_TIMEOUT = 1.0


class RecordingSleep:
    """The client's retry sleeps, recorded instead of slept (tests count, not wait)."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.fixture
def http_settings(settings: Settings, sandbox_url: str) -> Settings:  # noqa: F811
    return settings.model_copy(
        update={"asc_base_url": sandbox_url, "asc_read_timeout_seconds": READ_TIMEOUT}
    )


@dataclass
class World:
    app: FastAPI
    api: httpx.AsyncClient
    accounts: list[uuid.UUID]

    async def backfill(self, db: asyncpg.Connection) -> None:
        """Two workers (three units at a time each) until nothing is left to run."""
        await run_workers(self.app, db, timeout=90)


@contextlib.asynccontextmanager
async def linked_world(
    settings: Settings,
    tenant: Tenant,
    sandbox: SandboxState,
    sleep: RecordingSleep,
    teams: tuple[str, ...] = TEAMS,
) -> AsyncIterator[World]:
    """Orchard with the world's accounts linked (while Apple is still healthy)."""
    keys = add_keys(sandbox, teams)
    # No jitter: the backoff is 0, so any wait the client asks for is a Retry-After.
    retry = RetryPolicy(max_attempts=10, sleep=sleep, rand=lambda: 0.0)
    app = create_app(settings, asc_retry=retry)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as api,
    ):
        accounts = [await link_account(api, tenant, key) for key in keys]
        await sync_app_lists_first(app)
        try:
            yield World(app, api, accounts)
        finally:
            faults.clear(sandbox)


async def test_a_backfill_under_20_percent_faults_ends_with_the_clean_rows(
    http_settings: Settings,
    tenant: Tenant,
    sandbox: SandboxState,
    db: asyncpg.Connection,
    reference: Reference,
) -> None:
    plan = FaultPlan(rate=0.2, seed=2024, kinds=TRANSIENT, stall_seconds=READ_TIMEOUT + 0.5)
    sleep = RecordingSleep()
    async with linked_world(http_settings, tenant, sandbox, sleep) as world:
        faults.inject(sandbox, plan)
        await world.backfill(db)

    # A fair mix (which kinds are drawn depends on the day's requests; test_sandbox_faults.py
    # puts every kind through the engine on its own).
    injected = plan.counts()
    assert len(injected) >= 5, f"too few kinds of fault happened: {injected}"
    share = len(plan.injected) / (len(sandbox.requests) + len(plan.injected))
    assert 0.12 < share < 0.3, injected

    # No unit left stuck: every unit ended as in the clean run (succeeded, or waiting for a
    # day Apple has not published yet), and no lease is left behind …
    failed = await db.fetch(
        "SELECT dataset, unit_key, attempts, last_error_code, last_error_message FROM sync_jobs "
        "WHERE state = 'failed'"
    )
    assert await final_job_states(db) == reference.jobs, [dict(row) for row in failed]
    assert await db.fetchval("SELECT count(*) FROM sync_jobs WHERE lease_owner IS NOT NULL") == 0
    # … and exactly the same rows, table by table.
    assert (await snapshot(db)).differences(reference.snapshot) == []

    # Each Retry-After was waited for, and only those (the client's sleeps are recorded) …
    waits = Counter(sleep.delays)
    assert waits[plan.retry_after_seconds] == injected[Fault.RATE_LIMITED], waits
    assert set(waits) <= {0.0, plan.retry_after_seconds}, waits
    # … and a report cut short was downloaded again, whole, after the cut one.
    handled = Counter((r.key_id, r.path, urlencode(r.query, safe=",")) for r in sandbox.requests)
    for cut in (f for f in plan.injected if f.fault is Fault.TRUNCATED_GZIP):
        assert handled[(cut.key_id, cut.path, cut.query)] >= 2, cut


async def test_a_links_next_loop_fails_its_units_once_and_they_succeed_when_apple_is_fixed(
    http_settings: Settings,
    tenant: Tenant,
    sandbox: SandboxState,
    db: asyncpg.Connection,
    reference: Reference,
) -> None:
    """Every list page answers with a ``next`` link to itself: following it would never end."""
    plan = FaultPlan(rate=1.0, seed=1, kinds=frozenset({Fault.PAGING_LOOP}))
    team = TEAMS[:1]
    async with linked_world(http_settings, tenant, sandbox, RecordingSleep(), team) as world:
        faults.inject(sandbox, plan)
        await world.backfill(db)

        failed = await db.fetch("SELECT * FROM sync_jobs WHERE state = 'failed'")
        assert failed
        for job in failed:
            assert job["last_error_code"] == "PAGING_LOOP", dict(job)
            assert "links.next repeats a page" in job["last_error_message"]
            assert job["attempts"] == 1  # Apple's bug is not retried into a storm
        # No looping page was fetched twice (each is listed by one unit here): a loop is seen
        # at once, never followed, never retried. A unit that stops paging early anyway, like
        # builds at its time window, is not hurt by it.
        fetched = Counter((f.key_id, f.path, f.query) for f in plan.injected)
        assert len(failed) <= len(fetched) and max(fetched.values()) == 1, fetched
        # Ops see why, per dataset.
        account = world.accounts[0]
        status = await world.api.get(
            f"/v1/accounts/{account}/sync-status", headers=tenant.headers()
        )
        failing = {e["dataset"]: e for e in status.json()["items"] if e["state"] == "failing"}
        assert set(failing) == {job["dataset"] for job in failed}
        assert {e["last_error"]["code"] for e in failing.values()} == {"PAGING_LOOP"}

        # Apple fixes its paging. A day later the routine schedule (the workers' scheduler)
        # retries what failed; Orchard's clock cannot be moved, so the queue is aged instead.
        faults.clear(sandbox)
        await db.execute("UPDATE sync_jobs SET finished_at = finished_at - interval '1 day'")
        await world.backfill(db)

    for job in failed:
        row = await db.fetchrow("SELECT state, attempts FROM sync_jobs WHERE id = $1", job["id"])
        assert row["state"] == "succeeded", dict(job)
    key_id = failed[0]["key_id"]
    assert await final_job_states(db) == {
        unit: state for unit, state in reference.jobs.items() if unit[0] == key_id
    }
    assert (await snapshot(db)).differences(reference.snapshot.only([key_id])) == []

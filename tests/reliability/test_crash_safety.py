"""SIGKILL the worker process at random points of a backfill, again and again: no report
partition is ever half-written, and the final data is exactly a clean run's."""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import signal
import subprocess

import asyncpg
import httpx
from fastapi import FastAPI

from app.config import Settings
from app.sandbox.state import SandboxKey, SandboxState
from tests.fixtures.accounts import Tenant, link_account
from tests.reliability.world import (
    TEAMS,
    Reference,
    add_keys,
    final_job_states,
    partition_counts,
    settled,
    snapshot,
    sync_app_lists_first,
)
from tests.sync.helpers import expected_daily_rows
from tests.sync.test_processes import _worker_process, sandbox_url  # noqa: F401  (fixture)

KILLS = 5


def _worker(settings: Settings, database_url: str, asc_url: str) -> subprocess.Popen[str]:
    """``orchard worker`` with short leases (a killed worker's units are taken over soon) and
    quick engine retries."""
    return _worker_process(
        settings,
        database_url,
        asc_url,
        ORCHARD_LEASE_SECONDS="2",
        ORCHARD_MAX_ATTEMPTS="20",
        ORCHARD_RETRY_BASE_SECONDS="0.05",
    )


class PartitionWatch:
    """Checks, whenever asked, that every report partition in the database is whole: exactly
    the rows of the clean run's partition, and for daily sales exactly what the sandbox's
    generator makes of that day (computed without Orchard)."""

    def __init__(self, db: asyncpg.Connection, reference: Reference, keys: list[SandboxKey]):
        self.db = db
        self.reference = reference
        self.keys = {key.key_id: key for key in keys}
        self.sandbox_counts: dict[tuple[str, str], int] = {}
        self.checks = 0
        self.seen: set[tuple[str, ...]] = set()

    def _generated(self, sandbox: SandboxState, key_id: str, day: str) -> int:
        if (key_id, day) not in self.sandbox_counts:
            date = dt.date.fromisoformat(day)
            counts = expected_daily_rows(sandbox, self.keys[key_id], [date])
            self.sandbox_counts[(key_id, day)] = counts[date]
        return self.sandbox_counts[(key_id, day)]

    async def check(self, sandbox: SandboxState) -> None:
        counts = await partition_counts(self.db)
        for partition, rows in counts.items():
            expected = self.reference.partitions.get(partition)
            assert rows == expected, f"partition {partition}: {rows} rows, clean run {expected}"
            table, key_id, *values = partition
            if table == "sales_rows" and values[0] == "DAILY":
                generated = self._generated(sandbox, key_id, values[1])
                assert rows == generated, f"{partition}: {rows} rows, sandbox made {generated}"
        self.seen |= set(counts)
        self.checks += 1


async def _running_in(db: asyncpg.Connection, process: subprocess.Popen[str]) -> set[str]:
    """The ids of the units the worker process holds right now."""
    rows = await db.fetch(
        "SELECT id::text FROM sync_jobs WHERE state = 'running' "
        "AND split_part(lease_owner, ':', 2) = $1",
        str(process.pid),
    )
    return {row["id"] for row in rows}


async def test_random_sigkills_never_half_write_a_partition_and_end_with_the_clean_rows(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    sandbox: SandboxState,
    db: asyncpg.Connection,
    settings: Settings,
    database_url: str,
    sandbox_url: str,  # noqa: F811
    reference: Reference,
) -> None:
    keys = add_keys(sandbox, TEAMS[:2])
    for key in keys:
        await link_account(client, tenant, key)
    await sync_app_lists_first(app)
    watch = PartitionWatch(db, reference, keys)
    sandbox.latency_seconds = 0.02  # units take a little while, so kills land inside them
    rng = random.Random(20261121)
    kills_inside_units = 0
    killed_units: set[str] = set()

    for _ in range(KILLS):
        process = _worker(settings, database_url, sandbox_url)
        try:
            # Once the worker is at work, kill it at a random moment of it.
            async with asyncio.timeout(30):
                while not await _running_in(db, process):
                    await watch.check(sandbox)
                    await asyncio.sleep(0.05)
            deadline = asyncio.get_running_loop().time() + rng.uniform(0.0, 1.0)
            while asyncio.get_running_loop().time() < deadline:
                await watch.check(sandbox)
            # Frozen first, then read: a unit read as running can no longer commit before the
            # kill (a commit already sent has landed by the read).
            process.send_signal(signal.SIGSTOP)
            await asyncio.sleep(0.2)
            held = await _running_in(db, process)
        finally:
            process.kill()
            process.communicate(timeout=30)
        assert process.returncode == -signal.SIGKILL
        kills_inside_units += bool(held)
        killed_units |= held
        await watch.check(sandbox)

    # A last worker takes over the dead ones' leases (once they expire) and finishes.
    process = _worker(settings, database_url, sandbox_url)
    try:
        async with asyncio.timeout(90):
            while not await settled(db):
                await watch.check(sandbox)
                await asyncio.sleep(0.05)
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    await watch.check(sandbox)

    assert kills_inside_units >= 3, "the kills should land while units run"
    key_ids = [key.key_id for key in keys]
    expected_partitions = {p for p in reference.partitions if p[1] in key_ids}
    assert watch.checks > 50 and watch.seen == expected_partitions
    # Every unit a kill cut short was run again. Counted per unit, not per kill: a unit taken
    # over after its lease lapsed may be killed a second time.
    taken_over = await db.fetchval(
        "SELECT count(*) FROM sync_jobs WHERE id::text = ANY($1::text[]) AND attempts > 1",
        sorted(killed_units),
    )
    assert taken_over == len(killed_units)
    assert await final_job_states(db) == {
        unit: state for unit, state in reference.jobs.items() if unit[0] in key_ids
    }
    assert (await snapshot(db)).differences(reference.snapshot.only(key_ids)) == []

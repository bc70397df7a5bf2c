"""SIGTERM during work, to ``orchard worker`` and to ``orchard serve`` (which runs a worker
inside): no new claims, in-flight units finish if they can within
``ORCHARD_SHUTDOWN_TIMEOUT_SECONDS`` and are handed back otherwise, every lease is released,
and the process exits within the timeout."""

from __future__ import annotations

import asyncio
import datetime as dt
import signal
import subprocess
import time
import uuid
from dataclasses import dataclass

import asyncpg
import httpx
import pytest

from app.config import Settings
from app.demo import free_port
from app.sandbox.state import SandboxState
from tests.fixtures.accounts import Tenant, link_account
from tests.reliability.world import TEAMS, add_keys
from tests.sync.test_processes import _worker_process, sandbox_url  # noqa: F401  (fixture)

COMMANDS = {
    "worker": ("worker", "--concurrency", "2"),
    "serve": ("serve", "--port", "0"),  # the port is replaced per run
}
#: Python start-up and tear-down around the shutdown itself (imports, closing the pool).
EXIT_SLACK_SECONDS = 3.0
#: After its graceful shutdown uvicorn re-raises the signal it caught, so a service manager
#: sees "stopped by SIGTERM" (systemd counts that as a clean stop); `orchard worker` exits 0.
CLEAN_EXIT = {"worker": 0, "serve": -signal.SIGTERM}


def _start(
    kind: str, settings: Settings, database_url: str, asc_url: str, timeout: float
) -> subprocess.Popen[str]:
    command = COMMANDS[kind]
    if kind == "serve":
        command = ("serve", "--port", str(free_port()))
    return _worker_process(
        settings,
        database_url,
        asc_url,
        command=command,
        ORCHARD_SHUTDOWN_TIMEOUT_SECONDS=str(timeout),
        ORCHARD_WORKER_CONCURRENCY="2",
        ORCHARD_LEASE_SECONDS="30",  # a released lease, not an expired one, frees the units
    )


async def _held_by(
    db: asyncpg.Connection, pid: int, running_for: float = 0.0
) -> list[asyncpg.Record]:
    """The units the process holds that have been running at least ``running_for`` seconds."""
    return await db.fetch(  # type: ignore[no-any-return]
        "SELECT id, attempts FROM sync_jobs WHERE state = 'running' "
        "AND split_part(lease_owner, ':', 2) = $1 "
        "AND started_at <= now() - make_interval(secs => $2)",
        str(pid),
        running_for,
    )


@dataclass
class Shutdown:
    held: list[asyncpg.Record]  # the units it ran when signalled
    done_before: set[uuid.UUID]  # what had succeeded by then
    signalled_at: dt.datetime  # the database's clock just after the signal was sent
    took: float  # seconds from the signal to the exit
    output: str


async def _terminate_while_working(
    db: asyncpg.Connection, process: subprocess.Popen[str], units: int, running_for: float = 0.0
) -> Shutdown:
    """Wait until the process runs ``units`` units (that have run ``running_for`` seconds),
    then SIGTERM it and wait for it to exit."""
    try:
        async with asyncio.timeout(30):
            while len(held := await _held_by(db, process.pid, running_for)) < units:
                assert process.poll() is None, process.communicate()[0]
                await asyncio.sleep(0.05)
        done = {
            r["id"] for r in await db.fetch("SELECT id FROM sync_jobs WHERE state = 'succeeded'")
        }
        signalled = time.monotonic()
        process.send_signal(signal.SIGTERM)
        signalled_at = await db.fetchval("SELECT clock_timestamp()")
        output, _ = await asyncio.to_thread(process.communicate, timeout=60)
        return Shutdown(held, done, signalled_at, time.monotonic() - signalled, output)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


async def _no_lease_of(db: asyncpg.Connection, pid: int) -> None:
    assert not await db.fetchval(
        "SELECT count(*) FROM sync_jobs WHERE split_part(lease_owner, ':', 2) = $1", str(pid)
    )
    stopped = await db.fetchval("SELECT stopped_at FROM sync_workers WHERE pid = $1", pid)
    assert stopped is not None  # it said goodbye, so readiness stops counting it


@pytest.mark.parametrize("kind", ["worker", "serve"])
async def test_sigterm_hands_back_units_that_cannot_finish_and_exits_within_the_timeout(
    kind: str,
    client: httpx.AsyncClient,
    tenant: Tenant,
    sandbox: SandboxState,
    db: asyncpg.Connection,
    settings: Settings,
    database_url: str,
    sandbox_url: str,  # noqa: F811
) -> None:
    await link_account(client, tenant, add_keys(sandbox, TEAMS[:1])[0])
    sandbox.latency_seconds = 2.5  # every unit takes longer than the shutdown timeout
    timeout = 0.5
    process = _start(kind, settings, database_url, sandbox_url, timeout)
    # Units held for a while are inside a slow Apple call; a unit that makes no call to Apple
    # can finish in the moment between sampling and the signal (a race seen under load).
    stop = await _terminate_while_working(db, process, units=2, running_for=0.3)

    assert process.returncode == CLEAN_EXIT[kind], stop.output
    assert stop.took < timeout + EXIT_SLACK_SECONDS, f"exited {stop.took:.1f}s after SIGTERM"
    await _no_lease_of(db, process.pid)
    for job in stop.held:  # cancelled and handed back, as if never tried: not failed
        row = await db.fetchrow("SELECT state, attempts FROM sync_jobs WHERE id = $1", job["id"])
        assert row["state"] == "queued", dict(row)
        assert row["attempts"] == job["attempts"] - 1
    assert "Traceback" not in stop.output, stop.output


@pytest.mark.parametrize("kind", ["worker", "serve"])
async def test_sigterm_lets_in_flight_units_finish_and_claims_nothing_new(
    kind: str,
    client: httpx.AsyncClient,
    tenant: Tenant,
    sandbox: SandboxState,
    db: asyncpg.Connection,
    settings: Settings,
    database_url: str,
    sandbox_url: str,  # noqa: F811
) -> None:
    await link_account(client, tenant, add_keys(sandbox, TEAMS[:1])[0])
    sandbox.latency_seconds = 0.5  # units finish well within the timeout
    timeout = 20.0
    process = _start(kind, settings, database_url, sandbox_url, timeout)
    stop = await _terminate_while_working(db, process, units=2)

    assert process.returncode == CLEAN_EXIT[kind], stop.output
    assert stop.took < timeout, f"exited {stop.took:.1f}s after SIGTERM"
    await _no_lease_of(db, process.pid)
    done_after = {
        r["id"]: r["started_at"]
        for r in await db.fetch("SELECT id, started_at FROM sync_jobs WHERE state = 'succeeded'")
    }
    # The units it was running finished.
    assert stop.done_before | {job["id"] for job in stop.held} <= done_after.keys()
    assert await db.fetchval("SELECT count(*) FROM sync_jobs WHERE state = 'running'") == 0
    # Nothing was started after the signal. A unit may end between the sampling and the signal
    # and free a slot that is filled before the signal lands; that unit started before it.
    # The slack covers the moment the worker's loop takes to run its signal handler.
    started_late = {
        job_id: started
        for job_id, started in done_after.items()
        if started > stop.signalled_at + dt.timedelta(seconds=0.25)
    }
    assert started_late == {}
    assert "Traceback" not in stop.output, stop.output

"""SIGTERM during work, to ``orchard worker`` and to ``orchard serve`` (which runs a worker
inside): no new claims, in-flight units finish if they can within
``ORCHARD_SHUTDOWN_TIMEOUT_SECONDS`` and are handed back otherwise, every lease is released,
and the process exits within the timeout."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
import uuid

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


async def _held_by(db: asyncpg.Connection, pid: int) -> list[asyncpg.Record]:
    return await db.fetch(  # type: ignore[no-any-return]
        "SELECT id, attempts FROM sync_jobs WHERE state = 'running' "
        "AND split_part(lease_owner, ':', 2) = $1",
        str(pid),
    )


async def _terminate_while_working(
    db: asyncpg.Connection, process: subprocess.Popen[str], units: int
) -> tuple[list[asyncpg.Record], set[uuid.UUID], float, str]:
    """Wait until the process runs ``units`` units, SIGTERM it; returns what it held, what had
    succeeded before the signal, how long it took to exit, and its output."""
    try:
        async with asyncio.timeout(30):
            while len(held := await _held_by(db, process.pid)) < units:
                assert process.poll() is None, process.communicate()[0]
                await asyncio.sleep(0.05)
        done = {
            r["id"] for r in await db.fetch("SELECT id FROM sync_jobs WHERE state = 'succeeded'")
        }
        signalled = time.monotonic()
        process.send_signal(signal.SIGTERM)
        output, _ = await asyncio.to_thread(process.communicate, timeout=60)
        return held, done, time.monotonic() - signalled, output
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
    held, _, took, output = await _terminate_while_working(db, process, units=2)

    assert process.returncode == CLEAN_EXIT[kind], output
    assert took < timeout + EXIT_SLACK_SECONDS, f"exited {took:.1f}s after SIGTERM"
    await _no_lease_of(db, process.pid)
    for job in held:  # cancelled and handed back, as if never tried: not failed
        row = await db.fetchrow("SELECT state, attempts FROM sync_jobs WHERE id = $1", job["id"])
        assert row["state"] == "queued", dict(row)
        assert row["attempts"] == job["attempts"] - 1
    assert "Traceback" not in output, output


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
    held, done_before, took, output = await _terminate_while_working(db, process, units=2)

    assert process.returncode == CLEAN_EXIT[kind], output
    assert took < timeout, f"exited {took:.1f}s after SIGTERM"
    await _no_lease_of(db, process.pid)
    done_after = {
        r["id"] for r in await db.fetch("SELECT id FROM sync_jobs WHERE state = 'succeeded'")
    }
    # The units it was running finished; nothing else was started after the signal.
    assert done_after == done_before | {job["id"] for job in held}
    assert await db.fetchval("SELECT count(*) FROM sync_jobs WHERE state = 'running'") == 0
    assert "Traceback" not in output, output

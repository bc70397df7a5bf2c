"""Workers in separate OS processes against one PostgreSQL: sharing work, and a SIGKILL."""

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import asyncpg
import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from app.config import Settings
from app.demo import QuietServer, free_port
from app.sandbox.app import create_sandbox_app
from app.sandbox.state import SandboxState
from tests.fixtures.accounts import Tenant, link_account
from tests.fixtures.engine import drain
from tests.sync.helpers import daily_units, expected_daily_rows, job_states, stored_daily_rows


@pytest.fixture
def sandbox_url(sandbox: SandboxState) -> Iterator[str]:
    """The same sandbox, also over real HTTP, for worker processes."""
    port = free_port()
    server = QuietServer(
        uvicorn.Config(create_sandbox_app(sandbox), host="127.0.0.1", port=port, log_config=None)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "sandbox did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def _worker_process(
    settings: Settings,
    database_url: str,
    sandbox_url: str,
    *,
    command: tuple[str, ...] = ("worker", "--concurrency", "2"),
    **env: str,
) -> subprocess.Popen[str]:
    """``orchard worker`` (or another ``orchard`` ``command``) on the test's database."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("ORCHARD_")}
    environment.update(
        ORCHARD_DATABASE_URL=database_url,
        ORCHARD_ASC_BASE_URL=sandbox_url,
        ORCHARD_DATA_DIR=str(settings.data_dir),  # the same credential encryption key
        ORCHARD_WORKER_POLL_SECONDS="0.05",
        ORCHARD_SCHEDULER_SECONDS="0.5",
        ORCHARD_LOG_LEVEL="WARNING",
        ORCHARD_INITIAL_BACKFILL_DAYS=str(settings.initial_backfill_days),
        ORCHARD_STORE_ENABLED="false",  # like the in-process worker (tests/conftest.py)
        ORCHARD_FX_ECB_ENABLED="false",
        **env,
    )
    return subprocess.Popen(
        [sys.executable, "-m", "app.cli", *command],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


async def _wait_for(predicate: object, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not await predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.1)


async def test_a_worker_process_and_an_in_process_worker_share_the_work(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    sandbox: SandboxState,
    db: asyncpg.Connection,
    settings: Settings,
    database_url: str,
    sandbox_url: str,
) -> None:
    keys = [sandbox.add_key(f"team{n}") for n in range(2)]
    accounts = [await link_account(client, tenant, key) for key in keys]
    sandbox.latency_seconds = 0.02
    sandbox.clear_requests()
    process = _worker_process(settings, database_url, sandbox_url)
    try:

        async def all_done() -> bool:
            await drain(app, max_units=1)
            states = await job_states(db)
            return set(states) == {"succeeded"}

        await _wait_for(all_done, 90)
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    owners = {row["lease_owner"] for row in await db.fetch("SELECT lease_owner FROM sync_jobs")}
    assert owners == {None}
    workers = await db.fetch("SELECT pid, stopped_at FROM sync_workers")
    assert any(row["pid"] == process.pid and row["stopped_at"] is not None for row in workers)
    reports = [
        (
            r.key_id,
            dict(r.query)["filter[reportType]"],
            dict(r.query)["filter[frequency]"],
            dict(r.query)["filter[reportDate]"],
        )
        for r in sandbox.requests
        if r.path == "/v1/salesReports"
    ]
    assert len(reports) == len(set(reports))  # no unit ran twice
    for key, account_id in zip(keys, accounts, strict=True):
        days = await daily_units(db, account_id)
        expected = {d: n for d, n in expected_daily_rows(sandbox, key, days).items() if n}
        assert await stored_daily_rows(db, account_id) == expected


async def test_sigkill_mid_unit_loses_nothing_and_duplicates_nothing(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    sandbox: SandboxState,
    db: asyncpg.Connection,
    settings: Settings,
    database_url: str,
    sandbox_url: str,
) -> None:
    key = sandbox.add_key("acme")
    account_id = await link_account(client, tenant, key)
    sandbox.latency_seconds = 0.5  # units are slow, so the kill lands inside one
    process = _worker_process(settings, database_url, sandbox_url, ORCHARD_LEASE_SECONDS="2")
    try:

        async def running_in_child() -> bool:
            return bool(
                await db.fetchval(
                    "SELECT count(*) FROM sync_jobs WHERE state = 'running' "
                    "AND split_part(lease_owner, ':', 2) = $1",
                    str(process.pid),
                )
            )

        await _wait_for(running_in_child, 30)
    finally:
        process.kill()
        process.communicate(timeout=30)
    assert process.returncode == -signal.SIGKILL
    orphaned = await db.fetch(
        "SELECT id FROM sync_jobs WHERE state = 'running' AND split_part(lease_owner, ':', 2) = $1",
        str(process.pid),
    )
    assert orphaned  # the dead worker still "holds" them …
    sandbox.latency_seconds = 0.0
    await asyncio.sleep(2.2)  # … until its 2 s lease runs out
    await drain(app)
    assert set(await job_states(db, account_id)) == {"succeeded"}
    for row in orphaned:
        assert await db.fetchval("SELECT attempts FROM sync_jobs WHERE id = $1", row["id"]) >= 2
    days = await daily_units(db, account_id)
    expected = {d: n for d, n in expected_daily_rows(sandbox, key, days).items() if n}
    assert await stored_daily_rows(db, account_id) == expected

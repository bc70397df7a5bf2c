"""Benchmark: one daily sync cycle for many sandbox accounts, with one and two worker processes.

    python tests/benchmarks/sync_scale.py [--accounts 1000] [--datasets sales_daily,apps]
                                          [--concurrency 4] [--workers 1,2]

The App Store Connect sandbox runs as its own process over HTTP (`orchard sandbox`), with one
team and key per account. Accounts are linked unverified (verification would measure the
sandbox), then each cycle queues, per account, yesterday's units of the chosen datasets
(`sales_daily` = yesterday's report, `apps` = the catalog refresh) and `orchard worker`
processes drain them. Reported per run: wall time, units/s, Apple requests/s, HTTP statuses
Apple returned (429s must be 0), and the worst per-key request rate (the most requests one key
made in any 60 s window, scaled to an hour, against its 3600/h budget).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from pathlib import Path

import asyncpg
import httpx
from sqlalchemy.ext.asyncio import AsyncSession

try:
    from tests.benchmarks.common import benchmark_database, machine
except ModuleNotFoundError:  # run as a script: python tests/benchmarks/sync_scale.py
    from common import benchmark_database, machine  # type: ignore[import-not-found,no-redef]

from app.accounts import service as accounts
from app.accounts.schemas import AccountCreate
from app.auth import service as auth
from app.config import Settings
from app.credentials.clients import AscClientFactory
from app.credentials.crypto import load_cipher
from app.db.engine import create_engine, create_sessionmaker
from app.models import AscAccount
from app.registry import build_registry
from app.reports.calendar import latest_daily
from app.sync import queue
from app.sync.contract import DatasetRegistry, PlannedUnit, Priority

HOUR_BUDGET = 3600


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def clean_env(**overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORCHARD_")}
    env.update(overrides)
    return env


async def start_sandbox(data_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "sandbox", "--port", str(port), "--seed", "7"],
        env=clean_env(ORCHARD_DATA_DIR=str(data_dir)),
        cwd=data_dir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient() as client:
        for _ in range(200):
            try:
                if (await client.get(f"{url}/sandbox/")).status_code == 200:
                    return process, url
            except httpx.TransportError:
                await asyncio.sleep(0.1)
    raise RuntimeError("sandbox did not start")


async def link_sandbox_team(
    session: AsyncSession,
    client: httpx.AsyncClient,
    factory: AscClientFactory,
    registry: DatasetRegistry,
    workspace_id: uuid.UUID,
    n: int,
) -> AscAccount:
    """A new sandbox team ``team{n}`` and its key, linked unverified with no backfill."""
    created = await client.post("/sandbox/keys", json={"team": f"team{n}"})
    if created.status_code != 201:
        raise RuntimeError(f"sandbox key for team{n}: {created.status_code} {created.text}")
    key = created.json()
    return await accounts.link_account(
        session,
        factory,
        registry,
        workspace_id,
        AccountCreate(
            name=f"account {n}",
            key_id=key["key_id"],
            issuer_id=uuid.UUID(key["issuer_id"]),
            private_key=key["private_key_pem"],
            vendor_number=key["vendor_number"],
        ),
        verify=False,
        initial_backfill=dt.timedelta(0),
    )


async def link_accounts(url: str, sandbox_url: str, data_dir: Path, count: int) -> list[uuid.UUID]:
    settings = Settings(data_dir=data_dir)
    registry = build_registry(settings)
    engine = create_engine(url, pool_size=2)
    sessionmaker = create_sessionmaker(engine)
    ids = []
    async with (
        httpx.AsyncClient(base_url=sandbox_url, timeout=30) as client,
        sessionmaker() as session,
    ):
        workspace, _ = await auth.create_workspace(session, "scale")
        factory = AscClientFactory(client, sandbox_url, load_cipher(settings))
        for n in range(count):
            account = await link_sandbox_team(session, client, factory, registry, workspace.id, n)
            ids.append(account.id)
        await session.commit()
    await engine.dispose()
    return ids


async def queue_cycle(url: str, datasets: list[str]) -> int:
    """Replace the queue with one daily cycle: yesterday's units of each dataset."""
    engine = create_engine(url, pool_size=2)
    day = latest_daily(dt.datetime.now(dt.UTC)).isoformat()
    units = {"sales_daily": day, "apps": "all"}
    total = 0
    async with create_sessionmaker(engine)() as session, session.begin():
        from sqlalchemy import text

        await session.execute(text("DELETE FROM sync_jobs"))
        # As if verified just now: the background verification is not part of a sync cycle.
        await session.execute(
            text("UPDATE asc_accounts SET credential_status = 'active', last_verified_at = now()")
        )
        await session.execute(text("TRUNCATE sales_rows, sales_daily_rollup, dataset_availability"))
        rows = await session.execute(text("SELECT id, workspace_id, key_id FROM asc_accounts"))
        now = dt.datetime.now(dt.UTC)
        for account_id, workspace_id, key_id in rows.all():
            for dataset in datasets:
                total += await queue.enqueue(
                    session,
                    account_id=account_id,
                    workspace_id=workspace_id,
                    key_id=key_id,
                    dataset=dataset,
                    units=[PlannedUnit(units.get(dataset, "all"), priority=Priority.ROUTINE)],
                    now=now,
                )
    await engine.dispose()
    return total


async def run_cycle(
    url: str, sandbox_url: str, data_dir: Path, processes: int, concurrency: int, total: int
) -> dict[str, float]:
    async with httpx.AsyncClient(base_url=sandbox_url) as client:
        await client.delete("/sandbox/requests")
    env = clean_env(
        ORCHARD_DATABASE_URL=url,
        ORCHARD_ASC_BASE_URL=sandbox_url,
        ORCHARD_DATA_DIR=str(data_dir),
        ORCHARD_LOG_LEVEL="WARNING",
        ORCHARD_WORKER_POLL_SECONDS="0.2",
        ORCHARD_SCHEDULER_SECONDS="3600",  # this cycle only: no routine planning on top
        ORCHARD_STORE_ENABLED="false",  # App Store Connect units only
        ORCHARD_FX_ECB_ENABLED="false",
        ORCHARD_KEY_CONCURRENCY="2",
    )
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    started = time.perf_counter()
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "app.cli", "worker", "--concurrency", str(concurrency)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(processes)
    ]
    try:
        while True:
            done = await conn.fetchval(
                "SELECT count(*) FROM sync_jobs WHERE state IN ('succeeded', 'failed')"
            )
            if done >= total:
                break
            await asyncio.sleep(0.2)
        wall = time.perf_counter() - started
        failed = await conn.fetchval("SELECT count(*) FROM sync_jobs WHERE state = 'failed'")
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            worker.wait(timeout=60)
        await conn.close()
    async with httpx.AsyncClient(base_url=sandbox_url, timeout=60) as client:
        log = (await client.get("/sandbox/requests", params={"limit": 10_000_000})).json()
    requests = [r for r in log["requests"] if r["path"].startswith("/v1/")]
    statuses = Counter(r["status"] for r in requests)
    per_key: dict[str, list[float]] = defaultdict(list)
    for record in requests:
        per_key[record["key_id"]].append(
            dt.datetime.fromisoformat(record["started_at"]).timestamp()
        )
    worst_minute = 0
    for times in per_key.values():
        times.sort()
        left = 0
        for right, moment in enumerate(times):
            while moment - times[left] > 60:
                left += 1
            worst_minute = max(worst_minute, right - left + 1)
    return {
        "wall": wall,
        "units": total,
        "failed": failed,
        "requests": len(requests),
        "statuses": dict(statuses),
        "worst_key_per_minute": worst_minute,
        "max_concurrency": max(log["max_concurrency"].values() or [0]),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--datasets", default="sales_daily,apps")
    parser.add_argument("--concurrency", type=int, default=4, help="units per worker process")
    parser.add_argument("--workers", default="1,2", help="worker process counts to compare")
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    datasets = args.datasets.split(",")
    data_dir = Path(tempfile.mkdtemp(prefix="orchard-scale-"))

    async with benchmark_database(args.database_url) as url:
        sandbox, sandbox_url = await start_sandbox(data_dir)
        try:
            began = time.perf_counter()
            await link_accounts(url, sandbox_url, data_dir, args.accounts)
            print(f"machine: {machine()}")
            print(f"linked {args.accounts} sandbox accounts in {time.perf_counter() - began:.1f}s")
            print(f"cycle: {', '.join(datasets)} per account; {args.concurrency} units per process")
            for processes in (int(p) for p in args.workers.split(",")):
                total = await queue_cycle(url, datasets)
                r = await run_cycle(url, sandbox_url, data_dir, processes, args.concurrency, total)
                print(
                    f"{processes} worker process(es): {r['units']} units in {r['wall']:.1f}s "
                    f"({r['units'] / r['wall']:.0f} units/s), {r['requests']} Apple requests "
                    f"({r['requests'] / r['wall']:.0f}/s), statuses {r['statuses']}, "
                    f"failed units {r['failed']}, worst key: {r['worst_key_per_minute']} requests "
                    f"in a minute (= {r['worst_key_per_minute'] * 60}/h vs {HOUR_BUDGET}/h budget), "
                    f"max concurrent requests per key {r['max_concurrency']}"
                )
        finally:
            sandbox.send_signal(signal.SIGTERM)
            sandbox.wait(timeout=30)


if __name__ == "__main__":
    asyncio.run(main())

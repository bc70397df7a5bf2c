"""Benchmark: the job queue's claim as the jobs table grows to a million rows.

    python tests/benchmarks/scheduler.py [--accounts 1000] [--sizes 10000,100000,1000000]

Links the accounts (sandbox keys, stored unverified: linking verifies live, which would
measure the sandbox, not the queue), then grows ``sync_jobs`` to each size — mostly finished
units, as in a long-running system, plus a realistic queue of due units spread over the
accounts — and at each size reports claims per second (claim + finish, one worker) and the
claim query's own execution time from EXPLAIN ANALYZE. Target: < 5 ms per claim at 1M rows.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import statistics
import time
import uuid

import asyncpg
import httpx

from app.accounts import service as accounts
from app.accounts.schemas import AccountCreate
from app.auth import service as auth
from app.config import Settings
from app.credentials.clients import AscClientFactory
from app.credentials.crypto import CredentialCipher
from app.db.engine import create_engine, create_sessionmaker
from app.registry import build_registry
from app.sandbox.state import SandboxState
from app.sync import queue

try:
    from tests.benchmarks.common import benchmark_database, machine
except ModuleNotFoundError:  # run as a script: python tests/benchmarks/scheduler.py
    from common import benchmark_database, machine  # type: ignore[import-not-found,no-redef]

CLAIM_SELECT = """
    EXPLAIN (ANALYZE, FORMAT JSON)
    SELECT j.id, j.key_id FROM sync_jobs j
    WHERE j.state = 'queued' AND j.key_id <> ALL(CAST($1 AS text[]))
      AND NOT EXISTS (
          SELECT 1 FROM asc_key_budgets b
          WHERE b.key_id = j.key_id
            AND (b.blocked_until > now()
                 OR (b.remaining < $2 AND b.observed_at > now() - interval '1 hour')))
    ORDER BY j.priority, j.fair_rank, j.run_after
    LIMIT 1
    FOR UPDATE OF j SKIP LOCKED
"""


async def link_accounts(url: str, count: int) -> list[tuple[uuid.UUID, uuid.UUID, str]]:
    from cryptography.fernet import Fernet

    sandbox = SandboxState(seed=1)
    registry = build_registry(Settings())
    engine = create_engine(url, pool_size=2)
    sessionmaker = create_sessionmaker(engine)
    linked = []
    async with httpx.AsyncClient() as http, sessionmaker() as session:
        workspace, _ = await auth.create_workspace(session, "bench")
        factory = AscClientFactory(http, "http://unused", CredentialCipher([Fernet.generate_key()]))
        for n in range(count):
            key = sandbox.add_key(f"team{n}")
            payload = AccountCreate(
                name=f"account {n}",
                key_id=key.key_id,
                issuer_id=uuid.UUID(key.issuer_id),
                private_key=key.private_key_pem,
                vendor_number=key.vendor_number,
            )
            account = await accounts.link_account(
                session,
                factory,
                registry,
                workspace.id,
                payload,
                verify=False,
                initial_backfill=dt.timedelta(0),
            )
            linked.append((account.id, workspace.id, account.key_id))
        await session.commit()
    await engine.dispose()
    return linked


async def grow_jobs(conn: asyncpg.Connection, target: int, queued_share: float) -> None:
    """Add synthetic units until the table holds ``target`` rows (1 in 1/queued_share due)."""
    current = await conn.fetchval("SELECT count(*) FROM sync_jobs")
    missing = target - current
    if missing <= 0:
        return
    await conn.execute(
        """
        INSERT INTO sync_jobs (id, account_id, workspace_id, key_id, dataset, unit_key, state,
                               priority, fair_rank, run_after, created_at, finished_at, attempts)
        SELECT gen_random_uuid(), a.id, a.workspace_id, a.key_id, 'bench_daily',
               'u' || ($2 + g)::text,
               CASE WHEN random() < $3 THEN 'queued' ELSE 'succeeded' END,
               2, g / (SELECT count(*) FROM asc_accounts), now() - interval '1 day',
               now(), now(), 1
        FROM generate_series(1, $1) AS g
        JOIN (SELECT id, workspace_id, key_id,
                     row_number() OVER (ORDER BY id) - 1 AS n FROM asc_accounts) a
          ON a.n = g % (SELECT count(*) FROM asc_accounts)
        """,
        missing,
        current,
        queued_share,
    )
    await conn.execute("ANALYZE sync_jobs")


async def measure(url: str, claims: int, workers: int) -> dict[str, float]:
    """Claims per second through the real claim/finish code with ``workers`` concurrent
    claimers, the claim transaction's latency (incl. its commit), and the claim SELECT's own
    execution time (EXPLAIN ANALYZE)."""
    engine = create_engine(url, pool_size=workers + 1)
    sessionmaker = create_sessionmaker(engine)
    latencies: list[float] = []

    async def claimer(count: int) -> None:
        for _ in range(count):
            began = time.perf_counter()
            async with sessionmaker() as session, session.begin():
                job = await queue.claim(
                    session,
                    worker_id="bench",
                    lease=dt.timedelta(seconds=60),
                    key_concurrency=2,
                    budget_reserve=50,
                )
            latencies.append((time.perf_counter() - began) * 1000)
            if job is None:
                return
            async with sessionmaker() as session, session.begin():
                await queue.finish(session, job.id, "bench", state=queue.SUCCEEDED)

    started = time.perf_counter()
    await asyncio.gather(*(claimer(claims // workers) for _ in range(workers)))
    elapsed = time.perf_counter() - started
    await engine.dispose()
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    timings = []
    try:
        for _ in range(20):
            async with conn.transaction():
                plan = await conn.fetchval(CLAIM_SELECT, [], 50)
            timings.append(float(json.loads(plan)[0]["Execution Time"]))
    finally:
        await conn.close()
    latencies.sort()
    return {
        "rate": len(latencies) / elapsed,
        "tx_p50": latencies[len(latencies) // 2],
        "tx_p95": latencies[int(len(latencies) * 0.95)],
        "select_p50": statistics.median(timings),
        "select_max": max(timings),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--claims", type=int, default=500)
    parser.add_argument("--queued-share", type=float, default=0.05)
    parser.add_argument("--workers", type=int, default=4, help="concurrent claimers")
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]

    async with benchmark_database(args.database_url) as url:
        started = time.perf_counter()
        await link_accounts(url, args.accounts)
        print(f"machine: {machine()}")
        print(f"linked {args.accounts} sandbox accounts in {time.perf_counter() - started:.1f}s")
        print(
            f"{'jobs':>10} {'queued':>8} {'claims/s':>9} {'claim tx p50':>13} {'claim tx p95':>13}"
            f" {'SELECT p50':>11} {'SELECT max':>11}   (ms; {args.workers} claimers)"
        )
        conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            for size in sizes:
                await grow_jobs(conn, size, args.queued_share)
                queued = await conn.fetchval(
                    "SELECT count(*) FROM sync_jobs WHERE state = 'queued'"
                )
                m = await measure(url, args.claims, args.workers)
                print(
                    f"{size:>10} {queued:>8} {m['rate']:>9.0f} {m['tx_p50']:>13.2f} "
                    f"{m['tx_p95']:>13.2f} {m['select_p50']:>11.3f} {m['select_max']:>11.3f}"
                )
        finally:
            await conn.close()


if __name__ == "__main__":
    asyncio.run(main())

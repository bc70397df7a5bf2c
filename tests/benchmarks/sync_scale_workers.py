"""Benchmark: one daily cycle for 1k, 5k and 10k sandbox accounts, planned, claimed and completed
by three worker processes on one external PostgreSQL.

    python tests/benchmarks/sync_scale_workers.py --database-url postgresql://postgres@127.0.0.1:5432/postgres \\
        [--sizes 1000,5000,10000] [--workers 3] [--concurrency 4] [--datasets sales_daily,apps]

The App Store Connect sandbox runs as its own process over HTTP (``orchard sandbox``), with one
team and key per account; accounts are linked unverified (as ``sync_scale.py`` does), ten to a
workspace (``--accounts-per-workspace``: every sales unit recomputes its workspace's day rollup
from all the workspace's accounts, under a (workspace, day) lock, so one workspace of 10,000
accounts measures that lock, not the engine), and added between sizes, so the database holds
every account of the size being measured. Per size:

1. the queue is emptied and the accounts' report data dropped (a first day for every account);
2. the scheduler's ``plan_round`` is timed on its own in a transaction that is rolled back
   (what one planning round costs at this size), for the cycle's datasets and for every
   dataset; the latter committed and followed by a second round over the units it queued
   (what each later round costs while they wait: nothing is written again), after which
   they are deleted;
3. ``--workers`` worker processes start (each a real ``SyncWorker``: scheduler, reaper and
   claim loops, limited to ``--datasets``). One of them wins the planning lock and plans the
   cycle for every account; all of them claim and run the units until every planned unit has
   finished.

Printed per size: the planning round, the cycle's wall time and units/s (the figure that must
stay flat as accounts grow), Apple requests/s and statuses (429s must be 0), keys over budget
(the most requests one key made in any 60 s window, scaled to an hour, against its 3600/h
budget), the most requests in flight for one key, and units run twice: units claimed more than
once (``attempts > 1``) and Apple report downloads repeated for the same key and period.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime as dt
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # runnable as a script

import asyncpg
import httpx
from sqlalchemy import delete, event, func, select

from app.auth import service as auth
from app.config import Settings
from app.credentials.clients import AscClientFactory
from app.credentials.crypto import load_cipher
from app.db.engine import create_engine, create_sessionmaker
from app.models import SyncJob, Workspace
from app.registry import build_registry
from app.reports.periods import DAILY
from app.sync import scheduler
from app.sync.contract import DatasetRegistry
from tests.benchmarks.common import benchmark_database, machine
from tests.benchmarks.sync_scale import HOUR_BUDGET, clean_env, link_sandbox_team, start_sandbox

LINK_CONCURRENCY = 8
LINK_COMMIT_EVERY = 50


def restricted_registry(settings: Settings, datasets: list[str]) -> DatasetRegistry:
    registry = build_registry(settings)
    unknown = set(datasets) - set(registry.names())
    if unknown:
        raise SystemExit(f"unknown datasets {sorted(unknown)}")
    return DatasetRegistry(d for d in registry.all() if d.name in datasets)


async def link_accounts(
    url: str,
    sandbox_url: str,
    data_dir: Path,
    numbers: range,
    per_workspace: int,
) -> None:
    """Link accounts ``numbers`` (one sandbox team and key each), in workspaces of
    ``per_workspace`` accounts (account ``n`` in workspace ``n // per_workspace``), through
    ``link_account`` as the API does, committed ``LINK_COMMIT_EVERY`` accounts a transaction
    per linker. Linking plans no first units: each cycle starts from an empty queue anyway
    (``reset_cycle``), and planning them (every dataset made linking 10,000 accounts take most
    of an hour; the cycle's two datasets still seven statements an account) was most of it."""
    settings = Settings(data_dir=data_dir)
    engine = create_engine(url, pool_size=LINK_CONCURRENCY)
    sessionmaker = create_sessionmaker(engine)
    async with httpx.AsyncClient(base_url=sandbox_url, timeout=60) as client:
        workspaces: dict[int, uuid.UUID] = {}
        async with sessionmaker() as session:
            for group in sorted({n // per_workspace for n in numbers}):
                found = await session.scalar(
                    select(Workspace.id).where(Workspace.name == f"scale-{group}")
                )
                if found is None:
                    found = (await auth.create_workspace(session, f"scale-{group}"))[0].id
                workspaces[group] = found
            await session.commit()
        factory = AscClientFactory(client, sandbox_url, load_cipher(settings))
        nothing = DatasetRegistry([])  # no first units (above)
        pending = iter(numbers)

        async def linker() -> None:
            async with sessionmaker() as session:
                for count, n in enumerate(pending, 1):
                    workspace_id = workspaces[n // per_workspace]
                    await link_sandbox_team(session, client, factory, nothing, workspace_id, n)
                    if count % LINK_COMMIT_EVERY == 0:
                        await session.commit()
                await session.commit()

        await asyncio.gather(*(linker() for _ in range(LINK_CONCURRENCY)))
    await engine.dispose()


async def reset_cycle(url: str, first_day: bool) -> None:
    """An empty queue and no report data. With ``first_day`` the next plan is every account's
    first day (the whole routine window: 7 daily reports); otherwise a day like any other:
    the older days of the window ran before (their units finished), so each account's cycle is
    yesterday's report and the catalog refresh."""
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("DELETE FROM sync_jobs")
        await conn.execute("DELETE FROM asc_key_budgets")
        await conn.execute(
            "UPDATE asc_accounts SET credential_status = 'active', last_verified_at = now()"
        )
        await conn.execute("TRUNCATE sales_rows, sales_daily_rollup, dataset_availability")
        if not first_day:
            _, *older = DAILY.routine(dt.datetime.now(dt.UTC))
            await conn.execute(
                """
                INSERT INTO sync_jobs (id, account_id, workspace_id, key_id, dataset, unit_key,
                                       state, priority, fair_rank, run_after, created_at,
                                       started_at, finished_at, attempts)
                SELECT gen_random_uuid(), a.id, a.workspace_id, a.key_id, 'sales_daily', day,
                       'succeeded', 1, 0, now(), now(), now(), now(), 1
                FROM asc_accounts a, unnest(CAST($1 AS text[])) AS day
                """,
                [DAILY.unit_key(day) for day in older],
            )
    finally:
        await conn.close()
    await vacuum_queue(url)


async def vacuum_queue(url: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("VACUUM ANALYZE sync_jobs")
    finally:
        await conn.close()


async def time_planning(
    url: str, registry: DatasetRegistry, *, again: bool = False
) -> tuple[float, int, int, float, int, int]:
    """One planning round, rolled back: (seconds, units it would queue, SQL statements), and
    with ``again`` (then committed) a second round over the units it queued, in a transaction
    of its own as the scheduler's next round would be (what every later round of the cycle
    costs), and the units the first queued are deleted again: seconds, units, statements."""
    engine = create_engine(url, pool_size=1)
    statements = 0

    def count(*_: object) -> None:
        nonlocal statements
        statements += 1

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    sessionmaker = create_sessionmaker(engine)
    again_seconds, again_units, again_statements = 0.0, 0, 0
    try:
        async with sessionmaker() as session:
            since = await session.scalar(select(func.now()))
            began = time.perf_counter()
            planned = await scheduler.plan_round(session, registry, dt.datetime.now(dt.UTC))
            seconds = time.perf_counter() - began
            first_statements, statements = statements, 0
            if not again:
                await session.rollback()
                return seconds, planned or 0, first_statements, 0.0, 0, 0
            await session.commit()
        async with sessionmaker() as session:
            began = time.perf_counter()
            again_units = (
                await scheduler.plan_round(session, registry, dt.datetime.now(dt.UTC)) or 0
            )
            await session.commit()
            again_seconds, again_statements = time.perf_counter() - began, statements
        async with sessionmaker() as session:
            await session.execute(delete(SyncJob).where(SyncJob.created_at >= since))
            await session.commit()
    finally:
        await engine.dispose()
    return seconds, planned or 0, first_statements, again_seconds, again_units, again_statements


async def run_cycle(
    url: str, sandbox_url: str, data_dir: Path, args: argparse.Namespace, expected: int
) -> dict[str, object]:
    async with httpx.AsyncClient(base_url=sandbox_url) as client:
        await client.delete("/sandbox/requests")
    env = clean_env(
        ORCHARD_DATABASE_URL=url,
        ORCHARD_ASC_BASE_URL=sandbox_url,
        ORCHARD_DATA_DIR=str(data_dir),
        ORCHARD_LOG_LEVEL="WARNING",
        ORCHARD_WORKER_POLL_SECONDS="0.2",
        ORCHARD_SCHEDULER_SECONDS="3600",  # one planning round per worker: this cycle's
        ORCHARD_STORE_ENABLED="false",
        ORCHARD_FX_ECB_ENABLED="false",
        ORCHARD_KEY_CONCURRENCY="2",
    )
    conn = await asyncpg.connect(url)
    cycle_start = await conn.fetchval("SELECT now()")  # the units the workers plan from now
    started = time.perf_counter()
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--worker-child",
                "--datasets",
                args.datasets,
                "--concurrency",
                str(args.concurrency),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for _ in range(args.workers)
    ]
    planned_at = None
    try:
        while True:
            total, done = await conn.fetchrow(
                "SELECT count(*), count(*) FILTER (WHERE state IN ('succeeded', 'failed')) "
                "FROM sync_jobs WHERE created_at >= $1",
                cycle_start,
            )
            if planned_at is None and total >= expected:
                planned_at = time.perf_counter() - started
            if total >= expected and done >= total:
                break
            for worker in workers:
                if worker.poll() is not None:
                    raise RuntimeError(f"a worker exited: {worker.stderr.read()!r}")  # type: ignore[union-attr]
            if time.perf_counter() - started > args.timeout:
                raise RuntimeError(f"cycle not finished after {args.timeout}s: {done}/{total}")
            await asyncio.sleep(0.5)
        wall = time.perf_counter() - started
        states = dict(
            await conn.fetch(
                "SELECT state, count(*) FROM sync_jobs WHERE created_at >= $1 GROUP BY state",
                cycle_start,
            )
        )
        claimed_twice = await conn.fetchval(
            "SELECT count(*) FROM sync_jobs WHERE created_at >= $1 AND attempts > 1", cycle_start
        )
        first_claim, last_finish = await conn.fetchrow(
            "SELECT min(started_at), max(finished_at) FROM sync_jobs WHERE created_at >= $1",
            cycle_start,
        )
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            worker.wait(timeout=90)
        await conn.close()
    async with httpx.AsyncClient(base_url=sandbox_url, timeout=120) as client:
        log = (await client.get("/sandbox/requests", params={"limit": 100_000_000})).json()
    requests = [r for r in log["requests"] if r["path"].startswith("/v1/")]
    statuses = Counter(r["status"] for r in requests)
    per_key: dict[str, list[float]] = defaultdict(list)
    downloads: Counter[tuple[str, str, str]] = Counter()
    for record in requests:
        per_key[record["key_id"]].append(
            dt.datetime.fromisoformat(record["started_at"]).timestamp()
        )
        if "salesReports" in record["path"] and record["status"] == 200:
            query = "&".join(f"{k}={v}" for k, v in sorted(map(tuple, record["query"])))
            downloads[(record["key_id"], record["path"], query)] += 1
    worst_minute, over_budget = 0, 0
    for times in per_key.values():
        times.sort()
        left, key_worst = 0, 0
        for right, moment in enumerate(times):
            while moment - times[left] > 60:
                left += 1
            key_worst = max(key_worst, right - left + 1)
        worst_minute = max(worst_minute, key_worst)
        over_budget += key_worst * 60 > HOUR_BUDGET
    run_span = (last_finish - first_claim).total_seconds() if first_claim and last_finish else wall
    return {
        "wall": wall,
        "planned_after": planned_at,
        "run_span": run_span,
        "units": sum(states.values()),
        "states": states,
        "claimed_twice": claimed_twice,
        "downloaded_twice": sum(1 for n in downloads.values() if n > 1),
        "requests": len(requests),
        "statuses": dict(statuses),
        "worst_key_per_minute": worst_minute,
        "keys_over_budget": over_budget,
        "max_concurrency": max(log["max_concurrency"].values() or [0]),
    }


async def worker_child(datasets: list[str], concurrency: int) -> None:
    """One worker process: ``orchard worker`` limited to ``datasets`` (no domain tasks)."""
    from app.asc.http_client import asc_timeout, create_http_client
    from app.config import load_settings
    from app.db.runtime import open_database
    from app.kit.logging import configure_logging
    from app.kit.metrics import Metrics
    from app.sync.worker import SyncWorker, WorkerParts

    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format.value)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    parts = WorkerParts(registry=restricted_registry(settings, datasets))
    async with (
        open_database(settings) as database,
        create_http_client(timeout=asc_timeout(settings.asc_read_timeout_seconds)) as http,
    ):
        factory = AscClientFactory(http, settings.asc_base_url, load_cipher(settings))
        worker = SyncWorker(
            settings, database.sessionmaker, factory, parts, Metrics(), concurrency=concurrency
        )
        await worker.run_until(stop)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,5000,10000", help="account counts, ascending")
    parser.add_argument("--workers", type=int, default=3, help="worker processes")
    parser.add_argument("--concurrency", type=int, default=4, help="units per worker process")
    parser.add_argument("--datasets", default="sales_daily,apps")
    parser.add_argument(
        "--first-day",
        action="store_true",
        help="every account's first day (7 daily reports each) instead of a routine day",
    )
    parser.add_argument(
        "--accounts-per-workspace",
        type=int,
        default=10,
        help="accounts linked into one workspace (a workspace's sales day rollup is "
        "recomputed from all its accounts by each account's sales unit, under one lock)",
    )
    parser.add_argument(
        "--skip-account-by-account",
        action="store_true",
        help="do not time the planning round with each planner asked account by account",
    )
    parser.add_argument("--timeout", type=float, default=3600, help="per cycle, seconds")
    parser.add_argument("--database-url", default=os.environ.get("ORCHARD_TEST_DATABASE_URL"))
    parser.add_argument(
        "--database-prefix",
        default="orchard_bench_",
        help="the benchmark database's name prefix (it is created and dropped by the run)",
    )
    parser.add_argument("--worker-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    datasets = args.datasets.split(",")
    if args.worker_child:
        await worker_child(datasets, args.concurrency)
        return
    if not args.database_url:
        raise SystemExit("--database-url (or ORCHARD_TEST_DATABASE_URL): an external PostgreSQL")
    sizes = sorted(int(size) for size in args.sizes.split(","))
    data_dir = Path(tempfile.mkdtemp(prefix="orchard-scale-workers-"))
    registry = restricted_registry(Settings(data_dir=data_dir), datasets)
    print(f"machine: {machine()}; load average {os.getloadavg()[0]:.1f}")
    print(
        f"cycle: {', '.join(datasets)} per account; {args.workers} worker processes x "
        f"{args.concurrency} units; PostgreSQL {args.database_url.rsplit('@', 1)[-1]}"
    )
    async with benchmark_database(args.database_url, args.database_prefix) as url:
        sandbox, sandbox_url = await start_sandbox(data_dir)
        try:
            linked = 0
            for size in sizes:
                began = time.perf_counter()
                await link_accounts(
                    url,
                    sandbox_url,
                    data_dir,
                    range(linked, size),
                    args.accounts_per_workspace,
                )
                link_seconds = time.perf_counter() - began
                linked = size
                await reset_cycle(url, args.first_day)
                plan_seconds, planned, plan_statements, *_ = await time_planning(url, registry)
                every = build_registry(Settings(data_dir=data_dir))
                (
                    whole,
                    whole_units,
                    whole_statements,
                    again,
                    again_units,
                    again_statements,
                ) = await time_planning(url, every, again=True)
                # Side by side: the same round with each planner asked account by account (its
                # reads one statement per account, as before ``plan_many``).
                apart_text = ""
                if not args.skip_account_by_account:
                    one_by_one = DatasetRegistry(
                        [dataclasses.replace(d, plan_many=None) for d in every.all()]
                    )
                    apart, _, apart_statements, *_ = await time_planning(url, one_by_one)
                    apart_text = (
                        f", against {apart:.2f}s, {apart_statements} statements planned "
                        "account by account"
                    )
                print(
                    f"{size} accounts: planning round, {', '.join(datasets)}: {plan_seconds:.2f}s, "
                    f"{plan_statements} statements; every dataset ({whole_units} units): "
                    f"{whole:.2f}s, {whole_statements} statements{apart_text}; the next round "
                    f"over those units queued: {again:.2f}s, {again_statements} statements, "
                    f"{again_units} units queued; load average {os.getloadavg()[0]:.1f}",
                    flush=True,
                )
                # The timed rounds rolled back hundreds of thousands of queued rows: their dead
                # entries in the claim index are the timing's, not the cycle's to walk.
                await vacuum_queue(url)
                r = await run_cycle(url, sandbox_url, data_dir, args, planned)
                wall = float(r["wall"])  # type: ignore[arg-type]
                units = int(r["units"])  # type: ignore[call-overload]
                print(
                    f"{size} accounts (linked in {link_seconds:.0f}s): planning round "
                    f"{plan_seconds:.1f}s for {planned} units "
                    f"({plan_seconds / max(planned, 1) * 1e3:.2f} ms/unit); cycle {units} units "
                    f"in {wall:.1f}s = {units / wall:.1f} units/s (all planned after "
                    f"{r['planned_after']:.1f}s; first claim to last finish "
                    f"{r['run_span']:.1f}s = {units / float(r['run_span']):.1f} units/s); "  # type: ignore[arg-type]
                    f"states {r['states']}; units claimed twice {r['claimed_twice']}, report "
                    f"downloads repeated {r['downloaded_twice']}; {r['requests']} Apple requests "
                    f"({int(r['requests']) / wall:.0f}/s), statuses {r['statuses']}; "  # type: ignore[call-overload]
                    f"keys over budget {r['keys_over_budget']} (worst key "
                    f"{r['worst_key_per_minute']} requests in a minute = "
                    f"{int(r['worst_key_per_minute']) * 60}/h vs {HOUR_BUDGET}/h); "  # type: ignore[call-overload]
                    f"max requests in flight per key {r['max_concurrency']}; "
                    f"load average {os.getloadavg()[0]:.1f}",
                    flush=True,
                )
        finally:
            sandbox.send_signal(signal.SIGTERM)
            sandbox.wait(timeout=30)


if __name__ == "__main__":
    asyncio.run(main())

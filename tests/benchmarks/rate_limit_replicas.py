"""Benchmark: one token's request limit across several API processes on one database.

    python tests/benchmarks/rate_limit_replicas.py [--processes 2] [--per-minute 600]
                                                   [--burst 120] [--seconds 10] [--clients 8]

Starts ``--processes`` real ``orchard serve --no-worker`` processes on one PostgreSQL (behind no
proxy), then ``--clients`` concurrent clients send one token's requests round-robin to all of
them for ``--seconds``. Prints what was served against what the limit allows
(``burst + rate × elapsed``): the ratio the issue judges (target ≤ 1.2; with limits kept per
process it was the number of processes), the requests per second each process served, and how
many of the token's requests reached the database for an allowance.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import sys
import tempfile
import time
from pathlib import Path

import asyncpg
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # runnable as a script

from tests.benchmarks.common import benchmark_database, machine
from tests.benchmarks.sales_common import add_database_argument
from tests.fixtures.accounts import make_tenant
from tests.fixtures.serve import api_processes


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--per-minute", type=int, default=600)
    parser.add_argument("--burst", type=int, default=120)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=8)
    add_database_argument(parser)
    args = parser.parse_args()

    async with benchmark_database(args.database_url) as url:
        tenant = await make_tenant(url, "bench")
        headers = {"Authorization": f"Bearer {tenant.admin_token}"}
        async with (
            api_processes(
                url,
                Path(tempfile.mkdtemp(prefix="orchard-ratelimit-")),
                args.processes,
                rate_limit_per_minute=str(args.per_minute),
                rate_limit_burst=str(args.burst),
            ) as urls,
            httpx.AsyncClient(timeout=30) as client,
        ):
            targets = itertools.cycle(urls)
            counts = {u: {200: 0, 429: 0} for u in urls}
            started = time.monotonic()
            deadline = started + args.seconds

            async def user() -> None:
                while time.monotonic() < deadline:
                    target = next(targets)
                    answer = await client.get(f"{target}/v1/tokens", headers=headers)
                    counts[target][answer.status_code] = (
                        counts[target].get(answer.status_code, 0) + 1
                    )

            await asyncio.gather(*(user() for _ in range(args.clients)))
            elapsed = time.monotonic() - started
        conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            takes = await conn.fetchval(
                "SELECT n_tup_upd FROM pg_stat_user_tables WHERE relname = 'api_request_budgets'"
            )
        finally:
            await conn.close()

    served = sum(c[200] for c in counts.values())
    refused = sum(c[429] for c in counts.values())
    allowed = args.burst + args.per_minute / 60 * elapsed
    print(f"machine: {machine()}; clients and servers share it")
    print(
        f"{args.processes} processes, {args.clients} clients, {elapsed:.1f} s, limit "
        f"{args.per_minute}/min with bursts of {args.burst}"
    )
    for n, target in enumerate(urls):
        print(f"  process {n}: {counts[target][200]:>6} served, {counts[target][429]:>6} refused")
    print(f"served {served}, refused {refused}, the limit allows {allowed:.0f}")
    print(f"served / allowed = {served / allowed:.2f} (target <= 1.2)")
    print(f"database takes of an allowance: {takes} for {served + refused} requests")


if __name__ == "__main__":
    asyncio.run(main())

"""Benchmark: the read API under load, over real HTTP, on realistic data.

    python tests/benchmarks/api_load.py                       # 10M sales rows, 100k reviews
    python tests/benchmarks/api_load.py --rows 1000000 --reviews 20000 --seconds 3   # quick

Loads sales rows exactly as `sales_query.py` does (rollup built by Orchard's own code) and
`--reviews` customer reviews, starts `orchard serve --no-worker` (uvicorn, one process) on that
database, and drives each read endpoint with an async httpx client at increasing concurrency
for `--seconds` each: throughput and p50/p95/p99 per endpoint and level. In the same run a bare
Starlette app (one JSON route, same uvicorn) is driven like `/health`, and the ratio of the two
shows what Orchard's middleware (request id, metrics, logging) costs. The client runs on the
same machine as the server, so on 2 cores both share the CPU: figures are a floor.
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
import textwrap
import time
from pathlib import Path
from typing import Any

import asyncpg
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # runnable as a script

from tests.benchmarks.sales_common import (
    add_database_argument,
    benchmark_database,
    machine,
    percentile,
)
from tests.benchmarks.sales_query import END
from tests.benchmarks.sales_query import load as load_sales

BARE_APP = textwrap.dedent(
    """
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def health(request):
        return JSONResponse({"status": "ok"})

    app = Starlette(routes=[Route("/health", health)])
    """
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def load_reviews(url: str, workspace_id: Any, count: int) -> None:
    """``count`` reviews spread over the benchmark's apps and 400 days, mixed languages."""
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(
            """
            INSERT INTO customer_reviews (id, workspace_id, account_id, app_id, app_apple_id,
                apple_id, rating, title, body, reviewer_nickname, territory, country_code,
                created_at, first_seen_at, last_seen_at)
            SELECT gen_random_uuid(), $1, a.account_id, a.id, a.apple_id, 'bench-' || g,
                   1 + (g * 7) % 5,
                   (ARRAY['Great app', 'Crashes on start', 'Love the new update',
                          'Muy buena', 'Sehr gut', 'とても良い'])[1 + g % 6],
                   (ARRAY['Works well on my phone, the widgets are lovely.',
                          'It crashes every time I open the settings screen.',
                          'Subscription price is too high for what it offers.',
                          'La aplicación funciona muy bien y es rápida.',
                          'Die App ist schnell und übersichtlich.',
                          '毎日使っています。とても便利です。'])[1 + g % 6],
                   'user' || g, (ARRAY['USA', 'GBR', 'DEU', 'FRA', 'JPN', 'ESP'])[1 + g % 6],
                   (ARRAY['US', 'GB', 'DE', 'FR', 'JP', 'ES'])[1 + g % 6],
                   $2::timestamptz - make_interval(mins => g % (400 * 1440)),
                   now(), now()
            FROM generate_series(1, $3) AS g
            JOIN (SELECT id, account_id, apple_id, row_number() OVER (ORDER BY id) - 1 AS n
                  FROM apps) a ON a.n = g % (SELECT count(*) FROM apps)
            """,
            workspace_id,
            dt.datetime.combine(END, dt.time(12), tzinfo=dt.UTC),
            count,
        )
        await conn.execute("VACUUM ANALYZE customer_reviews")
    finally:
        await conn.close()


def start_server(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        args, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


async def wait_up(url: str) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(300):
            try:
                if (await client.get(url)).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


async def get_whole(
    client: httpx.AsyncClient, path: str, headers: dict[str, str]
) -> httpx.Response:
    """GET ``path`` and every further page its ``next_cursor`` names; the last response."""
    response = await client.get(path, headers=headers)
    while response.status_code == 200 and (cursor := response.json().get("next_cursor")):
        # (``params=`` would replace the path's own query string)
        url = httpx.URL(path).copy_merge_params({"cursor": cursor})
        response = await client.get(url, headers=headers)
    return response


async def drive(
    client: httpx.AsyncClient,
    path: str,
    headers: dict[str, str],
    concurrency: int,
    seconds: float,
    *,
    whole: bool = False,
) -> dict[str, float]:
    """Each of ``concurrency`` users sends requests back to back for ``seconds``; with
    ``whole``, one sample is the whole answer (every page, following ``next_cursor``)."""
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds

    async def user() -> None:
        nonlocal errors
        while time.perf_counter() < deadline:
            began = time.perf_counter()
            try:
                if whole:
                    response = await get_whole(client, path, headers)
                else:
                    response = await client.get(path, headers=headers)
            except httpx.TransportError:
                # e.g. a kept-alive connection the server closed while this client, on the
                # same overloaded cores, was still reading the previous page: counted, not fatal.
                errors += 1
                continue
            latencies.append(time.perf_counter() - began)
            if response.status_code != 200:
                errors += 1

    started = time.perf_counter()
    await asyncio.gather(*(user() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    return {
        "rps": len(latencies) / elapsed,
        "p50": percentile(latencies, 0.50) * 1000,
        "p95": percentile(latencies, 0.95) * 1000,
        "p99": percentile(latencies, 0.99) * 1000,
        "errors": errors,
        "n": len(latencies),
    }


#: Endpoints timed as their whole answer (every page), not their first page.
WHOLE_ANSWER = {"sales 90d country all"}


def endpoints(world: dict[str, Any]) -> list[tuple[str, str]]:
    app_id, account_id = world["apps"][0], world["accounts"][0]
    start = (END - dt.timedelta(days=89)).isoformat()
    year = (END - dt.timedelta(days=364)).isoformat()
    return [
        ("health", "/health"),
        ("apps", "/v1/apps?limit=50"),
        ("sales 90d/app/day", f"/v1/sales?from={start}&to={END}&granularity=day&app_id={app_id}"),
        ("sales 90d by country", f"/v1/sales?from={start}&to={END}&group_by=country"),
        # The whole answer (90 days × 60 storefronts: two pages of at most 5,000), as a
        # dashboard asks for it: see WHOLE_ANSWER.
        (
            "sales 90d country all",
            f"/v1/sales?from={start}&to={END}&group_by=country&limit=5000",
        ),
        ("sales 365d by month", f"/v1/sales?from={year}&to={END}&granularity=month"),
        ("sales rows", f"/v1/sales/rows?from={start}&to={END}&limit=50"),
        ("app sales summary", f"/v1/apps/{app_id}/sales/summary?from={start}&to={END}"),
        ("reviews", "/v1/reviews?limit=50"),
        ("reviews search", "/v1/reviews?q=crashes&limit=50"),
        ("ratings", f"/v1/apps/{app_id}/ratings?from={start}&to={END}"),
        ("sync-status", f"/v1/accounts/{account_id}/sync-status"),
    ]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--accounts", type=int, default=4)
    parser.add_argument("--apps", type=int, default=10)
    parser.add_argument("--reviews", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=5.0, help="per endpoint and level")
    parser.add_argument("--levels", default="1,8,32")
    parser.add_argument(
        "--only", default="", help="comma-separated endpoint labels to drive (default: all)"
    )
    add_database_argument(parser)
    args = parser.parse_args()
    levels = [int(level) for level in args.levels.split(",")]
    workdir = Path(tempfile.mkdtemp(prefix="orchard-load-"))

    async with benchmark_database(args.database_url) as url:
        world = await load_sales(url.replace("postgresql+asyncpg://", "postgresql://"), args)
        plain_url = url.replace("postgresql+asyncpg://", "postgresql://")
        await load_reviews(plain_url, world["tenant"].workspace_id, args.reviews)
        print(f"loaded {args.reviews:,} reviews")
        env = {k: v for k, v in os.environ.items() if not k.startswith("ORCHARD_")}
        env.update(
            ORCHARD_DATABASE_URL=url,
            ORCHARD_DATA_DIR=str(workdir),
            ORCHARD_LOG_LEVEL="WARNING",
            ORCHARD_EXPECT_WORKER="false",
            ORCHARD_RATE_LIMIT_PER_MINUTE="100000000",
            ORCHARD_RATE_LIMIT_BURST="100000000",
            ORCHARD_DB_POOL_SIZE="20",
        )
        orchard_port, bare_port = free_port(), free_port()
        (workdir / "bare.py").write_text(BARE_APP)
        servers = [
            start_server(
                [sys.executable, "-m", "app.cli", "serve", "--no-worker", "--port", str(orchard_port)],
                env,
                Path.cwd(),
            ),
            start_server(
                [sys.executable, "-m", "uvicorn", "bare:app", "--port", str(bare_port),
                 "--log-level", "warning", "--no-access-log"],
                env,
                workdir,
            ),
        ]  # fmt: skip
        try:
            await wait_up(f"http://127.0.0.1:{orchard_port}/health")
            await wait_up(f"http://127.0.0.1:{bare_port}/health")
            headers = {"Authorization": f"Bearer {world['tenant'].token}"}
            print(f"machine: {machine()}; client and server share it")
            print(
                f"{'endpoint':<22} {'conc':>4} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}"
            )
            limits = httpx.Limits(max_connections=max(levels) * 2)
            async with httpx.AsyncClient(
                base_url=f"http://127.0.0.1:{orchard_port}", limits=limits, timeout=60
            ) as client:
                only = {label for label in args.only.split(",") if label}
                for label, path in endpoints(world):
                    if only and label not in only:
                        continue
                    whole = label in WHOLE_ANSWER
                    await drive(client, path, headers, 2, 0.5, whole=whole)  # warm-up
                    for level in levels:
                        r = await drive(client, path, headers, level, args.seconds, whole=whole)
                        flag = f"  ({r['errors']:.0f} non-200)" if r["errors"] else ""
                        print(
                            f"{label:<22} {level:>4} {r['rps']:>8.0f} {r['p50']:>8.1f} "
                            f"{r['p95']:>8.1f} {r['p99']:>8.1f}{flag}"
                        )
            async with httpx.AsyncClient(
                base_url=f"http://127.0.0.1:{bare_port}", limits=limits, timeout=60
            ) as bare:
                level = max(levels)
                await drive(bare, "/health", {}, 2, 0.5)
                b = await drive(bare, "/health", {}, level, args.seconds)
            async with httpx.AsyncClient(
                base_url=f"http://127.0.0.1:{orchard_port}", limits=limits, timeout=60
            ) as client:
                o = await drive(client, "/health", {}, level, args.seconds)
            print(
                f"/health at concurrency {level}: Orchard {o['rps']:.0f} req/s, bare Starlette "
                f"{b['rps']:.0f} req/s, ratio {o['rps'] / b['rps']:.2f}"
            )
        finally:
            for server in servers:
                server.send_signal(signal.SIGTERM)
            for server in servers:
                server.wait(timeout=30)


if __name__ == "__main__":
    asyncio.run(main())

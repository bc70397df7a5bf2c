"""Benchmark: the sales read routes of two code trees side by side on one loaded database.

    git worktree add /tmp/before <commit>   # or any copy of the tree to compare with
    python tests/benchmarks/sales_side_by_side.py --database-url postgresql://…/orchard_bench_x \\
        --before /tmp/before [--seconds 5 --levels 1,32]

The database is one `api_load.py`/`sales_query.py` loaded (kept, or loaded again), migrated
to this tree's head (the newer tables do not disturb older code). Each tree is served by its
own `orchard serve --no-worker`; for each endpoint the two answers are compared (they must be
identical), then each level is driven on one server and then the other, so both see the same
machine. The whole 90-day by-country answer is timed over every page.

Two clients (``--client``). ``raw`` (the default) measures the server, not the client:
pre-built requests on keep-alive asyncio sockets, each answer read as the bytes the server
sends (gzip, never decoded or parsed); a whole answer is its pages' requests in turn, their
cursors resolved once beforehand (the data does not change during the run, so every answer's
pages are the same), and every answer's ETag is checked against the reference answer's (a
mismatch counts as an error). ``httpx`` is the client a Python caller would use: it decodes
and parses every answer (at concurrency 32 on the same cores, that parsing dominates).

This tree keeps repeated answers (``app.kit.response_cache``), so it is served twice: `cold`
with the cache off (``ORCHARD_RESPONSE_CACHE_MB=0``: every answer computed, as on a cache miss
— a miss also computes the version, in the states statement it runs anyway; the version
alone is timed apart at the end) and `warm`
with it on (the same request repeated: after the first, answers come from the cache). The
client asks as httpx does by default (``Accept-Encoding`` printed below), so each server
gzips the 2 MB answers. ``--before-warm`` also serves the before tree with its cache on (a
tree that has one).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import signal
import sys
import tempfile
import time
from pathlib import Path

import asyncpg
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # runnable as a script

from app.auth import service as auth_service
from app.auth.tokens import Scope
from app.db.engine import create_engine, create_sessionmaker
from app.sales import version_repository
from app.sales.schemas import SalesFilter
from tests.benchmarks.api_load import drive, free_port, start_server, wait_up
from tests.benchmarks.sales_common import percentile
from tests.benchmarks.sales_query import END

ROOT = Path(__file__).resolve().parents[2]


async def pages_of(client: httpx.AsyncClient, path: str, headers: dict[str, str]) -> list[str]:
    """The paths of every page of ``path``'s answer (following ``next_cursor``)."""
    pages = [path]
    response = await client.get(path, headers=headers)
    while cursor := response.json().get("next_cursor"):
        pages.append(str(httpx.URL(path).copy_merge_params({"cursor": cursor})))
        response = await client.get(pages[-1], headers=headers)
    return pages


def raw_request(port: int, path: str, token: str) -> bytes:
    lines = [
        f"GET {path} HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        "Accept: */*",
        "Accept-Encoding: gzip, deflate",  # as httpx sends it
        f"Authorization: Bearer {token}",
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def _read_answer(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    """(head, body bytes as sent) of one HTTP/1.1 answer: Content-Length or chunked."""
    head = await reader.readuntil(b"\r\n\r\n")
    length, chunked = 0, False
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        name = name.lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if not chunked:
        return head, await reader.readexactly(length)
    parts = []
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        parts.append(await reader.readexactly(size + 2))
        if size == 0:
            return head, b"".join(parts)


def _etag(head: bytes) -> bytes | None:
    for line in head.split(b"\r\n"):
        if line[:5].lower() == b"etag:":
            return line[5:].strip()
    return None


async def raw_drive(
    port: int, requests: list[bytes], etags: list[bytes], concurrency: int, seconds: float
) -> dict[str, float]:
    """Like ``api_load.drive``, over ``concurrency`` keep-alive sockets: one sample is
    ``requests`` sent in turn (a whole answer's pages); an answer that is not a 200 with the
    expected ETag is an error."""
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds

    async def user() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=2**20)
        try:
            while time.perf_counter() < deadline:
                began = time.perf_counter()
                good = True
                for request, etag in zip(requests, etags, strict=True):
                    writer.write(request)
                    head, _ = await _read_answer(reader)
                    good = good and head.startswith(b"HTTP/1.1 200") and _etag(head) == etag
                latencies.append(time.perf_counter() - began)
                errors += not good
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(user() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    return {
        "rps": len(latencies) / elapsed,
        "p50": percentile(latencies, 0.50) * 1000,
        "p95": percentile(latencies, 0.95) * 1000,
        "errors": errors,
        "n": len(latencies),
    }


async def sales_endpoints(url: str) -> list[tuple[str, str, bool]]:
    """The timed answers of the world in ``url``: (label, path, timed over every page)."""
    conn = await asyncpg.connect(url)
    try:
        app_id = await conn.fetchval("SELECT id FROM apps ORDER BY sku LIMIT 1")
    finally:
        await conn.close()
    start = (END - dt.timedelta(days=89)).isoformat()
    year = (END - dt.timedelta(days=364)).isoformat()
    return [
        ("90d country, all pages", f"/v1/sales?from={start}&to={END}&group_by=country&limit=5000", True),
        ("365d by month", f"/v1/sales?from={year}&to={END}&granularity=month", False),
        ("90d one app by day", f"/v1/sales?from={start}&to={END}&app_id={app_id}", False),
        ("app sales summary", f"/v1/apps/{app_id}/sales/summary?from={start}&to={END}", False),
    ]  # fmt: skip


async def read_token(url: str) -> str:
    conn = await asyncpg.connect(url)
    try:
        workspace_id = await conn.fetchval("SELECT id FROM workspaces ORDER BY name LIMIT 1")
    finally:
        await conn.close()
    engine = create_engine(url, pool_size=1)
    try:
        async with create_sessionmaker(engine)() as session:
            issued = await auth_service.create_token(
                session, workspace_id, name="side-by-side", scopes=[Scope.READ]
            )
            await session.commit()
            return issued.secret
    finally:
        await engine.dispose()


async def time_version(url: str, start: str) -> str:
    """p50/p95 of the version of the 90-day by-country query read alone (every request reads
    it within its first statement, the range's states; a hit runs only that statement)."""
    conn = await asyncpg.connect(url)
    try:
        workspace_id = await conn.fetchval("SELECT id FROM workspaces ORDER BY name LIMIT 1")
    finally:
        await conn.close()
    engine = create_engine(url.replace("postgresql://", "postgresql+asyncpg://", 1), pool_size=1)
    samples = []
    try:
        async with create_sessionmaker(engine)() as session:
            for _ in range(30):
                began = time.perf_counter()
                await version_repository.sales_version(
                    session,
                    workspace_id,
                    start=dt.date.fromisoformat(start),
                    end=END,
                    granularity="day",
                    dimensions=["country"],
                    filters=SalesFilter(),
                )
                samples.append((time.perf_counter() - began) * 1000)
    finally:
        await engine.dispose()
    return f"p50 {percentile(samples, 0.5):.1f} ms, p95 {percentile(samples, 0.95):.1f} ms"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--before", required=True, type=Path, help="the tree to compare with")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--levels", default="1,32")
    parser.add_argument("--pool-size", type=int, default=8, help="connections per server")
    parser.add_argument("--client", choices=("raw", "httpx"), default="raw")
    parser.add_argument(
        "--before-warm", action="store_true", help="also serve the before tree, cache on"
    )
    parser.add_argument("--only", default="", help="comma-separated endpoint numbers (1-4)")
    args = parser.parse_args()
    url = args.database_url.replace("postgresql+asyncpg://", "postgresql://")
    token = await read_token(url)
    endpoints = await sales_endpoints(url)
    start = (END - dt.timedelta(days=89)).isoformat()  # the 90 days' first, as they ask
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORCHARD_")}
    env.update(
        ORCHARD_DATABASE_URL=url.replace("postgresql://", "postgresql+asyncpg://", 1),
        ORCHARD_LOG_LEVEL="WARNING",
        ORCHARD_EXPECT_WORKER="false",
        ORCHARD_RATE_LIMIT_PER_MINUTE="100000000",
        ORCHARD_RATE_LIMIT_BURST="100000000",
        # Three servers on one shared PostgreSQL: each keeps its pool open between runs.
        ORCHARD_DB_POOL_SIZE=str(args.pool_size),
    )
    ports, servers = {}, []
    trees = [("before", args.before, "0"), ("cold", ROOT, "0"), ("warm", ROOT, "64")]
    if args.before_warm:
        trees.insert(1, ("b-warm", args.before, "64"))
    if args.only:
        endpoints = [endpoints[int(n) - 1] for n in args.only.split(",")]
    for name, tree, cache_mb in trees:
        ports[name] = free_port()
        command = [sys.executable, "-m", "app.cli", "serve", "--no-worker"]
        data = dict(
            env,
            ORCHARD_DATA_DIR=tempfile.mkdtemp(prefix=f"orchard-{name}-"),
            ORCHARD_RESPONSE_CACHE_MB=cache_mb,
        )
        servers.append(start_server([*command, "--port", str(ports[name])], data, tree))
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=80)
    try:
        for port in ports.values():
            for attempt in range(4):  # four servers starting on a loaded machine: up to 2 min
                try:
                    await wait_up(f"http://127.0.0.1:{port}/health")
                    break
                except RuntimeError:
                    if attempt == 3:
                        raise
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{ports['warm']}") as client:
            sent = client.build_request("GET", endpoints[0][1]).headers["accept-encoding"]
            answer = await client.get(endpoints[0][1], headers=headers)
            print(
                f"client Accept-Encoding: {sent!r}; the server answers "
                f"Content-Encoding: {answer.headers.get('content-encoding')!r}, "
                f"{answer.num_bytes_downloaded:,} bytes for {len(answer.content):,} of JSON"
            )
        print(f"client: {args.client}; load {os.getloadavg()}")
        print(f"{'endpoint':<24} {'conc':>4} {'code':>6} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8}")
        for label, path, whole in endpoints:
            bodies, pages, etags = {}, {}, {}
            for name, port in ports.items():
                base = f"http://127.0.0.1:{port}"
                async with httpx.AsyncClient(base_url=base, timeout=600) as client:
                    answers = [await client.get(page, headers=headers) for page in
                               (await pages_of(client, path, headers) if whole else [path])]  # fmt: skip
                    pages[name] = [str(a.request.url.raw_path, "ascii") for a in answers]
                    bodies[name] = [a.content for a in answers]
                    etags[name] = [a.headers["etag"].encode() for a in answers]
            same = all(b == bodies["before"] for b in bodies.values())
            sizes = ", ".join(f"{len(b):,}" for b in bodies["before"])
            print(f"{label}: identical answers (bytes): {same}; pages of {sizes} bytes of JSON")
            for level in [int(level) for level in args.levels.split(",")]:
                for name, port in ports.items():
                    if args.client == "raw":
                        requests = [raw_request(port, page, token) for page in pages[name]]
                        r = await raw_drive(port, requests, etags[name], level, args.seconds)
                    else:
                        base = f"http://127.0.0.1:{port}"
                        async with httpx.AsyncClient(
                            base_url=base, limits=limits, timeout=600
                        ) as c:
                            r = await drive(c, path, headers, level, args.seconds, whole=whole)
                    print(
                        f"{label:<24} {level:>4} {name:>6} {r['rps']:>7.1f} {r['p50']:>8.1f} "
                        f"{r['p95']:>8.1f}  (n={r['n']:.0f}, errors {r['errors']:.0f}, "
                        f"load {os.getloadavg()[0]:.1f})",
                        flush=True,
                    )
        print(
            f"version alone (what a miss adds to its states statement): {await time_version(url, start)}"
        )
    finally:
        for server in servers:
            server.send_signal(signal.SIGTERM)
        for server in servers:
            server.wait(timeout=30)


if __name__ == "__main__":
    asyncio.run(main())

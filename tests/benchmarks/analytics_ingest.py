"""Benchmark: a 1,000,000-row analytics report instance, and /v1/analytics on many rows.

    python tests/benchmarks/analytics_ingest.py                          # the issue's sizes
    python tests/benchmarks/analytics_ingest.py --rows 100000 --query-rows 1000000  # quick

1. Generates an *App Sessions Standard* instance (ANALYTICS §7.2 columns, 5 dates, 30
   territories, versions, devices, sources) as gzip TSV segments of 200,000 rows on disk.
2. Orchard's full ingest through the real ``analytics_instances`` unit: the engine claims it,
   the client lists the segments and downloads each (served in 64 KiB chunks by an ``httpx``
   MockTransport: Apple and S3 at the HTTP boundary), checks size and MD5, gunzips and
   streams it into COPY by header name, records the vintages and commits. Peak RSS growth of
   this process is sampled during the unit.
3. A bare ``COPY`` (asyncpg ``copy_records_to_table``) of the same rows, typed in Python
   beforehand (untimed), into the same (emptied) table.
4. ``--query-rows`` rows for 10 apps over 400 days are generated in SQL and rolled up (the
   rollups ingest keeps), then ``GET /v1/analytics`` for 90 days by territory of one app is
   timed (p50/p95) from the rollups, and with ``vintage=first`` from the raw rows (the same
   answer here: one vintage per date; the raw-row figure is the "before"). ``--query-only``
   skips parts 1–3.

Targets (issue 16): ingest ≥ 0.5× the bare COPY; RSS growth < 150 MB; the query p95 < 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import gzip
import hashlib
import random
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # runnable as a script

from app.analytics import rollups
from app.config import Settings
from app.db.engine import create_engine, create_sessionmaker
from app.main import create_app
from app.reports import partitions
from app.sandbox.state import SandboxState
from tests.benchmarks.common import benchmark_database, machine
from tests.benchmarks.sales_common import (
    RssSampler,
    add_app,
    add_database_argument,
    describe,
    load_average,
    make_tenant,
)
from tests.fixtures.accounts import Tenant as FixtureTenant
from tests.fixtures.accounts import link
from tests.fixtures.engine import run_unit

CHUNK = 64 * 1024
SEGMENT_ROWS = 200_000
PROCESSING = dt.date(2025, 6, 10)
HEADER = (
    "Date\tApp Name\tApp Apple Identifier\tApp Version\tDevice\tPlatform Version\tSource Type\t"
    "Page Type\tApp Download Date\tTerritory\tSessions\tTotal Session Duration\tUnique Devices"
)
TERRITORIES = "US CA MX BR AR GB DE FR IT ES NL CH SE NO PL TR JP KR CN TW HK SG IN AU NZ SA AE ZA KZ UA".split()  # noqa: SIM905
DEVICES = ("iPhone", "iPad", "Apple TV", "Apple Vision", "Desktop")
SOURCES = ("App Store search", "App Store browse", "App referrer", "Web referrer", "Unavailable")
PAGES = ("Product page", "No page", "Store sheet", "In-app event")
APPLE_ID = "1500000000"
FIRST = {"vintage": "first"}


def generate_lines(rows: int) -> Iterator[str]:
    r = random.Random(16)
    days = [PROCESSING - dt.timedelta(days=n) for n in range(5, 0, -1)]
    for n in range(rows):
        day = days[n * len(days) // rows]
        sessions = r.randint(1, 400)
        yield (
            f"{day}\tBench App\t{APPLE_ID}\t{r.randint(1, 40)}.{r.randint(0, 9)}\t"
            f"{r.choice(DEVICES)}\tiOS 18.{r.randint(0, 5)}\t{r.choice(SOURCES)}\t"
            f"{r.choice(PAGES)}\t\t{r.choice(TERRITORIES)}\t{sessions}\t"
            f"{sessions * r.randint(15, 900)}\t{max(1, sessions // 2)}\n"
        )


def write_segments(folder: Path, rows: int) -> list[Path]:
    paths: list[Path] = []
    lines = generate_lines(rows)
    remaining = rows
    while remaining > 0 or not paths:
        path = folder / f"{len(paths)}.csv.gz"
        take = min(SEGMENT_ROWS, remaining)
        with gzip.open(path, "wt", encoding="utf-8", compresslevel=6) as handle:
            handle.write(HEADER + "\n")
            for _ in range(take):
                handle.write(next(lines))
        remaining -= take
        paths.append(path)
    return paths


class FileApple:
    """The segments list (fresh URLs) and S3's downloads, from the files on disk."""

    def __init__(self, paths: list[Path], instance: str) -> None:
        self.paths, self.instance = paths, instance
        self.md5 = [hashlib.md5(p.read_bytes(), usedforsecurity=False).hexdigest() for p in paths]

    async def _chunks(self, path: Path) -> AsyncIterator[bytes]:
        with path.open("rb") as handle:
            while chunk := handle.read(CHUNK):
                yield chunk

    async def handle(self, request: httpx.Request) -> httpx.Response:
        headers = {"X-Rate-Limit": "user-hour-lim:3600;user-hour-rem:3500;"}
        path = request.url.path
        if request.url.host == "s3.bench":
            index = int(path.rsplit("/", 1)[-1].split(".")[0])
            return httpx.Response(200, content=self._chunks(self.paths[index]))
        if path == f"/v1/analyticsReportInstances/{self.instance}/segments":
            data = [
                {
                    "type": "analyticsReportSegments",
                    "id": str(uuid.uuid4()),
                    "attributes": {
                        "checksum": md5,
                        "sizeInBytes": p.stat().st_size,
                        "url": f"https://s3.bench/reports/{n}.csv.gz?X-Amz-Expires=300",
                    },
                }
                for n, (p, md5) in enumerate(zip(self.paths, self.md5, strict=True))
            ]
            return httpx.Response(200, json={"data": data, "links": {}}, headers=headers)
        return httpx.Response(200, json={"data": [], "links": {}}, headers=headers)


def rate(rows: int, seconds: float) -> str:
    return f"{rows:>10,} rows in {seconds:6.2f} s = {rows / seconds:>9,.0f} rows/s"


async def full_ingest(
    url: str, paths: list[Path], rows: int, folder: Path
) -> tuple[float, uuid.UUID, uuid.UUID, uuid.UUID]:
    settings = Settings(
        database_url=url.replace("postgresql://", "postgresql+asyncpg://", 1),  # type: ignore[arg-type]
        data_dir=folder / "orchard",
        asc_base_url="https://apple.bench",
        run_worker=False,
        expect_worker=False,
        log_level="WARNING",
    )
    tenant = await make_tenant(url, "bench")
    instance = str(uuid.uuid4())
    apple = FileApple(paths, instance)
    application = create_app(settings, asc_transport=httpx.MockTransport(apple.handle))
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            key = SandboxState(seed=1).add_key("bench")
            owner = FixtureTenant(tenant.workspace_id, "bench", tenant.token)
            response = await link(client, owner, key, verify=False)
            assert response.status_code == 201, response.text
            account_id = uuid.UUID(response.json()["id"])
        conn = await asyncpg.connect(url)
        try:
            app_id = await add_app(conn, tenant.workspace_id, account_id, APPLE_ID, "bench")
            await conn.execute(
                "INSERT INTO analytics_instances (id, workspace_id, account_id, app_id, "
                "apple_instance_id, access_type, report, report_name, granularity, "
                "processing_date, state, rows, segments) VALUES (gen_random_uuid(), $1, $2, $3, "
                "$4, 'ONGOING', 'sessions', 'App Sessions Standard', 'DAILY', $5, 'pending', 0, 0)",
                tenant.workspace_id,
                account_id,
                app_id,
                instance,
                PROCESSING,
            )
        finally:
            await conn.close()
        with RssSampler() as rss:
            started = time.perf_counter()
            await run_unit(application, account_id, "analytics_instances", instance)
            seconds = time.perf_counter() - started
        conn = await asyncpg.connect(url)
        try:
            loaded = await conn.fetchrow(
                "SELECT id, state, rows, segments FROM analytics_instances "
                "WHERE apple_instance_id = $1",
                instance,
            )
            if loaded is None or loaded["state"] != "loaded" or loaded["rows"] != rows:
                error = await conn.fetchval(
                    "SELECT last_error_message FROM sync_jobs WHERE unit_key = $1", instance
                )
                raise RuntimeError(f"the unit did not load the instance: {loaded} {error}")
        finally:
            await conn.close()
    print(
        f"full ingest: analytics_instances unit ({len(paths)} segments: list, download, "
        f"size + MD5, gunzip, COPY, vintages, commit)\n    {rate(rows, seconds)}"
    )
    print(
        f"peak RSS growth during the unit: {rss.growth_mb:.1f} MB "
        f"(from {rss.baseline / 2**20:.0f} MB)   target < 150 MB: "
        f"{'MET' if rss.growth_mb < 150 else 'MISSED'}"
    )
    return seconds, tenant.workspace_id, app_id, loaded["id"]


COLUMNS = (
    "workspace_id", "app_id", "instance_id", "segment", "report", "report_date", "app_version",
    "device", "platform_version", "source_type", "page_type", "territory", "count", "duration",
    "unique_count", "granularity", "processing_date",
)  # fmt: skip


def typed_rows(paths: list[Path], workspace_id: uuid.UUID, app_id: uuid.UUID,
               instance_id: uuid.UUID) -> list[tuple[Any, ...]]:  # fmt: skip
    records = []
    for n, path in enumerate(paths):
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            next(handle)
            for line in handle:
                c = line.rstrip("\n").split("\t")
                records.append(
                    (workspace_id, app_id, instance_id, n, "sessions", dt.date.fromisoformat(c[0]),
                     c[3], c[4], c[5], c[6], c[7], c[9], int(c[10]), int(c[11]), int(c[12]),
                     "DAILY", PROCESSING)
                )  # fmt: skip
    return records


async def bare_copy(url: str, paths: list[Path], rows: int, workspace_id: uuid.UUID,
                    app_id: uuid.UUID, instance_id: uuid.UUID) -> float:  # fmt: skip
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("TRUNCATE analytics_rows")
        await conn.execute("VACUUM ANALYZE analytics_rows")
        records = typed_rows(paths, workspace_id, app_id, instance_id)
        assert len(records) == rows
        started = time.perf_counter()
        async with conn.transaction():
            await conn.copy_records_to_table("analytics_rows", records=records, columns=COLUMNS)
        seconds = time.perf_counter() - started
    finally:
        await conn.close()
    print(f"bare COPY: copy_records_to_table, typed rows\n    {rate(rows, seconds)}")
    return seconds


async def _leaves(url: str, first: dt.date, last: dt.date) -> None:
    """The daily leaves of the instances' processing months, made as the unit makes them."""
    engine = create_engine(url.replace("postgresql://", "postgresql+asyncpg://", 1), pool_size=2)
    try:
        async with create_sessionmaker(engine)() as session:
            month = first.replace(day=1)
            while month <= last:
                await partitions.ensure_leaf(session, "analytics_rows", "DAILY", month)
                month = (month + dt.timedelta(days=32)).replace(day=1)
    finally:
        await engine.dispose()


async def query_benchmark(url: str, query_rows: int, folder: Path, samples: int) -> float:
    """``query_rows`` rows for 10 apps over 400 days (one instance per app and day), then the
    90-day by-territory query of one app, timed over the API."""
    settings = Settings(
        database_url=url.replace("postgresql://", "postgresql+asyncpg://", 1),  # type: ignore[arg-type]
        data_dir=folder / "orchard-q",
        run_worker=False,
        expect_worker=False,
        log_level="WARNING",
    )
    tenant = await make_tenant(url, "query")
    conn = await asyncpg.connect(url)
    apps, days = 10, 400
    per_instance = max(1, query_rows // (apps * days))
    try:
        account_id = await conn.fetchval(
            "INSERT INTO asc_accounts (id, workspace_id, name, key_id, key_type, key_fingerprint, "
            "credential_status, capabilities) VALUES (gen_random_uuid(), $1, 'q', 'QBENCH', "
            "'team', 'f', 'active', '{}'::jsonb) RETURNING id",
            tenant.workspace_id,
        )
        app_ids = [
            await add_app(conn, tenant.workspace_id, account_id, str(1_600_000_000 + n), f"q{n}")
            for n in range(apps)
        ]
        started = time.perf_counter()
        await conn.execute(
            """
            INSERT INTO analytics_instances (id, workspace_id, account_id, app_id,
                apple_instance_id, access_type, report, report_name, granularity,
                processing_date, state, rows, segments)
            SELECT gen_random_uuid(), $1, $2, a, gen_random_uuid()::text, 'ONGOING', 'sessions',
                   'App Sessions Standard', 'DAILY', $4::date - d + 6, 'loaded', $5, 1
            FROM unnest($3::uuid[]) AS a, generate_series(1, 400) AS d
            """,
            tenant.workspace_id, account_id, app_ids, PROCESSING, per_instance,
        )  # fmt: skip
        first_processed = PROCESSING - dt.timedelta(days=400 - 6)
        await _leaves(url, first_processed, PROCESSING)
        await conn.execute(
            """
            INSERT INTO analytics_vintages (instance_id, report_date, workspace_id, account_id,
                app_id, report, granularity, processing_date, rows)
            SELECT id, processing_date - 6, workspace_id, account_id, app_id, report,
                   granularity, processing_date, rows
            FROM analytics_instances WHERE account_id = $1
            """,
            account_id,
        )
        await conn.execute(
            """
            INSERT INTO analytics_rows (workspace_id, app_id, instance_id, segment, report,
                report_date, app_version, device, platform_version, source_type, page_type,
                territory, count, duration, unique_count, granularity, processing_date)
            SELECT i.workspace_id, i.app_id, i.id, 0, 'sessions', i.processing_date - 6,
                   (n % 40)::text, (ARRAY['iPhone','iPad','Apple TV','Desktop'])[1 + n % 4],
                   'iOS 18.' || (n % 6), (ARRAY['App Store search','App referrer',
                   'Web referrer','Unavailable'])[1 + n % 4], 'No page',
                   ($2::text[])[1 + n % 30], 1 + n % 300, 60 * (1 + n % 300), 1 + n % 150,
                   i.granularity, i.processing_date
            FROM analytics_instances AS i, generate_series(1, $3) AS n
            WHERE i.account_id = $1
            """,
            account_id, TERRITORIES, per_instance,
        )  # fmt: skip
        await conn.execute("VACUUM ANALYZE analytics_rows")
        await conn.execute("VACUUM ANALYZE analytics_vintages")
        total = await conn.fetchval("SELECT count(*) FROM analytics_rows")
        print(f"generated {total:,} rows in SQL in {time.perf_counter() - started:.1f} s")
    finally:
        await conn.close()
    return await measure_queries(
        url, settings, tenant.token, account_id, app_ids, days, total, samples
    )


async def measure_queries(
    url: str,
    settings: Settings,
    token: str,
    account_id: uuid.UUID,
    app_ids: list[uuid.UUID],
    days: int,
    total: int,
    samples: int,
) -> float:
    """Roll the generated rows up, then time the query from the rollups and the raw rows."""
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        # The rows were written in SQL, past the ingest that keeps the rollups: roll them up
        # with the function ingest calls, 40 dates of an app per transaction (ingest: an
        # instance's dates, in the unit's transaction).
        started = time.perf_counter()
        first_day = PROCESSING - dt.timedelta(days=days)  # the generated report dates
        all_days = [first_day + dt.timedelta(days=n) for n in range(days)]
        for app_id in app_ids:
            for n in range(0, days, 40):
                async with application.state.sessionmaker() as session, session.begin():
                    await rollups.rebuild(
                        session,
                        app_id=app_id,
                        report="sessions",
                        granularity="DAILY",
                        dates=all_days[n : n + 40],
                    )
        conn = await asyncpg.connect(url)
        try:
            await conn.execute("VACUUM ANALYZE analytics_rollups")
            kept = await conn.fetchval("SELECT count(*) FROM analytics_rollups")
            covered = await conn.fetchval("SELECT sum(rows) FROM analytics_rollups")
            if covered != total:
                raise RuntimeError(f"the rollups cover {covered} rows of {total}")
        finally:
            await conn.close()
        print(f"rolled up into {kept:,} rollup rows in {time.perf_counter() - started:.1f} s")
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            end = PROCESSING - dt.timedelta(days=7)
            params = {
                "from": str(end - dt.timedelta(days=89)),
                "to": str(end),
                "group_by": "territory",
                "app_id": str(app_ids[3]),
            }
            headers = {"Authorization": f"Bearer {token}"}
            answers, p95s = [], []
            # `vintage=first` must read the raw rows (the rollups hold the latest vintage);
            # with one vintage per date here it is the same answer: the "before" figure.
            for label, extra in (("rollups", {}), ("raw rows, vintage=first", FIRST)):
                timings: list[float] = []
                for n in range(samples + 3):
                    started = time.perf_counter()
                    response = await client.get(
                        "/v1/analytics", params={**params, **extra}, headers=headers
                    )
                    elapsed = time.perf_counter() - started
                    assert response.status_code == 200, response.text
                    if n >= 3:  # warm-up
                        timings.append(elapsed)
                body = response.json()
                answers.append(body["items"])
                print(
                    f"GET /v1/analytics 90 days by territory, one app, from {label} "
                    f"({len(body['items'])} items): {describe(timings)}"
                )
                ordered = sorted(timings)
                p95s.append(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))])
            if answers[0] != answers[1]:
                raise RuntimeError("the rollups and the raw rows answered differently")
            print("rollups and raw rows give the same items")
    return p95s[0]


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--query-rows", type=int, default=10_000_000)
    parser.add_argument("--samples", type=int, default=40)
    parser.add_argument(
        "--query-only", action="store_true", help="skip the ingest part (only the query)"
    )
    add_database_argument(parser)
    args = parser.parse_args()
    print(f"machine: {machine()}; {load_average()}")
    with tempfile.TemporaryDirectory(prefix="orchard-bench-analytics-") as name:
        folder = Path(name)
        if args.query_only:
            async with benchmark_database(args.database_url) as url:
                p95 = await query_benchmark(url, args.query_rows, folder, args.samples)
            print(f"query p95 {p95 * 1000:.1f} ms   target < 100 ms: "
                  f"{'MET' if p95 < 0.1 else 'MISSED'}")  # fmt: skip
            print(f"done; {load_average()}")
            return 0
        started = time.perf_counter()
        paths = write_segments(folder, args.rows)
        size = sum(p.stat().st_size for p in paths) / 2**20
        print(f"generated {args.rows:,} rows: {size:.1f} MB gzipped in "
              f"{time.perf_counter() - started:.1f} s")  # fmt: skip
        async with benchmark_database(args.database_url) as url:
            full, workspace_id, app_id, instance_id = await full_ingest(
                url, paths, args.rows, folder
            )
            bare = await bare_copy(url, paths, args.rows, workspace_id, app_id, instance_id)
            ratio = bare / full
            print(
                f"full ingest throughput = {ratio:.0%} of bare COPY   target >= 50%: "
                f"{'MET' if ratio >= 0.5 else 'MISSED'}"
            )
            p95 = await query_benchmark(url, args.query_rows, folder, args.samples)
            print(f"query p95 {p95 * 1000:.1f} ms   target < 100 ms: "
                  f"{'MET' if p95 < 0.1 else 'MISSED'}")  # fmt: skip
    print(f"done; {load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

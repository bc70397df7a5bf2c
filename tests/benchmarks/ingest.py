"""Benchmark: ingesting a 1,000,000-row SALES/SUMMARY report, as a user sees it.

    python tests/benchmarks/ingest.py                # 1,000,000 rows
    python tests/benchmarks/ingest.py --rows 100000  # a quick run

1. Generates a gzip TSV in Apple's 28-column SALES/SUMMARY layout, streamed to a temp file
   (50 apps, their in-app products and subscriptions, 60 storefronts and currencies incl. JPY,
   every product type, ~3 % refunds with negative units and customer price, blank cells).
2. Orchard end to end: ``orchard serve`` with its worker (default settings: 2 claim loops
   polling every 2 s), Apple simulated at the HTTP boundary (an ``httpx`` MockTransport serving
   the file in 64 KiB chunks for that day, "no sales" for any other). The clock runs from
   ``POST /v1/accounts/{id}/sync`` for that day until ``GET /v1/accounts/{id}/availability``
   reads ``published`` for it (polled every 100 ms): claim latency, download, ``COPY``, the day's
   replacement with the sales layout, derived columns and catalog joins, every rollup rebuilt,
   the commit. The sync unit's own time (its transaction, commit included) is timed apart.
   Peak RSS growth of this process is sampled meanwhile (the PostgreSQL server is another
   process). It runs first, before anything else has grown the heap.
3. Parse only: (a) decompress and split lines into cells, (b) the dict-per-row parser the
   tests read reports with, ``tests.fixtures.tsv.read_tsv_file``.
4. The baseline: a bare ``COPY`` (asyncpg ``copy_records_to_table``) of the same rows, parsed
   and typed in Python beforehand (untimed), into an index-free table of the same columns
   (``LIKE sales_rows``: no index, no key, no foreign key, no partitions).
5. The ceilings (rolled back): the same typed rows into ``sales_rows`` itself; then, in the
   same transaction, the day's rollups as the unit keeps them (its daily rollup rows, typed
   beforehand, and the measure-set rollups rebuilt from them). What an ingest would take if
   Python, the download and the claim cost nothing.

Judged: end-to-end rows/s ÷ bare-COPY rows/s ≥ 0.7 (issue 21); the unit-only ratio is printed
beside it. Peak RSS growth < 150 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import gzip
import random
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # runnable as a script

from app.config import Settings
from app.db.engine import (
    asyncpg_connection,
    create_engine,
    create_sessionmaker,
    widen_send_buffer,
)
from app.main import create_app
from app.reports.partitions import ensure_leaf
from app.sales import rollups
from app.sales.layout import MAC_PRODUCT_TYPES, SALES_LAYOUT, platform, unit_kind
from app.sales.repository import rebuild_daily_rollup
from app.sales.stream import ROLLUP_COLUMNS
from app.sandbox.sales import SALES_HEADER
from app.sandbox.state import SandboxState
from app.sync.runner import Runner
from tests.benchmarks.sales_common import (
    RssSampler,
    add_app,
    add_database_argument,
    benchmark_database,
    load_average,
    machine,
    make_tenant,
)
from tests.benchmarks.sales_common import (
    Tenant as BenchTenant,
)
from tests.fixtures.accounts import Tenant, link
from tests.fixtures.tsv import read_tsv_file

DAY = dt.date(2026, 10, 5)
CHUNK = 64 * 1024
APPS = 50
COUNTRIES = [  # storefront, currency, price of the 0.99 USD tier, decimals
    ("US", "USD", "0.99", 2), ("GB", "GBP", "0.99", 2), ("DE", "EUR", "1.19", 2),
    ("FR", "EUR", "1.19", 2), ("IT", "EUR", "1.19", 2), ("ES", "EUR", "1.19", 2),
    ("JP", "JPY", "160", 0), ("CN", "CNY", "6.00", 2), ("KR", "KRW", "1400", 0),
    ("AU", "AUD", "1.49", 2), ("CA", "CAD", "1.39", 2), ("BR", "BRL", "5.90", 2),
    ("MX", "MXN", "19.00", 2), ("IN", "INR", "89", 0), ("RU", "RUB", "99.00", 2),
    ("TR", "TRY", "39.99", 2), ("CH", "CHF", "1.00", 2), ("SE", "SEK", "12.00", 2),
    ("NO", "NOK", "12.00", 2), ("DK", "DKK", "9.00", 2), ("PL", "PLN", "4.99", 2),
    ("ID", "IDR", "15000", 0), ("SA", "SAR", "3.99", 2), ("AE", "AED", "3.99", 2),
    ("ZA", "ZAR", "19.99", 2), ("SG", "SGD", "1.48", 2), ("HK", "HKD", "8.00", 2),
    ("TW", "TWD", "30", 0), ("TH", "THB", "35.00", 2), ("IL", "ILS", "3.90", 2),
    ("NZ", "NZD", "1.69", 2), ("VN", "VND", "25000", 0), ("PH", "PHP", "59.00", 2),
    ("MY", "MYR", "4.90", 2), ("CL", "CLP", "990", 0), ("CO", "COP", "4900", 0),
    ("PE", "PEN", "3.90", 2), ("EG", "EGP", "49.99", 2), ("NG", "NGN", "1500", 0),
    ("KZ", "KZT", "490.00", 2), ("PK", "PKR", "300", 0), ("QA", "QAR", "3.99", 2),
    ("CZ", "CZK", "29.00", 2), ("HU", "HUF", "399", 0), ("RO", "RON", "4.99", 2),
    ("AT", "EUR", "1.19", 2), ("BE", "EUR", "1.19", 2), ("IE", "EUR", "1.19", 2),
    ("PT", "EUR", "1.19", 2), ("FI", "EUR", "1.19", 2), ("GR", "EUR", "1.19", 2),
    ("AR", "USD", "0.99", 2), ("UA", "USD", "0.99", 2), ("KE", "USD", "0.99", 2),
    ("LU", "EUR", "1.19", 2), ("BG", "BGN", "1.99", 2), ("HR", "EUR", "1.19", 2),
    ("SK", "EUR", "1.19", 2), ("SI", "EUR", "1.19", 2), ("LT", "EUR", "1.19", 2),
]  # fmt: skip
PRODUCT_TYPES = ["1", "3", "7", "IA1", "IAY", "IA3", "IA9", "IAC", "1F", "F1", "F7", "IAY-M"]
TYPE_WEIGHTS = [26, 18, 18, 12, 11, 3, 2, 1, 4, 2, 1, 2]
IAP_TYPES = {"IA1", "IAY", "IA3", "IA9", "IAC", "IAY-M"}
FREE_TYPES = {"3", "7", "F7", "IA3", "IAC"}
REFUNDABLE = {"1", "1F", "F1", "IA1", "IAY", "IA9", "IAY-M"}


def _amount(base: str, factor: Decimal, decimals: int) -> Decimal:
    return (Decimal(base) * factor).quantize(Decimal(1).scaleb(-decimals))


def generate_lines(rows: int, seed: int = 42) -> Iterator[str]:
    """Report lines (without the header), Apple's conventions: MM/DD/YYYY dates, a single
    space for empty cells, per-unit money, refunds as negative units and customer price."""
    rng = random.Random(seed)
    mdy = DAY.strftime("%m/%d/%Y")
    weighted_countries = rng.choices(
        COUNTRIES, [1 / (n + 1) for n in range(len(COUNTRIES))], k=4096
    )
    for n in range(rows):
        app = rng.randrange(APPS)
        product_type = rng.choices(PRODUCT_TYPES, TYPE_WEIGHTS)[0]
        country, currency, base, decimals = weighted_countries[n & 4095]
        tier = rng.randrange(1, 6)
        iap = product_type in IAP_TYPES
        free = product_type in FREE_TYPES or (product_type in {"1", "1F"} and tier < 3)
        refund = not free and product_type in REFUNDABLE and rng.random() < 0.03
        units = -rng.randint(1, 2) if refund else rng.randint(1, 40)
        price = Decimal(0) if free else _amount(base, Decimal(tier), decimals)
        proceeds = _amount(str(price), Decimal("0.7"), decimals) if price else Decimal(0)
        app_sku = f"com.bench.app{app}"
        mac = product_type in MAC_PRODUCT_TYPES
        cells = (
            "APPLE",
            "US",
            f"{app_sku}.iap{tier}" if iap else app_sku,
            " " if iap else "Bench Inc",
            f"Bench App {app}" + (f" Pack {tier}" if iap else ""),
            " " if iap else f"3.{n % 7}.0",
            product_type,
            str(units),
            f"{proceeds:.{decimals}f}",
            mdy,
            mdy,
            currency,
            country,
            " " if free and rng.random() < 0.3 else currency,
            str(1_500_000_000 + app * 10 + (tier if iap else 0)),
            f"{-price if refund else price:.{decimals}f}",
            " ",
            app_sku if iap else " ",
            rng.choice(("New", "Renewal")) if product_type.startswith("IAY") else " ",
            "1 Month" if product_type.startswith("IAY") else " ",
            "Games",
            "",
            "Desktop" if mac else rng.choices(("iPhone", "iPad"), (80, 20))[0],
            "macOS" if mac else "iOS",
            " ",
            " ",
            " ",
            " ",
        )
        yield "\t".join(cells)


def write_report(path: Path, rows: int) -> None:
    with gzip.open(path, "wt", encoding="utf-8", compresslevel=6, newline="") as handle:
        handle.write("\t".join(SALES_HEADER) + "\n")
        batch: list[str] = []
        for line in generate_lines(rows):
            batch.append(line)
            if len(batch) == 10_000:
                handle.write("\n".join(batch) + "\n")
                batch.clear()
        if batch:
            handle.write("\n".join(batch) + "\n")


def rate(rows: int, seconds: float) -> str:
    return f"{rows / seconds:>10,.0f} rows/s  ({seconds:6.2f} s)"


def parse_only(path: Path, rows: int) -> None:
    started = time.perf_counter()
    count = 0
    with gzip.open(path, "rb") as handle:
        next(handle)
        for line in handle:
            line.rstrip(b"\r\n").split(b"\t")
            count += 1
    assert count == rows, count
    print(
        f"parse only: gunzip + split lines into cells    {rate(rows, time.perf_counter() - started)}"
    )
    started = time.perf_counter()
    count = sum(1 for _ in read_tsv_file(path))
    assert count == rows, count
    print(
        f"parse only: tests.fixtures.tsv.read_tsv_file   {rate(rows, time.perf_counter() - started)}"
    )


class FileApple:
    """Apple's salesReports endpoint: the file from disk in chunks (never whole) for the
    benchmark's day of the daily report; "no sales" for any other date or frequency."""

    def __init__(self, path: Path) -> None:
        self.path = path

    async def _chunks(self) -> AsyncIterator[bytes]:
        with self.path.open("rb") as handle:
            while chunk := handle.read(CHUNK):
                yield chunk

    async def handle(self, request: httpx.Request) -> httpx.Response:
        headers = {"X-Rate-Limit": "user-hour-lim:3600;user-hour-rem:3500;"}
        if request.url.path != "/v1/salesReports":
            return httpx.Response(200, json={"data": [], "links": {}}, headers=headers)
        params = request.url.params
        if (
            params.get("filter[reportType]") != "SALES"
            or params.get("filter[frequency]") != "DAILY"
            or params.get("filter[reportDate]") != DAY.isoformat()
        ):
            error = {"status": "404", "code": "NOT_FOUND", "title": "The specified resource "
                     "does not exist", "detail": "There were no sales for the date specified."}  # fmt: skip
            return httpx.Response(404, json={"errors": [error]}, headers=headers)
        return httpx.Response(
            200,
            content=self._chunks(),
            headers={
                **headers,
                "Content-Type": "application/a-gzip",
                "x-reports-download-version": "1_0",
            },
        )


class UnitTimer:
    """Times the sync unit's own transaction (run, bookkeeping, commit) inside the worker."""

    def __init__(self) -> None:
        self.seconds: dict[tuple[str, str], float] = {}
        self._original = Runner._execute_in_span

    def __enter__(self) -> UnitTimer:
        original, seconds = self._original, self.seconds

        async def timed(runner: Runner, job: Any, *args: Any) -> Any:
            started = time.perf_counter()
            try:
                return await original(runner, job, *args)
            finally:
                seconds[(job.dataset, job.unit_key)] = time.perf_counter() - started

        Runner._execute_in_span = timed  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        Runner._execute_in_span = self._original  # type: ignore[method-assign]


def _settings(url: str, path: Path, *, worker: bool) -> Settings:
    return Settings(
        database_url=url.replace("postgresql://", "postgresql+asyncpg://", 1),  # type: ignore[arg-type]
        data_dir=path.parent / "orchard",  # the generated key goes away with the report
        asc_base_url="https://apple.bench",
        run_worker=worker,
        expect_worker=worker,
        log_level="WARNING",
    )


async def _set_up_account(url: str, path: Path) -> tuple[BenchTenant, uuid.UUID]:
    """A workspace, a linked account and its catalog apps; the account's initial sync is
    parked so the worker is idle when the measured request comes."""
    tenant = await make_tenant(url, "bench")
    settings = _settings(url, path, worker=False)
    application = create_app(settings, asc_transport=httpx.MockTransport(FileApple(path).handle))
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            key = SandboxState(seed=1).add_key("bench")
            owner = Tenant(tenant.workspace_id, "bench", tenant.token)
            response = await link(client, owner, key, verify=False)
            assert response.status_code == 201, response.text
            account_id = uuid.UUID(response.json()["id"])
    conn = await asyncpg.connect(url)
    try:
        for app in range(APPS):  # the catalog, so rows link to their apps
            await add_app(
                conn, tenant.workspace_id, account_id, str(1_500_000_000 + app * 10),
                f"com.bench.app{app}",
            )  # fmt: skip
        await _park(conn)
    finally:
        await conn.close()
    return tenant, account_id


async def _park(conn: asyncpg.Connection) -> int:
    result: str = await conn.execute(
        "UPDATE sync_jobs SET state = 'waiting', run_after = now() + interval '1 day' "
        "WHERE state IN ('queued', 'waiting')"
    )
    return int(result.split()[-1])


async def full_ingest(url: str, path: Path, rows: int) -> tuple[float, float, uuid.UUID, uuid.UUID]:
    """(seconds end to end, seconds inside the unit, workspace, account)."""
    tenant, account_id = await _set_up_account(url, path)
    settings = _settings(url, path, worker=True)
    application = create_app(settings, asc_transport=httpx.MockTransport(FileApple(path).handle))
    headers = {"Authorization": f"Bearer {tenant.token}"}
    day = DAY.isoformat()
    with UnitTimer() as units:
        async with application.router.lifespan_context(application):
            # The worker's first scheduler round plans routine units: let it, then park them.
            await asyncio.sleep(1.0)
            conn = await asyncpg.connect(url)
            try:
                await _park(conn)
            finally:
                await conn.close()
            transport = httpx.ASGITransport(app=application)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                with RssSampler() as rss:
                    started = time.perf_counter()
                    response = await client.post(
                        f"/v1/accounts/{account_id}/sync",
                        json={"datasets": ["sales_daily"], "from": day, "to": day},
                        headers=headers,
                    )
                    assert response.status_code == 202, response.text
                    state = await _wait_published(client, account_id, headers)
                    seconds = time.perf_counter() - started
    unit = units.seconds.get(("sales_daily", day), float("nan"))
    conn = await asyncpg.connect(url)
    try:
        stored = await conn.fetchrow(
            "SELECT state, row_count FROM dataset_availability WHERE account_id = $1 "
            "AND dataset = 'sales_daily' AND report_date = $2",
            account_id,
            DAY,
        )
        if state != "published" or stored is None or stored["row_count"] != rows:
            error = await conn.fetchval(
                "SELECT last_error_message FROM sync_jobs WHERE account_id = $1 "
                "AND dataset = 'sales_daily' AND unit_key = $2",
                account_id,
                day,
            )
            raise RuntimeError(f"the unit did not load the report: {state} {stored} {error}")
        linked = await conn.fetchval("SELECT count(*) FROM sales_rows WHERE app_id IS NOT NULL")
        rollup = await conn.fetchval("SELECT count(*) FROM sales_daily_rollup")
        await conn.execute("VACUUM ANALYZE")
        sizes = await conn.fetch(SIZES)
    finally:
        await conn.close()
    print(
        f"Orchard end to end: POST /sync → day reads published"
        f"\n                                               {rate(rows, seconds)}"
        f"\n  of which inside the sync unit (its transaction)  {rate(rows, unit)}"
        f"\n  {linked:,} rows linked to catalog apps, {rollup:,} daily rollup rows"
    )
    total = sum(row["bytes"] for row in sizes)
    print(
        f"stored: {total / 2**20:.1f} MB for the day, {total / rows:.0f} bytes per report row: "
        + ", ".join(f"{row['name']} {row['bytes'] / 2**20:.1f} MB" for row in sizes)
    )
    print(
        f"peak RSS growth during the ingest: {rss.growth_mb:.1f} MB "
        f"(from {rss.baseline / 2**20:.0f} MB)   target < 150 MB: "
        f"{'MET' if rss.growth_mb < 150 else 'MISSED'}"
    )
    engine = create_engine(settings.database_url.get_secret_value(), pool_size=1)  # type: ignore[union-attr]
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            started = time.perf_counter()
            await rebuild_daily_rollup(session, account_id, DAY)
            print(f"  (the day's rollups alone rebuild in {time.perf_counter() - started:.2f} s)")
    finally:
        await engine.dispose()
    return seconds, unit, tenant.workspace_id, account_id


#: What a day of sales costs on disk: its leaf of sales_rows and every rollup (with indexes).
SIZES = """
    SELECT CASE WHEN c.relname LIKE 'sales_rows%' THEN 'sales_rows' ELSE c.relname END AS name,
           sum(pg_total_relation_size(c.oid)) AS bytes
    FROM pg_class AS c
    WHERE c.relkind = 'r' AND (c.relname LIKE 'sales_rows%' OR c.relname LIKE 'sales_rollup%'
                               OR c.relname = 'sales_daily_rollup')
    GROUP BY 1 ORDER BY 2 DESC
"""


async def _wait_published(
    client: httpx.AsyncClient, account_id: uuid.UUID, headers: dict[str, str]
) -> str:
    day = DAY.isoformat()
    deadline = time.perf_counter() + 900
    state = "not_fetched"
    while time.perf_counter() < deadline:
        response = await client.get(
            f"/v1/accounts/{account_id}/availability",
            params={"dataset": "sales_daily", "from": day, "to": day},
            headers=headers,
        )
        if response.status_code == 429:  # the token's request limit: poll slower
            await asyncio.sleep(float(response.json().get("retry_after_seconds", 1)))
            continue
        assert response.status_code == 200, response.text
        state = response.json()["items"][0]["state"]
        if state in ("published", "failed", "no_data"):
            return str(state)
        await asyncio.sleep(0.1)
    return state


COLUMNS = [
    "workspace_id", "account_id", "frequency", "report_date",
    *(field.target for field in SALES_LAYOUT.fields), "unit_kind", "platform", "app_id",
]  # fmt: skip


def typed_rows(path: Path, workspace_id: uuid.UUID, account_id: uuid.UUID) -> list[tuple[Any, ...]]:
    """The report's rows as the tuples a COPY needs, typed in Python (values interned so a
    million rows fit in memory); the same derived values as Orchard's ingest."""
    cache: dict[Any, Any] = {}

    def intern(value: Any) -> Any:
        return cache.setdefault(value, value)

    def text(cell: str) -> str | None:
        cell = cell.strip()
        return intern(cell) if cell else None

    def number(cell: str) -> Decimal | None:
        cell = cell.strip()
        return intern(Decimal(cell)) if cell else None

    def mdy(cell: str) -> dt.date | None:
        cell = cell.strip()
        return intern(dt.datetime.strptime(cell, "%m/%d/%Y").date()) if cell else None

    kinds: dict[str, Any] = {f.target: f.kind for f in SALES_LAYOUT.fields}
    convert = {"text": text, "numeric": number, "date_mdy": mdy}
    header = list(SALES_HEADER)
    positions = [header.index(f.headers[0]) for f in SALES_LAYOUT.fields]
    converters = [convert[kinds[f.target]] for f in SALES_LAYOUT.fields]
    apps = {str(1_500_000_000 + n * 10): None for n in range(APPS)}
    prefix = (workspace_id, account_id, "DAILY", DAY)
    out = []
    with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
        next(handle)
        for line in handle:
            cells = line.rstrip("\r\n").split("\t")
            values = [c(cells[p]) for c, p in zip(converters, positions, strict=True)]
            out.append(
                (
                    *prefix,
                    *values,
                    unit_kind(values[6]).value,
                    platform(values[6], values[22]),
                    apps.get(values[14] or ""),
                )
            )
    return out


async def bare_copy(
    url: str, path: Path, rows: int, workspace_id: uuid.UUID, account_id: uuid.UUID
) -> float:
    """The baseline: the rows, typed beforehand, COPYed into an index-free table (over a
    connection with the send buffer Orchard's own have: ``widen_send_buffer``)."""
    conn = await asyncpg.connect(url)
    widen_send_buffer(conn)
    try:
        await conn.execute("DROP TABLE IF EXISTS bench_bare_sales_rows")
        # LIKE copies columns, types and NOT NULL only: no index, key, foreign key, partitions.
        await conn.execute(
            "CREATE TABLE bench_bare_sales_rows (LIKE sales_rows INCLUDING DEFAULTS "
            "INCLUDING IDENTITY)"
        )
        records = typed_rows(path, workspace_id, account_id)
        assert len(records) == rows
        await conn.execute("CHECKPOINT")
        started = time.perf_counter()
        async with conn.transaction():
            await conn.copy_records_to_table(
                "bench_bare_sales_rows", records=records, columns=COLUMNS
            )
        seconds = time.perf_counter() - started
        await conn.execute("DROP TABLE bench_bare_sales_rows")
    finally:
        await conn.close()
    print(f"bare COPY: typed rows into an index-free table {rate(rows, seconds)}")
    await ceiling(url, records, rows, seconds, account_id)
    return seconds


async def ceiling(
    url: str, records: list[tuple[Any, ...]], rows: int, bare: float, account_id: uuid.UUID
) -> None:
    """What no ingest of this design can beat, whatever it does in Python: the same typed
    rows into Orchard's own table (its partition and indexes) as the same day of the next
    month (a new leaf, and a month with that day alone, as the unit's day was in this new
    database); then, in the same transaction as the unit keeps them, that day's rollups: the
    daily rollup rows the unit wrote for its day (read back and typed beforehand, untimed),
    COPYed as the new day's, and the measure-set rollups rebuilt from them
    (``rollups.rebuild``, as the unit does). Rolled back."""
    next_day = (DAY.replace(day=1) + dt.timedelta(days=32)).replace(day=DAY.day)
    records = [(*r[:3], next_day, *r[4:]) for r in records]
    conn = await asyncpg.connect(url)
    try:
        daily = await conn.fetch(
            f"SELECT {', '.join(ROLLUP_COLUMNS)} FROM sales_daily_rollup "
            "WHERE account_id = $1 AND report_date = $2",
            account_id,
            DAY,
        )
        await conn.execute("CHECKPOINT")
    finally:
        await conn.close()
    daily_records = [(*r[:2], next_day, *r[3:]) for r in daily]
    engine = create_engine(url.replace("postgresql://", "postgresql+asyncpg://", 1), pool_size=1)
    try:
        async with create_sessionmaker(engine)() as session:
            await ensure_leaf(session, "sales_rows", "DAILY", next_day)  # as the unit does first
            await session.commit()
            try:
                driver = await asyncpg_connection(session)
                started = time.perf_counter()
                await driver.copy_records_to_table("sales_rows", records=records, columns=COLUMNS)
                indexed = time.perf_counter() - started
                await driver.copy_records_to_table(
                    "sales_daily_rollup", records=daily_records, columns=list(ROLLUP_COLUMNS)
                )
                daily_seconds = time.perf_counter() - started - indexed
                await rollups.rebuild(session, account_id, [next_day])
                kept = time.perf_counter() - started
            finally:
                await session.rollback()
    finally:
        await engine.dispose()
    print(
        f"the same COPY into sales_rows (partition, indexes) {rate(rows, indexed)}"
        f"  = {bare / indexed:.2f} of bare: the ceiling of any ingest into it"
    )
    print(
        f"  and the day's rollups in the same transaction: {len(daily_records):,} daily rollup "
        f"rows COPYed in {daily_seconds:.2f} s, the measure-set rollups rebuilt in "
        f"{kept - indexed - daily_seconds:.2f} s"
    )
    print(
        f"the rows and their rollups, typed beforehand       {rate(rows, kept)}"
        f"  = {bare / kept:.2f} of bare: the ceiling of any ingest that keeps its rollups"
        " in the rows' transaction (issue 21, item 1)"
    )


TARGET = 0.7


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    add_database_argument(parser)
    args = parser.parse_args()
    print(f"machine: {machine()}; {load_average()}")
    with tempfile.TemporaryDirectory(prefix="orchard-bench-report-") as folder:
        path = Path(folder) / f"S_D_80000000_{DAY:%Y%m%d}.txt.gz"
        started = time.perf_counter()
        write_report(path, args.rows)
        print(
            f"generated {args.rows:,} rows: {path.stat().st_size / 2**20:.1f} MB gzipped "
            f"in {time.perf_counter() - started:.1f} s"
        )
        async with benchmark_database(args.database_url) as url:
            # The full ingest first: nothing before it has grown this process's heap, so the
            # RSS it adds is not hidden in memory an earlier phase freed.
            full, unit, workspace_id, account_id = await full_ingest(url, path, args.rows)
            parse_only(path, args.rows)
            bare = await bare_copy(url, path, args.rows, workspace_id, account_id)
    end_to_end, unit_only = bare / full, bare / unit
    print(f"done; {load_average()}")
    print(
        f"end to end (POST → published) = {end_to_end:.2f} of bare COPY's rows/s   "
        f"target >= {TARGET}: {'MET' if end_to_end >= TARGET else 'MISSED'}"
    )
    print(f"unit only (the sync unit's transaction) = {unit_only:.2f} of bare COPY's rows/s")
    return 0 if end_to_end >= TARGET else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

"""Benchmark: `/v1/sales` latency over millions of sales rows, through the HTTP API.

    python tests/benchmarks/sales_query.py                 # 10,000,000 rows (several minutes)
    python tests/benchmarks/sales_query.py --rows 1000000  # a quick run

Loads ``--rows`` report lines into ``sales_rows`` with one ``INSERT … SELECT`` over
``generate_series`` (4 accounts × 10 apps, in-app products, 60 storefronts and their
currencies, every product type incl. refunds, spread over 365 days), then builds the daily
rollup with Orchard's own ``rebuild_daily_rollup`` for every account-day (exactly what the
sales_daily unit does after each day's ingest), marks every day published, and VACUUM ANALYZEs.

Queries go through the real FastAPI app in-process (httpx ``ASGITransport``: routing, auth,
validation, SQL, serialisation — no network socket), each run many times after a warm-up;
p50/p95 are of the whole request. Targets: p95 < 100 ms for 90 days × granularity=day × one app
at 10 million rows; for the whole answer (every page) of 90 days × day × group_by=country over
the whole workspace; p95 < 150 ms for 365 days × month over the whole workspace (issue 21).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import math
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # runnable as a script

from app.config import Settings
from app.db.engine import create_engine, create_sessionmaker
from app.main import create_app
from app.sales.layout import platform_sql, unit_kind_sql
from app.sales.repository import rebuild_daily_rollup
from tests.benchmarks.sales_common import (
    add_account,
    add_app,
    add_database_argument,
    benchmark_database,
    describe,
    load_average,
    machine,
    make_tenant,
    percentile,
)

END = dt.date(2026, 10, 31)
COUNTRIES = [  # storefront, currency, local price of a 0.99 USD tier, decimals
    ("US", "USD", 0.99, 2), ("GB", "GBP", 0.99, 2), ("DE", "EUR", 1.19, 2), ("FR", "EUR", 1.19, 2),
    ("IT", "EUR", 1.19, 2), ("ES", "EUR", 1.19, 2), ("NL", "EUR", 1.19, 2), ("JP", "JPY", 160, 0),
    ("CN", "CNY", 6.0, 2), ("KR", "KRW", 1400, 0), ("AU", "AUD", 1.49, 2), ("CA", "CAD", 1.39, 2),
    ("BR", "BRL", 5.9, 2), ("MX", "MXN", 19.0, 2), ("IN", "INR", 89, 0), ("RU", "RUB", 99, 2),
    ("TR", "TRY", 39.99, 2), ("CH", "CHF", 1.0, 2), ("SE", "SEK", 12, 2), ("NO", "NOK", 12, 2),
    ("DK", "DKK", 9, 2), ("PL", "PLN", 4.99, 2), ("ID", "IDR", 15000, 0), ("SA", "SAR", 3.99, 2),
    ("AE", "AED", 3.99, 2), ("ZA", "ZAR", 19.99, 2), ("SG", "SGD", 1.48, 2), ("HK", "HKD", 8, 2),
    ("TW", "TWD", 30, 0), ("TH", "THB", 35, 2), ("IL", "ILS", 3.9, 2), ("NZ", "NZD", 1.69, 2),
    ("VN", "VND", 25000, 0), ("PH", "PHP", 59, 2), ("MY", "MYR", 4.9, 2), ("CL", "CLP", 990, 0),
    ("CO", "COP", 4900, 0), ("PE", "PEN", 3.9, 2), ("EG", "EGP", 49.99, 2), ("NG", "NGN", 1500, 0),
    ("KZ", "KZT", 490, 2), ("PK", "PKR", 300, 0), ("QA", "QAR", 3.99, 2), ("CZ", "CZK", 29, 2),
    ("HU", "HUF", 399, 0), ("RO", "RON", 4.99, 2), ("AT", "EUR", 1.19, 2), ("BE", "EUR", 1.19, 2),
    ("IE", "EUR", 1.19, 2), ("PT", "EUR", 1.19, 2), ("FI", "EUR", 1.19, 2), ("GR", "EUR", 1.19, 2),
    ("AR", "USD", 0.99, 2), ("UA", "USD", 0.99, 2), ("KE", "USD", 0.99, 2), ("LU", "EUR", 1.19, 2),
    ("BG", "BGN", 1.99, 2), ("HR", "EUR", 1.19, 2), ("SK", "EUR", 1.19, 2), ("SI", "EUR", 1.19, 2),
]  # fmt: skip
# Product type by a uniform draw: cumulative share → code (downloads, redownloads, updates,
# in-app purchases, subscriptions, restores, non-renewing, an unknown code, universal, Mac).
PRODUCT_TYPES = [
    (0.26, "1"), (0.44, "3"), (0.62, "7"), (0.74, "IA1"), (0.86, "IAY"), (0.89, "IA3"),
    (0.91, "IA9"), (0.92, "IAC"), (0.96, "1F"), (1.01, "F1"),
]  # fmt: skip


def _array(values: list[Any]) -> str:
    quoted = (f"'{v}'" if isinstance(v, str) else repr(v) for v in values)
    return "ARRAY[" + ", ".join(quoted) + "]"


def generate_sql() -> str:
    """One INSERT … SELECT producing every sales row; ``$n`` parameters are bound by asyncpg."""
    product_type = (
        "CASE "
        + " ".join(f"WHEN g.r_type < {share} THEN '{code}'" for share, code in PRODUCT_TYPES)
        + " END"
    )
    return f"""
        INSERT INTO sales_rows (
            workspace_id, account_id, frequency, report_date, app_id, begin_date, end_date,
            provider, provider_country, sku, developer, title, version, product_type, unit_kind,
            units, developer_proceeds, proceeds_currency, customer_price, customer_currency,
            country_code, apple_identifier, parent_identifier, subscription, period, category,
            device, supported_platforms, platform)
        SELECT $1, f.account_id, 'DAILY', f.day, f.app_id, f.day, f.day,
               'APPLE', 'US',
               CASE WHEN f.iap THEN f.app_sku || '.p' || f.product ELSE f.app_sku END,
               CASE WHEN f.iap THEN NULL ELSE 'Bench Inc' END, f.title,
               CASE WHEN f.iap THEN NULL ELSE '1.' || (f.d / 30) END, f.product_type,
               {unit_kind_sql("f.product_type")},
               CASE WHEN f.refund THEN -1 - floor(f.r_units * 2)
                    ELSE 1 + floor(f.r_units * f.r_units * 40) END,
               CASE WHEN f.free THEN 0 ELSE round(f.local_price * 0.7, f.decimals) END,
               f.currency,
               CASE WHEN f.free THEN 0 WHEN f.refund THEN -f.local_price ELSE f.local_price END,
               f.currency, f.country,
               CASE WHEN f.iap THEN f.app_apple_id || lpad(f.product::text, 2, '0')
                    ELSE f.app_apple_id END,
               CASE WHEN f.iap THEN f.app_sku END,
               CASE WHEN f.product_type = 'IAY' THEN 'Renewal' END,
               CASE WHEN f.product_type = 'IAY' THEN '1 Month' END,
               'Productivity', f.device, 'iOS', {platform_sql("f.product_type", "f.device")}
        FROM (
            SELECT p.*,
                   p.product_type IN ('IA1', 'IAY', 'IA3', 'IA9', 'IAC') AS iap,
                   p.product_type IN ('3', '7', 'IA3', 'IAC')
                       OR p.product_type IN ('1', '1F') AND p.product < 2 AS free,
                   p.r_refund < 0.03 AND p.product_type IN ('1', '1F', 'F1', 'IA1', 'IAY', 'IA9')
                       AND NOT (p.product_type IN ('1', '1F') AND p.product < 2) AS refund,
                   ({_array([c[0] for c in COUNTRIES])})[p.ci] AS country,
                   ({_array([c[1] for c in COUNTRIES])})[p.ci] AS currency,
                   ({_array([c[2] for c in COUNTRIES])})[p.ci]::numeric * (1 + p.product)
                       AS local_price,
                   ({_array([c[3] for c in COUNTRIES])})[p.ci] AS decimals
            FROM (
                SELECT g.d, $2::date - ($3 - 1 - g.d)::int AS day, a.account_id, a.app_id,
                       a.apple_id AS app_apple_id, a.sku AS app_sku, a.title,
                       {product_type} AS product_type,
                       floor(g.r_product * 4)::int AS product,
                       1 + floor(g.r_country * g.r_country * {len(COUNTRIES)})::int AS ci,
                       CASE WHEN g.r_type >= 0.96 THEN 'Desktop'
                            WHEN g.r_device < 0.78 THEN 'iPhone' ELSE 'iPad' END AS device,
                       g.r_refund, g.r_units
                FROM (
                    SELECT n / $4 AS d,
                           (n % $4) * $5 / $4 AS account_index,
                           random() AS r_app, random() AS r_type, random() AS r_refund,
                           random() AS r_units, random() AS r_product, random() AS r_country,
                           random() AS r_device
                    FROM generate_series(0, $6::bigint - 1) AS n
                ) AS g
                JOIN bench_apps AS a
                    ON a.n = g.account_index * $7 + floor(g.r_app * $7)::int
            ) AS p
        ) AS f
    """


async def load(url: str, args: argparse.Namespace) -> dict[str, Any]:
    tenant = await make_tenant(url, "bench")
    conn = await asyncpg.connect(url)
    accounts: list[uuid.UUID] = []
    apps: list[uuid.UUID] = []
    try:
        await conn.execute(
            "CREATE UNLOGGED TABLE bench_apps (n int, account_id uuid, app_id uuid, "
            "apple_id text, sku text, title text)"
        )
        for a in range(args.accounts):
            account_id = await add_account(conn, tenant.workspace_id, a)
            accounts.append(account_id)
            for p in range(args.apps):
                apple_id, sku = str(1_400_000_000 + a * 1000 + p), f"bench.app{a}.{p}"
                app_id = await add_app(conn, tenant.workspace_id, account_id, apple_id, sku)
                apps.append(app_id)
                await conn.execute(
                    "INSERT INTO bench_apps VALUES ($1, $2, $3, $4, $5, $6)",
                    a * args.apps + p,
                    account_id,
                    app_id,
                    apple_id,
                    sku,
                    f"Bench App {a}.{p}",
                )
        per_day = math.ceil(args.rows / args.days)
        started = time.perf_counter()
        await conn.execute("SELECT setseed(0.42)")
        await conn.execute(
            generate_sql(),
            tenant.workspace_id,
            END,
            args.days,
            per_day,
            args.accounts,
            args.rows,
            args.apps,
        )
        rows_seconds = time.perf_counter() - started
        await conn.execute("DROP TABLE bench_apps")
    finally:
        await conn.close()

    # The rollup, exactly as the sales_daily unit maintains it: one account-day at a time.
    started = time.perf_counter()
    engine = create_engine(url.replace("postgresql://", "postgresql+asyncpg://", 1), pool_size=2)
    try:
        sessionmaker = create_sessionmaker(engine)
        days = [END - dt.timedelta(days=n) for n in range(args.days)][::-1]
        for day in days:
            async with sessionmaker() as session, session.begin():
                for account_id in accounts:
                    await rebuild_daily_rollup(session, account_id, day)
    finally:
        await engine.dispose()
    rollup_seconds = time.perf_counter() - started

    conn = await asyncpg.connect(url)
    try:
        await conn.execute(
            """
            INSERT INTO dataset_availability (account_id, dataset, report_date, state, row_count)
            SELECT account_id, 'sales_daily', report_date, 'published', count(*)
            FROM sales_rows GROUP BY account_id, report_date
            """
        )
        started = time.perf_counter()
        # Every table the answers read: this server may run without autovacuum, and a
        # rollup never analyzed is planned as empty (one app's 90 days read all 40 apps'
        # rows through the workspace index: 143 ms for the card's version instead of a few).
        for table in (
            "sales_rows",
            "sales_daily_rollup",
            "sales_rollup_app_day",
            "sales_rollup_app_month",
            "sales_rollup_account_day",
            "sales_rollup_account_month",
            "sales_rollup_workspace_day",
            "dataset_availability",
            "apps",
            "asc_accounts",
        ):
            await conn.execute(f"VACUUM ANALYZE {table}")
        vacuum_seconds = time.perf_counter() - started
        stats = await conn.fetchrow(
            """
            SELECT (SELECT count(*) FROM sales_rows) AS rows,
                   (SELECT count(*) FROM sales_daily_rollup) AS rollup_rows,
                   pg_size_pretty(pg_total_relation_size('sales_rows')) AS rows_size,
                   pg_size_pretty(pg_total_relation_size('sales_daily_rollup')) AS rollup_size,
                   current_setting('server_version') AS version,
                   current_setting('shared_buffers') AS shared_buffers,
                   current_setting('work_mem') AS work_mem
            """
        )
    finally:
        await conn.close()
    print(
        f"loaded {stats['rows']:,} sales rows in {rows_seconds:.1f} s "
        f"({stats['rows_size']}); rollup {stats['rollup_rows']:,} rows in {rollup_seconds:.1f} s "
        f"({stats['rollup_size']}); VACUUM ANALYZE {vacuum_seconds:.1f} s"
    )
    print(
        f"PostgreSQL {stats['version']}, shared_buffers {stats['shared_buffers']}, "
        f"work_mem {stats['work_mem']}"
    )
    return {"tenant": tenant, "accounts": accounts, "apps": apps}


def queries(world: dict[str, Any]) -> list[tuple[str, Any, float | None]]:
    """(label, n → query parameters, p95 target in seconds). Each run picks another app or
    account, so no query is answered from one hot spot only."""
    apps, accounts = world["apps"], world["accounts"]
    d90 = {"from": str(END - dt.timedelta(days=89)), "to": str(END)}
    d30 = {"from": str(END - dt.timedelta(days=29)), "to": str(END)}
    year = {"from": str(END - dt.timedelta(days=364)), "to": str(END)}
    return [
        ("90 days, day, one app", lambda n: {**d90, "app_id": apps[n % len(apps)]}, 0.100),
        (
            "90 days, day, one app, group_by=country",
            lambda n: {**d90, "app_id": apps[n % len(apps)], "group_by": "country"},
            None,
        ),
        (
            "90 days, week, one app",
            lambda n: {**d90, "app_id": apps[n % len(apps)], "granularity": "week"},
            None,
        ),
        (
            "365 days, month, one app",
            lambda n: {**year, "app_id": apps[n % len(apps)], "granularity": "month"},
            None,
        ),
        (
            "90 days, day, one account (10 apps)",
            lambda n: {**d90, "account_id": accounts[n % len(accounts)]},
            None,
        ),
        ("30 days, day, whole workspace", lambda n: d30, None),
        (
            # The whole answer a dashboard draws (90 × 60 items: both pages), not its first.
            "90 days, day, whole workspace, group_by=country, limit=5000 (all pages)",
            lambda n: {**d90, "group_by": "country", "limit": 5000},
            0.100,
        ),
        (
            "30 days, week, whole workspace, group_by=country,unit_kind",
            lambda n: {**d30, "granularity": "week", "group_by": "country,unit_kind"},
            None,
        ),
        ("365 days, month, whole workspace", lambda n: {**year, "granularity": "month"}, 0.150),
        (
            "365 days, month, whole workspace, group_by=country, limit=5000",
            lambda n: {**year, "granularity": "month", "group_by": "country", "limit": 5000},
            None,
        ),
    ]


async def measure(url: str, world: dict[str, Any], args: argparse.Namespace) -> bool:
    with tempfile.TemporaryDirectory(prefix="orchard-bench-app-") as data_dir:
        return await _measure(url, Path(data_dir), world, args)


async def _measure(
    url: str, data_dir: Path, world: dict[str, Any], args: argparse.Namespace
) -> bool:
    settings = Settings(
        database_url=url.replace("postgresql://", "postgresql+asyncpg://", 1),  # type: ignore[arg-type]
        data_dir=data_dir,
        run_worker=False,
        expect_worker=False,
        log_level="WARNING",
    )
    application = create_app(settings)
    headers = {"Authorization": f"Bearer {world['tenant'].token}"}
    met = True
    print(f"measuring through the API in-process (httpx ASGITransport); {load_average()}")
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            for label, params_of, target in queries(world):
                samples: list[float] = []
                budget = time.perf_counter() + args.seconds_per_query
                n = 0
                while n < args.warmup + args.repeat:
                    started = time.perf_counter()
                    params = params_of(n)
                    response = await client.get("/v1/sales", params=params, headers=headers)
                    pages, items = 1, len(response.json().get("items", []))
                    while "all pages" in label and response.json()["next_cursor"]:
                        cursor = response.json()["next_cursor"]
                        response = await client.get(
                            "/v1/sales", params={**params, "cursor": cursor}, headers=headers
                        )
                        pages += 1
                        items += len(response.json()["items"])
                    elapsed = time.perf_counter() - started
                    if response.status_code != 200:
                        raise RuntimeError(f"{label}: {response.status_code} {response.text}")
                    if n >= args.warmup:
                        samples.append(elapsed)
                    n += 1
                    if n >= args.warmup + 5 and time.perf_counter() > budget:
                        break  # a slow query: enough samples within the time budget
                body = response.json()
                items_note = f" on {pages} pages" if pages > 1 else ""
                if body["next_cursor"] is not None:
                    items_note += " + more pages"
                verdict = ""
                if target is not None:
                    ok = percentile(samples, 0.95) < target
                    met = met and ok
                    verdict = f"  target p95 < {target * 1000:.0f} ms: {'MET' if ok else 'MISSED'}"
                print(f"{label:<58} {describe(samples)}  items {items}{items_note}{verdict}")
    print(f"done; {load_average()}")
    return met


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--accounts", type=int, default=4)
    parser.add_argument("--apps", type=int, default=10, help="apps per account")
    parser.add_argument("--repeat", type=int, default=50, help="measured runs per query")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument(
        "--seconds-per-query", type=float, default=30.0, help="stop a slow query's runs early"
    )
    add_database_argument(parser)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    async with benchmark_database(args.database_url) as url:
        world = await load(url, args)
        met = await measure(url, world, args)
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

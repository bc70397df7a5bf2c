"""Benchmark: subscription metrics and cohorts for a year of a 100,000-subscriber app.

    python tests/benchmarks/subscription_metrics.py                      # 100,000 subscribers
    python tests/benchmarks/subscription_metrics.py --subscribers 20000  # a quick run
    python tests/benchmarks/subscription_metrics.py --database-url postgresql://… \
        --keep-database subs_bench_100k                                  # built once, then reused

Loads one app's year of Apple's three subscription reports with ``INSERT … SELECT`` over
``generate_series``: SUBSCRIBER rows (one per charge of each Subscriber ID: monthly and yearly
plans, 20 storefronts, lifetimes of 1–24 periods, 1 % refunds; and a second app of the same
account with a quarter of the subscribers, for the whole workspace's MRR movements), SUBSCRIPTION_EVENT rows
aggregated per day, event, product and storefront, and a daily SUBSCRIPTION snapshot
(product × storefront × device rows). Then VACUUM ANALYZE and every day marked published.

Each day's rollups are then rebuilt as the sync unit does after a load (timed per day).
Queries go through the real FastAPI app in-process (httpx ``ASGITransport``), each run many
times after a warm-up; p50/p95 are of the whole request. Target: p95 < 200 ms.

``--keep-database NAME`` loads into a database of that name on the server and keeps it; a later
run with the same name migrates it to head (a new migration's backfill runs then), skips the
load and measures with a new token (``--rebuild-days N`` re-times the rebuild of the newest N
days' rollups, ``--rebuild-rollups`` rebuilds all of them with this checkout's code):
load once, measure several branches on the same rows (``CREATE DATABASE … TEMPLATE`` copies it).

``--compare-raw`` also times every query that reads the Subscription Report (stocks, MRR, the
summary and its series) with those reads pointed at the raw snapshot rows instead of their
per-day rollup (``snapshot_rollup``), interleaved request by request in the same run, and
prints the ratio raw / rollup (p50 and p95): a figure a loaded machine skews less.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import asyncpg
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # runnable as a script

from sqlalchemy import text

from app.config import Settings
from app.db.engine import create_engine, create_sessionmaker
from app.main import create_app
from app.subscriptions import analytics_repository, repository, service
from app.subscriptions.rollup import rebuild_event_rollup, rebuild_transaction_rollup
from app.subscriptions.snapshot_rollup import rebuild_snapshot_rollup
from tests.benchmarks.common import kept_database, reused_workspace
from tests.benchmarks.sales_common import (
    Tenant,
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
APPLE_ID = "1600000001"
#: A second app of the same account, with a quarter of the subscribers (Subscriber rows only):
#: the whole workspace's MRR movements are those of both apps.
SECOND_APPLE_ID = "1600000002"
COUNTRIES = ["US", "GB", "DE", "FR", "JP", "CA", "AU", "BR", "IT", "ES",
             "NL", "SE", "KR", "MX", "IN", "CH", "PL", "TR", "NO", "DK"]  # fmt: skip
CURRENCIES = ["USD", "GBP", "EUR", "EUR", "JPY", "CAD", "AUD", "BRL", "EUR", "EUR",
              "EUR", "SEK", "KRW", "MXN", "INR", "CHF", "PLN", "TRY", "NOK", "DKK"]  # fmt: skip
EVENTS = ["Subscribe", "Start Introductory Offer", "Paid Subscription from Introductory Offer",
          "Renew", "Cancel", "Canceled from Billing Retry", "Billing Retry from Paid Subscription",
          "Renewal from Billing Retry", "Upgrade", "Downgrade", "Reactivate", "Refund"]  # fmt: skip


def _array(values: list[str]) -> str:
    return "ARRAY[" + ", ".join(f"'{v}'" for v in values) + "]"


SUBSCRIBERS_SQL = f"""
INSERT INTO subscriber_transaction_rows (
    workspace_id, account_id, report_date, event_date, app_name, app_apple_id,
    subscription_name, subscription_apple_id, subscription_group_id, standard_duration,
    customer_price, customer_currency, developer_proceeds, proceeds_currency, country,
    subscriber_id, subscriber_id_reset, refund, purchase_date, units, offer_type)
SELECT $1, $2, c.day, c.day, 'Bench App', $5::text,
       CASE WHEN s.yearly THEN 'Pro Yearly' ELSE 'Pro Monthly' END,
       CASE WHEN s.yearly THEN '1600000102' ELSE '1600000101' END, '9',
       CASE WHEN s.yearly THEN '1 Year' ELSE '1 Month' END,
       CASE WHEN c.refund THEN -s.price ELSE s.price END,
       ({_array(CURRENCIES)})[s.place], round(s.price * 0.7, 2), ({_array(CURRENCIES)})[s.place],
       ({_array(COUNTRIES)})[s.place], $6::text || s.n, false, c.refund,
       CASE WHEN c.refund THEN c.day - 3 END, CASE WHEN c.refund THEN 0 ELSE 1 END, NULL
FROM (
    SELECT n, random() < 0.15 AS yearly, 1 + floor(random() * 20)::int AS place,
           ($3::date - 730 + floor(random() * 730)::int) AS start,
           1 + floor(random() * 24)::int AS periods,
           (4.99 + floor(random() * 3) * 5)::numeric AS price
    FROM generate_series(1, $4) AS n
) AS s
CROSS JOIN LATERAL (
    SELECT CASE WHEN s.yearly THEN s.start + 365 * i ELSE s.start + 30 * i END AS day,
           random() < 0.01 AS refund
    FROM generate_series(0, s.periods - 1) AS i
) AS c
WHERE c.day BETWEEN $3::date - 364 AND $3::date
"""

EVENTS_SQL = f"""
INSERT INTO subscription_event_rows (
    workspace_id, account_id, report_date, event_date, event, app_name, app_apple_id,
    subscription_name, subscription_apple_id, subscription_group_id, standard_duration,
    offer_type, consecutive_paid_periods, original_start_date, country, cancellation_reason,
    quantity)
SELECT $1, $2, d.day, d.day, e.name, 'Bench App', '{APPLE_ID}', 'Pro Monthly', '1600000101',
       '9', '1 Month', CASE WHEN e.name LIKE '%Introductory%' THEN 'Free Trial' END,
       1 + floor(random() * 12)::int, d.day - floor(random() * 60)::int,
       ({_array(COUNTRIES)})[p.place],
       CASE WHEN e.name = 'Cancel' THEN 'Canceled'
            WHEN e.name LIKE 'Canceled%' THEN 'Billing issue' END,
       1 + floor(random() * $4 / 2000)::int
FROM (SELECT g::date AS day FROM generate_series($3::date - 364, $3::date, interval '1 day') AS g) AS d
CROSS JOIN unnest({_array(EVENTS)}) AS e(name)
CROSS JOIN generate_series(1, 20) AS p(place)
CROSS JOIN generate_series(1, 3) AS cpp(k)
"""

SNAPSHOT_SQL = f"""
INSERT INTO subscription_snapshot_rows (
    workspace_id, account_id, report_date, app_name, app_apple_id, subscription_name,
    subscription_apple_id, subscription_group_id, standard_duration, customer_price,
    customer_currency, developer_proceeds, proceeds_currency, device, country,
    active_standard, free_trial_introductory, pay_as_you_go_introductory, billing_retry,
    grace_period, marketing_opt_ins)
SELECT $1, $2, d.day, 'Bench App', '{APPLE_ID}', pr.name, pr.id, '9', pr.duration, pr.price,
       ({_array(CURRENCIES)})[p.place], round(pr.price * 0.7, 2), ({_array(CURRENCIES)})[p.place],
       dev.name, ({_array(COUNTRIES)})[p.place],
       floor(random() * $4 / 60)::int, floor(random() * $4 / 600)::int,
       floor(random() * $4 / 1200)::int, floor(random() * 20)::int, floor(random() * 5)::int,
       floor(random() * 10)::int
FROM (SELECT g::date AS day FROM generate_series($3::date - 365, $3::date, interval '1 day') AS g) AS d
CROSS JOIN (VALUES ('Pro Monthly', '1600000101', '1 Month', 9.99),
                   ('Pro Yearly', '1600000102', '1 Year', 59.99),
                   ('Lite Weekly', '1600000103', '7 Days', 2.99)) AS pr(name, id, duration, price)
CROSS JOIN generate_series(1, 20) AS p(place)
CROSS JOIN (VALUES ('iPhone'), ('iPad'), ('Desktop')) AS dev(name)
"""


async def build_rollups(url: str, account_id: Any, count: int = 365) -> str:
    """Each report day's rollups, rebuilt as a sync unit does after loading the day's file (one
    transaction per day and report): the cost a daily sync adds."""
    engine = create_engine(url.replace("postgresql://", "postgresql+asyncpg://", 1), pool_size=1)
    days = [END - dt.timedelta(days=n) for n in range(count)]
    timings: list[float] = []
    try:
        for day in days:
            started = time.perf_counter()
            async with create_sessionmaker(engine)() as session:
                await rebuild_event_rollup(session, account_id, day)
                await rebuild_transaction_rollup(session, account_id, day)
                await rebuild_snapshot_rollup(session, account_id, day)
                await session.commit()
            timings.append(time.perf_counter() - started)
        async with create_sessionmaker(engine)() as session:
            sizes = [
                await session.scalar(text(f"SELECT count(*) FROM {table}"))
                for table in (
                    "subscription_event_day_rollup",
                    "subscriber_transaction_day_rollup",
                    "subscription_snapshot_day_rollup",
                )
            ]
    finally:
        await engine.dispose()
    return (
        f"rollups of {len(days)} days rebuilt ({sizes[0]:,} event, {sizes[1]:,} transaction "
        f"and {sizes[2]:,} snapshot rollup rows; per day: {describe(timings)})"
    )


#: The per-subscriber tables the daily rebuilds churn (their sums are deleted and written
#: again): vacuumed and analyzed after a build, as autovacuum would (it may be off here).
PRECOMPUTED = ("subscriber_months", "subscriber_mrr_changes", "subscriber_mrr_movement_months",
               "subscriber_mrr_movement_spans", "subscriber_mrr_month_to_date")  # fmt: skip


async def vacuum(url: str, tables: tuple[str, ...]) -> None:
    conn = await asyncpg.connect(url)
    try:
        for table in tables:
            await conn.execute(f"VACUUM ANALYZE {table}")
    finally:
        await conn.close()


async def load(url: str, args: argparse.Namespace) -> dict[str, Any]:
    tenant = await make_tenant(url, "bench")
    conn = await asyncpg.connect(url)
    try:
        account_id = await add_account(conn, tenant.workspace_id, 0)
        app_id = await add_app(conn, tenant.workspace_id, account_id, APPLE_ID, "bench.subs")
        await conn.execute("SELECT setseed(0.18)")
        figures = []
        await add_app(conn, tenant.workspace_id, account_id, SECOND_APPLE_ID, "bench.subs2")
        second = (SECOND_APPLE_ID, "second-sid")
        for label, sql, more in (
            ("subscriber", SUBSCRIBERS_SQL, (args.subscribers, APPLE_ID, "sid")),
            ("second app's subscriber", SUBSCRIBERS_SQL, (args.subscribers // 4, *second)),
            ("event", EVENTS_SQL, (args.subscribers,)),
            ("snapshot", SNAPSHOT_SQL, (args.subscribers,)),
        ):
            started = time.perf_counter()
            status = await conn.execute(sql, tenant.workspace_id, account_id, END, *more)
            figures.append(
                f"{int(status.split()[-1]):,} {label} rows in {time.perf_counter() - started:.1f} s"
            )
        for dataset in ("subscriptions_daily", "subscription_events_daily", "subscribers_daily"):
            await conn.execute(
                """
                INSERT INTO dataset_availability (account_id, dataset, report_date, state,
                                                  row_count)
                SELECT $1, $2, day::date, 'published', 0
                FROM generate_series($3::date - 365, $3::date + 2, interval '1 day') AS day
                """,
                account_id,
                dataset,
                END,
            )
    finally:
        await conn.close()
    figures.append(await build_rollups(url, account_id))
    await vacuum(url, ("subscriber_transaction_rows", "subscription_event_rows",
                       "subscription_snapshot_rows", "subscription_event_day_rollup",
                       "subscriber_transaction_day_rollup", "subscription_snapshot_day_rollup",
                       *PRECOMPUTED))  # fmt: skip
    print("loaded " + "; ".join(figures))
    return {"tenant": tenant, "app_id": app_id, "account_id": account_id}


@contextlib.asynccontextmanager
async def _fresh(server_url: str | None) -> Any:
    async with benchmark_database(server_url) as url:
        yield url, False


async def reuse(url: str, args: argparse.Namespace) -> dict[str, Any]:
    """The world ``load`` built earlier in ``url``: its workspace (with a new token, the first
    one's secret is not stored), its app and account. ``--rebuild-rollups`` rebuilds every
    day's rollups with this checkout's code (e.g. after a migration added one)."""
    workspace_id, secret = await reused_workspace(url, "subscription benchmark")
    conn = await asyncpg.connect(url)
    try:
        app = await conn.fetchrow("SELECT id, account_id FROM apps WHERE apple_id = $1", APPLE_ID)
        subscribers = await conn.fetchval(
            "SELECT count(DISTINCT subscriber_id) FROM subscriber_transaction_rows "
            "WHERE app_apple_id = $1",
            APPLE_ID,
        )
    finally:
        await conn.close()
    print(f"reusing the world already built in this database ({subscribers:,} subscriber IDs)")
    if args.rebuild_rollups or args.rebuild_days:
        print(await build_rollups(url, app["account_id"], args.rebuild_days or 365))
        await vacuum(url, PRECOMPUTED)
    return {
        "tenant": Tenant(workspace_id, secret),
        "app_id": app["id"],
        "account_id": app["account_id"],
    }


def queries(world: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    app = str(world["app_id"])
    year = {"from": str(END - dt.timedelta(days=364)), "to": str(END), "app_id": app}
    d90 = {"from": str(END - dt.timedelta(days=89)), "to": str(END), "app_id": app}
    metrics = "/v1/subscriptions/metrics"
    cohorts = "/v1/subscriptions/cohorts"
    months = {"from": str(END - dt.timedelta(days=364)), "to": str(END), "app_id": app}
    workspace = {"from": str(END - dt.timedelta(days=364)), "to": str(END)}
    movements = ("subscriber_mrr,mrr_new,mrr_reactivation,mrr_expansion,mrr_contraction,"
                 "mrr_churned")  # fmt: skip
    return [
        ("year, month: stocks + MRR", metrics,
         {**year, "granularity": "month", "metric": "active,paying_active,free_trial_active,mrr,arr"}),
        ("year, month: event flows + churn", metrics,
         {**year, "granularity": "month",
          "metric": "new_subscriptions,trial_starts,trial_conversions,renewals,cancellations,"
                    "involuntary_cancellations,churn_rate,billing_recovery_rate"}),
        ("year, month: money + ARPPU + refunds", metrics,
         {**year, "granularity": "month",
          "metric": "proceeds,net_proceeds,refunds,refund_rate,paying_subscribers,arppu,arpu"}),
        ("year, month: MRR movements", metrics,
         {**year, "granularity": "month", "metric": movements}),
        ("year, month: MRR movements, whole workspace (2 apps)", metrics,
         {**workspace, "granularity": "month", "metric": movements}),
        ("year, month: MRR movements, country=US,GB", metrics,
         {**year, "granularity": "month", "metric": movements, "country": ["US", "GB"]}),
        ("year, week: MRR movements", metrics,
         {**year, "granularity": "week", "metric": movements}),
        ("year, week: MRR movements, whole workspace (2 apps)", metrics,
         {**workspace, "granularity": "week", "metric": movements}),
        ("year, week: MRR movements, country=US,GB", metrics,
         {**year, "granularity": "week", "metric": movements, "country": ["US", "GB"]}),
        ("90 days, day: MRR movements", metrics,
         {**d90, "granularity": "day", "metric": movements}),
        ("90 days, day: MRR movements, whole workspace (2 apps)", metrics,
         {**{k: v for k, v in d90.items() if k != "app_id"}, "granularity": "day",
          "metric": movements}),
        ("90 days, day: MRR movements, country=US,GB", metrics,
         {**d90, "granularity": "day", "metric": movements, "country": ["US", "GB"]}),
        ("90 days, day: active, mrr, renewals", metrics,
         {**d90, "granularity": "day", "metric": "active,mrr,renewals"}),
        ("year, month, group_by=country: mrr, churn_rate, net_proceeds", metrics,
         {**year, "granularity": "month", "group_by": "country",
          "metric": "mrr,churn_rate,net_proceeds"}),
        ("summary: newest day, group_by=country", "/v1/subscriptions/summary",
         {"app_id": app, "group_by": "country"}),
        ("series: year of estimated_mrr", "/v1/subscriptions/summary/series",
         {**year, "metric": "estimated_mrr"}),
        ("series: year of active", "/v1/subscriptions/summary/series",
         {**year, "metric": "active"}),
        ("cohorts: retention, 12 months", cohorts, {**months, "metric": "retention"}),
        ("cohorts: revenue (LTV), 12 months", cohorts, {**months, "metric": "revenue"}),
        ("cohorts: renewal by period", cohorts, {**months, "metric": "renewal_by_period"}),
        ("cohorts: trial conversion", cohorts,
         {**months, "metric": "trial_conversion", "by": "trial_start_month"}),
    ]  # fmt: skip


#: Queries that read the Subscription Report (timed against the raw rows with --compare-raw).
SNAPSHOT_QUERIES = ("stocks", "90 days", "group_by=country", "summary:", "series:")


def snapshot_source(source: str) -> None:
    """Point the Subscription Report reads at their rollup or at the raw rows (the readers'
    ``source`` default, flipped in this process only)."""
    for reader in (analytics_repository.snapshot_days, analytics_repository.bucket_ends):
        assert reader.__kwdefaults__ is not None
        reader.__kwdefaults__["source"] = source
    repository.snapshot_kinds_sql.__defaults__ = (source,)
    repository.snapshot_mrr_sql.__defaults__ = (source,)
    # The series: their values precomputed per day (``series_days``), or the raw rows.
    assert service.series.__kwdefaults__ is not None
    service.series.__kwdefaults__["series_source"] = "precomputed" if source == "rollup" else source


async def _time(
    client: httpx.AsyncClient, path: str, params: dict[str, Any], headers: dict[str, str]
) -> tuple[float, httpx.Response]:
    started = time.perf_counter()
    response = await client.get(path, params=params, headers=headers)
    return time.perf_counter() - started, response


async def measure(url: str, world: dict[str, Any], args: argparse.Namespace) -> bool:
    with tempfile.TemporaryDirectory(prefix="orchard-bench-app-") as data_dir:
        settings = Settings(
            database_url=url.replace("postgresql://", "postgresql+asyncpg://", 1),  # type: ignore[arg-type]
            data_dir=Path(data_dir),
            run_worker=False,
            expect_worker=False,
            log_level="WARNING",
            # A dashboard's token at 600 a minute would be refused once the answers are fast
            # (30 runs of a query take well under a second): time the answers, not the limit.
            rate_limit_per_minute=1_000_000,
            rate_limit_burst=1_000_000,
        )
        application = create_app(settings)
        headers = {"Authorization": f"Bearer {world['tenant'].token}"}
        met = True
        print(f"measuring through the API in-process (httpx ASGITransport); {load_average()}")
        async with application.router.lifespan_context(application):
            transport = httpx.ASGITransport(app=application)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                for label, path, params in queries(world):
                    if args.only and not any(part in label for part in args.only):
                        continue
                    compare = args.compare_raw and any(q in label for q in SNAPSHOT_QUERIES)
                    sources = ("rollup", "raw") if compare else ("rollup",)
                    samples: dict[str, list[float]] = {source: [] for source in sources}
                    answers: dict[str, Any] = {}
                    budget = time.perf_counter() + args.seconds_per_query * len(sources)
                    failed = None
                    for n in range(args.warmup + args.repeat):
                        for source in sources:
                            snapshot_source(source)
                            elapsed, response = await _time(client, path, params, headers)
                            if response.status_code != 200:
                                failed = (elapsed, response)  # e.g. a 503 after command_timeout
                                break
                            answers[source] = response.json()
                            if n >= args.warmup:
                                samples[source].append(elapsed)
                        snapshot_source("rollup")
                        if failed or (n >= args.warmup + 5 and time.perf_counter() > budget):
                            break
                    if failed is not None:
                        met = False
                        print(
                            f"{label:<62} FAILED: {failed[1].status_code} after "
                            f"{failed[0]:.1f} s ({failed[1].json().get('detail')})"
                        )
                        continue
                    ok = percentile(samples["rollup"], 0.95) < args.target
                    met = met and ok
                    print(f"{label:<62} {describe(samples['rollup'])}  {'MET' if ok else 'MISSED'}")
                    if compare:
                        raw = samples["raw"]
                        same = "same answer" if answers["raw"] == answers["rollup"] else "DIFFERENT"
                        ratios = "  ".join(
                            f"{name} {percentile(raw, q) / percentile(samples['rollup'], q):.1f}×"
                            for name, q in (("p50", 0.5), ("p95", 0.95))
                        )
                        print(
                            f"{'  … raw snapshot rows':<62} {describe(raw)}  raw/rollup {ratios}, {same}"
                        )
        print(f"done; {load_average()}")
        return met


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--target", type=float, default=0.200, help="p95 target, seconds")
    parser.add_argument("--seconds-per-query", type=float, default=20.0)
    parser.add_argument(
        "--only", action="append", help="run only the queries whose label contains this"
    )
    parser.add_argument(
        "--compare-raw",
        action="store_true",
        help="also time the Subscription Report queries on the raw rows (interleaved)",
    )
    parser.add_argument(
        "--keep-database",
        metavar="NAME",
        help="Load the world into the database NAME on --database-url's server and keep it; "
        "if NAME already holds one, measure that instead of loading another "
        "(--subscribers is then ignored).",
    )
    parser.add_argument(
        "--rebuild-rollups",
        action="store_true",
        help="with a kept world: rebuild every day's rollups with this checkout's code first",
    )
    parser.add_argument(
        "--rebuild-days",
        type=int,
        default=0,
        help="with a kept world: re-time the rebuild of the newest N days' rollups",
    )
    add_database_argument(parser)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    if args.keep_database:
        if not args.database_url:
            parser.error("--keep-database needs --database-url")
        database = kept_database(
            args.database_url,
            args.keep_database,
            "SELECT count(DISTINCT report_date) >= 365 FROM subscription_snapshot_day_rollup",
        )
    else:
        database = _fresh(args.database_url)
    async with database as (url, built):
        world = await reuse(url, args) if built else await load(url, args)
        met = await measure(url, world, args)
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

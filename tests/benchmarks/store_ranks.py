"""Benchmark: reading public store data back as the history grows.

    python tests/benchmarks/store_ranks.py [--days 90] [--countries 10] [--runs 50]

Stores ``days`` of hourly chart snapshots (top free and top paid, 100 ids and names each, a
new list every hour: the worst case, where no fetch repeats the previous snapshot) for
``countries`` storefronts, plus a daily star-rating snapshot per storefront, for one tracked
app, then times the API's reads in-process: the 90-day rank history over every storefront and
chart (``GET /v1/apps/{id}/ranks``), one chart at a moment (``GET /v1/charts``), the 90-day
star-rating series (``GET /v1/apps/{id}/ratings/store``), and the two planners' queries (run by
every scheduler round).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable

import asyncpg
from sqlalchemy import text

from app.auth import service as auth
from app.config import Settings
from app.db.engine import create_engine, create_sessionmaker
from app.store import ranks, service
from app.store.jobs import plan_charts, plan_ratings
from app.store.schemas import Chart, Granularity
from app.sync.contract import PublicPlanContext

try:
    from tests.benchmarks.common import benchmark_database, machine
except ModuleNotFoundError:  # run as a script
    from common import benchmark_database, machine  # type: ignore[import-not-found,no-redef]

COUNTRIES = ["us", "gb", "de", "fr", "jp", "cn", "kr", "br", "in", "ca", "au", "it", "es"]
APP = 1_000_000_001


async def _fill(url: str, workspace_id: uuid.UUID, days: int, countries: list[str]) -> int:
    db = await asyncpg.connect(url)
    try:
        await db.execute(
            "INSERT INTO store_tracked_apps (id, workspace_id, apple_id, added_manually, "
            "storefronts, effective_storefronts) VALUES ($1, $2, $3, true, $4, $4)",
            uuid.uuid4(), workspace_id, APP, countries,
        )  # fmt: skip
        start = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)
        start -= dt.timedelta(days=days)
        await db.execute(
            """
            INSERT INTO store_chart_snapshots (country, chart, genre, status, feed,
                feed_updated_at, requested_n, depth, app_ids, names, first_fetched_at,
                last_fetched_at)
            SELECT c, ch, 36, 'ok', 'rss_v2', t, 100, 100,
                   ARRAY(SELECT CASE WHEN r = 1 + (h + length(c)) % 150 THEN $3::bigint
                                     ELSE 1400000000 + h * 7 + r END
                         FROM generate_series(1, 100) r),
                   ARRAY(SELECT 'App ' || r FROM generate_series(1, 100) r), t, t
            FROM unnest($1::text[]) c, unnest(ARRAY['top-free', 'top-paid']) ch,
                 generate_series(0, $2 * 24 - 1) h,
                 LATERAL (SELECT $4::timestamptz + make_interval(hours => h) AS t) x
            """,
            countries, days, APP, start,
        )  # fmt: skip
        await db.execute(
            """
            INSERT INTO store_rating_snapshots (apple_id, country, snapshot_date, status,
                rating_count, average, fetched_at)
            SELECT $1, c, d::date, 'ok', 1000 + i, 4.5, d
            FROM unnest($2::text[]) c,
                 generate_series($3::timestamptz, now(), interval '1 day') WITH ORDINALITY g(d, i)
            """,
            APP, countries, start,
        )  # fmt: skip
        await db.execute("ANALYZE")
        return int(await db.fetchval("SELECT count(*) FROM store_chart_snapshots"))
    finally:
        await db.close()


async def _time(runs: int, call: Callable[[], Awaitable[object]]) -> tuple[float, float]:
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        await call()
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return statistics.median(timings), timings[int(len(timings) * 0.95) - 1]


async def main(days: int, countries: int, runs: int) -> None:
    async with benchmark_database() as url:
        engine = create_engine(url, pool_size=2)
        sessions = create_sessionmaker(engine)
        async with sessions() as session:
            workspace, _ = await auth.create_workspace(session, "bench")
            await session.commit()
        rows = await _fill(url, workspace.id, days, COUNTRIES[:countries])
        async with sessions() as session:
            tracked = await session.scalar(text("SELECT id FROM store_tracked_apps"))
        today = dt.datetime.now(dt.UTC).date()
        settings = Settings(store_legacy_feeds=False)
        now = dt.datetime.now(dt.UTC)

        async def history() -> object:
            async with sessions() as s:
                return await ranks.rank_history(
                    s, workspace.id, tracked, start=today - dt.timedelta(days=89), end=today,
                    country=None, chart=None, genre=None, today=today,
                )  # fmt: skip

        async def history_daily() -> object:
            async with sessions() as s:
                return await ranks.rank_history(
                    s, workspace.id, tracked, start=today - dt.timedelta(days=89), end=today,
                    country=None, chart=None, genre=None, today=today,
                    granularity=Granularity.DAY,
                )  # fmt: skip

        async def history_week() -> object:
            async with sessions() as s:
                return await ranks.rank_history(
                    s, workspace.id, tracked, start=today - dt.timedelta(days=6), end=today,
                    country="us", chart=Chart.TOP_FREE, genre=36, today=today,
                )  # fmt: skip

        async def chart() -> object:
            async with sessions() as s:
                return await ranks.chart_at(
                    s, workspace.id, country="us", chart=Chart.TOP_FREE, genre=36,
                    at=now - dt.timedelta(days=days // 2),
                )  # fmt: skip

        async def ratings() -> object:
            async with sessions() as s:
                return await service.store_ratings(
                    s, workspace.id, tracked, start=today - dt.timedelta(days=89), end=today,
                    country=None, today=today,
                )  # fmt: skip

        async def planners() -> object:
            async with sessions() as s, s.begin():
                context = PublicPlanContext(s, now, dt.timedelta(hours=1))
                await plan_charts(settings, context)
                return await plan_ratings(settings, context)

        print(f"store_ranks: {machine()}; {rows:,} chart snapshots ({days} days × 24 h × "
              f"{countries} storefronts × 2 charts), {runs} runs each")  # fmt: skip
        for name, call in (("rank history, 90 days, every storefront and chart, hourly", history),
                           ("rank history, 90 days, every storefront and chart, daily",
                            history_daily),
                           ("rank history, 7 days, one storefront and chart, hourly",
                            history_week),
                           ("one chart at a moment", chart),
                           ("star-rating series, 90 days", ratings),
                           ("both planners (every scheduler round)", planners)):  # fmt: skip
            p50, p95 = await _time(runs, call)
            print(f"  {name}: p50 {p50:.1f} ms, p95 {p95:.1f} ms")
        await engine.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--countries", type=int, default=10)
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    asyncio.run(main(args.days, args.countries, args.runs))

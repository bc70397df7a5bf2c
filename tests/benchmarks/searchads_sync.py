"""Benchmark: syncing Apple Ads and reading it back.

    python tests/benchmarks/searchads_sync.py [--days 90] [--runs 30]

Links one Apple Ads sandbox credential (3 App Store ad accounts: USD, EUR, JPY; 6 campaigns
each, with ad groups and keywords) to a fresh database and runs the whole first sync through
the real engine (campaign snapshot, campaign/ad group/keyword DAILY reports back ``days``),
then a second pass (the restatement re-fetch), counting Apple requests and timing both; then
times the read API in-process: 90 days per campaign and day, per keyword in total, per
country and week, and an app's summary beside its proceeds.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import re
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx

if __name__ == "__main__":  # run as a script: make the repository importable
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from app.config import Settings
from app.main import create_app
from app.sandbox.app import create_sandbox_app
from app.sandbox.searchads import AppleAdsState, create_apple_ads_app
from app.sandbox.searchads.state import utc_now
from app.sandbox.state import SandboxState
from tests.fixtures.accounts import make_tenant
from tests.fixtures.engine import INSTANT_RETRY, drain
from tests.fixtures.hosts import HostRouter

try:
    from tests.benchmarks.common import benchmark_database, machine
except ModuleNotFoundError:  # run as a script
    from common import benchmark_database, machine  # type: ignore[import-not-found,no-redef]

ADS = "https://ads.test"


async def main(days: int, runs: int) -> None:
    os.environ.setdefault("ORCHARD_LOG_LEVEL", "WARNING")
    async with benchmark_database() as url:
        settings = Settings(
            database_url=url,  # type: ignore[arg-type]
            data_dir=Path(tempfile.mkdtemp(prefix="orchard-bench-ads-")),
            run_worker=False,
            expect_worker=False,
            store_enabled=False,
            apple_ads_base_url=ADS,
            apple_ads_token_url=f"{ADS}/auth/oauth2/token",
            searchads_backfill_days=days,
            searchads_window_days=30,
            searchads_restate_days=30,
        )
        ads = AppleAdsState(seed=5, clock=utc_now)
        router = HostRouter(
            {"ads.test": httpx.ASGITransport(app=create_apple_ads_app(ads))},
            default=httpx.ASGITransport(app=create_sandbox_app(SandboxState(seed=5))),
        )
        app = create_app(settings, asc_transport=router, asc_retry=INSTANT_RETRY)
        tenant = await make_tenant(url, "bench")
        credential = ads.add_credential()
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://orchard.test"
            ) as client,
        ):
            started = time.perf_counter()
            response = await client.post(
                "/v1/search-ads/accounts",
                json={
                    "name": "bench",
                    "client_id": credential.client_id,
                    "team_id": credential.team_id,
                    "key_id": credential.key_id,
                    "private_key": credential.private_key_pem,
                },
                headers=tenant.headers(),
            )
            assert response.status_code == 201, response.text
            link_ms = (time.perf_counter() - started) * 1000
            started = time.perf_counter()
            units = await drain(app, plan=True)
            first = time.perf_counter() - started
            kinds = Counter(
                "token" if r.api == "oauth" else re.sub(r"/\d+", "/{id}", r.path)
                for r in ads.requests
            )
            async with app.state.sessionmaker() as session:
                from sqlalchemy import text

                rows = await session.scalar(text("SELECT count(*) FROM searchads_daily"))
                await session.execute(
                    text(
                        "UPDATE sync_jobs SET finished_at = finished_at - interval '7 hours' "
                        "WHERE dataset LIKE 'search_ads%'"
                    )
                )
                await session.commit()
            ads.clear_requests()
            started = time.perf_counter()
            second_units = await drain(app, plan=True)
            second = time.perf_counter() - started
            second_requests = len(ads.requests)
            print(f"searchads_sync: {machine()}; {days} days, 3 App Store ad accounts")
            print(f"  link (token + /acls + 4 ad accounts): {link_ms:.0f} ms")
            print(
                f"  first sync: {units} units, {sum(kinds.values())} Apple requests "
                f"({dict(sorted(kinds.items()))}), {rows:,} daily rows, {first:.1f} s"
            )
            print(
                f"  second pass (restatement): {second_units} units, {second_requests} "
                f"requests, {second:.1f} s"
            )
            today = utc_now().date()
            start = (today.toordinal() - days + 1, today.toordinal())
            window = {
                "from": today.fromordinal(start[0]).isoformat(),
                "to": today.isoformat(),
            }
            queries = {
                "per campaign and day": {**window, "group_by": "campaign", "limit": 5000},
                "per keyword, total": {
                    **window,
                    "group_by": "keyword",
                    "granularity": "total",
                    "limit": 5000,
                },
                "per country and week": {**window, "group_by": "country", "granularity": "week"},
            }
            # Conversion into USD: manual EUR→USD and EUR→JPY rates for every day of the
            # window (fixed figures), so every ad account's spend converts day by day.
            first_day = today.fromordinal(start[0] - 7)
            rates = [
                {"date": d.isoformat(), "base": "EUR", "quote": q, "rate": r}
                for offset in range((today - first_day).days + 1)
                for d in [first_day + dt.timedelta(days=offset)]
                for q, r in (("USD", "1.0822"), ("JPY", "162.35"))
            ]
            uploaded = await client.put(
                "/v1/fx/rates", json={"rates": rates}, headers=tenant.headers()
            )
            assert uploaded.status_code == 200, uploaded.text
            for name, params in list(queries.items()):
                queries[f"{name}, currency=USD"] = {**params, "currency": "USD"}
            for name, params in queries.items():
                timings = []
                for _ in range(runs):
                    t0 = time.perf_counter()
                    answer = await client.get(
                        "/v1/search-ads/performance", params=params, headers=tenant.headers()
                    )
                    timings.append((time.perf_counter() - t0) * 1000)
                    assert answer.status_code == 200, answer.text
                items = len(answer.json()["items"])
                p50 = statistics.median(timings)
                p95 = sorted(timings)[int(len(timings) * 0.95) - 1]
                print(f"  GET /v1/search-ads/performance {name}: {items} items, "
                      f"p50 {p50:.1f} ms, p95 {p95:.1f} ms")  # fmt: skip
            # Keyset paging: walking per campaign and day 200 items a page, converted.
            walk = {**queries["per campaign and day, currency=USD"], "limit": 200}
            timings, pages = [], 0
            for _ in range(max(1, runs // 4)):
                cursor, pages = None, 0
                t0 = time.perf_counter()
                while True:
                    page = await client.get(
                        "/v1/search-ads/performance",
                        params={**walk, **({"cursor": cursor} if cursor else {})},
                        headers=tenant.headers(),
                    )
                    assert page.status_code == 200, page.text
                    pages += 1
                    cursor = page.json()["next_cursor"]
                    if cursor is None:
                        break
                timings.append((time.perf_counter() - t0) * 1000)
            print(f"  walk per campaign and day, currency=USD, 200 a page: {pages} pages, "
                  f"p50 {statistics.median(timings):.0f} ms the whole walk")  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    asyncio.run(main(args.days, args.runs))

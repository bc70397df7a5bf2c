"""Benchmark: how fast data gets fresh (issue 14).

    python tests/benchmarks/freshness.py [--changes 20] [--apps 50] [--deliver-every 1.0]

One process: Orchard's API and a real sync worker (its claim loops, scheduler and reaper,
default concurrency), the App Store Connect sandbox reached in-process over ASGI, and an
embedded PostgreSQL (or ``ORCHARD_TEST_DATABASE_URL``: note that a server shared with
long transactions delays ``/v1/events``, whose horizon is cluster-wide).

1. **event-to-visible latency** (``ORCHARD_PUBLIC_URL`` set, webhooks on): the sandbox forces
   an App Store version into a new state; its webhook hub delivers due events every
   ``--deliver-every`` seconds (``orchard sandbox`` delivers every second); measured from the
   state change to the moment both ``GET /v1/apps/{id}/versions`` shows the new state and
   ``GET /v1/events`` lists the change. p50 / p95 / max over ``--changes`` changes (target
   p95 < 5 s).
2. **on-demand reviews for ``--apps`` apps**: after a first full pass, the sandbox clock moves
   12 hours (new reviews appear); ``POST /v1/accounts/{id}/sync {"datasets": ["reviews"]}``,
   then ``GET /v1/sync-requests/{id}`` is polled until done; reported: time to done, and
   whether every review Apple lists is stored (target: within a minute).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import httpx

try:
    from tests.benchmarks.common import benchmark_database, machine
except ModuleNotFoundError:  # run as a script
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from tests.benchmarks.common import benchmark_database, machine

from fastapi import FastAPI

from app.config import Settings
from app.main import create_app
from app.registry import worker_parts
from app.sandbox.app import create_sandbox_app
from app.sandbox.catalog import team_apps
from app.sandbox.releases import app_releases
from app.sandbox.reviews import visible_reviews
from app.sandbox.state import SandboxState, utc_now
from app.sandbox.webhooks.delivery import asgi_sender
from app.sandbox.webhooks.hub import webhooks
from app.sync.worker import SyncWorker
from tests.fixtures.accounts import link_account, make_tenant
from tests.fixtures.sandbox import SANDBOX_URL

DEBUG = "--debug" in sys.argv
STATES = ("METADATA_REJECTED", "DEVELOPER_REJECTED", "WAITING_FOR_REVIEW", "IN_REVIEW")


class Clock:
    def __init__(self) -> None:
        self.offset = dt.timedelta(0)

    def __call__(self) -> dt.datetime:
        return utc_now() + self.offset


def settings_for(url: str, data_dir: Path, public_url: str | None) -> Settings:
    return Settings(
        database_url=url,  # type: ignore[arg-type]
        data_dir=data_dir,
        log_format="text",  # type: ignore[arg-type]
        log_level="WARNING",
        asc_base_url=SANDBOX_URL,
        run_worker=False,
        expect_worker=False,
        store_enabled=False,
        initial_backfill_days=1,
        worker_poll_seconds=0.05,
        public_url=public_url,
        rate_limit_per_minute=1_000_000,
        rate_limit_burst=1_000_000,
    )


@asynccontextmanager
async def running(
    settings: Settings, sandbox: SandboxState
) -> AsyncIterator[tuple[FastAPI, SyncWorker]]:
    app = create_app(settings, asc_transport=httpx.ASGITransport(app=create_sandbox_app(sandbox)))
    async with app.router.lifespan_context(app):
        worker = SyncWorker(
            settings, app.state.sessionmaker, app.state.asc_clients, worker_parts(settings)
        )
        await worker.start()
        try:
            yield app, worker
        finally:
            await worker.stop()


async def wait_for(check: Any, timeout: float, every: float = 0.05) -> float:
    started = time.monotonic()
    while not await check():
        if time.monotonic() - started > timeout:
            raise TimeoutError("condition not reached")
        await asyncio.sleep(every)
    return time.monotonic() - started


async def latency(url: str, changes: int, deliver_every: float) -> list[float]:
    sandbox = SandboxState(seed=7)
    key = sandbox.add_key(roles=("ADMIN",))
    apps = team_apps(key.team)
    settings = settings_for(url, Path(tempfile.mkdtemp()), "https://orchard.example.test")
    tenant = await make_tenant(url, "bench")
    db = await asyncpg.connect(url)
    async with running(settings, sandbox) as (app, _worker):
        hub = webhooks(sandbox)
        hub.sender = asgi_sender(app)
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://o")
        account = await link_account(client, tenant, key, vendor=False)

        async def ready() -> bool:
            synced = await db.fetchval(
                "SELECT count(*) FROM apps WHERE account_id = $1 AND versions_synced_at IS NOT NULL",
                account,
            )
            return len(hub.webhooks) == len(apps) and synced == len(apps)

        await wait_for(ready, 120)

        async def deliver() -> None:
            while True:
                await hub.deliver_due()
                await asyncio.sleep(deliver_every)

        delivery = asyncio.create_task(deliver())
        ids = {r["apple_id"]: r["id"] for r in await db.fetch("SELECT id, apple_id FROM apps")}
        figures = []
        forced: dict[str, str] = {}
        cursor = (await client.get("/v1/events", headers=tenant.headers())).json()["next_cursor"]
        for n in range(changes):
            target = apps[n % len(apps)]
            version = app_releases(key.team, target, sandbox.now())[-1]
            current = forced.get(version.version_id) or version.version_state(sandbox.now())
            new = next(s for s in STATES if s != current)
            forced[version.version_id] = new
            started = time.monotonic()
            hub.force_version_state(key.team, target, version.version_id, new)

            async def visible() -> bool:
                nonlocal cursor
                shown = await client.get(
                    f"/v1/apps/{ids[target.id]}/versions", headers=tenant.headers()
                )
                states = {v["apple_id"]: v["state"] for v in shown.json()["items"]}
                if states.get(version.version_id) != new:
                    if DEBUG:
                        print("versions", states.get(version.version_id), new, len(hub.deliveries))
                    return False
                feed = await client.get(
                    "/v1/events", params={"cursor": cursor}, headers=tenant.headers()
                )
                body = feed.json()
                if any(
                    e["subject"]["apple_id"] == version.version_id and e["to_state"] == new
                    for e in body["items"]
                ):
                    cursor = body["next_cursor"]
                    return True
                if DEBUG:
                    print("feed", body)
                return False

            await wait_for(visible, 60)
            figures.append(time.monotonic() - started)
        delivery.cancel()
        await client.aclose()
    await db.close()
    return figures


async def on_demand(url: str, apps: int) -> tuple[float, int, bool]:
    clock = Clock()
    sandbox = SandboxState(seed=11, clock=clock)
    sandbox.token_clock = utc_now
    key = sandbox.add_key(sandbox.add_team("Fifty Apps", apps=apps), roles=("ADMIN",))
    settings = settings_for(url, Path(tempfile.mkdtemp()), None)
    tenant = await make_tenant(url, "bench2")
    db = await asyncpg.connect(url)
    async with running(settings, sandbox) as (app, _worker):
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://o")
        account = await link_account(client, tenant, key, vendor=False, name="fifty")

        async def listed() -> bool:
            n = await db.fetchval("SELECT count(*) FROM apps WHERE account_id = $1", account)
            return int(n) == apps

        await wait_for(listed, 120)

        async def sync_and_wait() -> float:
            response = await client.post(
                f"/v1/accounts/{account}/sync",
                json={"datasets": ["reviews"]},
                headers=tenant.headers(),
            )
            request_id = response.json()["sync_request_id"]

            async def done() -> bool:
                got = await client.get(f"/v1/sync-requests/{request_id}", headers=tenant.headers())
                return got.json()["finished_at"] is not None

            started = time.monotonic()
            await wait_for(done, 600, every=0.1)
            return time.monotonic() - started

        await sync_and_wait()  # the first, full pass
        clock.offset += dt.timedelta(hours=12)
        before = int(await db.fetchval("SELECT count(*) FROM customer_reviews"))
        seconds = await sync_and_wait()
        after = int(await db.fetchval("SELECT count(*) FROM customer_reviews"))
        complete = True
        for sandbox_app in team_apps(key.team):
            served = {r.id for r in visible_reviews(sandbox, key.team, sandbox_app, sandbox.now())}
            stored = {
                r["apple_id"]
                for r in await db.fetch(
                    "SELECT apple_id FROM customer_reviews WHERE app_apple_id = $1",
                    sandbox_app.id,
                )
            }
            complete = complete and served <= stored
        await client.aclose()
    await db.close()
    return seconds, after - before, complete


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--changes", type=int, default=20)
    parser.add_argument("--apps", type=int, default=50)
    parser.add_argument("--deliver-every", type=float, default=1.0)
    parser.add_argument("--debug", action="store_true")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    async with benchmark_database() as url:
        figures = await latency(url, args.changes, args.deliver_every)
        ordered = sorted(figures)
        p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
        print(
            f"event-to-visible ({len(figures)} version state changes, delivery every "
            f"{args.deliver_every:g} s): p50 {statistics.median(figures):.2f} s, "
            f"p95 {p95:.2f} s, max {max(figures):.2f} s"
        )
        seconds, new, complete = await on_demand(url, args.apps)
        print(
            f"on-demand reviews, {args.apps} apps: done in {seconds:.1f} s, {new} new reviews "
            f"stored, every review Apple lists stored: {complete}"
        )


if __name__ == "__main__":
    asyncio.run(main())

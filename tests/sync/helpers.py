from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections import Counter

import asyncpg
import httpx
from fastapi import FastAPI

from app.reports.calendar import pacific_today
from app.sandbox.sales import generate_sales_rows
from app.sandbox.state import SandboxKey, SandboxState
from app.sync.worker import SyncWorker


async def job_states(db: asyncpg.Connection, account_id: uuid.UUID | None = None) -> Counter[str]:
    if account_id is None:
        rows = await db.fetch("SELECT state FROM sync_jobs")
    else:
        rows = await db.fetch("SELECT state FROM sync_jobs WHERE account_id = $1", account_id)
    return Counter(row["state"] for row in rows)


async def _succeeded(db: asyncpg.Connection, among: set[uuid.UUID] | None) -> int:
    if among is None:
        return (await job_states(db)).get("succeeded", 0)
    count = await db.fetchval(
        "SELECT count(*) FROM sync_jobs WHERE state = 'succeeded' AND id = ANY($1::uuid[])",
        list(among),
    )
    return int(count or 0)


def expected_daily_rows(
    sandbox: SandboxState, key: SandboxKey, days: list[dt.date]
) -> dict[dt.date, int]:
    """What the sandbox serves for each day, computed independently of Orchard."""
    return {day: len(generate_sales_rows(key.team, "DAILY", day)) for day in days}


async def stored_daily_rows(db: asyncpg.Connection, account_id: uuid.UUID) -> dict[dt.date, int]:
    rows = await db.fetch(
        "SELECT report_date, count(*) AS n FROM sales_rows WHERE account_id = $1 "
        "AND frequency = 'DAILY' GROUP BY report_date",
        account_id,
    )
    return {row["report_date"]: row["n"] for row in rows}


async def daily_units(db: asyncpg.Connection, account_id: uuid.UUID) -> list[dt.date]:
    rows = await db.fetch(
        "SELECT unit_key FROM sync_jobs WHERE account_id = $1 AND dataset = 'sales_daily'",
        account_id,
    )
    return sorted(dt.date.fromisoformat(row["unit_key"]) for row in rows)


def today_pacific() -> dt.date:
    return pacific_today(dt.datetime.now(dt.UTC))


async def api(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


async def run_workers_until(
    workers: list[SyncWorker],
    db: asyncpg.Connection,
    succeeded: int,
    timeout: float = 60,
    *,
    among: set[uuid.UUID] | None = None,
) -> None:
    """Start the workers, wait until ``succeeded`` units have succeeded (of the jobs ``among``
    only, when given) and every unit queued now has run (units the workers' scheduler plans
    meanwhile, e.g. one per listed app, do not count), stop them."""
    before = [row["id"] for row in await db.fetch("SELECT id FROM sync_jobs")]
    for worker in workers:
        await worker.start()
    try:
        async with asyncio.timeout(timeout):
            while await _succeeded(db, among) < succeeded or await db.fetchval(
                "SELECT count(*) FROM sync_jobs WHERE id = ANY($1::uuid[]) "
                "AND state IN ('queued', 'running')",
                before,
            ):
                await asyncio.sleep(0.1)
    finally:
        for worker in workers:
            await worker.stop()

"""Helpers for store tests: the simulator's clock, tracking apps, and moving time on."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import text

from app.sync import queue
from app.sync.contract import PlannedUnit, Priority
from tests.fixtures.accounts import Tenant
from tests.fixtures.engine import drain, worker

STORE_URL = "https://store.test"
NOW = dt.datetime(2025, 6, 10, 18, 0, tzinfo=dt.UTC)


class FakeClock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


async def track(
    client: httpx.AsyncClient, tenant: Tenant, apple_id: int, storefronts: list[str] | None
) -> dict[str, Any]:
    response = await client.post(
        "/v1/tracked-apps",
        json={"apple_id": str(apple_id), "storefronts": storefronts},
        headers=tenant.headers(),
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def sync_store(app: FastAPI) -> int:
    """Plan and run every due unit (store units included) until nothing is left."""
    return await drain(app, plan=True)


async def time_passes(app: FastAPI, seconds: float) -> None:
    """Orchard's side of time moving on: waiting units, finished units and the shared
    request budget all look ``seconds`` older (the simulator's clock moves separately)."""
    shift = {"s": seconds}
    async with app.state.sessionmaker() as session, session.begin():
        await session.execute(
            text(
                "UPDATE sync_jobs SET run_after = run_after - make_interval(secs => :s), "
                "finished_at = finished_at - make_interval(secs => :s)"
            ),
            shift,
        )
        await session.execute(
            text(
                "UPDATE store_request_budget SET next_slot_at = next_slot_at - "
                "make_interval(secs => :s), blocked_until = blocked_until - "
                "make_interval(secs => :s)"
            ),
            shift,
        )
        await session.execute(
            text(
                "UPDATE store_workspace_settings SET refreshed_at = refreshed_at - "
                "make_interval(secs => :s)"
            ),
            shift,
        )


async def run_public_unit(app: FastAPI, dataset: str, unit_key: str) -> None:
    """Queue one public unit ahead of everything else and run it (and only it)."""
    found = app.state.registry.get_public(dataset)
    assert found is not None
    async with app.state.sessionmaker() as session, session.begin():
        await session.execute(
            text("UPDATE sync_jobs SET state = 'paused' WHERE state IN ('queued', 'waiting')")
        )
        await queue.enqueue_public(
            session,
            key_id=found.key_id,
            dataset=dataset,
            units=[PlannedUnit(unit_key, priority=Priority.MANUAL)],
            now=dt.datetime.now(dt.UTC),
            force=True,
        )
        await session.execute(
            text(
                "UPDATE sync_jobs SET state = 'queued', run_after = now() "
                "WHERE account_id IS NULL AND dataset = :d AND unit_key = :u"
            ),
            {"d": dataset, "u": unit_key},
        )
    assert await worker(app).runner.run_once(), "the unit was not claimed"


async def public_jobs(app: FastAPI, dataset: str) -> list[Any]:
    async with app.state.sessionmaker() as session:
        rows = await session.execute(
            text(
                "SELECT unit_key, state, attempts, run_after, last_error_code FROM sync_jobs "
                "WHERE account_id IS NULL AND dataset = :d ORDER BY unit_key"
            ),
            {"d": dataset},
        )
        return list(rows)


def uid(value: str) -> uuid.UUID:
    return uuid.UUID(value)

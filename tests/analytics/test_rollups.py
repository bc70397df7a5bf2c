"""The rollups ``/v1/analytics`` reads: kept at ingest in the unit's transaction (a restated or
re-run instance replaces its own part, an older one loaded late changes nothing), equal to a
rebuild from scratch, and for random filters and groupings their answers equal the raw-row
answers."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.analytics import repository, rollups
from app.analytics.repository import Chosen
from app.analytics.schemas import AnalyticsFilter
from app.config import Settings
from app.sandbox.analytics_ledger import analytics
from app.sandbox.catalog import team_apps
from app.sandbox.state import SandboxState
from tests.analytics.helpers import existing_request, link_and_sync, sync_analytics
from tests.fixtures.accounts import Tenant
from tests.fixtures.engine import run_unit

ROLLUP_COLUMNS = (
    "app_id, instance_id, report, granularity, report_date, processing_date, territory, rows, "
    "installs, first_time_installs, deletions, sessions, session_seconds, impressions, "
    "product_page_views, downloads, first_time_downloads, crashes, unique_devices"
)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"initial_backfill_days": 1, "analytics_snapshot": False})


async def _rollup_rows(db: asyncpg.Connection) -> list[tuple[Any, ...]]:
    rows = await db.fetch(f"SELECT {ROLLUP_COLUMNS} FROM analytics_rollups")
    return sorted((tuple(r) for r in rows), key=repr)


async def _aggregate(
    sessions: async_sessionmaker[AsyncSession],
    workspace_id: uuid.UUID,
    rollup: bool,
    **query: Any,
) -> list[repository.AggregateRow]:
    async with sessions() as session:
        return await repository.aggregate(
            session, workspace_id, chosen=Chosen(), after=None, limit=100_000, rollup=rollup,
            **query,
        )  # fmt: skip


async def test_rollups_equal_raw_rows_for_random_requests(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    sandbox: SandboxState,
    db: asyncpg.Connection,
) -> None:
    team = sandbox.add_team("acme", apps=2)
    key = sandbox.add_key(team, roles=("ADMIN",))
    apps = team_apps(team)
    for sandbox_app in apps:  # two weeks and more: weekly instances too
        existing_request(sandbox, sandbox_app, days_ago=16, volume=0.03)
    today = sandbox.now().date()
    restated = today - dt.timedelta(days=12)
    analytics(sandbox).restate(apps[0].id, restated, today, factor=1.5)
    account_id = await link_and_sync(app, client, tenant, key, db)
    assert await db.fetchval("SELECT count(DISTINCT granularity) FROM analytics_rollups") >= 2
    assert (
        await db.fetchval(
            "SELECT count(*) FROM analytics_vintages WHERE report_date = $1 AND granularity = "
            "'DAILY' GROUP BY app_id, report ORDER BY 1 DESC LIMIT 1",
            restated,
        )
        > 1
    ), "the day has several vintages"

    # What ingest kept equals a rollup of every date from scratch.
    kept = await _rollup_rows(db)
    sessions: async_sessionmaker[AsyncSession] = app.state.sessionmaker
    async with sessions() as session, session.begin():
        await rollups.rebuild_account(session, account_id)
    assert await _rollup_rows(db) == kept

    # An older instance run again after the newer ones: its dates still serve the newest.
    oldest = await db.fetchval(
        "SELECT apple_instance_id FROM analytics_instances WHERE granularity = 'DAILY' "
        "ORDER BY processing_date LIMIT 1"
    )
    await run_unit(app, account_id, "analytics_instances", oldest)
    assert await _rollup_rows(db) == kept

    app_ids = [r["id"] for r in await db.fetch("SELECT id FROM apps ORDER BY apple_id")]
    territories = [
        r["territory"]
        for r in await db.fetch(
            "SELECT DISTINCT territory FROM analytics_rows WHERE territory IS NOT NULL"
        )
    ]
    assert len(territories) >= 3
    first_day = await db.fetchval("SELECT min(report_date) FROM analytics_vintages")
    span = (today - first_day).days
    rng = random.Random(16)
    checked = 0
    for _ in range(40):
        start = first_day + dt.timedelta(days=rng.randint(-3, span))
        end = start + dt.timedelta(days=rng.randint(0, 45))
        dimensions = rng.sample(["app", "territory"], rng.randint(0, 2))
        picked = rng.sample(territories, rng.randint(0, 3))
        filters = AnalyticsFilter(
            app_ids=rng.sample(app_ids, rng.randint(0, 2)),
            account_ids=[account_id] if rng.random() < 0.3 else [],
            # Apple's values are compared case-insensitively, whatever the request's case.
            territories=[t.lower() if rng.random() < 0.5 else t for t in picked],
        )
        assert repository.rollup_answers(dimensions, filters, Chosen())
        query = {
            "start": start,
            "end": end,
            "granularity": rng.choice(["day", "week", "month"]),
            "dimensions": dimensions,
            "filters": filters,
        }
        from_rollups = await _aggregate(sessions, tenant.workspace_id, True, **query)
        from_rows = await _aggregate(sessions, tenant.workspace_id, False, **query)
        assert from_rollups == from_rows, query
        checked += bool(from_rows)
    assert checked >= 20, "most requests have data"

    # Requests the rollups cannot answer read the raw rows.
    assert not repository.rollup_answers(["device"], AnalyticsFilter(), Chosen())
    assert not repository.rollup_answers([], AnalyticsFilter(devices=["iPhone"]), Chosen())
    assert not repository.rollup_answers([], AnalyticsFilter(source_types=["x"]), Chosen())
    assert not repository.rollup_answers([], AnalyticsFilter(), Chosen(first=True))
    assert not repository.rollup_answers([], AnalyticsFilter(), Chosen(as_of=today))

    # A later sync (new instances, restatements) keeps them equal.
    analytics(sandbox).restate(apps[1].id, restated, today, factor=0.5)
    await sync_analytics(app, account_id, db)
    kept = await _rollup_rows(db)
    async with sessions() as session, session.begin():
        await rollups.rebuild_account(session, account_id)
    assert await _rollup_rows(db) == kept

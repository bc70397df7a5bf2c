"""ONE_TIME_SNAPSHOT: Apple's history before the ONGOING request, read once per app."""

from __future__ import annotations

import datetime as dt

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from app.config import Settings
from app.sandbox.analytics_catalog import Family
from app.sandbox.analytics_ledger import analytics
from app.sandbox.analytics_truth import AnalyticsTruth
from app.sandbox.state import SandboxKey, SandboxState, utc_now
from tests.analytics.helpers import (
    existing_request,
    link_and_sync,
    one_app_team,
    running_app,
    sync_analytics,
)
from tests.fixtures.accounts import Tenant
from tests.sandbox.conftest import FakeClock


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"initial_backfill_days": 1})


async def test_the_snapshot_brings_history_once(
    settings: Settings, tenant: Tenant, db: asyncpg.Connection
) -> None:
    # Apple's clock in spring 2024: the snapshot holds every day since 2024-01-01 (ANALYTICS
    # §3), a quarter of history rather than years.
    clock = FakeClock(dt.datetime(2024, 4, 9, 12, tzinfo=dt.UTC))
    sandbox = SandboxState(seed=7, clock=clock)
    sandbox.token_clock = utc_now
    key, sandbox_app = one_app_team(sandbox)
    existing_request(sandbox, sandbox_app, days_ago=2, access="ONE_TIME_SNAPSHOT", volume=0.05)
    existing_request(sandbox, sandbox_app, days_ago=2, volume=0.05)
    async with running_app(settings, sandbox) as (app, client):
        await _check(app, client, tenant, sandbox, db, key, sandbox_app.id)


async def _check(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    sandbox: SandboxState,
    db: asyncpg.Connection,
    key: SandboxKey,
    app_id: str,
) -> None:
    account_id = await link_and_sync(app, client, tenant, key, db)

    snapshot = await db.fetchrow(
        "SELECT state, created_by_orchard FROM analytics_requests "
        "WHERE access_type = 'ONE_TIME_SNAPSHOT'"
    )
    assert snapshot is not None and snapshot["state"] == "processed"
    assert not snapshot["created_by_orchard"], "Apple's listed snapshot was reused"
    loaded = await db.fetch(
        "SELECT granularity, count(*) AS n FROM analytics_instances "
        "WHERE access_type = 'ONE_TIME_SNAPSHOT' AND state = 'loaded' GROUP BY 1"
    )
    assert {r["granularity"] for r in loaded} >= {"DAILY", "WEEKLY", "MONTHLY"}
    oldest = await db.fetchval("SELECT min(report_date) FROM analytics_vintages")
    assert oldest <= dt.date(2024, 1, 31), "history back to the report's start"

    # A historical month equals the simulator's truth (complete data, far outside any window).
    month = dt.date(2024, 2, 1)
    month_end = (month + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    response = await client.get(
        "/v1/analytics",
        params={"from": str(month), "to": str(month_end), "granularity": "month"},
        headers=tenant.headers(),
    )
    [item] = response.json()["items"]
    truth = AnalyticsTruth(sandbox, sandbox.team("acme"))
    days = [month + dt.timedelta(days=n) for n in range((month_end - month).days + 1)]
    expected = sum(truth.day(app_id, d).sessions for d in days)
    assert item["sessions"] == expected
    assert item["active_devices"] == truth.period(app_id, "MONTHLY", month).active_devices
    withheld = [d for d in response.json()["incomplete_dates"] if d["state"] == "withheld"]
    published = {d for d in days if truth.published(app_id, Family.SESSIONS, d)}
    withheld_days = {
        dt.date.fromisoformat(d["report_date"]) for d in withheld if d["report"] == "sessions"
    }
    assert withheld_days == set(days) - published, "days under 5 users are withheld, not 0"

    # Processed once: the next run asks Apple for no snapshot again.
    before = len(analytics(sandbox).requests)
    await sync_analytics(app, account_id, db)
    assert len(analytics(sandbox).requests) == before

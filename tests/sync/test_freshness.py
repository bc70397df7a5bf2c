"""Data age in sync-status and /metrics: how old each dataset is, how old it may be, and the
cadences a deployment sets."""

from __future__ import annotations

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from app.config import Settings
from app.reports.calendar import latest_daily
from app.sandbox.state import SandboxState
from tests.fixtures.accounts import Tenant, link_account
from tests.fixtures.engine import drain

PACIFIC = ZoneInfo("America/Los_Angeles")


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"cadences": "apps=PT10M,team=7200"})


async def _status(client: httpx.AsyncClient, tenant: Tenant, account_id: uuid.UUID) -> dict:  # type: ignore[type-arg]
    response = await client.get(f"/v1/accounts/{account_id}/sync-status", headers=tenant.headers())
    assert response.status_code == 200, response.text
    return {entry["dataset"]: entry for entry in response.json()["items"]}


def _at(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


async def test_sync_status_shows_age_cadence_and_target_per_dataset(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    sandbox: SandboxState,
    db: asyncpg.Connection,
) -> None:
    account_id = await link_account(client, tenant, sandbox.add_key(roles=("ADMIN",)))
    await db.execute(
        "DELETE FROM sync_jobs WHERE NOT (dataset = ANY($1::text[]))",
        ["apps", "sales_daily", "team"],
    )
    # The team dataset has work but never ran (a dataset with no unit at all has nothing to
    # fetch yet and is ok; see test_nothing_to_fetch_yet_is_not_lagging).
    await db.execute(
        "UPDATE sync_jobs SET state = 'waiting', run_after = now() + interval '1 day' "
        "WHERE dataset = 'team'"
    )
    await drain(app)
    status = await _status(client, tenant, account_id)

    apps = status["apps"]
    assert apps["cadence_seconds"] == 600  # ORCHARD_CADENCES
    assert status["team"]["cadence_seconds"] == 7200
    assert status["reviews"]["cadence_seconds"] == 3600  # the default
    assert apps["freshness_target_seconds"] == 1200
    assert apps["data_as_of"] == apps["last_success_at"]
    assert 0 <= apps["age_seconds"] < 60
    assert _at(apps["next_run_at"]) == _at(apps["last_success_at"]) + dt.timedelta(minutes=10)
    assert apps["state"] == "ok"
    team = status["team"]  # never ran
    assert team["data_as_of"] is None and team["age_seconds"] is None
    assert team["state"] == "lagging"

    daily = status["sales_daily"]
    newest = dt.date.fromisoformat(daily["newest_available_date"])
    assert _at(daily["data_as_of"]) == dt.datetime.combine(newest, dt.time(), PACIFIC)
    now = dt.datetime.now(dt.UTC)
    expected_start = dt.datetime.combine(latest_daily(now), dt.time(), PACIFIC)
    target = (now - expected_start + dt.timedelta(days=1)).total_seconds()
    assert abs(daily["freshness_target_seconds"] - target) < 60
    assert daily["age_seconds"] <= daily["freshness_target_seconds"]
    assert daily["state"] == "ok"

    # Stale data: the apps list two hours old, the daily reports a month older.
    await db.execute(
        "UPDATE sync_dataset_states SET last_success_at = now() - interval '2 hours' "
        "WHERE dataset = 'apps'"
    )
    await db.execute(
        "UPDATE dataset_availability SET report_date = report_date - 30 "
        "WHERE dataset = 'sales_daily'"
    )
    stale = await _status(client, tenant, account_id)
    assert stale["apps"]["state"] == "lagging"
    assert 7200 <= stale["apps"]["age_seconds"] < 7300
    assert stale["sales_daily"]["state"] == "lagging"
    assert stale["sales_daily"]["age_seconds"] > stale["sales_daily"]["freshness_target_seconds"]
    listed = await client.get("/v1/sync-status", headers=tenant.headers())
    entry = next(e for e in listed.json()["items"] if e["dataset"] == "apps")
    assert entry["age_seconds"] >= 7200 and entry["cadence_seconds"] == 600

    # /metrics: one age series per dataset (the stalest account), never per account.
    await link_account(client, tenant, sandbox.add_key("other", roles=("ADMIN",)))
    metrics = (await client.get("/metrics")).text
    ages = [
        line for line in metrics.splitlines() if line.startswith("orchard_sync_data_age_seconds{")
    ]
    apps_age = [line for line in ages if 'dataset="apps"' in line]
    assert len(apps_age) == 1
    assert 7200 <= float(apps_age[0].split()[-1]) < 7300
    assert all("account" not in line for line in ages)


async def test_nothing_to_fetch_yet_is_not_lagging(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    sandbox: SandboxState,
    db: asyncpg.Connection,
) -> None:
    """A snapshot dataset with no unit at all (an analytics report Apple has not produced
    yet, say) is ok with the reason, not lagging: nothing is falling behind."""
    account_id = await link_account(client, tenant, sandbox.add_key(roles=("ADMIN",)))
    await db.execute("DELETE FROM sync_jobs WHERE dataset = 'team'")
    team = (await _status(client, tenant, account_id))["team"]
    assert team["state"] == "ok"
    assert team["reason"] == "nothing to fetch yet"

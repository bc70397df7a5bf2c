"""Segment downloads: every segment of an instance, checked before its rows count. A bad
checksum or an expired URL is fetched once more with a fresh URL, then fails the unit with a
clear error; either way no partial data is ever stored (ANALYTICS §0.5, §0.7, §9)."""

from __future__ import annotations

import uuid

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from app.config import Settings
from app.sandbox.analytics_ledger import analytics
from app.sandbox.analytics_truth import AnalyticsTruth
from app.sandbox.seeding import stable_uuid
from app.sandbox.state import SandboxState
from tests.analytics.helpers import existing_request, one_app_team
from tests.fixtures.accounts import Tenant, link
from tests.fixtures.engine import run_unit


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"initial_backfill_days": 1, "analytics_snapshot": False})


async def _discover(
    app: FastAPI, client: httpx.AsyncClient, tenant: Tenant, sandbox: SandboxState,
    db: asyncpg.Connection,
) -> tuple[uuid.UUID, str, str]:  # fmt: skip
    """Link, list the requests' instances; (account, an instance of the sessions report,
    the app's Apple id)."""
    key, sandbox_app = one_app_team(sandbox)
    existing_request(sandbox, sandbox_app, days_ago=2)
    response = await link(client, tenant, key)
    assert response.status_code == 201, response.text
    account_id = uuid.UUID(response.json()["id"])
    await run_unit(app, account_id, "apps", "all")
    await run_unit(app, account_id, "analytics_requests", sandbox_app.id)
    instance = await db.fetchval(
        "SELECT apple_instance_id FROM analytics_instances WHERE report = 'sessions' "
        "AND granularity = 'DAILY' ORDER BY processing_date LIMIT 1"
    )
    assert instance is not None
    return account_id, str(instance), sandbox_app.id


async def _job(db: asyncpg.Connection, instance: str) -> asyncpg.Record:
    row = await db.fetchrow(
        "SELECT state, last_error_code AS error_code, last_error_message AS error_message "
        "FROM sync_jobs "
        "WHERE dataset = 'analytics_instances' AND unit_key = $1",
        instance,
    )
    assert row is not None
    return row


async def test_a_checksum_mismatch_is_fetched_again_then_fails_without_partial_data(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    sandbox: SandboxState,
    db: asyncpg.Connection,
) -> None:
    account_id, instance, _ = await _discover(app, client, tenant, sandbox, db)
    ledger = analytics(sandbox)
    ledger.options.rows_per_segment = 40  # several segments; the second one goes bad
    ledger.corrupt(stable_uuid(instance, "segment", 1), always=True)

    await run_unit(app, account_id, "analytics_instances", instance)
    job = await _job(db, instance)
    assert (job["state"], job["error_code"]) == ("failed", "segment_unreadable")
    assert "MD5 checksum does not match" in job["error_message"]
    assert await db.fetchval("SELECT count(*) FROM analytics_rows") == 0
    assert await db.fetchval("SELECT count(*) FROM analytics_vintages") == 0
    state = await db.fetchval(
        "SELECT state FROM analytics_instances WHERE apple_instance_id = $1", instance
    )
    assert state == "pending"
    served = ledger.corruptions[stable_uuid(instance, "segment", 1)].served
    assert served == 2, "downloaded twice, the second time from a fresh URL"


async def test_one_bad_download_is_repaired_by_a_fresh_url_and_segments_add_up(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    sandbox: SandboxState,
    db: asyncpg.Connection,
) -> None:
    account_id, instance, app_id = await _discover(app, client, tenant, sandbox, db)
    ledger = analytics(sandbox)
    ledger.options.rows_per_segment = 40
    ledger.options.segment_headers = "first"  # later segments without a header row
    ledger.corrupt(stable_uuid(instance, "segment", 2), kind="truncate")

    await run_unit(app, account_id, "analytics_instances", instance)
    job = await _job(db, instance)
    assert job["state"] == "succeeded", job
    loaded = await db.fetchrow(
        "SELECT rows, segments, processing_date FROM analytics_instances "
        "WHERE apple_instance_id = $1",
        instance,
    )
    assert loaded["segments"] >= 3
    days = await db.fetch(
        "SELECT report_date, sum(count) AS sessions, sum(unique_count) AS devices, count(*) AS n "
        "FROM analytics_rows GROUP BY 1 ORDER BY 1"
    )
    assert sum(d["n"] for d in days) == loaded["rows"]
    truth = AnalyticsTruth(sandbox, sandbox.team("acme"))
    for day in days:
        vintage = (loaded["processing_date"] - day["report_date"]).days
        expected = truth.day(app_id, day["report_date"], vintage=vintage)
        assert (day["sessions"], day["devices"]) == (
            expected.sessions,
            expected.active_devices,
        )


async def test_an_expired_url_never_yields_partial_data(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    sandbox: SandboxState,
    db: asyncpg.Connection,
) -> None:
    account_id, instance, _ = await _discover(app, client, tenant, sandbox, db)
    analytics(sandbox).options.url_lifetime_seconds = -1  # every URL already expired

    await run_unit(app, account_id, "analytics_instances", instance)
    job = await _job(db, instance)
    assert (job["state"], job["error_code"]) == ("failed", "segment_unreadable")
    assert "403 (AccessDenied)" in job["error_message"]
    assert await db.fetchval("SELECT count(*) FROM analytics_rows") == 0

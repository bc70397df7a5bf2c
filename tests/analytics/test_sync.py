"""The analytics sync against the sandbox: requests reused or created, one unit per report
instance, rows loaded by header name and equal to the simulator's own truth."""

from __future__ import annotations

import datetime as dt

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from app.config import Settings
from app.sandbox.analytics_truth import AnalyticsTruth
from app.sandbox.state import SandboxState
from tests.analytics.helpers import existing_request, link_and_sync, one_app_team
from tests.fixtures.accounts import Tenant


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"initial_backfill_days": 1, "analytics_snapshot": False})


async def test_existing_ongoing_request_is_reused_and_rows_match_truth(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    sandbox: SandboxState,
    db: asyncpg.Connection,
) -> None:
    key, sandbox_app = one_app_team(sandbox)
    request_id = existing_request(sandbox, sandbox_app, days_ago=7)
    await link_and_sync(app, client, tenant, key, db)

    stored = await db.fetch("SELECT * FROM analytics_requests")
    assert [(r["access_type"], r["apple_request_id"], r["state"]) for r in stored] == [
        ("ONGOING", request_id, "active")
    ]
    assert not stored[0]["created_by_orchard"]
    states = await db.fetch("SELECT state, count(*) AS n FROM analytics_instances GROUP BY 1")
    assert {r["state"]: r["n"] for r in states} == {"loaded": pytest.approx(states[0]["n"])}
    assert states[0]["n"] > 10

    truth = AnalyticsTruth(sandbox, sandbox.team("acme"))
    finals = await db.fetch(
        """
        SELECT report_date FROM analytics_vintages
        WHERE report = 'sessions' AND granularity = 'DAILY'
        GROUP BY report_date HAVING max(processing_date) - report_date >= 5
        ORDER BY 1
        """
    )
    assert finals, "some daily dates are final"
    for row in finals:
        day = row["report_date"]
        expected = truth.day(sandbox_app.id, day)
        got = await db.fetchrow(
            """
            WITH latest AS (
                SELECT DISTINCT ON (report) instance_id, report FROM analytics_vintages
                WHERE report_date = $1 AND granularity = 'DAILY'
                ORDER BY report, processing_date DESC, instance_id DESC
            )
            SELECT
              sum(count) FILTER (WHERE r.report = 'sessions') AS sessions,
              sum(unique_count) FILTER (WHERE r.report = 'sessions') AS active_devices
            FROM analytics_rows r JOIN latest l ON l.instance_id = r.instance_id
            WHERE r.report_date = $1
            """,
            day,
        )
        assert (got["sessions"], got["active_devices"]) == (
            expected.sessions,
            expected.active_devices,
        ), day
    _ = dt

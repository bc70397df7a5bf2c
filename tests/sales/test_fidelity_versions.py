"""Report-version drift in both shapes Apple answers (FACTS §4.5, §8; issue 13, item 4).

The sandbox moves SALES/SUMMARY to ``1_1`` and refuses ``1_0`` either with
``source.parameter == "filter[version]"`` or — the shape on record — with the latest version
only in ``detail``. Orchard retries once with the version Apple named, persists it, and every
later unit asks with it at once (one request, not two); sync-status shows the version in use.
"""

from __future__ import annotations

import datetime as dt
import uuid

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from app.reports import calendar
from app.sandbox.sales import generate_sales_rows
from app.sandbox.state import SandboxState
from tests.fixtures.accounts import Tenant, link
from tests.fixtures.engine import run_unit


async def _unit(db: asyncpg.Connection, day: dt.date) -> asyncpg.Record:
    return await db.fetchrow(
        "SELECT j.state, j.last_error_message, a.state AS availability, a.report_version, "
        "s.last_unit_requests FROM sync_jobs j "
        "JOIN sync_dataset_states s USING (account_id, dataset) "
        "LEFT JOIN dataset_availability a ON a.account_id = j.account_id "
        "AND a.dataset = j.dataset AND a.report_date = $1 "
        "WHERE j.dataset = 'sales_daily' AND j.unit_key = $2",
        day,
        day.isoformat(),
    )


@pytest.mark.parametrize("shape", ["with_source", "detail_only"])
async def test_a_new_version_is_learned_once_and_used_at_once(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    sandbox: SandboxState,
    db: asyncpg.Connection,
    shape: str,
) -> None:
    key = sandbox.add_key("acme")
    sandbox.fidelity.set_team("acme", version_error=shape)
    sandbox.report_versions[("SALES", "SUMMARY")] = "1_1"
    response = await link(client, tenant, key)
    assert response.status_code == 201, response.text
    account_id = uuid.UUID(response.json()["id"])
    newest = calendar.latest_daily(dt.datetime.now(dt.UTC))
    # Two recent days the sandbox sold something on (it has no-sales days too).
    first, second = [
        day
        for day in (newest - dt.timedelta(days=n) for n in range(2, 30))
        if generate_sales_rows(sandbox.team("acme"), "DAILY", day)
    ][:2]

    await run_unit(app, account_id, "sales_daily", first.isoformat())
    unit = await _unit(db, first)
    assert unit["state"] == "succeeded", unit["last_error_message"]
    assert (unit["availability"], unit["report_version"]) == ("published", "1_1")
    assert unit["last_unit_requests"] == 2  # refused 1_0, then 1_1
    learned = await db.fetchrow(
        "SELECT version, previous_version FROM report_versions "
        "WHERE report_type = 'SALES' AND report_subtype = 'SUMMARY' AND frequency = 'DAILY'"
    )
    assert dict(learned) == {"version": "1_1", "previous_version": "1_0"}

    await run_unit(app, account_id, "sales_daily", second.isoformat())
    unit = await _unit(db, second)
    assert (unit["state"], unit["availability"]) == ("succeeded", "published")
    assert unit["last_unit_requests"] == 1  # asked with 1_1 straight away
    days = {first.isoformat(), second.isoformat()}
    asked = [
        r
        for r in sandbox.requests_for(key.key_id)
        if r.path == "/v1/salesReports" and dict(r.query).get("filter[reportDate]") in days
    ]
    versions_asked = [dict(r.query).get("filter[version]") for r in asked]
    assert versions_asked == ["1_0", "1_1", "1_1"]

    status = await client.get("/v1/sync-status", headers=tenant.headers())
    assert status.status_code == 200, status.text
    body = status.json()
    entries = body["items"] if isinstance(body, dict) else body
    versions = {e["dataset"]: e["report_version"] for e in entries}
    assert versions["sales_daily"] == "1_1"
    assert versions["sales_weekly"] == "1_0"  # learned per frequency: not asked yet
    assert versions["finance_monthly"] is None  # not a salesReports dataset


async def test_another_parameter_error_is_not_taken_for_drift(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    sandbox: SandboxState,
    db: asyncpg.Connection,
) -> None:
    """A 400 naming another parameter fails the unit; nothing is learned."""
    key = sandbox.add_key("acme")
    response = await link(client, tenant, key)
    account_id = uuid.UUID(response.json()["id"])
    await db.execute("UPDATE asc_accounts SET vendor_number = '99999999' WHERE id = $1", account_id)
    newest = calendar.latest_daily(dt.datetime.now(dt.UTC))
    await run_unit(app, account_id, "sales_daily", newest.isoformat())
    unit = await _unit(db, newest)
    assert unit["state"] == "failed"
    assert await db.fetchval("SELECT count(*) FROM report_versions") == 0

"""Availability of App Analytics per app × report × date (``GET /v1/accounts/{id}/
availability?dataset=analytics_instances``): instances that appear one or two days after the
date are `not_yet_published` until they do, restated dates say how many vintages Orchard holds,
and a day Apple withholds for privacy (< 5 users) is `withheld`, never a zero."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import asyncpg
import httpx
import pytest

from app.analytics.catalog import REPORTS
from app.config import Settings
from app.sandbox.analytics_catalog import Family
from app.sandbox.analytics_truth import AnalyticsTruth
from app.sandbox.state import SandboxState, utc_now
from app.sync.schemas import Availability
from tests.analytics.helpers import (
    existing_request,
    link_and_sync,
    one_app_team,
    running_app,
    sync_analytics,
)
from tests.fixtures.accounts import Tenant
from tests.sandbox.conftest import FakeClock

REPORT_KEYS = sorted(r.report.value for r in REPORTS)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"initial_backfill_days": 1, "analytics_snapshot": False})


@pytest.fixture
def clock() -> FakeClock:
    """Noon UTC, after the day's instances are published (10:00), whatever the hour."""
    return FakeClock(dt.datetime.combine(dt.date.today(), dt.time(12), tzinfo=dt.UTC))


def _sandbox(clock: FakeClock) -> SandboxState:
    sandbox = SandboxState(seed=7, clock=clock)
    sandbox.token_clock = utc_now  # Orchard mints its tokens with the real time
    return sandbox


async def _availability(
    client: httpx.AsyncClient, tenant: Tenant, account_id: uuid.UUID, start: dt.date, end: dt.date
) -> dict[tuple[dt.date, str], dict[str, Any]]:
    response = await client.get(
        f"/v1/accounts/{account_id}/availability",
        params={"dataset": "analytics_instances", "from": str(start), "to": str(end)},
        headers=tenant.headers(),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    Availability.model_validate(body)
    items = body["items"]
    # One entry per app × report × date, ordered by date then report (one app here).
    keys = [(dt.date.fromisoformat(i["report_date"]), i["report"]) for i in items]
    days = [start + dt.timedelta(days=n) for n in range((end - start).days + 1)]
    assert keys == [(d, r) for d in days for r in REPORT_KEYS]
    assert len({i["app_id"] for i in items}) == 1
    return dict(zip(keys, items, strict=True))


async def test_late_instances_restatements_and_counts(
    settings: Settings, tenant: Tenant, db: asyncpg.Connection, clock: FakeClock
) -> None:
    clock.now = clock.now.replace(hour=8)  # before the day's instances appear (10:00 UTC)
    sandbox = _sandbox(clock)
    key, sandbox_app = one_app_team(sandbox)
    existing_request(sandbox, sandbox_app, days_ago=9)
    async with running_app(settings, sandbox) as (app, client):
        account_id = await link_and_sync(app, client, tenant, key, db)
        today = clock.now.date()
        start = today - dt.timedelta(days=14)
        states = await _availability(client, tenant, account_id, start, today)

        # Today and yesterday (before 10:00): a date's instance appears a day or two later.
        yesterday = today - dt.timedelta(days=1)
        for report in REPORT_KEYS:
            for day in (today, yesterday):
                assert states[(day, report)]["state"] == "not_yet_published", (day, report)
                assert states[(day, report)]["row_count"] is None
        # Before the request's first instance: not covered (never zero), once later dates
        # are final.
        assert states[(start, "installs")]["state"] == "not_covered"

        # Every published entry is exactly what Orchard holds: the newest vintage's
        # processing date and rows, and how many vintages there are.
        held = await db.fetch(
            "SELECT v.report, v.report_date, count(*) AS n, max(v.processing_date) AS newest "
            "FROM analytics_vintages v WHERE v.granularity = 'DAILY' GROUP BY 1, 2"
        )
        assert held
        for row in held:
            entry = states.get((row["report_date"], row["report"]))
            if entry is None:
                continue  # outside the range
            assert entry["state"] == "published"
            assert entry["vintages"] == row["n"]
            assert entry["processing_date"] == str(row["newest"])
            rows = await db.fetchval(
                "SELECT count(*) FROM analytics_rows r JOIN analytics_instances i "
                "ON i.id = r.instance_id WHERE r.report = $1 AND r.report_date = $2 "
                "AND i.processing_date = $3 AND i.granularity = 'DAILY'",
                row["report"],
                row["report_date"],
                row["newest"],
            )
            assert entry["row_count"] == rows
            assert entry["fetched_at"] is not None
        restated = [e for e in states.values() if (e["vintages"] or 0) > 1]
        assert restated, "Apple restates recent days (rolling daily instances)"
        assert all("restated" in e["detail"] for e in restated)
        assert any("provisional" in (e["detail"] or "") for e in restated)
        # Published entries agree with what /v1/analytics serves for the day.
        for (day, report), entry in states.items():
            if report != "installs":
                continue
            response = await client.get(
                "/v1/analytics",
                params={"from": str(day), "to": str(day)},
                headers=tenant.headers(),
            )
            [item] = response.json()["items"] or [{"installs": None}]
            assert (item["installs"] is not None) == (entry["state"] == "published"), day

        # At 10:00 Apple publishes the instance carrying yesterday: it becomes published.
        clock.advance(hours=4)
        await sync_analytics(app, account_id, db)
        later = await _availability(client, tenant, account_id, start, today)
        assert later[(yesterday, "installs")]["state"] == "published"
        assert later[(yesterday, "installs")]["vintages"] == 1


async def test_a_privacy_suppressed_day_is_withheld_not_zero(
    settings: Settings, tenant: Tenant, db: asyncpg.Connection, clock: FakeClock
) -> None:
    sandbox = _sandbox(clock)
    key, sandbox_app = one_app_team(sandbox)
    # Very few events: Apple generates no usage report for a day with fewer than 5 users.
    existing_request(sandbox, sandbox_app, days_ago=16, volume=0.002)
    async with running_app(settings, sandbox) as (app, client):
        account_id = await link_and_sync(app, client, tenant, key, db)
        today = clock.now.date()
        start = today - dt.timedelta(days=14)
        states = await _availability(client, tenant, account_id, start, today)
        truth = AnalyticsTruth(sandbox, sandbox.team("acme"))
        withheld = 0
        for report, family in (("installs", Family.INSTALLS), ("sessions", Family.SESSIONS)):
            for n in range(6, 15):  # past the 5-day completeness window
                day = today - dt.timedelta(days=n)
                entry = states[(day, report)]
                if truth.published(sandbox_app.id, family, day):
                    assert entry["state"] == "published", (day, report)
                else:
                    assert entry["state"] in ("withheld", "not_covered"), (day, report, entry)
                    assert entry["row_count"] is None
                    withheld += entry["state"] == "withheld"
                    if entry["state"] == "withheld":
                        assert "fewer than 5 users" in entry["detail"]
                        body = (
                            await client.get(
                                "/v1/analytics",
                                params={"from": str(day), "to": str(day)},
                                headers=tenant.headers(),
                            )
                        ).json()
                        # The measure is unknown (null) or the day has no item: never 0.
                        assert all(i[report] is None for i in body["items"])
                        assert any(
                            d["report"] == report and d["state"] == "withheld"
                            for d in body["incomplete_dates"]
                        )
        assert withheld, "the sandbox withholds some of these days"


async def test_a_dataset_without_dates_is_refused(
    app: Any, client: httpx.AsyncClient, tenant: Tenant, sandbox: SandboxState,
    db: asyncpg.Connection,
) -> None:  # fmt: skip
    key, sandbox_app = one_app_team(sandbox)
    existing_request(sandbox, sandbox_app, days_ago=3)
    account_id = await link_and_sync(app, client, tenant, key, db)
    response = await client.get(
        f"/v1/accounts/{account_id}/availability",
        params={"dataset": "analytics_requests", "from": "2026-01-01", "to": "2026-01-02"},
        headers=tenant.headers(),
    )
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "analytics_requests" in response.text

"""The issue's "done when": a linked sandbox account shows installs, deletions, sessions and
active devices per day and territory equal to the simulator's own totals (its truth ledger);
restated days show the newest numbers while older vintages stay queryable."""

from __future__ import annotations

import datetime as dt
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from app.analytics.schemas import AnalyticsReport, AppAnalyticsSummary
from app.config import Settings
from app.sandbox.analytics_catalog import Family
from app.sandbox.analytics_ledger import analytics
from app.sandbox.analytics_truth import AnalyticsTruth
from app.sandbox.state import SandboxState, utc_now
from tests.analytics.helpers import (
    existing_request,
    link_and_sync,
    one_app_team,
    running_app,
    sync_analytics,
)
from tests.fixtures.accounts import Tenant
from tests.fixtures.engine import run_unit
from tests.sandbox.conftest import FakeClock

USAGE = (Family.INSTALLS, Family.SESSIONS)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"initial_backfill_days": 1, "analytics_snapshot": False})


async def _get(client: httpx.AsyncClient, tenant: Tenant, path: str, **params: Any) -> Any:
    response = await client.get(path, params=params, headers=tenant.headers())
    assert response.status_code == 200, response.text
    return response.json()


def _usage(totals: Any) -> dict[str, int]:
    return {
        "installs": totals.installs,
        "deletions": totals.deletions,
        "sessions": totals.sessions,
        "active_devices": totals.active_devices,
    }


def _measures(item: dict[str, Any]) -> dict[str, int]:
    return {k: item[k] for k in ("installs", "deletions", "sessions", "active_devices")}


async def test_days_and_territories_equal_the_simulators_truth(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    sandbox: SandboxState,
    db: asyncpg.Connection,
) -> None:
    key, sandbox_app = one_app_team(sandbox)
    request_id = existing_request(sandbox, sandbox_app, days_ago=8)
    await link_and_sync(app, client, tenant, key, db)
    # Apple's listed ONGOING request is reused (nothing created), every instance loaded.
    stored = await db.fetch("SELECT * FROM analytics_requests")
    assert [(r["access_type"], r["apple_request_id"], r["state"]) for r in stored] == [
        ("ONGOING", request_id, "active")
    ]
    assert not stored[0]["created_by_orchard"]
    assert len(analytics(sandbox).requests) == 1
    states = await db.fetch("SELECT DISTINCT state FROM analytics_instances")
    assert [r["state"] for r in states] == ["loaded"]
    truth = AnalyticsTruth(sandbox, sandbox.team("acme"))
    today = sandbox.now().date()
    span = {"from": str(today - dt.timedelta(days=14)), "to": str(today)}

    body = await _get(client, tenant, "/v1/analytics", **span)
    AnalyticsReport.model_validate(body)
    incomplete = {(d["report_date"], d["report"]): d["state"] for d in body["incomplete_dates"]}
    final_days = [
        dt.date.fromisoformat(item["period_start"])
        for item in body["items"]
        if (item["period_start"], "installs") not in incomplete
        and (item["period_start"], "sessions") not in incomplete
    ]
    assert len(final_days) >= 2, body["incomplete_dates"]
    by_day = {dt.date.fromisoformat(i["period_start"]): i for i in body["items"]}
    for day in final_days:
        assert _measures(by_day[day]) == _usage(truth.day(sandbox_app.id, day, families=USAGE))
    # Days Apple has not made final are said to be so, never silently short.
    assert "provisional" in incomplete.values()
    assert "not_covered" in incomplete.values(), "days before the request have no data"
    for (day, report), state in incomplete.items():
        if report in ("installs", "sessions") and state in ("not_yet_published", "not_covered"):
            assert day not in {str(d) for d in final_days}

    by_territory = await _get(
        client, tenant, "/v1/analytics", group_by="territory", **{"from": str(final_days[0]),
        "to": str(final_days[-1])},
    )  # fmt: skip
    territories = {i["group"]["territory"] for i in by_territory["items"]} - {None}
    assert len(territories) >= 3
    for item in by_territory["items"]:
        day, territory = dt.date.fromisoformat(item["period_start"]), item["group"]["territory"]
        if territory is None:  # crashes have no territory column
            assert item["installs"] is None and item["crashes"] is not None
            continue
        expected = _usage(truth.day(sandbox_app.id, day, territory, families=USAGE))
        # No row of a report in a group is "unknown" (null), never a made-up zero: the
        # simulator knows it was none, Orchard cannot tell it from Apple's privacy cut.
        shown = {
            k: (0 if v is None and expected[k] == 0 else v) for k, v in _measures(item).items()
        }
        assert shown == expected, (day, territory)

    # A day Apple restated: each vintage is queryable, the latest is the default.
    provisional = sorted(
        dt.date.fromisoformat(day)
        for (day, report), state in incomplete.items()
        if report == "sessions" and state == "provisional"
    )
    day = provisional[0]
    vintages = truth.vintages(sandbox_app.id, "App Sessions Standard", day)
    loaded = await db.fetch(
        "SELECT processing_date FROM analytics_vintages WHERE report = 'sessions' "
        "AND granularity = 'DAILY' AND report_date = $1 ORDER BY 1",
        day,
    )
    assert len(loaded) >= 2, "the day was restated at least once"
    published = dict(vintages)
    one_day = {"from": str(day), "to": str(day)}
    first = (await _get(client, tenant, "/v1/analytics", vintage="first", **one_day))["items"][0]
    latest = (await _get(client, tenant, "/v1/analytics", **one_day))["items"][0]
    assert first["sessions"] == published[loaded[0]["processing_date"]].sessions
    assert latest["sessions"] == published[loaded[-1]["processing_date"]].sessions
    assert first["sessions"] != latest["sessions"]
    for row in loaded:
        as_of = row["processing_date"]
        item = (await _get(client, tenant, "/v1/analytics", as_of=str(as_of), **one_day))["items"][
            0
        ]
        assert item["sessions"] == published[as_of].sessions, as_of
        assert item["active_devices"] == published[as_of].active_devices, as_of

    # Weekly active devices are Apple's weekly figure, never the sum of the days.
    weekly = await db.fetch(
        "SELECT DISTINCT report_date FROM analytics_vintages WHERE granularity = 'WEEKLY' "
        "AND report = 'sessions'"
    )
    for row in weekly:
        monday = row["report_date"]
        week = await _get(client, tenant, "/v1/analytics", granularity="week",
                          **{"from": str(monday), "to": str(monday + dt.timedelta(days=6))})  # fmt: skip
        expected = truth.period(sandbox_app.id, "WEEKLY", monday, families=(Family.SESSIONS,))
        assert week["items"][0]["active_devices"] == expected.active_devices

    # The dashboard card of the app.
    app_id = await db.fetchval("SELECT id FROM apps")
    card = await _get(
        client, tenant, f"/v1/apps/{app_id}/analytics/summary",
        **{"from": str(final_days[0]), "to": str(final_days[-1])},
    )  # fmt: skip
    AppAnalyticsSummary.model_validate(card)
    expected_sessions = sum(truth.day(sandbox_app.id, d).sessions for d in final_days)
    assert card["totals"]["sessions"] == expected_sessions
    assert len(card["series"]) == (final_days[-1] - final_days[0]).days + 1


@pytest.fixture
def clock() -> FakeClock:
    """Noon UTC, long after the day's instances are published (10:00), whatever the hour."""
    return FakeClock(dt.datetime.combine(dt.date.today(), dt.time(12), tzinfo=dt.UTC))


async def test_a_late_correction_replaces_the_day_and_keeps_the_old_vintage(
    settings: Settings, tenant: Tenant, db: asyncpg.Connection, clock: FakeClock
) -> None:
    sandbox = SandboxState(seed=7, clock=clock)
    sandbox.token_clock = utc_now  # Orchard mints its tokens with the real time
    key, sandbox_app = one_app_team(sandbox)
    existing_request(sandbox, sandbox_app, days_ago=3)
    async with running_app(settings, sandbox) as (app, client):
        account_id = await link_and_sync(app, client, tenant, key, db)
        day = await db.fetchval(
            "SELECT min(report_date) FROM analytics_vintages WHERE report = 'installs' "
            "AND granularity = 'DAILY'"
        )
        one_day = {"from": str(day), "to": str(day)}
        before = (await _get(client, tenant, "/v1/analytics", **one_day))["items"][0]

        # A day later Apple publishes a correction of that day (ANALYTICS §4: rare late
        # restatements beyond the completeness window), and Orchard syncs again.
        clock.advance(days=1)
        on = clock.now.date()
        analytics(sandbox).restate(sandbox_app.id, day, on, factor=1.5)
        await sync_analytics(app, account_id, db)
        after = (await _get(client, tenant, "/v1/analytics", **one_day))["items"][0]
        truth = AnalyticsTruth(sandbox, sandbox.team("acme"))
        name = "App Store Installation and Deletion Standard"
        corrected = dict(truth.vintages(sandbox_app.id, name, day))
        assert after["installs"] == corrected[on].installs != before["installs"]
        old_as_of = str(on - dt.timedelta(days=1))
        old = await _get(client, tenant, "/v1/analytics", as_of=old_as_of, **one_day)
        assert old["items"][0]["installs"] == before["installs"]
        first = await _get(client, tenant, "/v1/analytics", vintage="first", **one_day)
        assert first["items"][0]["installs"] == before["installs"]

        # Running an instance again replaces only its own vintage: nothing doubles.
        rows = await db.fetchval("SELECT count(*) FROM analytics_rows")
        instance = await db.fetchval("SELECT apple_instance_id FROM analytics_instances LIMIT 1")
        await run_unit(app, account_id, "analytics_instances", instance)
        assert await db.fetchval("SELECT count(*) FROM analytics_rows") == rows
        again = (await _get(client, tenant, "/v1/analytics", **one_day))["items"][0]
        assert again == after

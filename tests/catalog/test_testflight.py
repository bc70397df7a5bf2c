"""Builds, TestFlight groups and testers, review submissions: their rows, events and API."""

from __future__ import annotations

import datetime as dt
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from app.releases.jobs import builds as builds_job
from app.sandbox import SandboxState
from app.sandbox.catalog import app_builds, team_apps
from app.sandbox.testflight import app_groups, app_testers
from tests.catalog.helpers import app_id_of, rewritten_apple, rows, transition
from tests.fixtures.accounts import Tenant, link_account
from tests.fixtures.engine import call_unit
from tests.sandbox.conftest import FakeClock

MINUTE = dt.timedelta(minutes=1)


async def events_of(
    client: httpx.AsyncClient, tenant: Tenant, kind: str, app_id: object = None
) -> list[dict[str, Any]]:
    params = {"type": kind, **({"app_id": str(app_id)} if app_id else {})}
    response = await client.get("/v1/events", params=params, headers=tenant.headers())
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_build_processed_and_expired_events(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    sandbox: SandboxState,
    clock: FakeClock,
    db: asyncpg.Connection,
) -> None:
    key = sandbox.add_key(roles=["DEVELOPER"])
    account_id = await link_account(client, tenant, key)
    sandbox_app = team_apps(key.team)[0]
    fresh = app_builds(key.team, sandbox_app, clock.now)[-1]
    clock.now = fresh.uploaded + 5 * MINUTE
    await call_unit(app, account_id, "apps", "all", clock.now)
    await call_unit(app, account_id, "builds", "all", clock.now)
    stored = await db.fetchrow("SELECT * FROM builds WHERE apple_id = $1", fresh.id)
    assert stored["processing_state"] == "PROCESSING" and stored["build_number"] == str(
        fresh.number
    )
    assert stored["version_string"] == fresh.version and stored["platform"] == "IOS"
    assert stored["internal_state"] == "PROCESSING"
    assert await db.fetchval("SELECT count(*) FROM events") == 0

    clock.now = fresh.uploaded + 20 * MINUTE
    await call_unit(app, account_id, "builds", "all", clock.now)
    [processed] = await events_of(client, tenant, "build_processed")
    assert processed["subject"] == {
        "type": "build",
        "id": str(await db.fetchval("SELECT id FROM builds WHERE apple_id = $1", fresh.id)),
        "apple_id": fresh.id,
    }
    assert (processed["from_state"], processed["to_state"]) == (
        "PROCESSING",
        fresh.processing_state,
    )

    # The oldest build still unexpired expires: one event, and it shows in the API.
    candidates = [
        b for b in app_builds(key.team, sandbox_app, clock.now) if not b.expired(clock.now)
    ]
    oldest = candidates[0]
    clock.now = oldest.expiration + MINUTE
    await call_unit(app, account_id, "builds", "all", clock.now)
    app_id = await app_id_of(db, sandbox_app.id)
    expired = await events_of(client, tenant, "build_expired", app_id)
    assert [e["subject"]["apple_id"] for e in expired] == [oldest.id]
    assert (expired[0]["from_state"], expired[0]["to_state"]) == ("IN_BETA_TESTING", "EXPIRED")
    listed = await client.get(
        f"/v1/apps/{app_id}/builds", params={"expired": "true"}, headers=tenant.headers()
    )
    assert oldest.id in {b["apple_id"] for b in listed.json()["items"]}
    assert all(b["expired"] for b in listed.json()["items"])


async def test_testers_groups_and_the_tester_accepted_event(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    sandbox: SandboxState,
    clock: FakeClock,
    db: asyncpg.Connection,
) -> None:
    key = sandbox.add_key(roles=["APP_MANAGER"])
    account_id = await link_account(client, tenant, key)
    pending = [
        (a, t)
        for a in team_apps(key.team)
        for t in app_testers(key.team, a, clock.now)
        if t.state(clock.now) == "INVITED" and t.accepted is not None
    ]
    sandbox_app, tester = min(pending, key=lambda pair: pair[1].accepted or clock.now)
    assert tester.accepted is not None
    await call_unit(app, account_id, "apps", "all", clock.now)
    await call_unit(app, account_id, "testflight", "all", clock.now)
    app_id = await app_id_of(db, sandbox_app.id)

    groups = (await client.get(f"/v1/apps/{app_id}/beta-groups", headers=tenant.headers())).json()
    expected = app_groups(key.team, sandbox_app, clock.now)
    assert sorted(g["name"] for g in groups["items"]) == sorted(g.name for g in expected)
    internal = [g for g in groups["items"] if g["is_internal"]]
    assert len(internal) == 1 and internal[0]["has_access_to_all_builds"] is True
    members = {t.id for t in app_testers(key.team, sandbox_app, clock.now)}
    assert sum(g["tester_count"] for g in groups["items"]) == sum(
        len(t.group_ids) for t in app_testers(key.team, sandbox_app, clock.now)
    )

    testers = (
        await client.get(f"/v1/apps/{app_id}/beta-testers", headers=tenant.headers())
    ).json()["items"]
    assert {t["apple_id"] for t in testers} == members
    mine = next(t for t in testers if t["apple_id"] == tester.id)
    assert mine["state"] == "INVITED" and mine["email"] == tester.email
    assert {g["apple_id"] for g in mine["groups"]} == set(tester.group_ids)
    group = mine["groups"][0]
    in_group = await client.get(
        f"/v1/apps/{app_id}/beta-testers",
        params={"group_id": group["id"]},
        headers=tenant.headers(),
    )
    assert tester.id in {t["apple_id"] for t in in_group.json()["items"]}

    clock.now = tester.accepted + MINUTE
    await call_unit(app, account_id, "testflight", "all", clock.now)
    accepted = await events_of(client, tenant, "tester_accepted")
    assert [e["subject"]["apple_id"] for e in accepted] == [tester.id]
    assert (accepted[0]["from_state"], accepted[0]["to_state"]) == ("INVITED", "ACCEPTED")
    assert accepted[0]["details"]["email"] == tester.email
    state = await db.fetchval("SELECT state FROM beta_testers WHERE apple_id = $1", tester.id)
    assert state == "ACCEPTED"


async def test_review_submission_state_changes(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    sandbox: SandboxState,
    clock: FakeClock,
    db: asyncpg.Connection,
) -> None:
    key = sandbox.add_key(roles=["ADMIN"])
    account_id = await link_account(client, tenant, key)
    sandbox_app, version, moment = transition(key, "IN_REVIEW", after=clock.now)
    clock.now = moment - MINUTE
    for dataset in ("apps", "app_versions", "review_submissions"):
        await call_unit(app, account_id, dataset, "all", clock.now)
    clock.now = moment + MINUTE
    await call_unit(app, account_id, "review_submissions", "all", clock.now)

    [event] = await events_of(client, tenant, "review_submission_state_changed")
    assert event["subject"]["apple_id"] == version.submission_id
    assert (event["from_state"], event["to_state"]) == ("WAITING_FOR_REVIEW", "IN_REVIEW")
    app_id = await app_id_of(db, sandbox_app.id)
    page = await client.get(
        f"/v1/apps/{app_id}/review-submissions", params={"limit": 1}, headers=tenant.headers()
    )
    [newest] = page.json()["items"]
    assert newest["apple_id"] == version.submission_id and newest["state"] == "IN_REVIEW"
    assert newest["version"]["apple_id"] == version.version_id
    assert newest["version"]["version_string"] == version.version_string
    assert newest["submitted_by_actor_type"] == version.actor_type
    assert newest["items"] == [
        {
            "apple_id": version.item_id,
            "state": "READY_FOR_REVIEW",
            "app_store_version_apple_id": version.version_id,
        }
    ]
    stored = rows(await db.fetch("SELECT submitted_date FROM review_submissions"))
    assert all(r["submitted_date"] is not None for r in stored)


async def test_builds_page_back_only_through_the_window_that_can_still_change(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    sandbox: SandboxState,
    clock: FakeClock,
    db: asyncpg.Connection,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(builds_job.FIELDS, "limit", 2)  # small pages, same logic
    key = sandbox.add_key(roles=["ADMIN"])
    account_id = await link_account(client, tenant, key)
    sandbox_app = team_apps(key.team)[0]
    await call_unit(app, account_id, "apps", "all", clock.now)
    sandbox.clear_requests()
    await call_unit(app, account_id, "builds", sandbox_app.id, clock.now)

    builds = app_builds(key.team, sandbox_app, clock.now)
    horizon = clock.now - builds_job.WINDOW
    recent = [b for b in builds if b.uploaded >= horizon]
    stored = {r["apple_id"] for r in await db.fetch("SELECT apple_id FROM builds")}
    assert {b.id for b in recent} <= stored < {b.id for b in builds}
    pages = len(sandbox.requests_for(key.key_id))
    assert pages == len(recent) // 2 + 1 < (len(builds) + 1) // 2

    # A recent build Apple stops listing is marked removed; older, unfetched ones are not.
    dropped = recent[-1]

    def without_it(request: httpx.Request, body: dict[str, Any]) -> dict[str, Any]:
        body["data"] = [r for r in body["data"] if r["id"] != dropped.id]
        return body

    async with rewritten_apple(app, sandbox, account_id, without_it) as apple:
        await call_unit(app, account_id, "builds", sandbox_app.id, clock.now, client=apple)
    removed = await db.fetch("SELECT apple_id FROM builds WHERE removed_at IS NOT NULL")
    assert [r["apple_id"] for r in removed] == [dropped.id]

"""App Store versions: state history, events, the review queue and the app's current state."""

from __future__ import annotations

import datetime as dt

import asyncpg
import httpx
from fastapi import FastAPI

from app.sandbox import SandboxState
from app.sandbox.catalog import app_builds
from app.sandbox.releases import release
from tests.catalog.helpers import NOW, app_id_of, rows, transition
from tests.fixtures.accounts import Tenant, link_account
from tests.fixtures.engine import call_unit
from tests.sandbox.conftest import FakeClock

MINUTES = dt.timedelta(minutes=10)


async def test_a_state_change_is_one_history_row_and_one_event(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    sandbox: SandboxState,
    clock: FakeClock,
    db: asyncpg.Connection,
) -> None:
    key = sandbox.add_key(roles=["ADMIN"])
    account_id = await link_account(client, tenant, key)
    sandbox_app, version, moment = transition(key, "IN_REVIEW", after=NOW)
    clock.now = moment - MINUTES
    await call_unit(app, account_id, "apps", "all", clock.now)
    first_run = clock.now
    await call_unit(app, account_id, "app_versions", "all", clock.now)

    # The first run records every version once, as first observations, and raises no event.
    history = rows(await db.fetch("SELECT * FROM app_version_state_changes"))
    assert len(history) == await db.fetchval("SELECT count(*) FROM app_versions") > 3
    assert {h["from_state"] for h in history} == {None}
    assert await db.fetchval("SELECT count(*) FROM events") == 0

    # Nothing changed at Apple: running again adds nothing (units are idempotent).
    await call_unit(app, account_id, "app_versions", "all", clock.now)
    assert await db.fetchval("SELECT count(*) FROM app_version_state_changes") == len(history)

    clock.now = moment + MINUTES
    await call_unit(app, account_id, "app_versions", "all", clock.now)
    changes = rows(
        await db.fetch("SELECT * FROM app_version_state_changes WHERE from_state IS NOT NULL")
    )
    assert len(changes) == 1
    change = changes[0]
    assert (change["from_state"], change["to_state"]) == ("WAITING_FOR_REVIEW", "IN_REVIEW")
    assert (change["from_store_state"], change["to_store_state"]) == (
        "WAITING_FOR_REVIEW",
        "IN_REVIEW",
    )
    assert change["observed_at"] == clock.now

    feed = (await client.get("/v1/events", headers=tenant.headers())).json()
    [event] = feed["items"]
    assert event["type"] == "version_state_changed"
    assert event["subject"]["type"] == "app_version"
    assert event["subject"]["apple_id"] == version.version_id
    assert (event["from_state"], event["to_state"]) == ("WAITING_FOR_REVIEW", "IN_REVIEW")
    assert event["details"]["version_string"] == version.version_string
    assert event["account_id"] == str(account_id)
    assert event["app_id"] == str(await app_id_of(db, sandbox_app.id))

    app_id = await app_id_of(db, sandbox_app.id)
    page = (
        await client.get(
            f"/v1/apps/{app_id}/versions", params={"limit": 1}, headers=tenant.headers()
        )
    ).json()
    [newest] = page["items"]
    assert newest["apple_id"] == version.version_id
    assert newest["state"] == "IN_REVIEW" and newest["app_store_state"] == "IN_REVIEW"
    assert newest["state_since_observed"] is True
    assert dt.datetime.fromisoformat(newest["state_since"]) == clock.now
    assert [(h["from_state"], h["to_state"]) for h in newest["history"]] == [
        (None, "WAITING_FOR_REVIEW"),
        ("WAITING_FOR_REVIEW", "IN_REVIEW"),
    ]
    assert dt.datetime.fromisoformat(newest["history"][0]["observed_at"]) == first_run
    assert newest["build_number"] is not None and newest["release_type"] in {
        "MANUAL",
        "AFTER_APPROVAL",
    }


async def test_review_queue_lists_versions_waiting_or_in_review_with_time_in_state(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    other_tenant: Tenant,
    sandbox: SandboxState,
    clock: FakeClock,
    db: asyncpg.Connection,
) -> None:
    key = sandbox.add_key(roles=["ADMIN"])
    account_id = await link_account(client, tenant, key)
    sandbox_app, version, submitted = transition(key, "WAITING_FOR_REVIEW", after=NOW)
    clock.now = submitted - MINUTES
    await call_unit(app, account_id, "apps", "all", clock.now)
    await call_unit(app, account_id, "app_versions", "all", clock.now)
    assert (await client.get("/v1/review-queue", headers=tenant.headers())).json()["items"] == []

    clock.now = submitted + MINUTES
    await call_unit(app, account_id, "app_versions", "all", clock.now)
    await call_unit(app, account_id, "review_submissions", "all", clock.now)
    response = await client.get("/v1/review-queue", headers=tenant.headers())
    assert response.status_code == 200
    [entry] = response.json()["items"]
    assert entry["version"]["apple_id"] == version.version_id
    assert entry["app"]["apple_id"] == sandbox_app.id and entry["app"]["name"] == sandbox_app.name
    assert entry["state"] == "WAITING_FOR_REVIEW"
    assert entry["state_since_observed"] is True
    since = dt.datetime.fromisoformat(entry["state_since"])
    assert since == clock.now
    elapsed = (dt.datetime.now(dt.UTC) - since).total_seconds()
    assert abs(entry["seconds_in_state"] - elapsed) < 60
    # Apple's own submission time, from the synced review submission.
    assert dt.datetime.fromisoformat(entry["submitted_date"]) == submitted

    in_review = await client.get(
        "/v1/review-queue", params={"state": "IN_REVIEW"}, headers=tenant.headers()
    )
    assert in_review.json()["items"] == []
    assert (await client.get("/v1/review-queue", headers=other_tenant.headers())).json()[
        "items"
    ] == []

    # Once released, it leaves the queue.
    clock.now = version.released + MINUTES
    await call_unit(app, account_id, "app_versions", "all", clock.now)
    queue = (await client.get("/v1/review-queue", headers=tenant.headers())).json()["items"]
    assert version.version_id not in {e["version"]["apple_id"] for e in queue}


async def test_app_detail_shows_live_version_version_in_flight_and_latest_build(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    sandbox: SandboxState,
    clock: FakeClock,
    db: asyncpg.Connection,
) -> None:
    key = sandbox.add_key(roles=["ADMIN"])
    account_id = await link_account(client, tenant, key)
    sandbox_app, version, moment = transition(key, "IN_REVIEW", after=NOW)
    clock.now = moment + MINUTES
    for dataset in ("apps", "app_versions", "builds"):
        await call_unit(app, account_id, dataset, "all", clock.now)
    app_id = await app_id_of(db, sandbox_app.id)

    detail = (await client.get(f"/v1/apps/{app_id}", headers=tenant.headers())).json()
    previous = release(key.team, sandbox_app, version.index - 1)
    [live] = detail["live_versions"]
    assert live["apple_id"] == previous.version_id
    assert live["state"] == "READY_FOR_DISTRIBUTION"
    [in_flight] = detail["versions_in_flight"]
    assert in_flight["apple_id"] == version.version_id
    assert in_flight["state"] == "IN_REVIEW" and in_flight["platform"] == "IOS"
    newest_build = app_builds(key.team, sandbox_app, clock.now)[-1]
    assert detail["latest_build"]["apple_id"] == newest_build.id
    assert detail["latest_build"]["build_number"] == str(newest_build.number)

    filtered = await client.get(
        "/v1/apps/" + str(app_id) + "/versions",
        params={"state": "READY_FOR_DISTRIBUTION"},
        headers=tenant.headers(),
    )
    assert [v["apple_id"] for v in filtered.json()["items"]] == [previous.version_id]


async def test_versions_page_with_a_cursor(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    sandbox: SandboxState,
    clock: FakeClock,
    db: asyncpg.Connection,
) -> None:
    key = sandbox.add_key(roles=["ADMIN"])
    account_id = await link_account(client, tenant, key)
    await call_unit(app, account_id, "apps", "all", clock.now)
    await call_unit(app, account_id, "app_versions", "all", clock.now)
    app_id = await db.fetchval(
        "SELECT app_id FROM app_versions GROUP BY app_id ORDER BY count(*) DESC LIMIT 1"
    )
    total = await db.fetchval("SELECT count(*) FROM app_versions WHERE app_id = $1", app_id)
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 40, **({"cursor": cursor} if cursor else {})}
        page = (
            await client.get(f"/v1/apps/{app_id}/versions", params=params, headers=tenant.headers())
        ).json()
        seen += [v["id"] for v in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == total
    bad = await client.get(
        f"/v1/apps/{app_id}/versions", params={"cursor": "bm9wZQ"}, headers=tenant.headers()
    )
    assert bad.status_code == 422


async def test_how_long_review_took(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    sandbox: SandboxState,
    clock: FakeClock,
    db: asyncpg.Connection,
) -> None:
    key = sandbox.add_key(roles=["ADMIN"])
    account_id = await link_account(client, tenant, key)
    sandbox_app, version, submitted = transition(key, "WAITING_FOR_REVIEW", after=NOW)
    clock.now = submitted - MINUTES
    await call_unit(app, account_id, "apps", "all", clock.now)
    await call_unit(app, account_id, "app_versions", "all", clock.now)
    observed = []
    for moment, state in version.moments():
        if moment < submitted or state == "REPLACED_WITH_NEW_VERSION":
            continue
        clock.now = moment + MINUTES
        await call_unit(app, account_id, "app_versions", "all", clock.now)
        observed.append((state, clock.now))
    app_id = await app_id_of(db, sandbox_app.id)
    page = await client.get(
        f"/v1/apps/{app_id}/versions", params={"limit": 1}, headers=tenant.headers()
    )
    [listed] = page.json()["items"]
    assert listed["apple_id"] == version.version_id
    assert [h["to_state"] for h in listed["history"][1:]] == [s for s, _ in observed]
    # The last round: the final WAITING_FOR_REVIEW and IN_REVIEW, then the decision.
    waiting = max(at for s, at in observed if s == "WAITING_FOR_REVIEW")
    started = max(at for s, at in observed if s == "IN_REVIEW")
    decided, outcome = next((at, s) for s, at in observed if at > started)
    review = listed["review"]
    assert dt.datetime.fromisoformat(review["submitted_at"]) == waiting
    assert dt.datetime.fromisoformat(review["review_started_at"]) == started
    assert dt.datetime.fromisoformat(review["review_ended_at"]) == decided
    assert review["outcome"] == outcome
    assert review["waited_seconds"] == int((started - waiting).total_seconds())
    assert review["reviewed_seconds"] == int((decided - started).total_seconds())

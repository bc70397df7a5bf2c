"""A full catalog refresh through the sync engine: what it costs at Apple, what sync-status
reports, and that Apple's future enum values are stored as they come."""

from __future__ import annotations

from collections import Counter
from typing import Any

import asyncpg
import httpx
from fastapi import FastAPI

from app.config import Settings
from app.models import AscAccount
from app.sandbox import SandboxState
from app.sandbox.catalog import team_apps
from app.sync.contract import missing_requirement
from tests.catalog.helpers import rewritten_apple
from tests.fixtures.accounts import Tenant, link_account
from tests.fixtures.engine import account_client, call_unit, drain
from tests.sandbox.conftest import FakeClock

CATALOG = ["apps", "app_versions", "builds", "testflight", "review_submissions", "team"]


async def test_full_catalog_refresh_costs_five_requests_per_app_plus_three(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    sandbox: SandboxState,
    settings: Settings,
    db: asyncpg.Connection,
) -> None:
    key = sandbox.add_key(roles=["ADMIN"])
    apps = len(team_apps(key.team))
    account_id = await link_account(client, tenant, key)
    # Only the catalog is under test: drop what other domains queued on linking.
    await db.execute("DELETE FROM sync_jobs WHERE NOT (dataset = ANY($1::text[]))", CATALOG)
    assert await drain(app) == len(CATALOG)  # the initial refresh, in any order

    # A routine full refresh (everything due again), measured at Apple's end.
    queued = await client.post(
        f"/v1/accounts/{account_id}/sync", json={"datasets": CATALOG}, headers=tenant.headers()
    )
    assert queued.status_code == 202, queued.text
    sandbox.clear_requests()
    assert await drain(app) == len(CATALOG)
    log = sandbox.requests_for(key.key_id)
    assert all(r.status == 200 for r in log)
    per_path = Counter(r.path for r in log)
    per_app = {
        "/v1/apps/{id}/appStoreVersions": 1,
        "/v1/builds": 1,
        "/v1/betaGroups": 1,
        "/v1/betaTesters": 1,
        "/v1/reviewSubmissions": 1,
    }
    assert per_path["/v1/apps"] == 1 and per_path["/v1/users"] == 1
    assert per_path["/v1/userInvitations"] == 1
    assert sum(per_path[p] for p in per_path if p.endswith("/appStoreVersions")) == apps
    for path in ("/v1/builds", "/v1/betaGroups", "/v1/betaTesters", "/v1/reviewSubmissions"):
        assert per_path[path] == apps * per_app[path], path
    assert len(log) == 5 * apps + 3
    # Every per-app request names its one app, with includes and sparse fields.
    versions = next(r for r in log if r.path.endswith("/appStoreVersions"))
    assert dict(versions.query)["include"] == "build,appStoreVersionPhasedRelease"
    assert "fields[appStoreVersions]" in dict(versions.query)

    status = await client.get(f"/v1/accounts/{account_id}/sync-status", headers=tenant.headers())
    reported = {
        entry["dataset"]: entry["last_unit_requests"]
        for entry in status.json()["items"]
        if entry["dataset"] in CATALOG
    }
    assert reported == {
        "apps": 1,
        "app_versions": apps,
        "builds": apps,
        "testflight": 2 * apps,
        "review_submissions": apps,
        "team": 2,
    }
    assert sum(reported.values()) == len(log)
    assert {e["state"] for e in status.json()["items"] if e["dataset"] in CATALOG} == {"ok"}


async def test_datasets_need_their_capabilities(
    app: FastAPI, client: httpx.AsyncClient, tenant: Tenant, sandbox: SandboxState
) -> None:
    key = sandbox.add_key(roles=["MARKETING"])  # neither TestFlight nor team access
    account_id = await link_account(client, tenant, key)
    async with app.state.sessionmaker() as session:
        account = await session.get(AscAccount, account_id)
    assert account is not None
    blocked = {}
    for name in CATALOG:
        dataset = app.state.registry.get(name)
        assert dataset is not None
        blocked[name] = missing_requirement(dataset, account)
    assert blocked["team"] and "users" in blocked["team"]
    assert blocked["builds"] and "testflight" in blocked["builds"]
    assert blocked["testflight"] and "testflight" in blocked["testflight"]
    assert not any(blocked[n] for n in ("apps", "app_versions", "review_submissions"))


def _rewrite(request: httpx.Request, body: dict[str, Any]) -> dict[str, Any]:
    """Values Apple might add in a later API version (none of them exist today)."""
    future = {
        "appStoreVersions": {"appVersionState": "AWAITING_ACCESSIBILITY_AUDIT",
                             "appStoreState": "AWAITING_ACCESSIBILITY_AUDIT",
                             "platform": "WATCH_OS"},
        "builds": {"processingState": "QUARANTINED"},
        "betaTesters": {"state": "PAUSED_BY_TESTER", "inviteType": "NEARBY_SHARE"},
        "reviewSubmissions": {"state": "AWAITING_LEGAL_REVIEW"},
        "users": {"roles": ["ADMIN", "VISION_PRO_LAB"]},
    }  # fmt: skip
    data = body.get("data")
    resources = data if isinstance(data, list) else []
    for resource in resources[:1]:  # only the first of each list: the rest stays known
        resource.get("attributes", {}).update(future.get(resource["type"], {}))
    return body


async def test_enum_values_apple_adds_later_are_stored_verbatim(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    sandbox: SandboxState,
    clock: FakeClock,
    db: asyncpg.Connection,
) -> None:
    key = sandbox.add_key(roles=["ADMIN"])
    account_id = await link_account(client, tenant, key)
    for dataset in CATALOG:
        await call_unit(app, account_id, dataset, "all", clock.now)

    # Apple, answering the same requests with values this code has never seen.
    async with rewritten_apple(app, sandbox, account_id, _rewrite) as future:
        for dataset in CATALOG[1:]:
            await call_unit(app, account_id, dataset, "all", clock.now, client=future)

    version = await db.fetchrow(
        "SELECT * FROM app_versions WHERE app_version_state = 'AWAITING_ACCESSIBILITY_AUDIT'"
    )
    assert version["app_store_state"] == "AWAITING_ACCESSIBILITY_AUDIT"
    assert version["platform"] == "WATCH_OS"
    change = await db.fetchrow(
        "SELECT * FROM app_version_state_changes WHERE version_id = $1 AND from_state IS NOT NULL",
        version["id"],
    )
    assert change["to_state"] == "AWAITING_ACCESSIBILITY_AUDIT"
    assert await db.fetchval("SELECT count(*) FROM builds WHERE processing_state = 'QUARANTINED'")
    tester = await db.fetchrow("SELECT * FROM beta_testers WHERE state = 'PAUSED_BY_TESTER'")
    assert tester["invite_type"] == "NEARBY_SHARE"
    assert await db.fetchval(
        "SELECT count(*) FROM review_submissions WHERE state = 'AWAITING_LEGAL_REVIEW'"
    )
    assert await db.fetchval(
        "SELECT count(*) FROM team_members WHERE 'VISION_PRO_LAB' = ANY(roles)"
    )

    # The API passes them through unchanged too.
    versions = await client.get(
        f"/v1/apps/{version['app_id']}/versions",
        params={"state": "AWAITING_ACCESSIBILITY_AUDIT"},
        headers=tenant.headers(),
    )
    [listed] = versions.json()["items"]
    assert listed["state"] == "AWAITING_ACCESSIBILITY_AUDIT" and listed["platform"] == "WATCH_OS"
    events = (
        await client.get(
            "/v1/events", params={"type": "version_state_changed"}, headers=tenant.headers()
        )
    ).json()["items"]
    assert [e["to_state"] for e in events] == ["AWAITING_ACCESSIBILITY_AUDIT"] * len(events)
    assert len(events) == len(team_apps(key.team))
    team = await client.get(f"/v1/accounts/{account_id}/team", headers=tenant.headers())
    assert any("VISION_PRO_LAB" in m["roles"] for m in team.json()["items"])


async def test_per_app_units_list_apps_first_and_can_target_one_app(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    sandbox: SandboxState,
    clock: FakeClock,
    db: asyncpg.Connection,
) -> None:
    key = sandbox.add_key(roles=["ADMIN"])
    account_id = await link_account(client, tenant, key)
    sandbox.clear_requests()
    # The versions unit won the race against the account's first app list: it lists first.
    asc = await account_client(app, account_id)
    await call_unit(app, account_id, "app_versions", "all", clock.now, client=asc)
    paths = [r.path for r in sandbox.requests_for(key.key_id)]
    assert paths[0] == "/v1/apps" and asc.request_count == 1 + len(team_apps(key.team))
    assert await db.fetchval("SELECT count(DISTINCT app_id) FROM app_versions") == 3

    one = team_apps(key.team)[1]
    sandbox.clear_requests()
    asc = await account_client(app, account_id)
    await call_unit(app, account_id, "app_versions", one.id, clock.now, client=asc)
    assert [r.path for r in sandbox.requests_for(key.key_id)] == [
        f"/v1/apps/{one.id}/appStoreVersions"
    ]

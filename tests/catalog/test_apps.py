"""The app list: removal marks, paging across many apps, filters, workspace scoping."""

from __future__ import annotations

import datetime as dt

import asyncpg
import httpx
from fastapi import FastAPI

from app.sandbox import SandboxState
from app.sandbox.catalog import team_apps
from tests.catalog.helpers import app_id_of, set_app_count
from tests.fixtures.accounts import Tenant, link_account
from tests.fixtures.engine import account_client, call_unit
from tests.sandbox.conftest import FakeClock


async def test_removed_apps_are_marked_not_deleted(
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
    gone = team_apps(key.team)[-1]
    gone_id = await app_id_of(db, gone.id)
    versions = await db.fetchval("SELECT count(*) FROM app_versions WHERE app_id = $1", gone_id)

    set_app_count(sandbox, key, 2)
    clock.advance(hours=1)
    await call_unit(app, account_id, "apps", "all", clock.now)
    listed = (await client.get("/v1/apps", headers=tenant.headers())).json()["items"]
    assert gone.id not in {a["apple_id"] for a in listed} and len(listed) == 2
    everything = await client.get(
        "/v1/apps", params={"include_removed": "true"}, headers=tenant.headers()
    )
    [removed] = [a for a in everything.json()["items"] if a["apple_id"] == gone.id]
    assert dt.datetime.fromisoformat(removed["removed_at"]) == clock.now
    detail = await client.get(f"/v1/apps/{gone_id}", headers=tenant.headers())
    assert detail.status_code == 200 and detail.json()["removed_at"] is not None
    # Its data stays, and the per-app datasets stop asking Apple about it.
    sandbox.clear_requests()
    await call_unit(app, account_id, "app_versions", "all", clock.now)
    asked = {r.path for r in sandbox.requests_for(key.key_id)}
    assert f"/v1/apps/{gone.id}/appStoreVersions" not in asked and len(asked) == 2
    assert (
        await db.fetchval("SELECT count(*) FROM app_versions WHERE app_id = $1", gone_id)
        == versions
    )

    set_app_count(sandbox, key, 3)
    await call_unit(app, account_id, "apps", "all", clock.now)
    back = await db.fetchrow("SELECT removed_at, id FROM apps WHERE apple_id = $1", gone.id)
    assert back["removed_at"] is None and back["id"] == gone_id


async def test_paging_across_many_apps(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    sandbox: SandboxState,
    clock: FakeClock,
) -> None:
    key = sandbox.add_key(sandbox.add_team("Big Studio", apps=250), roles=["ADMIN"])
    account_id = await link_account(client, tenant, key)
    sandbox.clear_requests()
    asc = await account_client(app, account_id)
    result = await call_unit(app, account_id, "apps", "all", clock.now, client=asc)
    assert result.rows == 250
    # Two pages of 200 at Apple, and nothing else.
    listed = sandbox.requests_for(key.key_id)
    assert [r.path for r in listed] == ["/v1/apps", "/v1/apps"] and asc.request_count == 2
    assert ("limit", "200") in listed[0].query

    names: list[str] = []
    ids: set[str] = set()
    cursor = None
    pages = 0
    while True:
        params: dict[str, str | int] = {"limit": 100}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get("/v1/apps", params=params, headers=tenant.headers())).json()
        pages += 1
        names += [a["name"] for a in page["items"]]
        ids |= {a["id"] for a in page["items"]}
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3 and len(ids) == 250
    assert names == sorted(names)
    assert {a.name for a in team_apps(key.team)} == set(names)

    one = team_apps(key.team)[17]
    found = await client.get(
        "/v1/apps", params={"q": one.bundle_id.upper()}, headers=tenant.headers()
    )
    assert [a["apple_id"] for a in found.json()["items"]] == [one.id]
    by_account = await client.get(
        "/v1/apps", params={"account_id": str(account_id), "limit": 1}, headers=tenant.headers()
    )
    assert by_account.json()["next_cursor"] is not None


async def test_platform_filter_and_workspace_scoping(
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
    await call_unit(app, account_id, "apps", "all", clock.now)
    ios = await client.get("/v1/apps", params={"platform": "IOS"}, headers=tenant.headers())
    assert ios.json()["items"] == []  # no versions synced yet: no platform known
    await call_unit(app, account_id, "app_versions", "all", clock.now)
    ios = await client.get("/v1/apps", params={"platform": "IOS"}, headers=tenant.headers())
    assert len(ios.json()["items"]) == 3
    tv = await client.get("/v1/apps", params={"platform": "TV_OS"}, headers=tenant.headers())
    assert tv.json()["items"] == []

    app_id = await app_id_of(db, team_apps(key.team)[0].id)
    for path in (
        "",
        "/versions",
        "/builds",
        "/beta-groups",
        "/beta-testers",
        "/review-submissions",
    ):
        response = await client.get(f"/v1/apps/{app_id}{path}", headers=other_tenant.headers())
        assert response.status_code == 404, path
        assert response.headers["content-type"].startswith("application/problem+json")
    assert (await client.get("/v1/apps", headers=other_tenant.headers())).json()["items"] == []

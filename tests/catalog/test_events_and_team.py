"""The events feed (polling with a cursor, never skipping) and the team endpoints."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import asyncpg
import httpx
from fastapi import FastAPI

from app.sandbox import SandboxState
from app.sandbox.catalog import team_apps
from app.sandbox.people import team_invitations, team_users
from tests.catalog.helpers import NOW, app_id_of, rewritten_apple, transition
from tests.fixtures.accounts import Tenant, link_account
from tests.fixtures.database import plain
from tests.fixtures.engine import account_client, call_unit
from tests.sandbox.conftest import FakeClock

MINUTE = dt.timedelta(minutes=1)


async def feed(
    client: httpx.AsyncClient, tenant: Tenant, **params: str | int
) -> tuple[list[dict[str, object]], str]:
    response = await client.get("/v1/events", params=params, headers=tenant.headers())
    assert response.status_code == 200, response.text
    body = response.json()
    assert isinstance(body["next_cursor"], str)
    return body["items"], body["next_cursor"]


async def test_polling_the_feed_with_its_cursor(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    other_tenant: Tenant,
    sandbox: SandboxState,
    clock: FakeClock,
) -> None:
    key = sandbox.add_key(roles=["ADMIN"])
    account_id = await link_account(client, tenant, key)
    _, version, waiting = transition(key, "WAITING_FOR_REVIEW", after=NOW)
    in_review = next(at for at, state in version.moments() if state == "IN_REVIEW")
    clock.now = waiting - MINUTE
    await call_unit(app, account_id, "apps", "all", clock.now)
    await call_unit(app, account_id, "app_versions", "all", clock.now)
    items, cursor = await feed(client, tenant)
    assert items == []

    clock.now = waiting + MINUTE
    await call_unit(app, account_id, "app_versions", "all", clock.now)
    items, cursor = await feed(client, tenant, cursor=cursor)
    assert [(e["from_state"], e["to_state"]) for e in items] == [
        ("PREPARE_FOR_SUBMISSION", "WAITING_FOR_REVIEW")
    ]
    again, same = await feed(client, tenant, cursor=cursor)
    assert again == [] and same == cursor  # nothing new: poll again later with the same cursor

    clock.now = in_review + MINUTE
    await call_unit(app, account_id, "app_versions", "all", clock.now)
    items, cursor = await feed(client, tenant, cursor=cursor)
    assert [(e["from_state"], e["to_state"]) for e in items] == [
        ("WAITING_FOR_REVIEW", "IN_REVIEW")
    ]

    everything, _ = await feed(client, tenant, limit=1)
    assert len(everything) == 1 and everything[0]["to_state"] == "WAITING_FOR_REVIEW"
    late, _ = await feed(client, tenant, since=in_review.isoformat())
    assert [e["to_state"] for e in late] == ["IN_REVIEW"]
    assert (await feed(client, tenant, type="tester_accepted"))[0] == []
    assert (await feed(client, tenant, account_id=str(uuid.uuid4())))[0] == []
    assert (await feed(client, other_tenant))[0] == []
    bad = await client.get("/v1/events", params={"cursor": "x"}, headers=tenant.headers())
    assert bad.status_code == 422
    unknown = await client.get("/v1/events", params={"type": "nope"}, headers=tenant.headers())
    assert unknown.status_code == 422


async def test_an_event_committed_late_is_not_skipped(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    sandbox: SandboxState,
    database_url: str,
    db: asyncpg.Connection,
) -> None:
    """Two syncs write events concurrently; the one that started first commits last. A reader
    polling in between must not move its cursor past the slower sync's event."""
    key = sandbox.add_key(roles=["ADMIN"])
    account_id = await link_account(client, tenant, key)
    await call_unit(app, account_id, "apps", "all", NOW)
    app_id = await app_id_of(db, team_apps(key.team)[0].id)

    async def write_event(conn: asyncpg.Connection, name: str) -> None:
        await conn.execute(
            """
            INSERT INTO events (id, workspace_id, account_id, app_id, type, subject_type,
                                subject_id, subject_apple_id, to_state, observed_at, details)
            VALUES (gen_random_uuid(), $1, $2, $3, 'build_processed', 'build',
                    gen_random_uuid(), $4, 'VALID', now(), $5::jsonb)
            """,
            tenant.workspace_id,
            account_id,
            app_id,
            name,
            json.dumps({}),
        )

    slow = await asyncpg.connect(plain(database_url))
    try:
        transaction = slow.transaction()
        await transaction.start()
        await write_event(slow, "slow")  # takes its transaction id first
        await write_event(db, "fast")  # commits at once
        items, cursor = await feed(client, tenant)
        assert items == []  # "fast" waits for "slow": it sorts after it
        await transaction.commit()
    finally:
        await slow.close()
    items, cursor = await feed(client, tenant, cursor=cursor)
    assert [e["subject"]["apple_id"] for e in items] == ["slow", "fast"]  # type: ignore[index]


async def test_team_members_and_invitations(
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
    asc = await account_client(app, account_id)
    await call_unit(app, account_id, "team", "all", clock.now, client=asc)
    assert asc.request_count == 2

    members = (
        await client.get(f"/v1/accounts/{account_id}/team", headers=tenant.headers())
    ).json()["items"]
    users = team_users(key.team)
    assert {m["username"] for m in members} == {u.email for u in users}
    last_names = [m["last_name"] for m in members]
    assert last_names == sorted(last_names)
    holder = next(m for m in members if "ACCOUNT_HOLDER" in m["roles"])
    assert holder["all_apps_visible"] is True
    limited = [u for u in users if not u.all_apps_visible]
    for user in limited:
        member = next(m for m in members if m["apple_id"] == user.id)
        assert {v["apple_id"] for v in member["visible_apps"]} == set(user.visible_app_ids)
        assert all(v["app_id"] and v["name"] for v in member["visible_apps"])

    invitations = (
        await client.get(f"/v1/accounts/{account_id}/team/invitations", headers=tenant.headers())
    ).json()["items"]
    pending = team_invitations(key.team, clock.now)
    assert {i["email"] for i in invitations} == {p.email for p, _ in pending}
    assert {dt.datetime.fromisoformat(i["expires_at"]) for i in invitations} == {
        expires for _, expires in pending
    }

    # An invitation Apple stops listing (accepted, cancelled, expired) is marked, not deleted.
    gone = invitations[0]

    def without_it(request: httpx.Request, body: dict[str, Any]) -> dict[str, Any]:
        body["data"] = [r for r in body["data"] if r["id"] != gone["apple_id"]]
        return body

    clock.now += MINUTE
    async with rewritten_apple(app, sandbox, account_id, without_it) as apple:
        await call_unit(app, account_id, "team", "all", clock.now, client=apple)
    path = f"/v1/accounts/{account_id}/team/invitations"
    still = (await client.get(path, headers=tenant.headers())).json()["items"]
    assert gone["id"] not in {i["id"] for i in still} and len(still) == len(invitations) - 1
    everything = await client.get(
        path, params={"include_removed": "true"}, headers=tenant.headers()
    )
    [removed] = [i for i in everything.json()["items"] if i["removed_at"] is not None]
    assert removed["id"] == gone["id"]
    assert dt.datetime.fromisoformat(removed["removed_at"]) == clock.now

    for path in ("/team", "/team/invitations"):
        response = await client.get(
            f"/v1/accounts/{account_id}{path}", headers=other_tenant.headers()
        )
        assert response.status_code == 404

"""The events feed keeps its never-null cursor and says `has_more`, so one generic pager
("fetch until there is no more") works for it as for every other list."""

from __future__ import annotations

import asyncpg
import httpx

from app.sandbox.state import SandboxState
from tests.fixtures.accounts import Tenant, link_account


async def test_has_more_ends_a_generic_walk(
    client: httpx.AsyncClient, tenant: Tenant, db: asyncpg.Connection
) -> None:
    for n in range(5):
        await db.execute(
            """
            INSERT INTO events (id, workspace_id, type, subject_type, subject_id,
                                subject_apple_id, observed_at, details)
            VALUES (gen_random_uuid(), $1, 'webhook_disabled', 'webhook', gen_random_uuid(),
                    $2, now(), '{}'::jsonb)
            """,
            tenant.workspace_id,
            f"e{n}",
        )
    seen: list[str] = []
    pages: list[bool] = []
    params: dict[str, str | int] = {"limit": 2}
    for _ in range(10):  # a pager that trusted next_cursor alone would never stop
        body = (await client.get("/v1/events", params=params, headers=tenant.headers())).json()
        seen += [item["subject"]["apple_id"] for item in body["items"]]
        pages.append(body["has_more"])
        params["cursor"] = body["next_cursor"]
        if not body["has_more"]:
            break
    assert seen == ["e0", "e1", "e2", "e3", "e4"]
    assert pages == [True, True, False]
    later = (await client.get("/v1/events", params=params, headers=tenant.headers())).json()
    assert later == {"items": [], "next_cursor": params["cursor"], "has_more": False}


async def test_availability_has_the_list_envelope(
    client: httpx.AsyncClient, tenant: Tenant, sandbox: SandboxState
) -> None:
    account = await link_account(client, tenant, sandbox.add_key("acme"), verify=False)
    body = (
        await client.get(
            f"/v1/accounts/{account}/availability",
            params={"dataset": "sales_daily", "from": "2026-11-01", "to": "2026-11-03"},
            headers=tenant.headers(),
        )
    ).json()
    assert len(body["items"]) == 3
    assert "next_cursor" in body and body["next_cursor"] is None

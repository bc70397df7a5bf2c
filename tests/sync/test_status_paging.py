"""Every sync-status list is the one envelope, and `limit` counts entries (issue 15, item 4):
`/v1/sync-status` paged by account before (`limit=1` returned one entry per dataset)."""

import httpx
from fastapi import FastAPI

from app.sandbox.state import SandboxState
from tests.fixtures.accounts import Tenant, link_account


async def _walk(client: httpx.AsyncClient, tenant: Tenant, path: str, limit: int) -> list[dict]:  # type: ignore[type-arg]
    items: list[dict] = []  # type: ignore[type-arg]
    cursor: str | None = None
    for _ in range(200):
        params: dict[str, str | int] = {"limit": limit}
        if cursor is not None:
            params["cursor"] = cursor
        response = await client.get(path, params=params, headers=tenant.headers())
        assert response.status_code == 200, response.text
        body = response.json()
        assert set(body) == {"items", "next_cursor"}
        assert len(body["items"]) <= limit
        if body["next_cursor"] is not None:
            assert len(body["items"]) == limit
        items.extend(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError(f"{path} never ended")


async def test_limit_counts_entries_on_every_sync_status_list(
    app: FastAPI, client: httpx.AsyncClient, tenant: Tenant, sandbox: SandboxState
) -> None:
    first = await link_account(client, tenant, sandbox.add_key("acme"))
    second = await link_account(client, tenant, sandbox.add_key("acme"))

    one = await client.get("/v1/sync-status", params={"limit": 1}, headers=tenant.headers())
    assert len(one.json()["items"]) == 1
    assert one.json()["next_cursor"] is not None

    everything = await _walk(client, tenant, "/v1/sync-status", 200)
    datasets = sorted({e["dataset"] for e in everything})
    assert len(everything) == 2 * len(datasets)
    # Pages of 7 cut across accounts: the same entries, in the same order, none twice.
    paged = await _walk(client, tenant, "/v1/sync-status", 7)
    key = [(e["account_id"], e["dataset"]) for e in paged]
    assert key == [(e["account_id"], e["dataset"]) for e in everything]
    assert len(set(key)) == len(key)
    assert [e["account_id"] for e in paged[: len(datasets)]] == [str(first)] * len(datasets)
    assert [e["dataset"] for e in paged[: len(datasets)]] == datasets

    own = await _walk(client, tenant, f"/v1/accounts/{second}/sync-status", 5)
    assert [e["dataset"] for e in own] == datasets
    assert {e["account_id"] for e in own} == {str(second)}

    public = await _walk(client, tenant, "/v1/sync-status/public", 2)
    names = [e["dataset"] for e in public]
    assert names == sorted(names) and len(names) > 2

    bad = await client.get(
        "/v1/sync-status", params={"cursor": "bm90LWEtY3Vyc29y"}, headers=tenant.headers()
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "query.cursor"


async def test_event_types_answer_the_list_envelope(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    body = (await client.get("/v1/webhook-event-types", headers=tenant.headers())).json()
    assert body["items"] and body["next_cursor"] is None

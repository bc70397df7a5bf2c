"""Tracking apps by Apple id, and the storefronts a workspace follows."""

from __future__ import annotations

import datetime as dt
import uuid

import asyncpg
import httpx

from app.sandbox.state import SandboxState
from app.sandbox.store import StoreState
from tests.fixtures.accounts import Tenant, link_account
from tests.store.helpers import track


async def test_tracking_by_apple_id(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant, store: StoreState
) -> None:
    notes, budget = store.known("Example Notes").app_id, store.known("Tidy Budget").app_id
    added = await track(client, tenant, notes, ["US", "gb", "us"])
    assert added == {
        **added,
        "apple_id": str(notes),
        "linked": False,
        "added": True,
        "app_id": None,
        "storefronts": ["us", "gb"],
        "storefronts_override": ["us", "gb"],
    }
    second = await track(client, tenant, budget, None)
    assert second["storefronts"] == ["us", "de"] and second["storefronts_override"] is None

    again = await client.post(
        "/v1/tracked-apps", json={"apple_id": str(notes)}, headers=tenant.headers()
    )
    assert again.status_code == 409
    assert again.json()["tracked_app_id"] == added["id"]

    listed = await client.get("/v1/tracked-apps", params={"limit": 1}, headers=tenant.headers())
    page = listed.json()
    assert [item["apple_id"] for item in page["items"]] == [str(min(notes, budget))]
    rest = await client.get(
        "/v1/tracked-apps", params={"cursor": page["next_cursor"]}, headers=tenant.headers()
    )
    assert [item["apple_id"] for item in rest.json()["items"]] == [str(max(notes, budget))]

    patched = await client.patch(
        f"/v1/tracked-apps/{added['id']}", json={"storefronts": None}, headers=tenant.headers()
    )
    assert patched.json()["storefronts"] == ["us", "de"]
    assert patched.json()["storefronts_override"] is None

    # Another workspace sees none of it.
    for method in ("GET", "DELETE"):
        response = await client.request(
            method, f"/v1/tracked-apps/{added['id']}", headers=other_tenant.headers()
        )
        assert response.status_code == 404
    assert (await client.get("/v1/tracked-apps", headers=other_tenant.headers())).json()[
        "items"
    ] == []

    deleted = await client.delete(f"/v1/tracked-apps/{added['id']}", headers=tenant.headers())
    assert deleted.status_code == 204
    gone = await client.get(f"/v1/tracked-apps/{added['id']}", headers=tenant.headers())
    assert gone.status_code == 404


async def test_bad_input_names_the_field(client: httpx.AsyncClient, tenant: Tenant) -> None:
    cases = [
        ({"apple_id": "id123"}, "body.apple_id"),
        ({"apple_id": "123", "storefronts": ["us", "zz"]}, "body.storefronts[1]"),
        ({"apple_id": "123", "extra": 1}, "body.extra"),
    ]
    for body, field in cases:
        response = await client.post("/v1/tracked-apps", json=body, headers=tenant.headers())
        assert response.status_code == 422, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert field in [error["field"] for error in response.json()["errors"]]
    unknown = await client.get(f"/v1/apps/{uuid.uuid4()}/ranks", headers=tenant.headers())
    assert unknown.status_code == 404
    chart = await client.get("/v1/charts", params={"country": "jp"}, headers=tenant.headers())
    assert chart.status_code == 422 and chart.json()["errors"][0]["field"] == "query.country"


async def test_linked_apps_are_always_tracked(
    client: httpx.AsyncClient, tenant: Tenant, sandbox: SandboxState, app: object
) -> None:
    from tests.fixtures.engine import call_unit

    key = sandbox.add_key(roles=("ADMIN",))
    account_id = await link_account(client, tenant, key, vendor=False)
    await call_unit(app, account_id, "apps", "all", dt.datetime.now(dt.UTC))  # type: ignore[arg-type]
    tracked = (await client.get("/v1/tracked-apps", headers=tenant.headers())).json()["items"]
    assert tracked and all(item["linked"] and item["app_id"] for item in tracked)
    refused = await client.delete(f"/v1/tracked-apps/{tracked[0]['id']}", headers=tenant.headers())
    assert refused.status_code == 409
    # Adding a linked app by hand gives it its own storefronts; it stays linked.
    own = await track(client, tenant, int(tracked[0]["apple_id"]), ["jp"])
    assert own["linked"] and own["added"] and own["storefronts"] == ["jp"]
    # Unlinking the account stops tracking its apps (unless added by hand).
    assert (
        await client.delete(f"/v1/accounts/{account_id}", headers=tenant.headers())
    ).status_code == 204
    left = (await client.get("/v1/tracked-apps", headers=tenant.headers())).json()["items"]
    assert [item["apple_id"] for item in left] == [tracked[0]["apple_id"]]
    assert left[0]["linked"] is False


async def test_storefronts_default_to_sales_countries_capped(
    client: httpx.AsyncClient, tenant: Tenant, db: asyncpg.Connection, sandbox: SandboxState
) -> None:
    key = sandbox.add_key(roles=("ADMIN",))
    account_id = await link_account(client, tenant, key, vendor=False)
    units = {"US": 50, "DE": 40, "JP": 30, "FR": 20, "XX": 100}
    countries = [*units, *(c.upper() for c in ("gb", "ca", "au", "br", "in", "kr", "mx"))]
    day = dt.date.today() - dt.timedelta(days=3)
    for index, country in enumerate(countries):
        await db.execute(
            """
            INSERT INTO sales_daily_rollup (workspace_id, account_id, report_date, platform,
                unit_kind, units_in, refunds, net_units, proceeds, customer_sales, country_code)
            VALUES ($1, $2, $3, 'IOS', 'download', $4, 0, $4, 0, 0, $5)
            """,
            tenant.workspace_id,
            account_id,
            day,
            units.get(country, 19 - index),
            country,
        )
    got = (await client.get("/v1/store/storefronts", headers=tenant.headers())).json()
    assert got["source"] == "sales" and got["configured"] is None
    assert got["effective"][:4] == ["us", "de", "jp", "fr"]  # "xx" is no storefront
    assert len(got["effective"]) == got["max_storefronts"] == 10

    put = await client.put(
        "/v1/store/storefronts", json={"storefronts": ["GB", "jp"]}, headers=tenant.headers()
    )
    assert put.json() == {**put.json(), "configured": ["gb", "jp"], "effective": ["gb", "jp"],
                          "source": "configured"}  # fmt: skip
    back = await client.put(
        "/v1/store/storefronts", json={"storefronts": None}, headers=tenant.headers()
    )
    assert back.json()["source"] == "sales"
    bad = await client.put(
        "/v1/store/storefronts", json={"storefronts": ["us", "xx"]}, headers=tenant.headers()
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "body.storefronts[1]"

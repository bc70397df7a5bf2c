from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import httpx

from app.sandbox import SandboxKey, SandboxState, create_sandbox_app
from app.sandbox.catalog import team_apps
from tests.sandbox.conftest import BASE_URL, NOW
from tests.sandbox.helpers import assert_error, assert_matches_spec, bearer, mint

AnyHeaders = Callable[..., dict[str, str]]


async def test_list_apps_shape(client: httpx.AsyncClient, admin_headers: dict[str, str]) -> None:
    response = await client.get("/v1/apps", headers=admin_headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert_matches_spec(body, "/v1/apps")
    assert len(body["data"]) == 3
    assert body["meta"]["paging"] == {"total": 3, "limit": 50}
    assert body["links"] == {"self": f"{BASE_URL}/v1/apps"}
    for app in body["data"]:
        assert re.fullmatch(r"\d{10}", app["id"])
        assert app["links"]["self"] == f"{BASE_URL}/v1/apps/{app['id']}"
        assert app["attributes"]["bundleId"].startswith("com.lakesideapps.")
        builds = app["relationships"]["builds"]["links"]
        assert builds["related"] == f"{BASE_URL}/v1/apps/{app['id']}/builds"


async def test_same_seed_same_answer() -> None:
    bodies = []
    for seed in (42, 42, 43):
        state = SandboxState(seed=seed, clock=lambda: NOW)
        key = state.add_key()
        transport = httpx.ASGITransport(app=create_sandbox_app(state))
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
            response = await http.get("/v1/apps", headers=bearer(mint(key, NOW)))
        bodies.append(response.json())
    assert bodies[0] == bodies[1]
    assert bodies[0]["data"] != bodies[2]["data"]


async def test_paging_250_apps(
    client: httpx.AsyncClient, state: SandboxState, headers_for: AnyHeaders
) -> None:
    key = state.add_key(state.add_team("Big Studio", apps=250))
    first = await client.get("/v1/apps", params={"limit": "200"}, headers=headers_for(key))
    body = first.json()
    assert_matches_spec(body, "/v1/apps")
    assert len(body["data"]) == 200
    assert body["meta"]["paging"]["total"] == 250
    next_url = body["links"]["next"]
    assert next_url.startswith(f"{BASE_URL}/v1/apps?")
    assert "cursor=" in next_url and "limit=200" in next_url
    assert body["meta"]["paging"]["nextCursor"] in next_url
    second = (await client.get(next_url, headers=headers_for(key))).json()
    assert_matches_spec(second, "/v1/apps")
    assert len(second["data"]) == 50 and "next" not in second["links"]
    ids = [a["id"] for a in body["data"] + second["data"]]
    assert len(set(ids)) == 250
    assert set(ids) == {app.id for app in team_apps(key.team)}
    names = [a["attributes"]["name"] for a in body["data"] + second["data"]]
    assert len(set(names)) == 250


async def test_next_link_keeps_filters_and_sort(
    client: httpx.AsyncClient, admin_headers: dict[str, str], admin_key: SandboxKey
) -> None:
    params = {"sort": "-name", "limit": "1", "fields[apps]": "name,bundleId"}
    pages: list[dict[str, Any]] = []
    url: str | None = "/v1/apps"
    while url:
        query = None if pages else params
        body = (await client.get(url, params=query, headers=admin_headers)).json()
        pages.append(body)
        url = body["links"].get("next")
        if url:
            assert "sort=-name" in url and "fields[apps]=name,bundleId" in url
    names = [p["data"][0]["attributes"]["name"] for p in pages]
    assert names == sorted((a.name for a in team_apps(admin_key.team)), reverse=True)
    assert all(set(p["data"][0]["attributes"]) == {"name", "bundleId"} for p in pages)


async def test_limit_above_200_is_rejected(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    response = await client.get("/v1/apps", params={"limit": "201"}, headers=admin_headers)
    error = assert_error(response, 400, "PARAMETER_ERROR.INVALID")
    assert error["source"] == {"parameter": "limit"}
    assert_matches_spec(response.json(), "/v1/apps", 400)


async def test_bad_or_foreign_cursor(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    response = await client.get("/v1/apps", params={"cursor": "bm9wZQ"}, headers=admin_headers)
    error = assert_error(response, 400, "PARAMETER_ERROR.INVALID")
    assert error["detail"].endswith("is not a valid cursor for this request")
    first = (await client.get("/v1/apps", params={"limit": "1"}, headers=admin_headers)).json()
    cursor = first["meta"]["paging"]["nextCursor"]
    reused = await client.get(
        "/v1/apps", params={"cursor": cursor, "sort": "name"}, headers=admin_headers
    )
    assert_error(reused, 400, "PARAMETER_ERROR.INVALID")


async def test_filters_and_sparse_fields(
    client: httpx.AsyncClient, admin_headers: dict[str, str], admin_key: SandboxKey
) -> None:
    apps = team_apps(admin_key.team)
    by_bundle = await client.get(
        "/v1/apps", params={"filter[bundleId]": apps[1].bundle_id}, headers=admin_headers
    )
    assert [a["id"] for a in by_bundle.json()["data"]] == [apps[1].id]
    by_ids = await client.get(
        "/v1/apps", params={"filter[id]": f"{apps[0].id},{apps[2].id}"}, headers=admin_headers
    )
    assert {a["id"] for a in by_ids.json()["data"]} == {apps[0].id, apps[2].id}
    by_sku = await client.get("/v1/apps", params={"filter[sku]": "nope"}, headers=admin_headers)
    assert by_sku.json()["data"] == [] and by_sku.json()["meta"]["paging"]["total"] == 0
    sparse = await client.get(
        f"/v1/apps/{apps[0].id}", params={"fields[apps]": "sku,builds"}, headers=admin_headers
    )
    data = sparse.json()["data"]
    assert data["attributes"] == {"sku": apps[0].sku}
    assert set(data["relationships"]) == {"builds"}


async def test_parameter_errors(client: httpx.AsyncClient, admin_headers: dict[str, str]) -> None:
    unknown = await client.get("/v1/apps", params={"filter[color]": "red"}, headers=admin_headers)
    assert assert_error(unknown, 400, "PARAMETER_ERROR.ILLEGAL")["source"] == {
        "parameter": "filter[color]"
    }
    bad_sort = await client.get("/v1/apps", params={"sort": "color"}, headers=admin_headers)
    assert_error(bad_sort, 400, "PARAMETER_ERROR.INVALID")
    bad_field = await client.get("/v1/apps", params={"fields[apps]": "x"}, headers=admin_headers)
    assert_error(bad_field, 400, "PARAMETER_ERROR.INVALID")
    not_allowed = await client.post("/v1/apps", headers=admin_headers)
    assert_error(not_allowed, 405, "METHOD_NOT_ALLOWED")


async def test_get_app(
    client: httpx.AsyncClient, state: SandboxState, admin_key: SandboxKey, headers_for: AnyHeaders
) -> None:
    app = team_apps(admin_key.team)[0]
    response = await client.get(f"/v1/apps/{app.id}", headers=headers_for(admin_key))
    body = response.json()
    assert_matches_spec(body, "/v1/apps/{id}")
    assert body["data"]["attributes"]["name"] == app.name
    assert body["links"]["self"] == f"{BASE_URL}/v1/apps/{app.id}"
    missing = await client.get("/v1/apps/1234567890", headers=headers_for(admin_key))
    assert_error(missing, 404, "NOT_FOUND")
    assert_matches_spec(missing.json(), "/v1/apps/{id}", 404)
    stranger = state.add_key(state.add_team("Other Team"))
    foreign = await client.get(f"/v1/apps/{app.id}", headers=headers_for(stranger))
    assert_error(foreign, 404, "NOT_FOUND")

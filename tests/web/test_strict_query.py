"""An unknown query parameter is a 422 naming it, instead of being silently ignored."""

from __future__ import annotations

import httpx

from tests.fixtures.accounts import Tenant


async def test_an_unknown_filter_is_refused_not_ignored(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    day = "2026-11-01"
    answer = await client.get(
        "/v1/sales", params={"from": day, "to": day, "platfrom": "IOS"}, headers=tenant.headers()
    )
    assert answer.status_code == 422
    problem = answer.json()
    assert problem["errors"][0]["field"] == "query.platfrom"
    assert problem["errors"][0]["type"] == "unknown_parameter"
    assert "group_by" in problem["errors"][0]["message"]  # says what the route accepts


async def test_declared_parameters_still_work_everywhere(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    day = "2026-11-01"
    sales = await client.get(
        "/v1/sales",
        params={"from": day, "to": day, "group_by": "country", "granularity": "day"},
        headers=tenant.headers(),
    )
    assert sales.status_code == 200, sales.text
    apps = await client.get("/v1/apps", params={"limit": 5, "cursor": ""}, headers=tenant.headers())
    assert apps.status_code in (200, 422)
    assert (
        await client.get("/v1/apps", params={"limit": 5}, headers=tenant.headers())
    ).status_code == 200
    assert (await client.get("/health", params={"probe": "x"})).status_code == 422
    refused = await client.get("/v1/apps", params={"limit": 5, "limt": 5}, headers=tenant.headers())
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "query.limt"


async def test_an_unknown_platform_is_refused_not_an_empty_list(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    for path in ("/v1/apps", "/v1/review-queue"):
        bogus = await client.get(path, params={"platform": "BOGUS"}, headers=tenant.headers())
        assert bogus.status_code == 422, path
        assert bogus.json()["errors"][0]["field"] == "query.platform"
        known = await client.get(path, params={"platform": "VISION_OS"}, headers=tenant.headers())
        assert known.status_code == 200, path


async def test_a_method_the_route_does_not_serve_is_405_whatever_the_query(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    # The query check belongs to the route's own method: TRACE with parameters that only
    # another method of the path accepts is "method not allowed", not "unknown parameter".
    for path in ("/v1/accounts", "/v1/webhooks"):
        answer = await client.request(
            "TRACE", path, params={"limit": 50, "cursor": "x"}, headers=tenant.headers()
        )
        assert answer.status_code == 405, (path, answer.text)

"""ETag / 304 on GETs, Cache-Control per route, HEAD where GET answers, gzip for large JSON."""

from __future__ import annotations

import httpx
import pytest

from app.kit.caching import API_CACHE, NO_STORE, REPORT_CACHE, cache_control, none_match
from app.sandbox.state import SandboxState
from tests.fixtures.accounts import Tenant, link_account


async def test_a_list_revalidates_to_304_until_it_changes(
    client: httpx.AsyncClient, tenant: Tenant, sandbox: SandboxState
) -> None:
    first = await client.get("/v1/accounts", headers=tenant.headers())
    assert first.status_code == 200
    etag = first.headers["etag"]
    assert etag.startswith('W/"')
    assert first.headers["cache-control"] == API_CACHE
    assert "Authorization" in first.headers["vary"]

    again = await client.get("/v1/accounts", headers={**tenant.headers(), "If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    assert again.headers["cache-control"] == API_CACHE
    assert again.headers["x-request-id"]
    assert "content-type" not in again.headers

    await link_account(client, tenant, sandbox.add_key("acme"), verify=False)
    changed = await client.get("/v1/accounts", headers={**tenant.headers(), "If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag
    assert len(changed.json()["items"]) == 1


async def test_validators_never_replace_an_error(client: httpx.AsyncClient) -> None:
    refused = await client.get("/v1/accounts", headers={"If-None-Match": "*"})
    assert refused.status_code == 401
    assert "etag" not in refused.headers


async def test_head_answers_where_get_does(client: httpx.AsyncClient, tenant: Tenant) -> None:
    get = await client.get("/v1/apps", headers=tenant.headers())
    head = await client.head("/v1/apps", headers=tenant.headers())
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["etag"] == get.headers["etag"]
    assert head.headers["content-length"] == get.headers["content-length"]
    assert (await client.head("/health")).status_code == 200
    assert (await client.head("/v1/apps")).status_code == 401


async def test_large_json_is_compressed(client: httpx.AsyncClient) -> None:
    spec = await client.get("/openapi.json", headers={"Accept-Encoding": "gzip"})
    assert spec.headers["content-encoding"] == "gzip"
    assert int(spec.headers["content-length"]) < len(spec.content) / 4
    raw = await client.get("/openapi.json", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in raw.headers
    assert raw.headers["etag"] == spec.headers["etag"]  # the representation, before coding
    assert raw.json() == spec.json()


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("/v1/sales", REPORT_CACHE),
        ("/v1/apps/{app_id}/sales/summary", REPORT_CACHE),
        ("/v1/subscriptions/summary/series", REPORT_CACHE),
        ("/v1/payments/{period}/rows", REPORT_CACHE),
        ("/v1/apps/{app_id}/ranks", REPORT_CACHE),
        ("/v1/apps", API_CACHE),
        ("/v1/sync-status", API_CACHE),
        ("/v1/events", API_CACHE),
        ("/health/ready", NO_STORE),
        ("/status", NO_STORE),
    ],
)
def test_cache_control_per_kind_of_route(template: str, expected: str) -> None:
    assert cache_control(template) == expected


@pytest.mark.parametrize(
    ("header", "matches"),
    [
        ('W/"abc"', True),
        ('"abc"', True),
        ('"x", W/"abc"', True),
        ("*", True),
        ('W/"abd"', False),
        ("", False),
    ],
)
def test_if_none_match_uses_weak_comparison(header: str, matches: bool) -> None:
    assert none_match(header, 'W/"abc"') is matches

"""Every error is problem+json with the right status, and a rejected request writes nothing."""

import asyncpg
import httpx

from tests.fixtures.accounts import Tenant

PROBLEM = "application/problem+json"


async def _token_count(db: asyncpg.Connection) -> int:
    return int(await db.fetchval("SELECT count(*) FROM api_tokens"))


async def test_malformed_json_is_400_and_writes_nothing(
    client: httpx.AsyncClient, tenant: Tenant, db: asyncpg.Connection
) -> None:
    before = await _token_count(db)
    response = await client.post(
        "/v1/tokens",
        content=b'{"name": "x", "scopes": [',
        headers={**tenant.headers(), "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["type"] == "/problems/malformed_json"
    assert await _token_count(db) == before


async def test_wrong_types_name_the_field(
    client: httpx.AsyncClient, tenant: Tenant, db: asyncpg.Connection
) -> None:
    before = await _token_count(db)
    response = await client.post(
        "/v1/tokens", json={"name": 5, "scopes": ["superuser"]}, headers=tenant.headers()
    )
    assert response.status_code == 422
    body = response.json()
    assert body["type"] == "/problems/validation_error"
    fields = {error["field"] for error in body["errors"]}
    assert fields == {"body.name", "body.scopes.0"}
    assert await _token_count(db) == before


async def test_unknown_fields_are_rejected(client: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await client.post(
        "/v1/tokens",
        json={"name": "x", "scopes": ["read"], "workspace_id": "someone-else"},
        headers=tenant.headers(),
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "body.workspace_id"


async def test_oversized_body_is_413(
    client: httpx.AsyncClient, tenant: Tenant, db: asyncpg.Connection
) -> None:
    before = await _token_count(db)
    big = b'{"name": "' + b"x" * (2 * 1024 * 1024) + b'", "scopes": ["read"]}'
    response = await client.post(
        "/v1/tokens", content=big, headers={**tenant.headers(), "Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["max_body_bytes"] == 1024 * 1024

    async def chunks():  # no Content-Length: the limit applies while streaming
        for _ in range(40):
            yield b"x" * 65536

    streamed = await client.post(
        "/v1/tokens",
        content=chunks(),
        headers={**tenant.headers(), "Content-Type": "application/json"},
    )
    assert streamed.status_code == 413
    assert await _token_count(db) == before


async def test_unknown_route_and_method(client: httpx.AsyncClient, tenant: Tenant) -> None:
    missing = await client.get("/v1/nothing-here", headers=tenant.headers())
    assert missing.status_code == 404
    assert missing.headers["content-type"] == PROBLEM
    assert missing.json()["type"] == "/problems/not_found"

    wrong_method = await client.put("/v1/tokens", headers=tenant.headers())
    assert wrong_method.status_code == 405
    assert wrong_method.headers["content-type"] == PROBLEM


async def test_invalid_path_parameter(client: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await client.delete("/v1/tokens/not-a-uuid", headers=tenant.headers())
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "path.token_id"


async def test_limit_above_cap_is_422(client: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await client.get("/v1/tokens", params={"limit": 100000}, headers=tenant.headers())
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "query.limit"


async def test_request_id_is_echoed_or_generated(client: httpx.AsyncClient) -> None:
    echoed = await client.get("/health", headers={"X-Request-ID": "abc-123"})
    assert echoed.headers["x-request-id"] == "abc-123"
    generated = await client.get("/health")
    assert len(generated.headers["x-request-id"]) == 32
    hostile = await client.get("/health", headers={"X-Request-ID": "bad id\twith spaces"})
    assert hostile.headers["x-request-id"] != "bad id\twith spaces"

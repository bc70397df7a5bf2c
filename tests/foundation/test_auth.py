"""Consumer tokens: authentication, scopes, tenant isolation, hashing at rest."""

import hashlib

import asyncpg
import httpx

from app.auth.tokens import Scope
from tests.fixtures.accounts import Tenant, make_token

PROBLEM = "application/problem+json"


async def test_missing_token_is_401_problem(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/tokens")
    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM
    assert response.headers["www-authenticate"].startswith("Bearer")
    body = response.json()
    assert body["type"] == "/problems/unauthorized"
    assert body["status"] == 401
    assert "Authorization" in body["detail"]


async def test_unknown_and_malformed_tokens_are_401(client: httpx.AsyncClient) -> None:
    for value in ("Bearer orch_" + "x" * 43, "Bearer not-a-token", "Basic abc"):
        response = await client.get("/v1/tokens", headers={"Authorization": value})
        assert response.status_code == 401, value
        assert response.headers["content-type"] == PROBLEM


async def test_admin_token_lists_tokens_without_secrets(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    response = await client.get("/v1/tokens", headers=tenant.headers())
    assert response.status_code == 200
    page = response.json()
    assert page["next_cursor"] is None
    assert [item["name"] for item in page["items"]] == ["initial admin"]
    assert tenant.admin_token not in response.text
    assert page["items"][0]["display_prefix"] == tenant.admin_token[:11]


async def test_created_token_is_shown_once_and_works(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    created = await client.post(
        "/v1/tokens", json={"name": "dashboard", "scopes": ["read"]}, headers=tenant.headers()
    )
    assert created.status_code == 201
    secret = created.json()["token"]
    assert secret.startswith("orch_") and len(secret) >= 48

    listing = await client.get("/v1/tokens", headers=tenant.headers())
    assert secret not in listing.text
    assert {item["name"] for item in listing.json()["items"]} == {"initial admin", "dashboard"}

    # A read token authenticates, but /v1/tokens needs admin.
    forbidden = await client.get("/v1/tokens", headers=tenant.headers(secret))
    assert forbidden.status_code == 403
    assert forbidden.json()["required_scope"] == "admin"


async def test_revoked_token_is_rejected(
    client: httpx.AsyncClient, tenant: Tenant, database_url: str
) -> None:
    second_admin = await make_token(database_url, tenant, [Scope.ADMIN])
    listing = await client.get("/v1/tokens", headers=tenant.headers(second_admin))
    token_id = next(t["id"] for t in listing.json()["items"] if t["name"] == "test")

    revoked = await client.delete(f"/v1/tokens/{token_id}", headers=tenant.headers())
    assert revoked.status_code == 204
    after = await client.get("/v1/tokens", headers=tenant.headers(second_admin))
    assert after.status_code == 401
    assert after.json()["detail"] == "the bearer token is unknown or revoked"

    with_revoked = await client.get(
        "/v1/tokens", params={"include_revoked": "true"}, headers=tenant.headers()
    )
    revoked_item = next(t for t in with_revoked.json()["items"] if t["id"] == token_id)
    assert revoked_item["revoked_at"] is not None


async def test_write_scope_does_not_grant_admin(
    client: httpx.AsyncClient, tenant: Tenant, database_url: str
) -> None:
    writer = await make_token(database_url, tenant, [Scope.WRITE])
    response = await client.post(
        "/v1/tokens", json={"name": "x", "scopes": ["read"]}, headers=tenant.headers(writer)
    )
    assert response.status_code == 403


async def test_other_workspace_token_is_404(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant, db: asyncpg.Connection
) -> None:
    other_id = await db.fetchval(
        "SELECT id FROM api_tokens WHERE workspace_id = $1", other_tenant.workspace_id
    )
    response = await client.delete(f"/v1/tokens/{other_id}", headers=tenant.headers())
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM
    still_active = await db.fetchval(
        "SELECT revoked_at IS NULL FROM api_tokens WHERE id = $1", other_id
    )
    assert still_active

    listing = await client.get("/v1/tokens", headers=tenant.headers())
    assert str(other_id) not in listing.text


async def test_secrets_are_stored_only_as_hashes(
    client: httpx.AsyncClient, tenant: Tenant, db: asyncpg.Connection
) -> None:
    created = await client.post(
        "/v1/tokens", json={"name": "svc", "scopes": ["write"]}, headers=tenant.headers()
    )
    secrets = [tenant.admin_token, created.json()["token"]]
    rows = await db.fetch("SELECT * FROM api_tokens")
    dump = repr([dict(row) for row in rows])
    for secret in secrets:
        assert secret not in dump
        assert secret[5:] not in dump  # not even without the prefix
        assert hashlib.sha256(secret.encode()).hexdigest() in dump


async def test_token_list_paginates_with_cursor(client: httpx.AsyncClient, tenant: Tenant) -> None:
    for index in range(4):
        await client.post(
            "/v1/tokens", json={"name": f"t{index}", "scopes": ["read"]}, headers=tenant.headers()
        )
    names: list[str] = []
    cursor = None
    pages = 0
    while True:
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/v1/tokens", params=params, headers=tenant.headers())).json()
        names += [item["name"] for item in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert names == ["initial admin", "t0", "t1", "t2", "t3"]


async def test_garbage_cursor_is_422(client: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await client.get("/v1/tokens", params={"cursor": "%%%"}, headers=tenant.headers())
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "query.cursor"

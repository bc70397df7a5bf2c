"""Updating, rotating, unlinking, tenant isolation and background re-verification."""

import datetime as dt
import uuid

import asyncpg
import httpx
from fastapi import FastAPI

from app.accounts.jobs import verify_due_accounts
from app.sandbox.state import SandboxState
from tests.fixtures.accounts import Tenant, link


async def _linked(
    client: httpx.AsyncClient, tenant: Tenant, sandbox: SandboxState, **kw: object
) -> dict:
    key = sandbox.add_key("acme", roles=kw.pop("roles", ["ADMIN"]))  # type: ignore[arg-type]
    response = await link(client, tenant, key)
    assert response.status_code == 201, response.text
    return response.json()


async def test_rename_and_change_vendor_number(
    client: httpx.AsyncClient, tenant: Tenant, sandbox: SandboxState
) -> None:
    account = await _linked(client, tenant, sandbox)
    renamed = await client.patch(
        f"/v1/accounts/{account['id']}", json={"name": "Acme EU"}, headers=tenant.headers()
    )
    assert renamed.status_code == 200
    assert renamed.json()["name"] == "Acme EU"
    assert renamed.json()["credential_status"] == "active"

    wrong_vendor = await client.patch(
        f"/v1/accounts/{account['id']}",
        json={"vendor_number": "11111111"},
        headers=tenant.headers(),
    )
    assert wrong_vendor.json()["vendor_number"] == "11111111"
    assert wrong_vendor.json()["credential_status"] == "invalid_vendor_number"


async def test_key_rotation_is_verified_and_history_kept(
    client: httpx.AsyncClient, tenant: Tenant, sandbox: SandboxState, db: asyncpg.Connection
) -> None:
    account = await _linked(client, tenant, sandbox)
    old_fingerprint = account["key_fingerprint"]

    revoked = sandbox.add_key("acme", revoked=True)
    refused = await client.patch(
        f"/v1/accounts/{account['id']}",
        json={"key_id": revoked.key_id, "private_key": revoked.private_key_pem},
        headers=tenant.headers(),
    )
    assert refused.status_code == 422
    assert refused.json()["apple_code"] == "NOT_AUTHORIZED"
    unchanged = (await client.get(f"/v1/accounts/{account['id']}", headers=tenant.headers())).json()
    assert unchanged["key_id"] == account["key_id"]
    assert unchanged["previous_keys"] == []

    fresh = sandbox.add_key("acme", roles=["FINANCE"])
    rotated = await client.patch(
        f"/v1/accounts/{account['id']}",
        json={"key_id": fresh.key_id, "private_key": fresh.private_key_pem},
        headers=tenant.headers(),
    )
    assert rotated.status_code == 200, rotated.text
    body = rotated.json()
    assert body["key_id"] == fresh.key_id
    assert body["key_fingerprint"] != old_fingerprint
    assert body["credential_status"] == "active"
    assert [(k["key_id"], k["key_fingerprint"]) for k in body["previous_keys"]] == [
        (account["key_id"], old_fingerprint)
    ]
    assert await db.fetchval("SELECT count(*) FROM asc_key_history") == 1

    half = await client.patch(
        f"/v1/accounts/{account['id']}", json={"key_id": "ABCDEFGHIJ"}, headers=tenant.headers()
    )
    assert half.status_code == 422


async def test_unlink_destroys_the_key_and_purge_deletes_the_row(
    client: httpx.AsyncClient, tenant: Tenant, sandbox: SandboxState, db: asyncpg.Connection
) -> None:
    kept = await _linked(client, tenant, sandbox)
    purged = await _linked(client, tenant, sandbox)

    assert (
        await client.delete(f"/v1/accounts/{kept['id']}", headers=tenant.headers())
    ).status_code == 204
    assert (
        await client.get(f"/v1/accounts/{kept['id']}", headers=tenant.headers())
    ).status_code == 404
    row = await db.fetchrow(
        "SELECT encrypted_private_key, unlinked_at FROM asc_accounts WHERE id = $1",
        uuid.UUID(kept["id"]),
    )
    assert row["encrypted_private_key"] is None
    assert row["unlinked_at"] is not None

    response = await client.delete(
        f"/v1/accounts/{purged['id']}", params={"purge": "true"}, headers=tenant.headers()
    )
    assert response.status_code == 204
    assert await db.fetchval("SELECT count(*) FROM asc_accounts") == 1
    assert (await client.get("/v1/accounts", headers=tenant.headers())).json()["items"] == []

    # The same key can be linked again after unlinking.
    again = await client.post(
        "/v1/accounts",
        json={
            "name": "again",
            "key_id": kept["key_id"],
            "issuer_id": kept["issuer_id"],
            "private_key": sandbox.key(kept["key_id"]).private_key_pem,
        },
        headers=tenant.headers(),
    )
    assert again.status_code == 201


async def test_other_workspace_gets_404_everywhere(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant, sandbox: SandboxState
) -> None:
    account = await _linked(client, tenant, sandbox)
    url = f"/v1/accounts/{account['id']}"
    foreign = other_tenant.headers()
    assert (await client.get(url, headers=foreign)).status_code == 404
    assert (await client.patch(url, json={"name": "x"}, headers=foreign)).status_code == 404
    assert (await client.post(f"{url}/verify", headers=foreign)).status_code == 404
    assert (await client.delete(url, headers=foreign)).status_code == 404
    assert (await client.get("/v1/accounts", headers=foreign)).json()["items"] == []
    assert (await client.get(url, headers=tenant.headers())).json()["name"] == "Acme"


async def test_read_token_cannot_link(
    client: httpx.AsyncClient, tenant: Tenant, sandbox: SandboxState, database_url: str
) -> None:
    from app.auth.tokens import Scope
    from tests.fixtures.accounts import make_token

    reader = await make_token(database_url, tenant, [Scope.READ])
    key = sandbox.add_key("acme")
    response = await client.post(
        "/v1/accounts",
        json={
            "name": "x",
            "key_id": key.key_id,
            "issuer_id": key.issuer_id,
            "private_key": key.private_key_pem,
        },
        headers=tenant.headers(reader),
    )
    assert response.status_code == 403
    assert (await client.get("/v1/accounts", headers=tenant.headers(reader))).status_code == 200


async def test_background_verification_follows_apple(
    app: FastAPI, client: httpx.AsyncClient, tenant: Tenant, sandbox: SandboxState
) -> None:
    account = await _linked(client, tenant, sandbox)
    key = sandbox.key(account["key_id"])
    sessionmaker, factory = app.state.sessionmaker, app.state.asc_clients

    # Fresh verification: nothing is due yet with the default 6 h interval.
    assert await verify_due_accounts(sessionmaker, factory, dt.timedelta(hours=6)) == 0

    key.agreement_missing = True
    assert await verify_due_accounts(sessionmaker, factory, dt.timedelta(0)) == 1
    status = (await client.get(f"/v1/accounts/{account['id']}", headers=tenant.headers())).json()
    assert status["credential_status"] == "agreement_required"

    key.agreement_missing = False
    key.revoked = True
    before = len(sandbox.requests)
    assert await verify_due_accounts(sessionmaker, factory, dt.timedelta(0)) == 1
    status = (await client.get(f"/v1/accounts/{account['id']}", headers=tenant.headers())).json()
    assert status["credential_status"] == "revoked_or_invalid"
    assert status["status_code"] == "NOT_AUTHORIZED"
    # One /v1/apps call, re-minted once after the 401: no retry storm.
    assert len(sandbox.requests) - before == 2

    key.revoked = False
    await verify_due_accounts(sessionmaker, factory, dt.timedelta(0))
    status = (await client.get(f"/v1/accounts/{account['id']}", headers=tenant.headers())).json()
    assert status["credential_status"] == "active"

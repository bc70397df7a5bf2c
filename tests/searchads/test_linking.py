"""Linking Apple Ads credentials: validation, live verification, states, choice of ad
accounts, unlinking, and a token fetched once however many calls."""

from __future__ import annotations

import asyncpg
import httpx
from fastapi import FastAPI

from app.sandbox.searchads import AppleAdsState
from app.searchads.verification import verify_due
from tests.fixtures.accounts import Tenant, make_token
from tests.searchads.helpers import link, link_body, link_ok


async def test_link_verifies_live_and_stores_ad_accounts(
    client: httpx.AsyncClient, tenant: Tenant, ads: AppleAdsState, db: asyncpg.Connection
) -> None:
    credential = ads.add_credential()
    body = await link_ok(client, tenant, credential)

    assert body["credential_status"] == "active"
    assert "private_key" not in body
    accounts = {a["ad_account_id"]: a for a in body["ad_accounts"]}
    expected = {a.ad_account_id: a for a in ads.accounts()}
    assert set(accounts) == set(expected)
    for ad_account_id, account in accounts.items():
        truth = expected[ad_account_id]
        assert account["currency"] == truth.currency
        assert account["time_zone"] == truth.time_zone
        assert account["app_store"] is (truth.product == "APPSTORE")
        # Every App Store account syncs by default; Maps accounts never do.
        assert account["sync_enabled"] is (truth.product == "APPSTORE")
    # The key is stored encrypted, never as PEM.
    stored = await db.fetchval("SELECT encrypted_private_key FROM searchads_credentials")
    assert b"PRIVATE KEY" not in stored
    # Apple saw one token request (the token is cached), then /acls and the account details.
    log = ads.requests_for(credential.client_id)
    assert [r.api for r in log].count("oauth") == 1
    assert next(r.path for r in log if r.api == "v1") == "/v1/acls"


async def test_link_with_a_choice_of_ad_accounts_and_patch_it(
    client: httpx.AsyncClient, tenant: Tenant, ads: AppleAdsState
) -> None:
    credential = ads.add_credential()
    eur = ads.account("EUR").ad_account_id
    body = await link_ok(client, tenant, credential, sync_ad_accounts=[eur])
    chosen = [a["ad_account_id"] for a in body["ad_accounts"] if a["sync_enabled"]]
    assert chosen == [eur]

    usd = ads.account("US").ad_account_id
    response = await client.patch(
        f"/v1/search-ads/accounts/{body['id']}",
        json={"sync_ad_accounts": [usd]},
        headers=tenant.headers(),
    )
    assert response.status_code == 200, response.text
    chosen = [a["ad_account_id"] for a in response.json()["ad_accounts"] if a["sync_enabled"]]
    assert chosen == [usd]

    response = await client.patch(
        f"/v1/search-ads/accounts/{body['id']}",
        json={"sync_ad_accounts": [123]},
        headers=tenant.headers(),
    )
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "sync_ad_accounts" in response.text


async def test_unknown_ad_account_at_link_is_refused_without_a_write(
    client: httpx.AsyncClient, tenant: Tenant, ads: AppleAdsState, db: asyncpg.Connection
) -> None:
    response = await link(client, tenant, ads.add_credential(), sync_ad_accounts=[42])
    assert response.status_code == 422
    assert await db.fetchval("SELECT count(*) FROM searchads_credentials") == 0


async def test_revoked_key_is_rejected_and_nothing_is_stored(
    client: httpx.AsyncClient, tenant: Tenant, ads: AppleAdsState, db: asyncpg.Connection
) -> None:
    credential = ads.add_credential()
    credential.revoked = True
    response = await link(client, tenant, credential)
    assert response.status_code == 422
    problem = response.json()
    assert problem["type"].endswith("credentials_rejected")
    assert problem["credential_status"] == "revoked_or_invalid"
    assert credential.private_key_pem not in response.text
    assert await db.fetchval("SELECT count(*) FROM searchads_credentials") == 0


async def test_user_without_api_role_is_missing_role(
    client: httpx.AsyncClient, tenant: Tenant, ads: AppleAdsState
) -> None:
    body = await link_ok(client, tenant, ads.add_credential(roles={}))
    assert body["credential_status"] == "missing_role"
    assert "API role" in body["status_reason"]
    assert body["ad_accounts"] == []


async def test_bad_input_names_the_field(
    client: httpx.AsyncClient, tenant: Tenant, ads: AppleAdsState
) -> None:
    credential = ads.add_credential()
    for field, value in (
        ("private_key", "not a key"),
        ("client_id", "has spaces"),
        ("api_version", "v9"),
    ):
        response = await client.post(
            "/v1/search-ads/accounts",
            json=link_body(credential, **{field: value}),
            headers=tenant.headers(),
        )
        assert response.status_code == 422, field
        assert field in response.text
        assert credential.private_key_pem not in response.text


async def test_duplicate_conflicts_and_delete_unlinks(
    client: httpx.AsyncClient,
    tenant: Tenant,
    ads: AppleAdsState,
    db: asyncpg.Connection,
) -> None:
    credential = ads.add_credential()
    body = await link_ok(client, tenant, credential)
    assert (await link(client, tenant, credential)).status_code == 409

    listed = await client.get("/v1/search-ads/accounts", headers=tenant.headers())
    assert [c["id"] for c in listed.json()["items"]] == [body["id"]]

    response = await client.delete(
        f"/v1/search-ads/accounts/{body['id']}", headers=tenant.headers()
    )
    assert response.status_code == 204
    assert await db.fetchval("SELECT encrypted_private_key FROM searchads_credentials") is None
    missing = await client.get(f"/v1/search-ads/accounts/{body['id']}", headers=tenant.headers())
    assert missing.status_code == 404
    # Relinking the same client after unlinking is allowed.
    await link_ok(client, tenant, credential)


async def test_linking_needs_admin_and_other_workspaces_see_nothing(
    client: httpx.AsyncClient,
    tenant: Tenant,
    other_tenant: Tenant,
    ads: AppleAdsState,
    database_url: str,
) -> None:
    from app.auth.tokens import Scope

    writer = await make_token(database_url, tenant, [Scope.WRITE])
    response = await client.post(
        "/v1/search-ads/accounts",
        json=link_body(ads.add_credential()),
        headers=tenant.headers(writer),
    )
    assert response.status_code == 403
    body = await link_ok(client, tenant, ads.add_credential())
    other = await client.get(
        f"/v1/search-ads/accounts/{body['id']}", headers=other_tenant.headers()
    )
    assert other.status_code == 404


async def test_background_verification_follows_apple(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    ads: AppleAdsState,
    db: asyncpg.Connection,
) -> None:
    credential = ads.add_credential()
    body = await link_ok(client, tenant, credential)
    # Fresh credentials are not due.
    assert await verify_due(app.state.sessionmaker, app.state.asc_clients, app.state.settings) == 0
    credential.revoked = True
    ads.tokens.clear()
    await db.execute(
        "UPDATE searchads_credentials SET last_verified_at = now() - interval '2 days'"
    )
    assert await verify_due(app.state.sessionmaker, app.state.asc_clients, app.state.settings) == 1
    state = await client.get(f"/v1/search-ads/accounts/{body['id']}", headers=tenant.headers())
    assert state.json()["credential_status"] == "revoked_or_invalid"
    credential.revoked = False
    await db.execute(
        "UPDATE searchads_credentials SET last_verified_at = now() - interval '2 days'"
    )
    assert await verify_due(app.state.sessionmaker, app.state.asc_clients, app.state.settings) == 1
    state = await client.get(f"/v1/search-ads/accounts/{body['id']}", headers=tenant.headers())
    assert state.json()["credential_status"] == "active"

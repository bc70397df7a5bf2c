"""Subscriptions: the secret shown once and stored encrypted, validation, scopes, the
catalogue and the OpenAPI ``webhooks`` section."""

from __future__ import annotations

import asyncpg
import httpx
import pytest
from cryptography.fernet import Fernet
from fastapi import FastAPI

from app.auth.tokens import Scope
from app.config import Settings
from app.credentials.crypto import CredentialCipher, SecretKeysError
from app.webhooks.service import rotate_encryption
from tests.fixtures.accounts import Tenant, make_token
from tests.webhooks.helpers import HOST, FakeDns, subscribe, url

EXPECTED_TYPES = {
    "review.created",
    "review.updated",
    "review.response.published",
    "app_version.state_changed",
    "build.processing_state_changed",
    "build.expired",
    "beta_tester.accepted",
    "review_submission.state_changed",
    "sales.day_published",
    "sync.dataset_failing",
    "sync.dataset_recovered",
    "account.credential_status_changed",
    "store.rating_reset",
    "webhook.disabled",
    "webhook.ping",
}


async def test_create_shows_the_secret_once_and_stores_it_encrypted(
    hooked: FastAPI, client: httpx.AsyncClient, tenant: Tenant, db: asyncpg.Connection
) -> None:
    created = await subscribe(client, tenant, "/a", ["review.created"], description="CRM")
    secret = created["secret"]
    assert secret.startswith("whsec_") and len(secret) > 40
    assert created["state"] == "active" and created["event_types"] == ["review.created"]
    fetched = await client.get(f"/v1/webhooks/{created['id']}", headers=tenant.headers())
    assert fetched.status_code == 200
    assert "secret" not in fetched.json() and secret not in fetched.text
    listed = await client.get("/v1/webhooks", headers=tenant.headers())
    assert [item["id"] for item in listed.json()["items"]] == [created["id"]]
    assert secret not in listed.text
    stored = await db.fetchval("SELECT encrypted_secret FROM webhook_endpoints")
    assert secret.encode() not in stored and secret.removeprefix("whsec_").encode() not in stored


async def test_patch_and_delete(hooked: FastAPI, client: httpx.AsyncClient, tenant: Tenant) -> None:
    created = await subscribe(client, tenant, "/a", ["review.created"])
    path = f"/v1/webhooks/{created['id']}"
    patched = await client.patch(
        path,
        json={"event_types": ["*"], "description": "all", "enabled": False},
        headers=tenant.headers(),
    )
    assert patched.status_code == 200, patched.text
    body = patched.json()
    assert (body["event_types"], body["description"], body["state"]) == (["*"], "all", "paused")
    assert (await client.delete(path, headers=tenant.headers())).status_code == 204
    assert (await client.get(path, headers=tenant.headers())).status_code == 404


INVALID = [
    ({"event_types": ["review.deleted"]}, "body.event_types", "event_type"),
    ({"event_types": ["webhook.ping"]}, "body.event_types", "event_type"),
    ({"event_types": ["*", "review.created"]}, "body.event_types", "all"),
    ({"url": f"http://{HOST}/a"}, "body.url", "scheme"),
    ({"url": "ftp://example.com/a"}, "body.url", "scheme"),
    ({"url": f"https://user:pass@{HOST}/a"}, "body.url", "credentials_in_url"),
    ({"url": "https://nowhere.invalid/a"}, "body.url", "unresolvable"),
    ({"url": "https://127.0.0.1/a"}, "body.url", "private_address"),
    ({"url": "https://[::1]/a"}, "body.url", "private_address"),
    ({"url": "https://internal.example.com/a"}, "body.url", "private_address"),
]


async def test_invalid_subscriptions_are_refused_naming_the_field(
    hooked: FastAPI, client: httpx.AsyncClient, tenant: Tenant, dns: FakeDns
) -> None:
    dns.records["internal.example.com"] = ["10.1.2.3"]
    for body, field, kind in INVALID:
        request = {"url": url("/a"), "event_types": ["review.created"], **body}
        response = await client.post("/v1/webhooks", json=request, headers=tenant.headers())
        assert response.status_code == 422, (body, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        [error] = response.json()["errors"]
        assert (error["field"], error["type"]) == (field, kind), body
    listed = await client.get("/v1/webhooks", headers=tenant.headers())
    assert listed.json()["items"] == []


async def test_filters_must_belong_to_the_workspace(
    hooked: FastAPI, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    response = await client.post(
        "/v1/webhooks",
        json={
            "url": url("/a"),
            "event_types": ["*"],
            "account_id": "6b1f1c3e-8f64-4a47-9a39-0c4b3f2e1d10",
        },
        headers=tenant.headers(),
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "body.account_id"


async def test_only_admins_manage_webhooks_and_only_their_own(
    hooked: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    other_tenant: Tenant,
    database_url: str,
) -> None:
    created = await subscribe(client, tenant, "/a", ["review.created"])
    writer = await make_token(database_url, tenant, [Scope.WRITE])
    response = await client.post(
        "/v1/webhooks",
        json={"url": url("/b"), "event_types": ["*"]},
        headers=tenant.headers(writer),
    )
    assert response.status_code == 403
    for method, suffix in (("GET", ""), ("DELETE", ""), ("POST", "/rotate-secret")):
        other = await client.request(
            method, f"/v1/webhooks/{created['id']}{suffix}", headers=other_tenant.headers()
        )
        assert other.status_code == 404, (method, suffix)


async def test_the_catalogue_lists_every_type_with_its_payload_schema(
    hooked: FastAPI, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    reader = await client.get("/v1/webhook-event-types", headers=tenant.headers())
    assert reader.status_code == 200
    items = {item["name"]: item for item in reader.json()["items"]}
    assert set(items) == EXPECTED_TYPES
    assert not items["webhook.ping"]["subscribable"]
    review = items["review.created"]["payload_schema"]
    assert review["required"] == ["type", "id", "timestamp", "workspace_id", "data"]
    assert review["properties"]["type"]["const"] == "review.created"
    assert "rating" in review["$defs"]["ReviewRead"]["properties"]
    document = (await client.get("/openapi.json")).json()
    assert set(document["webhooks"]) == EXPECTED_TYPES
    operation = document["webhooks"]["review.created"]["post"]
    headers = {p["name"] for p in operation["parameters"] if p["in"] == "header"}
    assert headers == {"webhook-id", "webhook-timestamp", "webhook-signature"}
    ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert ref == "#/components/schemas/ReviewCreatedEvent"


async def test_key_rotation_reencrypts_signing_secrets(
    hooked: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    db: asyncpg.Connection,
    settings: Settings,
) -> None:
    created = await subscribe(client, tenant, "/a", ["*"])
    await client.post(f"/v1/webhooks/{created['id']}/rotate-secret", headers=tenant.headers())
    old_key = (settings.data_dir / "secret.key").read_bytes().strip()
    new_key = Fernet.generate_key()
    async with hooked.state.sessionmaker() as session, session.begin():
        assert await rotate_encryption(session, CredentialCipher([new_key, old_key])) == 1
    row = await db.fetchrow(
        "SELECT encrypted_secret, encrypted_previous_secret FROM webhook_endpoints"
    )
    only_new = CredentialCipher([new_key])
    assert only_new.decrypt(row["encrypted_secret"]).startswith("whsec_")
    assert only_new.decrypt(row["encrypted_previous_secret"]) == created["secret"]
    with pytest.raises(SecretKeysError):
        CredentialCipher([old_key]).decrypt(row["encrypted_secret"])


def test_the_log_guard_knows_signing_secrets() -> None:
    from app.webhooks.signing import new_secret
    from tests.secrets_guard import scan

    assert [kind for kind, _ in scan(f"sent with {new_secret()}")] == ["webhook signing secret"]

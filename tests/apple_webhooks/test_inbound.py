"""Apple's webhooks for release events: Orchard registers one per app at the sandbox, the
sandbox delivers signed events, and the affected app's data is refreshed from Apple's API."""

from __future__ import annotations

import hashlib
import hmac
import uuid

import asyncpg
import httpx
import pytest
from cryptography.fernet import Fernet
from fastapi import FastAPI

from app.apple_webhooks import service
from app.apple_webhooks.events import signature_valid
from app.apple_webhooks.jobs import NAME, NO_ROLE
from app.config import Settings
from app.credentials.crypto import KEY_FILE_NAME, CredentialCipher
from app.sandbox.catalog import team_apps
from app.sandbox.releases import app_releases
from app.sandbox.state import SandboxKey, SandboxState
from app.sandbox.webhooks.delivery import asgi_sender
from app.sandbox.webhooks.hub import WebhookHub, webhooks
from tests.fixtures.accounts import Tenant, link_account
from tests.fixtures.engine import drain

PUBLIC_URL = "https://orchard.example.test"
RELEASE_DATASETS = ["apps", "app_versions", "review_submissions", "apple_webhooks"]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"public_url": PUBLIC_URL})


@pytest.fixture
def hub(sandbox: SandboxState, app: FastAPI) -> WebhookHub:
    found = webhooks(sandbox)
    found.sender = asgi_sender(app)  # Apple reaches Orchard in-process
    return found


async def _linked(
    client: httpx.AsyncClient, tenant: Tenant, db: asyncpg.Connection, key: SandboxKey
) -> uuid.UUID:
    account_id = await link_account(client, tenant, key)
    await db.execute(
        "DELETE FROM sync_jobs WHERE NOT (dataset = ANY($1::text[]))", RELEASE_DATASETS
    )
    return account_id


async def _account(client: httpx.AsyncClient, tenant: Tenant, account_id: uuid.UUID) -> dict:  # type: ignore[type-arg]
    response = await client.get(f"/v1/accounts/{account_id}", headers=tenant.headers())
    assert response.status_code == 200, response.text
    return response.json()["apple_webhooks"]  # type: ignore[no-any-return]


def test_signature_matches_apples_vector() -> None:
    header = "hmacsha256=7f062172b01cb00b53ca068614674a3d982a34062a0f5d37687d5e3377e54657"
    assert signature_valid("This is my secret", b"Hello, World!", header)
    assert signature_valid(
        "This is my secret", b"Hello, World!", header.removeprefix("hmacsha256=")
    )
    assert not signature_valid("This is my secret", b"Hello, World?", header)
    assert not signature_valid("another secret", b"Hello, World!", header)
    assert not signature_valid("This is my secret", b"Hello, World!", None)


async def test_a_version_state_change_reaches_the_api_through_a_webhook(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    sandbox: SandboxState,
    hub: WebhookHub,
    db: asyncpg.Connection,
) -> None:
    key = sandbox.add_key(roles=("ADMIN",))
    apps = team_apps(key.team)
    account_id = await _linked(client, tenant, db, key)
    assert (await _account(client, tenant, account_id))["state"] == "pending"
    await drain(app, plan=True)

    state = await _account(client, tenant, account_id)
    assert state["state"] == "on" and state["reason"] is None
    assert state["registered_apps"] == sorted(a.id for a in apps)
    registered = list(hub.webhooks.values())
    assert sorted(w.app_id for w in registered) == sorted(a.id for a in apps)
    for webhook in registered:
        assert webhook.name == NAME and webhook.enabled
        assert webhook.url.startswith(f"{PUBLIC_URL}/apple-webhooks/")
        assert webhook.url.endswith(f"/apps/{webhook.app_id}")
        assert "APP_STORE_VERSION_APP_VERSION_STATE_UPDATED" in webhook.event_types
    assert len({w.secret for w in registered}) == len(registered)  # a secret per webhook
    secrets_at_rest = await db.fetch("SELECT encrypted_secret FROM apple_webhooks")
    for row in secrets_at_rest:
        assert all(w.secret.encode() not in row["encrypted_secret"] for w in registered)
    # A second pass changes nothing at Apple.
    before = {w.id for w in hub.webhooks.values()}
    await db.execute("UPDATE sync_jobs SET state = 'queued' WHERE dataset = 'apple_webhooks'")
    await drain(app)
    assert {w.id for w in hub.webhooks.values()} == before

    # The release manager's version moves at Apple: Apple tells Orchard, Orchard refreshes.
    target = apps[0]
    version = app_releases(key.team, target, sandbox.now())[-1]
    hub.options.duplicates = True  # and Apple sends the delivery twice
    event = hub.force_version_state(key.team, target, version.version_id, "METADATA_REJECTED")
    assert event is not None
    attempts = await hub.deliver_due()
    mine = [a for a in attempts if target.id in a.url]
    assert [a.status for a in mine] == [200, 200]
    assert [a.response_body and '"duplicate":true' in a.response_body for a in mine] == [
        False,
        True,
    ]
    queued = await db.fetch(
        "SELECT dataset, unit_key, priority FROM sync_jobs WHERE state = 'queued'"
    )
    assert {(r["dataset"], r["unit_key"], r["priority"]) for r in queued} == {
        ("app_versions", target.id, 0),
        ("review_submissions", target.id, 0),
    }
    await drain(app)
    app_row = await db.fetchrow("SELECT id FROM apps WHERE apple_id = $1", target.id)
    versions = await client.get(f"/v1/apps/{app_row['id']}/versions", headers=tenant.headers())
    shown = {v["apple_id"]: v for v in versions.json()["items"]}
    assert shown[version.version_id]["state"] == "METADATA_REJECTED"
    # The change is in the feed's table (``/v1/events`` lists it once every transaction that
    # began before it has ended, cluster-wide: not asserted here, other suites share the server).
    event_rows = await db.fetch(
        "SELECT from_state, to_state FROM events WHERE type = 'version_state_changed' "
        "AND subject_apple_id = $1",
        version.version_id,
    )
    assert [r["to_state"] for r in event_rows] == ["METADATA_REJECTED"]
    assert (await _account(client, tenant, account_id))["last_delivery_at"] is not None


async def test_bad_signatures_replays_and_strangers_are_refused(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    sandbox: SandboxState,
    hub: WebhookHub,
    db: asyncpg.Connection,
) -> None:
    key = sandbox.add_key(roles=("ADMIN",))
    account_id = await _linked(client, tenant, db, key)
    await drain(app, plan=True)
    webhook = next(iter(hub.webhooks.values()))
    path = webhook.url.removeprefix(PUBLIC_URL)
    body = (
        b'{"data":{"type":"buildUploadStateUpdated","id":"11111111-2222","version":1,'
        b'"attributes":{"newState":"COMPLETE"},'
        b'"relationships":{"instance":{"data":{"type":"buildUploads","id":"x"}}}}}'
    )
    good = "hmacsha256=" + hmac.new(webhook.secret.encode(), body, hashlib.sha256).hexdigest()
    wrong = "hmacsha256=" + hmac.new(b"guess", body, hashlib.sha256).hexdigest()
    await db.execute("DELETE FROM sync_jobs")

    refused = await client.post(path, content=body, headers={"x-apple-signature": wrong})
    assert refused.status_code == 401
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert (await client.post(path, content=body)).status_code == 401
    assert await db.fetchval("SELECT count(*) FROM sync_jobs") == 0
    state = await _account(client, tenant, account_id)
    assert "invalid signature" in state["last_error"]

    stranger = path.replace("/apple-webhooks/", "/apple-webhooks/x")
    assert (
        await client.post(stranger, content=body, headers={"x-apple-signature": good})
    ).status_code == 404
    other_app = path.rsplit("/", 1)[0] + "/999"
    assert (
        await client.post(other_app, content=body, headers={"x-apple-signature": good})
    ).status_code == 404

    accepted = await client.post(path, content=body, headers={"x-apple-signature": good})
    assert accepted.status_code == 200, accepted.text
    assert accepted.json() == {"duplicate": False, "refreshed": ["builds"]}
    queued = await db.fetch("SELECT dataset, unit_key FROM sync_jobs")
    assert [(r["dataset"], r["unit_key"]) for r in queued] == [("builds", webhook.app_id)]
    replay = await client.post(path, content=body, headers={"x-apple-signature": good})
    assert replay.json()["duplicate"] is True
    assert await db.fetchval("SELECT count(*) FROM sync_request_units") == 1
    garbage = b'{"nope": 1}'
    signed = "hmacsha256=" + hmac.new(webhook.secret.encode(), garbage, hashlib.sha256).hexdigest()
    assert (
        await client.post(path, content=garbage, headers={"x-apple-signature": signed})
    ).status_code == 400
    unknown = b'{"data":{"type":"somethingAppleAddsLater","id":"e-2","version":1}}'
    signed = "hmacsha256=" + hmac.new(webhook.secret.encode(), unknown, hashlib.sha256).hexdigest()
    later = await client.post(path, content=unknown, headers={"x-apple-signature": signed})
    assert later.status_code == 200 and later.json()["refreshed"] == []
    # `orchard keys rotate` re-encrypts the webhook secrets and the receiver token.
    old_key = (app.state.settings.data_dir / KEY_FILE_NAME).read_text().strip().encode()
    new_key = Fernet.generate_key()
    async with app.state.sessionmaker() as session, session.begin():
        assert await service.rotate_encryption(session, CredentialCipher([new_key, old_key])) == 4
    only_new = CredentialCipher([new_key])
    stored = await db.fetch("SELECT app_apple_id, encrypted_secret FROM apple_webhooks")
    secrets_by_app = {w.app_id: w.secret for w in hub.webhooks.values()}
    assert {r["app_apple_id"]: only_new.decrypt(r["encrypted_secret"]) for r in stored} == (
        secrets_by_app
    )
    # Unlinking removes Orchard's webhooks at Apple before the key is destroyed.
    unlinked = await client.delete(f"/v1/accounts/{account_id}", headers=tenant.headers())
    assert unlinked.status_code == 204
    assert hub.webhooks == {}
    assert await db.fetchval("SELECT count(*) FROM apple_webhooks") == 0
    gone = await client.post(path, content=unknown, headers={"x-apple-signature": signed})
    assert gone.status_code == 404


async def test_without_the_role_webhooks_are_off_and_say_why(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    sandbox: SandboxState,
    hub: WebhookHub,
    db: asyncpg.Connection,
) -> None:
    account_id = await _linked(client, tenant, db, sandbox.add_key(roles=("DEVELOPER",)))
    await drain(app, plan=True)
    state = await _account(client, tenant, account_id)
    assert state["state"] == "off" and state["reason"] == NO_ROLE
    assert state["registered_apps"] == [] and not hub.webhooks
    status = await client.get(f"/v1/accounts/{account_id}/sync-status", headers=tenant.headers())
    apps = next(e for e in status.json()["items"] if e["dataset"] == "app_versions")
    assert apps["state"] == "ok"  # polling goes on

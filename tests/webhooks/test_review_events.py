"""Done when: a service subscribed to ``review.created`` learns of a new review right after
Orchard syncs it, verifies the signature with an off-the-shelf library, and gets edits and
published replies too. The sandbox runs on a fake clock so reviews arrive when a test says."""

from __future__ import annotations

import uuid

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from standardwebhooks import Webhook

from app.sandbox.catalog import team_apps
from app.sandbox.review_ledger import ledger
from app.sandbox.reviews import visible_reviews
from app.sandbox.state import SandboxState, utc_now
from tests.fixtures.accounts import Tenant, link_account
from tests.reviews.helpers import NOW, FakeClock, sync_apps, sync_reviews
from tests.webhooks.helpers import FakeDns, Receiver, dispatcher, make_sender, subscribe


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
def sandbox(clock: FakeClock) -> SandboxState:
    state = SandboxState(seed=7, clock=clock)
    state.token_clock = utc_now
    return state


async def test_a_subscriber_learns_of_new_reviews_edits_and_published_replies(
    hooked: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    sandbox: SandboxState,
    clock: FakeClock,
    receiver: Receiver,
    dns: FakeDns,
    db: asyncpg.Connection,
) -> None:
    key = sandbox.add_key(roles=("ADMIN",))
    target = max(
        team_apps(key.team), key=lambda a: len(visible_reviews(sandbox, key.team, a, clock.now))
    )
    account_id = await link_account(client, tenant, key, vendor=False)
    await sync_apps(hooked, account_id, clock.now)
    hook = await subscribe(
        client,
        tenant,
        "/crm",
        ["review.created", "review.updated", "review.response.published"],
    )
    worker = dispatcher(hooked, make_sender(receiver, dns))

    await sync_reviews(hooked, account_id, target.id, clock.now)  # the app's history
    assert await db.fetchval("SELECT count(*) FROM customer_reviews") > 0
    assert await worker.run_once() == 0 and receiver.requests == []

    clock.advance(days=20)  # new reviews arrive at Apple
    known = {r["apple_id"] for r in await db.fetch("SELECT apple_id FROM customer_reviews")}
    await sync_reviews(hooked, account_id, target.id, clock.now)
    new = {
        r["apple_id"]: r["id"]
        for r in await db.fetch("SELECT apple_id, id FROM customer_reviews")
        if r["apple_id"] not in known
    }
    assert new, "the sandbox served no new reviews"
    await worker.run_once()
    created = receiver.on("/crm")
    assert len(created) == len(new)
    for request in created:
        payload = Webhook(hook["secret"]).verify(request.body, request.headers)
        assert payload["type"] == "review.created"
        review = (
            await client.get(f"/v1/reviews/{payload['data']['id']}", headers=tenant.headers())
        ).json()
        assert payload["data"] == review
    assert {uuid.UUID(r.payload["data"]["id"]) for r in created} == set(new.values())
    stamps = [r.payload["data"]["created_at"] for r in created]
    assert stamps == sorted(stamps)  # oldest first

    # A customer edits one; Orchard's reply to another gets published 12 hours later.
    edited, replied = sorted(new)[:2]
    ledger(sandbox).edit(edited, clock.now, rating=1, title="Changed", body="Broken now.")
    review_id = new[replied]
    put = await client.put(
        f"/v1/reviews/{review_id}/response", json={"body": "Thanks!"}, headers=tenant.headers()
    )
    assert put.status_code == 200, put.text
    assert put.json()["state"] == "PENDING_PUBLISH"
    clock.advance(hours=13)
    await sync_reviews(hooked, account_id, target.id, clock.now)
    await worker.run_once()
    later = receiver.on("/crm")[len(created) :]
    kinds = {(r.payload["type"], r.payload["data"]["apple_id"]) for r in later}
    assert kinds == {("review.updated", edited), ("review.response.published", replied)}
    [published] = [r for r in later if r.payload["type"] == "review.response.published"]
    assert published.payload["data"]["response"]["state"] == "PUBLISHED"
    assert published.payload["data"]["response"]["body"] == "Thanks!"

    # A sync that changes nothing sends nothing.
    await sync_reviews(hooked, account_id, target.id, clock.now)
    assert await worker.run_once() == 0
    assert (
        await db.fetchval("SELECT count(*) FROM webhook_deliveries WHERE state <> 'succeeded'") == 0
    )


async def test_without_a_subscriber_nothing_is_stored(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    sandbox: SandboxState,
    clock: FakeClock,
    db: asyncpg.Connection,
) -> None:
    key = sandbox.add_key(roles=("ADMIN",))
    target = team_apps(key.team)[0]
    account_id = await link_account(client, tenant, key, vendor=False)
    await sync_apps(app, account_id, clock.now)
    await sync_reviews(app, account_id, target.id, clock.now)
    clock.advance(days=3)
    await sync_reviews(app, account_id, target.id, clock.now)
    assert await db.fetchval("SELECT count(*) FROM webhook_events") == 0


async def test_a_reply_apple_publishes_at_once_is_announced_by_the_write(
    hooked: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    sandbox: SandboxState,
    clock: FakeClock,
    db: asyncpg.Connection,
) -> None:
    sandbox.fidelity.set(reply_publish_hours=0)
    key = sandbox.add_key(roles=("ADMIN",))
    target = team_apps(key.team)[0]
    account_id = await link_account(client, tenant, key, vendor=False)
    await sync_apps(hooked, account_id, clock.now)
    await sync_reviews(hooked, account_id, target.id, clock.now)
    await subscribe(client, tenant, "/crm", ["review.response.published"])
    review_id = await db.fetchval(
        "SELECT id FROM customer_reviews WHERE response_body IS NULL ORDER BY id LIMIT 1"
    )
    put = await client.put(
        f"/v1/reviews/{review_id}/response", json={"body": "Fixed!"}, headers=tenant.headers()
    )
    assert put.status_code == 200 and put.json()["state"] == "PUBLISHED", put.text
    [body] = await db.fetch("SELECT body FROM webhook_events")
    assert '"type":"review.response.published"' in body["body"]
    assert f'"id":"{review_id}"' in body["body"] and '"body":"Fixed!"' in body["body"]

"""Delivering: Standard Webhooks signatures checked with the library itself, the retry
schedule on a fake clock, at-least-once with one success, order per endpoint, 410, the
failing span, redirects, timeouts, the deliveries list and retries."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from app.webhooks.schedule import MAX_ATTEMPTS, RETRY_DELAYS
from tests.fixtures.accounts import Tenant
from tests.webhooks.helpers import (
    FakeClock,
    FakeDns,
    Receiver,
    dispatcher,
    emit,
    make_sender,
    subscribe,
)

REVIEW = {"id": "r1", "rating": 5}


async def test_signatures_verify_with_the_standard_webhooks_library(
    hooked: FastAPI, client: httpx.AsyncClient, tenant: Tenant, receiver: Receiver, dns: FakeDns
) -> None:
    created = await subscribe(client, tenant, "/a", ["review.created"])
    event_id = await emit(hooked, tenant, "review.created", REVIEW)
    assert await dispatcher(hooked, make_sender(receiver, dns)).run_once() == 1
    [request] = receiver.on("/a")
    payload = Webhook(created["secret"]).verify(request.body, request.headers)
    assert payload == request.payload
    assert request.headers["webhook-id"] == payload["id"] == str(event_id)
    assert payload["type"] == "review.created" and payload["data"] == REVIEW
    assert payload["workspace_id"] == str(tenant.workspace_id)
    assert request.headers["content-type"] == "application/json"
    tampered = request.body.replace(b'"rating":5', b'"rating":1')
    with pytest.raises(WebhookVerificationError):
        Webhook(created["secret"]).verify(tampered, request.headers)


async def test_a_rotated_secret_signs_beside_the_old_one_for_the_grace_period(
    hooked: FastAPI, client: httpx.AsyncClient, tenant: Tenant, receiver: Receiver, dns: FakeDns
) -> None:
    created = await subscribe(client, tenant, "/a", ["*"])
    rotated = await client.post(
        f"/v1/webhooks/{created['id']}/rotate-secret", headers=tenant.headers()
    )
    assert rotated.status_code == 200
    new_secret = rotated.json()["secret"]
    assert new_secret != created["secret"] and rotated.json()["previous_secret_expires_at"]
    await emit(hooked, tenant, "review.created", REVIEW)
    await dispatcher(hooked, make_sender(receiver, dns)).run_once()
    request = receiver.on("/a")[-1]
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    for secret in (created["secret"], new_secret):
        Webhook(secret).verify(request.body, request.headers)
    # A rotation without grace: only the newest secret signs.
    again = await client.post(
        f"/v1/webhooks/{created['id']}/rotate-secret",
        json={"grace_seconds": 0},
        headers=tenant.headers(),
    )
    newest = again.json()["secret"]
    await emit(hooked, tenant, "review.created", REVIEW)
    await dispatcher(hooked, make_sender(receiver, dns)).run_once()
    request = receiver.on("/a")[-1]
    assert len(request.headers["webhook-signature"].split(" ")) == 1
    Webhook(newest).verify(request.body, request.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret).verify(request.body, request.headers)


async def _delivery(db: asyncpg.Connection) -> asyncpg.Record:
    row: asyncpg.Record = await db.fetchrow("SELECT * FROM webhook_deliveries")
    return row


async def test_retries_follow_the_schedule_then_the_delivery_fails(
    hooked: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    receiver: Receiver,
    dns: FakeDns,
    db: asyncpg.Connection,
) -> None:
    await subscribe(client, tenant, "/down", ["review.created"])
    receiver.answer("/down", *[503] * 20)
    await emit(hooked, tenant, "review.created", REVIEW)
    clock = FakeClock()
    started = clock.now
    worker = dispatcher(
        hooked, make_sender(receiver, dns), clock, disable_after=dt.timedelta(days=30)
    )
    waits = []
    for attempt in range(1, MAX_ATTEMPTS + 1):
        assert await worker.run_once() == 1, attempt
        row = await _delivery(db)
        assert row["attempts"] == attempt and row["last_status_code"] == 503
        if attempt < MAX_ATTEMPTS:
            assert row["state"] == "pending"
            waits.append(row["next_attempt_at"] - clock.now)
            clock.advance(waits[-1] - dt.timedelta(seconds=1))
            assert await worker.run_once() == 0  # not due yet: nothing is sent early
            clock.advance(dt.timedelta(seconds=1))
    assert waits == list(RETRY_DELAYS)
    row = await _delivery(db)
    assert row["state"] == "failed" and row["finished_at"] == clock.now
    span = clock.now - started
    assert dt.timedelta(hours=23) < span < dt.timedelta(hours=24)
    clock.advance(dt.timedelta(days=2))
    assert await worker.run_once() == 0
    assert len(receiver.on("/down")) == MAX_ATTEMPTS
    assert len({r.headers["webhook-id"] for r in receiver.on("/down")}) == 1


def test_jitter_stays_within_ten_percent_and_honours_retry_after() -> None:
    import random

    from app.webhooks.schedule import retry_delay

    rng = random.Random(1)
    for attempts, base in enumerate(RETRY_DELAYS, start=1):
        for _ in range(50):
            delay = retry_delay(attempts, rng)
            assert delay is not None and base * 0.9 <= delay <= base * 1.1
    assert retry_delay(1, rng, dt.timedelta(minutes=3)) == dt.timedelta(minutes=3)
    assert retry_delay(1, rng, dt.timedelta(days=3)) == dt.timedelta(hours=8)
    assert retry_delay(MAX_ATTEMPTS, rng) is None


async def test_a_receiver_failing_three_times_then_succeeding_gets_exactly_one_success(
    hooked: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    receiver: Receiver,
    dns: FakeDns,
    db: asyncpg.Connection,
) -> None:
    created = await subscribe(client, tenant, "/flaky", ["review.created"])
    receiver.answer("/flaky", 500, 502, (429, {"Retry-After": "120"}, "slow down"))
    event_id = await emit(hooked, tenant, "review.created", REVIEW)
    clock = FakeClock()
    worker = dispatcher(hooked, make_sender(receiver, dns), clock)
    for _ in range(10):  # well past a day of retries
        await worker.run_once()
        clock.advance(dt.timedelta(hours=3))
    requests = receiver.on("/flaky")
    assert [r.status for r in requests] == [500, 502, 429, 200]
    assert {r.headers["webhook-id"] for r in requests} == {str(event_id)}
    assert len(receiver.ok("/flaky")) == 1
    row = await _delivery(db)
    assert (row["state"], row["attempts"], row["last_status_code"]) == ("succeeded", 4, 200)
    listed = await client.get(f"/v1/webhooks/{created['id']}/deliveries", headers=tenant.headers())
    [item] = listed.json()["items"]
    assert item["state"] == "succeeded" and item["attempts"] == 4
    assert item["next_attempt_at"] is None and item["latency_ms"] is not None


async def test_each_endpoint_gets_its_events_in_order_one_at_a_time(
    hooked: FastAPI, client: httpx.AsyncClient, tenant: Tenant, receiver: Receiver, dns: FakeDns
) -> None:
    await subscribe(client, tenant, "/ordered", ["review.created"])
    receiver.answer("/ordered", 500)  # the first event fails once
    ids = [await emit(hooked, tenant, "review.created", {"n": n}) for n in range(5)]
    clock = FakeClock()
    worker = dispatcher(hooked, make_sender(receiver, dns), clock)
    await worker.run_once()
    assert [r.payload["data"]["n"] for r in receiver.on("/ordered")] == [0]  # the rest waits
    clock.advance(dt.timedelta(seconds=10))
    await worker.run_once()
    delivered = [r.headers["webhook-id"] for r in receiver.ok("/ordered")]
    assert delivered == [str(i) for i in ids]


async def test_a_slow_receiver_does_not_hold_up_the_others(
    hooked: FastAPI, client: httpx.AsyncClient, tenant: Tenant, receiver: Receiver, dns: FakeDns
) -> None:
    await subscribe(client, tenant, "/slow", ["review.created"])
    await subscribe(client, tenant, "/fast", ["review.created"])
    receiver.gates["/slow"] = gate = asyncio.Event()
    for n in range(3):
        await emit(hooked, tenant, "review.created", {"n": n})
    worker = dispatcher(hooked, make_sender(receiver, dns), poll_seconds=0.01)
    stopping = asyncio.Event()
    running = asyncio.create_task(worker.run_until(stopping))
    try:
        async with asyncio.timeout(20):
            while len(receiver.ok("/fast")) < 3:
                await asyncio.sleep(0.01)
        assert receiver.on("/slow") == []  # still stuck on its first event
        gate.set()
        async with asyncio.timeout(20):
            while len(receiver.ok("/slow")) < 3:
                await asyncio.sleep(0.01)
    finally:
        gate.set()
        stopping.set()
        await running


async def test_410_disables_the_endpoint_at_once_with_a_notice(
    hooked: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    receiver: Receiver,
    dns: FakeDns,
    db: asyncpg.Connection,
) -> None:
    gone = await subscribe(client, tenant, "/gone", ["review.created"])
    watcher = await subscribe(client, tenant, "/watch", ["webhook.disabled"])
    receiver.answer("/gone", 410)
    await emit(hooked, tenant, "review.created", REVIEW)
    await emit(hooked, tenant, "review.created", REVIEW)
    await dispatcher(hooked, make_sender(receiver, dns)).run_once()
    assert len(receiver.on("/gone")) == 1
    endpoint = (await client.get(f"/v1/webhooks/{gone['id']}", headers=tenant.headers())).json()
    assert (endpoint["state"], endpoint["disabled_reason"]) == ("disabled", "gone")
    states = [
        r["state"]
        for r in await db.fetch(
            "SELECT state FROM webhook_deliveries WHERE endpoint_id = $1 ORDER BY seq",
            uuid.UUID(gone["id"]),
        )
    ]
    assert states == ["failed", "pending"]  # the next one waits for a re-enable
    feed = (await client.get("/v1/events", headers=tenant.headers())).json()["items"]
    [notice] = [e for e in feed if e["type"] == "webhook_disabled"]
    assert notice["subject"] == {"type": "webhook", "id": gone["id"], "apple_id": None}
    assert notice["account_id"] is None and notice["details"]["reason"] == "gone"
    [told] = receiver.on("/watch")
    assert told.payload["type"] == "webhook.disabled"
    assert told.payload["data"]["id"] == notice["id"] == told.headers["webhook-id"]
    assert watcher["id"] != gone["id"]
    # Re-enabled, it gets what was waiting.
    await client.patch(
        f"/v1/webhooks/{gone['id']}", json={"enabled": True}, headers=tenant.headers()
    )
    await dispatcher(hooked, make_sender(receiver, dns)).run_once()
    assert [r.status for r in receiver.on("/gone")] == [410, 200]


async def test_an_endpoint_failing_for_the_whole_span_is_disabled(
    hooked: FastAPI, client: httpx.AsyncClient, tenant: Tenant, receiver: Receiver, dns: FakeDns
) -> None:
    created = await subscribe(client, tenant, "/dead", ["*"])
    receiver.answer("/dead", *[500] * 20)
    await emit(hooked, tenant, "review.created", REVIEW)
    clock = FakeClock()
    worker = dispatcher(
        hooked, make_sender(receiver, dns), clock, disable_after=dt.timedelta(minutes=30)
    )
    for _ in range(5):
        await worker.run_once()
        clock.advance(dt.timedelta(minutes=31))
    endpoint = (await client.get(f"/v1/webhooks/{created['id']}", headers=tenant.headers())).json()
    assert (endpoint["state"], endpoint["disabled_reason"]) == ("disabled", "failing")
    # The first attempt failed; the next one, 31 minutes later, failed too: disabled there.
    assert len(receiver.on("/dead")) == 2
    feed = (await client.get("/v1/events", headers=tenant.headers())).json()["items"]
    assert [e["details"]["reason"] for e in feed if e["type"] == "webhook_disabled"] == ["failing"]


async def test_redirects_are_failures_and_are_not_followed(
    hooked: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    receiver: Receiver,
    dns: FakeDns,
    db: asyncpg.Connection,
) -> None:
    await subscribe(client, tenant, "/moved", ["review.created"])
    receiver.answer("/moved", (307, {"Location": "https://hooks.example.com/elsewhere"}, ""))
    await emit(hooked, tenant, "review.created", REVIEW)
    await dispatcher(hooked, make_sender(receiver, dns)).run_once()
    assert [r.path for r in receiver.requests] == ["/moved"]
    row = await _delivery(db)
    assert row["state"] == "pending" and row["last_status_code"] == 307
    assert "redirects are not followed" in row["last_error"]


async def test_a_receiver_that_does_not_answer_in_time_is_a_failure(
    hooked: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    receiver: Receiver,
    dns: FakeDns,
    db: asyncpg.Connection,
) -> None:
    await subscribe(client, tenant, "/hang", ["review.created"])
    receiver.gates["/hang"] = asyncio.Event()  # never opens
    await emit(hooked, tenant, "review.created", REVIEW)
    await dispatcher(hooked, make_sender(receiver, dns, timeout=0.2)).run_once()
    row = await _delivery(db)
    assert row["state"] == "pending" and row["last_status_code"] is None
    assert row["last_error"] == "no answer within 0.2 s"


async def test_deliveries_list_truncates_answers_and_retry_sends_again(
    hooked: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    receiver: Receiver,
    dns: FakeDns,
) -> None:
    created = await subscribe(client, tenant, "/a", ["review.created"])
    receiver.answer("/a", (410, {}, "x" * 5000))
    event_id = await emit(hooked, tenant, "review.created", REVIEW)
    await dispatcher(hooked, make_sender(receiver, dns)).run_once()
    base = f"/v1/webhooks/{created['id']}"
    [item] = (await client.get(f"{base}/deliveries", headers=tenant.headers())).json()["items"]
    assert item["state"] == "failed" and item["response_status_code"] == 410
    assert item["response_body"] == "x" * 1024 and item["event_id"] == str(event_id)
    assert created["secret"] not in str(item)
    detail = await client.get(f"{base}/deliveries/{item['id']}", headers=tenant.headers())
    assert detail.json()["payload"]["data"] == REVIEW
    refused = await client.post(f"{base}/deliveries/{item['id']}/retry", headers=tenant.headers())
    assert refused.status_code == 409  # 410 disabled the webhook
    await client.patch(base, json={"enabled": True}, headers=tenant.headers())
    retried = await client.post(f"{base}/deliveries/{item['id']}/retry", headers=tenant.headers())
    assert retried.status_code == 202 and retried.json()["state"] == "pending"
    await dispatcher(hooked, make_sender(receiver, dns)).run_once()
    assert [r.headers["webhook-id"] for r in receiver.on("/a")] == [str(event_id)] * 2
    again = (await client.get(f"{base}/deliveries", headers=tenant.headers())).json()["items"]
    assert again[0]["state"] == "succeeded" and again[0]["manual_retries"] == 1


async def test_a_test_ping_is_sent_now_and_listed(
    hooked: FastAPI, client: httpx.AsyncClient, tenant: Tenant, receiver: Receiver
) -> None:
    created = await subscribe(client, tenant, "/a", ["review.created"])
    response = await client.post(f"/v1/webhooks/{created['id']}/test", headers=tenant.headers())
    assert response.status_code == 200, response.text
    assert response.json()["state"] == "succeeded"
    assert response.json()["event_type"] == "webhook.ping"
    [request] = receiver.on("/a")
    payload = Webhook(created["secret"]).verify(request.body, request.headers)
    assert payload["type"] == "webhook.ping" and payload["data"]["webhook_id"] == created["id"]
    listed = await client.get(f"/v1/webhooks/{created['id']}/deliveries", headers=tenant.headers())
    assert [i["event_type"] for i in listed.json()["items"]] == ["webhook.ping"]


async def test_paused_endpoints_and_filters_receive_nothing_they_did_not_ask_for(
    hooked: FastAPI, client: httpx.AsyncClient, tenant: Tenant, receiver: Receiver, dns: FakeDns
) -> None:
    paused = await subscribe(client, tenant, "/paused", ["*"])
    await client.patch(
        f"/v1/webhooks/{paused['id']}", json={"enabled": False}, headers=tenant.headers()
    )
    await subscribe(client, tenant, "/builds", ["build.expired"])
    await emit(hooked, tenant, "review.created", REVIEW)
    await dispatcher(hooked, make_sender(receiver, dns)).run_once()
    assert receiver.requests == []

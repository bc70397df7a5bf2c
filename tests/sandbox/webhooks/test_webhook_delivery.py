"""Deliveries (WEBHOOKS §4–§6): signature recomputed from §5, ping, deliveries listing against
the spec, redelivery, retries on a failing receiver, and the duplicate / bad-signature /
out-of-order knobs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import httpx
import pytest

from app.sandbox import SandboxKey
from app.sandbox.catalog import SandboxApp
from app.sandbox.webhooks.events import apple_signature, format_timestamp, parse_timestamp
from app.sandbox.webhooks.hub import WebhookHub
from app.sandbox.webhooks.model import ASN_V2_RETRIES
from tests.sandbox.conftest import FakeClock
from tests.sandbox.helpers import assert_error, assert_matches_spec, response_schema_ref, validator
from tests.sandbox.webhooks.conftest import SECRET, CreateWebhook, Receiver, expected_signature

AnyHeaders = Callable[..., dict[str, str]]
VERSION_EVENT = "APP_STORE_VERSION_APP_VERSION_STATE_UPDATED"
#: Never emitted by the generated catalogue: only pings reach a webhook subscribed to it.
QUIET = ["BACKGROUND_ASSET_VERSION_STATE_UPDATED"]


def test_apple_signature_test_vector() -> None:
    # WEBHOOKS §5: Apple's own example.
    assert apple_signature("This is my secret", b"Hello, World!") == (
        "hmacsha256=7f062172b01cb00b53ca068614674a3d982a34062a0f5d37687d5e3377e54657"
    )


@pytest.mark.parametrize("digits", [0, 2, 3, 6, 9])
def test_timestamps_with_any_fraction_round_trip(digits: int) -> None:
    moment = parse_timestamp("2025-05-16T20:53:20.729123Z")
    text = format_timestamp(moment, digits)
    assert len(text.split(".")[1]) == digits + 1 if digits else "." not in text
    assert parse_timestamp(text) <= moment


async def ping(client: httpx.AsyncClient, headers: dict[str, str], webhook_id: str) -> str:
    body = {
        "data": {
            "type": "webhookPings",
            "relationships": {"webhook": {"data": {"type": "webhooks", "id": webhook_id}}},
        }
    }
    response = await client.post("/v1/webhookPings", json=body, headers=headers)
    assert response.status_code == 201, response.text
    validator(response_schema_ref("/v1/webhookPings", 201, method="post")).validate(response.json())
    ping_id: str = response.json()["data"]["id"]
    return ping_id


async def test_ping_is_signed_over_the_raw_body_and_listed_as_a_delivery(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    hub: WebhookHub,
    receiver: Receiver,
    create_webhook: CreateWebhook,
    app0: SandboxApp,
) -> None:
    webhook = await create_webhook(app0.id, url="https://orchard.test/hooks/one")
    ping_id = await ping(client, admin_headers, webhook["id"])
    attempts = await hub.deliver_due()
    assert [a.status for a in attempts] == [200]
    [request] = receiver.requests
    assert request.path == "/hooks/one"
    assert request.headers["x-apple-signature"] == expected_signature(SECRET, request.body)
    assert request.headers["content-type"] == "application/json"
    assert "authorization" not in request.headers  # WEBHOOKS §5
    assert request.payload == {
        "data": {
            "type": "webhookPingCreated",
            "id": ping_id,
            "version": 1,
            "attributes": {"timestamp": request.data["attributes"]["timestamp"]},
        }
    }

    path = f"/v1/webhooks/{webhook['id']}/deliveries"
    listing = await client.get(path, params={"include": "event"}, headers=admin_headers)
    assert_matches_spec(listing.json(), "/v1/webhooks/{id}/deliveries")
    [delivery] = listing.json()["data"]
    attributes = delivery["attributes"]
    assert attributes["deliveryState"] == "SUCCEEDED"
    assert attributes["request"] == {"url": "https://orchard.test/hooks/one"}
    assert attributes["response"] == {"httpStatusCode": 200, "body": "ok"}
    assert attributes["redelivery"] is False
    [event] = listing.json()["included"]
    assert event["attributes"]["ping"] is True and "eventType" not in event["attributes"]
    assert event["attributes"]["payload"] == request.body.decode()

    ids = await client.get(
        f"/v1/webhooks/{webhook['id']}/relationships/deliveries", headers=admin_headers
    )
    assert_matches_spec(ids.json(), "/v1/webhooks/{id}/relationships/deliveries")
    assert ids.json()["data"] == [{"type": "webhookDeliveries", "id": delivery["id"]}]


async def test_failing_receiver_is_retried_on_the_clock_then_succeeds(
    client: httpx.AsyncClient,
    headers_for: AnyHeaders,
    admin_key: SandboxKey,
    hub: WebhookHub,
    receiver: Receiver,
    clock: FakeClock,
    create_webhook: CreateWebhook,
    app0: SandboxApp,
) -> None:
    webhook = await create_webhook(app0.id, eventTypes=QUIET)
    await ping(client, headers_for(admin_key), webhook["id"])
    receiver.statuses = [500, 503]
    assert [a.status for a in await hub.deliver_due()] == [500]
    [delivery] = hub.deliveries.values()
    assert delivery.state == "FAILED"
    assert delivery.next_attempt_at == clock.now + ASN_V2_RETRIES[0]

    clock.advance(minutes=59)
    assert await hub.deliver_due() == []  # not due yet
    clock.advance(minutes=1)
    assert [a.status for a in await hub.deliver_due()] == [503]
    clock.advance(hours=12)
    assert [a.status for a in await hub.deliver_due()] == [200]
    assert str(delivery.state) == "SUCCEEDED" and delivery.next_attempt_at is None
    assert len({r.body for r in receiver.requests}) == 1  # the same bytes every time

    headers = headers_for(admin_key)
    path = f"/v1/webhooks/{webhook['id']}/deliveries"
    failed = await client.get(path, params={"filter[deliveryState]": "FAILED"}, headers=headers)
    assert failed.json()["data"] == []


async def test_without_retries_a_failure_stays_failed_and_redelivery_resends(
    client: httpx.AsyncClient,
    headers_for: AnyHeaders,
    admin_key: SandboxKey,
    hub: WebhookHub,
    receiver: Receiver,
    clock: FakeClock,
    create_webhook: CreateWebhook,
    app0: SandboxApp,
) -> None:
    hub.options.retry_schedule = ()
    webhook = await create_webhook(app0.id, eventTypes=QUIET)
    await ping(client, headers_for(admin_key), webhook["id"])
    receiver.statuses = [500]
    await hub.deliver_due()
    clock.advance(days=5)
    assert await hub.deliver_due() == []

    headers = headers_for(admin_key)
    path = f"/v1/webhooks/{webhook['id']}/deliveries"
    failed = await client.get(path, params={"filter[deliveryState]": "FAILED"}, headers=headers)
    [original] = failed.json()["data"]
    assert original["attributes"]["response"]["httpStatusCode"] == 500
    assert original["attributes"]["errorMessage"]

    body = {
        "data": {
            "type": "webhookDeliveries",
            "relationships": {
                "template": {"data": {"type": "webhookDeliveries", "id": original["id"]}}
            },
        }
    }
    created = await client.post("/v1/webhookDeliveries", json=body, headers=headers)
    assert created.status_code == 201, created.text
    validator(response_schema_ref("/v1/webhookDeliveries", 201, method="post")).validate(
        created.json()
    )
    assert created.json()["data"]["attributes"]["redelivery"] is True
    assert created.json()["data"]["attributes"]["deliveryState"] == "PENDING"
    await hub.deliver_due()
    first, second = receiver.requests
    assert first.body == second.body  # same data.id by default (unconfirmed, WEBHOOKS §5)

    unknown = {
        "data": {
            **body["data"],
            "relationships": {"template": {"data": {"type": "webhookDeliveries", "id": "nope"}}},
        }
    }
    assert_error(
        await client.post("/v1/webhookDeliveries", json=unknown, headers=headers),
        409,
        "ENTITY_ERROR.RELATIONSHIP.INVALID",
    )


async def test_redelivery_variant_with_a_new_event_id_and_no_flag(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    hub: WebhookHub,
    receiver: Receiver,
    create_webhook: CreateWebhook,
    app0: SandboxApp,
) -> None:
    hub.options.redelivery_keeps_event_id = False
    hub.options.redelivery_flag = False
    webhook = await create_webhook(app0.id)
    await ping(client, admin_headers, webhook["id"])
    await hub.deliver_due()
    [template] = hub.deliveries
    body = {
        "data": {
            "type": "webhookDeliveries",
            "relationships": {"template": {"data": {"type": "webhookDeliveries", "id": template}}},
        }
    }
    created = await client.post("/v1/webhookDeliveries", json=body, headers=admin_headers)
    assert created.json()["data"]["attributes"]["redelivery"] is False
    await hub.deliver_due()
    first, second = receiver.requests
    assert first.data["id"] != second.data["id"]
    assert first.data["attributes"] == second.data["attributes"]
    assert second.headers["x-apple-signature"] == expected_signature(SECRET, second.body)


@pytest.mark.parametrize(
    ("mode", "header"),
    [
        ("wrong_secret", lambda body: expected_signature(SECRET + "-not-the-secret", body)),
        ("no_prefix", lambda body: expected_signature(SECRET, body).removeprefix("hmacsha256=")),
        ("missing", lambda body: None),
    ],
)
async def test_bad_signature_knob(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    hub: WebhookHub,
    receiver: Receiver,
    create_webhook: CreateWebhook,
    app0: SandboxApp,
    mode: str,
    header: Callable[[bytes], str | None],
) -> None:
    hub.options.signature = mode  # type: ignore[assignment]
    webhook = await create_webhook(app0.id)
    await ping(client, admin_headers, webhook["id"])
    await hub.deliver_due()
    [request] = receiver.requests
    assert request.headers.get("x-apple-signature") == header(request.body)
    assert request.headers.get("x-apple-signature") != expected_signature(SECRET, request.body)


async def test_duplicate_knob_posts_the_same_delivery_twice(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    hub: WebhookHub,
    receiver: Receiver,
    create_webhook: CreateWebhook,
    app0: SandboxApp,
) -> None:
    hub.options.duplicates = True
    webhook = await create_webhook(app0.id)
    await ping(client, admin_headers, webhook["id"])
    attempts = await hub.deliver_due()
    assert [a.duplicate for a in attempts] == [False, True]
    first, second = receiver.requests
    assert first.body == second.body and first.headers == second.headers
    [delivery] = hub.deliveries.values()
    assert delivery.state == "SUCCEEDED" and len(delivery.attempts) == 2


async def test_out_of_order_knob_reverses_a_batch(
    client: httpx.AsyncClient,
    headers_for: AnyHeaders,
    admin_key: SandboxKey,
    hub: WebhookHub,
    receiver: Receiver,
    clock: FakeClock,
    create_webhook: CreateWebhook,
    app0: SandboxApp,
) -> None:
    await create_webhook(app0.id, eventTypes=[VERSION_EVENT])
    clock.advance(days=60)
    await hub.deliver_due()
    in_order = [parse_timestamp(r.data["attributes"]["timestamp"]) for r in receiver.requests]
    assert len(in_order) >= 3 and in_order == sorted(in_order)

    hub.options.out_of_order = True
    receiver.requests.clear()
    clock.advance(days=60)
    await hub.deliver_due()
    moments = [parse_timestamp(r.data["attributes"]["timestamp"]) for r in receiver.requests]
    assert len(moments) >= 3 and moments == sorted(moments, reverse=True)


async def test_a_receiver_that_cannot_be_reached_is_a_failed_delivery(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    hub: WebhookHub,
    create_webhook: CreateWebhook,
    app0: SandboxApp,
) -> None:
    async def unreachable(url: str, headers: object, body: bytes) -> int:
        raise ConnectionRefusedError("connection refused")

    hub.sender = unreachable
    webhook = await create_webhook(app0.id)
    await ping(client, admin_headers, webhook["id"])
    [attempt] = await hub.deliver_due()
    assert attempt.status is None and "refused" in (attempt.error or "")
    listing = await client.get(f"/v1/webhooks/{webhook['id']}/deliveries", headers=admin_headers)
    assert_matches_spec(listing.json(), "/v1/webhooks/{id}/deliveries")
    attributes = listing.json()["data"][0]["attributes"]
    assert attributes["deliveryState"] == "FAILED" and "response" not in attributes


async def test_disabled_or_deleted_webhooks_get_nothing(
    client: httpx.AsyncClient,
    headers_for: AnyHeaders,
    admin_key: SandboxKey,
    hub: WebhookHub,
    receiver: Receiver,
    clock: FakeClock,
    create_webhook: CreateWebhook,
    app0: SandboxApp,
) -> None:
    webhook = await create_webhook(app0.id, enabled=False)
    clock.advance(days=60)
    await hub.deliver_due()
    assert receiver.requests == []
    await client.delete(f"/v1/webhooks/{webhook['id']}", headers=headers_for(admin_key))
    clock.advance(days=60)
    await hub.deliver_due()
    assert receiver.requests == [] and hub.deliveries == {}


async def test_deliveries_filter_by_created_date_and_retention(
    client: httpx.AsyncClient,
    headers_for: AnyHeaders,
    admin_key: SandboxKey,
    hub: WebhookHub,
    clock: FakeClock,
    create_webhook: CreateWebhook,
    app0: SandboxApp,
) -> None:
    webhook = await create_webhook(app0.id)
    start = clock.now
    clock.advance(days=30)
    await hub.deliver_due()
    path = f"/v1/webhooks/{webhook['id']}/deliveries"
    headers = headers_for(admin_key)
    everything = (await client.get(path, params={"limit": "200"}, headers=headers)).json()
    total = everything["meta"]["paging"]["total"]
    assert total >= 3
    middle = (start + timedelta(days=15)).isoformat()
    early = await client.get(
        path, params={"filter[createdDateLessThan]": middle, "limit": "200"}, headers=headers
    )
    late = await client.get(
        path,
        params={"filter[createdDateGreaterThanOrEqualTo]": middle, "limit": "200"},
        headers=headers,
    )
    assert_matches_spec(late.json(), "/v1/webhooks/{id}/deliveries")
    assert len(early.json()["data"]) + len(late.json()["data"]) == total
    bad = await client.get(
        path, params={"filter[createdDateLessThan]": "yesterday"}, headers=headers
    )
    assert_error(bad, 400, "PARAMETER_ERROR.INVALID")

    hub.options.delivery_retention = timedelta(days=15)
    kept = (await client.get(path, params={"limit": "200"}, headers=headers)).json()
    assert kept["meta"]["paging"]["total"] == len(late.json()["data"])


@pytest.mark.parametrize("body_format", ["compact", "spaced", "indented"])
async def test_any_body_format_is_signed_as_sent(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    hub: WebhookHub,
    receiver: Receiver,
    create_webhook: CreateWebhook,
    app0: SandboxApp,
    body_format: str,
) -> None:
    hub.options.body_format = body_format  # type: ignore[assignment]
    hub.options.extra_headers = {"user-agent": "App Store Connect"}
    webhook = await create_webhook(app0.id)
    await ping(client, admin_headers, webhook["id"])
    await hub.deliver_due()
    [request] = receiver.requests
    assert request.headers["x-apple-signature"] == expected_signature(SECRET, request.body)
    assert request.headers["user-agent"] == "App Store Connect"
    assert (b"\n" in request.body) == (body_format == "indented")

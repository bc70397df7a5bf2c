"""Events from the evolving catalogue (WEBHOOKS §3–§4): version states, builds, feedback,
forced changes, synthetic events, and the payload variants served as options. Every change a
webhook reports must be what the ``/v1`` API shows."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from app.sandbox import SandboxKey
from app.sandbox.catalog import SandboxApp
from app.sandbox.releases import app_releases
from app.sandbox.webhooks.events import parse_timestamp
from app.sandbox.webhooks.hub import WebhookHub
from tests.sandbox.conftest import BASE_URL, NOW, FakeClock
from tests.sandbox.helpers import assert_matches_spec
from tests.sandbox.webhooks.conftest import SECRET, CreateWebhook, Receiver, expected_signature

AnyHeaders = Callable[..., dict[str, str]]


def moment(received: Any) -> datetime:
    return parse_timestamp(received.data["attributes"]["timestamp"])


async def version_states(
    client: httpx.AsyncClient, headers: dict[str, str], app_id: str
) -> dict[str, str]:
    response = await client.get(
        f"/v1/apps/{app_id}/appStoreVersions", params={"limit": "200"}, headers=headers
    )
    return {v["id"]: v["attributes"]["appVersionState"] for v in response.json()["data"]}


async def test_version_state_changes_arrive_as_the_clock_moves(
    client: httpx.AsyncClient,
    headers_for: AnyHeaders,
    admin_key: SandboxKey,
    hub: WebhookHub,
    receiver: Receiver,
    clock: FakeClock,
    create_webhook: CreateWebhook,
    app0: SandboxApp,
) -> None:
    await create_webhook(app0.id, eventTypes=["APP_STORE_VERSION_APP_VERSION_STATE_UPDATED"])
    clock.advance(days=60)
    await hub.deliver_due()
    expected = sorted(
        (at, item.version_id, state)
        for item in app_releases(admin_key.team, app0, clock.now)
        for at, state in item.moments()
        if NOW < at <= clock.now and at > item.created
    )
    events = receiver.of_type("appStoreVersionAppVersionStateUpdated")
    got = sorted(
        (
            moment(r),
            r.data["relationships"]["instance"]["data"]["id"],
            r.data["attributes"]["newValue"],
        )
        for r in events
    )
    assert got == expected and len(got) >= 3
    for request in events:
        assert request.headers["x-apple-signature"] == expected_signature(SECRET, request.body)
        assert request.data["version"] == 1
        assert set(request.data["attributes"]) == {"newValue", "oldValue", "timestamp"}
        assert request.data["relationships"]["instance"]["data"]["type"] == "appStoreVersions"

    latest: dict[str, str] = {}
    for request in sorted(events, key=moment):
        latest[request.data["relationships"]["instance"]["data"]["id"]] = request.data[
            "attributes"
        ]["newValue"]
    served = await version_states(client, headers_for(admin_key), app0.id)
    assert all(served[version_id] == state for version_id, state in latest.items())

    [webhook_id] = hub.webhooks
    deliveries = await client.get(
        f"/v1/webhooks/{webhook_id}/deliveries",
        params={"include": "event", "limit": "200"},
        headers=headers_for(admin_key),
    )
    assert_matches_spec(deliveries.json(), "/v1/webhooks/{id}/deliveries")
    assert {e["attributes"]["eventType"] for e in deliveries.json()["included"]} == {
        "APP_STORE_VERSION_APP_VERSION_STATE_UPDATED"
    }


async def test_forcing_a_version_state_emits_now_and_the_api_shows_it(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    hub: WebhookHub,
    receiver: Receiver,
    create_webhook: CreateWebhook,
    app0: SandboxApp,
) -> None:
    await create_webhook(app0.id)
    before = await version_states(client, admin_headers, app0.id)
    version_id = next(iter(before))  # newest first
    route = f"/sandbox/apps/{app0.id}/versions/{version_id}/state"
    forced = await client.post(route, json={"state": "DEVELOPER_REJECTED"})
    assert forced.status_code == 200, forced.text
    assert (
        forced.json()["event"]["payload"]["data"]["attributes"]["newValue"] == "DEVELOPER_REJECTED"
    )

    after = await version_states(client, admin_headers, app0.id)
    assert after[version_id] == "DEVELOPER_REJECTED"
    await hub.deliver_due()
    [request] = receiver.of_type("appStoreVersionAppVersionStateUpdated")
    attributes = request.data["attributes"]
    assert (attributes["oldValue"], attributes["newValue"]) == (
        before[version_id],
        "DEVELOPER_REJECTED",
    )
    assert request.data["relationships"]["instance"]["data"]["id"] == version_id

    again = await client.post(route, json={"state": "DEVELOPER_REJECTED"})
    assert again.json() == {"event": None}  # no change, no event
    unknown = await client.post(
        f"/sandbox/apps/{app0.id}/versions/nope/state", json={"state": "IN_REVIEW"}
    )
    assert unknown.status_code == 404
    bad = await client.post(route, json={"state": "ON_FIRE"})
    assert bad.status_code == 400


async def test_forced_state_yields_to_the_next_generated_step(
    client: httpx.AsyncClient,
    headers_for: AnyHeaders,
    admin_key: SandboxKey,
    hub: WebhookHub,
    receiver: Receiver,
    clock: FakeClock,
    create_webhook: CreateWebhook,
    app0: SandboxApp,
) -> None:
    await create_webhook(app0.id, eventTypes=["APP_STORE_VERSION_APP_VERSION_STATE_UPDATED"])
    item = app_releases(admin_key.team, app0, clock.now)[-1]
    hub.force_version_state(admin_key.team, app0, item.version_id, "METADATA_REJECTED")
    clock.advance(days=60)
    await hub.deliver_due()
    mine = sorted(
        (
            r
            for r in receiver.requests
            if r.data["relationships"]["instance"]["data"]["id"] == item.version_id
        ),
        key=moment,
    )
    assert mine[0].data["attributes"]["newValue"] == "METADATA_REJECTED"
    # The generated timeline resumed (the next release replaced it), from the forced state.
    assert mine[1].data["attributes"]["oldValue"] == "METADATA_REJECTED"


@pytest.mark.parametrize("old_state", [True, False])
async def test_build_upload_events_and_both_attribute_variants(
    client: httpx.AsyncClient,
    headers_for: AnyHeaders,
    admin_key: SandboxKey,
    hub: WebhookHub,
    receiver: Receiver,
    clock: FakeClock,
    create_webhook: CreateWebhook,
    app0: SandboxApp,
    old_state: bool,
) -> None:
    hub.options.build_upload_old_state = old_state  # WEBHOOKS §3: oldState/timestamp unconfirmed
    await create_webhook(app0.id, eventTypes=["BUILD_UPLOAD_STATE_UPDATED"])
    clock.advance(days=60)
    await hub.deliver_due()
    events = receiver.of_type("buildUploadStateUpdated")
    assert len(events) >= 2
    by_upload: dict[str, list[str]] = {}
    for request in events:
        instance = request.data["relationships"]["instance"]["data"]
        assert instance["type"] == "buildUploads"
        by_upload.setdefault(instance["id"], []).append(request.data["attributes"]["newState"])
        expected = {"newState", "oldState", "timestamp"} if old_state else {"newState"}
        assert set(request.data["attributes"]) == expected
    for states in by_upload.values():
        assert states[0] == "PROCESSING" and states[-1] in ("COMPLETE", "FAILED")


@pytest.mark.parametrize(
    ("values", "allowed"),
    [
        (
            "external_beta_state",
            {
                "PROCESSING",
                "WAITING_FOR_BETA_REVIEW",
                "BETA_APPROVED",
                "READY_FOR_BETA_SUBMISSION",
                "EXPIRED",
                "NOT_APPLICABLE",
                "PROCESSING_EXCEPTION",
                "IN_BETA_TESTING",
            },
        ),
        (
            "early_doc_example",
            {
                "PROCESSING",
                "READY_FOR_REVIEW",
                "ACCEPTED",
                "PREPARE_FOR_SUBMISSION",
                "EXPIRED",
                "NOT_APPLICABLE",
                "PROCESSING_EXCEPTION",
                "IN_BETA_TESTING",
            },
        ),
    ],
)
async def test_external_build_state_events_match_the_served_beta_detail(
    client: httpx.AsyncClient,
    headers_for: AnyHeaders,
    admin_key: SandboxKey,
    hub: WebhookHub,
    receiver: Receiver,
    clock: FakeClock,
    create_webhook: CreateWebhook,
    app0: SandboxApp,
    values: str,
    allowed: set[str],
) -> None:
    hub.options.external_state_values = values  # type: ignore[assignment]
    await create_webhook(app0.id, eventTypes=["BUILD_BETA_DETAIL_EXTERNAL_BUILD_STATE_UPDATED"])
    clock.advance(days=60)
    await hub.deliver_due()
    events = sorted(receiver.of_type("buildBetaDetailExternalBuildStateUpdated"), key=moment)
    assert len(events) >= 2
    latest = {}
    for request in events:
        attributes = request.data["attributes"]
        assert {attributes["oldExternalBuildState"], attributes["newExternalBuildState"]} <= allowed
        latest[request.data["relationships"]["instance"]["data"]["id"]] = attributes[
            "newExternalBuildState"
        ]
    if values != "external_beta_state":
        return
    builds = await client.get(
        "/v1/builds",
        params={"filter[app]": app0.id, "include": "buildBetaDetail", "limit": "200"},
        headers=headers_for(admin_key),
    )
    served = {
        d["id"]: d["attributes"]["externalBuildState"]
        for d in builds.json().get("included", [])
        if d["type"] == "buildBetaDetails"
    }
    assert any(detail in served for detail in latest)
    assert all(served[d] == state for d, state in latest.items() if d in served)


async def test_new_feedback_emits_events_for_fetchable_submissions(
    client: httpx.AsyncClient,
    headers_for: AnyHeaders,
    admin_key: SandboxKey,
    hub: WebhookHub,
    receiver: Receiver,
    clock: FakeClock,
    create_webhook: CreateWebhook,
    app0: SandboxApp,
) -> None:
    await create_webhook(
        app0.id,
        eventTypes=[
            "BETA_FEEDBACK_CRASH_SUBMISSION_CREATED",
            "BETA_FEEDBACK_SCREENSHOT_SUBMISSION_CREATED",
        ],
    )
    clock.advance(days=90)
    await hub.deliver_due()
    headers = headers_for(admin_key)
    assert len(receiver.requests) >= 3
    for request in receiver.requests:
        instance = request.data["relationships"]["instance"]
        kind = instance["data"]["type"]
        assert request.data["type"] == kind[:-1] + "Created"
        assert set(request.data["attributes"]) == {"timestamp"}
        assert instance["links"]["self"] == f"{BASE_URL}/v1/{kind}/{instance['data']['id']}"
        fetched = await client.get(instance["links"]["self"], headers=headers)
        assert fetched.status_code == 200, fetched.text
        assert_matches_spec(fetched.json(), f"/v1/{kind}/{{id}}")
        created = datetime.fromisoformat(fetched.json()["data"]["attributes"]["createdDate"])
        assert abs(created - moment(request)) < timedelta(seconds=1)


async def test_feedback_sent_now_through_the_admin_route_emits_at_once(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    hub: WebhookHub,
    receiver: Receiver,
    create_webhook: CreateWebhook,
    app0: SandboxApp,
) -> None:
    await create_webhook(app0.id, eventTypes=["BETA_FEEDBACK_CRASH_SUBMISSION_CREATED"])
    sent = await client.post(
        f"/sandbox/apps/{app0.id}/betaFeedback", json={"kind": "crash", "comment": "Boom"}
    )
    assert sent.status_code == 201, sent.text
    await hub.deliver_due()
    [request] = receiver.requests
    assert request.data["id"] == sent.json()["event_id"]
    assert request.data["relationships"]["instance"]["data"]["id"] == sent.json()["id"]
    fetched = await client.get(
        f"/v1/betaFeedbackCrashSubmissions/{sent.json()['id']}", headers=admin_headers
    )
    assert fetched.json()["data"]["attributes"]["comment"] == "Boom"


async def test_synthetic_background_asset_and_marketplace_events_keep_apples_shapes(
    client: httpx.AsyncClient,
    hub: WebhookHub,
    receiver: Receiver,
    create_webhook: CreateWebhook,
    app0: SandboxApp,
) -> None:
    await create_webhook(app0.id)
    asset = await client.post(
        "/sandbox/webhooks/events",
        json={
            "app_id": app0.id,
            "event_type": "BACKGROUND_ASSET_VERSION_STATE_UPDATED",
            "instance_id": "607fea97",
            "old": "PROCESSING",
            "new": "FAILED",
        },
    )
    assert asset.status_code == 201, asset.text
    market = await client.post(
        "/sandbox/webhooks/events",
        json={
            "app_id": app0.id,
            "event_type": "ALTERNATIVE_DISTRIBUTION_PACKAGE_AVAILABLE_UPDATED",
            "instance_id": "2d2c0995",
            "attributes": {"available": True, "territories": ["DNK"]},
        },
    )
    assert market.status_code == 201, market.text
    hub.options.bare_background_asset_instance = False
    await client.post(
        "/sandbox/webhooks/events",
        json={
            "app_id": app0.id,
            "event_type": "BACKGROUND_ASSET_VERSION_INTERNAL_BETA_RELEASE_CREATED",
            "instance_id": "beta-1",
        },
    )
    await hub.deliver_due()
    bare, alt, wrapped = receiver.requests
    assert "version" not in bare.data  # WEBHOOKS §7
    assert bare.data["relationships"]["instance"] == {
        "id": "607fea97",
        "type": "backgroundAssetVersions",
        "links": {"self": f"{BASE_URL}/v1/backgroundAssetVersions/607fea97"},
    }
    assert bare.data["attributes"]["newState"] == "FAILED"
    assert alt.data["attributes"]["appId"] == app0.id
    assert alt.data["attributes"]["territories"] == ["DNK"]
    market_link = alt.data["relationships"]["marketplaceApp"]["links"]["self"]
    assert market_link.startswith("https://api-appstoreconnect.itunes.apple.com/v1/apps/")
    assert wrapped.data["relationships"]["instance"]["data"]["id"] == "beta-1"
    assert set(wrapped.data["attributes"]) == {"timestamp"}


async def test_varying_timestamp_digits_and_subscriptions(
    client: httpx.AsyncClient,
    hub: WebhookHub,
    receiver: Receiver,
    clock: FakeClock,
    create_webhook: CreateWebhook,
    app0: SandboxApp,
) -> None:
    hub.options.timestamp_digits = None  # cycle through 3, 0, 2, 6, 9 (WEBHOOKS §7)
    await create_webhook(app0.id, url="https://orchard.test/hooks/all")
    await create_webhook(
        app0.id,
        url="https://orchard.test/hooks/versions",
        eventTypes=["APP_STORE_VERSION_APP_VERSION_STATE_UPDATED"],
    )
    clock.advance(days=40)
    await hub.deliver_due()
    stamps = [r.data["attributes"]["timestamp"] for r in receiver.requests]
    assert {len(s.split(".")[1]) - 1 if "." in s else 0 for s in stamps} >= {0, 2, 3}
    narrow = [r for r in receiver.requests if r.path == "/hooks/versions"]
    assert narrow and all(r.data["type"] == "appStoreVersionAppVersionStateUpdated" for r in narrow)
    assert len([r for r in receiver.requests if r.path == "/hooks/all"]) > len(narrow)


async def test_a_webhook_only_hears_about_changes_after_it_was_created(
    client: httpx.AsyncClient,
    hub: WebhookHub,
    receiver: Receiver,
    clock: FakeClock,
    create_webhook: CreateWebhook,
    app0: SandboxApp,
) -> None:
    await create_webhook(app0.id, url="https://orchard.test/hooks/early")
    clock.advance(days=30)
    created_at = clock.now
    await create_webhook(app0.id, url="https://orchard.test/hooks/late")  # scan happens first
    clock.advance(days=30)
    await hub.deliver_due()
    late = [r for r in receiver.requests if r.path == "/hooks/late"]
    assert late and all(moment(r) > created_at for r in late)
    assert any(moment(r) <= created_at for r in receiver.requests if r.path == "/hooks/early")

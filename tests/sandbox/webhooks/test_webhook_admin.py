"""The sandbox-only webhook admin surface and the background delivery loop of ``orchard sandbox``."""

from __future__ import annotations

import asyncio

import httpx
from starlette.applications import Starlette

from app.sandbox.catalog import SandboxApp
from app.sandbox.webhooks.delivery import deliver_in_background
from app.sandbox.webhooks.hub import WebhookHub
from tests.sandbox.conftest import FakeClock
from tests.sandbox.webhooks.conftest import SECRET, CreateWebhook, Receiver, expected_signature


async def test_overview_and_deliver_routes_show_the_sandbox_truth(
    client: httpx.AsyncClient,
    hub: WebhookHub,
    receiver: Receiver,
    clock: FakeClock,
    create_webhook: CreateWebhook,
    app0: SandboxApp,
) -> None:
    webhook = await create_webhook(app0.id)
    clock.advance(days=20)
    delivered = await client.post("/sandbox/webhooks/deliver")
    assert delivered.status_code == 200
    attempts = delivered.json()["attempts"]
    assert attempts and all(a["status"] == 200 for a in attempts)
    assert len(attempts) == len(receiver.requests)

    overview = (await client.get("/sandbox/webhooks")).json()
    [summary] = overview["webhooks"]
    assert summary["id"] == webhook["id"] and summary["secret"] == SECRET
    assert len(overview["events"]) == len(overview["deliveries"]) == len(attempts)
    first = overview["deliveries"][0]
    assert first["state"] == "SUCCEEDED"
    sent = first["attempts"][0]["headers"]["x-apple-signature"]
    assert sent == expected_signature(SECRET, receiver.requests[0].body)
    assert overview["options"]["retry_schedule"] == [3600.0, 43200.0, 86400.0, 172800.0, 259200.0]


async def test_background_loop_runs_deliveries_while_served() -> None:
    calls: list[int] = []
    ran = asyncio.Event()

    async def deliver_due() -> None:
        calls.append(1)
        ran.set()

    app = deliver_in_background(Starlette(), deliver_due, interval=0)
    async with app.router.lifespan_context(app):
        await asyncio.wait_for(ran.wait(), timeout=5)
    assert calls


async def test_a_clock_set_back_does_not_report_changes_twice(
    hub: WebhookHub,
    receiver: Receiver,
    clock: FakeClock,
    create_webhook: CreateWebhook,
    app0: SandboxApp,
) -> None:
    await create_webhook(app0.id)
    clock.advance(days=20)
    await hub.deliver_due()
    heard = len(receiver.requests)
    clock.advance(days=-10)
    await hub.deliver_due()
    clock.advance(days=10)
    await hub.deliver_due()
    assert heard > 0 and len(receiver.requests) == heard

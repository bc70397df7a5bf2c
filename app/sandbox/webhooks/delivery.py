"""Sending deliveries: signing, the injectable sender, retries, and the background loop.

A delivery is POSTed with ``content-type: application/json`` and ``x-apple-signature`` over
the raw body (WEBHOOKS §5); a 2xx answer is success, anything else (or no answer) a failure.
After a failure the next attempt follows :attr:`WebhookOptions.retry_schedule` (Apple's
schedule is unconfirmed, WEBHOOKS §6). Nothing is sent by itself in-process: a test calls
``await webhooks(state).deliver_due()`` after moving the clock; ``orchard sandbox`` runs
:func:`deliver_in_background`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any

import httpx
from starlette.applications import Starlette

from app.sandbox.webhooks.events import SIGNATURE_HEADER, SIGNATURE_PREFIX, apple_signature
from app.sandbox.webhooks.model import Attempt, Delivery, WebhookOptions

logger = logging.getLogger(__name__)

#: ``await sender(url, headers, body)`` → the receiver's status, or ``(status, body text)``.
Sender = Callable[[str, Mapping[str, str], bytes], Awaitable[int | tuple[int, str]]]
SEND_TIMEOUT_SECONDS = 15.0
MAX_RESPONSE_BODY = 2000


async def httpx_sender(url: str, headers: Mapping[str, str], body: bytes) -> tuple[int, str]:
    """The default sender: a real HTTP POST."""
    async with httpx.AsyncClient(timeout=SEND_TIMEOUT_SECONDS) as client:
        response = await client.post(url, content=body, headers=dict(headers))
    return response.status_code, response.text


def asgi_sender(app: Any) -> Sender:
    """A sender that delivers into an in-process ASGI app (the URL's path is used)."""
    transport = httpx.ASGITransport(app=app)

    async def send(url: str, headers: Mapping[str, str], body: bytes) -> tuple[int, str]:
        async with httpx.AsyncClient(transport=transport, base_url="http://receiver") as client:
            response = await client.post(url, content=body, headers=dict(headers))
        return response.status_code, response.text

    return send


def signed_headers(options: WebhookOptions, secret: str, body: bytes) -> dict[str, str]:
    """Request headers, with the signature spoiled as :attr:`WebhookOptions.signature` says."""
    headers = {"content-type": "application/json", **options.extra_headers}
    if options.signature == "valid":
        headers[SIGNATURE_HEADER] = apple_signature(secret, body)
    elif options.signature == "wrong_secret":
        headers[SIGNATURE_HEADER] = apple_signature(secret + "-not-the-secret", body)
    elif options.signature == "no_prefix":
        headers[SIGNATURE_HEADER] = apple_signature(secret, body).removeprefix(SIGNATURE_PREFIX)
    return headers


async def post_once(
    sender: Sender, url: str, headers: dict[str, str], body: bytes, at: datetime
) -> Attempt:
    try:
        answer = await sender(url, headers, body)
    except Exception as error:  # any transport failure is a failed delivery, never a crash
        return Attempt(at, url, headers, None, None, f"{type(error).__name__}: {error}")
    status, text = answer if isinstance(answer, tuple) else (answer, "")
    failure = None if 200 <= status < 300 else f"The endpoint answered HTTP {status}."
    return Attempt(at, url, headers, status, text[:MAX_RESPONSE_BODY], failure)


def record_outcome(delivery: Delivery, attempt: Attempt, options: WebhookOptions) -> None:
    """Set the delivery's state and next attempt after ``attempt`` (not a duplicate)."""
    if attempt.succeeded:
        delivery.state, delivery.next_attempt_at = "SUCCEEDED", None
        return
    delivery.state = "FAILED"
    delivery.failures += 1
    schedule = options.retry_schedule
    if delivery.failures <= len(schedule):
        delivery.next_attempt_at = attempt.at + schedule[delivery.failures - 1]
    else:
        delivery.next_attempt_at = None


def deliver_in_background(
    app: Starlette, deliver_due: Callable[[], Awaitable[object]], interval: float = 1.0
) -> Starlette:
    """Run ``deliver_due`` every ``interval`` seconds while ``app`` is served (lifespan)."""

    async def loop() -> None:
        while True:
            try:
                await deliver_due()
            except Exception:
                logger.exception("sandbox webhook delivery failed")
            await asyncio.sleep(interval)

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        task = asyncio.create_task(loop())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    app.router.lifespan_context = lifespan
    return app

"""The receiving end of App Store Connect webhooks (called by Apple, not by consumers)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Header, Path, Request

from app.apple_webhooks import service
from app.apple_webhooks.schemas import DeliveryAccepted
from app.credentials.deps import AscClients
from app.kit.deps import Session, Sessions
from app.kit.problems import problem_responses
from app.sync.deps import Registry

router = APIRouter(tags=["apple-webhooks"])


@router.post(
    "/apple-webhooks/{receiver_token}/apps/{app_apple_id}",
    operation_id="receive_apple_webhook",
    responses=problem_responses(400, 401, 404, 413),
)
async def receive_apple_webhook(
    request: Request,
    receiver_token: Annotated[str, Path(min_length=20, max_length=100, pattern=r"^[\w-]+$")],
    app_apple_id: Annotated[str, Path(max_length=32, pattern=r"^[0-9A-Za-z._-]+$")],
    session: Session,
    sessions: Sessions,
    clients: AscClients,
    registry: Registry,
    x_apple_signature: Annotated[str | None, Header(max_length=200)] = None,
) -> DeliveryAccepted:
    """Where App Store Connect delivers the events of the webhooks Orchard registered (one per
    app; the URL is unguessable and per account). Not for consumers: no bearer token, but
    `x-apple-signature` must be Apple's HMAC-SHA256 of the raw body with that webhook's
    secret (401 otherwise). A repeated event id is acknowledged and ignored; a known event
    queues an immediate refresh of the app's affected datasets (versions, builds, TestFlight,
    feedback) from Apple's API — nothing else in the payload is used. Unknown event types
    and pings are acknowledged."""
    received = await service.receive(
        session,
        sessions,
        clients.cipher,
        registry,
        token=receiver_token,
        app_apple_id=app_apple_id,
        body=await request.body(),
        signature=x_apple_signature,
        now=dt.datetime.now(dt.UTC),
    )
    return DeliveryAccepted(duplicate=received.duplicate, refreshed=received.refreshed)

"""Webhooks: subscribe other services to Orchard's events, signed per Standard Webhooks."""

from __future__ import annotations

import datetime as dt
import uuid

from fastapi import APIRouter, Query, Response, status

from app.auth.deps import Admin, Reader
from app.kit.deps import Session
from app.kit.pagination import Page, Paging
from app.kit.problems import AUTHED, problem_responses
from app.webhooks import service
from app.webhooks.catalogue import envelope
from app.webhooks.deps import Catalogue, WebhookTools
from app.webhooks.schemas import (
    DeliveryDetail,
    DeliveryRead,
    DeliveryState,
    EventTypeList,
    EventTypeRead,
    SecretRotation,
    WebhookCreate,
    WebhookRead,
    WebhookUpdate,
    WebhookWithSecret,
)

router = APIRouter(tags=["webhooks"])
hooks = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])

SIGNING = """Every request carries `webhook-id` (the event id: the same on every retry,
dedupe on it), `webhook-timestamp` (Unix seconds of the attempt) and `webhook-signature`
(`v1,<base64>` HMAC-SHA256 of `{webhook-id}.{webhook-timestamp}.{body}` keyed with the
secret; two signatures during a rotation). Verify with any Standard Webhooks library."""


CREATE = """Subscribe a URL to events. The answer holds the signing secret, **shown only
now** (stored encrypted). Events are sent in the order Orchard recorded them, one at a time
per webhook, at least once: a failed attempt is retried with backoff for about a day (5 s,
1 min, 5 min, 30 min, 1 h, 2 h, 4 h, 8 h, 8 h, ±10 %), then the delivery is `failed`. Any 2xx
is success; redirects are not followed; `410 Gone` disables the webhook at once, and a
webhook whose every attempt failed for 3 days (configurable) is disabled too, with a
`webhook_disabled` notice in `/v1/events`. Each request times out after 10 s."""


@hooks.post(
    "",
    response_model=WebhookWithSecret,
    status_code=status.HTTP_201_CREATED,
    operation_id="create_webhook",
    responses=problem_responses(*AUTHED, 409),
    description=CREATE + "\n\n" + SIGNING,
)
async def create_webhook(
    body: WebhookCreate, principal: Admin, session: Session, tools: WebhookTools
) -> WebhookWithSecret:
    return await service.create(session, tools, principal.workspace_id, body)


@hooks.get(
    "",
    response_model=Page[WebhookRead],
    operation_id="list_webhooks",
    responses=problem_responses(*AUTHED),
)
async def list_webhooks(principal: Admin, session: Session, *, paging: Paging) -> Page[WebhookRead]:
    """The workspace's webhooks, oldest first."""
    items, next_cursor = await service.list_endpoints(session, principal.workspace_id, paging)
    return Page(items=items, next_cursor=next_cursor)


@hooks.get(
    "/{webhook_id}",
    response_model=WebhookRead,
    operation_id="get_webhook",
    responses=problem_responses(*AUTHED, 404),
)
async def get_webhook(webhook_id: uuid.UUID, principal: Admin, session: Session) -> WebhookRead:
    """One webhook with its delivery state (`active`, `failing`, `paused`, `disabled`)."""
    endpoint = await service.get_endpoint(session, principal.workspace_id, webhook_id)
    return await service.read(session, endpoint)


@hooks.patch(
    "/{webhook_id}",
    response_model=WebhookRead,
    operation_id="update_webhook",
    responses=problem_responses(*AUTHED, 404),
)
async def update_webhook(
    webhook_id: uuid.UUID,
    body: WebhookUpdate,
    principal: Admin,
    session: Session,
    tools: WebhookTools,
) -> WebhookRead:
    """Change the URL, event types, filters or description, pause (`enabled: false`) or
    resume (`enabled: true`, which also re-enables a webhook Orchard disabled)."""
    return await service.update(session, tools, principal.workspace_id, webhook_id, body)


@hooks.delete(
    "/{webhook_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="delete_webhook",
    responses=problem_responses(*AUTHED, 404),
)
async def delete_webhook(webhook_id: uuid.UUID, principal: Admin, session: Session) -> Response:
    """Delete the webhook and its delivery history; nothing more is sent to it."""
    await service.delete(session, principal.workspace_id, webhook_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@hooks.post(
    "/{webhook_id}/rotate-secret",
    response_model=WebhookWithSecret,
    operation_id="rotate_webhook_secret",
    responses=problem_responses(*AUTHED, 404),
)
async def rotate_webhook_secret(
    webhook_id: uuid.UUID,
    principal: Admin,
    session: Session,
    tools: WebhookTools,
    body: SecretRotation | None = None,
) -> WebhookWithSecret:
    """Make a new signing secret (shown only now). For `grace_seconds` (default a day) the
    previous secret signs too: `webhook-signature` then holds two signatures, and a receiver
    verifying with either secret accepts the request."""
    grace = dt.timedelta(seconds=(body or SecretRotation()).grace_seconds)
    return await service.rotate_secret(session, tools, principal.workspace_id, webhook_id, grace)


@hooks.post(
    "/{webhook_id}/test",
    response_model=DeliveryRead,
    operation_id="test_webhook",
    responses=problem_responses(*AUTHED, 404),
)
async def test_webhook(
    webhook_id: uuid.UUID, principal: Admin, session: Session, tools: WebhookTools
) -> DeliveryRead:
    """Send a `webhook.ping` event now (even to a paused or disabled webhook) and answer
    with how the receiver responded. It does not wait behind queued events and is not
    retried; it shows in the deliveries list."""
    return await service.send_test(session, tools, principal.workspace_id, webhook_id)


@hooks.get(
    "/{webhook_id}/deliveries",
    response_model=Page[DeliveryRead],
    operation_id="list_webhook_deliveries",
    responses=problem_responses(*AUTHED, 404),
)
async def list_webhook_deliveries(
    webhook_id: uuid.UUID,
    principal: Admin,
    session: Session,
    state: DeliveryState | None = Query(None, description="Only deliveries in this state."),
    *,
    paging: Paging,
) -> Page[DeliveryRead]:
    """The webhook's deliveries, newest first: state, attempts, the last response's status,
    latency and the start of its body, the next attempt. Finished ones are kept for
    `ORCHARD_WEBHOOKS_RETENTION` (default 30 days)."""
    items, next_cursor = await service.deliveries(
        session, principal.workspace_id, webhook_id, state, paging
    )
    return Page(items=items, next_cursor=next_cursor)


@hooks.get(
    "/{webhook_id}/deliveries/{delivery_id}",
    response_model=DeliveryDetail,
    operation_id="get_webhook_delivery",
    responses=problem_responses(*AUTHED, 404),
)
async def get_webhook_delivery(
    webhook_id: uuid.UUID, delivery_id: uuid.UUID, principal: Admin, session: Session
) -> DeliveryDetail:
    """One delivery with the payload it sends."""
    return await service.delivery(session, principal.workspace_id, webhook_id, delivery_id)


@hooks.post(
    "/{webhook_id}/deliveries/{delivery_id}/retry",
    response_model=DeliveryDetail,
    status_code=status.HTTP_202_ACCEPTED,
    operation_id="retry_webhook_delivery",
    responses=problem_responses(*AUTHED, 404, 409),
)
async def retry_webhook_delivery(
    webhook_id: uuid.UUID, delivery_id: uuid.UUID, principal: Admin, session: Session
) -> DeliveryDetail:
    """Send a delivery again (failed, succeeded or still pending: now), with the same
    `webhook-id`. It keeps its place in the webhook's order. 409 while the webhook is paused
    or disabled."""
    return await service.retry(session, principal.workspace_id, webhook_id, delivery_id)


@router.get(
    "/v1/webhook-event-types",
    response_model=EventTypeList,
    operation_id="list_webhook_event_types",
    responses=problem_responses(*AUTHED),
)
async def list_webhook_event_types(principal: Reader, catalogue: Catalogue) -> EventTypeList:
    """Every event type Orchard sends, with the JSON Schema of its payload (also in this
    document's `webhooks` section, for generating types)."""
    return EventTypeList(
        items=[
            EventTypeRead(
                name=spec.name,
                summary=spec.summary,
                description=spec.description,
                subscribable=spec.subscribable,
                payload_schema=envelope(spec).model_json_schema(),
            )
            for spec in catalogue.all()
        ]
    )


router.include_router(hooks)

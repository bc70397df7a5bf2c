"""Webhook subscriptions: validation (event types, filters, the SSRF guard), secrets shown
once and stored encrypted, rotation with a grace period, test pings, deliveries and retries."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from app.credentials.crypto import CredentialCipher
from app.errors import Conflict, NotFound, ValidationFailed
from app.kit import cursors
from app.kit.pagination import PageRequest
from app.models import WebhookDelivery, WebhookEndpoint
from app.outbox.catalogue import EventCatalogue
from app.outbox.writer import OutboxEvent, render
from app.webhooks import network, repository, signing
from app.webhooks.catalogue import PING
from app.webhooks.dispatcher import disable
from app.webhooks.network import UnsafeUrl
from app.webhooks.queue import FAILED, SUCCEEDED
from app.webhooks.schemas import (
    DeliveryDetail,
    DeliveryRead,
    DeliveryState,
    WebhookCreate,
    WebhookRead,
    WebhookState,
    WebhookUpdate,
    WebhookWithSecret,
)
from app.webhooks.sender import WebhookSender

MAX_ENDPOINTS = 50
ALL = "*"


@dataclass(frozen=True)
class Tools:
    """What the service needs besides the session: the event catalogue, the cipher for
    secrets and the sender (whose resolver and policy also check URLs)."""

    catalogue: EventCatalogue
    cipher: CredentialCipher
    sender: WebhookSender


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def event_types(catalogue: EventCatalogue, requested: list[str], field: str) -> list[str]:
    wanted = list(dict.fromkeys(requested))
    if ALL in wanted:
        if len(wanted) > 1:
            raise ValidationFailed.single(field, "`*` stands alone (it means every type)", "all")
        return wanted
    known = catalogue.subscribable()
    for name in wanted:
        if name not in known:
            spec = catalogue.get(name)
            reason = (
                f"{name} is sent on request only, not subscribable"
                if spec is not None
                else f"unknown event type {name!r} (see GET /v1/webhook-event-types)"
            )
            raise ValidationFailed.single(field, reason, "event_type")
    return wanted


async def _checked_url(sender: WebhookSender, url: str, field: str) -> str:
    try:
        await network.resolve(url, sender.resolver, allow_private=sender.allow_private)
    except UnsafeUrl as refused:
        raise ValidationFailed.single(field, f"the URL {refused.message}", refused.code) from None
    return url


async def _check_filters(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    account_id: uuid.UUID | None,
    app_id: uuid.UUID | None,
) -> None:
    if account_id is not None and not await repository.account_in_workspace(
        session, workspace_id, account_id
    ):
        raise ValidationFailed.single("body.account_id", "no such linked account", "not_found")
    if app_id is not None and not await repository.app_in_workspace(session, workspace_id, app_id):
        raise ValidationFailed.single("body.app_id", "no such app", "not_found")


def _state(endpoint: WebhookEndpoint) -> WebhookState:
    if endpoint.disabled_at is not None:
        return WebhookState.DISABLED
    if not endpoint.enabled:
        return WebhookState.PAUSED
    if endpoint.failing_since is not None:
        return WebhookState.FAILING
    return WebhookState.ACTIVE


def _read(endpoint: WebhookEndpoint, pending: int) -> WebhookRead:
    expires = endpoint.previous_secret_expires_at
    return WebhookRead(
        id=endpoint.id,
        url=endpoint.url,
        description=endpoint.description,
        event_types=list(endpoint.event_types),
        account_id=endpoint.account_id,
        app_id=endpoint.app_id,
        enabled=endpoint.enabled,
        state=_state(endpoint),
        disabled_at=endpoint.disabled_at,
        disabled_reason=endpoint.disabled_reason,
        failing_since=endpoint.failing_since,
        last_success_at=endpoint.last_success_at,
        last_failure_at=endpoint.last_failure_at,
        pending_deliveries=pending,
        previous_secret_expires_at=expires if expires and expires > _now() else None,
        created_at=endpoint.created_at,
        updated_at=endpoint.updated_at,
    )


async def read(session: AsyncSession, endpoint: WebhookEndpoint) -> WebhookRead:
    counts = await repository.pending_counts(session, [endpoint.id])
    return _read(endpoint, counts.get(endpoint.id, 0))


async def get_endpoint(
    session: AsyncSession, workspace_id: uuid.UUID, endpoint_id: uuid.UUID, *, lock: bool = False
) -> WebhookEndpoint:
    endpoint = await repository.get_endpoint(session, workspace_id, endpoint_id, lock=lock)
    if endpoint is None:
        raise NotFound(f"no webhook with id {endpoint_id}")
    return endpoint


async def create(
    session: AsyncSession, tools: Tools, workspace_id: uuid.UUID, body: WebhookCreate
) -> WebhookWithSecret:
    types = event_types(tools.catalogue, body.event_types, "body.event_types")
    url = await _checked_url(tools.sender, body.url, "body.url")
    await _check_filters(session, workspace_id, body.account_id, body.app_id)
    if await repository.count_endpoints(session, workspace_id) >= MAX_ENDPOINTS:
        raise Conflict(f"a workspace has at most {MAX_ENDPOINTS} webhooks; delete one first")
    secret = signing.new_secret()
    now = _now()
    endpoint = WebhookEndpoint(
        id=uuid.uuid4(),
        workspace_id=workspace_id,
        url=url,
        description=body.description,
        event_types=types,
        account_id=body.account_id,
        app_id=body.app_id,
        encrypted_secret=tools.cipher.encrypt(secret),
        enabled=True,
        created_at=now,
        updated_at=now,
    )
    session.add(endpoint)
    await session.flush()
    return WebhookWithSecret(**_read(endpoint, 0).model_dump(), secret=secret)


async def list_endpoints(
    session: AsyncSession, workspace_id: uuid.UUID, paging: PageRequest
) -> tuple[list[WebhookRead], str | None]:
    after = paging.after(cursors.moment, cursors.UUID)
    found = await repository.list_endpoints(
        session,
        workspace_id,
        after=(after[0], after[1]) if after is not None else None,
        limit=paging.fetch,
    )
    page, next_cursor = paging.split(found, lambda e: [e.created_at.isoformat(), str(e.id)])
    counts = await repository.pending_counts(session, [e.id for e in page])
    return [_read(e, counts.get(e.id, 0)) for e in page], next_cursor


async def update(
    session: AsyncSession,
    tools: Tools,
    workspace_id: uuid.UUID,
    endpoint_id: uuid.UUID,
    patch: WebhookUpdate,
) -> WebhookRead:
    endpoint = await get_endpoint(session, workspace_id, endpoint_id, lock=True)
    fields = patch.model_fields_set
    for name in ("url", "event_types", "enabled"):
        if name in fields and getattr(patch, name) is None:
            raise ValidationFailed.single(f"body.{name}", "must not be null", "null")
    if patch.url is not None:
        endpoint.url = await _checked_url(tools.sender, patch.url, "body.url")
    if patch.event_types is not None:
        endpoint.event_types = event_types(tools.catalogue, patch.event_types, "body.event_types")
    await _check_filters(
        session,
        workspace_id,
        patch.account_id if "account_id" in fields else None,
        patch.app_id if "app_id" in fields else None,
    )
    for name in ("account_id", "app_id", "description"):
        if name in fields:
            setattr(endpoint, name, getattr(patch, name))
    if patch.enabled is not None:
        endpoint.enabled = patch.enabled
        if patch.enabled:
            # Re-enabled: start afresh; its pending deliveries go out in order.
            endpoint.disabled_at = None
            endpoint.disabled_reason = None
            endpoint.failing_since = None
    endpoint.updated_at = _now()
    await session.flush()
    return await read(session, endpoint)


async def delete(session: AsyncSession, workspace_id: uuid.UUID, endpoint_id: uuid.UUID) -> None:
    endpoint = await get_endpoint(session, workspace_id, endpoint_id, lock=True)
    await session.delete(endpoint)
    await session.flush()


async def rotate_secret(
    session: AsyncSession,
    tools: Tools,
    workspace_id: uuid.UUID,
    endpoint_id: uuid.UUID,
    grace: dt.timedelta,
) -> WebhookWithSecret:
    """A new secret signs from now on; the current one keeps signing beside it for
    ``grace`` (a secret older than the current one stops at once)."""
    endpoint = await get_endpoint(session, workspace_id, endpoint_id, lock=True)
    secret = signing.new_secret()
    now = _now()
    endpoint.encrypted_previous_secret = endpoint.encrypted_secret if grace else None
    endpoint.previous_secret_expires_at = now + grace if grace else None
    endpoint.encrypted_secret = tools.cipher.encrypt(secret)
    endpoint.updated_at = now
    await session.flush()
    return WebhookWithSecret(**(await read(session, endpoint)).model_dump(), secret=secret)


def signing_secrets(cipher: CredentialCipher, endpoint: WebhookEndpoint) -> list[str]:
    found = [cipher.decrypt(endpoint.encrypted_secret)]
    expires = endpoint.previous_secret_expires_at
    if endpoint.encrypted_previous_secret is not None and expires and expires > _now():
        found.append(cipher.decrypt(endpoint.encrypted_previous_secret))
    return found


async def send_test(
    session: AsyncSession, tools: Tools, workspace_id: uuid.UUID, endpoint_id: uuid.UUID
) -> DeliveryRead:
    """Send a ``webhook.ping`` now, outside the endpoint's queue; record and return it."""
    endpoint = await get_endpoint(session, workspace_id, endpoint_id)
    now = _now()
    event = OutboxEvent(
        type=PING,
        data={
            "webhook_id": str(endpoint.id),
            "url": endpoint.url,
            "message": "A test ping from Orchard: your endpoint is reachable.",
        },
        occurred_at=now,
    )
    body = render(event, workspace_id)
    attempt = await tools.sender.send(
        endpoint.url, signing_secrets(tools.cipher, endpoint), str(event.id), body
    )
    delivery_id = await repository.store_ping(
        session,
        workspace_id=workspace_id,
        endpoint_id=endpoint.id,
        event_id=event.id,
        event_type=PING,
        body=body,
        state=SUCCEEDED if attempt.ok else FAILED,
        now=now,
        status_code=attempt.status_code,
        latency_ms=attempt.latency_ms,
        error=attempt.error,
        response_body=attempt.response_body,
    )
    if attempt.gone:
        await disable(
            session,
            endpoint_id=endpoint.id,
            workspace_id=workspace_id,
            url=endpoint.url,
            reason="gone",
            now=now,
            attempt=attempt,
        )
    return await delivery(session, workspace_id, endpoint.id, delivery_id)


def _delivery(row: WebhookDelivery, event_type: str) -> DeliveryRead:
    pending = row.state == "pending"
    return DeliveryRead(
        id=row.id,
        event_id=row.event_id,
        event_type=event_type,
        state=DeliveryState(row.state),
        attempts=row.attempts,
        manual_retries=row.manual_retries,
        created_at=row.created_at,
        last_attempt_at=row.last_attempt_at,
        next_attempt_at=max(row.next_attempt_at, row.created_at) if pending else None,
        finished_at=row.finished_at,
        response_status_code=row.last_status_code,
        latency_ms=row.last_latency_ms,
        error=row.last_error,
        response_body=row.last_response_body,
    )


async def deliveries(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    endpoint_id: uuid.UUID,
    state: DeliveryState | None,
    paging: PageRequest,
) -> tuple[list[DeliveryRead], str | None]:
    endpoint = await get_endpoint(session, workspace_id, endpoint_id)
    after = paging.after(cursors.integer)
    rows = await repository.list_deliveries(
        session,
        endpoint.id,
        state=state.value if state is not None else None,
        after=after[0] if after is not None else None,
        limit=paging.fetch,
    )
    page, next_cursor = paging.split(rows, lambda row: [row[0].seq])
    return [_delivery(row, event_type) for row, event_type in page], next_cursor


async def delivery(
    session: AsyncSession, workspace_id: uuid.UUID, endpoint_id: uuid.UUID, delivery_id: uuid.UUID
) -> DeliveryDetail:
    endpoint = await get_endpoint(session, workspace_id, endpoint_id)
    found = await repository.get_delivery(session, endpoint.id, delivery_id)
    if found is None:
        raise NotFound(f"no delivery with id {delivery_id} for this webhook")
    row, event = found
    return DeliveryDetail(**_delivery(row, event.type).model_dump(), payload=json.loads(event.body))


async def retry(
    session: AsyncSession, workspace_id: uuid.UUID, endpoint_id: uuid.UUID, delivery_id: uuid.UUID
) -> DeliveryDetail:
    """Queue the delivery again (attempts start over); it keeps its place in the order."""
    endpoint = await get_endpoint(session, workspace_id, endpoint_id, lock=True)
    if endpoint.disabled_at is not None or not endpoint.enabled:
        raise Conflict(
            "the webhook is not active: PATCH it with `enabled: true` before retrying",
            extensions={"state": _state(endpoint).value},
        )
    found = await repository.get_delivery(session, endpoint.id, delivery_id, lock=True)
    if found is None:
        raise NotFound(f"no delivery with id {delivery_id} for this webhook")
    await repository.requeue(session, delivery_id, _now())
    return await delivery(session, workspace_id, endpoint_id, delivery_id)


async def rotate_encryption(session: AsyncSession, cipher: CredentialCipher) -> int:
    """Re-encrypt every stored signing secret under the first ORCHARD_SECRET_KEYS key."""
    endpoints = await repository.all_secrets(session)
    for endpoint in endpoints:
        endpoint.encrypted_secret = cipher.rotate(endpoint.encrypted_secret)
        if endpoint.encrypted_previous_secret is not None:
            endpoint.encrypted_previous_secret = cipher.rotate(endpoint.encrypted_previous_secret)
    await session.flush()
    return len(endpoints)

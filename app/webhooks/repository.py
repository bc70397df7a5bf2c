"""SQL for webhook subscriptions and their deliveries (every read scoped to the workspace)."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import App, AscAccount, WebhookDelivery, WebhookEndpoint, WebhookEvent


async def count_endpoints(session: AsyncSession, workspace_id: uuid.UUID) -> int:
    found = await session.scalar(
        select(func.count()).where(WebhookEndpoint.workspace_id == workspace_id)
    )
    return int(found or 0)


async def get_endpoint(
    session: AsyncSession, workspace_id: uuid.UUID, endpoint_id: uuid.UUID, *, lock: bool = False
) -> WebhookEndpoint | None:
    statement = select(WebhookEndpoint).where(
        WebhookEndpoint.id == endpoint_id, WebhookEndpoint.workspace_id == workspace_id
    )
    if lock:
        statement = statement.with_for_update(key_share=True)  # FOR NO KEY UPDATE
    return (await session.scalars(statement)).one_or_none()


async def list_endpoints(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    *,
    after: tuple[dt.datetime, uuid.UUID] | None,
    limit: int,
) -> list[WebhookEndpoint]:
    statement = select(WebhookEndpoint).where(WebhookEndpoint.workspace_id == workspace_id)
    if after is not None:
        statement = statement.where(
            (WebhookEndpoint.created_at, WebhookEndpoint.id) > after  # type: ignore[operator]
        )
    statement = statement.order_by(WebhookEndpoint.created_at, WebhookEndpoint.id).limit(limit)
    return list(await session.scalars(statement))


async def pending_counts(
    session: AsyncSession, endpoint_ids: list[uuid.UUID]
) -> dict[uuid.UUID, int]:
    if not endpoint_ids:
        return {}
    rows = await session.execute(
        select(WebhookDelivery.endpoint_id, func.count())
        .where(WebhookDelivery.endpoint_id.in_(endpoint_ids), WebhookDelivery.state == "pending")
        .group_by(WebhookDelivery.endpoint_id)
    )
    return {endpoint_id: int(n) for endpoint_id, n in rows}


async def account_in_workspace(
    session: AsyncSession, workspace_id: uuid.UUID, account_id: uuid.UUID
) -> bool:
    found = await session.scalar(
        select(AscAccount.id).where(
            AscAccount.id == account_id,
            AscAccount.workspace_id == workspace_id,
            AscAccount.unlinked_at.is_(None),
        )
    )
    return found is not None


async def app_in_workspace(
    session: AsyncSession, workspace_id: uuid.UUID, app_id: uuid.UUID
) -> bool:
    found = await session.scalar(
        select(App.id).where(App.id == app_id, App.workspace_id == workspace_id)
    )
    return found is not None


DeliveryRow = tuple[WebhookDelivery, str]


async def list_deliveries(
    session: AsyncSession,
    endpoint_id: uuid.UUID,
    *,
    state: str | None,
    after: int | None,
    limit: int,
) -> list[tuple[WebhookDelivery, str]]:
    """Newest first (by the order the endpoint receives them)."""
    statement = (
        select(WebhookDelivery, WebhookEvent.type)
        .join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id)
        .where(WebhookDelivery.endpoint_id == endpoint_id)
    )
    if state is not None:
        statement = statement.where(WebhookDelivery.state == state)
    if after is not None:
        statement = statement.where(WebhookDelivery.seq < after)
    statement = statement.order_by(WebhookDelivery.seq.desc()).limit(limit)
    return [(delivery, event_type) for delivery, event_type in (await session.execute(statement))]


async def get_delivery(
    session: AsyncSession, endpoint_id: uuid.UUID, delivery_id: uuid.UUID, *, lock: bool = False
) -> tuple[WebhookDelivery, WebhookEvent] | None:
    statement = (
        select(WebhookDelivery, WebhookEvent)
        .join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id)
        .where(WebhookDelivery.id == delivery_id, WebhookDelivery.endpoint_id == endpoint_id)
        .execution_options(populate_existing=True)
    )
    if lock:
        statement = statement.with_for_update(of=WebhookDelivery)
    row = (await session.execute(statement)).first()
    return None if row is None else (row[0], row[1])


async def requeue(session: AsyncSession, delivery_id: uuid.UUID, now: dt.datetime) -> None:
    await session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id)
        .values(
            state="pending",
            attempts=0,
            next_attempt_at=now,
            finished_at=None,
            manual_retries=WebhookDelivery.manual_retries + 1,
        )
        .execution_options(synchronize_session=False)
    )


async def store_ping(
    session: AsyncSession,
    *,
    workspace_id: uuid.UUID,
    endpoint_id: uuid.UUID,
    event_id: uuid.UUID,
    event_type: str,
    body: str,
    state: str,
    now: dt.datetime,
    status_code: int | None,
    latency_ms: int,
    error: str | None,
    response_body: str | None,
) -> uuid.UUID:
    """A test ping, recorded after it was sent (it never waits in the endpoint's queue)."""
    await session.execute(
        text(
            "INSERT INTO webhook_events (id, workspace_id, type, occurred_at, body, created_at) "
            "VALUES (:id, :ws, :type, :now, :body, :now)"
        ),
        {"id": event_id, "ws": workspace_id, "type": event_type, "now": now, "body": body},
    )
    delivery_id = uuid.uuid4()
    await session.execute(
        text(
            """
            INSERT INTO webhook_deliveries (id, workspace_id, endpoint_id, event_id, state,
                attempts, next_attempt_at, last_attempt_at, last_status_code, last_latency_ms,
                last_error, last_response_body, finished_at, created_at)
            VALUES (:id, :ws, :endpoint, :event, :state, 1, :now, :now, :code, :latency,
                    :error, :body, :now, :now)
            """
        ),
        {
            "id": delivery_id,
            "ws": workspace_id,
            "endpoint": endpoint_id,
            "event": event_id,
            "state": state,
            "now": now,
            "code": status_code,
            "latency": latency_ms,
            "error": error,
            "body": response_body,
        },
    )
    return delivery_id


async def all_secrets(session: AsyncSession) -> list[WebhookEndpoint]:
    return list(await session.scalars(select(WebhookEndpoint).with_for_update()))

"""Writing events into the outbox, inside the caller's transaction.

:func:`publish` stores each event once (its body exactly as it will be sent, so every retry
sends the same bytes) and one delivery per subscribed endpoint, in one statement, in the
caller's transaction: a change that rolls back leaves no event, a change that commits leaves
its deliveries for the workers. Events nobody subscribed to are not stored at all.

An event's ``data`` is the REST resource it refers to, as JSON-ready values (``model_dump(
mode="json")``); the envelope is ``{type, id, timestamp, workspace_id, data}``.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

#: A new delivery is due at once, whatever clock the delivery workers read.
DUE_AT_ONCE = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class OutboxEvent:
    type: str
    data: Mapping[str, Any]
    occurred_at: dt.datetime
    #: Subscriptions may filter on these.
    account_id: uuid.UUID | None = None
    app_id: uuid.UUID | None = None
    id: uuid.UUID = field(default_factory=uuid.uuid4)


def _json_default(value: object) -> str:
    if isinstance(value, dt.datetime):
        # As the REST API writes instants (pydantic): UTC as ``Z``.
        text = value.isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    raise TypeError(f"cannot send {type(value).__name__} in an event")


def render(event: OutboxEvent, workspace_id: uuid.UUID) -> str:
    """The body every delivery of ``event`` sends (compact JSON, UTF-8)."""
    envelope = {
        "type": event.type,
        "id": str(event.id),
        "timestamp": event.occurred_at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
        "workspace_id": str(workspace_id),
        "data": event.data,
    }
    return json.dumps(envelope, separators=(",", ":"), ensure_ascii=False, default=_json_default)


_PUBLISH = text(
    """
    WITH ev AS (
        SELECT * FROM unnest(CAST(:ids AS uuid[]), CAST(:types AS text[]),
                             CAST(:accounts AS uuid[]), CAST(:apps AS uuid[]),
                             CAST(:occurred AS timestamptz[]), CAST(:bodies AS text[]))
             WITH ORDINALITY AS e(id, type, account_id, app_id, occurred_at, body, ord)
    ), targets AS (
        SELECT ev.id AS event_id, ev.ord, ep.id AS endpoint_id
        FROM ev JOIN webhook_endpoints AS ep
          ON ep.workspace_id = :ws AND ep.enabled AND ep.disabled_at IS NULL
         AND (ev.type = ANY(ep.event_types) OR '*' = ANY(ep.event_types))
         AND (ep.account_id IS NULL OR ep.account_id = ev.account_id)
         AND (ep.app_id IS NULL OR ep.app_id = ev.app_id)
    ), stored AS (
        INSERT INTO webhook_events (id, workspace_id, type, account_id, app_id, occurred_at,
                                    body, created_at)
        SELECT ev.id, :ws, ev.type, ev.account_id, ev.app_id, ev.occurred_at, ev.body, now()
        FROM ev WHERE EXISTS (SELECT 1 FROM targets AS t WHERE t.event_id = ev.id)
        RETURNING id
    )
    INSERT INTO webhook_deliveries (id, workspace_id, endpoint_id, event_id, state,
                                    next_attempt_at, created_at)
    SELECT gen_random_uuid(), :ws, t.endpoint_id, t.event_id, 'pending', :due, now()
    FROM targets AS t ORDER BY t.ord, t.endpoint_id
    RETURNING id
    """
)


async def publish(
    session: AsyncSession, workspace_id: uuid.UUID, events: Sequence[OutboxEvent]
) -> int:
    """Store ``events`` for every endpoint of the workspace subscribed to them, in the
    caller's transaction; returns how many deliveries were queued."""
    if not events:
        return 0
    result = await session.execute(
        _PUBLISH,
        {
            "ws": workspace_id,
            "ids": [event.id for event in events],
            "types": [event.type for event in events],
            "accounts": [event.account_id for event in events],
            "apps": [event.app_id for event in events],
            "occurred": [event.occurred_at for event in events],
            "bodies": [render(event, workspace_id) for event in events],
            "due": DUE_AT_ONCE,
        },
    )
    return len(result.fetchall())


async def wants(session: AsyncSession, workspace_id: uuid.UUID, types: Sequence[str]) -> bool:
    """Whether an enabled endpoint of the workspace subscribes to any of ``types`` (lets a
    writer skip the work of building events nobody receives)."""
    found = await session.scalar(
        text(
            """
            SELECT EXISTS (
                SELECT 1 FROM webhook_endpoints
                WHERE workspace_id = :ws AND enabled AND disabled_at IS NULL
                  AND (CAST(event_types AS text[]) && CAST(:types AS text[])
                       OR '*' = ANY(event_types)))
            """
        ),
        {"ws": workspace_id, "types": list(types)},
    )
    return bool(found)

"""The webhooks domain's own event type (the test ping) and the envelope every event shares,
as models: the catalogue's payload schemas and the OpenAPI ``webhooks`` section come from
them."""

from __future__ import annotations

import datetime as dt
import functools
import re
import uuid
from typing import Any, Literal

from pydantic import BaseModel, Field, create_model

from app.outbox.catalogue import EventTypeSpec

PING = "webhook.ping"


class WebhookPing(BaseModel):
    """What a test ping carries: the endpoint it was sent to."""

    webhook_id: uuid.UUID
    url: str
    message: str


EVENT_TYPES = [
    EventTypeSpec(
        name=PING,
        summary="A test ping",
        description="Sent by `POST /v1/webhooks/{id}/test` only (no subscription needed), to "
        "check that the receiver is reachable and verifies signatures.",
        data=WebhookPing,
        subscribable=False,
    )
]


@functools.cache
def envelope(spec: EventTypeSpec) -> type[BaseModel]:
    """The body of a ``spec`` event: ``{type, id, timestamp, workspace_id, data}``."""
    words = re.split(r"[._]", spec.name)
    name = "".join(word.capitalize() for word in words) + "Event"
    fields: dict[str, Any] = {
        "type": (Literal[spec.name], Field(description="The event type.")),
        "id": (
            uuid.UUID,
            Field(description="The event's id, also sent as `webhook-id`: dedupe on it."),
        ),
        "timestamp": (dt.datetime, Field(description="When the change happened (observed).")),
        "workspace_id": (uuid.UUID, Field(description="The Orchard workspace.")),
        "data": (spec.data, Field(description="The REST resource the event refers to.")),
    }
    model: type[BaseModel] = create_model(name, __doc__=spec.summary, **fields)
    return model

"""API shapes for webhooks: subscriptions, their secrets, deliveries and the event catalogue."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

MAX_EVENT_TYPES = 50

URL = Field(
    max_length=2048,
    description="Where to POST events: `https://`, resolving to public addresses only (Orchard "
    "checks the address again at every delivery). `http://` and private or loopback addresses "
    "only when the server runs with `ORCHARD_WEBHOOKS_ALLOW_PRIVATE=true`.",
    examples=["https://hooks.example.com/orchard"],
)
EVENT_TYPES = Field(
    min_length=1,
    max_length=MAX_EVENT_TYPES,
    description='Event types to receive (see `GET /v1/webhook-event-types`), or `["*"]` for '
    "every type, including types added later.",
    examples=[["review.created", "app_version.state_changed"]],
)


class WebhookState(StrEnum):
    ACTIVE = "active"
    FAILING = "failing"
    PAUSED = "paused"
    DISABLED = "disabled"


class WebhookCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = URL
    event_types: list[str] = EVENT_TYPES
    account_id: uuid.UUID | None = Field(
        default=None, description="Only events of this linked account."
    )
    app_id: uuid.UUID | None = Field(default=None, description="Only events of this app.")
    description: str | None = Field(default=None, max_length=500)


class WebhookUpdate(BaseModel):
    """Fields to change; omitted fields stay as they are."""

    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(default=None, max_length=2048)
    event_types: list[str] | None = Field(default=None, min_length=1, max_length=MAX_EVENT_TYPES)
    account_id: uuid.UUID | None = Field(default=None, description="null removes the filter.")
    app_id: uuid.UUID | None = Field(default=None, description="null removes the filter.")
    description: str | None = Field(default=None, max_length=500)
    enabled: bool | None = Field(
        default=None,
        description="false pauses deliveries (new events are not queued meanwhile); true "
        "resumes them, and re-enables an endpoint Orchard disabled (its pending deliveries "
        "go out in order).",
    )


class WebhookRead(BaseModel):
    """A webhook subscription. Its signing secret is shown once, when created or rotated."""

    id: uuid.UUID
    url: str
    description: str | None
    event_types: list[str]
    account_id: uuid.UUID | None
    app_id: uuid.UUID | None
    enabled: bool = Field(description="false while paused by the subscriber.")
    state: WebhookState = Field(
        description="`active`; `failing` (the last attempt failed: deliveries are retried "
        "with backoff); `paused` (`enabled: false`); `disabled` (Orchard stopped: see "
        "`disabled_reason`, PATCH `enabled: true` to resume)."
    )
    disabled_at: dt.datetime | None
    disabled_reason: str | None = Field(
        description="`gone`: the receiver answered 410; `failing`: every attempt failed for "
        "`ORCHARD_WEBHOOKS_DISABLE_AFTER` (default 3 days)."
    )
    failing_since: dt.datetime | None = Field(
        description="The first failed attempt since the last success (null while healthy)."
    )
    last_success_at: dt.datetime | None
    last_failure_at: dt.datetime | None
    pending_deliveries: int = Field(description="Events waiting to be delivered.")
    previous_secret_expires_at: dt.datetime | None = Field(
        description="After a rotation: until when the previous secret signs too."
    )
    created_at: dt.datetime
    updated_at: dt.datetime


class WebhookWithSecret(WebhookRead):
    secret: str = Field(
        description="The signing secret (`whsec_` + base64), shown only now: keep it to verify "
        "the `webhook-signature` header (Standard Webhooks)."
    )


class SecretRotation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    grace_seconds: int = Field(
        default=86400,
        ge=0,
        le=7 * 86400,
        description="How long the old secret keeps signing beside the new one (two "
        "signatures in `webhook-signature`), so receivers can switch without losing events.",
    )


class DeliveryState(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class DeliveryRead(BaseModel):
    """One event for one endpoint, with its last attempt. Never the secret or signature."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    event_id: uuid.UUID = Field(description="Sent as `webhook-id` on every attempt.")
    event_type: str
    state: DeliveryState
    attempts: int = Field(description="Attempts since it was queued (or last retried).")
    manual_retries: int
    created_at: dt.datetime
    last_attempt_at: dt.datetime | None
    next_attempt_at: dt.datetime | None = Field(description="While pending: the next try.")
    finished_at: dt.datetime | None
    response_status_code: int | None
    latency_ms: int | None
    error: str | None = Field(description="Why the last attempt failed.")
    response_body: str | None = Field(
        description="The start of the receiver's answer (at most 1,024 characters)."
    )


class DeliveryDetail(DeliveryRead):
    payload: dict[str, Any] = Field(description="The body that is sent, as JSON.")


class EventTypeRead(BaseModel):
    name: str = Field(examples=["review.created"])
    summary: str
    description: str
    subscribable: bool = Field(description="false: sent on request only (the test ping).")
    payload_schema: dict[str, Any] = Field(
        description="JSON Schema of the whole body: `{type, id, timestamp, workspace_id, "
        "data}`, `data` being the REST resource the event refers to."
    )


class EventTypeList(BaseModel):
    items: list[EventTypeRead]
    next_cursor: None = Field(
        default=None,
        description="Always null: the whole catalogue is one page. Present so one generic "
        "pager fits every list.",
    )

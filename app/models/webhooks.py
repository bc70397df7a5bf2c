"""Webhooks: subscribed endpoints, the outbox of events, and one delivery per (endpoint, event).

An event is written by the transaction of the change it describes (``app.outbox``), with one
``pending`` delivery per subscribed endpoint. Delivery workers lease an *endpoint* (so one
delivery per endpoint is in flight and its events go out in order) and work through its
pending deliveries by ``seq``.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, UuidPrimaryKey


class WebhookEndpoint(UuidPrimaryKey, Base):
    """A subscription: where to send which events, signed with which secret."""

    __tablename__ = "webhook_endpoints"

    workspace_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    url: Mapped[str] = mapped_column(String(2048))
    description: Mapped[str | None] = mapped_column(String(500))
    #: Event type names, or ``*`` for every subscribable type.
    event_types: Mapped[list[str]] = mapped_column(ARRAY(String(64)))
    # Optional filters: only events of this account / app.
    account_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("asc_accounts.id", ondelete="CASCADE")
    )
    app_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"))
    # The signing secret (``whsec_…``), encrypted like the App Store Connect keys; during a
    # rotation's grace period the previous one signs too.
    encrypted_secret: Mapped[bytes] = mapped_column(LargeBinary)
    encrypted_previous_secret: Mapped[bytes | None] = mapped_column(LargeBinary)
    previous_secret_expires_at: Mapped[dt.datetime | None] = mapped_column()
    #: Switched by the subscriber (PATCH ``enabled``).
    enabled: Mapped[bool] = mapped_column(server_default=text("true"))
    # Set when Orchard stopped delivering: ``gone`` (the receiver answered 410) or
    # ``failing`` (every attempt failed for ORCHARD_WEBHOOKS_DISABLE_AFTER).
    disabled_at: Mapped[dt.datetime | None] = mapped_column()
    disabled_reason: Mapped[str | None] = mapped_column(String(32))
    #: First failed attempt since the last success (null while healthy).
    failing_since: Mapped[dt.datetime | None] = mapped_column()
    last_success_at: Mapped[dt.datetime | None] = mapped_column()
    last_failure_at: Mapped[dt.datetime | None] = mapped_column()
    # The delivery lease: the worker sending this endpoint's events now.
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    lease_expires_at: Mapped[dt.datetime | None] = mapped_column()
    last_claimed_at: Mapped[dt.datetime | None] = mapped_column()
    created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())


class WebhookEvent(UuidPrimaryKey, Base):
    """An event in the outbox: its body as sent (the same bytes on every attempt)."""

    __tablename__ = "webhook_events"
    __table_args__ = (Index("ix_webhook_events_created_at", "created_at"),)

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(64))
    account_id: Mapped[uuid.UUID | None] = mapped_column()
    app_id: Mapped[uuid.UUID | None] = mapped_column()
    occurred_at: Mapped[dt.datetime] = mapped_column()
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())


class WebhookDelivery(UuidPrimaryKey, Base):
    """One event for one endpoint: ``pending`` until it succeeded or its attempts ran out
    (``failed``). ``seq`` is the order the endpoint receives its events in."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        # The head of each endpoint's queue, and the claim's look at it.
        Index(
            "ix_webhook_deliveries_pending",
            "endpoint_id",
            "seq",
            postgresql_where=text("state = 'pending'"),
        ),
        # The deliveries list, newest first.
        Index("ix_webhook_deliveries_endpoint_id_seq", "endpoint_id", "seq"),
        Index("ix_webhook_deliveries_event_id", "event_id"),
    )

    seq: Mapped[int] = mapped_column(BigInteger, Identity(always=True))
    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    endpoint_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("webhook_endpoints.id", ondelete="CASCADE")
    )
    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("webhook_events.id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    next_attempt_at: Mapped[dt.datetime] = mapped_column()
    last_attempt_at: Mapped[dt.datetime | None] = mapped_column()
    last_status_code: Mapped[int | None] = mapped_column(SmallInteger)
    last_latency_ms: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    #: The receiver's answer, truncated (never anything Orchard sent).
    last_response_body: Mapped[str | None] = mapped_column(Text)
    #: How many times a subscriber asked for it again (``POST …/retry``).
    manual_retries: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    finished_at: Mapped[dt.datetime | None] = mapped_column()
    created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())

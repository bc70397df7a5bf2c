"""App Store Connect webhooks Orchard registers at Apple (inbound release events): one receiver
per account (an unguessable URL token), one webhook per app (its own secret, encrypted at rest
like keys), and the deliveries seen (deduplicated by Apple's event id)."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import ForeignKey, LargeBinary, String, Text, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, UuidPrimaryKey


class AppleWebhookReceiver(Base):
    """An account's receiving end: the token in its URL (stored hashed for look-up and
    encrypted to build URLs) and whether webhooks are on, with the reason when not."""

    __tablename__ = "apple_webhook_receivers"

    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("asc_accounts.id", ondelete="CASCADE"), primary_key=True
    )
    workspace_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    encrypted_token: Mapped[bytes | None] = mapped_column(LargeBinary)
    # on | off
    state: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    checked_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    last_delivery_at: Mapped[dt.datetime | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[dt.datetime | None] = mapped_column()


class AppleWebhook(UuidPrimaryKey, Base):
    """Orchard's webhook at Apple for one app of an account."""

    __tablename__ = "apple_webhooks"
    __table_args__ = (UniqueConstraint("account_id", "app_apple_id"),)

    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("asc_accounts.id", ondelete="CASCADE"))
    workspace_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    app_apple_id: Mapped[str] = mapped_column(String(32))
    apple_webhook_id: Mapped[str] = mapped_column(String(64))
    encrypted_secret: Mapped[bytes] = mapped_column(LargeBinary)
    event_types: Mapped[list[str]] = mapped_column(ARRAY(String(64)))
    created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    last_delivery_at: Mapped[dt.datetime | None] = mapped_column()


class AppleWebhookDelivery(Base):
    """A delivery Orchard accepted (signature verified); a repeat of its event id is ignored."""

    __tablename__ = "apple_webhook_deliveries"

    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("asc_accounts.id", ondelete="CASCADE"), primary_key=True
    )
    event_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    app_apple_id: Mapped[str] = mapped_column(String(32))
    data_type: Mapped[str] = mapped_column(String(100))
    received_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())

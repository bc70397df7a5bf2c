"""TestFlight feedback: crash and screenshot submissions of an app's testers."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, UuidPrimaryKey


class BetaFeedback(UuidPrimaryKey, Base):
    """One submission as Apple lists it (``betaFeedbackCrashSubmissions`` or
    ``betaFeedbackScreenshotSubmissions``). Screenshot URLs are temporary: ``screenshots``
    keeps their metadata (size, the URL and its expiry as last seen); the image is fetched on
    demand, never stored."""

    __tablename__ = "beta_feedback"
    __table_args__ = (
        UniqueConstraint("account_id", "apple_id"),
        Index("ix_beta_feedback_app_id_submitted_at", "app_id", "submitted_at"),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("asc_accounts.id", ondelete="CASCADE"))
    app_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"))
    apple_id: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(16))  # crash | screenshot
    submitted_at: Mapped[dt.datetime] = mapped_column()
    comment: Mapped[str | None] = mapped_column(Text)
    tester_email: Mapped[str | None] = mapped_column(String(320))
    tester_apple_id: Mapped[str | None] = mapped_column(String(64))
    build_apple_id: Mapped[str | None] = mapped_column(String(64))
    device_model: Mapped[str | None] = mapped_column(String(64))
    device_family: Mapped[str | None] = mapped_column(String(32))
    os_version: Mapped[str | None] = mapped_column(String(32))
    app_platform: Mapped[str | None] = mapped_column(String(32))
    device_platform: Mapped[str | None] = mapped_column(String(32))
    locale: Mapped[str | None] = mapped_column(String(32))
    time_zone: Mapped[str | None] = mapped_column(String(64))
    connection_type: Mapped[str | None] = mapped_column(String(32))
    battery_percentage: Mapped[int | None] = mapped_column(Integer)
    app_uptime_ms: Mapped[int | None] = mapped_column(BigInteger)
    crash_log_url: Mapped[str | None] = mapped_column(Text)
    screenshots: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    first_seen_at: Mapped[dt.datetime] = mapped_column()
    last_seen_at: Mapped[dt.datetime] = mapped_column()

"""Public App Store data: tracked apps, storefronts, star-rating and chart snapshots, and the
shared request budget every process spends on Apple's public endpoints.

Snapshots are public data, stored once for every workspace (keyed by Apple's app id, not by
workspace); what a workspace may read is decided by what it tracks.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Date,
    ForeignKey,
    Identity,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, UuidPrimaryKey


class StoreTrackedApp(UuidPrimaryKey, Base):
    """An app a workspace follows in the public store: every linked app (a row appears when
    its account's app list is stored) and any other app added by its Apple id.

    A row tracks while its app is linked (a live catalog app of a linked account) or was
    added by hand; ``effective_storefronts`` is the override, else the workspace's storefronts,
    kept current by the store datasets' planner."""

    __tablename__ = "store_tracked_apps"
    __table_args__ = (
        UniqueConstraint("workspace_id", "apple_id"),
        Index("ix_store_tracked_apps_apple_id", "apple_id"),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    apple_id: Mapped[int] = mapped_column(BigInteger)
    added_manually: Mapped[bool] = mapped_column(server_default=text("false"))
    storefronts: Mapped[list[str] | None] = mapped_column(ARRAY(String(2)))
    effective_storefronts: Mapped[list[str]] = mapped_column(
        ARRAY(String(2)), server_default=text("'{}'")
    )
    created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())


class StoreWorkspaceSettings(Base):
    """A workspace's storefronts: configured, or derived from where it has sales."""

    __tablename__ = "store_workspace_settings"

    workspace_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True
    )
    storefronts: Mapped[list[str] | None] = mapped_column(ARRAY(String(2)))
    effective_storefronts: Mapped[list[str]] = mapped_column(
        ARRAY(String(2)), server_default=text("'{}'")
    )
    effective_source: Mapped[str] = mapped_column(String(16), server_default=text("'default'"))
    refreshed_at: Mapped[dt.datetime | None] = mapped_column()
    updated_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())


class StoreApp(Base):
    """What the public store last said about an app (from Lookup)."""

    __tablename__ = "store_apps"

    apple_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    artist_name: Mapped[str | None] = mapped_column(Text)
    bundle_id: Mapped[str | None] = mapped_column(Text)
    primary_genre_id: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())


class StoreRatingSnapshot(Base):
    """One app's summary rating in one storefront on one (UTC) day, as Lookup answered.

    ``status`` is ``ok`` or ``not_in_storefront`` (Lookup had no such app there: no figures,
    never zeros). ``reset_detected``: the count dropped sharply against the previous snapshot
    (Apple resets a summary rating with a release); the drop is a fact, not a data error."""

    __tablename__ = "store_rating_snapshots"

    apple_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    country: Mapped[str] = mapped_column(String(2), primary_key=True)
    snapshot_date: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    status: Mapped[str] = mapped_column(String(24))
    rating_count: Mapped[int | None] = mapped_column(Integer)
    average: Mapped[Decimal | None] = mapped_column(Numeric)
    current_version_rating_count: Mapped[int | None] = mapped_column(Integer)
    current_version_average: Mapped[Decimal | None] = mapped_column(Numeric)
    version: Mapped[str | None] = mapped_column(String(64))
    version_released_at: Mapped[dt.datetime | None] = mapped_column()
    reset_detected: Mapped[bool] = mapped_column(server_default=text("false"))
    fetched_at: Mapped[dt.datetime] = mapped_column()


class StoreChartSnapshot(Base):
    """A chart as one feed served it: storefront, chart, genre and the ordered app ids.

    Stored once: while the feed keeps serving the same list (same ``feed_updated_at`` and
    ids) later fetches only move ``last_fetched_at``. A feed that stops answering usable data
    is a row with ``status = 'unavailable'`` (and no ids): a gap, never a chart of zeros."""

    __tablename__ = "store_chart_snapshots"
    __table_args__ = (
        Index(
            "ix_store_chart_snapshots_chart_time", "country", "chart", "genre", "first_fetched_at"
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    country: Mapped[str] = mapped_column(String(2))
    chart: Mapped[str] = mapped_column(String(32))
    genre: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str | None] = mapped_column(Text)
    feed: Mapped[str] = mapped_column(String(16))
    feed_updated_at: Mapped[dt.datetime | None] = mapped_column()
    requested_n: Mapped[int] = mapped_column(Integer)
    depth: Mapped[int] = mapped_column(Integer)
    app_ids: Mapped[list[int]] = mapped_column(ARRAY(BigInteger), server_default=text("'{}'"))
    names: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'"))
    first_fetched_at: Mapped[dt.datetime] = mapped_column()
    last_fetched_at: Mapped[dt.datetime] = mapped_column()


class StoreRequestBudget(Base):
    """The one request budget every process shares for Apple's public endpoints (a lane).

    A request takes the next free slot (``next_slot_at`` moves on by 60 / per-minute seconds);
    a 403 (Apple's "throttled") blocks the lane with exponential backoff for everybody."""

    __tablename__ = "store_request_budget"

    lane: Mapped[str] = mapped_column(String(32), primary_key=True)
    next_slot_at: Mapped[dt.datetime] = mapped_column()
    blocked_until: Mapped[dt.datetime | None] = mapped_column()
    consecutive_throttles: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    last_throttled_at: Mapped[dt.datetime | None] = mapped_column()

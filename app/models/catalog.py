from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Identity,
    Index,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, UuidPrimaryKey


class App(UuidPrimaryKey, Base):
    """An app as App Store Connect lists it for one linked account."""

    __tablename__ = "apps"
    __table_args__ = (
        UniqueConstraint("account_id", "apple_id"),
        Index("ix_apps_workspace_id_name", "workspace_id", "name"),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("asc_accounts.id", ondelete="CASCADE"))
    # Apple's numeric id, the same value as "Apple Identifier" in reports (the join key).
    apple_id: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(255))
    bundle_id: Mapped[str] = mapped_column(String(255))
    sku: Mapped[str] = mapped_column(String(255))
    primary_locale: Mapped[str | None] = mapped_column(String(16))
    first_seen_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    last_seen_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    removed_at: Mapped[dt.datetime | None] = mapped_column()
    # When each per-app dataset first finished for this app: before that, everything a unit
    # sees is "first observed" rather than "changed", so it raises no events.
    versions_synced_at: Mapped[dt.datetime | None] = mapped_column()
    builds_synced_at: Mapped[dt.datetime | None] = mapped_column()
    testflight_synced_at: Mapped[dt.datetime | None] = mapped_column()
    submissions_synced_at: Mapped[dt.datetime | None] = mapped_column()


class _AppChild:
    """Columns every per-app table shares. Rows Apple stops listing get ``removed_at``."""

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("asc_accounts.id", ondelete="CASCADE"))
    app_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"))
    apple_id: Mapped[str] = mapped_column(String(64))
    first_seen_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    last_seen_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    removed_at: Mapped[dt.datetime | None] = mapped_column()


class AppVersion(UuidPrimaryKey, _AppChild, Base):
    """An App Store version. Apple's enums are kept as text: Apple adds values."""

    __tablename__ = "app_versions"
    __table_args__ = (
        UniqueConstraint("app_id", "apple_id"),
        Index(
            "ix_app_versions_workspace_id_app_version_state", "workspace_id", "app_version_state"
        ),
    )

    platform: Mapped[str] = mapped_column(Text)
    version_string: Mapped[str] = mapped_column(String(64))
    app_version_state: Mapped[str | None] = mapped_column(Text)
    app_store_state: Mapped[str | None] = mapped_column(Text)  # deprecated by Apple
    release_type: Mapped[str | None] = mapped_column(Text)
    earliest_release_date: Mapped[dt.datetime | None] = mapped_column()
    created_date: Mapped[dt.datetime | None] = mapped_column()
    downloadable: Mapped[bool | None] = mapped_column()
    build_apple_id: Mapped[str | None] = mapped_column(String(64))
    build_number: Mapped[str | None] = mapped_column(String(64))
    phased_release_state: Mapped[str | None] = mapped_column(Text)
    phased_release_start_date: Mapped[dt.datetime | None] = mapped_column()
    phased_release_day: Mapped[int | None] = mapped_column()
    # When Orchard saw the version enter its current state (or first saw it, see below).
    state_since: Mapped[dt.datetime] = mapped_column()
    # False when the version was already in this state the first time Orchard saw it.
    state_since_observed: Mapped[bool] = mapped_column()


class AppVersionStateChange(UuidPrimaryKey, Base):
    """One observed change of a version's state; the first observation has no ``from``."""

    __tablename__ = "app_version_state_changes"
    __table_args__ = (
        Index("ix_app_version_state_changes_version_id_observed_at", "version_id", "observed_at"),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("asc_accounts.id", ondelete="CASCADE"))
    version_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_versions.id", ondelete="CASCADE"))
    from_state: Mapped[str | None] = mapped_column(Text)
    to_state: Mapped[str | None] = mapped_column(Text)
    from_store_state: Mapped[str | None] = mapped_column(Text)
    to_store_state: Mapped[str | None] = mapped_column(Text)
    observed_at: Mapped[dt.datetime] = mapped_column()


class Build(UuidPrimaryKey, _AppChild, Base):
    __tablename__ = "builds"
    __table_args__ = (
        UniqueConstraint("app_id", "apple_id"),
        Index("ix_builds_app_id_uploaded_at", "app_id", "uploaded_at"),
    )

    build_number: Mapped[str] = mapped_column(String(64))  # Apple's `version` attribute
    version_string: Mapped[str | None] = mapped_column(String(64))  # the pre-release version
    platform: Mapped[str | None] = mapped_column(Text)
    uploaded_at: Mapped[dt.datetime | None] = mapped_column()
    expires_at: Mapped[dt.datetime | None] = mapped_column()
    expired: Mapped[bool] = mapped_column()
    processing_state: Mapped[str | None] = mapped_column(Text)
    audience_type: Mapped[str | None] = mapped_column(Text)
    min_os_version: Mapped[str | None] = mapped_column(String(32))
    internal_state: Mapped[str | None] = mapped_column(Text)
    external_state: Mapped[str | None] = mapped_column(Text)


class BetaGroup(UuidPrimaryKey, _AppChild, Base):
    __tablename__ = "beta_groups"
    __table_args__ = (UniqueConstraint("app_id", "apple_id"),)

    name: Mapped[str] = mapped_column(String(255))
    is_internal: Mapped[bool] = mapped_column()
    has_access_to_all_builds: Mapped[bool | None] = mapped_column()
    public_link_enabled: Mapped[bool | None] = mapped_column()
    public_link: Mapped[str | None] = mapped_column(Text)
    public_link_limit_enabled: Mapped[bool | None] = mapped_column()
    public_link_limit: Mapped[int | None] = mapped_column()
    feedback_enabled: Mapped[bool | None] = mapped_column()
    created_date: Mapped[dt.datetime | None] = mapped_column()


class BetaTester(UuidPrimaryKey, _AppChild, Base):
    """A tester of one app (Apple's testers are team-wide; Orchard keeps one row per app)."""

    __tablename__ = "beta_testers"
    __table_args__ = (UniqueConstraint("app_id", "apple_id"),)

    first_name: Mapped[str | None] = mapped_column(String(255))
    last_name: Mapped[str | None] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(320))
    invite_type: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str | None] = mapped_column(Text)
    # Apple ids of the app's beta groups the tester is in.
    group_apple_ids: Mapped[list[str]] = mapped_column(ARRAY(String(64)))


class ReviewSubmission(UuidPrimaryKey, _AppChild, Base):
    __tablename__ = "review_submissions"
    __table_args__ = (UniqueConstraint("app_id", "apple_id"),)

    platform: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str | None] = mapped_column(Text)
    submitted_date: Mapped[dt.datetime | None] = mapped_column()
    submitted_by_actor_type: Mapped[str | None] = mapped_column(Text)
    version_apple_id: Mapped[str | None] = mapped_column(String(64))  # the version for review
    # [{"apple_id", "state", "app_store_version_apple_id"}] — what the submission contains.
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)


class _TeamRow:
    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("asc_accounts.id", ondelete="CASCADE"))
    apple_id: Mapped[str] = mapped_column(String(64))
    first_name: Mapped[str | None] = mapped_column(String(255))
    last_name: Mapped[str | None] = mapped_column(String(255))
    roles: Mapped[list[str]] = mapped_column(ARRAY(Text))
    all_apps_visible: Mapped[bool] = mapped_column()
    provisioning_allowed: Mapped[bool | None] = mapped_column()
    visible_app_apple_ids: Mapped[list[str]] = mapped_column(ARRAY(String(64)))
    # Apple's count of visible apps (it sends at most 50 ids per person).
    visible_app_total: Mapped[int | None] = mapped_column()
    first_seen_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    last_seen_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    removed_at: Mapped[dt.datetime | None] = mapped_column()


class TeamMember(UuidPrimaryKey, _TeamRow, Base):
    __tablename__ = "team_members"
    __table_args__ = (UniqueConstraint("account_id", "apple_id"),)

    username: Mapped[str] = mapped_column(String(320))


class TeamInvitation(UuidPrimaryKey, _TeamRow, Base):
    __tablename__ = "team_invitations"
    __table_args__ = (UniqueConstraint("account_id", "apple_id"),)

    email: Mapped[str] = mapped_column(String(320))
    expires_at: Mapped[dt.datetime | None] = mapped_column()


class CatalogEvent(UuidPrimaryKey, Base):
    """A change Orchard observed, for the ``/v1/events`` feed.

    The feed is ordered by (``txid``, ``seq``): the writing transaction's id, then insertion
    order. Readers only see events of transactions older than every transaction still running
    (``pg_snapshot_xmin``), so a page boundary never skips an event that commits later.
    """

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_workspace_id_txid_seq", "workspace_id", "txid", "seq"),)

    seq: Mapped[int] = mapped_column(BigInteger, Identity(always=True))
    txid: Mapped[int] = mapped_column(
        BigInteger, server_default=text("(pg_current_xact_id())::text::bigint")
    )
    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    # Null on notices about the workspace itself (a webhook endpoint was disabled).
    account_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("asc_accounts.id", ondelete="CASCADE")
    )
    app_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(64))
    subject_type: Mapped[str] = mapped_column(String(64))
    subject_id: Mapped[uuid.UUID] = mapped_column()
    subject_apple_id: Mapped[str | None] = mapped_column(String(64))
    from_state: Mapped[str | None] = mapped_column(Text)
    to_state: Mapped[str | None] = mapped_column(Text)
    observed_at: Mapped[dt.datetime] = mapped_column()
    details: Mapped[dict[str, Any]] = mapped_column(JSONB)

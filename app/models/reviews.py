"""Customer reviews with their developer responses, per-app sync state, and idempotent replies."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Computed,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB, TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, UuidPrimaryKey

# Why the ``simple`` text-search configuration: reviews arrive in every storefront's
# language, often several within one app, and a review carries no reliable language tag.
# A language-specific configuration (``english``) would stem and drop stop words by English
# rules, mangling German, French or Spanish words and making some of them unfindable;
# ``simple`` only lower-cases and splits on word boundaries, so every language (Latin,
# Cyrillic, Arabic, Korean…) is indexed the same way and matches whole words. Search adds a
# prefix match on each query word to make up for the missing stemming ("crash" finds
# "crashes"). Scripts written without spaces (Japanese, Chinese) become one lexeme per run
# of text; the service complements those with a substring match.
SEARCH_DOCUMENT = (
    "to_tsvector('simple'::regconfig, coalesce(title, '') || ' ' || coalesce(body, ''))"
)


class CustomerReview(UuidPrimaryKey, Base):
    """A written customer review of an app, as App Store Connect lists it for one account."""

    __tablename__ = "customer_reviews"
    __table_args__ = (
        UniqueConstraint("account_id", "apple_id"),
        CheckConstraint("rating BETWEEN 1 AND 5", name="rating_range"),
        Index("ix_customer_reviews_workspace_id_created_at", "workspace_id", "created_at", "id"),
        Index("ix_customer_reviews_app_id_created_at", "app_id", "created_at"),
        Index("ix_customer_reviews_search_vector", "search_vector", postgresql_using="gin"),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("asc_accounts.id", ondelete="CASCADE"))
    app_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"))
    app_apple_id: Mapped[str] = mapped_column(String(32))
    apple_id: Mapped[str] = mapped_column(String(64))
    rating: Mapped[int] = mapped_column(SmallInteger)
    title: Mapped[str | None] = mapped_column(Text)
    body: Mapped[str | None] = mapped_column(Text)
    reviewer_nickname: Mapped[str | None] = mapped_column(Text)
    # Apple's ISO 3166-1 alpha-3 storefront code, and the alpha-2 code sales reports use.
    territory: Mapped[str] = mapped_column(String(3))
    country_code: Mapped[str | None] = mapped_column(String(2))
    # Apple's ``createdDate`` (kept when the customer edits the review).
    created_at: Mapped[dt.datetime] = mapped_column()
    first_seen_at: Mapped[dt.datetime] = mapped_column()
    last_seen_at: Mapped[dt.datetime] = mapped_column()
    removed_at: Mapped[dt.datetime | None] = mapped_column()
    response_apple_id: Mapped[str | None] = mapped_column(String(64))
    response_body: Mapped[str | None] = mapped_column(Text)
    response_state: Mapped[str | None] = mapped_column(String(32))
    response_last_modified_at: Mapped[dt.datetime | None] = mapped_column()
    # When Orchard itself last wrote or deleted the reply: a sync that started earlier must
    # not overwrite it with what it fetched before.
    reply_changed_at: Mapped[dt.datetime | None] = mapped_column()
    search_vector: Mapped[Any] = mapped_column(
        TSVECTOR, Computed(SEARCH_DOCUMENT, persisted=True), deferred=True
    )


class ReviewSyncState(UuidPrimaryKey, Base):
    """Per app: when the last pass ran and when the last full pass (which marks removals) ran."""

    __tablename__ = "review_sync_states"
    __table_args__ = (UniqueConstraint("account_id", "app_apple_id"),)

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("asc_accounts.id", ondelete="CASCADE"))
    app_apple_id: Mapped[str] = mapped_column(String(32))
    last_pass_at: Mapped[dt.datetime] = mapped_column()
    last_full_pass_at: Mapped[dt.datetime | None] = mapped_column()
    last_pass_requests: Mapped[int] = mapped_column(Integer)
    last_pass_reviews: Mapped[int] = mapped_column(Integer)


class ReviewReplyRequest(UuidPrimaryKey, Base):
    """An ``Idempotency-Key`` of a reply request: the request's fingerprint and our answer."""

    __tablename__ = "review_reply_requests"
    __table_args__ = (UniqueConstraint("workspace_id", "idempotency_key"),)

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    review_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("customer_reviews.id", ondelete="CASCADE"), index=True
    )
    idempotency_key: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(SmallInteger)
    response: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())

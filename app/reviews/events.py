"""The reviews domain's webhook events, written in the transaction that stored the change: a
new review, a customer's edit, a developer response that became visible on the App Store.

The first pass over an app stores its history without events (like the changes feed: a
newly linked account must not flood subscribers with years of reviews).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from app.outbox.catalogue import EventTypeSpec
from app.outbox.writer import OutboxEvent, publish, wants
from app.reviews import repository
from app.reviews.apple import ReviewRecord
from app.reviews.ingest import StoredReview
from app.reviews.schemas import ReviewRead
from app.reviews.service import review_read

REVIEW_CREATED = "review.created"
REVIEW_UPDATED = "review.updated"
RESPONSE_PUBLISHED = "review.response.published"
PUBLISHED = "PUBLISHED"
TYPES = (REVIEW_CREATED, REVIEW_UPDATED, RESPONSE_PUBLISHED)

EVENT_TYPES = [
    EventTypeSpec(
        name=REVIEW_CREATED,
        summary="A customer review arrived",
        description="A sync found a review Orchard had not stored before (not on the first "
        "sync of an app, which stores its history quietly). `data` is the review as `GET "
        "/v1/reviews/{id}` shows it.",
        data=ReviewRead,
    ),
    EventTypeSpec(
        name=REVIEW_UPDATED,
        summary="A customer edited a review",
        description="The rating, title or text of a stored review changed. `data` is the "
        "review after the edit.",
        data=ReviewRead,
    ),
    EventTypeSpec(
        name=RESPONSE_PUBLISHED,
        summary="A developer response became visible",
        description="A review's developer response reached Apple's `PUBLISHED` state (seen by "
        "a sync, or answered so by App Store Connect when Orchard wrote the reply). `data` is "
        "the review with its `response`.",
        data=ReviewRead,
    ),
]


@dataclass
class ReviewChanges:
    """Apple ids of what one sync pass changed, by event type."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    published: list[str] = field(default_factory=list)

    def add(self, records: Iterable[ReviewRecord], before: dict[str, StoredReview]) -> None:
        for record in records:
            stored = before.get(record.apple_id)
            if stored is None:
                self.created.append(record.apple_id)
                continue
            if (record.rating, record.title, record.body) != (
                stored.rating,
                stored.title,
                stored.body,
            ):
                self.updated.append(record.apple_id)
            reply = record.reply
            if reply is not None and reply.state == PUBLISHED and not stored.reply_kept:
                seen = (stored.response_apple_id, stored.response_body, stored.response_state)
                if seen != (reply.apple_id, reply.body, PUBLISHED):
                    self.published.append(record.apple_id)


async def subscribed(session: AsyncSession, workspace_id: uuid.UUID) -> bool:
    return await wants(session, workspace_id, TYPES)


async def publish_changes(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    account_id: uuid.UUID,
    changes: ReviewChanges,
    now: dt.datetime,
) -> int:
    wanted = {*changes.created, *changes.updated, *changes.published}
    if not wanted:
        return 0
    rows = {
        row.review.apple_id: row
        for row in await repository.reviews_by_apple_id(session, account_id, sorted(wanted))
    }
    events = []
    for event_type, apple_ids in (
        (REVIEW_CREATED, changes.created),
        (REVIEW_UPDATED, changes.updated),
        (RESPONSE_PUBLISHED, changes.published),
    ):
        found = sorted(
            (rows[a] for a in set(apple_ids) if a in rows),
            key=lambda row: (row.review.created_at, row.review.id),
        )
        events += [_event(event_type, review_read(row), now) for row in found]
    return await publish(session, workspace_id, events)


def _event(event_type: str, review: ReviewRead, now: dt.datetime) -> OutboxEvent:
    return OutboxEvent(
        type=event_type,
        data=review.model_dump(mode="json"),
        occurred_at=now,
        account_id=review.account_id,
        app_id=review.app_id,
    )


async def publish_reply(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    account_id: uuid.UUID,
    apple_id: str,
    now: dt.datetime,
) -> int:
    """A reply Orchard wrote that App Store Connect answered as already published."""
    return await publish_changes(
        session, workspace_id, account_id, ReviewChanges(published=[apple_id]), now
    )

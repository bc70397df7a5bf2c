"""Observed changes: what the syncers append to the ``/v1/events`` feed.

A unit compares what Apple lists now with what the previous run stored, inside the unit's
transaction, so an event commits together with the rows it describes (or not at all).

First observations are not changes: the first run of a dataset for an app records what it
finds without events (it has nothing to compare with, and would otherwise flood the feed with
an account's whole history when it is linked). After that, something new that Apple lists is
an event with ``from_state`` null — e.g. a build that was uploaded and processed between two
runs is reported as processed.

Every event also lands in the webhooks outbox (:mod:`app.outbox`), in the same transaction,
as ``WEBHOOK_TYPES[type]`` with the feed's item as its ``data`` and the same id.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.models import CatalogEvent
from app.outbox.writer import OutboxEvent, publish
from app.resources import bulk
from app.resources.units import AppRef


class EventType(StrEnum):
    VERSION_STATE_CHANGED = "version_state_changed"
    BUILD_PROCESSED = "build_processed"
    BUILD_EXPIRED = "build_expired"
    TESTER_ACCEPTED = "tester_accepted"
    REVIEW_SUBMISSION_STATE_CHANGED = "review_submission_state_changed"
    #: The App Store summary rating of a storefront started over (its count dropped sharply,
    #: as when a developer resets it with a release): public store data, not a data error.
    STORE_RATING_RESET = "store_rating_reset"
    WEBHOOK_DISABLED = "webhook_disabled"


class SubjectType(StrEnum):
    APP_VERSION = "app_version"
    BUILD = "build"
    BETA_TESTER = "beta_tester"
    REVIEW_SUBMISSION = "review_submission"
    STORE_RATING = "store_rating"
    WEBHOOK = "webhook"


#: The webhook event type of each feed event (Standard Webhooks names: dotted, general first).
WEBHOOK_TYPES = {
    EventType.VERSION_STATE_CHANGED: "app_version.state_changed",
    EventType.BUILD_PROCESSED: "build.processing_state_changed",
    EventType.BUILD_EXPIRED: "build.expired",
    EventType.TESTER_ACCEPTED: "beta_tester.accepted",
    EventType.REVIEW_SUBMISSION_STATE_CHANGED: "review_submission.state_changed",
    EventType.STORE_RATING_RESET: "store.rating_reset",
    EventType.WEBHOOK_DISABLED: "webhook.disabled",
}


#: Processing states a build ends in (anything Apple adds later that is not PROCESSING too).
PROCESSING = "PROCESSING"
#: Tester states that mean the invitation was accepted.
ACCEPTED_STATES = frozenset({"ACCEPTED", "INSTALLED"})


@dataclass(frozen=True)
class Change:
    type: EventType
    subject_type: SubjectType
    subject_apple_id: str
    from_state: str | None
    to_state: str | None
    details: dict[str, Any] = field(default_factory=dict)


async def record(
    session: AsyncSession,
    app: AppRef,
    changes: list[Change],
    subject_ids: dict[str, uuid.UUID],
    now: dt.datetime,
) -> int:
    """Append one event per change (``subject_ids``: Apple id → Orchard row id)."""
    rows = [
        {
            "id": uuid.uuid4(),
            **app.owned(),
            "type": change.type.value,
            "subject_type": change.subject_type.value,
            "subject_id": subject_ids[change.subject_apple_id],
            "subject_apple_id": change.subject_apple_id,
            "from_state": change.from_state,
            "to_state": change.to_state,
            "observed_at": now,
            "details": change.details,
        }
        for change in changes
    ]
    await _append(session, app.workspace_id, rows)
    return len(rows)


async def notice(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    *,
    type: EventType,
    subject_type: SubjectType,
    subject_id: uuid.UUID,
    from_state: str | None,
    to_state: str | None,
    details: dict[str, Any],
    now: dt.datetime,
) -> uuid.UUID:
    """A notice about the workspace itself (no account, no app), e.g. a disabled webhook."""
    row: dict[str, Any] = {
        "id": uuid.uuid4(),
        "workspace_id": workspace_id,
        "account_id": None,
        "app_id": None,
        "type": type.value,
        "subject_type": subject_type.value,
        "subject_id": subject_id,
        "subject_apple_id": None,
        "from_state": from_state,
        "to_state": to_state,
        "observed_at": now,
        "details": details,
    }
    await _append(session, workspace_id, [row])
    return uuid.UUID(str(row["id"]))


def feed_item(row: dict[str, Any]) -> dict[str, Any]:
    """The event as ``GET /v1/events`` lists it (the catalog's ``EventRead``)."""
    return {
        "id": row["id"],
        "type": row["type"],
        "observed_at": row["observed_at"],
        "account_id": row["account_id"],
        "app_id": row["app_id"],
        "subject": {
            "type": row["subject_type"],
            "id": row["subject_id"],
            "apple_id": row["subject_apple_id"],
        },
        "from_state": row["from_state"],
        "to_state": row["to_state"],
        "details": row["details"],
    }


async def _append(
    session: AsyncSession, workspace_id: uuid.UUID, rows: list[dict[str, Any]]
) -> None:
    """Into the feed and, in the same transaction, the webhooks outbox."""
    if not rows:
        return
    await bulk.insert(session, CatalogEvent, rows)
    await publish(
        session,
        workspace_id,
        [
            OutboxEvent(
                type=WEBHOOK_TYPES[EventType(row["type"])],
                data=feed_item(row),
                occurred_at=row["observed_at"],
                account_id=row["account_id"],
                app_id=row["app_id"],
                id=row["id"],
            )
            for row in rows
        ],
    )

"""Observed changes: what the syncers append to the ``/v1/events`` feed.

A unit compares what Apple lists now with what the previous run stored, inside the unit's
transaction, so an event commits together with the rows it describes (or not at all).

First observations are not changes: the first run of a dataset for an app records what it
finds without events (it has nothing to compare with, and would otherwise flood the feed with
an account's whole history when it is linked). After that, something new that Apple lists is
an event with ``from_state`` null — e.g. a build that was uploaded and processed between two
runs is reported as processed.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.models import CatalogEvent
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


class SubjectType(StrEnum):
    APP_VERSION = "app_version"
    BUILD = "build"
    BETA_TESTER = "beta_tester"
    REVIEW_SUBMISSION = "review_submission"
    STORE_RATING = "store_rating"


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
    await bulk.insert(session, CatalogEvent, rows)
    return len(rows)

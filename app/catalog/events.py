"""The webhook event types of the changes feed: every ``/v1/events`` item is also sent to the
endpoints subscribed to its type, with the feed item (``EventRead``) as ``data``."""

from __future__ import annotations

from app.catalog.schemas import EventRead
from app.outbox.catalogue import EventTypeSpec
from app.resources.changes import WEBHOOK_TYPES, EventType

_SUMMARIES = {
    EventType.VERSION_STATE_CHANGED: (
        "An App Store version's state changed",
        "Orchard saw an App Store version in a new state (`from_state` → `to_state`, Apple's "
        "`appVersionState`), e.g. `WAITING_FOR_REVIEW` → `READY_FOR_DISTRIBUTION`. `details` "
        "holds the version string and platform.",
    ),
    EventType.BUILD_PROCESSED: (
        "A build's processing state changed",
        "A build finished processing (`PROCESSING` → `VALID`, `FAILED` or `INVALID`), or "
        "appeared already processed (`from_state` null).",
    ),
    EventType.BUILD_EXPIRED: ("A build expired", "A TestFlight build expired."),
    EventType.TESTER_ACCEPTED: (
        "A beta tester accepted an invitation",
        "A TestFlight tester's state became accepted or installed.",
    ),
    EventType.REVIEW_SUBMISSION_STATE_CHANGED: (
        "A review submission's state changed",
        "An App Review submission moved (e.g. `WAITING_FOR_REVIEW` → `IN_REVIEW`).",
    ),
    EventType.STORE_RATING_RESET: (
        "A storefront's star rating started over",
        "The App Store's rating count of a linked app in one storefront dropped sharply (as "
        "after a developer resets the summary rating with a release); `details` holds the "
        "storefront, the counts before and after, and the version seen.",
    ),
    EventType.WEBHOOK_DISABLED: (
        "A webhook endpoint was disabled",
        "Orchard stopped delivering to another endpoint of the workspace: it answered `410 "
        "Gone` (`details.reason` `gone`) or failed every attempt for the configured span "
        "(`failing`). The endpoint itself is not sent this event.",
    ),
}

EVENT_TYPES = [
    EventTypeSpec(
        name=WEBHOOK_TYPES[event_type],
        summary=summary,
        description=description + " `data` is the item as `GET /v1/events` lists it.",
        data=EventRead,
    )
    for event_type, (summary, description) in _SUMMARIES.items()
]

"""What happened to a sandbox's reviews beyond the generated timeline.

Generated reviews are a pure function of ``(seed, team, app, clock)``; everything that is a
*change* made through the API or by a test (a reply written or deleted, a review edited or
removed by its author, a busier app) is remembered here, one ledger per
:class:`~app.sandbox.state.SandboxState`. The ledger lives beside the state (a weak mapping)
so the shared state class needs no review-specific fields.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from weakref import WeakKeyDictionary

from app.sandbox.state import SandboxState


@dataclass(frozen=True, slots=True)
class ReviewResponse:
    id: str
    body: str
    last_modified: datetime


@dataclass(frozen=True, slots=True)
class ReviewEdit:
    """A customer rewrote their review at ``at``; Apple keeps the id and ``createdDate``."""

    at: datetime
    rating: int
    title: str
    body: str


@dataclass
class ReviewLedger:
    #: Multiplies every app's review rate (tests use it to get multi-page listings).
    volume: float = 1.0
    #: Review id → the developer response written through the API (None: deleted).
    responses: dict[str, ReviewResponse | None] = field(default_factory=dict)
    #: Review id → an edit made by a test (applies once the clock reaches ``at``).
    edits: dict[str, ReviewEdit] = field(default_factory=dict)
    #: Review ids no longer served (the customer deleted the review, or Apple removed it).
    removed: set[str] = field(default_factory=set)
    #: Responses written so far: part of new response ids, so a re-created reply gets a new id.
    writes: int = 0

    def edit(
        self,
        review_id: str,
        at: datetime,
        *,
        rating: int,
        title: str,
        body: str,
    ) -> None:
        """Make the customer edit ``review_id`` at ``at`` (usually the sandbox's now)."""
        if not 1 <= rating <= 5:
            raise ValueError("rating must be 1..5")
        self.edits[review_id] = ReviewEdit(at=at, rating=rating, title=title, body=body)

    def remove(self, review_id: str) -> None:
        """Stop serving ``review_id``, as Apple does once a review is deleted."""
        self.removed.add(review_id)

    def restore(self, review_id: str) -> None:
        self.removed.discard(review_id)


_LEDGERS: WeakKeyDictionary[SandboxState, ReviewLedger] = WeakKeyDictionary()


def ledger(state: SandboxState) -> ReviewLedger:
    """The review ledger of ``state`` (created empty on first use)."""
    found = _LEDGERS.get(state)
    if found is None:
        found = _LEDGERS[state] = ReviewLedger()
    return found

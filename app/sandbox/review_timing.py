"""What a review submission shows at a moment, and the App Review truth tests compare with.

Apple's spec 4.4.1 gives review submissions one timestamp, ``submittedDate`` (FACTS §4.9),
and App Store versions ``createdDate`` and ``earliestReleaseDate`` (only for ``SCHEDULED``
releases, which the sandbox does not generate). No state-change timestamps exist, so a client
measures time in review from ``submittedDate`` and the states it observes. Two things are not
documented and are therefore options (see :mod:`.fidelity`):

- ``submitted_date``: after a rejection and resubmission, does ``submittedDate`` move to the
  resubmission (``last_submission``, the default) or stay at the first submission
  (``first_submission``)?
- ``draft_submissions``: Apple's submission model creates a submission in
  ``READY_FOR_REVIEW`` (items added, not yet sent) before it is submitted; with the option on,
  the sandbox lists it from a little before the first submission, without ``submittedDate``.

:func:`review_attempts` is the sandbox's own truth: every (submitted, review started, decided)
of a release, from the same timeline the API serves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from app.sandbox.fidelity import Fidelity, SubmittedDate
from app.sandbox.releases import Release
from app.sandbox.seeding import stable_hash

#: A draft submission is opened this long (at most) before it is first sent to App Review.
MAX_DRAFT_LEAD = timedelta(hours=6)
MIN_DRAFT_LEAD = timedelta(minutes=10)
_DRAFT_STATE = "READY_FOR_REVIEW"


@dataclass(frozen=True, slots=True)
class SubmissionView:
    """A release's review submission as served at one moment (``state`` None: not listed)."""

    state: str | None
    submitted: datetime | None  # ``submittedDate``; None while a draft
    item_state: str | None
    listed_at: datetime | None  # the moment it is ordered by in lists (newest first)


@dataclass(frozen=True, slots=True)
class ReviewAttempt:
    """One pass through App Review: sent, picked up by a reviewer, decided."""

    submitted: datetime
    review_started: datetime
    decided: datetime
    outcome: str  # REJECTED or APPROVED


def draft_opened(item: Release) -> datetime:
    """When the submission was created (``READY_FOR_REVIEW``), before the first sending."""
    span = int((MAX_DRAFT_LEAD - MIN_DRAFT_LEAD).total_seconds())
    lead = MIN_DRAFT_LEAD + timedelta(seconds=stable_hash(item.submission_id, "draft") % span)
    return max(item.created, item.submitted - lead)


def submission_view(item: Release, now: datetime, choice: Fidelity) -> SubmissionView:
    state = item.submission_state(now)
    if state is None:
        if choice.draft_submissions and draft_opened(item) <= now:
            opened = draft_opened(item)
            return SubmissionView(_DRAFT_STATE, None, _DRAFT_STATE, opened)
        return SubmissionView(None, None, None, None)
    last = item.last_submitted(now)
    submitted = item.submitted if choice.submitted_date is SubmittedDate.FIRST else last
    return SubmissionView(state, submitted, item.item_state(now), last)


def review_attempts(item: Release) -> list[ReviewAttempt]:
    """Every review pass of ``item`` in order (the last one is the approval)."""
    attempts: list[ReviewAttempt] = []
    submitted = started = None
    for step in item.steps:
        if step.submission_state == "WAITING_FOR_REVIEW":
            submitted = step.at
        elif step.submission_state == "IN_REVIEW":
            started = step.at
        elif step.item_state in ("REJECTED", "APPROVED") and submitted and started:
            attempts.append(ReviewAttempt(submitted, started, step.at, step.item_state))
            submitted = started = None
    return attempts

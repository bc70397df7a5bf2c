"""The release timeline of a generated app: App Store versions and their App Review history.

Release ``r`` of an app goes live on ``launch_date + r × release_cadence_days`` (the day
:func:`release_index` and the sales reports use). Everything before that is drawn backwards
from the release moment with ``rng(team.seed, "release", app.id, r)``, so it is a pure function
of (seed, team, app, release) and states change only as the sandbox clock moves::

    created        PREPARE_FOR_SUBMISSION
    submitted      WAITING_FOR_REVIEW          review submission WAITING_FOR_REVIEW
    review starts  IN_REVIEW                   IN_REVIEW
    (rejected      REJECTED                    UNRESOLVED_ISSUES
     resubmitted   WAITING_FOR_REVIEW → IN_REVIEW again)
    approved       PENDING_DEVELOPER_RELEASE   COMPLETE
                   (AFTER_APPROVAL: PROCESSING_FOR_DISTRIBUTION)
    released       READY_FOR_DISTRIBUTION
    next released  REPLACED_WITH_NEW_VERSION

A release candidate build is uploaded a little before the first submission (see
:func:`app.sandbox.catalog.release_build`). The whole run-up takes at most ~17 days, less than
the shortest release cadence (21 days), so releases never overlap.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING

from app.sandbox.periods import PACIFIC
from app.sandbox.seeding import rng, stable_hash, stable_uuid
from app.sandbox.state import SandboxTeam

if TYPE_CHECKING:
    from app.sandbox.catalog import SandboxApp

#: The run-up (release-candidate upload to release) never takes longer than this.
MAX_RUN_UP = timedelta(days=18)
PHASED_RELEASE_DAYS = 7

#: appVersionState → the deprecated appStoreState Apple still sends beside it.
STORE_STATE = {
    "PREPARE_FOR_SUBMISSION": "PREPARE_FOR_SUBMISSION",
    "WAITING_FOR_REVIEW": "WAITING_FOR_REVIEW",
    "IN_REVIEW": "IN_REVIEW",
    "REJECTED": "REJECTED",
    "PENDING_DEVELOPER_RELEASE": "PENDING_DEVELOPER_RELEASE",
    "PROCESSING_FOR_DISTRIBUTION": "PROCESSING_FOR_APP_STORE",
    "READY_FOR_DISTRIBUTION": "READY_FOR_SALE",
    "REPLACED_WITH_NEW_VERSION": "REPLACED_WITH_NEW_VERSION",
    # States only a test forces (app.sandbox.version_overrides); same name in both enums.
    "ACCEPTED": "ACCEPTED",
    "DEVELOPER_REJECTED": "DEVELOPER_REJECTED",
    "INVALID_BINARY": "INVALID_BINARY",
    "METADATA_REJECTED": "METADATA_REJECTED",
    "PENDING_APPLE_RELEASE": "PENDING_APPLE_RELEASE",
    "READY_FOR_REVIEW": "READY_FOR_REVIEW",
    "WAITING_FOR_EXPORT_COMPLIANCE": "WAITING_FOR_EXPORT_COMPLIANCE",
}


def version_for_release(app: SandboxApp, release: int) -> str:
    release = max(0, release)
    major, minor = 1 + release // 10, release % 10
    patch = stable_hash(app.id, "patch", release) % 4
    return f"{major}.{minor}.{patch}" if patch == 3 else f"{major}.{minor}"


def release_index(app: SandboxApp, day: date) -> int:
    return max(0, (day - app.launch_date).days) // app.release_cadence_days


def release_day(app: SandboxApp, release: int) -> date:
    return app.launch_date + timedelta(days=release * app.release_cadence_days)


@dataclass(frozen=True, slots=True)
class Step:
    at: datetime
    version_state: str  # appVersionState from ``at`` on
    submission_state: str | None  # the review submission's state from ``at`` on (None: none)
    item_state: str | None  # its item's state


@dataclass(frozen=True, slots=True)
class Release:
    """One App Store version of an app and its path through App Review."""

    app_id: str
    index: int
    version_id: str
    version_string: str
    release_type: str  # MANUAL or AFTER_APPROVAL
    created: datetime
    rc_uploaded: datetime  # the release candidate build's upload
    released: datetime
    replaced: datetime  # the next release goes live
    steps: tuple[Step, ...]  # created … released, in order (replacement is implied)
    phased: bool
    submission_id: str
    item_id: str
    actor_id: str
    actor_type: str  # USER, API_KEY or XCODE_CLOUD

    @property
    def platform(self) -> str:
        return "IOS"

    def _step(self, now: datetime) -> Step | None:
        current = None
        for step in self.steps:
            if step.at > now:
                break
            current = step
        return current

    def exists(self, now: datetime) -> bool:
        return self.created <= now

    def version_state(self, now: datetime) -> str:
        if now >= self.replaced:
            return "REPLACED_WITH_NEW_VERSION"
        step = self._step(now)
        return step.version_state if step else "PREPARE_FOR_SUBMISSION"

    def store_state(self, now: datetime) -> str:
        return STORE_STATE[self.version_state(now)]

    @property
    def submitted(self) -> datetime:
        """The first submission to App Review."""
        return next(s.at for s in self.steps if s.submission_state is not None)

    def last_submitted(self, now: datetime) -> datetime | None:
        """When the submission was last sent (again) to App Review, as of ``now``."""
        sent = [s.at for s in self.steps if s.submission_state == "WAITING_FOR_REVIEW"]
        return max((at for at in sent if at <= now), default=None)

    def submission_state(self, now: datetime) -> str | None:
        step = self._step(now)
        return None if step is None else step.submission_state

    def item_state(self, now: datetime) -> str | None:
        step = self._step(now)
        return None if step is None else step.item_state

    def moments(self) -> list[tuple[datetime, str]]:
        """Every appVersionState change (for tests): ``(moment, new state)``."""
        changes = [(s.at, s.version_state) for s in self.steps]
        return [*changes, (self.replaced, "REPLACED_WITH_NEW_VERSION")]


def _release_moment(app: SandboxApp, release: int, hour: float) -> datetime:
    """Developers press "release" on a Cupertino morning."""
    local = datetime.combine(release_day(app, release), time(), PACIFIC)
    return (local + timedelta(seconds=round(hour * 3600))).astimezone(UTC)


def _hours(generator: random.Random, low: float, high: float) -> timedelta:
    return timedelta(seconds=round(generator.uniform(low, high) * 3600))


@lru_cache(maxsize=8192)
def release(team: SandboxTeam, app: SandboxApp, index: int) -> Release:
    """Release ``index`` (0 = the launch version) of ``app``."""
    r = rng(team.seed, "release", app.id, index)
    released = _release_moment(app, index, r.uniform(8.5, 11.5))
    next_r = rng(team.seed, "release", app.id, index + 1)
    replaced = _release_moment(app, index + 1, next_r.uniform(8.5, 11.5))
    release_type = "AFTER_APPROVAL" if r.random() < 0.3 else "MANUAL"
    rejected = r.random() < 0.15
    # Walk backwards from the release moment.
    if release_type == "AFTER_APPROVAL":
        approved = released - _hours(r, 0.5, 3)
    else:
        approved = released - _hours(r, 3, 48)
    reviews: list[tuple[datetime, datetime, datetime]] = []  # (submitted, in review, decided)
    decided = approved
    for _ in range(2 if rejected else 1):
        in_review = decided - _hours(r, 1, 26)
        submitted = in_review - _hours(r, 3, 30)
        reviews.insert(0, (submitted, in_review, decided))
        decided = submitted - _hours(r, 3, 30)  # the fix after a rejection
    first_submitted = reviews[0][0]
    created = first_submitted - _hours(r, 24, 6 * 24)
    rc_uploaded = first_submitted - _hours(r, 2, 72)
    created = min(created, rc_uploaded - _hours(r, 0.5, 6))

    steps = [Step(created, "PREPARE_FOR_SUBMISSION", None, None)]
    for attempt, (submitted, in_review, decided) in enumerate(reviews):
        steps.append(
            Step(submitted, "WAITING_FOR_REVIEW", "WAITING_FOR_REVIEW", "READY_FOR_REVIEW")
        )
        steps.append(Step(in_review, "IN_REVIEW", "IN_REVIEW", "READY_FOR_REVIEW"))
        if attempt + 1 < len(reviews):
            steps.append(Step(decided, "REJECTED", "UNRESOLVED_ISSUES", "REJECTED"))
    if release_type == "AFTER_APPROVAL":
        steps.append(Step(approved, "PROCESSING_FOR_DISTRIBUTION", "COMPLETE", "APPROVED"))
    else:
        steps.append(Step(approved, "PENDING_DEVELOPER_RELEASE", "COMPLETE", "APPROVED"))
    steps.append(Step(released, "READY_FOR_DISTRIBUTION", "COMPLETE", "APPROVED"))

    actor_type = r.choices(("USER", "API_KEY", "XCODE_CLOUD"), (6, 3, 1))[0]
    return Release(
        app_id=app.id,
        index=index,
        version_id=stable_uuid(team.seed, "appStoreVersion", app.id, index),
        version_string=version_for_release(app, index),
        release_type=release_type,
        created=created,
        rc_uploaded=rc_uploaded,
        released=released,
        replaced=replaced,
        steps=tuple(steps),
        phased=index > 0 and r.random() < 0.4,
        submission_id=stable_uuid(team.seed, "reviewSubmission", app.id, index),
        item_id=stable_uuid(team.seed, "reviewSubmissionItem", app.id, index),
        actor_id=stable_uuid(team.seed, "actor", app.id, index),
        actor_type=actor_type,
    )


def app_releases(team: SandboxTeam, app: SandboxApp, now: datetime) -> list[Release]:
    """Every version of ``app`` App Store Connect lists at ``now``, oldest first."""
    upcoming = release_index(app, (now + MAX_RUN_UP).astimezone(PACIFIC).date())
    releases = [release(team, app, index) for index in range(upcoming + 1)]
    return [item for item in releases if item.exists(now)]


def releases_between(
    team: SandboxTeam, app: SandboxApp, start: datetime, end: datetime
) -> list[Release]:
    """Releases whose candidate build was uploaded in ``[start, end)``."""
    first = release_index(app, start.astimezone(PACIFIC).date())
    last = release_index(app, (end + MAX_RUN_UP).astimezone(PACIFIC).date()) + 1
    found = [release(team, app, index) for index in range(first, last + 1)]
    return [item for item in found if start <= item.rc_uploaded < end]

"""What changed in an app's generated catalogue between two instants, as webhook changes.

The catalogue is a pure function of the clock, so "a state changed" means "a timeline moment
fell inside ``(since, until]``". Each state is read through the same functions the ``/v1``
routes serve, just before and at the moment, so a webhook never reports a change the API
does not show:

- App Store versions (:mod:`..releases`, with forced states from :mod:`..version_overrides`):
  every ``appVersionState`` change after the version was created →
  ``APP_STORE_VERSION_APP_VERSION_STATE_UPDATED``. Forced changes are emitted by the hub when
  they are made, so the scan skips them.
- Builds (:mod:`..catalog`): upload → ``BUILD_UPLOAD_STATE_UPDATED`` ``AWAITING_UPLOAD`` →
  ``PROCESSING``; processing done → ``COMPLETE`` (``FAILED`` for an invalid build).
  ``externalBuildState`` as served by ``buildBetaDetail`` →
  ``BUILD_BETA_DETAIL_EXTERNAL_BUILD_STATE_UPDATED``.
- TestFlight feedback (:mod:`..feedback.model`) sent → ``BETA_FEEDBACK_*_SUBMISSION_CREATED``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from app.sandbox.catalog import (
    BUILD_LIFETIME,
    PROCESSING_MINUTES,
    Build,
    SandboxApp,
    app_builds,
)
from app.sandbox.catalog_routes import beta_detail_resource
from app.sandbox.feedback.model import generated_between
from app.sandbox.periods import PACIFIC
from app.sandbox.releases import MAX_RUN_UP, release, release_index
from app.sandbox.seeding import stable_uuid
from app.sandbox.state import SandboxState, SandboxTeam
from app.sandbox.version_overrides import with_forced_state

VERSION_STATE = "APP_STORE_VERSION_APP_VERSION_STATE_UPDATED"
BUILD_UPLOAD = "BUILD_UPLOAD_STATE_UPDATED"
EXTERNAL_STATE = "BUILD_BETA_DETAIL_EXTERNAL_BUILD_STATE_UPDATED"
FEEDBACK_CREATED = {
    "crash": "BETA_FEEDBACK_CRASH_SUBMISSION_CREATED",
    "screenshot": "BETA_FEEDBACK_SCREENSHOT_SUBMISSION_CREATED",
}
#: A clock jump longer than this only reports the most recent changes.
MAX_WINDOW = timedelta(days=120)
_JUST_BEFORE = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class Change:
    at: datetime
    event_type: str
    instance_id: str
    old: str | None = None
    new: str | None = None


def build_upload_id(build: Build) -> str:
    """Id of the ``buildUploads`` resource behind a build (not served by the sandbox)."""
    return stable_uuid("buildUploads", build.id)


def external_build_state(build: Build, at: datetime) -> str:
    attributes = beta_detail_resource("", build, at, None)["attributes"]
    state: str = attributes["externalBuildState"]
    return state


def _inside(moment: datetime, since: datetime, until: datetime) -> bool:
    return since < moment <= until


def version_changes(
    state: SandboxState, team: SandboxTeam, app: SandboxApp, since: datetime, until: datetime
) -> list[Change]:
    first = max(0, release_index(app, since.astimezone(PACIFIC).date()) - 1)
    last = release_index(app, (until + MAX_RUN_UP).astimezone(PACIFIC).date()) + 1
    changes = []
    for index in range(first, last + 1):
        generated = release(team, app, index)
        current = with_forced_state(state, generated)
        for moment, _ in generated.moments():
            if not _inside(moment, since, until) or moment <= generated.created:
                continue
            old, new = current.version_state(moment - _JUST_BEFORE), current.version_state(moment)
            if old != new:
                changes.append(Change(moment, VERSION_STATE, generated.version_id, old, new))
    return changes


def build_changes(
    team: SandboxTeam, app: SandboxApp, since: datetime, until: datetime
) -> list[Change]:
    changes = []
    for build in app_builds(team, app, until):
        upload_id = build_upload_id(build)
        processed = build.uploaded + timedelta(minutes=PROCESSING_MINUTES)
        if _inside(build.uploaded, since, until):
            changes.append(
                Change(build.uploaded, BUILD_UPLOAD, upload_id, "AWAITING_UPLOAD", "PROCESSING")
            )
        if _inside(processed, since, until):
            done = "COMPLETE" if build.processing_state == "VALID" else "FAILED"
            changes.append(Change(processed, BUILD_UPLOAD, upload_id, "PROCESSING", done))
        for moment in (processed, build.uploaded + BUILD_LIFETIME / 45, build.expiration):
            if not _inside(moment, since, until):
                continue
            old = external_build_state(build, moment - _JUST_BEFORE)
            new = external_build_state(build, moment)
            if old != new:
                changes.append(Change(moment, EXTERNAL_STATE, build.beta_detail_id, old, new))
    return changes


def feedback_changes(
    state: SandboxState, team: SandboxTeam, app: SandboxApp, since: datetime, until: datetime
) -> list[Change]:
    return [
        Change(item.created, FEEDBACK_CREATED[item.kind], item.id)
        for item in generated_between(state, team, app, since, until)
    ]


def app_changes(
    state: SandboxState, team: SandboxTeam, app: SandboxApp, since: datetime, until: datetime
) -> list[Change]:
    """Every change of ``app`` in ``(since, until]``, in time order."""
    since = max(since, until - MAX_WINDOW)
    if until <= since:
        return []
    changes = [
        *version_changes(state, team, app, since, until),
        *build_changes(team, app, since, until),
        *feedback_changes(state, team, app, since, until),
    ]
    return sorted(changes, key=lambda c: (c.at, c.event_type, c.instance_id))

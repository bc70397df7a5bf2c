"""Shapes of versions (with history), builds, TestFlight, review submissions and the review
queue. Apple's enums are passed through verbatim as strings: Apple adds values."""

from __future__ import annotations

import datetime as dt
import uuid

from pydantic import BaseModel, ConfigDict, Field

from app.resources.versions import STATE_SINCE, VersionSummary

REMOVED = "When App Store Connect stopped listing it (null while listed)."


class StateChangeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    from_state: str | None = Field(
        description="The `appVersionState` before; null on the first observation of the version."
    )
    to_state: str | None
    from_app_store_state: str | None = Field(description="The deprecated `appStoreState` before.")
    to_app_store_state: str | None
    observed_at: dt.datetime = Field(
        description="When a sync saw the change (within one sync interval of the real moment)."
    )


class PhasedReleaseRead(BaseModel):
    state: str | None = Field(description="INACTIVE, ACTIVE, PAUSED or COMPLETE.")
    start_date: dt.datetime | None
    current_day: int | None = Field(description="Day of the 7-day phased release.")


class ReviewTimingRead(BaseModel):
    """The version's latest pass through App Review. The submission moment is Apple's own
    `submittedDate` when the version's review submission has one for this round; the other
    moments are the changes Orchard observed (each within one sync interval of the real one;
    null when not observed)."""

    submitted_at: dt.datetime | None = Field(
        description="When it was sent to App Review: Apple's `submittedDate`, else the moment "
        "Orchard saw it enter WAITING_FOR_REVIEW (see `submitted_source`)."
    )
    submitted_source: str | None = Field(
        default=None,
        description="`apple` (Apple's `submittedDate`, exact) or `observed` (seen by polling).",
    )
    review_started_at: dt.datetime | None = Field(description="Seen entering IN_REVIEW.")
    review_ended_at: dt.datetime | None = Field(description="Seen leaving IN_REVIEW.")
    outcome: str | None = Field(
        description="The state it left review for (e.g. PENDING_DEVELOPER_RELEASE, REJECTED)."
    )
    waited_seconds: int | None = Field(description="From submission to the start of review.")
    reviewed_seconds: int | None = Field(description="How long App Review took.")


class VersionRead(VersionSummary):
    app_id: uuid.UUID
    release_type: str | None = Field(description="MANUAL, AFTER_APPROVAL or SCHEDULED.")
    earliest_release_date: dt.datetime | None
    downloadable: bool | None
    build_apple_id: str | None
    phased_release: PhasedReleaseRead | None
    first_seen_at: dt.datetime
    last_seen_at: dt.datetime
    removed_at: dt.datetime | None = Field(description=REMOVED)
    history: list[StateChangeRead] = Field(
        description="Every state change Orchard observed, oldest first. The first entry is the "
        "first observation (`from_state` null)."
    )
    review: ReviewTimingRead | None = Field(
        description="Its latest App Review: when it was submitted, how long it waited and how "
        "long review took (null when Orchard never saw it go to review)."
    )


class BuildRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    app_id: uuid.UUID
    apple_id: str
    build_number: str = Field(description="Apple's build `version` (the CFBundleVersion).")
    version_string: str | None = Field(description="The pre-release (marketing) version.")
    platform: str | None
    uploaded_at: dt.datetime | None
    expires_at: dt.datetime | None = Field(description="When TestFlight testing ends (90 days).")
    expired: bool
    processing_state: str | None = Field(description="PROCESSING, FAILED, INVALID or VALID.")
    audience_type: str | None = Field(description="INTERNAL_ONLY or APP_STORE_ELIGIBLE.")
    min_os_version: str | None
    internal_state: str | None = Field(description="TestFlight state for internal testers.")
    external_state: str | None = Field(description="TestFlight state for external testers.")
    first_seen_at: dt.datetime
    last_seen_at: dt.datetime
    removed_at: dt.datetime | None = Field(description=REMOVED)


class BetaGroupRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    app_id: uuid.UUID
    apple_id: str
    name: str
    is_internal: bool
    has_access_to_all_builds: bool | None
    public_link_enabled: bool | None
    public_link: str | None
    public_link_limit_enabled: bool | None
    public_link_limit: int | None
    feedback_enabled: bool | None
    created_date: dt.datetime | None
    tester_count: int = Field(description="Testers of the app currently in the group.")
    first_seen_at: dt.datetime
    last_seen_at: dt.datetime
    removed_at: dt.datetime | None = Field(description=REMOVED)


class GroupRef(BaseModel):
    id: uuid.UUID
    apple_id: str
    name: str


class BetaTesterRead(BaseModel):
    id: uuid.UUID
    app_id: uuid.UUID
    apple_id: str
    first_name: str | None
    last_name: str | None
    email: str | None
    invite_type: str | None = Field(description="EMAIL or PUBLIC_LINK.")
    state: str | None = Field(description="NOT_INVITED, INVITED, ACCEPTED, INSTALLED or REVOKED.")
    groups: list[GroupRef] = Field(description="The app's beta groups the tester is in.")
    first_seen_at: dt.datetime
    last_seen_at: dt.datetime
    removed_at: dt.datetime | None = Field(description=REMOVED)


class SubmissionItemRead(BaseModel):
    apple_id: str
    state: str | None = Field(description="READY_FOR_REVIEW, ACCEPTED, APPROVED, REJECTED, …")
    app_store_version_apple_id: str | None


class VersionRef(BaseModel):
    id: uuid.UUID
    apple_id: str
    version_string: str
    platform: str


class ReviewSubmissionRead(BaseModel):
    id: uuid.UUID
    app_id: uuid.UUID
    apple_id: str
    platform: str | None
    state: str | None = Field(
        description="READY_FOR_REVIEW, WAITING_FOR_REVIEW, IN_REVIEW, UNRESOLVED_ISSUES, "
        "CANCELING, COMPLETING or COMPLETE."
    )
    submitted_date: dt.datetime | None
    submitted_by_actor_type: str | None = Field(
        description="Who submitted: USER, API_KEY, XCODE_CLOUD or APPLE."
    )
    version: VersionRef | None = Field(description="The App Store version under review.")
    items: list[SubmissionItemRead]
    first_seen_at: dt.datetime
    last_seen_at: dt.datetime
    removed_at: dt.datetime | None = Field(description=REMOVED)


class QueueApp(BaseModel):
    id: uuid.UUID
    account_id: uuid.UUID
    apple_id: str
    name: str
    bundle_id: str


class ReviewQueueEntry(BaseModel):
    """A version waiting for or in App Review."""

    app: QueueApp
    version: VersionRef
    state: str = Field(description="WAITING_FOR_REVIEW or IN_REVIEW.")
    state_since: dt.datetime = Field(description=STATE_SINCE)
    state_since_observed: bool
    seconds_in_state: int = Field(description="Now − `state_since`, in whole seconds.")
    submitted_date: dt.datetime | None = Field(
        description="When the version was (last) submitted to App Review, as Apple reports it "
        "on the review submission (null until the submission is synced)."
    )


class ScreenshotRead(BaseModel):
    url: str | None = Field(
        description="Apple's temporary image URL as last seen: fetch it before `expires_at`; "
        "Orchard stores the metadata, never the image."
    )
    width: int | None
    height: int | None
    expires_at: str | None = Field(description="When Apple's URL stops working.")


class BetaFeedbackRead(BaseModel):
    """A TestFlight tester's crash or screenshot submission, as Apple lists it."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    app_id: uuid.UUID
    apple_id: str
    type: str = Field(validation_alias="kind", description="`crash` or `screenshot`.")
    submitted_at: dt.datetime
    comment: str | None = Field(description="What the tester wrote (may be absent).")
    tester_email: str | None
    tester_apple_id: str | None
    build_apple_id: str | None = Field(description="The build the tester was running.")
    build_id: uuid.UUID | None = Field(
        default=None, description="Orchard's id of that build, when it is synced."
    )
    device_model: str | None
    device_family: str | None
    os_version: str | None
    app_platform: str | None
    device_platform: str | None
    locale: str | None
    time_zone: str | None
    connection_type: str | None
    battery_percentage: int | None
    app_uptime_ms: int | None
    crash_log_url: str | None = Field(
        description="Crashes: Apple's API URL of the crash log (read it with the account's key)."
    )
    screenshots: list[ScreenshotRead]
    first_seen_at: dt.datetime
    last_seen_at: dt.datetime

from __future__ import annotations

import datetime as dt
import uuid

from pydantic import BaseModel, ConfigDict, Field

STATE_SINCE = (
    "When Orchard saw the version enter `state` (within one sync interval, 30 minutes by "
    "default), or — when `state_since_observed` is false — when Orchard first saw the version, "
    "already in this state: it entered it earlier."
)


class AppRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    account_id: uuid.UUID
    apple_id: str = Field(description="Apple's id; equals `Apple Identifier` in reports.")
    name: str
    bundle_id: str
    sku: str
    primary_locale: str | None
    first_seen_at: dt.datetime
    last_seen_at: dt.datetime
    removed_at: dt.datetime | None = Field(
        description="When App Store Connect stopped listing the app (null while listed)."
    )


class VersionSummary(BaseModel):
    """An App Store version in brief."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    apple_id: str
    platform: str = Field(description="Apple's platform: IOS, MAC_OS, TV_OS, VISION_OS, …")
    version_string: str
    state: str | None = Field(
        description="Apple's `appVersionState` (or the deprecated `appStoreState` when Apple "
        "sent only that), verbatim: Apple adds values."
    )
    app_version_state: str | None
    app_store_state: str | None = Field(description="Apple's deprecated `appStoreState`.")
    state_since: dt.datetime = Field(description=STATE_SINCE)
    state_since_observed: bool = Field(
        description="True when Orchard observed the version entering its current state."
    )
    created_date: dt.datetime | None
    build_number: str | None = Field(description="The build submitted with the version.")


class BuildSummary(BaseModel):
    """A build in brief."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    apple_id: str
    build_number: str = Field(description="Apple's build `version` (the CFBundleVersion).")
    version_string: str | None = Field(description="The marketing version it was built for.")
    platform: str | None
    uploaded_at: dt.datetime | None
    processing_state: str | None = Field(
        description="PROCESSING, FAILED, INVALID or VALID (verbatim: Apple adds values)."
    )
    expired: bool


class AppDetail(AppRead):
    live_versions: list[VersionSummary] = Field(
        description="Per platform, the version customers get (READY_FOR_DISTRIBUTION)."
    )
    versions_in_flight: list[VersionSummary] = Field(
        description="Per platform, the newest version not yet released (being prepared, in "
        "App Review, or approved and waiting for release), with its state."
    )
    latest_build: BuildSummary | None = Field(description="The most recently uploaded build.")

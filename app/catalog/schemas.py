from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.resources.changes import EventType, SubjectType
from app.resources.versions import VersionSummary


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


class EventSubject(BaseModel):
    type: SubjectType
    id: uuid.UUID = Field(
        description="Orchard's id of the version, build, tester, submission or webhook."
    )
    apple_id: str | None = Field(description="Apple's id (null for a webhook).")


class EventRead(BaseModel):
    """One change Orchard observed while syncing."""

    id: uuid.UUID
    type: EventType
    observed_at: dt.datetime = Field(
        description="When the sync saw the change (within one sync interval of the real moment)."
    )
    account_id: uuid.UUID | None = Field(
        description="The linked account; null on notices about the workspace itself "
        "(`webhook_disabled`)."
    )
    app_id: uuid.UUID | None
    subject: EventSubject
    from_state: str | None = Field(
        description="The state before; null when the subject was new to Orchard."
    )
    to_state: str | None
    details: dict[str, Any] = Field(
        description="Context for people: version string and platform, build number, tester "
        "name and e-mail, …"
    )


class EventFeed(BaseModel):
    """A page of the feed. Unlike other lists, `next_cursor` is never null: keep it and poll
    with it later to get only what was observed since."""

    items: list[EventRead]
    next_cursor: str = Field(description="Where this page ends; pass it as `cursor`.")
    has_more: bool = Field(
        description="More changes were already waiting after this page: fetch again now. "
        "False: this is the end for now (poll later with `next_cursor`). A generic pager "
        "stops on `has_more` false here, since `next_cursor` is never null."
    )

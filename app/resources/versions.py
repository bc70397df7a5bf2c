"""What the apps and the release domains both say about App Store versions and builds: the
version in brief, which states are live or final, and how versions and builds are ordered."""

from __future__ import annotations

import datetime as dt
import uuid

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import ColumnElement, func

from app.models import AppVersion, Build

LIVE_STATES = ("READY_FOR_DISTRIBUTION", "READY_FOR_SALE", "PREORDER_READY_FOR_SALE")
#: States after which a version is no longer "in flight" (released, replaced, pulled).
FINAL_STATES = frozenset(
    {*LIVE_STATES, "REPLACED_WITH_NEW_VERSION", "DEVELOPER_REMOVED_FROM_SALE", "REMOVED_FROM_SALE"}
)
STATE_SINCE = (
    "When Orchard saw the version enter `state` (within one sync interval, 30 minutes by "
    "default), or — when `state_since_observed` is false — when Orchard first saw the version, "
    "already in this state: it entered it earlier."
)


def version_state() -> ColumnElement[str | None]:
    """Apple's current state field, the deprecated one when Apple sent only that."""
    return func.coalesce(AppVersion.app_version_state, AppVersion.app_store_state)


def version_order() -> ColumnElement[dt.datetime]:
    return func.coalesce(AppVersion.created_date, AppVersion.first_seen_at)


def build_order() -> ColumnElement[dt.datetime]:
    return func.coalesce(Build.uploaded_at, Build.first_seen_at)


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


def version_summary(version: AppVersion) -> VersionSummary:
    return VersionSummary(
        id=version.id,
        apple_id=version.apple_id,
        platform=version.platform,
        version_string=version.version_string,
        state=version.app_version_state or version.app_store_state,
        app_version_state=version.app_version_state,
        app_store_state=version.app_store_state,
        state_since=version.state_since,
        state_since_observed=version.state_since_observed,
        created_date=version.created_date,
        build_number=version.build_number,
    )

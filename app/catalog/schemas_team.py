"""Shapes of team members, invitations and the events feed."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from pydantic import BaseModel, Field

from app.catalog.changes import EventType, SubjectType


class VisibleApp(BaseModel):
    apple_id: str
    app_id: uuid.UUID | None = Field(description="Orchard's app, when the account lists it.")
    name: str | None


class _Person(BaseModel):
    id: uuid.UUID
    account_id: uuid.UUID
    apple_id: str
    first_name: str | None
    last_name: str | None
    roles: list[str] = Field(
        description="Apple's roles (ADMIN, APP_MANAGER, DEVELOPER, ACCOUNT_HOLDER, …), verbatim."
    )
    all_apps_visible: bool
    provisioning_allowed: bool | None
    visible_apps: list[VisibleApp] = Field(
        description="The apps Apple lists as visible to the person (every app with "
        "`all_apps_visible`). Apple sends at most 50; see `visible_app_total`."
    )
    visible_app_total: int | None = Field(description="How many apps Apple says are visible.")
    first_seen_at: dt.datetime
    last_seen_at: dt.datetime
    removed_at: dt.datetime | None = Field(
        description="When App Store Connect stopped listing the person (null while listed)."
    )


class TeamMemberRead(_Person):
    username: str = Field(description="The Apple Account (e-mail) the member signs in with.")


class TeamInvitationRead(_Person):
    email: str
    expires_at: dt.datetime | None = Field(description="When the invitation lapses.")


class EventSubject(BaseModel):
    type: SubjectType
    id: uuid.UUID = Field(description="Orchard's id of the version, build, tester or submission.")
    apple_id: str


class EventRead(BaseModel):
    """One change Orchard observed while syncing."""

    id: uuid.UUID
    type: EventType
    observed_at: dt.datetime = Field(
        description="When the sync saw the change (within one sync interval of the real moment)."
    )
    account_id: uuid.UUID
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

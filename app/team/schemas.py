"""Shapes of team members, invitations and the events feed."""

from __future__ import annotations

import datetime as dt
import uuid

from pydantic import BaseModel, Field


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

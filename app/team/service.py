"""Team members and invitations, scoped to the caller's workspace."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.credentials import lookup
from app.kit import cursors
from app.kit.pagination import Page, PageRequest
from app.models import App, TeamInvitation, TeamMember
from app.team import repository as team_repository
from app.team.repository import Person
from app.team.schemas import (
    TeamInvitationRead,
    TeamMemberRead,
    VisibleApp,
)


def _person_fields(person: TeamMember | TeamInvitation, apps: dict[str, App]) -> dict[str, Any]:
    return {
        "id": person.id,
        "account_id": person.account_id,
        "apple_id": person.apple_id,
        "first_name": person.first_name,
        "last_name": person.last_name,
        "roles": person.roles,
        "all_apps_visible": person.all_apps_visible,
        "provisioning_allowed": person.provisioning_allowed,
        "visible_apps": [
            VisibleApp(
                apple_id=apple_id,
                app_id=apps[apple_id].id if apple_id in apps else None,
                name=apps[apple_id].name if apple_id in apps else None,
            )
            for apple_id in person.visible_app_apple_ids
        ],
        "visible_app_total": person.visible_app_total,
        "first_seen_at": person.first_seen_at,
        "last_seen_at": person.last_seen_at,
        "removed_at": person.removed_at,
    }


async def _people(
    session: AsyncSession,
    model: type[Person],
    workspace_id: uuid.UUID,
    account_id: uuid.UUID,
    *,
    include_removed: bool,
    paging: PageRequest,
) -> tuple[list[Person], dict[str, App], str | None]:
    rows = await team_repository.list_people(
        session,
        model,
        workspace_id,
        account_id,
        include_removed=include_removed,
        after=paging.after(cursors.TEXT, cursors.TEXT, cursors.UUID),
        limit=paging.fetch,
    )
    if not rows:  # no such (linked) account is a 404, not an empty list
        await lookup.get_account(session, workspace_id, account_id)
    page, next_cursor = paging.split(
        rows, lambda p: [p.last_name or "", p.first_name or "", str(p.id)]
    )
    wanted = {apple_id for person in page for apple_id in person.visible_app_apple_ids}
    apps = await team_repository.apps_by_apple_id(session, account_id, wanted)
    return page, apps, next_cursor


async def list_members(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    account_id: uuid.UUID,
    *,
    include_removed: bool,
    paging: PageRequest,
) -> Page[TeamMemberRead]:
    page, apps, next_cursor = await _people(
        session,
        TeamMember,
        workspace_id,
        account_id,
        include_removed=include_removed,
        paging=paging,
    )
    items = [TeamMemberRead(**_person_fields(m, apps), username=m.username) for m in page]
    return Page(items=items, next_cursor=next_cursor)


async def list_invitations(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    account_id: uuid.UUID,
    *,
    include_removed: bool,
    paging: PageRequest,
) -> Page[TeamInvitationRead]:
    page, apps, next_cursor = await _people(
        session,
        TeamInvitation,
        workspace_id,
        account_id,
        include_removed=include_removed,
        paging=paging,
    )
    items = [
        TeamInvitationRead(**_person_fields(i, apps), email=i.email, expires_at=i.expires_at)
        for i in page
    ]
    return Page(items=items, next_cursor=next_cursor)

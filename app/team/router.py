"""Each linked account's team: members and pending invitations."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Query

from app.auth.deps import Reader
from app.kit.deps import Session
from app.kit.pagination import Page, Paging
from app.kit.problems import AUTHED, problem_responses
from app.team import service
from app.team.schemas import TeamInvitationRead, TeamMemberRead

router = APIRouter(tags=["catalog"])

IncludeRemoved = Query(False, description="Also people App Store Connect no longer lists.")


@router.get(
    "/v1/accounts/{account_id}/team",
    responses=problem_responses(*AUTHED, 404),
)
async def list_account_team(
    account_id: uuid.UUID,
    principal: Reader,
    session: Session,
    include_removed: bool = IncludeRemoved,
    *,
    paging: Paging,
) -> Page[TeamMemberRead]:
    """The account's App Store Connect team by name, with roles and the apps each member can
    see. Needs a key with the Admin role (the account's `users` capability)."""
    return await service.list_members(
        session,
        principal.workspace_id,
        account_id,
        include_removed=include_removed,
        paging=paging,
    )


@router.get(
    "/v1/accounts/{account_id}/team/invitations",
    responses=problem_responses(*AUTHED, 404),
)
async def list_account_team_invitations(
    account_id: uuid.UUID,
    principal: Reader,
    session: Session,
    include_removed: bool = Query(
        False, description="Also invitations no longer pending (accepted, cancelled, expired)."
    ),
    *,
    paging: Paging,
) -> Page[TeamInvitationRead]:
    """The account's pending team invitations by name, with roles and expiry."""
    return await service.list_invitations(
        session,
        principal.workspace_id,
        account_id,
        include_removed=include_removed,
        paging=paging,
    )

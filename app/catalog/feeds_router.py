"""Workspace-wide release views: the App Review queue, each account's team, and the feed of
changes Orchard observed."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from fastapi import APIRouter, Query

from app.auth.deps import Reader
from app.catalog import release_service, team_service
from app.catalog.changes import EventType
from app.catalog.schemas_release import ReviewQueueEntry
from app.catalog.schemas_team import EventFeed, TeamInvitationRead, TeamMemberRead
from app.kit.dates import Instant
from app.kit.deps import Session
from app.kit.pagination import DEFAULT_LIMIT, CursorParam, LimitParam, Page
from app.kit.problems import AUTHED, problem_responses

router = APIRouter(tags=["catalog"])

IncludeRemoved = Query(False, description="Also people App Store Connect no longer lists.")


@router.get(
    "/v1/review-queue",
    response_model=Page[ReviewQueueEntry],
    operation_id="get_review_queue",
    responses=problem_responses(*AUTHED),
)
async def get_review_queue(
    principal: Reader,
    session: Session,
    account_id: uuid.UUID | None = Query(None, description="Only this linked account's apps."),
    state: Literal["WAITING_FOR_REVIEW", "IN_REVIEW"] | None = Query(
        None, description="Only versions waiting for review, or only those in review."
    ),
    platform: str | None = Query(None, max_length=32, description="IOS, MAC_OS, TV_OS, …"),
    limit: LimitParam = DEFAULT_LIMIT,
    cursor: CursorParam = None,
) -> Page[ReviewQueueEntry]:
    """Every version across the workspace's linked accounts that is waiting for or in App
    Review, longest in its state first, with the time spent in that state so far.

    Time in state counts from when a sync saw the version enter the state (so it is accurate
    to one sync interval, 30 minutes by default); `state_since_observed` is false when the
    version was already in the state when Orchard first saw it, and the real wait is longer.
    `submitted_date` is Apple's own submission time. Apps of unlinked accounts are left out.
    """
    items, next_cursor = await release_service.review_queue(
        session,
        principal.workspace_id,
        account_id=account_id,
        state=state,
        platform=platform,
        cursor=cursor,
        limit=limit,
        now=dt.datetime.now(dt.UTC),
    )
    return Page(items=items, next_cursor=next_cursor)


@router.get(
    "/v1/accounts/{account_id}/team",
    response_model=Page[TeamMemberRead],
    operation_id="list_account_team",
    responses=problem_responses(*AUTHED, 404),
)
async def list_account_team(
    account_id: uuid.UUID,
    principal: Reader,
    session: Session,
    include_removed: bool = IncludeRemoved,
    limit: LimitParam = DEFAULT_LIMIT,
    cursor: CursorParam = None,
) -> Page[TeamMemberRead]:
    """The account's App Store Connect team by name, with roles and the apps each member can
    see. Needs a key with the Admin role (the account's `users` capability)."""
    items, next_cursor = await team_service.list_members(
        session,
        principal.workspace_id,
        account_id,
        include_removed=include_removed,
        cursor=cursor,
        limit=limit,
    )
    return Page(items=items, next_cursor=next_cursor)


@router.get(
    "/v1/accounts/{account_id}/team/invitations",
    response_model=Page[TeamInvitationRead],
    operation_id="list_account_team_invitations",
    responses=problem_responses(*AUTHED, 404),
)
async def list_account_team_invitations(
    account_id: uuid.UUID,
    principal: Reader,
    session: Session,
    include_removed: bool = Query(
        False, description="Also invitations no longer pending (accepted, cancelled, expired)."
    ),
    limit: LimitParam = DEFAULT_LIMIT,
    cursor: CursorParam = None,
) -> Page[TeamInvitationRead]:
    """The account's pending team invitations by name, with roles and expiry."""
    items, next_cursor = await team_service.list_invitations(
        session,
        principal.workspace_id,
        account_id,
        include_removed=include_removed,
        cursor=cursor,
        limit=limit,
    )
    return Page(items=items, next_cursor=next_cursor)


@router.get(
    "/v1/events",
    response_model=EventFeed,
    operation_id="list_events",
    responses=problem_responses(*AUTHED),
)
async def list_events(
    principal: Reader,
    session: Session,
    types: list[EventType] | None = Query(
        None,
        alias="type",
        description="Only these kinds of change (repeat the parameter for several).",
    ),
    account_id: uuid.UUID | None = Query(None, description="Only this linked account's."),
    app_id: uuid.UUID | None = Query(None, description="Only this app's."),
    since: Instant | None = Query(
        None, description="Only changes observed at or after this time (ISO 8601)."
    ),
    limit: LimitParam = DEFAULT_LIMIT,
    cursor: CursorParam = None,
) -> EventFeed:
    """Changes Orchard observed while syncing, oldest first: a version's state changed, a
    build finished processing or expired, a tester accepted an invitation, a review
    submission's state changed.

    Poll this one endpoint instead of diffing everything: keep `next_cursor` (never null) and
    pass it as `cursor` next time to get only what was observed since. The order is stable
    and a cursor never skips a change, even one written by a sync that finishes later; a
    change appears once every sync that started before it has finished (usually seconds).
    The first sync of an app records its current state without events.
    """
    return await team_service.event_feed(
        session,
        principal.workspace_id,
        types=types,
        account_id=account_id,
        app_id=app_id,
        since=since,
        cursor=cursor,
        limit=limit,
    )

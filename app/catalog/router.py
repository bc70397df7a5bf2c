"""The apps of every linked account, and the feed of changes Orchard observed."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Query

from app.asc.enums import Platform
from app.auth.deps import Reader
from app.catalog import service
from app.catalog.schemas import AppDetail, AppRead, EventFeed
from app.kit.dates import Instant
from app.kit.deps import Session
from app.kit.pagination import Page, Paging
from app.kit.problems import AUTHED, problem_responses
from app.resources.changes import EventType

router = APIRouter()
apps = APIRouter(prefix="/v1/apps", tags=["catalog"])
events = APIRouter(tags=["catalog"])

PLATFORM = "Apple's platform: IOS, MAC_OS, TV_OS or VISION_OS."


@apps.get(
    "",
    responses=problem_responses(*AUTHED),
)
async def list_apps(
    principal: Reader,
    session: Session,
    account_id: uuid.UUID | None = Query(None, description="Only this linked account's apps."),
    platform: Platform | None = Query(
        None, description=f"Only apps with a version for this platform. {PLATFORM}"
    ),
    q: str | None = Query(
        None, min_length=1, max_length=100, description="Substring of the name or bundle id."
    ),
    include_removed: bool = Query(False, description="Also apps Apple no longer lists."),
    *,
    paging: Paging,
) -> Page[AppRead]:
    """Apps of every linked account in the workspace, by name."""
    return await service.list_apps(
        session,
        principal.workspace_id,
        account_id=account_id,
        platform=platform.value if platform else None,
        query=q,
        include_removed=include_removed,
        paging=paging,
    )


@apps.get(
    "/{app_id}",
    responses=problem_responses(*AUTHED, 404),
)
async def get_app(app_id: uuid.UUID, principal: Reader, session: Session) -> AppDetail:
    """One app (Orchard's id, see `apple_id` for Apple's) with, per platform, the version
    customers get, the version in flight and its state, and the latest build."""
    return await service.app_detail(session, principal.workspace_id, app_id)


@events.get(
    "/v1/events",
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
    *,
    paging: Paging,
) -> EventFeed:
    """Changes Orchard observed while syncing, oldest first: a version's state changed, a
    build finished processing or expired, a tester accepted an invitation, a review
    submission's state changed; and notices about the workspace itself: a webhook endpoint
    Orchard stopped delivering to (`webhook_disabled`, with the reason in `details`).

    Poll this one endpoint instead of diffing everything: keep `next_cursor` (never null) and
    pass it as `cursor` next time to get only what was observed since. The order is stable
    and a cursor never skips a change, even one written by a sync that finishes later; a
    change appears once every sync that started before it has finished (usually seconds).
    The first sync of an app records its current state without events.
    """
    return await service.event_feed(
        session,
        principal.workspace_id,
        types=types,
        account_id=account_id,
        app_id=app_id,
        since=since,
        paging=paging,
    )


router.include_router(apps)
router.include_router(events)

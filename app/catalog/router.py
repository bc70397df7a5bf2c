"""The release side across every linked account: apps, versions with their review history,
builds, TestFlight, review submissions (this module), the review queue, team and the events
feed (:mod:`app.catalog.feeds_router`)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Query

from app.auth.deps import Reader
from app.catalog import release_service, service
from app.catalog.feeds_router import router as feeds_router
from app.catalog.schemas import AppDetail, AppRead
from app.catalog.schemas_release import (
    BetaGroupRead,
    BetaTesterRead,
    BuildRead,
    ReviewSubmissionRead,
    VersionRead,
)
from app.kit.deps import Session
from app.kit.pagination import DEFAULT_LIMIT, CursorParam, LimitParam, Page
from app.kit.problems import AUTHED, problem_responses

router = APIRouter()
apps = APIRouter(prefix="/v1/apps", tags=["catalog"])

IncludeRemoved = Query(False, description="Also what App Store Connect no longer lists.")
PLATFORM = "Apple's platform: IOS, MAC_OS, TV_OS or VISION_OS."


@apps.get(
    "",
    response_model=Page[AppRead],
    operation_id="list_apps",
    responses=problem_responses(*AUTHED),
)
async def list_apps(
    principal: Reader,
    session: Session,
    account_id: uuid.UUID | None = Query(None, description="Only this linked account's apps."),
    platform: str | None = Query(
        None, max_length=32, description=f"Only apps with a version for this platform. {PLATFORM}"
    ),
    q: str | None = Query(
        None, min_length=1, max_length=100, description="Substring of the name or bundle id."
    ),
    include_removed: bool = Query(False, description="Also apps Apple no longer lists."),
    limit: LimitParam = DEFAULT_LIMIT,
    cursor: CursorParam = None,
) -> Page[AppRead]:
    """Apps of every linked account in the workspace, by name."""
    found, next_cursor = await service.list_apps(
        session,
        principal.workspace_id,
        account_id=account_id,
        platform=platform,
        query=q,
        include_removed=include_removed,
        cursor=cursor,
        limit=limit,
    )
    return Page(items=[AppRead.model_validate(a) for a in found], next_cursor=next_cursor)


@apps.get(
    "/{app_id}",
    response_model=AppDetail,
    operation_id="get_app",
    responses=problem_responses(*AUTHED, 404),
)
async def get_app(app_id: uuid.UUID, principal: Reader, session: Session) -> AppDetail:
    """One app (Orchard's id, see `apple_id` for Apple's) with, per platform, the version
    customers get, the version in flight and its state, and the latest build."""
    return await service.app_detail(session, principal.workspace_id, app_id)


@apps.get(
    "/{app_id}/versions",
    response_model=Page[VersionRead],
    operation_id="list_app_versions",
    responses=problem_responses(*AUTHED, 404),
)
async def list_app_versions(
    app_id: uuid.UUID,
    principal: Reader,
    session: Session,
    platform: str | None = Query(None, max_length=32, description=PLATFORM),
    state: str | None = Query(
        None,
        max_length=64,
        description="Only versions in this `appVersionState` (e.g. `IN_REVIEW`).",
    ),
    include_removed: bool = IncludeRemoved,
    limit: LimitParam = DEFAULT_LIMIT,
    cursor: CursorParam = None,
) -> Page[VersionRead]:
    """The app's App Store versions, newest first, each with every state change Orchard
    observed (`history`): when it was submitted, how long it waited for and spent in App
    Review, when it was released."""
    items, next_cursor = await release_service.list_versions(
        session,
        principal.workspace_id,
        app_id,
        platform=platform,
        state=state,
        include_removed=include_removed,
        cursor=cursor,
        limit=limit,
    )
    return Page(items=items, next_cursor=next_cursor)


@apps.get(
    "/{app_id}/builds",
    response_model=Page[BuildRead],
    operation_id="list_app_builds",
    responses=problem_responses(*AUTHED, 404),
)
async def list_app_builds(
    app_id: uuid.UUID,
    principal: Reader,
    session: Session,
    processing_state: str | None = Query(
        None, max_length=32, description="PROCESSING, FAILED, INVALID or VALID."
    ),
    expired: bool | None = Query(None, description="Only expired (or only unexpired) builds."),
    include_removed: bool = IncludeRemoved,
    limit: LimitParam = DEFAULT_LIMIT,
    cursor: CursorParam = None,
) -> Page[BuildRead]:
    """The app's builds, newest upload first, with processing and TestFlight states."""
    items, next_cursor = await release_service.list_builds(
        session,
        principal.workspace_id,
        app_id,
        processing_state=processing_state,
        expired=expired,
        include_removed=include_removed,
        cursor=cursor,
        limit=limit,
    )
    return Page(items=items, next_cursor=next_cursor)


@apps.get(
    "/{app_id}/beta-groups",
    response_model=Page[BetaGroupRead],
    operation_id="list_app_beta_groups",
    responses=problem_responses(*AUTHED, 404),
)
async def list_app_beta_groups(
    app_id: uuid.UUID,
    principal: Reader,
    session: Session,
    include_removed: bool = IncludeRemoved,
    limit: LimitParam = DEFAULT_LIMIT,
    cursor: CursorParam = None,
) -> Page[BetaGroupRead]:
    """The app's TestFlight groups by name: internal or external, public link settings,
    feedback, and how many testers each has."""
    items, next_cursor = await release_service.list_groups(
        session,
        principal.workspace_id,
        app_id,
        include_removed=include_removed,
        cursor=cursor,
        limit=limit,
    )
    return Page(items=items, next_cursor=next_cursor)


@apps.get(
    "/{app_id}/beta-testers",
    response_model=Page[BetaTesterRead],
    operation_id="list_app_beta_testers",
    responses=problem_responses(*AUTHED, 404),
)
async def list_app_beta_testers(
    app_id: uuid.UUID,
    principal: Reader,
    session: Session,
    state: str | None = Query(
        None, max_length=32, description="INVITED, ACCEPTED, INSTALLED, REVOKED, …"
    ),
    group_id: uuid.UUID | None = Query(None, description="Only testers in this beta group."),
    include_removed: bool = IncludeRemoved,
    limit: LimitParam = DEFAULT_LIMIT,
    cursor: CursorParam = None,
) -> Page[BetaTesterRead]:
    """The app's TestFlight testers by name, with their invitation state and groups."""
    items, next_cursor = await release_service.list_testers(
        session,
        principal.workspace_id,
        app_id,
        state=state,
        group_id=group_id,
        include_removed=include_removed,
        cursor=cursor,
        limit=limit,
    )
    return Page(items=items, next_cursor=next_cursor)


@apps.get(
    "/{app_id}/review-submissions",
    response_model=Page[ReviewSubmissionRead],
    operation_id="list_app_review_submissions",
    responses=problem_responses(*AUTHED, 404),
)
async def list_app_review_submissions(
    app_id: uuid.UUID,
    principal: Reader,
    session: Session,
    state: str | None = Query(
        None, max_length=32, description="WAITING_FOR_REVIEW, IN_REVIEW, COMPLETE, …"
    ),
    include_removed: bool = IncludeRemoved,
    limit: LimitParam = DEFAULT_LIMIT,
    cursor: CursorParam = None,
) -> Page[ReviewSubmissionRead]:
    """The app's App Review submissions, newest submission first, with who submitted them
    and the version under review."""
    items, next_cursor = await release_service.list_submissions(
        session,
        principal.workspace_id,
        app_id,
        state=state,
        include_removed=include_removed,
        cursor=cursor,
        limit=limit,
    )
    return Page(items=items, next_cursor=next_cursor)


router.include_router(apps)
router.include_router(feeds_router)

"""The release side across every linked account: versions with their review history, builds,
TestFlight groups and testers, review submissions, and the App Review queue."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from fastapi import APIRouter, Query

from app.asc.enums import Platform
from app.auth.deps import Reader
from app.kit.dates import Instant
from app.kit.deps import Session
from app.kit.pagination import Page, Paging
from app.kit.problems import AUTHED, problem_responses
from app.releases import service
from app.releases.schemas import (
    BetaFeedbackRead,
    BetaGroupRead,
    BetaTesterRead,
    BuildRead,
    ReviewQueueEntry,
    ReviewSubmissionRead,
    VersionRead,
)

router = APIRouter()
apps = APIRouter(prefix="/v1/apps", tags=["catalog"])
queue = APIRouter(tags=["catalog"])

IncludeRemoved = Query(False, description="Also what App Store Connect no longer lists.")
PLATFORM = "Apple's platform: IOS, MAC_OS, TV_OS or VISION_OS."


@apps.get(
    "/{app_id}/versions",
    responses=problem_responses(*AUTHED, 404),
)
async def list_app_versions(
    app_id: uuid.UUID,
    principal: Reader,
    session: Session,
    platform: Platform | None = Query(None, description=PLATFORM),
    state: str | None = Query(
        None,
        max_length=64,
        description="Only versions in this `appVersionState` (e.g. `IN_REVIEW`).",
    ),
    include_removed: bool = IncludeRemoved,
    *,
    paging: Paging,
) -> Page[VersionRead]:
    """The app's App Store versions, newest first, each with every state change Orchard
    observed (`history`): when it was submitted, how long it waited for and spent in App
    Review, when it was released."""
    return await service.list_versions(
        session,
        principal.workspace_id,
        app_id,
        platform=platform.value if platform else None,
        state=state,
        include_removed=include_removed,
        paging=paging,
    )


@apps.get(
    "/{app_id}/builds",
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
    *,
    paging: Paging,
) -> Page[BuildRead]:
    """The app's builds, newest upload first, with processing and TestFlight states."""
    return await service.list_builds(
        session,
        principal.workspace_id,
        app_id,
        processing_state=processing_state,
        expired=expired,
        include_removed=include_removed,
        paging=paging,
    )


@apps.get(
    "/{app_id}/beta-groups",
    responses=problem_responses(*AUTHED, 404),
)
async def list_app_beta_groups(
    app_id: uuid.UUID,
    principal: Reader,
    session: Session,
    include_removed: bool = IncludeRemoved,
    *,
    paging: Paging,
) -> Page[BetaGroupRead]:
    """The app's TestFlight groups by name: internal or external, public link settings,
    feedback, and how many testers each has."""
    return await service.list_groups(
        session,
        principal.workspace_id,
        app_id,
        include_removed=include_removed,
        paging=paging,
    )


@apps.get(
    "/{app_id}/beta-testers",
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
    *,
    paging: Paging,
) -> Page[BetaTesterRead]:
    """The app's TestFlight testers by name, with their invitation state and groups."""
    return await service.list_testers(
        session,
        principal.workspace_id,
        app_id,
        state=state,
        group_id=group_id,
        include_removed=include_removed,
        paging=paging,
    )


@apps.get(
    "/{app_id}/review-submissions",
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
    *,
    paging: Paging,
) -> Page[ReviewSubmissionRead]:
    """The app's App Review submissions, newest submission first, with who submitted them
    and the version under review."""
    return await service.list_submissions(
        session,
        principal.workspace_id,
        app_id,
        state=state,
        include_removed=include_removed,
        paging=paging,
    )


@queue.get(
    "/v1/review-queue",
    operation_id="list_review_queue",
    responses=problem_responses(*AUTHED),
)
async def get_review_queue(
    principal: Reader,
    session: Session,
    account_id: uuid.UUID | None = Query(None, description="Only this linked account's apps."),
    state: Literal["WAITING_FOR_REVIEW", "IN_REVIEW"] | None = Query(
        None, description="Only versions waiting for review, or only those in review."
    ),
    platform: Platform | None = Query(None, description=PLATFORM),
    *,
    paging: Paging,
) -> Page[ReviewQueueEntry]:
    """Every version across the workspace's linked accounts that is waiting for or in App
    Review, longest in its state first, with the time spent in that state so far.

    Time in state counts from when a sync saw the version enter the state (so it is accurate
    to one sync interval, 30 minutes by default); `state_since_observed` is false when the
    version was already in the state when Orchard first saw it, and the real wait is longer.
    `submitted_date` is Apple's own submission time. Apps of unlinked accounts are left out.
    """
    return await service.review_queue(
        session,
        principal.workspace_id,
        account_id=account_id,
        state=state,
        platform=platform.value if platform else None,
        paging=paging,
        now=dt.datetime.now(dt.UTC),
    )


router.include_router(apps)
router.include_router(queue)


@apps.get(
    "/{app_id}/beta-feedback",
    responses=problem_responses(*AUTHED, 404),
)
async def list_app_beta_feedback(
    app_id: uuid.UUID,
    principal: Reader,
    session: Session,
    type_: Literal["crash", "screenshot"] | None = Query(
        None, alias="type", description="Only crashes or only screenshots."
    ),
    build_id: uuid.UUID | None = Query(None, description="Only feedback on this build."),
    start: Instant | None = Query(
        None, alias="from", description="Submitted at or after this time (ISO 8601)."
    ),
    end: Instant | None = Query(None, alias="to", description="Submitted before this time."),
    *,
    paging: Paging,
) -> Page[BetaFeedbackRead]:
    """TestFlight feedback on the app, newest first: testers' crash and screenshot
    submissions with tester, build, device, OS, comment, the crash log's API URL and the
    screenshots' metadata (Apple's image URLs are temporary: fetch an image when you show
    it). Refreshed within seconds by Apple's webhooks when they are on, else hourly."""
    return await service.list_feedback(
        session,
        principal.workspace_id,
        app_id,
        kind=type_,
        build_id=build_id,
        start=start,
        end=end,
        paging=paging,
    )

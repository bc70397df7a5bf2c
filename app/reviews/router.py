"""Customer reviews across every linked account: list, search, ratings, and replies."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Query, status
from pydantic import Field

from app.auth.deps import Reader, Writer
from app.credentials.deps import AscClients
from app.kit.dates import Day, Instant
from app.kit.deps import Session
from app.kit.pagination import Page, Paging
from app.kit.problems import AUTHED, problem_responses
from app.reviews import replies, service
from app.reviews.schemas import (
    RatingsSummary,
    ReviewFilter,
    ReviewRead,
    ReviewReplyRead,
    ReviewResponseWrite,
    ReviewSort,
)

router = APIRouter(tags=["reviews"])

TerritoryParam = Query(
    None,
    min_length=2,
    max_length=3,
    pattern="^[A-Za-z]{2,3}$",
    description="Storefront, ISO 3166-1 alpha-2 (`US`) or alpha-3 (`USA`).",
)
Rating = Annotated[int, Field(ge=1, le=5)]
# Apple answers "refused" with 403/409/422, fails with 502, throttles with 503.
APPLE_WRITE_PROBLEMS = (404, 409, 502, 503)


@router.get(
    "/v1/reviews",
    responses=problem_responses(*AUTHED),
)
async def list_reviews(
    principal: Reader,
    session: Session,
    account_id: uuid.UUID | None = Query(None, description="Only this linked account's reviews."),
    app_id: uuid.UUID | None = Query(None, description="Only this app's reviews (Orchard id)."),
    rating: list[Rating] | None = Query(
        None, description="Only these star ratings; repeat for several: `rating=1&rating=2`."
    ),
    territory: str | None = TerritoryParam,
    has_response: bool | None = Query(
        None, description="true: only reviews with a developer response; false: only without."
    ),
    created_from: Instant | None = Query(
        None,
        alias="from",
        description="Written at or after this instant (ISO 8601; no offset means UTC).",
    ),
    created_to: Instant | None = Query(
        None, alias="to", description="Written before this instant (exclusive)."
    ),
    q: str | None = Query(
        None,
        min_length=1,
        max_length=200,
        description=(
            "Full-text search in title and body, any language: every word must start a word "
            "of the review (`crash` finds `crashes`); in Japanese or Chinese text the phrase "
            "is also matched as a substring."
        ),
    ),
    include_removed: bool = Query(
        False, description="Also reviews App Store Connect no longer lists."
    ),
    sort: ReviewSort = Query(
        ReviewSort.NEWEST,
        description=(
            "`-created_at` newest first (default), `created_at` oldest first, `-rating` best "
            "first, `rating` worst first (equal ratings newest first)."
        ),
    ),
    *,
    paging: Paging,
) -> Page[ReviewRead]:
    """Written customer reviews of every app in the workspace, with developer responses."""
    filters = ReviewFilter(
        account_id=account_id,
        app_id=app_id,
        ratings=tuple(rating or ()),
        territory=territory,
        has_response=has_response,
        created_from=created_from,
        created_to=created_to,
        query=q,
        include_removed=include_removed,
    )
    return await service.list_reviews(
        session, principal.workspace_id, filters, sort=sort, paging=paging
    )


@router.get(
    "/v1/reviews/{review_id}",
    responses=problem_responses(*AUTHED, 404),
)
async def get_review(review_id: uuid.UUID, principal: Reader, session: Session) -> ReviewRead:
    """One review (also when App Store Connect no longer lists it: see `removed_at`)."""
    row = await service.get_review(session, principal.workspace_id, review_id)
    return service.review_read(row)


@router.put(
    "/v1/reviews/{review_id}/response",
    responses=problem_responses(*AUTHED, *APPLE_WRITE_PROBLEMS),
)
async def put_review_response(
    review_id: uuid.UUID,
    body: ReviewResponseWrite,
    principal: Writer,
    session: Session,
    clients: AscClients,
    idempotency_key: str | None = Header(
        None,
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        description=(
            "Makes retries safe: for 24 hours a request repeated with the same key returns "
            "the first answer without writing again; the same key with a different review or "
            "body is refused with 422 `idempotency_key_reused`."
        ),
    ),
) -> ReviewReplyRead:
    """Create or replace the developer response in App Store Connect.

    The reply is sent to App Store Connect first and stored only once Apple accepted it;
    the answer carries Apple's state (`PENDING_PUBLISH` until it is visible on the App Store).
    When Apple refuses, nothing changes in Orchard and the problem says why: 403
    `apple_forbidden` (the key needs the Admin, App Manager or Customer Support role, or an
    agreement is missing), 409 `apple_conflict`, 422 `apple_rejected`, 502 `apple_error`
    (App Store Connect failed; retrying is safe), 503 `apple_rate_limited`.
    """
    return await replies.put_reply(
        session,
        clients,
        principal.workspace_id,
        review_id,
        body.body,
        idempotency_key=idempotency_key,
    )


@router.delete(
    "/v1/reviews/{review_id}/response",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(*AUTHED, *APPLE_WRITE_PROBLEMS),
)
async def delete_review_response(
    review_id: uuid.UUID, principal: Writer, session: Session, clients: AscClients
) -> None:
    """Delete the developer response in App Store Connect, then in Orchard.

    404 when the review has no response. Apple's refusals are reported as for the PUT and
    leave Orchard unchanged.
    """
    await replies.delete_reply(session, clients, principal.workspace_id, review_id)


@router.get(
    "/v1/apps/{app_id}/ratings",
    responses=problem_responses(*AUTHED, 404),
)
async def get_app_ratings(
    app_id: uuid.UUID,
    principal: Reader,
    session: Session,
    from_date: Day | None = Query(
        None, alias="from", description="First Pacific-time day to count (inclusive)."
    ),
    to_date: Day | None = Query(
        None, alias="to", description="Last Pacific-time day to count (inclusive)."
    ),
    territory: str | None = TerritoryParam,
) -> RatingsSummary:
    """A ratings card for one app: count, average, 1–5 histogram and a daily series.

    Computed from **written reviews only**: App Store Connect's API exposes no star-only
    ratings, so this is not the App Store's overall rating.
    """
    return await service.ratings(
        session,
        principal.workspace_id,
        app_id,
        from_date=from_date,
        to_date=to_date,
        territory=territory,
    )

"""Reading reviews and ratings. Every query is scoped to the caller's workspace."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import NotFound, ValidationFailed
from app.kit import cursors
from app.kit.pagination import Page, PageRequest
from app.resources import store_ratings
from app.reviews import repository, territories
from app.reviews.repository import ReviewRow
from app.reviews.schemas import (
    RatingBucket,
    RatingsDay,
    RatingsSummary,
    ReviewFilter,
    ReviewRead,
    ReviewResponseRead,
    ReviewSort,
    StoreRatingStorefront,
    StoreRatingTotals,
)
from app.reviews.territories import to_alpha3


def territory_filter(code: str | None, field: str = "query.territory") -> str | None:
    """Apple's alpha-3 code for an alpha-2 or alpha-3 input."""
    if code is None:
        return None
    alpha3 = to_alpha3(code)
    if alpha3 is None:
        raise ValidationFailed.single(
            field, "not an App Store territory (ISO 3166-1 alpha-2 or alpha-3)", "territory"
        )
    return alpha3


def _decode_after(
    paging: PageRequest, sort: ReviewSort
) -> tuple[int, dt.datetime, uuid.UUID] | None:
    after = paging.after(cursors.TEXT, cursors.integer, cursors.moment, cursors.UUID)
    if after is None:
        return None
    made_for, rating, created, review_id = after
    if made_for != sort.value:
        raise ValidationFailed.single(
            "query.cursor", "the cursor belongs to another sort order", "cursor"
        )
    return rating, created, review_id


def _aware(moment: dt.datetime | None) -> dt.datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=dt.UTC)


async def list_reviews(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    filters: ReviewFilter,
    *,
    sort: ReviewSort,
    paging: PageRequest,
) -> Page[ReviewRead]:
    created_from, created_to = _aware(filters.created_from), _aware(filters.created_to)
    if created_from and created_to and created_from >= created_to:
        raise ValidationFailed.single("query.to", "must be after 'from'", "out_of_range")
    filters = ReviewFilter(
        account_id=filters.account_id,
        app_id=filters.app_id,
        ratings=tuple(sorted(set(filters.ratings))),
        territory=territory_filter(filters.territory),
        has_response=filters.has_response,
        created_from=created_from,
        created_to=created_to,
        query=filters.query.strip() if filters.query else None,
        include_removed=filters.include_removed,
    )
    rows = await repository.list_reviews(
        session,
        workspace_id,
        filters,
        sort=sort,
        after=_decode_after(paging, sort),
        limit=paging.fetch,
    )
    page, next_cursor = paging.split(
        rows,
        lambda row: [
            sort.value,
            row.review.rating,
            row.review.created_at.isoformat(),
            str(row.review.id),
        ],
    )
    return Page(items=[review_read(row) for row in page], next_cursor=next_cursor)


async def get_review(
    session: AsyncSession, workspace_id: uuid.UUID, review_id: uuid.UUID
) -> ReviewRow:
    row = await repository.get_review(session, workspace_id, review_id)
    if row is None:
        raise NotFound(f"no review with id {review_id}")
    return row


def review_read(row: ReviewRow) -> ReviewRead:
    review = row.review
    response = None
    if (
        review.response_apple_id is not None
        and review.response_body is not None
        and review.response_last_modified_at is not None
    ):
        response = ReviewResponseRead(
            apple_id=review.response_apple_id,
            body=review.response_body,
            state=review.response_state or "PENDING_PUBLISH",
            last_modified_at=review.response_last_modified_at,
        )
    return ReviewRead(
        id=review.id,
        account_id=review.account_id,
        app_id=review.app_id,
        app_apple_id=review.app_apple_id,
        app_name=row.app_name,
        apple_id=review.apple_id,
        rating=review.rating,
        title=review.title,
        body=review.body,
        reviewer_nickname=review.reviewer_nickname,
        territory=review.territory,
        country_code=review.country_code,
        created_at=review.created_at,
        first_seen_at=review.first_seen_at,
        last_seen_at=review.last_seen_at,
        removed_at=review.removed_at,
        response=response,
    )


def _average(total: int, count: int) -> float:
    mean = (Decimal(total) / Decimal(count)).quantize(Decimal("0.01"), ROUND_HALF_UP)
    return float(mean)


async def ratings(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    app_id: uuid.UUID,
    *,
    from_date: dt.date | None,
    to_date: dt.date | None,
    territory: str | None,
) -> RatingsSummary:
    if from_date and to_date and from_date > to_date:
        raise ValidationFailed.single("query.to", "must not be before 'from'", "out_of_range")
    alpha3 = territory_filter(territory)
    rows = await repository.rating_counts(
        session, workspace_id, app_id, from_date=from_date, to_date=to_date, territory=alpha3
    )
    if rows is None:
        raise NotFound(f"no app with id {app_id}")
    histogram = dict.fromkeys(range(1, 6), 0)
    days: dict[dt.date, tuple[int, int]] = {}
    for day, rating, count in rows:
        histogram[rating] += count
        day_count, day_total = days.get(day, (0, 0))
        days[day] = (day_count + count, day_total + rating * count)
    count = sum(histogram.values())
    total = sum(rating * n for rating, n in histogram.items())
    store = await _store_totals(session, workspace_id, app_id, alpha3)
    return RatingsSummary(
        app_id=app_id,
        from_date=from_date,
        to_date=to_date,
        territory=alpha3,
        count=count,
        average=_average(total, count) if count else None,
        histogram=[RatingBucket(rating=r, count=n) for r, n in histogram.items()],
        daily=[
            RatingsDay(report_date=day, count=n, average=_average(day_total, n))
            for day, (n, day_total) in sorted(days.items())
        ],
        store=store,
    )


async def _store_totals(
    session: AsyncSession, workspace_id: uuid.UUID, app_id: uuid.UUID, alpha3: str | None
) -> StoreRatingTotals | None:
    """The App Store's own figures for the card (read through the resources floor)."""
    country = None
    if alpha3 is not None:
        country = (territories.alpha2(alpha3) or "").lower() or "--"
    rows = await store_ratings.latest_store_ratings(session, workspace_id, app_id, country)
    if not rows:
        return None
    count = sum(row.rating_count for row in rows)
    weighted = sum(
        ((row.average or Decimal(0)) * row.rating_count for row in rows), start=Decimal(0)
    )
    return StoreRatingTotals(
        rating_count=count,
        average=float((weighted / count).quantize(Decimal("0.01"), ROUND_HALF_UP))
        if count
        else None,
        storefronts=[
            StoreRatingStorefront(
                country=row.country,
                snapshot_date=row.snapshot_date,
                rating_count=row.rating_count,
                average=float(row.average) if row.average is not None else None,
            )
            for row in rows
        ],
    )

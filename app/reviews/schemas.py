"""API shapes for customer reviews, the ratings summary and replies."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

#: Apple's limit on a developer response, in characters.
MAX_REPLY_LENGTH = 5970


class ReviewSort(StrEnum):
    NEWEST = "-created_at"
    OLDEST = "created_at"
    HIGHEST = "-rating"
    LOWEST = "rating"


class ReviewResponseRead(BaseModel):
    """The developer response to a review, as App Store Connect last reported it."""

    apple_id: str = Field(description="App Store Connect's id of the response.")
    body: str
    state: str = Field(
        description=(
            "Apple's state: `PENDING_PUBLISH` (accepted, not yet visible on the App Store) or "
            "`PUBLISHED`. Apple may add states; treat unknown ones as not yet visible."
        ),
        examples=["PUBLISHED"],
    )
    last_modified_at: dt.datetime = Field(description="Apple's `lastModifiedDate`.")


class ReviewRead(BaseModel):
    """A written customer review from the App Store."""

    id: uuid.UUID
    account_id: uuid.UUID
    app_id: uuid.UUID = Field(description="Orchard's app id (see `GET /v1/apps/{id}`).")
    app_apple_id: str = Field(description="Apple's app id (`Apple Identifier` in reports).")
    app_name: str
    apple_id: str = Field(description="App Store Connect's id of the review.")
    rating: int = Field(ge=1, le=5, description="Stars, 1 to 5.")
    title: str | None
    body: str | None
    reviewer_nickname: str | None
    territory: str = Field(
        description="The storefront as Apple reports it: ISO 3166-1 alpha-3, e.g. `USA`.",
        examples=["USA"],
    )
    country_code: str | None = Field(
        description="The same storefront as ISO 3166-1 alpha-2 (`US`), as sales reports use it.",
        examples=["US"],
    )
    created_at: dt.datetime = Field(
        description="When the review was written (Apple's `createdDate`; an edit keeps it)."
    )
    first_seen_at: dt.datetime = Field(description="When Orchard first fetched the review.")
    last_seen_at: dt.datetime = Field(description="When Orchard last fetched the review.")
    removed_at: dt.datetime | None = Field(
        description="When App Store Connect stopped listing the review (null while listed)."
    )
    response: ReviewResponseRead | None = Field(
        description="The developer response, or null when there is none."
    )


class ReviewResponseWrite(BaseModel):
    """A reply to publish under the review on the App Store."""

    model_config = ConfigDict(extra="forbid")

    body: str = Field(
        min_length=1,
        max_length=MAX_REPLY_LENGTH,
        description=(
            f"The reply text: not blank, at most {MAX_REPLY_LENGTH:,} characters (Apple's "
            "limit). Leading and trailing whitespace is removed before it is sent."
        ),
    )


class ReviewReplyRead(ReviewResponseRead):
    """The reply as App Store Connect accepted it."""

    review_id: uuid.UUID


class RatingBucket(BaseModel):
    rating: int = Field(ge=1, le=5)
    count: int


class RatingsDay(BaseModel):
    report_date: dt.date = Field(
        description=(
            "Apple's reporting day: the Pacific-time calendar day the reviews were written "
            "(the same day as `report_date` in sales)."
        )
    )
    count: int
    average: float = Field(description="Mean stars of that day's written reviews (2 decimals).")


class RatingsSummary(BaseModel):
    """Ratings of one app computed from its **written customer reviews only**.

    App Store Connect's API exposes no star-only ratings (ratings left without a review), so
    these figures cover the reviews Orchard synced, not the App Store's overall rating.
    Reviews App Store Connect no longer lists are not counted.
    """

    app_id: uuid.UUID
    basis: Literal["written_reviews"] = Field(
        default="written_reviews",
        description=(
            "Always `written_reviews`: Apple's API has no star-only ratings, so these "
            "numbers are not the App Store's overall rating."
        ),
    )
    from_date: dt.date | None = Field(description="First Pacific-time day counted (inclusive).")
    to_date: dt.date | None = Field(description="Last Pacific-time day counted (inclusive).")
    territory: str | None = Field(description="Alpha-3 storefront filter, when one was given.")
    count: int = Field(description="Number of written reviews.")
    average: float | None = Field(description="Mean stars (2 decimals); null without reviews.")
    histogram: list[RatingBucket] = Field(description="Count per star rating, 1 to 5 (all five).")
    daily: list[RatingsDay] = Field(
        description="Per Pacific-time day, oldest first; days without reviews are omitted."
    )
    store: StoreRatingTotals | None = Field(
        default=None,
        description="Beside the written-review figures, clearly apart: the App Store's own "
        "star ratings (all ratings) per followed storefront; null until a snapshot exists. "
        "The date filters do not apply (it is the newest snapshot); `territory` does.",
    )


class StoreRatingStorefront(BaseModel):
    country: str = Field(description="Storefront, ISO 3166-1 alpha-2 lower case (`us`).")
    snapshot_date: dt.date = Field(description="UTC day of the newest snapshot.")
    rating_count: int = Field(description="All star ratings in this storefront.")
    average: float | None = Field(description="Average stars as the App Store shows them.")


class StoreRatingTotals(BaseModel):
    """The App Store's own summary rating — every star rating, with or without a written
    review — from Apple's public Lookup API, per storefront the workspace follows for the
    app (newest daily snapshot; history at `/v1/apps/{id}/ratings/store`)."""

    basis: Literal["app_store_lookup"] = Field(
        default="app_store_lookup",
        description="Always `app_store_lookup`: Apple's public store figures, not computed "
        "from written reviews (so they differ from `count`/`average` above).",
    )
    rating_count: int = Field(description="Sum over the storefronts listed.")
    average: float | None = Field(
        description="Mean of the storefronts' averages weighted by their counts (2 decimals)."
    )
    storefronts: list[StoreRatingStorefront]


@dataclass(frozen=True)
class ReviewFilter:
    account_id: uuid.UUID | None = None
    app_id: uuid.UUID | None = None
    ratings: tuple[int, ...] = ()
    territory: str | None = None  # alpha-3
    has_response: bool | None = None
    created_from: dt.datetime | None = None
    created_to: dt.datetime | None = None
    query: str | None = None
    include_removed: bool = False

"""API shapes for tracked apps, storefronts, star-rating snapshots, rank history and charts."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

MAX_STOREFRONTS = 50
StorefrontList = list[str]


class Chart(StrEnum):
    TOP_FREE = "top-free"
    TOP_PAID = "top-paid"
    TOP_GROSSING = "top-grossing"


class Granularity(StrEnum):
    HOUR = "hour"
    DAY = "day"


class TrackedAppRead(BaseModel):
    """An app whose public store data (ranks, star ratings) Orchard collects for the workspace."""

    id: uuid.UUID = Field(description="The tracked app's id (`/v1/tracked-apps/{id}`).")
    apple_id: str = Field(description="Apple's app id (the number in the App Store URL).")
    name: str | None = Field(description="As the App Store last listed it (null until looked up).")
    linked: bool = Field(
        description="Tracked because it belongs to a linked account (always tracked)."
    )
    app_id: uuid.UUID | None = Field(description="Orchard's app id when linked (`/v1/apps/{id}`).")
    added: bool = Field(description="Tracked because it was added with `POST /v1/tracked-apps`.")
    storefronts: StorefrontList = Field(
        description="Storefronts followed for this app: the override, else the workspace's."
    )
    storefronts_override: StorefrontList | None = Field(
        description="This app's own storefronts; null follows the workspace's."
    )
    created_at: dt.datetime


class TrackedAppCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    apple_id: str = Field(
        pattern=r"^[0-9]{1,18}$",
        description="Apple's app id, digits only (`id1234567890` in a store URL → `1234567890`).",
    )
    storefronts: StorefrontList | None = Field(
        default=None,
        max_length=MAX_STOREFRONTS,
        description="Storefronts for this app (ISO 3166-1 alpha-2, e.g. `us`); omit or null to "
        "follow the workspace's storefronts.",
    )


class TrackedAppUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    storefronts: StorefrontList | None = Field(
        max_length=MAX_STOREFRONTS,
        description="This app's storefronts; null follows the workspace's again.",
    )


class StorefrontsRead(BaseModel):
    """The storefronts (countries) whose charts and ratings the workspace follows."""

    configured: StorefrontList | None = Field(
        description="Set with `PUT /v1/store/storefronts`; null uses the default."
    )
    effective: StorefrontList = Field(description="The storefronts in use now.")
    source: Literal["configured", "sales", "default"] = Field(
        description="`configured`; `sales`: the countries with the most units sold in the last "
        "90 days (capped); `default`: no sales yet, the service's default storefronts."
    )
    max_storefronts: int = Field(description="The cap on storefronts derived from sales.")


class StorefrontsWrite(BaseModel):
    model_config = ConfigDict(extra="forbid")

    storefronts: StorefrontList | None = Field(
        max_length=MAX_STOREFRONTS,
        description="Storefronts (ISO 3166-1 alpha-2); null returns to the default (sales).",
    )


class StoreRatingPoint(BaseModel):
    snapshot_date: dt.date = Field(description="The UTC day of the snapshot.")
    status: Literal["ok", "not_in_storefront"] = Field(
        description="`not_in_storefront`: Lookup does not list the app in this storefront "
        "(no figures; never zeros)."
    )
    rating_count: int | None = Field(description="All ratings in this storefront (Apple).")
    average: float | None = Field(description="Average stars as Apple reports it.")
    current_version_rating_count: int | None = Field(
        description="Ratings of the current version, when Apple gives them."
    )
    current_version_average: float | None
    version: str | None = Field(description="The app version Lookup showed.")
    version_released_at: dt.datetime | None
    reset_detected: bool = Field(
        description="The count dropped sharply since the previous snapshot: the summary rating "
        "was reset (also an event in `/v1/events` for linked apps), not a data error."
    )
    fetched_at: dt.datetime = Field(description="When Orchard asked Apple.")


class StoreRatingsCountry(BaseModel):
    country: str = Field(description="Storefront, ISO 3166-1 alpha-2 lower case.")
    latest: StoreRatingPoint | None = Field(description="The newest snapshot, in range or not.")
    series: list[StoreRatingPoint] = Field(
        description="One snapshot per day in the range, oldest first; a missing day was not "
        "fetched (never a zero)."
    )


class StoreRatings(BaseModel):
    """The App Store's own star ratings of an app, per storefront over time — all ratings,
    with or without a written review, from Apple's public Lookup API."""

    app_id: uuid.UUID = Field(description="The id asked for (catalog or tracked app).")
    apple_id: str
    basis: Literal["app_store_lookup"] = "app_store_lookup"
    from_date: dt.date
    to_date: dt.date
    countries: list[StoreRatingsCountry]


class RankPoint(BaseModel):
    """What one chart snapshot said about the app."""

    fetched_from: dt.datetime = Field(description="First fetch that served this snapshot.")
    fetched_until: dt.datetime = Field(
        description="Last fetch that served it; a stretch with no point was not fetched."
    )
    feed_updated_at: dt.datetime | None = Field(description="The feed's own `updated`.")
    status: Literal["ranked", "not_in_top_n", "unavailable"] = Field(
        description="`not_in_top_n`: the chart was fetched and the app is not in its top `n`; "
        "`unavailable`: the feed answered no usable chart (rank unknown)."
    )
    rank: int | None = Field(description="1-based; null unless `ranked`.")
    n: int | None = Field(description="How many entries the feed returned (null if unavailable).")
    detail: str | None = Field(description="Why the chart was unavailable.")


class RankSeries(BaseModel):
    country: str
    chart: Chart
    genre: int = Field(description="Apple's genre id; 36 is all apps (the overall chart).")
    points: list[RankPoint]


class RankHistory(BaseModel):
    """An app's rank history in the charts of its storefronts."""

    app_id: uuid.UUID
    apple_id: str
    from_date: dt.date = Field(description="First UTC day (inclusive).")
    to_date: dt.date = Field(description="Last UTC day (inclusive).")
    series: list[RankSeries]


class ChartEntry(BaseModel):
    rank: int
    apple_id: str
    name: str = Field(description="The app's name as the feed gave it.")
    tracked: bool = Field(description="Whether the workspace tracks this app.")


class ChartRead(BaseModel):
    """A chart as its feed served it at a moment."""

    country: str
    chart: Chart
    genre: int
    at: dt.datetime = Field(description="The moment asked for.")
    status: Literal["ok", "unavailable", "not_fetched"] = Field(
        description="`unavailable`: the feed answered no usable chart at that fetch; "
        "`not_fetched`: Orchard holds no snapshot of this chart from before `at` (no "
        "entries either way — never an empty chart)."
    )
    detail: str | None
    feed: str | None = Field(
        description="`rss_v2` (Marketing Tools RSS) or `rss_legacy` (iTunes RSS)."
    )
    feed_updated_at: dt.datetime | None
    fetched_from: dt.datetime | None = Field(description="First fetch that served it.")
    fetched_until: dt.datetime | None = Field(description="Last fetch that served it.")
    n: int = Field(description="Entries served (0 unless `ok`).")
    entries: list[ChartEntry]

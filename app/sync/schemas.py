from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class DatasetState(StrEnum):
    OK = "ok"
    RUNNING = "running"
    LAGGING = "lagging"
    FAILING = "failing"
    PAUSED_CREDENTIALS = "paused_credentials"
    DISABLED_MISSING_CAPABILITY = "disabled_missing_capability"


class AvailabilityState(StrEnum):
    PUBLISHED = "published"
    NO_DATA = "no_data"
    NOT_YET_PUBLISHED = "not_yet_published"
    EXPIRED = "expired"
    FAILED = "failed"
    NOT_FETCHED = "not_fetched"


class UnitCounts(BaseModel):
    queued: int = Field(description="Due now, waiting for a worker.")
    waiting: int = Field(description="Scheduled for later (retry backoff, not yet published).")
    running: int
    failed: int = Field(description="Gave up after retries or on a non-retryable error.")
    paused: int = Field(description="Held while the account's credentials are broken.")


class LastError(BaseModel):
    code: str
    message: str
    at: dt.datetime


class RateBudget(BaseModel):
    limit: int = Field(description="Apple's hourly request limit for the key (last seen).")
    remaining: int = Field(description="Requests left in the rolling hour (last seen).")
    observed_at: dt.datetime
    blocked_until: dt.datetime | None = Field(
        description="No unit starts for this key before this time (reserve reached or 429)."
    )


class SyncStatusEntry(BaseModel):
    account_id: uuid.UUID
    account_name: str
    dataset: str
    state: DatasetState
    reason: str | None = Field(description="Why the state is not `ok`, for a person.")
    last_success_at: dt.datetime | None
    last_attempt_at: dt.datetime | None
    next_run_at: dt.datetime | None = Field(description="When the next unit is due.")
    newest_available_date: dt.date | None = Field(
        description="Dated datasets: the newest report date (Pacific) stored as published or "
        "as Apple's 'no data'."
    )
    latest_expected_date: dt.date | None = Field(
        description="Dated datasets: the newest report date Apple should have published by now."
    )
    lag_days: int | None = Field(description="latest_expected_date − newest_available_date.")
    units: UnitCounts
    last_error: LastError | None
    last_unit_requests: int | None = Field(
        description="App Store Connect requests the last successful unit took."
    )
    rate_budget: RateBudget | None
    report_version: str | None = Field(
        default=None,
        description="Report datasets: the `filter[version]` Orchard asks Apple for — the "
        "registry's default until Apple answers that a newer one is current, then that one "
        "(learned once for every account).",
    )


class SyncRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    datasets: list[str] = Field(min_length=1, max_length=20, description="Dataset names.")
    from_date: dt.date | None = Field(
        default=None, alias="from", description="First report date (Pacific) to fetch."
    )
    to_date: dt.date | None = Field(
        default=None, alias="to", description="Last report date (Pacific) to fetch."
    )


class SyncAccepted(BaseModel):
    enqueued: int = Field(description="Units queued (units already queued are not counted).")
    datasets: dict[str, int] = Field(description="Units queued per dataset.")


class AvailabilityEntry(BaseModel):
    report_date: dt.date = Field(description="Apple's reporting day (Pacific time).")
    state: AvailabilityState
    fetched_at: dt.datetime | None
    row_count: int | None
    detail: str | None


class Availability(BaseModel):
    account_id: uuid.UUID
    dataset: str
    items: list[AvailabilityEntry] = Field(
        description="One entry per report date in the range. Only `published` and `no_data` "
        "are facts; a date Apple has not published is never reported as zero."
    )
    next_cursor: None = Field(
        default=None,
        description="Always null: the whole requested range is one page (the range itself is "
        "bounded). Present so one generic pager fits every list.",
    )


class SourceState(BaseModel):
    """One source of a public dataset: a chart feed of a storefront, a storefront's Lookup."""

    key: str = Field(
        description="Which source: `us/top-free/36` (storefront/chart/genre) for a chart, "
        "`us` for a storefront's ratings."
    )
    state: str = Field(
        description="`ok`, `unavailable` (the source stopped answering usable data: its "
        "chart shows no ranks, never zeros, until it answers again), `pending` (not fetched "
        "yet) or `lagging` (not fetched within twice its cadence)."
    )
    detail: str | None = Field(description="Why the state is not `ok`, for a person.")
    checked_at: dt.datetime | None = Field(description="When Orchard last asked the source.")
    last_ok_at: dt.datetime | None = Field(description="When it last answered usable data.")


class PublicSyncStatusEntry(BaseModel):
    """A dataset of public App Store data, fetched once for every workspace."""

    dataset: str
    state: DatasetState
    reason: str | None = Field(description="Why the state is not `ok`, for a person.")
    last_success_at: dt.datetime | None
    last_attempt_at: dt.datetime | None
    next_run_at: dt.datetime | None = Field(description="When the next unit is due.")
    units: UnitCounts
    last_error: LastError | None
    sources: list[SourceState] = Field(
        description="The sources this workspace's data comes from (its storefronts' charts and "
        "ratings), each with its own state."
    )

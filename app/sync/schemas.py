from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from app.kit.dates import Day


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


class DateAvailabilityState(StrEnum):
    """An entry's state in `GET /v1/accounts/{id}/availability`: the report dataset states,
    plus two that only App Analytics has (Apple's privacy rules and its instance history)."""

    PUBLISHED = "published"
    NO_DATA = "no_data"
    NOT_YET_PUBLISHED = "not_yet_published"
    EXPIRED = "expired"
    FAILED = "failed"
    NOT_FETCHED = "not_fetched"
    WITHHELD = "withheld"
    NOT_COVERED = "not_covered"


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
    reason: str | None = Field(
        description="Why the state is not `ok`, for a person; with `ok`, a note such as "
        "`nothing to fetch yet` (no unit exists: Apple has produced nothing to fetch)."
    )
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
    data_as_of: dt.datetime | None = Field(
        description="How new the stored data is. Report datasets: the start (00:00 Pacific) "
        "of the newest report date stored as published or as Apple's 'no data'; snapshots "
        "(catalog, reviews, team, ...): the last successful refresh. Null: nothing yet."
    )
    age_seconds: float | None = Field(description="now − data_as_of, in seconds.")
    cadence_seconds: float = Field(
        description="How often the routine pass refreshes (or, for report datasets, checks "
        "Apple for) this dataset; `ORCHARD_CADENCES` sets it per deployment."
    )
    freshness_target_seconds: float | None = Field(
        description="The age beyond which the dataset is `lagging`. Snapshots: twice the "
        "cadence. Report datasets: the age the newest report has when Apple publishes on "
        "schedule (the latest expected date's start), plus a day of grace."
    )
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
    from_date: Day | None = Field(
        default=None, alias="from", description="First report date (Pacific) to fetch."
    )
    to_date: Day | None = Field(
        default=None, alias="to", description="Last report date (Pacific) to fetch."
    )


class SkippedDataset(BaseModel):
    account_id: uuid.UUID
    dataset: str
    reason: str = Field(description="Why this account cannot sync this dataset now.")


class SyncAccepted(BaseModel):
    sync_request_id: uuid.UUID = Field(
        description="Follow the refresh at `GET /v1/sync-requests/{id}`."
    )
    enqueued: int = Field(
        default=0,
        description="Units the request runs: every unit of the named datasets, each run once "
        "more from now on (units already queued or running included).",
    )
    coalesced: int = Field(
        default=0,
        description="Of `enqueued`, units that were already queued or running: no duplicate "
        "work is queued; a unit running now runs once more when it ends.",
    )
    datasets: dict[str, int] = Field(description="Units queued per dataset.")
    accounts: int = Field(default=1, description="Accounts the request covers.")
    skipped: list[SkippedDataset] = Field(
        default_factory=list,
        description="`POST /v1/sync` only: (account, dataset) pairs left out, with the reason "
        "(a missing role, broken credentials).",
    )


class SyncRequestState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class RequestUnitCounts(BaseModel):
    total: int
    queued: int = Field(
        description="Waiting for a worker (or for a run older than the request "
        "to end: that unit runs once more)."
    )
    running: int = Field(description="A run that started after the request is under way.")
    paused: int = Field(description="Held while the account's credentials are broken.")
    succeeded: int = Field(description="Refreshed since the request.")
    failed: int = Field(description="Failed after retries, or the account was unlinked.")


class SyncRequestProgress(BaseModel):
    id: uuid.UUID
    account_id: uuid.UUID | None = Field(
        description="The account refreshed; null for `POST /v1/sync` (every account)."
    )
    datasets: list[str]
    created_at: dt.datetime
    state: SyncRequestState = Field(
        description="`queued` (nothing started yet), `running`, then `succeeded` or `failed` "
        "(at least one unit failed) once every unit has run since the request."
    )
    finished_at: dt.datetime | None = Field(description="When the last unit finished.")
    units: RequestUnitCounts
    per_dataset: dict[str, RequestUnitCounts]


class AvailabilityEntry(BaseModel):
    report_date: dt.date = Field(description="Apple's reporting day (Pacific time).")
    state: DateAvailabilityState = Field(
        description="`published` (Orchard holds Apple's data for the date), `no_data` (Apple "
        "said there was nothing: a real zero), `not_yet_published` (Apple has not published "
        "it yet; analytics instances appear one or two days after the date), `expired`, "
        "`failed`, `not_fetched`; analytics only: `withheld` (Apple published later dates "
        "but not this one past its completeness window: it withholds a period with fewer "
        "than 5 users, or lost it — unknown, **never zero**) and `not_covered` (before the "
        "first date Apple published for the report to this account: its history does not "
        "reach back, or its instances expired after 35 days)."
    )
    fetched_at: dt.datetime | None = Field(
        description="When Orchard loaded the data (analytics: the served instance)."
    )
    row_count: int | None = Field(
        description="Rows Orchard holds for the date (analytics: in the served vintage). A "
        "report row missing from Apple's file is not a zero: Apple leaves out rows below its "
        "privacy threshold."
    )
    detail: str | None
    app_id: uuid.UUID | None = Field(
        default=None, description="Analytics only: the app (Orchard id) of the entry."
    )
    report: str | None = Field(
        default=None,
        description="Analytics only: Orchard's key of Apple's report (`installs`, `sessions`, "
        "`discovery`, `downloads`, `crashes`).",
    )
    processing_date: dt.date | None = Field(
        default=None,
        description="Analytics only: Apple's processing date of the vintage served by default "
        "(the newest instance carrying the date).",
    )
    vintages: int | None = Field(
        default=None,
        description="Analytics only: how many processing-date vintages of the date Orchard "
        "holds; more than one means Apple restated it (older ones stay queryable with "
        "`vintage=first` or `as_of`).",
    )


class Availability(BaseModel):
    account_id: uuid.UUID
    dataset: str
    items: list[AvailabilityEntry] = Field(
        description="One entry per report date in the range (App Analytics, dataset "
        "`analytics_instances`: one per app × report × date, ordered by date, app, report). "
        "Only `published` and `no_data` are facts; a date Apple has not published, or "
        "withheld, is never reported as zero."
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

"""API shapes of App Analytics: measures per bucket and group, incomplete dates, the app card.

Every measure is Apple's number, from the Standard analytics report named in its description;
``null`` means no row of that report contributed (not published yet, withheld by Apple's
privacy rules, or the report has no such dimension) and is never a zero.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from enum import StrEnum

from pydantic import BaseModel, Field

REPORT_DATE = (
    "Apple's analytics `Date` (the report's own day; Apple does not say whether it is a "
    "Pacific or UTC day)."
)
INSTALLS = "Apple report 'App Store Installation and Deletion Standard'"
SESSIONS = "Apple report 'App Sessions Standard'"
DISCOVERY = "Apple report 'App Store Discovery and Engagement Standard'"
DOWNLOADS = "Apple report 'App Downloads Standard'"
CRASHES = "Apple report 'App Crashes'"
NOT_ADDITIVE = (
    " Not additive: a count of distinct devices. Daily values come from Apple's daily rows, "
    "weekly and monthly ones from Apple's own WEEKLY/MONTHLY instances (never a sum of days); "
    "null when that instance is not loaded. Apple splits a day's devices over rows (version, "
    "device, source…), so a sum over rows may count a device twice."
)


class Granularity(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


class Vintage(StrEnum):
    LATEST = "latest"
    FIRST = "first"


class Dimension(StrEnum):
    """What `/v1/analytics` can group by, in the order groups are sorted."""

    APP = "app"
    TERRITORY = "territory"
    DEVICE = "device"
    PLATFORM_VERSION = "platform_version"
    APP_VERSION = "app_version"
    SOURCE_TYPE = "source_type"
    PAGE_TYPE = "page_type"


class DateState(StrEnum):
    PROVISIONAL = "provisional"
    WITHHELD = "withheld"
    NOT_YET_PUBLISHED = "not_yet_published"
    NOT_COVERED = "not_covered"


class AnalyticsMeasures(BaseModel):
    """Additive measures sum over days and groups; `active_devices` does not."""

    installs: int | None = Field(
        description="Installs (all download types): Σ `Counts` where `Event` = Install. "
        f"{INSTALLS}."
    )
    first_time_installs: int | None = Field(
        description="Installs of a first-time download: Σ `Counts` where `Event` = Install and "
        f"`Download Type` = First-time download. {INSTALLS}."
    )
    deletions: int | None = Field(
        description=f"App deletions: Σ `Counts` where `Event` = Delete. {INSTALLS}."
    )
    sessions: int | None = Field(description=f"Σ `Sessions`. {SESSIONS}.")
    session_seconds: int | None = Field(
        description=f"Σ `Total Session Duration`, seconds. {SESSIONS}."
    )
    active_devices: int | None = Field(
        description=f"Σ `Unique Devices` of the sessions rows. {SESSIONS}." + NOT_ADDITIVE
    )
    impressions: int | None = Field(
        description=f"Σ `Counts` where `Event` = Impression. {DISCOVERY}."
    )
    product_page_views: int | None = Field(
        description=f"Σ `Counts` where `Event` = Page view. {DISCOVERY}."
    )
    downloads: int | None = Field(
        description=f"Σ `Counts` (every download type, updates included). {DOWNLOADS}."
    )
    first_time_downloads: int | None = Field(
        description=f"Σ `Counts` where `Download Type` = First-time download. {DOWNLOADS}."
    )
    crashes: int | None = Field(
        description=f"Σ `Crashes`. {CRASHES} (it has no territory or source: filtering or "
        "grouping by those leaves crashes null or in the null group)."
    )


class AnalyticsBucket(AnalyticsMeasures):
    period_start: dt.date = Field(description="First day of the calendar bucket.")
    period_end: dt.date = Field(description="Last day of the calendar bucket.")
    partial: bool = Field(
        description="The bucket extends beyond `from`/`to`; only days within the range count "
        "for additive measures (`active_devices` of a week or month is Apple's whole period)."
    )
    group: dict[str, str | None] = Field(
        description="The bucket's value of each `group_by` dimension; null where Apple left it "
        "empty or the report has no such column.",
        examples=[{"territory": "US"}],
    )


class AnalyticsIncompleteDate(BaseModel):
    report_date: dt.date = Field(description=REPORT_DATE)
    app_id: uuid.UUID
    report: str = Field(description="Orchard's report key: installs, sessions, discovery, …")
    state: DateState = Field(
        description="`provisional`: Apple's newest instance is inside the report's "
        "completeness window and will restate the date; `withheld`: Apple published later "
        "dates but no row for this one (fewer than 5 users: Apple's privacy threshold, or a "
        "gap in Apple's data) — unknown, not zero; `not_yet_published`: no instance carries "
        "it yet; `not_covered`: before the first report Orchard has (a ONE_TIME_SNAPSHOT "
        "brings history)."
    )


class AnalyticsReport(BaseModel):
    """Analytics measures per calendar bucket (and group), one page at a time."""

    granularity: Granularity
    group_by: list[Dimension]
    vintage: str = Field(description="`latest`, `first`, or `as_of:<processing date>`.")
    items: list[AnalyticsBucket] = Field(
        description="Ordered by bucket, then by each group value (nulls last)."
    )
    next_cursor: str | None = Field(description="Opaque cursor for the next page; null at end.")
    incomplete_dates: list[AnalyticsIncompleteDate] = Field(
        description="Dates of the range (per app in scope and report) whose numbers are not "
        "final: a measure over them is not complete, and a missing value there is not a zero."
    )


class DailyAnalytics(AnalyticsMeasures):
    report_date: dt.date = Field(description=REPORT_DATE)


class AnalyticsTotals(AnalyticsMeasures):
    sessions_per_active_device: float | None = Field(
        description="`sessions` ÷ Σ daily `active_devices` (sessions per device and day); null "
        "when either is missing."
    )
    conversion: float | None = Field(
        description="`installs` ÷ `product_page_views` where both exist (null otherwise)."
    )


class AppAnalyticsSummary(BaseModel):
    """A dashboard card: totals over the range and a daily series."""

    app_id: uuid.UUID
    app_name: str
    from_date: dt.date = Field(alias="from")
    to_date: dt.date = Field(alias="to")
    totals: AnalyticsTotals = Field(
        description="Additive measures summed over the days; `active_devices` is the mean of "
        "the days with a value (devices on an average day), never a sum."
    )
    series: list[DailyAnalytics] = Field(description="One entry per day of the range.")
    incomplete_dates: list[AnalyticsIncompleteDate]


@dataclass(frozen=True)
class AnalyticsFilter:
    account_ids: list[uuid.UUID] = field(default_factory=list)
    app_ids: list[uuid.UUID] = field(default_factory=list)
    territories: list[str] = field(default_factory=list)
    devices: list[str] = field(default_factory=list)
    source_types: list[str] = field(default_factory=list)

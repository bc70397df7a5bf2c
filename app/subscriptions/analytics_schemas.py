"""API shapes of subscription analytics: the metric catalogue, metric buckets, cohorts."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum

from pydantic import BaseModel, Field

from app.fx.schemas import ConvertedTotal, ConvertibleMoney
from app.subscriptions.catalog import Family, Unit

REPORT_DATE = "Apple's reporting day (a Pacific-time calendar day)."


class MetricInfo(BaseModel):
    """One metric: what it means, where it comes from, and how it may be combined."""

    name: str = Field(description="The name to pass as `metric`.")
    title: str
    family: Family = Field(
        description="`snapshot` (a stock from the Subscription Report), `events` (Σ Quantity "
        "of the Subscription Event Report by Event Date), `transactions` (Subscriber Report "
        "rows by Event Date), `ratio` (computed per bucket from two other values), `cohort` "
        "(served by `/v1/subscriptions/cohorts`)."
    )
    unit: Unit
    definition: str = Field(description="The formula in words.")
    sources: list[str] = Field(description="Apple report(s) and the table Orchard keeps them in.")
    columns: list[str] = Field(description="Apple's columns the value is computed from.")
    additive_over_time: bool = Field(
        description="Whether the values of consecutive buckets may be added up."
    )
    additive_over_groups: bool = Field(
        description="Whether the values of groups may be added up to the total."
    )
    caveats: list[str]
    route: str = Field(description="The route that computes it.")


class MetricCatalog(BaseModel):
    """Every metric Orchard computes over Apple's subscription reports."""

    metrics: list[MetricInfo]


class MetricGranularity(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


class MetricDimension(StrEnum):
    """What `/v1/subscriptions/metrics` can group by, in the order groups are sorted."""

    APP = "app"
    SUBSCRIPTION = "subscription"
    COUNTRY = "country"
    OFFER = "offer"
    DURATION = "duration"
    CANCELLATION_REASON = "cancellation_reason"


class SourceTrace(BaseModel):
    """Which stored rows a bucket's values were computed from, per source table."""

    dataset: str = Field(description="Orchard's dataset (one Apple report).")
    table: str
    rows: int = Field(description="Stored rows that contributed (before any predicate).")
    first_report_date: dt.date | None = Field(
        description="Oldest report date (file) among those rows. " + REPORT_DATE
    )
    last_report_date: dt.date | None = Field(description="Newest report date among those rows.")
    first_event_date: dt.date | None = Field(
        description="Oldest Event Date among those rows (null for the Subscription Report)."
    )
    last_event_date: dt.date | None


MetricValue = int | str | list[ConvertibleMoney] | None


class MetricBucket(BaseModel):
    period_start: dt.date = Field(description="First day of the calendar bucket.")
    period_end: dt.date = Field(description="Last day of the calendar bucket.")
    partial: bool = Field(
        description="The bucket extends beyond `from`/`to`; only days within the range count."
    )
    group: dict[str, str | None] = Field(
        description="The bucket's value of each `group_by` dimension; null where Apple left "
        "it empty. `app` is Apple's App Apple ID."
    )
    as_of: dt.date | None = Field(
        description="Snapshot metrics: the report date their value is read on (the newest "
        "stored date of the bucket); null when the bucket has no snapshot."
    )
    values: dict[str, MetricValue] = Field(
        description="Per requested metric: counts as integers; ratios as decimal strings "
        "(6 places, `0.123457`), null when the denominator is zero or unknown; money as a "
        "list of `{amount, currency}`, one per currency, never added across currencies. With "
        "a reporting currency (`currency=`) each money object also has `converted` "
        "(`{amount, currency, rate, rate_date, source, …}`; null when none of it had a rate): "
        "flows converted each Event Date at its own rate then summed, mrr/arr at the `as_of` "
        "date's rate, MRR movements at the rate of the bucket's last day in range, arpu/arppu "
        "as the converted numerator ÷ the same denominator."
    )
    values_total_converted: dict[str, ConvertedTotal | None] | None = Field(
        default=None,
        description="With a reporting currency only (absent otherwise): per requested money "
        "metric, its total in that currency — Σ of every currency's converted amount (for "
        "arpu/arppu: every currency's converted net proceeds ÷ the bucket's whole "
        "denominator) — rounded once, with what had no rate in `unconverted` (then "
        "`partial` is true: the total leaves it out, never counts it as zero); null when the "
        "value is null.",
    )
    trace: list[SourceTrace] = Field(
        description="The stored rows behind the values: list them with "
        "`/v1/subscriptions/metrics/rows`."
    )


class MetricIncompleteDate(BaseModel):
    dataset: str = Field(description="Which report is missing.")
    report_date: dt.date = Field(description=REPORT_DATE)
    account_id: uuid.UUID
    state: str = Field(
        description="`not_yet_published`, `expired`, `failed` or `not_fetched` (never asked)."
    )


class MetricReport(BaseModel):
    """Subscription metrics per calendar bucket (and group), one page at a time."""

    metrics: list[str]
    granularity: MetricGranularity
    group_by: list[MetricDimension]
    from_date: dt.date = Field(serialization_alias="from")
    to_date: dt.date = Field(serialization_alias="to")
    currency: str | None = Field(
        default=None,
        description="The reporting currency money was also converted into (`currency=`, else "
        "the workspace's default); absent without one, or when no money metric is asked for.",
    )
    currency_conversion: str = Field(
        description="How money is expressed: per currency as Apple reports it, and with a "
        "reporting currency the conversion rule (which day's rate converts what)."
    )
    items: list[MetricBucket] = Field(
        description="Ordered by bucket, then by each group value (nulls last). Only buckets "
        "and groups with rows appear."
    )
    next_cursor: str | None = Field(
        description="Opaque cursor for the next page; null on the last page."
    )
    incomplete_dates: list[MetricIncompleteDate] = Field(
        description="Report dates (per dataset and linked account in scope) that are not "
        "stored yet. Event and Subscriber files are also needed for the two days after `to`: "
        "they carry late events."
    )


class CohortBy(StrEnum):
    START_MONTH = "start_month"
    TRIAL_START_MONTH = "trial_start_month"


class CohortMetric(StrEnum):
    RETENTION = "retention"
    REVENUE = "revenue"
    RENEWAL_BY_PERIOD = "renewal_by_period"
    TRIAL_CONVERSION = "trial_conversion"


class CohortCell(BaseModel):
    period: int = Field(
        description="Months after the cohort month (`retention`, `revenue`, "
        "`trial_conversion`: 0 = the cohort month itself) or the paid period number "
        "(`renewal_by_period`: 1 = the first charge)."
    )
    count: int | None = Field(
        description="`retention`: subscribers covered at the end of the month; "
        "`trial_conversion`: conversions in that month (not cumulative); "
        "`renewal_by_period`: subscribers whose period n ended (the denominator). Null when "
        "the period is not over in the stored data."
    )
    cumulative: int | None = Field(
        description="`trial_conversion`: conversions up to that month; "
        "`renewal_by_period`: of `count`, those that renewed; otherwise null."
    )
    rate: str | None = Field(
        description="Decimal string (6 places): `retention` count ÷ cohort size, "
        "`trial_conversion` cumulative ÷ cohort size, `renewal_by_period` renewed ÷ count. "
        "Null for `revenue` and when not computable."
    )
    amounts: list[ConvertibleMoney] | None = Field(
        description="`revenue`: cumulative net proceeds per currency up to the end of that "
        "month (realised LTV of the cohort); null for other metrics. With a reporting "
        "currency each also has `converted` (each Event Date at its own rate, then summed)."
    )
    per_subscriber: list[ConvertibleMoney] | None = Field(
        description="`revenue`: `amounts` ÷ cohort size per currency, rounded to the "
        "currency's minor units; converted: the converted amount ÷ the cohort size."
    )
    amounts_total_converted: ConvertedTotal | None = Field(
        default=None,
        description="`revenue` with a reporting currency only (absent otherwise): Σ of every "
        "currency's converted `amounts`, with what had no rate (`unconverted`, `partial`); "
        "null when the period is not over.",
    )
    per_subscriber_total_converted: ConvertedTotal | None = Field(
        default=None,
        description="`revenue` with a reporting currency only: `amounts_total_converted` ÷ "
        "the cohort size (from the exact converted sum, rounded once); null when the period "
        "is not over or the cohort is empty.",
    )


class Cohort(BaseModel):
    cohort: str = Field(description="The cohort month, `YYYY-MM`.")
    size: int = Field(
        description="Subscribers (Subscriber IDs) whose first charge is in the month, or "
        "free trials started in the month (`trial_start_month`)."
    )
    periods: list[CohortCell]


class CohortTable(BaseModel):
    """Cohorts as rows, periods as columns."""

    by: CohortBy
    metric: CohortMetric
    from_month: str = Field(description="First cohort month, `YYYY-MM`.")
    to_month: str = Field(description="Last cohort month, `YYYY-MM`.")
    definition: str = Field(description="The catalogue's definition of the metric.")
    data_through: dt.date | None = Field(
        description="The newest Event Date stored for the scope: later periods are null."
    )
    currency: str | None = Field(
        default=None,
        description="`revenue` with a reporting currency (`currency=`, else the workspace's "
        "default): the currency amounts were also converted into; absent otherwise.",
    )
    currency_conversion: str
    cohorts: list[Cohort]
    incomplete_dates: list[MetricIncompleteDate]


class MetricSourceRow(BaseModel):
    """One stored row of Apple's report and what it adds to the metric."""

    dataset: str = Field(description="Orchard's dataset: the Apple report the row is from.")
    id: int = Field(description="The stored row's id (stable while its report date is kept).")
    report_date: dt.date = Field(description="The report date (file) the row came in.")
    event_date: dt.date | None = Field(description="Apple's Event Date (event reports).")
    subscription_apple_id: str | None
    country: str | None
    detail: dict[str, str | int | bool | None] = Field(
        description="Apple's columns the metric reads, as stored (decimals as strings)."
    )
    count: int | None = Field(
        description="Count metrics: what the row adds (Quantity, 1 per transaction, or the "
        "snapshot row's Σ of the metric's count columns)."
    )
    amount: ConvertibleMoney | None = Field(
        description="Money metrics: what the row adds, in its currency (refunds negative for "
        "`net_proceeds`). With a reporting currency it also has `converted`, at the rate of "
        "the row's Event Date (Subscriber rows) or report date (snapshot rows)."
    )


class MetricRows(BaseModel):
    """The stored rows one metric is computed from, by report date then id."""

    metric: str
    snapshot_date: dt.date | None = Field(
        description="Snapshot metrics: the report date whose rows are listed (the newest "
        "stored date in the range, the `as_of` of a bucket spanning it)."
    )
    currency: str | None = Field(
        default=None,
        description="With a reporting currency (money metrics only): the currency the "
        "amounts were also converted into; absent otherwise.",
    )
    items: list[MetricSourceRow]
    amounts_total_converted: ConvertedTotal | None = Field(
        default=None,
        description="With a reporting currency (money metrics only): Σ of this page's "
        "amounts, each converted at its own row's day rate, rounded once, with what had no "
        "rate (`unconverted`, `partial`). Absent otherwise.",
    )
    next_cursor: str | None = Field(
        description="Opaque cursor for the next page; null on the last page."
    )

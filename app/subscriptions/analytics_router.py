"""Subscription analytics: the metric catalogue, metrics per bucket and group, cohorts."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

import pydantic_core
from fastapi import APIRouter, Query, Response
from pydantic import Field

from app.auth.deps import Reader
from app.kit.dates import Day
from app.kit.deps import AppSettings, Session
from app.kit.pagination import CursorParam, PageRequest, Paging
from app.kit.problems import AUTHED, problem_responses
from app.reports import query
from app.subscriptions import analytics, cohorts, metric_rows, service
from app.subscriptions.analytics_repository import RowScope
from app.subscriptions.analytics_schemas import (
    CohortBy,
    CohortMetric,
    CohortTable,
    MetricCatalog,
    MetricDimension,
    MetricGranularity,
    MetricReport,
    MetricRows,
)
from app.subscriptions.request_repository import ScopeAsk
from app.subscriptions.schemas import RowFilter

router = APIRouter(prefix="/v1/subscriptions", tags=["subscription analytics"])
MAX_LIMIT = 5000

AccountParam = Annotated[
    uuid.UUID | None, Query(description="Only this linked account (404 if not yours).")
]
AppParam = Annotated[
    uuid.UUID | None,
    Query(description="Only this app's subscriptions: Orchard's app id (404 if not yours)."),
]
FromParam = Annotated[Day, Query(alias="from", description="First day (Apple's Pacific-time day).")]
ToParam = Annotated[Day, Query(alias="to", description="Last day, inclusive.")]
CountriesParam = Annotated[
    list[Annotated[str, Field(pattern="^[A-Za-z]{2}$")]] | None,
    Query(alias="country", description="Only these storefronts, ISO 3166-1 alpha-2 (`US`)."),
]
CurrencyParam = Annotated[
    str | None,
    Query(
        min_length=3,
        max_length=3,
        pattern="^[A-Za-z]{3}$",
        description="Reporting currency (ISO 4217): money is also converted into it, with the "
        "rates, their dates and sources, and converted totals listing what had no rate. "
        "Default: the workspace's reporting currency, if set.",
    ),
]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def _scopes(
    session: Session,
    workspace_id: uuid.UUID,
    account_id: uuid.UUID | None,
    app_id: uuid.UUID | None,
    countries: list[str] | None,
) -> tuple[service.Scope, RowScope]:
    scope = await service.resolve_scope(session, workspace_id, account_id, app_id)
    upper = tuple(dict.fromkeys(c.upper() for c in countries or []))
    return scope, RowScope(workspace_id, scope.filters, upper)


def _asked(
    workspace_id: uuid.UUID,
    account_id: uuid.UUID | None,
    app_id: uuid.UUID | None,
    countries: list[str] | None,
) -> tuple[ScopeAsk, RowScope]:
    """The scope as asked, for routes that resolve the account and app inside their one
    statement (their 404s too), and the rows it filters."""
    upper = tuple(dict.fromkeys(c.upper() for c in countries or []))
    rows = RowScope(workspace_id, RowFilter(account_id=account_id), upper, app_id)
    return ScopeAsk(workspace_id, account_id, app_id), rows


@router.get(
    "/metrics/catalog",
    operation_id="get_subscription_metric_catalog",
    responses=problem_responses(*AUTHED),
)
async def get_catalog(principal: Reader) -> MetricCatalog:
    """Every subscription metric Orchard computes: its name (the `metric` to ask for), unit,
    definition (the formula in words), the Apple report(s) and columns it comes from, whether
    its values may be added over time and over groups, and its caveats (privacy, Subscriber ID
    resets, late events, currencies). Cohort metrics name `/v1/subscriptions/cohorts`."""
    del principal  # any reader; the catalogue holds no workspace data
    return analytics.catalog()


@router.get(
    "/metrics",
    operation_id="get_subscription_metrics",
    # Documents the shape; the answer is the service's plain document, serialised once
    # (``analytics.metric_report``), so FastAPI neither checks nor dumps it again.
    response_model=MetricReport,
    responses=problem_responses(*AUTHED, 404),
)
async def get_metrics(
    principal: Reader,
    session: Session,
    from_date: FromParam,
    to_date: ToParam,
    metric: list[str] = Query(
        description="Metric names from `/v1/subscriptions/metrics/catalog`, comma-separated "
        "(`metric=mrr,churn_rate`) or repeated; at most 40.",
    ),
    granularity: MetricGranularity = Query(
        MetricGranularity.DAY,
        description="Calendar buckets: `day`, `week` (Monday to Sunday) or `month`. Edge "
        "buckets may be partial (`partial`).",
    ),
    group_by: list[str] | None = Query(
        None,
        description="Split each bucket by any of `app` (App Apple ID), `subscription`, "
        "`country`, `offer` (offer reference name), `duration` (standard subscription "
        "duration), `cancellation_reason` (event metrics only): comma-separated or repeated.",
    ),
    account_id: AccountParam = None,
    app_id: AppParam = None,
    countries: CountriesParam = None,
    limit: int = Query(
        1000, ge=1, le=MAX_LIMIT, description=f"Items per page, at most {MAX_LIMIT}."
    ),
    cursor: CursorParam = None,
    currency: CurrencyParam = None,
    *,
    settings: AppSettings,
) -> Response:
    """Subscription metrics per calendar bucket and group, computed in SQL from the stored rows
    of Apple's Subscription, Subscription Event and Subscriber reports (at most 400 days).

    Stocks (actives, MRR, …) are read on each bucket's newest stored report date (`as_of`);
    flows (events, charges, refunds, money) are summed by Event Date; ratios and averages are
    computed for each bucket and group from their own numerator and denominator — never summed
    or averaged across days or groups. Money is per currency; with a reporting currency
    (`currency=`, else the workspace's default) it is also converted: proceeds, sales and
    refunds each Event Date at that day's rate (the latest published on or before it), then
    summed — never one rate per week or month; mrr/arr at the `as_of` date's rate; MRR
    movements at the rate of the bucket's last day; arpu/arppu from the converted net proceeds.
    Each bucket then has `values_total_converted` per money metric, with what had no rate
    (`unconverted`, `partial`); `currency_conversion` states the rule. Each bucket's `trace`
    names the stored rows and report dates it came from; `/v1/subscriptions/metrics/rows`
    lists them. Dates whose files are not stored
    yet are in `incomplete_dates`: a missing day is not a zero.
    """
    metrics = analytics.parse_metrics(metric)
    dimensions = query.parse_dimensions(group_by, MetricDimension)
    ask, rows = _asked(principal.workspace_id, account_id, app_id, countries)
    document = await analytics.metric_report(
        session,
        ask,
        rows,
        metrics=metrics,
        start=from_date,
        end=to_date,
        granularity=granularity,
        group_by=dimensions,
        paging=PageRequest(limit, cursor),
        now=_now(),
        currency=currency,
        default_currency=principal.reporting_currency,
        max_rate_age_days=settings.fx_max_rate_age_days,
    )
    return Response(pydantic_core.to_json(document), media_type="application/json")


@router.get(
    "/metrics/rows",
    operation_id="list_subscription_metric_rows",
    response_model=MetricRows,
    # Without a reporting currency the document is exactly as before (no conversion keys).
    response_model_exclude_unset=True,
    responses=problem_responses(*AUTHED, 404),
)
async def list_metric_rows(
    principal: Reader,
    session: Session,
    from_date: FromParam,
    to_date: ToParam,
    metric: str = Query(
        min_length=1,
        max_length=64,
        description="One metric of `/v1/subscriptions/metrics` (not a ratio: list its parts).",
    ),
    account_id: AccountParam = None,
    app_id: AppParam = None,
    countries: CountriesParam = None,
    currency: CurrencyParam = None,
    *,
    paging: Paging,
    settings: AppSettings,
) -> MetricRows:
    """The stored rows of Apple's reports a metric adds up over `from`…`to` (Event Date for
    event and Subscriber rows), by report date then id, each with what it adds (`count` or
    `amount`) and the columns the metric reads. Snapshot metrics list the rows of the newest
    stored report date in the range (`snapshot_date`): ask for `from` = `to` = a bucket's
    `as_of` to see exactly the rows behind it. Summing the page(s) gives the metric's value
    (money before rounding).

    With a reporting currency (`currency=`, else the workspace's default) each row's amount
    also converts at its own day's rate (Event Date of a Subscriber row, report date of a
    snapshot row), and `amounts_total_converted` adds up the page's converted amounts."""
    definition = analytics.parse_metric(metric)
    if account_id is None and app_id is None:  # nothing named, nothing to find (or 404)
        rows = _asked(principal.workspace_id, None, None, countries)[1]
    else:
        _, rows = await _scopes(session, principal.workspace_id, account_id, app_id, countries)
    return await metric_rows.metric_rows(
        session,
        rows,
        metric=definition,
        start=from_date,
        end=to_date,
        paging=paging,
        currency=currency,
        max_rate_age_days=settings.fx_max_rate_age_days,
    )


@router.get(
    "/cohorts",
    operation_id="get_subscription_cohorts",
    response_model=CohortTable,
    # Without a reporting currency the document is exactly as before (no conversion keys).
    response_model_exclude_unset=True,
    responses=problem_responses(*AUTHED, 404),
)
async def get_cohorts(
    principal: Reader,
    session: Session,
    from_date: Annotated[Day, Query(alias="from", description="A day of the first cohort month.")],
    to_date: Annotated[Day, Query(alias="to", description="A day of the last cohort month.")],
    by: CohortBy = Query(
        CohortBy.START_MONTH,
        description="`start_month`: Subscriber IDs by the month of their first charge "
        "(Subscriber Report); `trial_start_month`: free trials by the month they started "
        "(Subscription Event Report; with `metric=trial_conversion`).",
    ),
    metric: CohortMetric = Query(
        CohortMetric.RETENTION,
        description="`retention` (paid subscribers covered at each month end), `revenue` "
        "(realised LTV: cumulative net proceeds), `renewal_by_period` (renewal rate of paid "
        "period n), `trial_conversion` (trial → paid by trial-start month).",
    ),
    periods: int = Query(12, ge=0, le=36, description="Periods (months) after each cohort."),
    account_id: AccountParam = None,
    app_id: AppParam = None,
    countries: CountriesParam = None,
    currency: CurrencyParam = None,
    *,
    settings: AppSettings,
) -> CohortTable:
    """Cohort tables: one row per cohort month (at most 24), with its size, and one cell per
    period after it.

    A subscriber is a Subscriber ID: Apple resets it after 180 days without a subscription, so
    a customer returning after a reset starts a new subscriber in a new cohort. Periods that
    have not ended in the stored data (`data_through`) are null, never zero. Money is per
    proceeds currency; `revenue` with a reporting currency (`currency=`, else the workspace's
    default) is also converted, each Event Date at its own rate then summed, with converted
    totals per cell listing what had no rate. Trial conversion attributes each conversion event to
    the month of its Original Start Date (an introductory offer is once per subscription
    group, so that is the trial's start).
    """
    ask, rows = _asked(principal.workspace_id, account_id, app_id, countries)
    return await cohorts.cohort_table(
        session,
        ask,
        rows,
        by=by,
        metric=metric,
        start=from_date,
        end=to_date,
        periods=periods,
        now=_now(),
        currency=currency,
        default_currency=principal.reporting_currency,
        max_rate_age_days=settings.fx_max_rate_age_days,
    )

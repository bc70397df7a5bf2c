"""Subscriptions: active counts and estimated MRR for a day, daily series, events."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

import pydantic_core
from fastapi import APIRouter, Query, Response

from app.auth.deps import Reader
from app.kit.dates import Day
from app.kit.deps import AppSettings, Session
from app.kit.problems import AUTHED, problem_responses
from app.reports import query
from app.subscriptions import service
from app.subscriptions.request_repository import ScopeAsk
from app.subscriptions.schemas import (
    CountSeries,
    EventDimension,
    Metric,
    SubscriptionEvents,
    SubscriptionSeries,
    SubscriptionSummary,
    SummaryDimension,
)

router = APIRouter(prefix="/v1/subscriptions", tags=["subscriptions"])

AccountParam = Annotated[
    uuid.UUID | None, Query(description="Only this linked account (404 if not yours).")
]
AppParam = Annotated[
    uuid.UUID | None,
    Query(description="Only this app's subscriptions: Orchard's app id (404 if not yours)."),
]
FromParam = Annotated[Day, Query(alias="from", description="First day (Apple's Pacific-time day).")]
ToParam = Annotated[Day, Query(alias="to", description="Last day, inclusive.")]
GroupByParam = Annotated[
    list[str] | None,
    Query(description="Dimensions, comma-separated (`group_by=country,offer_type`) or repeated."),
]

CurrencyParam = Annotated[
    str | None,
    Query(
        min_length=3,
        max_length=3,
        pattern="^[A-Za-z]{3}$",
        description="Reporting currency (ISO 4217) for `estimated_mrr`: each day's amounts "
        "are also converted into it at that report date's rate. Default: the workspace's "
        "reporting currency, if set.",
    ),
]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@router.get(
    "/summary",
    operation_id="get_subscription_summary",
    response_model=SubscriptionSummary,
    # Without a reporting currency the document is exactly as before (no conversion keys).
    response_model_exclude_unset=True,
    responses=problem_responses(*AUTHED, 404),
)
async def get_summary(
    principal: Reader,
    session: Session,
    report_date: Day | None = Query(
        None,
        alias="date",
        description="Apple's report day (Pacific time); default: the newest day stored.",
    ),
    account_id: AccountParam = None,
    app_id: AppParam = None,
    group_by: GroupByParam = None,
    currency: str | None = Query(
        None,
        min_length=3,
        max_length=3,
        pattern="^[A-Za-z]{3}$",
        description="Reporting currency (ISO 4217): `estimated_mrr` is also converted into it "
        "at the report date's rate (the latest published on or before it), with "
        "`estimated_mrr_total_converted` and what had no rate. Default: the workspace's "
        "reporting currency, if set.",
    ),
    *,
    settings: AppSettings,
) -> SubscriptionSummary:
    """Active subscriptions on one day from Apple's Subscription Report: all active, paying,
    free trials, introductory / promotional / offer-code / win-back offers, billing retry,
    grace period, and the estimated MRR per proceeds currency.

    `group_by` splits them by `subscription`, `country` and/or `offer_type` (the offer mode:
    `standard`, `free_trial_introductory`, `pay_as_you_go_promotional`, …). A day whose report
    is not stored for an account in scope is listed in `incomplete_dates`: it is not zero.

    Estimated MRR = Σ (standard-price + pay-as-you-go subscriptions) × developer proceeds ×
    (30.4375 days ÷ standard duration in days, or 1 ÷ months: 7 days → 4.348214…, 1 month → 1,
    2 months → 1/2, 3 months → 1/3, 6 months → 1/6, 1 year → 1/12), per proceeds currency;
    converted only with a reporting currency (`currency=`), the originals kept.
    """
    dimensions = query.parse_dimensions(group_by, SummaryDimension)
    return await service.summary(
        session,
        ScopeAsk(principal.workspace_id, account_id, app_id),
        day=report_date,
        group_by=dimensions,
        now=_now(),
        currency=currency,
        max_rate_age_days=settings.fx_max_rate_age_days,
    )


@router.get(
    "/summary/series",
    operation_id="get_subscription_series",
    response_model=SubscriptionSeries,
    # Without a reporting currency the document is exactly as before (no conversion keys).
    response_model_exclude_unset=True,
    responses=problem_responses(*AUTHED, 404),
)
async def get_series(
    principal: Reader,
    session: Session,
    from_date: FromParam,
    to_date: ToParam,
    metric: Metric = Query(
        Metric.ACTIVE,
        description="A summary measure (`active`, `paying`, `free_trial`, `introductory`, "
        "`promotional`, `offer_code`, `win_back`, `billing_retry`, `grace_period`, "
        "`marketing_opt_ins`, `subscribers`, `estimated_mrr`) or an event metric by event date "
        "(`churned`, `trial_starts`, `trial_conversions`).",
    ),
    account_id: AccountParam = None,
    app_id: AppParam = None,
    currency: CurrencyParam = None,
    *,
    settings: AppSettings,
) -> CountSeries | Response:
    """One metric per day (at most 400 days), oldest first. `kind` says what the points
    carry: `count` (every metric but `estimated_mrr`) → `value`, `money` (`estimated_mrr`) →
    `amounts` per currency. A day no account in scope has yet is `null`, not zero; `complete`
    says whether every account's report is in.

    With a reporting currency (`currency=`, else the workspace's default) each day's
    `estimated_mrr` amounts also convert at that day's own rate (the latest published on or
    before the report date, never one rate for the range), the originals kept, with the
    day's `amounts_total_converted` and what had no rate."""
    found = await service.series(
        session,
        ScopeAsk(principal.workspace_id, account_id, app_id),
        metric=metric,
        start=from_date,
        end=to_date,
        now=_now(),
        currency=currency,
        max_rate_age_days=settings.fx_max_rate_age_days,
    )
    if isinstance(found, dict):  # the money series, built as plain data: straight to JSON
        return Response(pydantic_core.to_json(found), media_type="application/json")
    return found


@router.get(
    "/events",
    operation_id="get_subscription_events",
    responses=problem_responses(*AUTHED, 404),
)
async def get_events(
    principal: Reader,
    session: Session,
    from_date: FromParam,
    to_date: ToParam,
    account_id: AccountParam = None,
    app_id: AppParam = None,
    group_by: GroupByParam = None,
) -> SubscriptionEvents:
    """Subscription events from Apple's Subscription Event Report, counted by event date (at
    most 400 days): activations, cancellations, conversions, renewals, reactivations… as Apple
    names them (`event`), with Orchard's stable `event_group` (`activation`, `cancellation`,
    `conversion`, `renewal`, `billing`, `other`).

    `group_by`: `event` (default), `event_group`, `subscription`, `country`. Also returns the
    derived metrics `churned` (Σ cancellation events), `trial_starts` and `trial_conversions`
    (activation / conversion events of Free Trial offers).
    """
    dimensions = query.parse_dimensions(group_by or ["event"], EventDimension)
    return await service.events(
        session,
        ScopeAsk(principal.workspace_id, account_id, app_id),
        start=from_date,
        end=to_date,
        group_by=dimensions,
        now=_now(),
    )

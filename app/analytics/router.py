"""App Analytics: installs, deletions, sessions, active devices, store engagement, crashes."""

from __future__ import annotations

import uuid
from typing import Annotated

import pydantic_core
from fastapi import APIRouter, Query, Response
from pydantic import Field

from app.analytics import service
from app.analytics.schemas import (
    AnalyticsReport,
    AppAnalyticsSummary,
    Dimension,
    Granularity,
    Vintage,
)
from app.auth.deps import Reader
from app.kit.dates import Day
from app.kit.deps import AppSettings, Session
from app.kit.pagination import CursorParam, PageRequest
from app.kit.problems import AUTHED, problem_responses
from app.reports import query

router = APIRouter(tags=["analytics"])

MAX_REPORT_LIMIT = 5000

FromParam = Annotated[Day, Query(alias="from", description="First analytics date.")]
ToParam = Annotated[Day, Query(alias="to", description="Last analytics date, inclusive.")]
Text64 = Annotated[str, Field(min_length=1, max_length=64)]


def _json(document: service.Payload) -> Response:
    return Response(pydantic_core.to_json(document), media_type="application/json")


@router.get(
    "/v1/analytics",
    response_model=AnalyticsReport,
    responses=problem_responses(*AUTHED),
)
async def get_analytics(
    principal: Reader,
    settings: AppSettings,
    session: Session,
    from_date: FromParam,
    to_date: ToParam,
    granularity: Granularity = Query(
        Granularity.DAY,
        description="`day`, `week` (Monday to Sunday, like Apple's weekly instances) or "
        "`month`. Additive measures are summed over the days in range; `active_devices` of a "
        "week or month is Apple's own weekly or monthly figure.",
    ),
    group_by: list[str] | None = Query(
        None,
        description="Split each bucket by any of `app`, `territory`, `device`, "
        "`platform_version`, `app_version`, `source_type`, `page_type`: comma-separated or "
        "repeated.",
    ),
    account_ids: Annotated[
        list[uuid.UUID] | None, Query(alias="account_id", description="Only these accounts.")
    ] = None,
    app_ids: Annotated[
        list[uuid.UUID] | None, Query(alias="app_id", description="Only these apps (Orchard ids).")
    ] = None,
    territories: Annotated[
        list[Annotated[str, Field(pattern="^[A-Za-z]{2}$")]] | None,
        Query(alias="territory", description="Only these territories, ISO alpha-2 (`US`)."),
    ] = None,
    devices: Annotated[
        list[Text64] | None,
        Query(alias="device", description="Only these devices as Apple names them (`iPhone`)."),
    ] = None,
    source_types: Annotated[
        list[Text64] | None,
        Query(
            alias="source_type",
            description="Only these sources as Apple names them (`App Store search`, …).",
        ),
    ] = None,
    vintage: Vintage | None = Query(
        None,
        description="Apple restates recent dates: `latest` (default) reads each date from "
        "the newest instance Orchard loaded, `first` from the first one.",
    ),
    as_of: Day | None = Query(
        None,
        description="Read each date as Apple had published it on this processing date "
        "(the newest instance processed on or before it). Not with `vintage`.",
    ),
    limit: int = Query(
        1000, ge=1, le=MAX_REPORT_LIMIT, description=f"Items per page, at most {MAX_REPORT_LIMIT}."
    ),
    cursor: CursorParam = None,
) -> Response:
    """App analytics from Apple's Analytics Reports (Standard cuts) per calendar bucket and
    optional groups.

    Measures: `installs`, `first_time_installs`, `deletions` (Installation and Deletion
    report), `sessions`, `session_seconds`, `active_devices` (Sessions report; distinct
    devices: **not additive**, never summed across days), `impressions`,
    `product_page_views` (Discovery and Engagement), `downloads`, `first_time_downloads`
    (Downloads) and `crashes` (Crashes). A measure is `null` when no row of its report
    contributed — Apple withholds days and rows below its privacy threshold (5 users), so a
    missing value is unknown, never zero.

    `incomplete_dates` lists the (date, app, report) whose numbers are not final: still inside
    Apple's completeness window (`provisional`), `withheld`, `not_yet_published` or
    `not_covered`. The range may span at most `ORCHARD_ANALYTICS_MAX_RANGE_DAYS` days.
    """
    span = query.date_range(from_date, to_date, settings.analytics_max_range_days)
    report = await service.analytics_report(
        session,
        principal.workspace_id,
        span=span,
        granularity=granularity,
        group_by=query.parse_dimensions(group_by, Dimension),
        filters=service.normalise_filter(
            account_ids=account_ids,
            app_ids=app_ids,
            territories=territories,
            devices=devices,
            source_types=source_types,
        ),
        vintage=vintage,
        as_of=as_of,
        paging=PageRequest(limit, cursor),
    )
    return _json(report)


@router.get(
    "/v1/apps/{app_id}/analytics/summary",
    response_model=AppAnalyticsSummary,
    responses=problem_responses(*AUTHED, 404),
)
async def get_app_analytics_summary(
    app_id: uuid.UUID,
    principal: Reader,
    session: Session,
    settings: AppSettings,
    from_date: FromParam,
    to_date: ToParam,
) -> Response:
    """A dashboard card for one app: installs, deletions, sessions, crashes… over the range
    (the latest vintage of each date), `sessions_per_active_device`, `conversion` (installs ÷
    product page views where both exist), and a daily series. `active_devices` in the totals
    is the mean of the days (devices on an average day), never a sum."""
    span = query.date_range(from_date, to_date, settings.analytics_max_range_days)
    return _json(await service.app_summary(session, principal.workspace_id, app_id, span=span))

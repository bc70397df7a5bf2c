"""Analytics queries: validation, calendar buckets, vintages, dates that are not final."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.analytics import repository
from app.analytics.measures import MEASURES
from app.analytics.repository import AggregateRow, Chosen
from app.analytics.schemas import AnalyticsFilter, Dimension, Granularity, Vintage
from app.errors import NotFound, ValidationFailed
from app.kit import cursors
from app.kit.pagination import PageRequest
from app.reports import calendar
from app.reports.query import DateRange

#: A response document as the API sends it, shaped like its schema (see app.sales.service).
Payload = dict[str, Any]


def normalise_filter(
    *,
    account_ids: list[uuid.UUID] | None = None,
    app_ids: list[uuid.UUID] | None = None,
    territories: list[str] | None = None,
    devices: list[str] | None = None,
    source_types: list[str] | None = None,
) -> AnalyticsFilter:
    return AnalyticsFilter(
        account_ids=list(dict.fromkeys(account_ids or [])),
        app_ids=list(dict.fromkeys(app_ids or [])),
        territories=list(dict.fromkeys(t.upper() for t in territories or [])),
        devices=list(dict.fromkeys(devices or [])),
        source_types=list(dict.fromkeys(source_types or [])),
    )


def chosen_vintage(vintage: Vintage | None, as_of: dt.date | None) -> tuple[Chosen, str]:
    """``vintage`` and ``as_of`` are exclusive: the rows as Apple first or last published
    them, or the newest published on or before ``as_of``."""
    if as_of is not None:
        if vintage is not None:
            raise ValidationFailed.single(
                "query.as_of", "give either 'vintage' or 'as_of', not both", "conflict"
            )
        return Chosen(as_of=as_of), f"as_of:{as_of.isoformat()}"
    chosen = vintage or Vintage.LATEST
    return Chosen(first=chosen is Vintage.FIRST), chosen.value


def bucket_end(start: dt.date, granularity: Granularity) -> dt.date:
    if granularity is Granularity.DAY:
        return start
    if granularity is Granularity.WEEK:
        return start + dt.timedelta(days=6)
    return calendar.month_end(start)


def _day_text(value: Any) -> str:
    cursors.day(value)
    return str(value)


async def _incomplete(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    span: DateRange,
    filters: AnalyticsFilter,
    chosen: Chosen,
) -> list[dict[str, Any]]:
    rows = await repository.incomplete_dates(
        session, workspace_id, start=span.start, end=span.end, filters=filters, chosen=chosen
    )
    return _incomplete_items(rows)


def _incomplete_items(rows: list[repository.IncompleteRow]) -> list[dict[str, Any]]:
    return [
        {"report_date": r.report_date, "app_id": r.app_id, "report": r.report, "state": r.state}
        for r in rows
    ]


async def analytics_report(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    *,
    span: DateRange,
    granularity: Granularity,
    group_by: list[Dimension],
    filters: AnalyticsFilter,
    vintage: Vintage | None,
    as_of: dt.date | None,
    paging: PageRequest,
) -> Payload:
    """The `AnalyticsReport` document."""
    chosen, vintage_text = chosen_vintage(vintage, as_of)
    after_values = paging.after(_day_text, *(cursors.boolean, cursors.TEXT) * len(group_by))
    rows = await repository.aggregate(
        session,
        workspace_id,
        start=span.start,
        end=span.end,
        granularity=granularity.value,
        dimensions=[d.value for d in group_by],
        filters=filters,
        chosen=chosen,
        after=list(after_values) if after_values is not None else None,
        limit=paging.fetch,
    )
    page, next_cursor = paging.split(rows, AggregateRow.sort_key)
    items = []
    for row in page:
        end = bucket_end(row.bucket, granularity)
        items.append(
            {
                "period_start": row.bucket,
                "period_end": end,
                "partial": row.bucket < span.start or end > span.end,
                "group": {d.value: v for d, v in zip(group_by, row.group, strict=True)},
                **row.measures,
            }
        )
    return {
        "granularity": granularity,
        "group_by": group_by,
        "vintage": vintage_text,
        "items": items,
        "next_cursor": next_cursor,
        "incomplete_dates": await _incomplete(session, workspace_id, span, filters, chosen),
    }


def _ratio(numerator: int | None, denominator: int | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return round(numerator / denominator, 6)


async def app_summary(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    app_id: uuid.UUID,
    *,
    span: DateRange,
) -> Payload:
    """The `AppAnalyticsSummary` document."""
    # The app (404 outside the workspace) with its incomplete dates, read together.
    found = await repository.app_incomplete_dates(
        session, workspace_id, app_id, start=span.start, end=span.end
    )
    if found is None:
        raise NotFound(f"no app with id {app_id}")
    app_name, incomplete = found
    filters = AnalyticsFilter(app_ids=[app_id])
    rows = await repository.aggregate(
        session,
        workspace_id,
        start=span.start,
        end=span.end,
        granularity=Granularity.DAY.value,
        dimensions=[],
        filters=filters,
        chosen=Chosen(),
        after=None,
        limit=span.days,
    )
    by_day = {row.bucket: row.measures for row in rows}
    empty: dict[str, int | None] = dict.fromkeys(MEASURES)
    series = [
        {"report_date": day, **by_day.get(day, empty)}
        for day in calendar.days(span.start, span.end)
    ]
    totals: dict[str, Any] = {}
    for name in MEASURES:
        values = [v for m in by_day.values() if (v := m[name]) is not None]
        if name == "active_devices":
            totals[name] = round(sum(values) / len(values)) if values else None
        else:
            totals[name] = sum(values) if values else None
    device_days = [d for m in by_day.values() if (d := m["active_devices"])]
    totals["sessions_per_active_device"] = _ratio(
        totals["sessions"], sum(device_days) if device_days else None
    )
    totals["conversion"] = _ratio(totals["installs"], totals["product_page_views"])
    return {
        "app_id": app_id,
        "app_name": app_name,
        "from": span.start,
        "to": span.end,
        "totals": totals,
        "series": series,
        "incomplete_dates": _incomplete_items(incomplete),
    }

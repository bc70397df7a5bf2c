"""``/v1/sales?granularity=year``: years from Apple's yearly SALES files where Orchard has them.

Apple keeps daily reports for 365 days but yearly reports for ten years (FACTS §5.7). A year
the query covers whole and whose yearly file is stored (per account) comes from that file; any
other year (the current one, a year cut by ``from``/``to``, a yearly file not stored yet) from
the daily rollup, its missing days listed in ``incomplete_dates``. See
:mod:`app.sales.yearly_repository` for why the two are never added for the same account-year.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import ValidationFailed
from app.fx import convert
from app.kit.pagination import PageRequest
from app.reports import query
from app.reports.query import DateRange
from app.sales import yearly_repository
from app.sales.schemas import Dimension, Granularity, SalesFilter
from app.sales.service import Payload, _after, _book, _measures, bucket_end, incomplete_dates

#: How far back a yearly query may reach: Apple's ten years of yearly files and the current
#: year (a range longer than ``ORCHARD_SALES_MAX_RANGE_DAYS`` is allowed for years only).
MAX_YEARS = 11


def year_range(start: dt.date, end: dt.date, max_days: int) -> DateRange:
    """``from``/``to`` of a yearly query: in order, and within ``MAX_YEARS`` calendar years
    (or ``max_days``, when that is longer)."""
    span = query.date_range(start, end, max(max_days, (end - start).days + 1))
    if span.days > max_days and end.year - start.year + 1 > MAX_YEARS:
        raise ValidationFailed.single(
            "query.to",
            f"with granularity=year the range may span at most {MAX_YEARS} calendar years",
            "out_of_range",
        )
    return span


async def _incomplete(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    filters: SalesFilter,
    span: DateRange,
    now: dt.datetime,
    facts: set[tuple[uuid.UUID, dt.date]],
) -> list[dict[str, Any]]:
    """Daily dates not stored yet, except in account-years answered by a yearly file."""
    return [
        entry
        for entry in await incomplete_dates(session, workspace_id, filters, span, now)
        if (entry["account_id"], dt.date(entry["report_date"].year, 1, 1)) not in facts
    ]


async def sales_report_years(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    *,
    span: DateRange,
    group_by: list[Dimension],
    filters: SalesFilter,
    paging: PageRequest,
    now: dt.datetime,
    currency: str | None = None,
    default_currency: str | None,
    max_rate_age_days: int = 7,
) -> Payload:
    """The `SalesReport` document for ``granularity=year`` (see the module docstring).

    With a reporting currency, a yearly file's money is converted at the rate of the year's
    last day (the file does not split money by day); daily money at each day's rate.
    """
    target = convert.target_currency(currency, default_currency)
    rows = await yearly_repository.aggregate_years(
        session,
        workspace_id,
        start=span.start,
        end=span.end,
        dimensions=[d.value for d in group_by],
        filters=filters,
        after=_after(paging, len(group_by)),
        limit=paging.fetch,
        by_day=target is not None,
    )
    page, next_cursor = paging.split(rows, yearly_repository.YearRow.sort_key)
    book = await _book(session, workspace_id, target, span, max_rate_age_days)
    items = []
    for row in page:
        end = bucket_end(row.bucket, Granularity.YEAR)
        items.append(
            {
                "period_start": row.bucket,
                "period_end": end,
                "partial": row.bucket < span.start or end > span.end,
                "group": {d.value: value for d, value in zip(group_by, row.group, strict=True)},
                "source": row.source,
                **_measures(row, book),
            }
        )
    years = yearly_repository.full_years(span.start, span.end)
    facts = await yearly_repository.yearly_facts(session, workspace_id, years)
    return {
        "currency": target,
        "granularity": Granularity.YEAR,
        "group_by": group_by,
        "items": items,
        "next_cursor": next_cursor,
        "incomplete_dates": await _incomplete(session, workspace_id, filters, span, now, facts),
    }

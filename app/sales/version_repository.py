"""The version of the data a sales answer is built from, for the answer cache
(``app.kit.response_cache``): read in the same statement as the availability states the
answer needs anyway (the route's first statement), before the answer's aggregate. A kept
answer costs that one statement; a miss adds only the aggregate (two in all).

The version is computed from the rows themselves, so nothing has to remember to bump it: the
rollup rows the planner would read (the same tables, range and filters: every row version
PostgreSQL holds there, by its ``xmin``, ``ctid`` and table — a row rewritten by an ingest,
even with equal values, is a new row version), the workspace's accounts (id, unlinked), the
availability of their days in the range (date, state), and the app's row for an app's card.
An answer in a reporting currency adds the version of the stored rates (``fx_data_version``,
which any statement writing a rate changes: ``app.fx.kept``), and its currency and maximum
rate age go in its key. Any commit that changes what the answer reads changes it; READ
COMMITTED reads it before the answer's aggregate, so an answer is never filed under a version
older than the data it saw was at that version.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.reports import repository as reports_repository
from app.sales import planner
from app.sales.repository import _filter_sql
from app.sales.schemas import SalesFilter

DAILY_DATASET = "sales_daily"

#: Every row version read, order-free: (count, sum of a 64-bit hash of where it lives).
_ROWS = (
    "SELECT count(*) || ':' || COALESCE(sum(hashtextextended("
    "r.tableoid::text || '/' || r.xmin::text || '/' || r.ctid::text, 0)), 0) "
    "FROM {table} AS r WHERE r.workspace_id = :ws AND r.report_date BETWEEN :s{n} AND :e{n}"
    "{where}{filters}"
)


def worth_keeping(dimensions: list[str], filters: SalesFilter) -> bool:
    """Whether to keep such an answer: not when it reads the per-dimension daily rollup
    (product, SKU, device, unit kind or platform: millions of rows over a quarter), where
    reading the version would cost about as much as the answer."""
    return planner.choose(dimensions, filters) is not planner.FULL


def _version(
    workspace_id: uuid.UUID,
    *,
    start: dt.date,
    end: dt.date,
    granularity: str,
    dimensions: list[str],
    filters: SalesFilter,
    app_id: uuid.UUID | None = None,
) -> reports_repository.Also:
    """The version of what a sales answer over ``start``…``end`` reads, as a scalar SQL
    expression; ``app_id``: also that app's row (an app's card)."""
    params: dict[str, Any] = {"ws": workspace_id, "start": start, "end": end}
    parts = planner.plan(start, end, granularity, dimensions, filters)
    reads = []
    for n, part in enumerate(parts):
        params[f"s{n}"], params[f"e{n}"] = part.start, part.end
        where = _filter_sql(filters, "r", params)
        sql = _ROWS.format(table=part.table, n=n, where=part.source.where, filters=where)
        reads.append(f"({sql})")
    app_row = "''"
    if app_id is not None or filters.app_ids:
        # An app's name (its card), and which account an app filter reaches.
        params["app"] = app_id
        app_row = """(SELECT md5(string_agg(
            id::text || '/' || account_id::text || '/' || name, ',' ORDER BY id))
            FROM apps WHERE workspace_id = :ws
            AND (id = CAST(:app AS uuid) OR CAST(:app AS uuid) IS NULL))"""
    sql = f"""
        concat_ws(';', {", ".join(reads)},
            (SELECT md5(string_agg(id::text || '/' || COALESCE(unlinked_at::text, ''),
                                   ',' ORDER BY id))
             FROM asc_accounts WHERE workspace_id = :ws),
            (SELECT md5(string_agg(d.account_id::text || '/' || d.report_date::text
                                   || '/' || d.state, ','
                                   ORDER BY d.account_id, d.report_date))
             FROM dataset_availability AS d
             JOIN asc_accounts AS a ON a.id = d.account_id AND a.workspace_id = :ws
             WHERE d.dataset = 'sales_daily'
             AND d.report_date BETWEEN CAST(:start AS date) AND CAST(:end AS date)),
            {app_row})
    """  # noqa: S608  (identifiers from the planner's fixed maps; values are bound)
    return reports_repository.Also(sql, params)


async def sales_states(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    *,
    start: dt.date,
    end: dt.date,
    granularity: str,
    dimensions: list[str],
    filters: SalesFilter,
    also: Sequence[reports_repository.Also | None] = (),
) -> tuple[str, list[str | None], list[tuple[dt.date, uuid.UUID, str | None]]]:
    """(the version of what a ``/v1/sales`` answer reads, the value of each of ``also`` — the
    rates a converted answer reads (``app.fx.kept.BookRead``), whether its items are kept
    converted — or None where it is None, the dates of its accounts in scope that are not
    facts yet: ``scope_report_states_and`` with ``incomplete_only``), in one statement."""
    version = _version(
        workspace_id,
        start=start,
        end=end,
        granularity=granularity,
        dimensions=dimensions,
        filters=filters,
    )
    value, states = await reports_repository.scope_report_states_and(
        session,
        workspace_id,
        account_ids=filters.account_ids,
        app_ids=filters.app_ids,
        dataset=DAILY_DATASET,
        start=start,
        end=end,
        incomplete_only=True,
        also=reports_repository.together(version, *also),
    )
    return value[0], value[1:], states


async def app_states(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    app_id: uuid.UUID,
    *,
    start: dt.date,
    end: dt.date,
    rates: reports_repository.Also | None = None,
) -> tuple[str, str | None, reports_repository.AppStates | None]:
    """(the version of what an app's card reads, ``rates``' value or None (see
    ``sales_states``), ``app_report_states_and``: None when the workspace has no such app),
    in one statement."""
    version = _version(
        workspace_id,
        start=start,
        end=end,
        granularity="day",
        dimensions=[],
        filters=SalesFilter(app_ids=[app_id]),
        app_id=app_id,
    )
    value, found = await reports_repository.app_report_states_and(
        session,
        workspace_id,
        app_id,
        DAILY_DATASET,
        start,
        end,
        also=reports_repository.together(version, rates),
    )
    return value[0], value[1], found


async def sales_version(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    *,
    start: dt.date,
    end: dt.date,
    granularity: str,
    dimensions: list[str],
    filters: SalesFilter,
) -> str:
    """The version alone (the benchmark times it)."""
    version = _version(
        workspace_id,
        start=start,
        end=end,
        granularity=granularity,
        dimensions=dimensions,
        filters=filters,
    )
    return str(await session.scalar(text(f"SELECT {version.sql}"), version.params))

"""The version of the data a sales answer is built from, for the answer cache
(``app.kit.response_cache``): one statement, read before the answer.

The version is computed from the rows themselves, so nothing has to remember to bump it: the
rollup rows the planner would read (the same tables, range and filters: every row version
PostgreSQL holds there, by its ``xmin``, ``ctid`` and table — a row rewritten by an ingest,
even with equal values, is a new row version), the workspace's accounts (id, unlinked), the
availability of their days in the range (date, state), the app's row for an app's card, and the
workspace's reporting currency. Any commit that changes what the answer reads changes it;
READ COMMITTED reads it before the answer's own statements, so an answer is never filed under
a version older than the data it saw was at that version.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.sales import planner
from app.sales.repository import _filter_sql
from app.sales.schemas import SalesFilter

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


async def sales_version(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    *,
    start: dt.date,
    end: dt.date,
    granularity: str,
    dimensions: list[str],
    filters: SalesFilter,
    app_id: uuid.UUID | None = None,
) -> tuple[str | None, str]:
    """(the workspace's reporting currency, the version of what a sales answer over
    ``start``…``end`` reads); ``app_id``: also that app's row (an app's card)."""
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
        SELECT (SELECT reporting_currency FROM fx_workspace_settings WHERE workspace_id = :ws),
               concat_ws(';', {", ".join(reads)},
                   (SELECT md5(string_agg(id::text || '/' || COALESCE(unlinked_at::text, ''),
                                          ',' ORDER BY id))
                    FROM asc_accounts WHERE workspace_id = :ws),
                   (SELECT md5(string_agg(d.account_id::text || '/' || d.report_date::text
                                          || '/' || d.state, ','
                                          ORDER BY d.account_id, d.report_date))
                    FROM dataset_availability AS d
                    JOIN asc_accounts AS a ON a.id = d.account_id AND a.workspace_id = :ws
                    WHERE d.dataset = 'sales_daily' AND d.report_date BETWEEN :start AND :end),
                   {app_row})
    """  # noqa: S608  (identifiers from the planner's fixed maps; values are bound)
    row = (await session.execute(text(sql), params)).one()
    return row[0], row[1]

"""SQL of the analytics rollups (``analytics_rollups``): the latest vintage of each (app, report,
granularity, date) summed per territory.

A rollup is rebuilt in the transaction that loads (or reloads) an instance, for every date the
instance carried before or carries now, from whichever vintage of the date is then the newest:
a restated instance replaces only its own part, an older instance loaded late changes nothing
the newer one serves, and a reader never sees rows and rollups disagree. Unique counts stay per
date and granularity (Apple's weekly and monthly figures are rows of their own): the query
never adds them across dates.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.analytics.measures import ADDITIVE

#: Dimensions a rollup keeps (and ``group_by`` values it can answer).
DIMENSIONS = frozenset({"app", "territory"})

_MEASURE_SQL = ", ".join(
    f"COALESCE(sum(r.{column}) FILTER (WHERE r.report = '{report}' AND {condition}), 0)"
    for report, column, condition in ADDITIVE.values()
)
_COLUMNS = (
    "workspace_id, account_id, app_id, instance_id, report, granularity, report_date, "
    f"processing_date, territory, rows, {', '.join(ADDITIVE)}, unique_devices"
)


def _insert(where: str, rows: str = "") -> str:
    return f"""
        INSERT INTO analytics_rollups ({_COLUMNS})
        SELECT l.workspace_id, l.account_id, l.app_id, l.instance_id, l.report, l.granularity,
               l.report_date, l.processing_date, r.territory, count(*), {_MEASURE_SQL},
               sum(r.unique_count)
        FROM (
            SELECT DISTINCT ON (v.app_id, v.report, v.granularity, v.report_date)
                   v.workspace_id, v.account_id, v.app_id, v.instance_id, v.report,
                   v.granularity, v.report_date, v.processing_date
            FROM analytics_vintages AS v
            WHERE {where}
            ORDER BY v.app_id, v.report, v.granularity, v.report_date,
                     v.processing_date DESC, v.instance_id DESC
        ) AS l
        JOIN analytics_rows AS r ON r.granularity = l.granularity
             AND r.processing_date = l.processing_date
             AND r.instance_id = l.instance_id AND r.report_date = l.report_date{rows}
        GROUP BY l.workspace_id, l.account_id, l.app_id, l.instance_id, l.report,
                 l.granularity, l.report_date, l.processing_date, r.territory
    """  # noqa: S608  (measure SQL from the fixed map in app.analytics.measures)


_REBUILD_DATES = _insert(
    "v.app_id = :app AND v.report = :report AND v.granularity = :gran "
    "AND v.report_date = ANY(CAST(:dates AS date[]))",
    # The rows' leaves, pruned when planned: a date's instances are processed on or after it.
    " AND r.processing_date >= :first",
)
_REBUILD_ACCOUNT = _insert("v.account_id = :account")


async def rebuild(
    session: AsyncSession,
    *,
    app_id: uuid.UUID,
    report: str,
    granularity: str,
    dates: Iterable[dt.date],
) -> None:
    """Roll ``dates`` of one (app, report, granularity) up again from their newest vintage."""
    days = sorted(set(dates))
    if not days:
        return
    # Two instances of the same report may load at once and share dates: one at a time, so
    # the second sees the first's committed vintage (read committed) and neither doubles.
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 16))"),
        {"key": f"analytics-rollup:{app_id}:{report}:{granularity}"},
    )
    params = {"app": app_id, "report": report, "gran": granularity, "dates": days, "first": days[0]}
    await session.execute(
        text(
            "DELETE FROM analytics_rollups WHERE app_id = :app AND report = :report "
            "AND granularity = :gran AND report_date = ANY(CAST(:dates AS date[]))"
        ),
        params,
    )
    await session.execute(text(_REBUILD_DATES), params)


async def rebuild_account(session: AsyncSession, account_id: uuid.UUID) -> None:
    """Every rollup of an account from scratch (repairs, bulk-loaded data)."""
    await session.execute(
        text("DELETE FROM analytics_rollups WHERE account_id = :account"), {"account": account_id}
    )
    await session.execute(text(_REBUILD_ACCOUNT), {"account": account_id})

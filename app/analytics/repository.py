"""SQL behind the analytics API: one vintage per (app, report, granularity, date), then
measures per bucket and group, and the dates that are not final."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.analytics import rollups
from app.analytics.catalog import REPORTS
from app.analytics.measures import ADDITIVE, MEASURES
from app.analytics.schemas import AnalyticsFilter

DIMENSION_COLUMNS = {
    "app": "CAST(r.app_id AS text)",
    "territory": "r.territory",
    "device": "r.device",
    "platform_version": "r.platform_version",
    "app_version": "r.app_version",
    "source_type": "r.source_type",
    "page_type": "r.page_type",
}
BUCKETS = {
    "day": "r.report_date",
    "week": "CAST(date_trunc('week', CAST(r.report_date AS timestamp)) AS date)",
    "month": "CAST(date_trunc('month', CAST(r.report_date AS timestamp)) AS date)",
}
#: Apple's instance granularity that carries a bucket's distinct devices.
UNIQUE_GRANULARITY = {"day": "DAILY", "week": "WEEKLY", "month": "MONTHLY"}


@dataclass(frozen=True)
class Chosen:
    """Which vintage to read: the newest or the oldest, optionally as known on a date."""

    first: bool = False
    as_of: dt.date | None = None


def _scope_sql(
    filters: AnalyticsFilter, alias: str, params: dict[str, Any], app_column: str = "app_id"
) -> str:
    sql = ""
    if filters.app_ids:
        sql += f" AND {alias}.{app_column} = ANY(CAST(:f_apps AS uuid[]))"
        params["f_apps"] = filters.app_ids
    if filters.account_ids:
        sql += f" AND {alias}.account_id = ANY(CAST(:f_accounts AS uuid[]))"
        params["f_accounts"] = filters.account_ids
    return sql


def _row_filter_sql(filters: AnalyticsFilter, params: dict[str, Any]) -> str:
    sql = ""
    for attribute, column in (
        ("territories", "territory"),
        ("devices", "device"),
        ("source_types", "source_type"),
    ):
        values = getattr(filters, attribute)
        if values:
            sql += f" AND lower(r.{column}) = ANY(CAST(:f_{attribute} AS text[]))"
            params[f"f_{attribute}"] = [v.lower() for v in values]
    return sql


def _chosen_sql(chosen: Chosen, params: dict[str, Any]) -> tuple[str, str]:
    """(extra WHERE, ORDER direction) picking one vintage per date."""
    where = ""
    if chosen.as_of is not None:
        where = " AND v.processing_date <= :as_of"
        params["as_of"] = chosen.as_of
    return where, "ASC" if chosen.first else "DESC"


def rollup_answers(dimensions: list[str], filters: AnalyticsFilter, chosen: Chosen) -> bool:
    """Whether the rollups hold what a request needs: the latest vintage, groups and filters
    among the dimensions they keep (app, territory; account and app scope)."""
    return (
        not chosen.first
        and chosen.as_of is None
        and set(dimensions) <= rollups.DIMENSIONS
        and not filters.devices
        and not filters.source_types
    )


def _row_measures() -> list[str]:
    """Each measure over raw rows: null when no row of its report (and granularity) is in the
    group, a sum otherwise."""
    measures = []
    for name, (report, column, condition) in ADDITIVE.items():
        daily = f"r.report = '{report}' AND v.granularity = 'DAILY'"
        measures.append(
            f"CASE WHEN bool_or({daily}) THEN CAST(COALESCE(sum(r.{column}) "
            f"FILTER (WHERE {daily} AND {condition}), 0) AS bigint) END AS {name}"
        )
    uniq = "r.report = 'sessions' AND v.granularity = :ugran"
    measures.append(
        f"CASE WHEN bool_or({uniq}) THEN CAST(COALESCE(sum(r.unique_count) "
        f"FILTER (WHERE {uniq}), 0) AS bigint) END AS active_devices"
    )
    return measures


def _rollup_measures() -> list[str]:
    """The same over rollups: a rollup exists only where a raw row does, so "no row of the
    report in the group" reads the same; its sums add up to the rows' sums."""
    measures = []
    for name, (report, _column, _condition) in ADDITIVE.items():
        daily = f"r.report = '{report}' AND r.granularity = 'DAILY'"
        measures.append(
            f"CASE WHEN bool_or({daily}) THEN CAST(COALESCE(sum(r.{name}) "
            f"FILTER (WHERE {daily}), 0) AS bigint) END AS {name}"
        )
    uniq = "r.report = 'sessions' AND r.granularity = :ugran"
    measures.append(
        f"CASE WHEN bool_or({uniq}) THEN CAST(COALESCE(sum(r.unique_devices) "
        f"FILTER (WHERE {uniq}), 0) AS bigint) END AS active_devices"
    )
    return measures


@dataclass(frozen=True)
class AggregateRow:
    bucket: dt.date
    group: tuple[str | None, ...]
    measures: dict[str, int | None]

    def sort_key(self) -> list[Any]:
        key: list[Any] = [self.bucket.isoformat()]
        for value in self.group:
            key += [value is None, value or ""]
        return key


async def aggregate(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    *,
    start: dt.date,
    end: dt.date,
    granularity: str,
    dimensions: list[str],
    filters: AnalyticsFilter,
    chosen: Chosen,
    after: list[Any] | None,
    limit: int,
    rollup: bool = True,
) -> list[AggregateRow]:
    """Measures per bucket and group from the chosen vintage of every date, ordered by bucket
    then group values (nulls last); ``after`` is the previous page's last ``sort_key``.

    Read from the rollups when they can answer (``rollup`` and :func:`rollup_answers`), else
    from the raw rows: both give the same numbers."""
    bucket_sql = BUCKETS[granularity]
    unique = UNIQUE_GRANULARITY[granularity]
    params: dict[str, Any] = {
        "ws": workspace_id,
        "start": start,
        "end": end,
        "pstart": _bucket_start(start, granularity),
        "ugran": unique,
        "limit": limit,
    }
    vintage_where, direction = _chosen_sql(chosen, params)
    groups = [f"g{n}" for n in range(len(dimensions))]
    group_sql = "".join(
        f", {DIMENSION_COLUMNS[d]} AS {g}" for d, g in zip(dimensions, groups, strict=True)
    )
    from_rollup = rollup and rollup_answers(dimensions, filters, chosen)
    measures = _rollup_measures() if from_rollup else _row_measures()
    order = ["bucket"]
    for g in groups:
        order += [f"({g} IS NULL)", f"COALESCE({g}, '') COLLATE \"C\""]
    keyset = ""
    if after is not None:
        placeholders = []
        for n, value in enumerate(after):
            params[f"k{n}"] = dt.date.fromisoformat(value) if n == 0 else value
            placeholders.append(f":k{n}")
        keyset = f"WHERE ({', '.join(order)}) > ({', '.join(placeholders)})"
    keys = "bucket" + "".join(f", {g}" for g in groups)
    # The rows of each chosen vintage, looked up by it (LATERAL, kept a subquery by OFFSET 0):
    # each lookup reads one leaf through the instance index. As a plain join the planner costs
    # every leaf and hashes them whole (measured: 10× slower on 90 days of one app). Leaves are
    # also pruned when planned: an instance is processed on or after every date it reports
    # (and, as of a date, on or before it).
    row_leaves = " AND r.processing_date <= :as_of" if chosen.as_of is not None else ""
    if from_rollup:
        source = f"""
        WITH grouped AS (
            SELECT {bucket_sql} AS bucket{group_sql}, {", ".join(measures)}
            FROM analytics_rollups AS r
            WHERE r.workspace_id = :ws
              AND ((r.granularity = 'DAILY' AND r.report_date BETWEEN :start AND :end)
                   OR (r.granularity = :ugran AND r.report_date BETWEEN :pstart AND :end))
              {_scope_sql(filters, "r", params)}{_row_filter_sql(filters, params)}
            GROUP BY {keys}
        )"""  # noqa: S608  (identifiers come from the fixed maps above; values are bound)
    else:
        source = f"""
        WITH v AS (
            SELECT DISTINCT ON (v.app_id, v.report, v.granularity, v.report_date)
                   v.instance_id, v.report_date, v.granularity, v.processing_date
            FROM analytics_vintages AS v
            WHERE v.workspace_id = :ws
              AND ((v.granularity = 'DAILY' AND v.report_date BETWEEN :start AND :end)
                   OR (v.granularity = :ugran AND v.report_date BETWEEN :pstart AND :end))
              {_scope_sql(filters, "v", params)}{vintage_where}
            ORDER BY v.app_id, v.report, v.granularity, v.report_date,
                     v.processing_date {direction}, v.instance_id {direction}
        ), grouped AS (
            SELECT {bucket_sql} AS bucket{group_sql}, {", ".join(measures)}
            FROM v CROSS JOIN LATERAL (
                SELECT r.* FROM analytics_rows AS r
                WHERE r.granularity = v.granularity AND r.processing_date = v.processing_date
                  AND r.instance_id = v.instance_id AND r.report_date = v.report_date
                  AND r.workspace_id = :ws AND r.granularity IN ('DAILY', :ugran)
                  AND r.processing_date >= :pstart{row_leaves}
                  {_row_filter_sql(filters, params)}
                OFFSET 0
            ) AS r
            GROUP BY {keys}
        )"""  # noqa: S608  (identifiers come from the fixed maps above; values are bound)
    sql = f"""{source}
        SELECT {keys}, {", ".join(MEASURES)} FROM grouped
        {keyset}
        ORDER BY {", ".join(order)}
        LIMIT :limit
    """  # noqa: S608  (identifiers come from the fixed maps above; values are bound)
    result = await session.execute(text(sql), params)
    n = len(groups)
    return [
        AggregateRow(
            bucket=row[0],
            group=tuple(row[1 : 1 + n]),
            measures=dict(zip(MEASURES, row[1 + n :], strict=True)),
        )
        for row in result
    ]


def _bucket_start(day: dt.date, granularity: str) -> dt.date:
    if granularity == "week":
        return day - dt.timedelta(days=day.weekday())
    if granularity == "month":
        return day.replace(day=1)
    return day


@dataclass(frozen=True)
class IncompleteRow:
    report_date: dt.date
    app_id: uuid.UUID
    report: str
    state: str


async def incomplete_dates(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    *,
    start: dt.date,
    end: dt.date,
    filters: AnalyticsFilter,
    chosen: Chosen,
) -> list[IncompleteRow]:
    """Every (date, app, report) of the range whose daily numbers are not final."""
    params: dict[str, Any] = {"ws": workspace_id, "start": start, "end": end}
    sql = f"""{_states_sql(filters, chosen, params)}
        SELECT day, app_id, report, state FROM states WHERE state IS NOT NULL
        ORDER BY day, app_id, report
    """  # noqa: S608  (constant clauses; values are bound)
    result = await session.execute(text(sql), params)
    return [IncompleteRow(*row) for row in result]


async def app_incomplete_dates(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    app_id: uuid.UUID,
    *,
    start: dt.date,
    end: dt.date,
) -> tuple[str, list[IncompleteRow]] | None:
    """The name of the workspace's app ``app_id`` (None when the workspace has no such app)
    and its ``incomplete_dates`` (newest vintages), in one statement."""
    params: dict[str, Any] = {"ws": workspace_id, "start": start, "end": end, "app": app_id}
    filters = AnalyticsFilter(app_ids=[app_id])
    sql = f"""{_states_sql(filters, Chosen(), params)}
        SELECT ap.name, s.day, s.app_id, s.report, s.state
        FROM apps AS ap
        LEFT JOIN (SELECT * FROM states WHERE state IS NOT NULL) AS s ON true
        WHERE ap.id = :app AND ap.workspace_id = :ws
        ORDER BY s.day, s.app_id, s.report
    """  # noqa: S608  (constant clauses; values are bound)
    rows = (await session.execute(text(sql), params)).all()
    if not rows:
        return None
    return rows[0][0], [IncompleteRow(*row[1:]) for row in rows if row[1] is not None]


def _states_sql(filters: AnalyticsFilter, chosen: Chosen, params: dict[str, Any]) -> str:
    """``WITH … states AS (…)``: per (date, app in scope, report) its state, NULL when final."""
    vintage_where, direction = _chosen_sql(chosen, params)
    windows = ", ".join(f"('{r.report.value}', {r.completeness_days})" for r in REPORTS)
    as_of_instances = " AND i.processing_date <= :as_of" if chosen.as_of else ""
    return f"""
        WITH apps_in AS (
            SELECT a.id FROM apps AS a
            WHERE a.workspace_id = :ws AND a.removed_at IS NULL
                  {_scope_sql(filters, "a", params, "id")}
              AND EXISTS (SELECT 1 FROM analytics_requests q WHERE q.app_id = a.id)
        ), reports(report, completeness) AS (VALUES {windows}
        ), chosen AS (
            SELECT DISTINCT ON (v.app_id, v.report, v.report_date)
                   v.app_id, v.report, v.report_date, v.processing_date
            FROM analytics_vintages AS v
            WHERE v.workspace_id = :ws AND v.granularity = 'DAILY'
              AND v.report_date BETWEEN :start AND :end {vintage_where}
              {_scope_sql(filters, "v", params)}
            ORDER BY v.app_id, v.report, v.report_date,
                     v.processing_date {direction}, v.instance_id {direction}
        ), coverage AS (
            SELECT v.app_id, v.report, min(v.report_date) AS first_date
            FROM analytics_vintages AS v
            WHERE v.workspace_id = :ws AND v.granularity = 'DAILY'
                  {_scope_sql(filters, "v", params)}
            GROUP BY 1, 2
        ), newest AS (
            SELECT i.app_id, i.report, max(i.processing_date) AS processed
            FROM analytics_instances AS i
            WHERE i.workspace_id = :ws AND i.state = 'loaded' AND i.granularity = 'DAILY'
                  {as_of_instances} {_scope_sql(filters, "i", params)}
            GROUP BY 1, 2
        ), states AS (
            SELECT CAST(d AS date) AS day, a.id AS app_id, rp.report,
                CASE
                    WHEN c.processing_date IS NOT NULL THEN
                        CASE WHEN c.processing_date - CAST(d AS date) >= rp.completeness
                             THEN NULL ELSE 'provisional' END
                    WHEN cov.first_date IS NULL OR CAST(d AS date) < cov.first_date
                        THEN CASE WHEN n.processed >= CAST(d AS date) + rp.completeness
                                  THEN 'not_covered' ELSE 'not_yet_published' END
                    WHEN n.processed >= CAST(d AS date) + rp.completeness THEN 'withheld'
                    ELSE 'not_yet_published'
                END AS state
            FROM apps_in AS a
            CROSS JOIN reports AS rp
            CROSS JOIN generate_series(CAST(:start AS date), CAST(:end AS date),
                                       interval '1 day') AS d
            LEFT JOIN chosen AS c ON c.app_id = a.id AND c.report = rp.report
                 AND c.report_date = CAST(d AS date)
            LEFT JOIN coverage AS cov ON cov.app_id = a.id AND cov.report = rp.report
            LEFT JOIN newest AS n ON n.app_id = a.id AND n.report = rp.report
        )
    """  # noqa: S608  (a constant VALUES list; values are bound)


@dataclass(frozen=True)
class AvailabilityRow:
    report_date: dt.date
    app_id: uuid.UUID
    report: str
    completeness: int
    vintages: int | None
    processing_date: dt.date | None
    rows: int | None
    loaded_at: dt.datetime | None
    first_date: dt.date | None
    newest_processed: dt.date | None


async def availability(
    session: AsyncSession, account_id: uuid.UUID, start: dt.date, end: dt.date
) -> list[AvailabilityRow]:
    """Per app of the account with a report request × report × date: the daily vintages
    Orchard holds (the newest one's processing date, rows and load time), the first date the
    report covers and the newest daily instance loaded, ordered by date, app, report."""
    windows = ", ".join(f"('{r.report.value}', {r.completeness_days})" for r in REPORTS)
    sql = f"""
        WITH apps_in AS (
            SELECT a.id FROM apps AS a
            WHERE a.account_id = :a AND a.removed_at IS NULL
              AND EXISTS (SELECT 1 FROM analytics_requests q
                          WHERE q.account_id = :a AND q.app_id = a.id)
        ), reports(report, completeness) AS (VALUES {windows}
        ), held AS (
            SELECT v.app_id, v.report, v.report_date, count(*) AS vintages,
                   (array_agg(v.instance_id ORDER BY v.processing_date DESC,
                              v.instance_id DESC))[1] AS instance_id,
                   max(v.processing_date) AS processing_date
            FROM analytics_vintages AS v
            WHERE v.account_id = :a AND v.granularity = 'DAILY'
              AND v.report_date BETWEEN :start AND :end
            GROUP BY 1, 2, 3
        ), coverage AS (
            SELECT v.app_id, v.report, min(v.report_date) AS first_date
            FROM analytics_vintages AS v
            WHERE v.account_id = :a AND v.granularity = 'DAILY'
            GROUP BY 1, 2
        ), newest AS (
            SELECT i.app_id, i.report, max(i.processing_date) AS processed
            FROM analytics_instances AS i
            WHERE i.account_id = :a AND i.state = 'loaded' AND i.granularity = 'DAILY'
            GROUP BY 1, 2
        )
        SELECT CAST(d AS date), a.id, rp.report, rp.completeness, h.vintages,
               h.processing_date, v.rows, i.loaded_at, cov.first_date, n.processed
        FROM apps_in AS a
        CROSS JOIN reports AS rp
        CROSS JOIN generate_series(CAST(:start AS date), CAST(:end AS date),
                                   interval '1 day') AS d
        LEFT JOIN held AS h ON h.app_id = a.id AND h.report = rp.report
             AND h.report_date = CAST(d AS date)
        LEFT JOIN analytics_vintages AS v ON v.instance_id = h.instance_id
             AND v.report_date = h.report_date
        LEFT JOIN analytics_instances AS i ON i.id = h.instance_id
        LEFT JOIN coverage AS cov ON cov.app_id = a.id AND cov.report = rp.report
        LEFT JOIN newest AS n ON n.app_id = a.id AND n.report = rp.report
        ORDER BY 1, 2, 3
    """  # noqa: S608  (a constant VALUES list; values are bound)
    result = await session.execute(text(sql), {"a": account_id, "start": start, "end": end})
    return [AvailabilityRow(*row) for row in result]

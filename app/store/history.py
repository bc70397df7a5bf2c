"""SQL that reads the stored public data back: rating series, rank series, a chart as it was,
and the latest state of each source (for sync-status)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


async def rating_series_and_latest(
    session: AsyncSession, apple_id: int, countries: list[str], start: dt.date, end: dt.date
) -> tuple[list[Any], list[Any]]:
    """The snapshots of ``start``..``end`` (by country, day) and the latest one per country
    whatever its day, in one statement."""
    rows = await session.execute(
        text(
            """
            (SELECT false AS latest_pick, s.* FROM store_rating_snapshots AS s
             WHERE s.apple_id = :a AND s.country = ANY(CAST(:c AS text[]))
               AND s.snapshot_date BETWEEN :start AND :end)
            UNION ALL
            (SELECT DISTINCT ON (s.country) true, s.* FROM store_rating_snapshots AS s
             WHERE s.apple_id = :a AND s.country = ANY(CAST(:c AS text[]))
             ORDER BY s.country, s.snapshot_date DESC)
            ORDER BY latest_pick, country, snapshot_date
            """
        ),
        {"a": apple_id, "c": countries, "start": start, "end": end},
    )
    series: list[Any] = []
    latest: list[Any] = []
    for row in rows:
        (latest if row.latest_pick else series).append(row)
    return series, latest


async def rank_series(
    session: AsyncSession,
    apple_id: int,
    countries: list[str],
    charts: list[str],
    genre: int | None,
    start: dt.datetime,
    end: dt.datetime,
) -> list[Any]:
    """Every chart snapshot overlapping [start, end) with the app's position in it."""
    rows = await session.execute(
        text(
            """
            SELECT country, chart, genre, status, detail, feed, feed_updated_at, depth,
                   requested_n, first_fetched_at, last_fetched_at,
                   array_position(app_ids, CAST(:a AS bigint)) AS rank
            FROM store_chart_snapshots
            WHERE country = ANY(CAST(:c AS text[])) AND chart = ANY(CAST(:charts AS text[]))
              AND (CAST(:g AS int) IS NULL OR genre = :g)
              AND first_fetched_at < :end AND last_fetched_at >= :start
            ORDER BY country, chart, genre, first_fetched_at, id
            """
        ),
        {"a": apple_id, "c": countries, "charts": charts, "g": genre, "start": start, "end": end},
    )
    return list(rows)


async def rank_days(
    session: AsyncSession,
    apple_id: int,
    countries: list[str],
    charts: list[str],
    genre: int | None,
    start: dt.datetime,
    end: dt.datetime,
) -> list[Any]:
    """Per chart and UTC day: the app's best rank, whether any fetch answered, the depth."""
    rows = await session.execute(
        text(
            """
            SELECT country, chart, genre,
                   min(first_fetched_at) AS first_fetched_at,
                   max(last_fetched_at) AS last_fetched_at,
                   max(feed_updated_at) AS feed_updated_at,
                   min(array_position(app_ids, CAST(:a AS bigint)))
                       FILTER (WHERE status = 'ok') AS rank,
                   CASE WHEN bool_or(status = 'ok') THEN 'ok' ELSE 'unavailable' END AS status,
                   max(depth) FILTER (WHERE status = 'ok') AS depth,
                   (array_agg(detail ORDER BY first_fetched_at DESC)
                       FILTER (WHERE status <> 'ok'))[1] AS detail
            FROM store_chart_snapshots
            WHERE country = ANY(CAST(:c AS text[])) AND chart = ANY(CAST(:charts AS text[]))
              AND (CAST(:g AS int) IS NULL OR genre = :g)
              AND first_fetched_at < :end AND last_fetched_at >= :start
            GROUP BY country, chart, genre, (first_fetched_at AT TIME ZONE 'UTC')::date
            ORDER BY country, chart, genre, min(first_fetched_at)
            """
        ),
        {"a": apple_id, "c": countries, "charts": charts, "g": genre, "start": start, "end": end},
    )
    return list(rows)


async def chart_at(
    session: AsyncSession, country: str, chart: str, genre: int, at: dt.datetime
) -> Any:
    """The snapshot the feed was serving at ``at`` (the latest fetched at or before it)."""
    result = await session.execute(
        text(
            """
            SELECT * FROM store_chart_snapshots
            WHERE country = :c AND chart = :chart AND genre = :g AND first_fetched_at <= :at
            ORDER BY first_fetched_at DESC, id DESC LIMIT 1
            """
        ),
        {"c": country, "chart": chart, "g": genre, "at": at},
    )
    return result.first()

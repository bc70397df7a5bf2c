"""SQL for the public data itself: star-rating snapshots, chart snapshots and what the
store last said about an app. Snapshots are shared by every workspace (keyed by Apple's ids)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.store.apple import ChartFeed, LookupRecord
from app.store.repository import TRACKING

_PAIRS = f"""
    SELECT DISTINCT c.country, t.apple_id
    FROM store_tracked_apps t, unnest(t.effective_storefronts) AS c(country)
    WHERE {TRACKING}
"""  # noqa: S608  (constants only)


async def countries_with_due_ratings(
    session: AsyncSession, day: dt.date, fresh_after: dt.datetime
) -> list[str]:
    """Storefronts where some tracked app has no snapshot of ``day`` fetched since
    ``fresh_after``."""
    rows = await session.execute(
        text(
            f"""
            SELECT DISTINCT p.country FROM ({_PAIRS}) p
            LEFT JOIN store_rating_snapshots r ON r.apple_id = p.apple_id
                 AND r.country = p.country AND r.snapshot_date = :day
            WHERE r.apple_id IS NULL OR r.fetched_at < :fresh_after
            ORDER BY p.country
            """  # noqa: S608  (constants only)
        ),
        {"day": day, "fresh_after": fresh_after},
    )
    return [row[0] for row in rows]


async def due_rating_ids(
    session: AsyncSession, country: str, day: dt.date, fresh_after: dt.datetime
) -> list[int]:
    rows = await session.execute(
        text(
            f"""
            SELECT p.apple_id FROM ({_PAIRS}) p
            LEFT JOIN store_rating_snapshots r ON r.apple_id = p.apple_id
                 AND r.country = p.country AND r.snapshot_date = :day
            WHERE p.country = :country AND (r.apple_id IS NULL OR r.fetched_at < :fresh_after)
            ORDER BY p.apple_id
            """  # noqa: S608  (constants only)
        ),
        {"country": country, "day": day, "fresh_after": fresh_after},
    )
    return [row[0] for row in rows]


async def chart_countries(session: AsyncSession) -> list[str]:
    rows = await session.execute(
        text(f"SELECT DISTINCT p.country FROM ({_PAIRS}) p ORDER BY 1")  # noqa: S608
    )
    return [row[0] for row in rows]


async def tracked_genres(session: AsyncSession) -> list[int]:
    """Primary genres of tracked apps, as Lookup last reported them."""
    rows = await session.execute(
        text(
            f"""
            SELECT DISTINCT s.primary_genre_id FROM store_apps s
            JOIN ({_PAIRS}) p ON p.apple_id = s.apple_id
            WHERE s.primary_genre_id IS NOT NULL ORDER BY 1
            """  # noqa: S608  (constants only)
        )
    )
    return [row[0] for row in rows]


async def previous_ratings(
    session: AsyncSession, country: str, ids: list[int], day: dt.date
) -> dict[int, Any]:
    """Each app's latest usable snapshot in ``country`` before ``day``."""
    rows = await session.execute(
        text(
            """
            SELECT DISTINCT ON (apple_id) apple_id, snapshot_date, rating_count, version
            FROM store_rating_snapshots
            WHERE country = :country AND apple_id = ANY(CAST(:ids AS bigint[]))
              AND snapshot_date < :day AND status = 'ok'
            ORDER BY apple_id, snapshot_date DESC
            """
        ),
        {"country": country, "ids": ids, "day": day},
    )
    return {row.apple_id: row for row in rows}


async def save_ratings(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    await session.execute(
        text(
            """
            INSERT INTO store_rating_snapshots (apple_id, country, snapshot_date, status,
                rating_count, average, current_version_rating_count, current_version_average,
                version, version_released_at, reset_detected, fetched_at)
            VALUES (:apple_id, :country, :snapshot_date, :status, :rating_count, :average,
                :current_version_rating_count, :current_version_average, :version,
                :version_released_at, :reset_detected, :fetched_at)
            ON CONFLICT (apple_id, country, snapshot_date) DO UPDATE SET
                status = EXCLUDED.status, rating_count = EXCLUDED.rating_count,
                average = EXCLUDED.average,
                current_version_rating_count = EXCLUDED.current_version_rating_count,
                current_version_average = EXCLUDED.current_version_average,
                version = EXCLUDED.version, version_released_at = EXCLUDED.version_released_at,
                reset_detected = store_rating_snapshots.reset_detected OR EXCLUDED.reset_detected,
                fetched_at = EXCLUDED.fetched_at
            """
        ),
        rows,
    )


async def save_store_apps(session: AsyncSession, records: list[LookupRecord]) -> None:
    if not records:
        return
    await session.execute(
        text(
            """
            INSERT INTO store_apps (apple_id, name, artist_name, bundle_id, primary_genre_id,
                                    updated_at)
            VALUES (:apple_id, :name, :artist_name, :bundle_id, :primary_genre_id, now())
            ON CONFLICT (apple_id) DO UPDATE SET name = EXCLUDED.name,
                artist_name = EXCLUDED.artist_name, bundle_id = EXCLUDED.bundle_id,
                primary_genre_id = EXCLUDED.primary_genre_id, updated_at = now()
            """
        ),
        [
            {
                "apple_id": r.apple_id,
                "name": r.name,
                "artist_name": r.artist_name,
                "bundle_id": r.bundle_id,
                "primary_genre_id": r.primary_genre_id,
            }
            for r in sorted(records, key=lambda r: r.apple_id)
        ],
    )


async def seen_recently(session: AsyncSession, country: str, ids: list[int], since: dt.date) -> int:
    """How many of ``ids`` had a usable snapshot in ``country`` since ``since``."""
    found = await session.scalar(
        text(
            """
            SELECT count(DISTINCT apple_id) FROM store_rating_snapshots
            WHERE country = :country AND apple_id = ANY(CAST(:ids AS bigint[]))
              AND snapshot_date >= :since AND status = 'ok'
            """
        ),
        {"country": country, "ids": ids, "since": since},
    )
    return int(found or 0)


async def linked_catalog_apps(session: AsyncSession, apple_id: int) -> list[Any]:
    """Live catalog apps with this Apple id, in any workspace (for change events)."""
    rows = await session.execute(
        text(
            """
            SELECT a.id, a.apple_id, a.workspace_id, a.account_id FROM apps a
            JOIN asc_accounts ac ON ac.id = a.account_id
            WHERE a.apple_id = :apple_id AND a.removed_at IS NULL AND ac.unlinked_at IS NULL
            """
        ),
        {"apple_id": str(apple_id)},
    )
    return list(rows)


async def event_exists(session: AsyncSession, app_id: Any, subject_id: Any) -> bool:
    found = await session.scalar(
        text("SELECT EXISTS (SELECT 1 FROM events WHERE app_id = :a AND subject_id = :s)"),
        {"a": app_id, "s": subject_id},
    )
    return bool(found)


# --- charts ------------------------------------------------------------------------------------


async def record_chart(
    session: AsyncSession,
    chart: tuple[str, str, int],
    feed: str,
    requested: int,
    outcome: ChartFeed | str,
    now: dt.datetime,
) -> bool:
    """Store what the feed answered; a repeat of the latest snapshot (same status, ids and
    ``updated``, or the same unavailability) only moves its ``last_fetched_at``. Returns
    whether a new snapshot was written."""
    country, name, genre = chart
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
        {"key": f"store-chart:{country}:{name}:{genre}"},
    )
    latest = (
        await session.execute(
            text(
                """
                SELECT id, status, detail, app_ids, feed_updated_at FROM store_chart_snapshots
                WHERE country = :c AND chart = :chart AND genre = :g
                ORDER BY first_fetched_at DESC, id DESC LIMIT 1
                """
            ),
            {"c": country, "chart": name, "g": genre},
        )
    ).first()
    if isinstance(outcome, ChartFeed):
        values = {
            "status": "ok",
            "detail": None,
            "feed": feed,
            "feed_updated_at": outcome.updated_at,
            "depth": len(outcome.app_ids),
            "app_ids": outcome.app_ids,
            "names": outcome.names,
        }
    else:
        values = {"status": "unavailable", "detail": outcome, "feed": feed, "feed_updated_at": None,
                  "depth": 0, "app_ids": [], "names": []}  # fmt: skip
    same = latest is not None and (latest.status, latest.detail, list(latest.app_ids)) == (
        values["status"], values["detail"], values["app_ids"]
    ) and latest.feed_updated_at == values["feed_updated_at"]  # fmt: skip
    if same and latest is not None:
        await session.execute(
            text("UPDATE store_chart_snapshots SET last_fetched_at = :now WHERE id = :id"),
            {"now": now, "id": latest.id},
        )
        return False
    await session.execute(
        text(
            """
            INSERT INTO store_chart_snapshots (country, chart, genre, status, detail, feed,
                feed_updated_at, requested_n, depth, app_ids, names, first_fetched_at,
                last_fetched_at)
            VALUES (:c, :chart, :g, :status, :detail, :feed, :feed_updated_at, :requested,
                :depth, :app_ids, :names, :now, :now)
            """
        ),
        {"c": country, "chart": name, "g": genre, "requested": requested, "now": now, **values},
    )
    return True

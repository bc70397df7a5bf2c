"""SQL for what workspaces track: tracked apps, storefront settings, and the sales countries
the default storefronts come from."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

#: A tracked-app row tracks while its app is linked (a live app of a linked account of the
#: workspace) or was added by hand.
LINKED = """EXISTS (
    SELECT 1 FROM apps a JOIN asc_accounts ac ON ac.id = a.account_id
    WHERE a.workspace_id = t.workspace_id AND a.apple_id = t.apple_id::text
      AND a.removed_at IS NULL AND ac.unlinked_at IS NULL)"""
TRACKING = f"(t.added_manually OR {LINKED})"

_TRACKED_COLUMNS = f"""
    t.id, t.workspace_id, t.apple_id, t.added_manually, t.storefronts,
    t.effective_storefronts, t.created_at, t.updated_at, {LINKED} AS linked,
    (SELECT a.id FROM apps a JOIN asc_accounts ac ON ac.id = a.account_id
     WHERE a.workspace_id = t.workspace_id AND a.apple_id = t.apple_id::text
       AND a.removed_at IS NULL AND ac.unlinked_at IS NULL
     ORDER BY a.first_seen_at, a.id LIMIT 1) AS app_id,
    COALESCE(s.name, (SELECT a.name FROM apps a WHERE a.workspace_id = t.workspace_id
                      AND a.apple_id = t.apple_id::text ORDER BY a.last_seen_at DESC LIMIT 1))
        AS name
"""  # noqa: S608  (constants only)


async def configured_storefronts(
    session: AsyncSession, workspace_id: uuid.UUID
) -> list[str] | None:
    return await session.scalar(  # type: ignore[no-any-return]
        text("SELECT storefronts FROM store_workspace_settings WHERE workspace_id = :w"),
        {"w": workspace_id},
    )


async def storefront_settings(session: AsyncSession, workspace_id: uuid.UUID) -> Any:
    result = await session.execute(
        text("SELECT * FROM store_workspace_settings WHERE workspace_id = :w"), {"w": workspace_id}
    )
    return result.first()


async def set_configured(
    session: AsyncSession, workspace_id: uuid.UUID, storefronts: list[str] | None
) -> None:
    await session.execute(
        text(
            """
            INSERT INTO store_workspace_settings (workspace_id, storefronts, updated_at)
            VALUES (:w, :s, now())
            ON CONFLICT (workspace_id) DO UPDATE SET storefronts = EXCLUDED.storefronts,
                updated_at = now()
            """
        ),
        {"w": workspace_id, "s": storefronts},
    )


async def sales_countries(
    session: AsyncSession, workspace_id: uuid.UUID, since: dt.date
) -> list[str]:
    """Countries of the workspace's sales since ``since``, most units first (the sales rollup
    is a lower floor's table; only its country and units are read)."""
    rows = await session.execute(
        text(
            """
            SELECT lower(country_code) AS country, sum(units_in) AS units
            FROM sales_daily_rollup
            WHERE workspace_id = :w AND report_date >= :since AND country_code IS NOT NULL
            GROUP BY lower(country_code) HAVING sum(units_in) > 0
            ORDER BY units DESC, country
            """
        ),
        {"w": workspace_id, "since": since},
    )
    return [country for country, _ in rows]


async def save_effective(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    effective: list[str],
    source: str,
    now: dt.datetime,
) -> None:
    await session.execute(
        text(
            """
            INSERT INTO store_workspace_settings (workspace_id, effective_storefronts,
                                                  effective_source, refreshed_at)
            VALUES (:w, :e, :source, :now)
            ON CONFLICT (workspace_id) DO UPDATE SET
                effective_storefronts = EXCLUDED.effective_storefronts,
                effective_source = EXCLUDED.effective_source, refreshed_at = EXCLUDED.refreshed_at
            """
        ),
        {"w": workspace_id, "e": effective, "source": source, "now": now},
    )
    await session.execute(
        text(
            """
            UPDATE store_tracked_apps SET effective_storefronts = COALESCE(storefronts, :e)
            WHERE workspace_id = :w
              AND effective_storefronts IS DISTINCT FROM COALESCE(storefronts, :e)
            """
        ),
        {"w": workspace_id, "e": effective},
    )


async def stale_workspaces(session: AsyncSession, before: dt.datetime) -> list[uuid.UUID]:
    rows = await session.execute(
        text(
            """
            SELECT DISTINCT t.workspace_id FROM store_tracked_apps t
            LEFT JOIN store_workspace_settings s ON s.workspace_id = t.workspace_id
            WHERE s.refreshed_at IS NULL OR s.refreshed_at < :before
            """
        ),
        {"before": before},
    )
    return [row[0] for row in rows]


async def track_linked_apps(session: AsyncSession, account_id: uuid.UUID) -> uuid.UUID | None:
    """Every live app of the account is tracked (called when its app list was stored);
    returns the account's workspace."""
    await session.execute(
        text(
            """
            INSERT INTO store_tracked_apps (id, workspace_id, apple_id, effective_storefronts)
            SELECT gen_random_uuid(), a.workspace_id, a.apple_id::bigint,
                   COALESCE(s.effective_storefronts, '{}')
            FROM apps a LEFT JOIN store_workspace_settings s ON s.workspace_id = a.workspace_id
            WHERE a.account_id = :account AND a.removed_at IS NULL
              AND a.apple_id ~ '^[0-9]{1,18}$'
            ON CONFLICT (workspace_id, apple_id) DO NOTHING
            """
        ),
        {"account": account_id},
    )
    return await session.scalar(  # type: ignore[no-any-return]
        text("SELECT workspace_id FROM asc_accounts WHERE id = :a"), {"a": account_id}
    )


# --- tracked apps, as the API shows them -----------------------------------------------------


async def list_tracked(
    session: AsyncSession, workspace_id: uuid.UUID, after: int | None, limit: int
) -> list[Any]:
    result = await session.execute(
        text(
            f"""
            SELECT {_TRACKED_COLUMNS} FROM store_tracked_apps t
            LEFT JOIN store_apps s ON s.apple_id = t.apple_id
            WHERE t.workspace_id = :w AND {TRACKING}
              AND (CAST(:after AS bigint) IS NULL OR t.apple_id > :after)
            ORDER BY t.apple_id LIMIT :limit
            """  # noqa: S608  (constants only)
        ),
        {"w": workspace_id, "after": after, "limit": limit},
    )
    return list(result)


async def get_tracked(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    *,
    tracked_id: uuid.UUID | None = None,
    apple_id: int | None = None,
    only_tracking: bool = True,
) -> Any:
    condition = "t.id = :id" if tracked_id is not None else "t.apple_id = :apple_id"
    tracking = f"AND {TRACKING}" if only_tracking else ""
    result = await session.execute(
        text(
            f"""
            SELECT {_TRACKED_COLUMNS} FROM store_tracked_apps t
            LEFT JOIN store_apps s ON s.apple_id = t.apple_id
            WHERE t.workspace_id = :w AND {condition} {tracking}
            """  # noqa: S608  (constants only)
        ),
        {"w": workspace_id, "id": tracked_id, "apple_id": apple_id},
    )
    return result.first()


async def add_tracked(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    apple_id: int,
    storefronts: list[str] | None,
    effective: list[str],
) -> None:
    await session.execute(
        text(
            """
            INSERT INTO store_tracked_apps (id, workspace_id, apple_id, added_manually,
                                            storefronts, effective_storefronts)
            VALUES (gen_random_uuid(), :w, :apple_id, true, :s, :e)
            ON CONFLICT (workspace_id, apple_id) DO UPDATE SET added_manually = true,
                storefronts = EXCLUDED.storefronts,
                effective_storefronts = EXCLUDED.effective_storefronts, updated_at = now()
            """
        ),
        {"w": workspace_id, "apple_id": apple_id, "s": storefronts, "e": effective},
    )


async def set_override(
    session: AsyncSession,
    tracked_id: uuid.UUID,
    storefronts: list[str] | None,
    effective: list[str],
) -> None:
    await session.execute(
        text(
            "UPDATE store_tracked_apps SET storefronts = :s, effective_storefronts = :e, "
            "updated_at = now() WHERE id = :id"
        ),
        {"id": tracked_id, "s": storefronts, "e": effective},
    )


async def stop_tracking(session: AsyncSession, tracked_id: uuid.UUID) -> None:
    await session.execute(text("DELETE FROM store_tracked_apps WHERE id = :id"), {"id": tracked_id})


async def store_subject(session: AsyncSession, workspace_id: uuid.UUID, app_id: uuid.UUID) -> Any:
    """``(apple_id, countries)`` of a catalog app (with the storefronts its tracked-app row
    follows, if it tracks) or else of a tracked app with this id; None for neither. One
    statement, where looking up the catalog app and then its tracked row took two."""
    result = await session.execute(
        text(
            f"""
            SELECT found.apple_id, found.countries FROM (
                SELECT 0 AS pick, CAST(a.apple_id AS bigint) AS apple_id,
                       COALESCE((SELECT t.effective_storefronts FROM store_tracked_apps t
                                 WHERE t.workspace_id = a.workspace_id
                                   AND t.apple_id = CAST(a.apple_id AS bigint) AND {TRACKING}),
                                CAST('{{}}' AS text[])) AS countries
                FROM apps a
                WHERE a.id = :id AND a.workspace_id = :w AND a.apple_id ~ '^[0-9]+$'
                UNION ALL
                SELECT 1, t.apple_id, t.effective_storefronts FROM store_tracked_apps t
                WHERE t.id = :id AND t.workspace_id = :w AND {TRACKING}
            ) AS found
            ORDER BY found.pick
            LIMIT 1
            """  # noqa: S608  (constants only)
        ),
        {"id": app_id, "w": workspace_id},
    )
    return result.first()


async def workspace_countries(session: AsyncSession, workspace_id: uuid.UUID) -> list[str]:
    """Every storefront the workspace follows (through any tracked app)."""
    rows = await session.execute(
        text(
            f"""
            SELECT DISTINCT unnest(t.effective_storefronts) AS c FROM store_tracked_apps t
            WHERE t.workspace_id = :w AND {TRACKING} ORDER BY c
            """  # noqa: S608  (constants only)
        ),
        {"w": workspace_id},
    )
    return [row[0] for row in rows]


_COUNTRIES = f"""
    SELECT DISTINCT unnest(t.effective_storefronts) AS country FROM store_tracked_apps t
    WHERE t.workspace_id = :w AND {TRACKING}
"""  # noqa: S608  (constants only)


def chart_sources(
    workspace_id: uuid.UUID, charts: list[str], genre: int
) -> tuple[str, dict[str, Any]]:
    """A query (SQL and parameters) of (country, chart, genre, status, detail, last fetched,
    last ok) per chart of the workspace's storefronts: each ``charts`` × ``genre`` expected
    (status NULL when never fetched) and every other chart fetched there, from its newest
    snapshot. Sync-status runs it together with the other public datasets' sources."""
    sql = f"""
        WITH countries AS ({_COUNTRIES}),
        expected AS (
            SELECT c.country, ch.chart, CAST(:genre AS integer) AS genre
            FROM countries c CROSS JOIN unnest(CAST(:charts AS text[])) AS ch(chart)
        ),
        seen AS (
            SELECT DISTINCT ON (country, chart, genre) country, chart, genre, status, detail,
                   last_fetched_at,
                   (SELECT max(o.last_fetched_at) FROM store_chart_snapshots o
                    WHERE o.country = s.country AND o.chart = s.chart AND o.genre = s.genre
                      AND o.status = 'ok') AS last_ok_at
            FROM store_chart_snapshots s WHERE country IN (SELECT country FROM countries)
            ORDER BY country, chart, genre, first_fetched_at DESC, id DESC
        )
        SELECT coalesce(s.country, e.country), coalesce(s.chart, e.chart),
               coalesce(s.genre, e.genre), s.status, s.detail, s.last_fetched_at, s.last_ok_at
        FROM expected e
        FULL JOIN seen s ON s.country = e.country AND s.chart = e.chart AND s.genre = e.genre
    """  # noqa: S608  (constants only)
    return sql, {"w": workspace_id, "charts": charts, "genre": genre}


def rating_sources(workspace_id: uuid.UUID) -> tuple[str, dict[str, Any]]:
    """A query (SQL and parameters) of (country, last checked, last ok) per storefront of the
    workspace, over the star ratings of its tracked apps (NULLs when never fetched).
    Sync-status runs it together with the other public datasets' sources."""
    sql = f"""
        WITH countries AS ({_COUNTRIES})
        SELECT c.country, r.checked_at, r.last_ok_at
        FROM countries c
        LEFT JOIN (
            SELECT country, max(fetched_at) AS checked_at,
                   max(fetched_at) FILTER (WHERE status = 'ok') AS last_ok_at
            FROM store_rating_snapshots
            WHERE country IN (SELECT country FROM countries)
              AND apple_id IN (SELECT t.apple_id FROM store_tracked_apps t
                               WHERE t.workspace_id = :w AND {TRACKING})
            GROUP BY country
        ) r ON r.country = c.country
    """  # noqa: S608  (constants only)
    return sql, {"w": workspace_id}


async def workspace_apple_ids(session: AsyncSession, workspace_id: uuid.UUID) -> set[int]:
    rows = await session.execute(
        text(
            f"SELECT t.apple_id FROM store_tracked_apps t WHERE t.workspace_id = :w AND {TRACKING}"  # noqa: S608
        ),
        {"w": workspace_id},
    )
    return {row[0] for row in rows}

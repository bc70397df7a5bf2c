"""The App Store's own star ratings of a catalog app, for cards that show them beside other
figures (the reviews domain's ratings card). The store domain writes these snapshots; this
small read lives on a lower floor so a domain can show them without importing the store.

Only the storefronts the workspace follows for the app are read (its tracked app's effective
storefronts): snapshots are shared public data, what a workspace sees is what it tracks.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True)
class StoreRating:
    country: str  # alpha-2, lower case
    snapshot_date: dt.date
    rating_count: int
    average: Decimal | None


async def latest_store_ratings(
    session: AsyncSession, workspace_id: uuid.UUID, app_id: uuid.UUID, country: str | None
) -> list[StoreRating]:
    """The newest usable snapshot per storefront of a workspace's catalog app."""
    rows = await session.execute(
        text(
            """
            SELECT DISTINCT ON (s.country) s.country, s.snapshot_date, s.rating_count, s.average
            FROM apps a
            JOIN store_tracked_apps t ON t.workspace_id = a.workspace_id
                 AND t.apple_id::text = a.apple_id
            JOIN store_rating_snapshots s ON s.apple_id = t.apple_id
                 AND s.country = ANY(t.effective_storefronts)
            WHERE a.id = :app AND a.workspace_id = :w AND s.status = 'ok'
              AND (CAST(:country AS text) IS NULL OR s.country = :country)
            ORDER BY s.country, s.snapshot_date DESC
            """
        ),
        {"app": app_id, "w": workspace_id, "country": country},
    )
    return [StoreRating(r.country, r.snapshot_date, r.rating_count or 0, r.average) for r in rows]

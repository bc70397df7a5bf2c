"""SQL for an account's app list as the sync units keep it: stored from ``GET /v1/apps``, walked
by the per-app datasets, each of which marks when it first finished for an app."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import exists, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import App
from app.sync import queue

SyncMarker = Literal[
    "versions_synced_at", "builds_synced_at", "testflight_synced_at", "submissions_synced_at"
]


@dataclass(frozen=True)
class AppRecord:
    apple_id: str
    name: str
    bundle_id: str
    sku: str
    primary_locale: str | None


async def upsert_apps(
    session: AsyncSession,
    *,
    workspace_id: uuid.UUID,
    account_id: uuid.UUID,
    apps: list[AppRecord],
    now: dt.datetime,
) -> None:
    """Store the full current list: upsert what Apple returned (one statement), mark the rest
    removed. An app that comes back loses its ``removed_at``."""
    if apps:
        await session.execute(
            text(
                """
                INSERT INTO apps (id, workspace_id, account_id, apple_id, name, bundle_id, sku,
                                  primary_locale, first_seen_at, last_seen_at)
                SELECT gen_random_uuid(), :ws, :account, a.apple_id, a.name, a.bundle_id, a.sku,
                       a.locale, :now, :now
                FROM unnest(CAST(:ids AS text[]), CAST(:names AS text[]),
                            CAST(:bundles AS text[]), CAST(:skus AS text[]),
                            CAST(:locales AS text[]))
                     AS a(apple_id, name, bundle_id, sku, locale)
                ON CONFLICT (account_id, apple_id) DO UPDATE SET
                    name = EXCLUDED.name, bundle_id = EXCLUDED.bundle_id, sku = EXCLUDED.sku,
                    primary_locale = EXCLUDED.primary_locale, last_seen_at = EXCLUDED.last_seen_at,
                    removed_at = NULL
                """
            ),
            {
                "ws": workspace_id,
                "account": account_id,
                "now": now,
                "ids": [a.apple_id for a in apps],
                "names": [a.name for a in apps],
                "bundles": [a.bundle_id for a in apps],
                "skus": [a.sku for a in apps],
                "locales": [a.primary_locale for a in apps],
            },
        )
    await session.execute(
        text(
            "UPDATE apps SET removed_at = :now WHERE account_id = :account "
            "AND removed_at IS NULL AND NOT (apple_id = ANY(CAST(:ids AS text[])))"
        ),
        {"account": account_id, "now": now, "ids": [a.apple_id for a in apps]},
    )


async def account_has_apps(session: AsyncSession, account_id: uuid.UUID) -> bool:
    """Whether the account's app list was ever stored (removed apps count)."""
    found = await session.scalar(select(exists().where(App.account_id == account_id)))
    return bool(found)


async def listed_apple_ids(
    session: AsyncSession, account_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[str]]:
    """Apple ids of each account's listed apps, in Apple id order (accounts with none are left
    out): one statement for a whole planning round's accounts."""
    rows = await session.execute(
        text(
            "SELECT account_id, apple_id FROM apps "
            "WHERE account_id = ANY(CAST(:accounts AS uuid[])) AND removed_at IS NULL "
            "ORDER BY account_id, apple_id"
        ),
        {"accounts": list(account_ids)},
    )
    listed: dict[uuid.UUID, list[str]] = {}
    for account_id, apple_id in rows:
        listed.setdefault(account_id, []).append(str(apple_id))
    return listed


async def due_listed_apple_ids(
    session: AsyncSession,
    account_ids: Sequence[uuid.UUID],
    dataset: str,
    refresh: dt.timedelta,
    now: dt.datetime,
) -> dict[uuid.UUID, list[str]]:
    """``listed_apple_ids`` for a planning round of ``dataset`` (one unit per app, refreshed
    every ``refresh``): the apps whose unit is kept (``queue.kept_unit``) left out."""
    kept = queue.kept_unit("apps.account_id", "CAST(apps.apple_id AS text)", "CAST(:r AS float8)")
    rows = await session.execute(
        text(
            "SELECT account_id, apple_id FROM apps "  # noqa: S608  (fixed fragments; values are bound)
            "WHERE account_id = ANY(CAST(:accounts AS uuid[])) AND removed_at IS NULL "
            f"AND NOT {kept} ORDER BY account_id, apple_id"
        ),
        {
            "accounts": list(account_ids),
            "kept_dataset": dataset,
            "r": refresh.total_seconds(),
            "kept_now": now,
        },
    )
    listed: dict[uuid.UUID, list[str]] = {}
    for account_id, apple_id in rows:
        listed.setdefault(account_id, []).append(str(apple_id))
    return listed


async def live_apps(
    session: AsyncSession, account_id: uuid.UUID, marker: SyncMarker, *, apple_id: str | None
) -> list[tuple[App, dt.datetime | None]]:
    """The account's listed apps (or the one with ``apple_id``) with their ``marker``."""
    statement = select(App, getattr(App, marker)).where(
        App.account_id == account_id, App.removed_at.is_(None)
    )
    if apple_id is not None:
        statement = statement.where(App.apple_id == apple_id)
    rows = await session.execute(statement.order_by(App.apple_id))
    return [(app, synced_at) for app, synced_at in rows]


async def mark_synced(
    session: AsyncSession, app_id: uuid.UUID, marker: SyncMarker, now: dt.datetime
) -> None:
    """Record the first finished run of a per-app dataset (later runs keep the first time)."""
    column = getattr(App, marker)
    await session.execute(
        update(App).where(App.id == app_id, column.is_(None)).values({column: now})
    )

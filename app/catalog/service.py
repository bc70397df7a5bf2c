"""App catalog queries and the events feed. Every read is scoped to the caller's workspace."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from app.catalog import repository
from app.catalog.schemas import (
    AppDetail,
    AppRead,
    BuildSummary,
    EventFeed,
    EventRead,
    EventSubject,
)
from app.kit import cursors
from app.kit.pagination import Page, PageRequest, encode_cursor
from app.reports.query import get_app
from app.resources.changes import EventType
from app.resources.versions import FINAL_STATES, version_summary


async def list_apps(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    *,
    account_id: uuid.UUID | None,
    platform: str | None,
    query: str | None,
    include_removed: bool,
    paging: PageRequest,
) -> Page[AppRead]:
    after = paging.after(cursors.TEXT, cursors.UUID)
    apps = await repository.list_apps(
        session,
        workspace_id,
        account_id=account_id,
        platform=platform,
        query=query,
        include_removed=include_removed,
        after=after,
        limit=paging.fetch,
    )
    return paging.page_of(apps, lambda app: [app.name, str(app.id)], AppRead)


async def app_detail(
    session: AsyncSession, workspace_id: uuid.UUID, app_id: uuid.UUID
) -> AppDetail:
    """The app with, per platform, its live version and the version in flight."""
    app = await get_app(session, workspace_id, app_id)
    live = await repository.newest_versions(session, app.id, live_only=True)
    newest = await repository.newest_versions(session, app.id, live_only=False)
    in_flight = [
        version
        for version in newest
        if (version.app_version_state or version.app_store_state) not in FINAL_STATES
    ]
    build = await repository.latest_build(session, app.id)
    return AppDetail(
        **AppRead.model_validate(app).model_dump(),
        live_versions=[version_summary(v) for v in live],
        versions_in_flight=[version_summary(v) for v in in_flight],
        latest_build=BuildSummary.model_validate(build) if build is not None else None,
    )


async def event_feed(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    *,
    types: list[EventType] | None,
    account_id: uuid.UUID | None,
    app_id: uuid.UUID | None,
    since: dt.datetime | None,
    paging: PageRequest,
) -> EventFeed:
    """A page of the feed and the cursor to continue from (the same one when nothing new)."""
    after = paging.after(cursors.integer, cursors.integer)
    rows = await repository.list_events(
        session,
        workspace_id,
        types=[t.value for t in types] if types else None,
        account_id=account_id,
        app_id=app_id,
        since=since,
        after=(after[0], after[1]) if after is not None else None,
        limit=paging.fetch,  # one more than the page: whether more is waiting now
    )
    has_more = len(rows) > paging.limit
    rows = rows[: paging.limit]
    if rows:
        next_cursor = encode_cursor([rows[-1].txid, rows[-1].seq])
    else:
        next_cursor = paging.cursor or encode_cursor([0, 0])
    items = [
        EventRead(
            id=row.id,
            type=EventType(row.type),
            observed_at=row.observed_at,
            account_id=row.account_id,
            app_id=row.app_id,
            subject=EventSubject(
                type=row.subject_type, id=row.subject_id, apple_id=row.subject_apple_id
            ),
            from_state=row.from_state,
            to_state=row.to_state,
            details=row.details,
        )
        for row in rows
    ]
    return EventFeed(items=items, next_cursor=next_cursor, has_more=has_more)

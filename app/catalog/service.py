"""App catalog queries. Every read is scoped to the caller's workspace."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from app.catalog import release_repository, repository
from app.catalog.release_repository import FINAL_STATES
from app.catalog.schemas import AppDetail, AppRead, BuildSummary, VersionSummary
from app.errors import NotFound
from app.kit import cursors
from app.kit.pagination import page_of
from app.models import App, AppVersion


async def list_apps(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    *,
    account_id: uuid.UUID | None,
    platform: str | None,
    query: str | None,
    include_removed: bool,
    cursor: str | None,
    limit: int,
) -> tuple[list[App], str | None]:
    after = cursors.decode(cursor, cursors.TEXT, cursors.UUID)
    apps = await repository.list_apps(
        session,
        workspace_id,
        account_id=account_id,
        platform=platform,
        query=query,
        include_removed=include_removed,
        after=after,
        limit=limit + 1,
    )
    return page_of(apps, limit, lambda app: [app.name, str(app.id)])


async def get_app(session: AsyncSession, workspace_id: uuid.UUID, app_id: uuid.UUID) -> App:
    app = await repository.get_app(session, workspace_id, app_id)
    if app is None:
        raise NotFound(f"no app with id {app_id}")
    return app


def version_summary(version: AppVersion) -> VersionSummary:
    return VersionSummary(
        id=version.id,
        apple_id=version.apple_id,
        platform=version.platform,
        version_string=version.version_string,
        state=version.app_version_state or version.app_store_state,
        app_version_state=version.app_version_state,
        app_store_state=version.app_store_state,
        state_since=version.state_since,
        state_since_observed=version.state_since_observed,
        created_date=version.created_date,
        build_number=version.build_number,
    )


async def app_detail(
    session: AsyncSession, workspace_id: uuid.UUID, app_id: uuid.UUID
) -> AppDetail:
    """The app with, per platform, its live version and the version in flight."""
    app = await get_app(session, workspace_id, app_id)
    live = await release_repository.newest_versions(session, app.id, live_only=True)
    newest = await release_repository.newest_versions(session, app.id, live_only=False)
    in_flight = [
        version
        for version in newest
        if (version.app_version_state or version.app_store_state) not in FINAL_STATES
    ]
    build = await release_repository.latest_build(session, app.id)
    return AppDetail(
        **AppRead.model_validate(app).model_dump(),
        live_versions=[version_summary(v) for v in live],
        versions_in_flight=[version_summary(v) for v in in_flight],
        latest_build=BuildSummary.model_validate(build) if build is not None else None,
    )

"""Catalog queries. Every read is scoped to the caller's workspace."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from app.catalog import repository
from app.errors import NotFound, ValidationFailed
from app.kit.pagination import decode_cursor, page_of
from app.models import App


async def list_apps(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    *,
    account_id: uuid.UUID | None,
    query: str | None,
    include_removed: bool,
    cursor: str | None,
    limit: int,
) -> tuple[list[App], str | None]:
    after = None
    if cursor is not None:
        name, app_id = decode_cursor(cursor, 2)
        try:
            after = (str(name), uuid.UUID(app_id))
        except (TypeError, ValueError):
            raise ValidationFailed.single(
                "query.cursor", "not a cursor this list produced", "cursor"
            ) from None
    apps = await repository.list_apps(
        session,
        workspace_id,
        account_id=account_id,
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

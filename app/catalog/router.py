"""The app catalog across every linked account."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Query

from app.catalog import service
from app.catalog.schemas import AppRead
from app.kit.deps import Reader, Session
from app.kit.pagination import DEFAULT_LIMIT, CursorParam, LimitParam, Page
from app.kit.problems import AUTHED, problem_responses

router = APIRouter(prefix="/v1/apps", tags=["catalog"])


@router.get(
    "",
    response_model=Page[AppRead],
    operation_id="list_apps",
    responses=problem_responses(*AUTHED),
)
async def list_apps(
    principal: Reader,
    session: Session,
    account_id: uuid.UUID | None = Query(None, description="Only this linked account's apps."),
    q: str | None = Query(
        None, min_length=1, max_length=100, description="Substring of the name or bundle id."
    ),
    include_removed: bool = Query(False, description="Also apps Apple no longer lists."),
    limit: LimitParam = DEFAULT_LIMIT,
    cursor: CursorParam = None,
) -> Page[AppRead]:
    """Apps of every linked account in the workspace, by name."""
    apps, next_cursor = await service.list_apps(
        session,
        principal.workspace_id,
        account_id=account_id,
        query=q,
        include_removed=include_removed,
        cursor=cursor,
        limit=limit,
    )
    return Page(items=[AppRead.model_validate(a) for a in apps], next_cursor=next_cursor)


@router.get(
    "/{app_id}",
    response_model=AppRead,
    operation_id="get_app",
    responses=problem_responses(*AUTHED, 404),
)
async def get_app(app_id: uuid.UUID, principal: Reader, session: Session) -> AppRead:
    """One app (Orchard's id, see `apple_id` for Apple's)."""
    return AppRead.model_validate(await service.get_app(session, principal.workspace_id, app_id))

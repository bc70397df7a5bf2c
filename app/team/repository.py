"""SQL for team members and invitations."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import App, AscAccount, TeamInvitation, TeamMember

Person = TypeVar("Person", TeamMember, TeamInvitation)


async def list_people(
    session: AsyncSession,
    model: type[Person],
    workspace_id: uuid.UUID,
    account_id: uuid.UUID,
    *,
    include_removed: bool,
    after: Sequence[Any] | None,
    limit: int,
) -> list[Person]:
    """Members or invitations of one of the workspace's linked accounts, by last name, first
    name (none when the account is not the workspace's or is unlinked)."""
    last = func.coalesce(model.last_name, "")
    first = func.coalesce(model.first_name, "")
    statement = (
        select(model)
        .join(AscAccount, AscAccount.id == model.account_id)
        .where(
            model.account_id == account_id,
            AscAccount.workspace_id == workspace_id,
            AscAccount.unlinked_at.is_(None),
        )
    )
    if not include_removed:
        statement = statement.where(model.removed_at.is_(None))
    if after is not None:
        statement = statement.where(tuple_(last, first, model.id) > tuple_(*after))
    statement = statement.order_by(last, first, model.id).limit(limit)
    return list(await session.scalars(statement))


async def apps_by_apple_id(
    session: AsyncSession, account_id: uuid.UUID, apple_ids: set[str]
) -> dict[str, App]:
    if not apple_ids:
        return {}
    rows = await session.scalars(
        select(App).where(App.account_id == account_id, App.apple_id.in_(apple_ids))
    )
    return {app.apple_id: app for app in rows}

"""A workspace's linked accounts, as every layer above reads them (another workspace's
account is simply not found)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import NotFound
from app.kit import cursors
from app.kit.pagination import PageRequest
from app.models import AscAccount


async def find_account(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    account_id: uuid.UUID,
    *,
    for_update: bool = False,
) -> AscAccount | None:
    query = select(AscAccount).where(
        AscAccount.id == account_id,
        AscAccount.workspace_id == workspace_id,
        AscAccount.unlinked_at.is_(None),
    )
    if for_update:
        query = query.with_for_update()
    return (await session.scalars(query)).one_or_none()


async def get_account(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    account_id: uuid.UUID,
    *,
    for_update: bool = False,
) -> AscAccount:
    account = await find_account(session, workspace_id, account_id, for_update=for_update)
    if account is None:
        raise NotFound(f"no account with id {account_id}")
    return account


async def _list_live(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    *,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
    inclusive: bool = False,
) -> list[AscAccount]:
    query = select(AscAccount).where(
        AscAccount.workspace_id == workspace_id, AscAccount.unlinked_at.is_(None)
    )
    if after is not None:
        position = tuple_(AscAccount.created_at, AscAccount.id)
        query = query.where(position >= tuple_(*after) if inclusive else position > tuple_(*after))
    query = query.order_by(AscAccount.created_at, AscAccount.id).limit(limit)
    return list(await session.scalars(query))


async def list_accounts(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    *,
    paging: PageRequest,
) -> tuple[list[AscAccount], str | None]:
    after = paging.after(cursors.moment, cursors.UUID)
    accounts = await _list_live(session, workspace_id, after=after, limit=paging.fetch)
    return paging.split(accounts, lambda a: [a.created_at.isoformat(), str(a.id)])


async def accounts_after(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    *,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
    inclusive: bool = False,
) -> list[AscAccount]:
    """Live accounts after a (created_at, id) position (``inclusive``: from it on), oldest
    first."""
    return await _list_live(session, workspace_id, after=after, limit=limit, inclusive=inclusive)


async def workspace_accounts(session: AsyncSession, workspace_id: uuid.UUID) -> list[AscAccount]:
    """Every live account of the workspace, oldest first."""
    return await _list_live(session, workspace_id, after=None, limit=10_000)

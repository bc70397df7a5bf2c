"""SQL for linked accounts. Every query is scoped by workspace."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import AscAccount, AscKeyHistory


async def add(session: AsyncSession, account: AscAccount) -> AscAccount:
    session.add(account)
    await session.flush()
    await session.refresh(account)
    return account


async def live_key_exists(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    key_id: str,
    *,
    except_id: uuid.UUID | None = None,
) -> bool:
    query = select(AscAccount.id).where(
        AscAccount.workspace_id == workspace_id,
        AscAccount.key_id == key_id,
        AscAccount.unlinked_at.is_(None),
    )
    if except_id is not None:
        query = query.where(AscAccount.id != except_id)
    return (await session.scalars(query.limit(1))).first() is not None


async def previous_keys(session: AsyncSession, account_id: uuid.UUID) -> list[AscKeyHistory]:
    query = (
        select(AscKeyHistory)
        .where(AscKeyHistory.account_id == account_id)
        .order_by(AscKeyHistory.replaced_at.desc(), AscKeyHistory.id)
    )
    return list(await session.scalars(query))


async def add_key_history(session: AsyncSession, account: AscAccount) -> None:
    session.add(
        AscKeyHistory(
            id=uuid.uuid4(),
            account_id=account.id,
            key_id=account.key_id,
            issuer_id=account.issuer_id,
            key_fingerprint=account.key_fingerprint,
        )
    )
    await session.flush()


async def purge(session: AsyncSession, account: AscAccount) -> None:
    """Delete the account; synced data goes with it through ON DELETE CASCADE."""
    await session.execute(delete(AscAccount).where(AscAccount.id == account.id))


async def due_for_verification(
    session: AsyncSession, verified_before: datetime, limit: int
) -> list[AscAccount]:
    """Accounts (any workspace) whose last verification is older than the cut-off, locked so
    that two workers never verify the same account at once."""
    query = (
        select(AscAccount)
        .where(
            AscAccount.unlinked_at.is_(None),
            (AscAccount.last_verified_at.is_(None))
            | (AscAccount.last_verified_at < verified_before),
        )
        .order_by(AscAccount.last_verified_at.asc().nulls_first(), AscAccount.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(await session.scalars(query))


async def all_with_keys(session: AsyncSession) -> list[AscAccount]:
    query = select(AscAccount).where(AscAccount.encrypted_private_key.is_not(None))
    return list(await session.scalars(query.with_for_update()))

"""Sync status as pages of entries: `limit` counts entries on every status list.

Order: accounts oldest first (then id), and within an account its datasets by name; the
cursor is the position of the last entry sent, (account created_at, account id, dataset).
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from app.credentials import lookup
from app.kit import cursors
from app.kit.pagination import Page, PageRequest
from app.models import AscAccount
from app.sync.contract import DatasetRegistry
from app.sync.schemas import PublicSyncStatusEntry, SyncStatusEntry
from app.sync.status import public_sync_status, sync_status


async def _entries(
    session: AsyncSession, registry: DatasetRegistry, accounts: list[AscAccount], now: dt.datetime
) -> list[tuple[AscAccount, SyncStatusEntry]]:
    by_id = {account.id: account for account in accounts}
    entries = await sync_status(session, registry, accounts, now)
    order = {account.id: position for position, account in enumerate(accounts)}
    entries.sort(key=lambda e: (order[e.account_id], e.dataset))
    return [(by_id[entry.account_id], entry) for entry in entries]


def _key(pair: tuple[AscAccount, SyncStatusEntry]) -> list[str]:
    account, entry = pair
    return [account.created_at.isoformat(), str(account.id), entry.dataset]


async def workspace_page(
    session: AsyncSession,
    registry: DatasetRegistry,
    workspace_id: uuid.UUID,
    paging: PageRequest,
    now: dt.datetime,
) -> Page[SyncStatusEntry]:
    """A page of (account, dataset) entries of the workspace: ``limit`` entries, not accounts."""
    after = paging.after(cursors.moment, cursors.UUID, cursors.TEXT)
    pairs: list[tuple[AscAccount, SyncStatusEntry]] = []
    account_after: tuple[dt.datetime, uuid.UUID] | None = None
    # After a cursor, the accounts are read from its account on (still live: the rest of its
    # datasets come first), together with the following ones: one query of accounts and one
    # of their status facts per round.
    current: tuple[uuid.UUID, str] | None = None
    if after is not None:
        created_at, account_id, dataset = after
        account_after = (created_at, account_id)
        current = (account_id, dataset)
    per_account = max(len(registry.all()), 1)
    while len(pairs) < paging.fetch:
        missing = paging.fetch - len(pairs)
        accounts = await lookup.accounts_after(
            session,
            workspace_id,
            after=account_after,
            limit=-(-missing // per_account) + (current is not None),
            inclusive=current is not None,
        )
        if not accounts:
            break
        for pair in await _entries(session, registry, accounts, now):
            if current is None or pair[0].id != current[0] or pair[1].dataset > current[1]:
                pairs.append(pair)
        account_after = (accounts[-1].created_at, accounts[-1].id)
        current = None
    chosen, next_cursor = paging.split(pairs, _key)
    return Page(items=[entry for _, entry in chosen], next_cursor=next_cursor)


async def account_page(
    session: AsyncSession,
    registry: DatasetRegistry,
    account: AscAccount,
    paging: PageRequest,
    now: dt.datetime,
) -> Page[SyncStatusEntry]:
    """A page of one account's entries, by dataset name."""
    after = paging.after(cursors.TEXT)
    entries = [entry for _, entry in await _entries(session, registry, [account], now)]
    if after is not None:
        entries = [entry for entry in entries if entry.dataset > after[0]]
    chosen, next_cursor = paging.split(entries[: paging.fetch], lambda e: [e.dataset])
    return Page(items=chosen, next_cursor=next_cursor)


async def public_page(
    session: AsyncSession,
    registry: DatasetRegistry,
    workspace_id: uuid.UUID,
    paging: PageRequest,
    now: dt.datetime,
) -> Page[PublicSyncStatusEntry]:
    """A page of the public datasets' entries, by dataset name."""
    after = paging.after(cursors.TEXT)
    entries = sorted(
        await public_sync_status(session, registry, workspace_id, now), key=lambda e: e.dataset
    )
    if after is not None:
        entries = [entry for entry in entries if entry.dataset > after[0]]
    chosen, next_cursor = paging.split(entries[: paging.fetch], lambda e: [e.dataset])
    return Page(items=chosen, next_cursor=next_cursor)

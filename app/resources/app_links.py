"""How report rows find their app: Apple names it by id (apps) or by the parent app's SKU (in-app
purchases), and the catalog's app list may arrive before or after the rows.

A report unit joins its rows to the account's apps while loading them (:data:`APP_JOINS`)
under a shared lock; an app-list refresh takes the same lock exclusively and then links the
rows that arrived before their app did, so no row is left without the app it belongs to.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

# First half of the advisory lock key: "an account's app list" (unchanged since the lock lived
# in the sales package, so processes of both versions exclude each other during an upgrade).
_APP_LIST_LOCK = 0x0C4A0002

#: Joins a staged row (``typed``, with ``apple_identifier`` and ``parent_identifier``) to its
#: catalog app: the app itself, or for in-app products the parent app (by SKU).
APP_JOINS = """
    LEFT JOIN apps AS app_direct
        ON app_direct.account_id = :c_account_id AND app_direct.apple_id = typed.apple_identifier
    LEFT JOIN (SELECT DISTINCT ON (sku) id, sku FROM apps WHERE account_id = :c_account_id
               ORDER BY sku, removed_at NULLS FIRST, id) AS app_parent
        ON app_parent.sku = typed.parent_identifier
"""
APP_ID_SQL = "COALESCE(app_direct.id, app_parent.id)"


@dataclass(frozen=True)
class AppIndex:
    """The account's apps as :data:`APP_JOINS` finds them, for rows matched in Python."""

    by_apple_id: dict[str, uuid.UUID]
    by_sku: dict[str, uuid.UUID]

    def app_id(self, apple_identifier: str | None, parent: str | None) -> uuid.UUID | None:
        """:data:`APP_ID_SQL` of one row (``parent``: its parent identifier)."""
        found = self.by_apple_id.get(apple_identifier) if apple_identifier is not None else None
        if found is None and parent is not None:
            found = self.by_sku.get(parent)
        return found


async def app_index(session: AsyncSession, account_id: uuid.UUID) -> AppIndex:
    """The account's apps by Apple id, and by SKU the one ``APP_JOINS`` picks (a live app
    before a removed one). Read under :func:`lock_for_report`, it stays true for the unit."""
    rows = await session.execute(
        text("SELECT apple_id, id FROM apps WHERE account_id = :a"), {"a": account_id}
    )
    by_apple_id: dict[str, uuid.UUID] = {row.apple_id: row.id for row in rows}
    rows = await session.execute(
        text(
            "SELECT DISTINCT ON (sku) sku, id FROM apps WHERE account_id = :a "
            "ORDER BY sku, removed_at NULLS FIRST, id"
        ),
        {"a": account_id},
    )
    return AppIndex(by_apple_id, {row.sku: row.id for row in rows})


async def lock_for_report(session: AsyncSession, account_id: uuid.UUID) -> None:
    """Held while a report unit joins rows to apps: the app list cannot change under it."""
    await session.execute(
        text("SELECT pg_advisory_xact_lock_shared(:ns, hashtext(CAST(:a AS text)))"),
        {"ns": _APP_LIST_LOCK, "a": str(account_id)},
    )


async def lock_for_refresh(session: AsyncSession, account_id: uuid.UUID) -> None:
    """Held while the app list is replaced, until the transaction ends."""
    await session.execute(
        text("SELECT pg_advisory_xact_lock(:ns, hashtext(CAST(:a AS text)))"),
        {"ns": _APP_LIST_LOCK, "a": str(account_id)},
    )

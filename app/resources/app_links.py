"""How report rows find their app: Apple names it by id (apps) or by the parent app's SKU (in-app
purchases), and the catalog's app list may arrive before or after the rows.

A report unit joins its rows to the account's apps while loading them (:data:`APP_JOINS`)
under a shared lock; an app-list refresh takes the same lock exclusively and then links the
rows that arrived before their app did, so no row is left without the app it belongs to.
"""

from __future__ import annotations

import uuid

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

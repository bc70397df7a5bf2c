"""SQL the report queries share: which accounts and app a query covers, and what Apple said
for each report date (availability)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import App


async def find_app(session: AsyncSession, workspace_id: uuid.UUID, app_id: uuid.UUID) -> App | None:
    result = await session.scalars(
        select(App).where(App.id == app_id, App.workspace_id == workspace_id)
    )
    return result.one_or_none()


async def accounts_in_scope(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    *,
    account_ids: list[uuid.UUID],
    app_ids: list[uuid.UUID],
) -> list[uuid.UUID]:
    """Accounts whose report dates a query covers: the workspace's linked accounts, or when
    the account or app filter names some, exactly those (an unlinked account's gaps stay
    visible to whoever asks about it)."""
    named = bool(account_ids or app_ids)
    params: dict[str, Any] = {"ws": workspace_id}
    sql = "SELECT id FROM asc_accounts WHERE workspace_id = :ws"
    if not named:
        sql += " AND unlinked_at IS NULL"
    if account_ids:
        sql += " AND id = ANY(CAST(:accounts AS uuid[]))"
        params["accounts"] = account_ids
    if app_ids:
        sql += (
            " AND id IN (SELECT account_id FROM apps WHERE workspace_id = :ws"
            " AND id = ANY(CAST(:apps AS uuid[])))"
        )
        params["apps"] = app_ids
    result = await session.execute(text(sql + " ORDER BY id"), params)
    return list(result.scalars())


async def report_states(
    session: AsyncSession,
    account_ids: list[uuid.UUID],
    dataset: str,
    start: dt.date,
    end: dt.date,
    *,
    incomplete_only: bool,
) -> list[tuple[dt.date, uuid.UUID, str | None]]:
    """(date, account, availability state, None when never asked) for every date of the range
    and account, by date then account; with ``incomplete_only`` only dates that are not facts
    (published, or Apple's "no data")."""
    if not account_ids:
        return []
    only = "WHERE av.state IS NULL OR av.state NOT IN ('published', 'no_data')"
    result = await session.execute(
        text(
            f"""
            SELECT CAST(d AS date) AS report_date, a.id AS account_id, av.state
            FROM unnest(CAST(:ids AS uuid[])) AS a(id)
            CROSS JOIN generate_series(CAST(:start AS date), CAST(:end AS date),
                                       interval '1 day') AS d
            LEFT JOIN dataset_availability AS av
                ON av.account_id = a.id AND av.dataset = :dataset
                AND av.report_date = CAST(d AS date)
            {only if incomplete_only else ""}
            ORDER BY 1, 2
            """  # noqa: S608  (a constant clause)
        ),
        {"ids": account_ids, "dataset": dataset, "start": start, "end": end},
    )
    return [(row.report_date, row.account_id, row.state) for row in result]

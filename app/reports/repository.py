"""SQL the report queries share: which accounts and app a query covers, and what Apple said
for each report date (availability)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import App


async def find_app(session: AsyncSession, workspace_id: uuid.UUID, app_id: uuid.UUID) -> App | None:
    result = await session.scalars(
        select(App).where(App.id == app_id, App.workspace_id == workspace_id)
    )
    return result.one_or_none()


def _scope(
    workspace_id: uuid.UUID, account_ids: list[uuid.UUID], app_ids: list[uuid.UUID]
) -> tuple[str, dict[str, Any]]:
    """``SELECT id FROM asc_accounts …``: the accounts a query covers (``accounts_in_scope``)."""
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
    return sql, params


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
    sql, params = _scope(workspace_id, account_ids, app_ids)
    result = await session.execute(text(sql + " ORDER BY id"), params)
    return list(result.scalars())


async def _states(
    session: AsyncSession,
    accounts: str,
    params: dict[str, Any],
    dataset: str,
    start: dt.date,
    end: dt.date,
    incomplete_only: bool,
) -> list[tuple[dt.date, uuid.UUID, str | None]]:
    only = "WHERE av.state IS NULL OR av.state NOT IN ('published', 'no_data')"
    result = await session.execute(
        text(
            f"""
            SELECT CAST(d AS date) AS report_date, a.id AS account_id, av.state
            FROM {accounts} AS a(id)
            CROSS JOIN generate_series(CAST(:start AS date), CAST(:end AS date),
                                       interval '1 day') AS d
            LEFT JOIN dataset_availability AS av
                ON av.account_id = a.id AND av.dataset = :dataset
                AND av.report_date = CAST(d AS date)
            {only if incomplete_only else ""}
            ORDER BY 1, 2
            """  # noqa: S608  (constant clauses)
        ),
        {**params, "dataset": dataset, "start": start, "end": end},
    )
    return [(row.report_date, row.account_id, row.state) for row in result]


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
    accounts = "unnest(CAST(:ids AS uuid[]))"
    return await _states(
        session, accounts, {"ids": account_ids}, dataset, start, end, incomplete_only
    )


async def scope_report_states(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    *,
    account_ids: list[uuid.UUID],
    app_ids: list[uuid.UUID],
    dataset: str,
    start: dt.date,
    end: dt.date,
    incomplete_only: bool,
) -> list[tuple[dt.date, uuid.UUID, str | None]]:
    """``report_states`` of the accounts in scope (``accounts_in_scope``), in one statement."""
    sql, params = _scope(workspace_id, account_ids, app_ids)
    return await _states(session, f"({sql})", params, dataset, start, end, incomplete_only)


@dataclass(frozen=True)
class AppStates:
    """One app of the workspace and the availability state of each date of a range for its
    account (None: never asked)."""

    app_id: uuid.UUID
    name: str
    account_id: uuid.UUID
    states: list[tuple[dt.date, str | None]]


async def app_report_states(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    app_id: uuid.UUID,
    dataset: str,
    start: dt.date,
    end: dt.date,
) -> AppStates | None:
    """The workspace's app ``app_id`` (None when it has none) with ``report_states`` of its
    account, by date, in one statement."""
    result = await session.execute(
        text(
            """
            SELECT ap.name, ap.account_id, CAST(d AS date) AS report_date, av.state
            FROM apps AS ap
            CROSS JOIN generate_series(CAST(:start AS date), CAST(:end AS date),
                                       interval '1 day') AS d
            LEFT JOIN dataset_availability AS av
                ON av.account_id = ap.account_id AND av.dataset = :dataset
                AND av.report_date = CAST(d AS date)
            WHERE ap.id = :app AND ap.workspace_id = :ws
            ORDER BY 3
            """
        ),
        {"app": app_id, "ws": workspace_id, "dataset": dataset, "start": start, "end": end},
    )
    rows = result.all()
    if not rows:
        return None
    name, account_id = rows[0][0], rows[0][1]
    return AppStates(app_id, name, account_id, [(row[2], row[3]) for row in rows])

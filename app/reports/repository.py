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


@dataclass(frozen=True)
class Also:
    """A scalar SQL expression read in the same statement as a range's states (the version of
    the data an answer reads: ``app.sales.version_repository``), evaluated once; its value
    comes even when no date is listed. Its parameters are bound with the statement's: a name
    both use must stand for the same value."""

    sql: str
    params: dict[str, Any]


def bind(params: dict[str, Any], also: Also | None) -> dict[str, Any]:
    """A statement's ``params`` with ``also``'s (a name both use must mean one value)."""
    if also is None:
        return params
    for name, value in also.params.items():
        if name in params and params[name] != value:
            raise ValueError(f"parameter {name!r} means two values")
    return {**also.params, **params}


def together(*values: Also | None) -> Also:
    """``values`` read as one value: a text array of them, an element NULL where a value is
    None (e.g. an answer's version, the rates it converts at, whether its items are kept)."""
    params: dict[str, Any] = {}
    elements = []
    for value in values:
        if value is None:
            elements.append("NULL")
        else:
            params = bind(params, value)
            elements.append(f"CAST(({value.sql}) AS text)")
    return Also(f"ARRAY[{', '.join(elements)}]", params)


def with_also(inner: str, columns: str, order: str, also: Also | None) -> str:
    """``inner`` (ordered by ``order``), or with ``also``: one row with its value and NULL
    columns when ``inner`` finds nothing, else ``inner``'s rows, each with the value."""
    if also is None:
        return f"{inner} ORDER BY {order}"
    return f"""
        SELECT v.also, {columns}
        FROM (SELECT ({also.sql}) AS also) AS v
        LEFT JOIN LATERAL ({inner}) AS s ON true
        ORDER BY {order}
    """  # noqa: S608  (constant clauses)


async def _states(
    session: AsyncSession,
    accounts: str,
    params: dict[str, Any],
    dataset: str,
    start: dt.date,
    end: dt.date,
    incomplete_only: bool,
    also: Also | None = None,
) -> tuple[Any, list[tuple[dt.date, uuid.UUID, str | None]]]:
    only = "WHERE av.state IS NULL OR av.state NOT IN ('published', 'no_data')"
    inner = f"""
        SELECT CAST(d AS date) AS report_date, a.id AS account_id, av.state
        FROM {accounts} AS a(id)
        CROSS JOIN generate_series(CAST(:start AS date), CAST(:end AS date),
                                   interval '1 day') AS d
        LEFT JOIN dataset_availability AS av
            ON av.account_id = a.id AND av.dataset = :dataset
            AND av.report_date = CAST(d AS date)
        {only if incomplete_only else ""}
    """  # noqa: S608  (constant clauses)
    sql = with_also(inner, "s.report_date, s.account_id, s.state", "report_date, account_id", also)
    bound = bind({**params, "dataset": dataset, "start": start, "end": end}, also)
    result = await session.execute(text(sql), bound)
    value = None
    states = []
    for row in result:
        if also is not None:
            value = row.also
        if row.report_date is not None:
            states.append((row.report_date, row.account_id, row.state))
    return value, states


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
    _, states = await _states(
        session, accounts, {"ids": account_ids}, dataset, start, end, incomplete_only
    )
    return states


async def scope_report_states_and(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    *,
    account_ids: list[uuid.UUID],
    app_ids: list[uuid.UUID],
    dataset: str,
    start: dt.date,
    end: dt.date,
    incomplete_only: bool,
    also: Also | None,
) -> tuple[Any, list[tuple[dt.date, uuid.UUID, str | None]]]:
    """(``also``'s value, ``report_states`` of the accounts in scope —
    ``accounts_in_scope``), in one statement."""
    sql, params = _scope(workspace_id, account_ids, app_ids)
    return await _states(session, f"({sql})", params, dataset, start, end, incomplete_only, also)


@dataclass(frozen=True)
class AppStates:
    """One app of the workspace and the availability state of each date of a range for its
    account (None: never asked)."""

    app_id: uuid.UUID
    name: str
    account_id: uuid.UUID
    states: list[tuple[dt.date, str | None]]


async def app_report_states_and(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    app_id: uuid.UUID,
    dataset: str,
    start: dt.date,
    end: dt.date,
    also: Also | None = None,
) -> tuple[Any, AppStates | None]:
    """(``also``'s value, the workspace's app ``app_id`` — None when it has none — with
    ``report_states`` of its account, by date), in one statement."""
    inner = """
        SELECT ap.name, ap.account_id, CAST(d AS date) AS report_date, av.state
        FROM apps AS ap
        CROSS JOIN generate_series(CAST(:start AS date), CAST(:end AS date),
                                   interval '1 day') AS d
        LEFT JOIN dataset_availability AS av
            ON av.account_id = ap.account_id AND av.dataset = :dataset
            AND av.report_date = CAST(d AS date)
        WHERE ap.id = :app AND ap.workspace_id = :ws
    """
    sql = with_also(inner, "s.name, s.account_id, s.report_date, s.state", "report_date", also)
    params = {"app": app_id, "ws": workspace_id, "dataset": dataset, "start": start, "end": end}
    result = await session.execute(text(sql), bind(params, also))
    value = None
    states = []
    name = account_id = None
    for row in result:
        if also is not None:
            value = row.also
        if row.report_date is not None:
            name, account_id = row.name, row.account_id
            states.append((row.report_date, row.state))
    if name is None or account_id is None:
        return value, None
    return value, AppStates(app_id, name, account_id, states)

"""Bulk writes for the catalog syncers: one statement per table and unit, whatever the size.

Rows travel as one JSON document expanded by ``jsonb_to_recordset`` (typed from the ORM
table), which carries array columns (roles, group ids) that ``unnest`` would flatten. Table
and column names come from the ORM metadata, never from input.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, cast

from sqlalchemy import Table, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.base import Base

_PG = postgresql.dialect()  # type: ignore[no-untyped-call]


def _json_default(value: object) -> str:
    if isinstance(value, dt.datetime | dt.date | uuid.UUID):
        return value.isoformat() if not isinstance(value, uuid.UUID) else str(value)
    raise TypeError(f"cannot store {type(value).__name__} in a bulk row")


def _rows_json(rows: Sequence[Mapping[str, Any]]) -> str:
    return json.dumps(list(rows), default=_json_default)


def _table(model: type[Base]) -> Table:
    return cast(Table, model.__table__)


def _names(columns: Iterable[str], prefix: str = "") -> str:
    return ", ".join(f'{prefix}"{name}"' for name in columns)


def _record_type(table: Table, columns: Iterable[str]) -> str:
    return ", ".join(f'"{name}" {table.c[name].type.compile(dialect=_PG)}' for name in columns)


async def upsert(
    session: AsyncSession,
    model: type[Base],
    rows: Sequence[Mapping[str, Any]],
    *,
    conflict: Sequence[str],
    now: dt.datetime,
) -> dict[str, uuid.UUID]:
    """Insert or update ``rows`` (all with the same keys) on the ``conflict`` columns; a row
    seen again is no longer removed. Returns ``apple_id`` → row id."""
    if not rows:
        return {}
    table, columns = _table(model), list(rows[0])
    assignments = [f'"{name}" = EXCLUDED."{name}"' for name in columns if name not in conflict]
    statement = f"""
        INSERT INTO {table.name} (id, {_names(columns)}, first_seen_at, last_seen_at)
        SELECT gen_random_uuid(), {_names(columns, "r.")}, :now, :now
        FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r({_record_type(table, columns)})
        ON CONFLICT ({_names(conflict)}) DO UPDATE SET
            {", ".join(assignments)}, last_seen_at = EXCLUDED.last_seen_at, removed_at = NULL
        RETURNING apple_id, id
    """  # noqa: S608  (identifiers from the ORM metadata)
    result = await session.execute(text(statement), {"rows": _rows_json(rows), "now": now})
    return {str(apple_id): row_id for apple_id, row_id in result}


async def insert(
    session: AsyncSession, model: type[Base], rows: Sequence[Mapping[str, Any]]
) -> None:
    """Append ``rows`` (all with the same keys) in one statement; rows without an ``id``
    get a random one."""
    if not rows:
        return
    table, columns = _table(model), list(rows[0])
    new_id = ("id, ", "gen_random_uuid(), ") if "id" not in columns else ("", "")
    statement = f"""
        INSERT INTO {table.name} ({new_id[0]}{_names(columns)})
        SELECT {new_id[1]}{_names(columns, "r.")}
        FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r({_record_type(table, columns)})
    """  # noqa: S608  (identifiers from the ORM metadata)
    await session.execute(text(statement), {"rows": _rows_json(rows)})


async def mark_removed(
    session: AsyncSession,
    model: type[Base],
    *,
    scope: Mapping[str, uuid.UUID],
    seen: Iterable[str],
    now: dt.datetime,
    extra_condition: str = "",
    params: Mapping[str, Any] | None = None,
) -> int:
    """Stamp ``removed_at`` on the rows of ``scope`` (e.g. one app) Apple no longer lists."""
    table = _table(model)
    where = " AND ".join(f"{name} = :scope_{name}" for name in scope)
    statement = f"""
        UPDATE {table.name} SET removed_at = :now
        WHERE {where} AND removed_at IS NULL AND NOT (apple_id = ANY(CAST(:seen AS text[])))
        {extra_condition}
    """  # noqa: S608  (identifiers from the ORM metadata; the condition is a constant)
    values: dict[str, Any] = {f"scope_{name}": value for name, value in scope.items()}
    values.update(params or {})
    result = await session.execute(text(statement), {**values, "now": now, "seen": list(seen)})
    return int(getattr(result, "rowcount", 0) or 0)


async def stored(
    session: AsyncSession,
    model: type[Base],
    *,
    scope: Mapping[str, uuid.UUID],
    columns: Sequence[str],
) -> dict[str, dict[str, Any]]:
    """What the previous run left for ``scope``: ``apple_id`` → ``id`` and ``columns``."""
    table = _table(model)
    where = " AND ".join(f"{name} = :scope_{name}" for name in scope)
    statement = f"SELECT apple_id, id, {_names(columns)} FROM {table.name} WHERE {where}"  # noqa: S608
    result = await session.execute(
        text(statement), {f"scope_{name}": value for name, value in scope.items()}
    )
    return {str(row["apple_id"]): dict(row) for row in result.mappings()}

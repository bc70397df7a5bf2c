"""SQL for the events feed."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import BigInteger, ColumnElement, literal_column, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import CatalogEvent


async def list_events(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    *,
    types: list[str] | None,
    account_id: uuid.UUID | None,
    app_id: uuid.UUID | None,
    since: dt.datetime | None,
    after: tuple[int, int] | None,
    limit: int,
) -> list[CatalogEvent]:
    """Events in feed order. Only transactions older than every running one are read: an
    event whose transaction started earlier but commits later can then never land behind a
    cursor a reader already holds (events appear once such transactions end)."""
    horizon: ColumnElement[int] = literal_column(
        "(pg_snapshot_xmin(pg_current_snapshot()))::text::bigint", BigInteger
    )
    statement = select(CatalogEvent).where(
        CatalogEvent.workspace_id == workspace_id, CatalogEvent.txid < horizon
    )
    if types:
        statement = statement.where(CatalogEvent.type.in_(types))
    if account_id is not None:
        statement = statement.where(CatalogEvent.account_id == account_id)
    if app_id is not None:
        statement = statement.where(CatalogEvent.app_id == app_id)
    if since is not None:
        statement = statement.where(CatalogEvent.observed_at >= since)
    if after is not None:
        statement = statement.where(tuple_(CatalogEvent.txid, CatalogEvent.seq) > tuple_(*after))
    statement = statement.order_by(CatalogEvent.txid, CatalogEvent.seq).limit(limit)
    return list(await session.scalars(statement))

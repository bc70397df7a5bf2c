"""SQL of the pre-order rows listing. Every query is scoped to one workspace."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import and_, exists, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import App, PreOrderRow


async def list_pre_orders(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    *,
    start: dt.date | None,
    end: dt.date | None,
    account_ids: list[uuid.UUID],
    app_ids: list[uuid.UUID],
    countries: list[str],
    after: tuple[dt.date, int] | None,
    limit: int,
) -> list[PreOrderRow]:
    """Rows in (report_date, id) order. ``app_ids`` match rows of the app's Apple ID in the
    app's account (an app of another workspace matches nothing)."""
    statement = select(PreOrderRow).where(PreOrderRow.workspace_id == workspace_id)
    if start is not None:
        statement = statement.where(PreOrderRow.report_date >= start)
    if end is not None:
        statement = statement.where(PreOrderRow.report_date <= end)
    if account_ids:
        statement = statement.where(PreOrderRow.account_id.in_(account_ids))
    if countries:
        statement = statement.where(PreOrderRow.country_code.in_(countries))
    if app_ids:
        statement = statement.where(
            exists().where(
                and_(
                    App.workspace_id == workspace_id,
                    App.id.in_(app_ids),
                    App.account_id == PreOrderRow.account_id,
                    App.apple_id == PreOrderRow.apple_identifier,
                )
            )
        )
    if after is not None:
        position = tuple_(PreOrderRow.report_date, PreOrderRow.id)
        statement = statement.where(position > tuple_(*after))
    statement = statement.order_by(PreOrderRow.report_date, PreOrderRow.id).limit(limit)
    return list(await session.scalars(statement))

"""SQL of the offer-code redemption and win-back eligibility listings, scoped to a workspace."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import TypeVar

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import OfferCodeRedemptionRow, WinBackEligibilityRow
from app.subscriptions.schemas import RowFilter

R = TypeVar("R", OfferCodeRedemptionRow, WinBackEligibilityRow)


async def list_rows(
    session: AsyncSession,
    model: type[R],
    workspace_id: uuid.UUID,
    *,
    filters: RowFilter,
    start: dt.date | None,
    end: dt.date | None,
    after: tuple[dt.date, int] | None,
    limit: int,
) -> list[R]:
    """Rows of ``model``'s table in (report_date, id) order."""
    statement = select(model).where(model.workspace_id == workspace_id)
    if filters.account_id is not None:
        statement = statement.where(model.account_id == filters.account_id)
    if filters.app_apple_id is not None:
        statement = statement.where(model.app_apple_id == filters.app_apple_id)
    if start is not None:
        statement = statement.where(model.report_date >= start)
    if end is not None:
        statement = statement.where(model.report_date <= end)
    if after is not None:
        statement = statement.where(tuple_(model.report_date, model.id) > tuple_(*after))
    statement = statement.order_by(model.report_date, model.id).limit(limit)
    return list(await session.scalars(statement))

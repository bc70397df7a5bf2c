"""Listing the offer-code redemption and win-back eligibility rows Orchard stores (issue 13,
item 12): what Apple's SUBSCRIPTION_OFFER_CODE_REDEMPTION and WIN_BACK_ELIGIBILITY daily
reports said, line by line."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import ValidationFailed
from app.kit import cursors
from app.kit.money import number_text
from app.kit.pagination import Page, PageRequest
from app.models import OfferCodeRedemptionRow, WinBackEligibilityRow
from app.subscriptions import report_rows_repository
from app.subscriptions.report_rows_repository import R
from app.subscriptions.report_rows_schemas import (
    OfferCodeRedemptionRead,
    WinBackEligibilityRead,
)
from app.subscriptions.service import Scope

Read = TypeVar("Read", OfferCodeRedemptionRead, WinBackEligibilityRead)


def _checked(
    paging: PageRequest, start: dt.date | None, end: dt.date | None
) -> tuple[dt.date, int] | None:
    if start is not None and end is not None and start > end:
        raise ValidationFailed.single("query.from", "must not be after 'to'", "out_of_range")
    after = paging.after(cursors.day, cursors.integer)
    return (after[0], after[1]) if after is not None else None


async def _listed(
    session: AsyncSession,
    model: type[R],
    read: Callable[[R], Read],
    workspace_id: uuid.UUID,
    scope: Scope,
    start: dt.date | None,
    end: dt.date | None,
    paging: PageRequest,
) -> Page[Read]:
    """One page of a stored report's rows, in (report date, id) order."""
    after = _checked(paging, start, end)
    rows = await report_rows_repository.list_rows(
        session,
        model,
        workspace_id,
        filters=scope.filters,
        start=start,
        end=end,
        after=after,
        limit=paging.fetch,
    )
    return paging.page(rows, lambda r: [r.report_date.isoformat(), r.id], read)


async def offer_code_redemptions(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    scope: Scope,
    *,
    start: dt.date | None,
    end: dt.date | None,
    paging: PageRequest,
) -> Page[OfferCodeRedemptionRead]:
    return await _listed(
        session, OfferCodeRedemptionRow, _offer_code, workspace_id, scope, start, end, paging
    )


async def win_back_eligibility(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    scope: Scope,
    *,
    start: dt.date | None,
    end: dt.date | None,
    paging: PageRequest,
) -> Page[WinBackEligibilityRead]:
    return await _listed(
        session, WinBackEligibilityRow, _win_back, workspace_id, scope, start, end, paging
    )


def _offer_code(row: OfferCodeRedemptionRow) -> OfferCodeRedemptionRead:
    return OfferCodeRedemptionRead(
        id=row.id,
        account_id=row.account_id,
        report_date=row.report_date,
        event_date=row.event_date,
        app_name=row.app_name,
        app_apple_id=row.app_apple_id,
        subscription_name=row.subscription_name,
        subscription_apple_id=row.subscription_apple_id,
        offer_reference_name=row.offer_reference_name,
        offer_code=row.offer_code,
        territory=row.territory,
        redemptions=number_text(row.redemptions),
        extra=row.extra or {},
    )


def _win_back(row: WinBackEligibilityRow) -> WinBackEligibilityRead:
    return WinBackEligibilityRead(
        id=row.id,
        account_id=row.account_id,
        report_date=row.report_date,
        app_name=row.app_name,
        app_apple_id=row.app_apple_id,
        subscription_name=row.subscription_name,
        subscription_apple_id=row.subscription_apple_id,
        subscription_group_id=row.subscription_group_id,
        standard_duration=row.standard_duration,
        paid_tenure_months=number_text(row.paid_tenure_months),
        months_since_subscribed=number_text(row.months_since_subscribed),
        redeemed_win_back=row.redeemed_win_back,
        months_since_win_back=number_text(row.months_since_win_back),
        territory=row.territory,
        churned_count=number_text(row.churned_count),
        extra=row.extra or {},
    )

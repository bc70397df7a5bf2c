"""Listing the offer-code redemption and win-back eligibility rows Orchard stores (issue 13,
item 12): what Apple's SUBSCRIPTION_OFFER_CODE_REDEMPTION and WIN_BACK_ELIGIBILITY daily
reports said, line by line."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import ValidationFailed
from app.kit import cursors
from app.kit.pagination import Page, PageRequest
from app.models import OfferCodeRedemptionRow, WinBackEligibilityRow
from app.subscriptions import report_rows_repository
from app.subscriptions.report_rows_schemas import (
    OfferCodeRedemptionRead,
    WinBackEligibilityRead,
)
from app.subscriptions.service import Scope


def _number(value: Decimal | None) -> str | None:
    if value is None:
        return None
    text = str(value)
    return format(value, "f") if "E" in text else text


def _checked(
    paging: PageRequest, start: dt.date | None, end: dt.date | None
) -> tuple[dt.date, int] | None:
    if start is not None and end is not None and start > end:
        raise ValidationFailed.single("query.from", "must not be after 'to'", "out_of_range")
    after = paging.after(cursors.day, cursors.integer)
    return (after[0], after[1]) if after is not None else None


async def offer_code_redemptions(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    scope: Scope,
    *,
    start: dt.date | None,
    end: dt.date | None,
    paging: PageRequest,
) -> Page[OfferCodeRedemptionRead]:
    after = _checked(paging, start, end)
    rows = await report_rows_repository.list_rows(
        session,
        OfferCodeRedemptionRow,
        workspace_id,
        filters=scope.filters,
        start=start,
        end=end,
        after=after,
        limit=paging.fetch,
    )
    return paging.page(rows, lambda r: [r.report_date.isoformat(), r.id], _offer_code)


async def win_back_eligibility(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    scope: Scope,
    *,
    start: dt.date | None,
    end: dt.date | None,
    paging: PageRequest,
) -> Page[WinBackEligibilityRead]:
    after = _checked(paging, start, end)
    rows = await report_rows_repository.list_rows(
        session,
        WinBackEligibilityRow,
        workspace_id,
        filters=scope.filters,
        start=start,
        end=end,
        after=after,
        limit=paging.fetch,
    )
    return paging.page(rows, lambda r: [r.report_date.isoformat(), r.id], _win_back)


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
        redemptions=_number(row.redemptions),
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
        paid_tenure_months=_number(row.paid_tenure_months),
        months_since_subscribed=_number(row.months_since_subscribed),
        redeemed_win_back=row.redeemed_win_back,
        months_since_win_back=_number(row.months_since_win_back),
        territory=row.territory,
        churned_count=_number(row.churned_count),
        extra=row.extra or {},
    )

"""The Search Ads read API's rules: ranges, derived measures from sums (never averaged
averages), money per currency (never added across currencies), the app summary beside sales."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import NotFound, ValidationFailed
from app.fx import convert, kept
from app.fx.rates import RateBook
from app.kit import cursors
from app.kit.money import Money, money_entry
from app.kit.pagination import PageRequest
from app.models import SearchAdsAccount, SearchAdsCampaign, SearchAdsCredential
from app.searchads import read_repository
from app.searchads.schemas import (
    AppSearchAdsSummary,
    CampaignRead,
)

MAX_RANGE_DAYS = 400
CENT = Decimal("0.01")
RATE = Decimal("0.0001")


def check_range(start: dt.date, end: dt.date) -> None:
    if start > end:
        raise ValidationFailed.single("query.from", "must not be after 'to'", "out_of_range")
    if (end - start).days + 1 > MAX_RANGE_DAYS:
        raise ValidationFailed.single(
            "query.to", f"the range may span at most {MAX_RANGE_DAYS} days", "out_of_range"
        )


def ratio(numerator: Decimal | int, denominator: int) -> Decimal | None:
    if not denominator:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(RATE, rounding=ROUND_HALF_UP)


def per(spend: Decimal, count: int, currency: str) -> Money | None:
    if not count:
        return None
    # Rounded once, to the currency's minor units (Money's one rule).
    return Money.of(spend / count, currency)


async def app_summary(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    app_id: uuid.UUID,
    start: dt.date,
    end: dt.date,
    *,
    currency: str | None = None,
    default_currency: str | None,
    max_rate_age_days: int = 7,
) -> AppSearchAdsSummary:
    check_range(start, end)
    target = convert.target_currency(currency, default_currency)
    # The app (404 outside the workspace) with the days not fetched yet and the span's rates
    # (a kept book: only their version while it is current), read together.
    read = kept.book_read(
        workspace_id, target=target, start=start, end=end, max_age_days=max_rate_age_days
    )
    found = await read_repository.app_missing_days(
        session, workspace_id, app_id, "campaign", start, end, read.also
    )
    if found is None or not found[1].isdigit():
        raise NotFound(f"no app with id {app_id}")
    rates, apple_id, missing = found
    adam_id = int(apple_id)
    sums = await read_repository.app_spend_and_proceeds(
        session, workspace_id, adam_id, app_id, start, end, by_day=target is not None
    )
    spend_rows, proceeds = sums.spend, sums.proceeds
    spend = {r["currency"]: r["spend"] or Decimal(0) for r in spend_rows}
    installs = sum(int(r["installs"]) for r in spend_rows)
    ratios = []
    for code, total in proceeds:
        if spend.get(code):
            value = (Decimal(total) / spend[code]).quantize(RATE, rounding=ROUND_HALF_UP)
            ratios.append({"currency": code, "ratio": format(value, "f")})
    document: dict[str, Any] = {
        "currency": target,
        "app_id": app_id,
        "adam_id": adam_id,
        "date_from": start,
        "date_to": end,
        "spend": [m for c, v in spend.items() if (m := money_entry(v, c)) is not None],
        "installs": installs,
        "tap_installs": sum(int(r["tap_installs"]) for r in spend_rows),
        "view_installs": sum(int(r["view_installs"]) for r in spend_rows),
        "cpa": [
            money
            for r in spend_rows
            if (money := per(r["spend"] or Decimal(0), int(r["installs"]), r["currency"]))
        ],
        "proceeds": [m for c, v in proceeds if (m := money_entry(Decimal(v), c)) is not None],
        "proceeds_per_ad_spend": ratios,
        "incomplete_dates": missing,
    }
    book = read.book(rates)
    if book is not None:
        _convert_summary(document, book, sums)
    return AppSearchAdsSummary.model_validate(document)


def _convert_summary(
    document: dict[str, Any], book: RateBook, sums: read_repository.SpendAndProceeds
) -> None:
    """Spend and proceeds converted day by day (ad days: the ad account's zone; proceeds:
    Apple's Pacific report days), their totals, and the ratio of the two converted totals
    when both converted whole."""
    spend = [(d, c, Decimal(a)) for d, c, a in sums.spend_days]
    proceeds = [(d, c, Decimal(a)) for d, c, a in sums.proceeds_days]
    document["spend_total_converted"] = convert.convert_measure(book, document["spend"], spend)
    document["proceeds_total_converted"] = convert.convert_measure(
        book, document["proceeds"], proceeds
    )
    spent, spend_complete = convert.exact_sum(book, spend)
    earned, proceeds_complete = convert.exact_sum(book, proceeds)
    quotient = None
    if spend_complete and proceeds_complete and spent:
        quotient = format((earned / spent).quantize(RATE, rounding=ROUND_HALF_UP), "f")
    document["proceeds_per_ad_spend_converted"] = quotient


async def campaigns(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    paging: PageRequest,
    status: str | None,
) -> tuple[list[CampaignRead], str | None]:
    after = paging.after(cursors.integer, cursors.integer)
    query = (
        select(SearchAdsCampaign, SearchAdsAccount)
        .join(SearchAdsAccount, SearchAdsAccount.id == SearchAdsCampaign.account_id)
        .join(SearchAdsCredential, SearchAdsCredential.id == SearchAdsAccount.credential_id)
        .where(
            SearchAdsCampaign.workspace_id == workspace_id,
            SearchAdsCredential.unlinked_at.is_(None),
        )
    )
    if status is not None:
        query = query.where(SearchAdsCampaign.status == status)
    if after is not None:
        query = query.where(
            (SearchAdsAccount.ad_account_id > after[0])
            | (
                (SearchAdsAccount.ad_account_id == after[0])
                & (SearchAdsCampaign.campaign_id > after[1])
            )
        )
    query = query.order_by(SearchAdsAccount.ad_account_id, SearchAdsCampaign.campaign_id).limit(
        paging.fetch
    )
    rows = list((await session.execute(query)).all())
    chosen, next_cursor = paging.split(rows, lambda r: [r[1].ad_account_id, r[0].campaign_id])
    return [
        CampaignRead(
            credential_id=account.credential_id,
            ad_account_id=account.ad_account_id,
            campaign_id=campaign.campaign_id,
            name=campaign.name,
            adam_id=campaign.adam_id,
            app_id=campaign.app_id,
            status=campaign.status,
            display_status=campaign.display_status,
            serving_status=campaign.serving_status,
            daily_budget=None
            if campaign.daily_budget is None
            else Money.of(campaign.daily_budget, campaign.currency),
            countries=list(campaign.countries or []),
            start_time=campaign.start_time,
            end_time=campaign.end_time,
            deleted=campaign.deleted,
        )
        for campaign, account in chosen
    ], next_cursor

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
from app.kit import cursors
from app.kit.money import Money
from app.kit.pagination import PageRequest, decode_cursor, encode_cursor
from app.models import App, SearchAdsAccount, SearchAdsCampaign, SearchAdsCredential
from app.searchads import read_repository
from app.searchads.schemas import (
    AppSearchAdsSummary,
    CampaignRead,
    PerformanceRow,
    SearchAdsPerformanceReport,
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


def amount(value: Decimal) -> str:
    """Spend as Apple wrote it: two decimals, more only when Apple sent more."""
    fixed = value.quantize(CENT, rounding=ROUND_HALF_UP)
    return format(fixed if fixed == value else value.normalize(), "f")


def _ratio(numerator: Decimal | int, denominator: int) -> Decimal | None:
    if not denominator:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(RATE, rounding=ROUND_HALF_UP)


def _per(spend: Decimal, count: int, currency: str) -> Money | None:
    if not count:
        return None
    # Rounded once, to the currency's minor units (Money's one rule).
    return Money.of(spend / count, currency)


def measures(row: dict[str, Any]) -> dict[str, Any]:
    spend: Decimal = row["spend"] or Decimal(0)
    currency: str = row["currency"]
    taps, installs, impressions = int(row["taps"]), int(row["installs"]), int(row["impressions"])
    return {
        "currency": currency,
        "spend": Money(amount=amount(spend), currency=currency),
        "impressions": impressions,
        "taps": taps,
        "tap_installs": int(row["tap_installs"]),
        "view_installs": int(row["view_installs"]),
        "installs": installs,
        "new_downloads": int(row["new_downloads"]),
        "redownloads": int(row["redownloads"]),
        "ttr": _ratio(taps, impressions),
        "conversion_rate": _ratio(installs, taps),
        "cpt": _per(spend, taps, currency),
        "cpa": _per(spend, installs, currency),
    }


async def performance(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    *,
    start: dt.date,
    end: dt.date,
    granularity: str,
    group_by: list[str],
    ad_account_ids: list[int] | None,
    campaign_ids: list[int] | None,
    app_ids: list[uuid.UUID] | None,
    paging: PageRequest,
) -> SearchAdsPerformanceReport:
    check_range(start, end)
    offset = 0
    if paging.cursor is not None:
        (offset,) = decode_cursor(paging.cursor, 1)
        if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
            raise ValidationFailed.single("query.cursor", "not a cursor of this list", "cursor")
    rows = await read_repository.performance(
        session,
        workspace_id,
        start=start,
        end=end,
        granularity=granularity,
        group_by=group_by,
        ad_account_ids=ad_account_ids,
        campaign_ids=campaign_ids,
        app_ids=app_ids,
        offset=offset,
        limit=paging.fetch,
    )
    next_cursor = None
    if len(rows) > paging.limit:
        rows = rows[: paging.limit]
        next_cursor = encode_cursor([offset + paging.limit])
    dimension_keys = (
        "ad_account_id",
        "campaign_id",
        "campaign_name",
        "ad_group_id",
        "keyword_id",
        "keyword",
        "search_term",
        "adam_id",
        "app_id",
        "country",
    )
    items = [
        PerformanceRow(
            period_start=row["period_start"],
            **{k: row[k] for k in dimension_keys if k in row},
            **measures(row),
        )
        for row in rows
    ]
    level = read_repository.level_for(group_by)
    missing = await read_repository.missing_days(
        session, workspace_id, level, start, end, ad_account_ids
    )
    return SearchAdsPerformanceReport(
        items=items, next_cursor=next_cursor, incomplete_dates=missing
    )


async def app_summary(
    session: AsyncSession, workspace_id: uuid.UUID, app_id: uuid.UUID, start: dt.date, end: dt.date
) -> AppSearchAdsSummary:
    check_range(start, end)
    app = (
        await session.scalars(select(App).where(App.id == app_id, App.workspace_id == workspace_id))
    ).one_or_none()
    if app is None or not app.apple_id.isdigit():
        raise NotFound(f"no app with id {app_id}")
    adam_id = int(app.apple_id)
    spend_rows = await read_repository.app_spend(session, workspace_id, adam_id, start, end)
    proceeds = await read_repository.app_proceeds(session, workspace_id, app_id, start, end)
    spend = {r["currency"]: r["spend"] or Decimal(0) for r in spend_rows}
    installs = sum(int(r["installs"]) for r in spend_rows)
    ratios = []
    for currency, total in proceeds:
        if spend.get(currency):
            ratio = (Decimal(total) / spend[currency]).quantize(RATE, rounding=ROUND_HALF_UP)
            ratios.append({"currency": currency, "ratio": format(ratio, "f")})
    return AppSearchAdsSummary(
        app_id=app_id,
        adam_id=adam_id,
        date_from=start,
        date_to=end,
        spend=[Money(amount=amount(v), currency=c) for c, v in spend.items()],
        installs=installs,
        tap_installs=sum(int(r["tap_installs"]) for r in spend_rows),
        view_installs=sum(int(r["view_installs"]) for r in spend_rows),
        cpa=[
            money
            for r in spend_rows
            if (money := _per(r["spend"] or Decimal(0), int(r["installs"]), r["currency"]))
        ],
        proceeds=[m for c, v in proceeds if (m := Money.of(Decimal(v), c)) is not None],
        proceeds_per_ad_spend=ratios,
        incomplete_dates=await read_repository.missing_days(
            session, workspace_id, "campaign", start, end
        ),
    )


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
            else Money(amount=amount(campaign.daily_budget), currency=campaign.currency),
            countries=list(campaign.countries or []),
            start_time=campaign.start_time,
            end_time=campaign.end_time,
            deleted=campaign.deleted,
        )
        for campaign, account in chosen
    ], next_cursor

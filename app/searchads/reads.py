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
from app.fx import convert
from app.kit import cursors
from app.kit.money import Money
from app.kit.pagination import Kind as cursors_kind
from app.kit.pagination import PageRequest
from app.models import App, SearchAdsAccount, SearchAdsCampaign, SearchAdsCredential
from app.searchads import read_repository
from app.searchads.schemas import (
    AppSearchAdsSummary,
    CampaignRead,
)

#: A response document exactly as the API sends it, shaped like its pydantic schema (which
#: documents it): a converted page holds thousands of money objects, each with its rates, and
#: validating them into models again cost more than the conversion. The tests validate every
#: response against the schema.
Payload = dict[str, Any]

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
    value = (spend / count).quantize(CENT, rounding=ROUND_HALF_UP)
    return Money(amount=format(value, "f"), currency=currency)


def measures(row: dict[str, Any]) -> dict[str, Any]:
    spend: Decimal = row["spend"] or Decimal(0)
    currency: str = row["currency"]
    taps, installs, impressions = int(row["taps"]), int(row["installs"]), int(row["impressions"])
    return {
        "currency": currency,
        "spend": {"amount": amount(spend), "currency": currency},
        "impressions": impressions,
        "taps": taps,
        "tap_installs": int(row["tap_installs"]),
        "view_installs": int(row["view_installs"]),
        "installs": installs,
        "new_downloads": int(row["new_downloads"]),
        "redownloads": int(row["redownloads"]),
        "ttr": _ratio(taps, impressions),
        "conversion_rate": _ratio(installs, taps),
        "cpt": _per_dict(spend, taps, currency),
        "cpa": _per_dict(spend, installs, currency),
    }


def _per_dict(spend: Decimal, count: int, currency: str) -> dict[str, Any] | None:
    money = _per(spend, count, currency)
    return None if money is None else money.model_dump()


def _converted_measures(
    book: convert.RateBook, document: dict[str, Any], daily: list[convert.Triple]
) -> None:
    """Convert a row's money in place: `spend` gains `converted` (each report date at its
    own rate, then summed), the row gains `spend_total_converted` (with what had no rate),
    and `cpt`/`cpa` gain `converted` from the exact converted spend ÷ the summed counts
    when the whole spend converted."""
    document["spend_total_converted"] = convert.convert_measure(book, [document["spend"]], daily)
    exact, complete = convert.exact_sum(book, daily)
    spent = document["spend"]["converted"]
    for name, count in (("cpt", document["taps"]), ("cpa", document["installs"])):
        per = document[name]
        if per is not None:
            per["converted"] = None
            if spent is not None and complete:
                per["converted"] = {**spent, "amount": book.present(exact / count)}


def _row_daily(row: dict[str, Any], granularity: str) -> list[convert.Triple]:
    if "days" in row:
        currency = row["currency"]
        pairs = zip(row["days"], row["day_spend"], strict=True)
        return [(day, currency, spend) for day, spend in pairs]
    assert granularity == "day"
    return [(row["period_start"], row["currency"], row["spend"] or Decimal(0))]


_DIMENSION_KEYS = (
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


def _parser(kind: str) -> cursors_kind:
    if kind == "int":
        return cursors.integer
    if kind == "text":
        return cursors.TEXT
    if kind == "uuid":
        return cursors.UUID
    return cursors.day


def _shape(granularity: str, group_by: list[str]) -> str:
    """What a cursor was made for: a cursor of another query is refused, not misread."""
    return f"search-ads:{granularity}:{','.join(group_by)}"


def _after(paging: PageRequest, granularity: str, group_by: list[str]) -> list[Any] | None:
    shape = _shape(granularity, group_by)

    def same_shape(value: Any) -> str:
        if value != shape:
            raise ValueError("a cursor of another query")
        return shape

    kinds: list[cursors_kind] = [same_shape]
    for key in read_repository.keyset(group_by):
        kinds += [cursors.boolean, _parser(key.kind)]
    after = paging.after(*kinds)
    return None if after is None else list(after[1:])


def _position(row: dict[str, Any], granularity: str, group_by: list[str]) -> list[Any]:
    out: list[Any] = [_shape(granularity, group_by)]
    for key in read_repository.keyset(group_by):
        value = row[key.alias]
        out.append(value is not None)
        if value is None:
            value = _SENTINELS[key.kind]
        out.append(value if isinstance(value, int | str) else str(value))
    return out


_SENTINELS: dict[str, Any] = {
    "int": 0,
    "text": "",
    "uuid": "00000000-0000-0000-0000-000000000000",
    "date": "1970-01-01",
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
    currency: str | None = None,
    max_rate_age_days: int = 7,
) -> Payload:
    """The `SearchAdsPerformanceReport` document as plain data (see ``Payload``)."""
    check_range(start, end)
    after = _after(paging, granularity, group_by)
    target = await convert.resolve_target(session, workspace_id, currency)
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
        after=after,
        limit=paging.fetch,
        by_day=target is not None and granularity != "day",
    )
    rows, next_cursor = paging.split(rows, lambda r: _position(r, granularity, group_by))
    book = None
    if target is not None:
        book = await convert.book_for(
            session,
            workspace_id,
            target=target,
            currencies={r["currency"] for r in rows},
            start=start,
            end=end,
            max_age_days=max_rate_age_days,
        )
    items = []
    for row in rows:
        document = {
            "period_start": row["period_start"],
            **{k: row.get(k) for k in _DIMENSION_KEYS},
            **measures(row),
        }
        if book is not None:
            _converted_measures(book, document, _row_daily(row, granularity))
        items.append(document)
    level = read_repository.level_for(group_by)
    missing = await read_repository.missing_days(
        session, workspace_id, level, start, end, ad_account_ids
    )
    return {
        "currency": target,
        "items": items,
        "next_cursor": next_cursor,
        "incomplete_dates": missing,
    }


async def app_summary(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    app_id: uuid.UUID,
    start: dt.date,
    end: dt.date,
    *,
    currency: str | None = None,
    max_rate_age_days: int = 7,
) -> AppSearchAdsSummary:
    check_range(start, end)
    app = (
        await session.scalars(select(App).where(App.id == app_id, App.workspace_id == workspace_id))
    ).one_or_none()
    if app is None or not app.apple_id.isdigit():
        raise NotFound(f"no app with id {app_id}")
    target = await convert.resolve_target(session, workspace_id, currency)
    adam_id = int(app.apple_id)
    spend_rows = await read_repository.app_spend(session, workspace_id, adam_id, start, end)
    proceeds = await read_repository.app_proceeds(session, workspace_id, app_id, start, end)
    spend = {r["currency"]: r["spend"] or Decimal(0) for r in spend_rows}
    installs = sum(int(r["installs"]) for r in spend_rows)
    ratios = []
    for code, total in proceeds:
        if spend.get(code):
            ratio = (Decimal(total) / spend[code]).quantize(RATE, rounding=ROUND_HALF_UP)
            ratios.append({"currency": code, "ratio": format(ratio, "f")})
    document: dict[str, Any] = {
        "currency": target,
        "app_id": app_id,
        "adam_id": adam_id,
        "date_from": start,
        "date_to": end,
        "spend": [{"amount": amount(v), "currency": c} for c, v in spend.items()],
        "installs": installs,
        "tap_installs": sum(int(r["tap_installs"]) for r in spend_rows),
        "view_installs": sum(int(r["view_installs"]) for r in spend_rows),
        "cpa": [
            money
            for r in spend_rows
            if (money := _per(r["spend"] or Decimal(0), int(r["installs"]), r["currency"]))
        ],
        "proceeds": [{"amount": amount(Decimal(v)), "currency": c} for c, v in proceeds],
        "proceeds_per_ad_spend": ratios,
        "incomplete_dates": await read_repository.missing_days(
            session, workspace_id, "campaign", start, end
        ),
    }
    if target is not None:
        await _convert_summary(
            session, workspace_id, document, target, adam_id, app_id, start, end, max_rate_age_days
        )
    return AppSearchAdsSummary.model_validate(document)


async def _convert_summary(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    document: dict[str, Any],
    target: str,
    adam_id: int,
    app_id: uuid.UUID,
    start: dt.date,
    end: dt.date,
    max_rate_age_days: int,
) -> None:
    """Spend and proceeds converted day by day (ad days: the ad account's zone; proceeds:
    Apple's Pacific report days), their totals, and the ratio of the two converted totals
    when both converted whole."""
    spend_days = await read_repository.app_daily_money(session, workspace_id, adam_id, start, end)
    proceeds_days = await read_repository.app_daily_proceeds(
        session, workspace_id, app_id, start, end
    )
    book = await convert.book_for(
        session,
        workspace_id,
        target=target,
        currencies={c for _, c, _ in spend_days + proceeds_days},
        start=start,
        end=end,
        max_age_days=max_rate_age_days,
    )
    spend = [(d, c, Decimal(a)) for d, c, a in spend_days]
    proceeds = [(d, c, Decimal(a)) for d, c, a in proceeds_days]
    document["spend_total_converted"] = convert.convert_measure(book, document["spend"], spend)
    document["proceeds_total_converted"] = convert.convert_measure(
        book, document["proceeds"], proceeds
    )
    spent, spend_complete = convert.exact_sum(book, spend)
    earned, proceeds_complete = convert.exact_sum(book, proceeds)
    ratio = None
    if spend_complete and proceeds_complete and spent:
        ratio = format((earned / spent).quantize(RATE, rounding=ROUND_HALF_UP), "f")
    document["proceeds_per_ad_spend_converted"] = ratio


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

"""Lenient parsing of Apple Ads answers into canonical rows (FACTS §9 "Parse leniently": ids
int or string, missing metrics = 0, group-by values in ``metadata`` or in the bucket, money
amounts as strings → Decimal)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

Level = Literal["campaign", "ad_group", "keyword", "search_term"]

#: Additive counts kept per row, by their v1 metric name (FACTS §9 metric list).
COUNT_METRICS = (
    "impressions",
    "taps",
    "tapInstalls",
    "viewInstalls",
    "totalInstalls",
    "tapNewDownloads",
    "tapRedownloads",
    "viewNewDownloads",
    "viewRedownloads",
    "totalNewDownloads",
    "totalRedownloads",
)


def as_int(value: Any) -> int | None:
    """An id or count sent as a number or a string (None when absent or not a number)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


def money(value: Any) -> tuple[Decimal, str | None] | None:
    """``{"amount": "1.50", "currency": "EUR"}`` (or a bare number) → (Decimal, currency)."""
    if isinstance(value, dict):
        if "value" in value and isinstance(value["value"], dict):  # v1 dailyBudget{value: Money}
            return money(value["value"])
        amount, currency = value.get("amount"), value.get("currency")
    else:
        amount, currency = value, None
    if amount is None or isinstance(amount, bool):
        return None
    try:
        parsed = Decimal(str(amount))
    except InvalidOperation:
        return None
    if not parsed.is_finite():
        return None
    return parsed, currency if isinstance(currency, str) else None


def timestamp(value: Any) -> dt.datetime | None:
    """``2024-04-08T10:33:31.650`` (no zone; UTC in v1, FACTS §9) → aware UTC datetime."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


@dataclass(frozen=True)
class AdAccountInfo:
    ad_account_id: int
    name: str
    org_id: int | None
    roles: tuple[str, ...]
    currency: str | None = None
    time_zone: str | None = None
    product_features: tuple[str, ...] = ()


@dataclass(frozen=True)
class CampaignInfo:
    campaign_id: int
    name: str
    adam_id: int | None
    promoted_type: str | None
    status: str | None
    display_status: str | None
    serving_status: str | None
    daily_budget: Decimal | None
    currency: str | None
    countries: tuple[str, ...]
    start_time: dt.datetime | None
    end_time: dt.datetime | None
    deleted: bool
    raw_modified: dt.datetime | None


@dataclass(frozen=True)
class AdGroupInfo:
    ad_group_id: int
    campaign_id: int
    name: str
    status: str | None
    display_status: str | None
    pricing_model: str | None
    default_bid: Decimal | None
    deleted: bool


@dataclass
class ReportLine:
    """One (entity, country, day) of a daily report, metrics in v1 names."""

    level: Level
    report_date: dt.date
    campaign_id: int
    ad_group_id: int
    keyword_id: int
    country: str
    adam_id: int | None
    name: str | None
    search_term: str = ""
    spend: Decimal = Decimal(0)
    currency: str | None = None
    counts: dict[str, int] = field(default_factory=dict)


def acl_accounts(body: Any) -> list[AdAccountInfo]:
    """``GET /v1/acls`` → ``{"result": {"acls": [{"adAccount": {id, name, orgId}, "roles"}]}}``."""
    result = body.get("result") if isinstance(body, dict) else None
    acls = result.get("acls") if isinstance(result, dict) else result
    if isinstance(acls, dict):
        acls = [acls]
    accounts = []
    for item in acls if isinstance(acls, list) else []:
        if not isinstance(item, dict):
            continue
        nested = item.get("adAccount")
        account: dict[str, Any] = nested if isinstance(nested, dict) else item
        ad_account_id = as_int(account.get("id"))
        if ad_account_id is None:
            continue
        roles = item.get("roles") or []
        accounts.append(
            AdAccountInfo(
                ad_account_id=ad_account_id,
                name=str(account.get("name") or ad_account_id),
                org_id=as_int(account.get("orgId")),
                roles=tuple(str(r) for r in roles if isinstance(r, str)),
            )
        )
    return accounts


def ad_account_details(info: AdAccountInfo, body: Any) -> AdAccountInfo:
    """Merge ``GET /v1/ad-accounts/{id}`` (``timezone`` lower-case z, ``currency``, …)."""
    record = body.get("result") if isinstance(body, dict) else None
    if not isinstance(record, dict):
        return info
    features = record.get("productFeatures") or []
    zone = record.get("timezone") or record.get("timeZone")
    return AdAccountInfo(
        ad_account_id=info.ad_account_id,
        name=str(record.get("name") or info.name),
        org_id=as_int(record.get("orgId")) or info.org_id,
        roles=info.roles,
        currency=record.get("currency") if isinstance(record.get("currency"), str) else None,
        time_zone=zone if isinstance(zone, str) else None,
        product_features=tuple(str(f) for f in features if isinstance(f, str)),
    )


def campaign(record: dict[str, Any]) -> CampaignInfo | None:
    campaign_id = as_int(record.get("id"))
    if campaign_id is None:
        return None
    budget = money(record.get("dailyBudget") or record.get("dailyBudgetAmount"))
    targeting = record.get("targeting") if isinstance(record.get("targeting"), dict) else {}
    country = targeting.get("countryOrRegion") if isinstance(targeting, dict) else None
    countries = country.get("include") if isinstance(country, dict) else None
    if countries is None:
        countries = record.get("countriesOrRegions")
    promoted = record.get("promotedObjectType")
    adam = record.get("promotedObjectId", record.get("adamId"))
    return CampaignInfo(
        campaign_id=campaign_id,
        name=str(record.get("name") or campaign_id),
        adam_id=as_int(adam) if promoted in (None, "APPSTORE_APP") else None,
        promoted_type=promoted if isinstance(promoted, str) else None,
        status=_text(record.get("status")),
        display_status=_text(record.get("displayStatus")),
        serving_status=_text(record.get("systemStatus") or record.get("servingStatus")),
        daily_budget=budget[0] if budget else None,
        currency=budget[1] if budget else None,
        countries=tuple(str(c) for c in countries or [] if isinstance(c, str)),
        start_time=timestamp(record.get("startTime")),
        end_time=timestamp(record.get("endTime")),
        deleted=bool(record.get("deleted")),
        raw_modified=timestamp(record.get("modificationTime")),
    )


def ad_group(record: dict[str, Any]) -> AdGroupInfo | None:
    ad_group_id, campaign_id = as_int(record.get("id")), as_int(record.get("campaignId"))
    if ad_group_id is None or campaign_id is None:
        return None
    strategy = record.get("bidStrategy") if isinstance(record.get("bidStrategy"), dict) else {}
    bid = money((strategy or {}).get("bid") or record.get("defaultBidAmount"))
    return AdGroupInfo(
        ad_group_id=ad_group_id,
        campaign_id=campaign_id,
        name=str(record.get("name") or ad_group_id),
        status=_text(record.get("status")),
        display_status=_text(record.get("displayStatus")),
        pricing_model=_text(record.get("pricingModel")),
        default_bid=bid[0] if bid else None,
        deleted=bool(record.get("deleted")),
    )


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def report_lines(level: Level, row: dict[str, Any]) -> list[ReportLine]:
    """One v1 report row (``metadata``, ``granularMetrics[]``) → one line per day."""
    meta = row.get("metadata") if isinstance(row.get("metadata"), dict) else {}
    assert isinstance(meta, dict)
    campaign_id: int | None
    ad_group_id: int | None
    keyword_id: int | None
    if level == "campaign":
        campaign_id, ad_group_id, keyword_id = as_int(meta.get("id")), 0, 0
        name = meta.get("name")
    elif level == "ad_group":
        campaign_id, ad_group_id, keyword_id = (
            as_int(meta.get("campaignId")),
            as_int(meta.get("id")),
            0,
        )
        name = meta.get("name")
    elif level == "keyword":
        campaign_id, ad_group_id, keyword_id = (
            as_int(meta.get("campaignId")),
            as_int(meta.get("adGroupId")),
            as_int(meta.get("id")),
        )
        name = meta.get("text")
    else:  # search terms: the term, and the keyword that matched it (null for Search Match)
        keyword = meta.get("keyword") if isinstance(meta.get("keyword"), dict) else {}
        campaign_id, ad_group_id = as_int(meta.get("campaignId")), as_int(meta.get("adGroupId"))
        keyword_id = as_int((keyword or {}).get("id")) or 0
        name = (keyword or {}).get("text")
    if campaign_id is None or ad_group_id is None or keyword_id is None:
        return []
    adam_id = as_int(meta.get("promotedObjectId")) if level == "campaign" else None
    lines = []
    for bucket in row.get("granularMetrics") or []:
        if not isinstance(bucket, dict):
            continue
        try:
            day = dt.date.fromisoformat(str(bucket.get("date"))[:10])
        except ValueError:
            continue
        country = meta.get("countryOrRegion") or bucket.get("countryOrRegion") or ""
        line = ReportLine(
            level,
            day,
            campaign_id,
            ad_group_id,
            keyword_id,
            str(country),
            adam_id,
            name if isinstance(name, str) else None,
        )
        if level == "search_term":
            term = meta.get("searchTermText")
            line.search_term = term[:255] if isinstance(term, str) else ""
        spend = money(bucket.get("localSpend"))
        if spend is not None:
            line.spend, line.currency = spend
        line.counts = {m: as_int(bucket.get(m)) or 0 for m in COUNT_METRICS}
        lines.append(line)
    return lines


# --- Campaign Management API v5 (FACTS §2, §3) ----------------------------------------------


def v5_acl_accounts(body: Any) -> list[AdAccountInfo]:
    """``GET /api/v5/acls``: ``data`` is an array per schema, one object in Apple's example."""
    data = body.get("data") if isinstance(body, dict) else None
    items = [data] if isinstance(data, dict) else data if isinstance(data, list) else []
    accounts = []
    for item in items:
        if not isinstance(item, dict) or as_int(item.get("orgId")) is None:
            continue
        org_id = as_int(item.get("orgId"))
        assert org_id is not None
        roles = item.get("roleNames") or []
        accounts.append(
            AdAccountInfo(
                ad_account_id=org_id,
                name=str(item.get("orgName") or item.get("displayName") or org_id),
                org_id=as_int(item.get("parentOrgId")),
                roles=tuple(str(r) for r in roles if isinstance(r, str)),
                currency=_text(item.get("currency")),
                time_zone=_text(item.get("timeZone")),
                product_features=("APPSTORE_APP_MANUAL",),  # v5 serves App Store orgs only
            )
        )
    return accounts


def v5_report_rows(body: Any) -> list[dict[str, Any]]:
    """Rows under ``data.reportingDataResponse.row`` (or ``data.row``, Apple's page examples)."""
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict):
        return []
    inner = data.get("reportingDataResponse")
    rows = (inner if isinstance(inner, dict) else data).get("row")
    return [r for r in rows or [] if isinstance(r, dict)]


def v5_report_lines(level: Level, row: dict[str, Any]) -> list[ReportLine]:
    meta = row.get("metadata") if isinstance(row.get("metadata"), dict) else {}
    assert isinstance(meta, dict)
    campaign_id = as_int(meta.get("campaignId"))
    ad_group_id = as_int(meta.get("adGroupId")) if level != "campaign" else 0
    if level == "keyword":
        keyword_id = as_int(meta.get("keywordId"))
    else:
        keyword_id = (as_int(meta.get("keywordId")) or 0) if level == "search_term" else 0
    if campaign_id is None or ad_group_id is None or keyword_id is None:
        return []
    app = meta.get("app") if isinstance(meta.get("app"), dict) else {}
    adam_id = as_int((app or {}).get("adamId")) if level == "campaign" else None
    name = meta.get("keyword") if level in ("keyword", "search_term") else None
    term = meta.get("searchTermText") if level == "search_term" else None
    lines = []
    for bucket in row.get("granularity") or []:
        if not isinstance(bucket, dict):
            continue
        try:
            day = dt.date.fromisoformat(str(bucket.get("date"))[:10])
        except ValueError:
            continue
        line = ReportLine(
            level,
            day,
            campaign_id,
            ad_group_id,
            keyword_id,
            str(meta.get("countryOrRegion") or ""),
            adam_id,
            name if isinstance(name, str) else None,
            term[:255] if isinstance(term, str) else "",
        )
        spend = money(bucket.get("localSpend"))
        if spend is not None:
            line.spend, line.currency = spend
        counts = {m: as_int(bucket.get(m)) or 0 for m in COUNT_METRICS}
        if "viewReDownloads" in bucket:  # Apple's examples' spelling (FACTS §3)
            counts["viewRedownloads"] = as_int(bucket.get("viewReDownloads")) or 0
        line.counts = counts
        lines.append(line)
    return lines

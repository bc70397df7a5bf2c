"""Row ``metadata`` of v5 reports per level (FACTS §3 "Campaign-report metadata", ad group,
keyword and search-term lists), bucket dates, and keyword ``insights``."""

from __future__ import annotations

from typing import Any

from app.sandbox.searchads.engine import Bucket, Level, ReportRow
from app.sandbox.searchads.entities import AdsAccount, Campaign
from app.sandbox.searchads.formats import minor_money
from app.sandbox.searchads.options import AdsOptions
from app.sandbox.searchads.v5_shapes import v5_time
from app.sandbox.searchads.world import AdsWorld


def bucket_fields(bucket: Bucket, granularity: str, options: AdsOptions) -> dict[str, Any]:
    """``date`` of a granularity item; HOURLY per option ``v5_hourly_date`` (FACTS §3:
    "date + hour 00–23 (exact string unconfirmed)")."""
    day, hour = bucket
    if granularity != "HOURLY" or hour is None:
        return {"date": day.isoformat()}
    if options.v5_hourly_date == "hour_field":
        return {"date": day.isoformat(), "hour": hour}
    return {"date": f"{day.isoformat()} {hour:02d}"}


def _budget(campaign: Campaign, options: AdsOptions) -> dict[str, Any]:
    """FACTS §3: ``dailyBudget`` Money; examples also show ``dailyBudgetAmount`` or a number."""
    money = minor_money(campaign.daily_budget_minor, campaign.account, options)
    if options.v5_report_budget == "amount_key":
        return {"dailyBudgetAmount": money}
    if options.v5_report_budget == "number":
        return {"dailyBudget": float(money["amount"])}
    return {"dailyBudget": money}


def campaign_metadata(c: Campaign, options: AdsOptions) -> dict[str, Any]:
    assert c.app is not None
    return {
        "campaignId": c.id,
        "campaignName": c.name,
        "campaignStatus": c.status,
        "app": {"appName": c.app.name, "adamId": c.app.adam_id},
        "adChannelType": c.ad_channel_type,
        "billingEvent": "TAPS",
        "supplySources": [c.supply_source],
        "countriesOrRegions": list(c.countries),
        "servingStatus": "RUNNING" if c.serving else "NOT_RUNNING",
        "servingStateReasons": c.serving_reasons or None,
        "countryOrRegionServingStateReasons": {},
        "displayStatus": c.display_status,
        "deleted": c.deleted,
        "modificationTime": v5_time(c.modified, c.account, options),
        "orgId": c.account.org_id,
        "totalBudget": None,
        **_budget(c, options),
    }


def _ad_group_metadata(world: AdsWorld, group_id: int, options: AdsOptions) -> dict[str, Any]:
    g = world.ad_groups[group_id]
    c = world.campaigns[g.campaign_id]
    account = c.account
    return {
        "adGroupId": g.id,
        "adGroupName": g.name,
        "adGroupStatus": g.status,
        "adGroupServingStatus": "RUNNING" if c.serving else "NOT_RUNNING",
        "adGroupDisplayStatus": "DELETED" if g.deleted else c.display_status,
        "adGroupServingStateReasons": c.serving_reasons or None,
        "campaignId": c.id,
        "orgId": account.org_id,
        "defaultBidAmount": minor_money(g.default_bid_minor, account, options),
        "cpaGoal": None
        if g.cpa_goal_minor is None
        else minor_money(g.cpa_goal_minor, account, options),
        "pricingModel": "CPC",
        "automatedKeywordsOptIn": g.automated_keywords,
        "startTime": v5_time(g.start, account, options),
        "endTime": None,
        "deleted": g.deleted,
        "modificationTime": v5_time(g.modified, account, options),
    }


def _keyword_metadata(world: AdsWorld, row: ReportRow, options: AdsOptions) -> dict[str, Any]:
    assert row.ad_group_id is not None
    group = world.ad_groups[row.ad_group_id]
    keyword = world.keywords.get(row.keyword_id or 0)
    account = world.campaigns[row.campaign_id].account
    return {
        "keywordId": keyword.id if keyword else None,
        "keyword": keyword.text if keyword else None,
        "matchType": keyword.match_type if keyword else None,
        "bidAmount": minor_money(keyword.bid_minor, account, options) if keyword else None,
        "keywordStatus": keyword.status if keyword else None,
        "keywordDisplayStatus": _keyword_display(keyword.status, keyword.deleted)
        if keyword
        else None,
        "adGroupId": group.id,
        "adGroupName": group.name,
        "adGroupDeleted": group.deleted,
        "campaignId": row.campaign_id,
        "deleted": keyword.deleted if keyword else False,
        "modificationTime": v5_time(keyword.modified, account, options) if keyword else None,
    }


def _keyword_display(status: str, deleted: bool) -> str:
    if deleted:
        return "DELETED"
    return "RUNNING" if status == "ACTIVE" else "PAUSED"


def metadata(world: AdsWorld, row: ReportRow, level: Level, options: AdsOptions) -> dict[str, Any]:
    if level == "campaign":
        meta = campaign_metadata(world.campaigns[row.campaign_id], options)
    elif level == "adgroup":
        assert row.ad_group_id is not None
        meta = _ad_group_metadata(world, row.ad_group_id, options)
    else:
        meta = _keyword_metadata(world, row, options)
    if level == "searchterm":
        meta["searchTermText"] = row.term.text if row.term else None
        meta["searchTermSource"] = row.term.source if row.term else None
    meta.update(row.dims)
    return meta


def insights(
    world: AdsWorld, keyword_id: int, account: AdsAccount, options: AdsOptions
) -> dict[str, Any]:
    bid = world.keywords[keyword_id].bid_minor
    return {
        "bidRecommendation": {
            "suggestedBidAmount": minor_money(bid * 6 // 5, account, options),
            "bidMin": minor_money(bid * 4 // 5, account, options),
            "bidMax": minor_money(bid * 8 // 5, account, options),
        }
    }

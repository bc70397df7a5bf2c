"""Campaign Management API v5 objects (FACTS §2 "Resources the sync needs").

Timestamps carry no zone (``2024-04-08T10:33:31.650``); whether they are UTC or the org's
time is the option ``v5_timestamp_zone``. ``budgetAmount`` is gone since 5.6 (FACTS §0) and
served only with ``v5_include_budget_amount``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from app.sandbox.searchads.credentials import ROLE_NAMES
from app.sandbox.searchads.entities import AdGroup, AdsAccount, Campaign, Keyword
from app.sandbox.searchads.formats import minor_money, timestamp
from app.sandbox.searchads.options import AdsOptions


def v5_time(moment: datetime | None, account: AdsAccount, options: AdsOptions) -> str | None:
    zone = account.zone if options.v5_timestamp_zone == "org" else UTC
    return timestamp(moment, zone)


def acl(account: AdsAccount, role: str) -> dict[str, Any]:
    return {
        "orgId": account.org_id,
        "orgName": account.name,
        "displayName": account.name,
        "currency": account.currency,
        "paymentModel": account.payment_model,
        "roleNames": [ROLE_NAMES[role][0]],
        "timeZone": account.time_zone,
        "parentOrgId": account.parent.org_id,
    }


def campaign(c: Campaign, options: AdsOptions) -> dict[str, Any]:
    account = c.account
    assert c.app is not None, "v5 serves App Store campaigns only"
    record: dict[str, Any] = {
        "id": c.id,
        "orgId": account.org_id,
        "name": c.name,
        "adamId": c.app.adam_id,
        "dailyBudgetAmount": minor_money(c.daily_budget_minor, account, options),
        "budgetOrders": [],
        "status": c.status,
        "servingStatus": "RUNNING" if c.serving else "NOT_RUNNING",
        "servingStateReasons": c.serving_reasons or None,
        "displayStatus": c.display_status,
        "countriesOrRegions": list(c.countries),
        "countryOrRegionServingStateReasons": {},
        "adChannelType": c.ad_channel_type,
        "supplySources": [c.supply_source],
        "billingEvent": "TAPS",
        "paymentModel": account.payment_model,
        "locInvoiceDetails": None,
        "startTime": v5_time(c.start, account, options),
        "endTime": v5_time(c.end, account, options),
        "creationTime": v5_time(c.created, account, options),
        "modificationTime": v5_time(c.modified, account, options),
        "deleted": c.deleted,
        "sapinLawResponse": "NA",
        "biddingStrategy": "MANUAL_CPT",
        "targetCpa": None,
    }
    if options.v5_include_budget_amount:
        record["budgetAmount"] = minor_money(c.daily_budget_minor * 30, account, options)
    return record


def ad_group(g: AdGroup, c: Campaign, options: AdsOptions) -> dict[str, Any]:
    account = c.account
    return {
        "id": g.id,
        "campaignId": c.id,
        "orgId": account.org_id,
        "name": g.name,
        "status": g.status,
        "servingStatus": "RUNNING" if c.serving and not g.deleted else "NOT_RUNNING",
        "displayStatus": "DELETED" if g.deleted else c.display_status,
        "servingStateReasons": c.serving_reasons or None,
        "defaultBidAmount": minor_money(g.default_bid_minor, account, options),
        "cpaGoal": None
        if g.cpa_goal_minor is None
        else minor_money(g.cpa_goal_minor, account, options),
        "pricingModel": "CPC",
        "automatedKeywordsOptIn": g.automated_keywords,
        "targetingDimensions": {"deviceClass": {"included": [["IPHONE", "IPAD"]]}},
        "startTime": v5_time(g.start, account, options),
        "endTime": None,
        "deleted": g.deleted,
        "modificationTime": v5_time(g.modified, account, options),
    }


def keyword(k: Keyword, account: AdsAccount, options: AdsOptions) -> dict[str, Any]:
    return {
        "id": k.id,
        "adGroupId": k.ad_group_id,
        "campaignId": k.campaign_id,
        "text": k.text,
        "matchType": k.match_type,
        "status": k.status,
        "bidAmount": minor_money(k.bid_minor, account, options),
        "deleted": k.deleted,
        "creationTime": v5_time(k.created, account, options),
        "modificationTime": v5_time(k.modified, account, options),
    }

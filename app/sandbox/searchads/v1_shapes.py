"""Platform API v1 objects (FACTS §9 "Entities", ``/acls``, ad accounts).

Ids are numbers or strings per option ``v1_id_type``; campaign, ad group and keyword ids equal
v5's unless ``v1_ids_match_v5`` is off, when they are shifted by :data:`V1_ID_OFFSET`.
"""

from __future__ import annotations

from typing import Any

from app.sandbox.searchads.credentials import ROLE_NAMES
from app.sandbox.searchads.entities import AdGroup, AdsAccount, Campaign, Keyword
from app.sandbox.searchads.formats import minor_money, timestamp
from app.sandbox.searchads.options import AdsOptions

V1_ID_OFFSET = 5_000_000_000


def plain_id(value: int, options: AdsOptions) -> int | str:
    return str(value) if options.v1_id_type == "string" else value


def entity_id(value: int, options: AdsOptions) -> int | str:
    """A campaign / ad group / keyword id as v1 shows it."""
    return plain_id(value if options.v1_ids_match_v5 else value + V1_ID_OFFSET, options)


def internal_id(raw: Any, options: AdsOptions) -> int | None:
    """The sandbox id behind a v1 entity id (None when it is not one)."""
    try:
        value = int(str(raw))
    except ValueError:
        return None
    return value if options.v1_ids_match_v5 else value - V1_ID_OFFSET


def org_id(account: AdsAccount, options: AdsOptions) -> int | str:
    """FACTS §9: the v1 ``orgId`` is the parent org, or (option) the v5 orgId."""
    value = account.parent.org_id if options.v1_org_id == "parent" else account.org_id
    return plain_id(value, options)


def ad_account(account: AdsAccount, options: AdsOptions) -> dict[str, Any]:
    app_store = account.product == "APPSTORE"
    return {
        "id": plain_id(account.ad_account_id, options),
        "name": account.name,
        "orgId": org_id(account, options),
        "timezone": account.time_zone,  # lower-case z (FACTS §9 [P-ADACC])
        "currency": account.currency,
        "paymentModel": account.payment_model,
        "systemStatus": "ACTIVE",
        "productFeatures": ["APPSTORE_APP_MANUAL"] if app_store else ["MAPS_MANUAL"],
    }


def acl(account: AdsAccount, role: str, options: AdsOptions) -> dict[str, Any]:
    return {
        "adAccount": {
            "id": plain_id(account.ad_account_id, options),
            "name": account.name,
            "orgId": org_id(account, options),
        },
        "roles": [ROLE_NAMES[role][1]],
    }


def campaign(c: Campaign, options: AdsOptions) -> dict[str, Any]:
    account = c.account
    promoted = str(c.app.adam_id) if c.app else str(account.ad_account_id + c.id % 1000)
    return {
        "id": entity_id(c.id, options),
        "adAccountId": plain_id(account.ad_account_id, options),
        "name": c.name,
        "promotedObjectType": "APPSTORE_APP" if c.app else "BUSINESS_BRAND",
        "promotedObjectId": promoted,
        "billingEvent": "TAPS",
        "paymentModel": account.payment_model,
        "status": c.status,
        "systemStatus": "RUNNING" if c.serving else "NOT_RUNNING",
        "systemStatusReasons": c.serving_reasons,
        "displayStatus": c.display_status,
        "dailyBudget": {"value": minor_money(c.daily_budget_minor, account, options)},
        "targeting": {
            "supplyPlacement": {"include": [c.supply_source]},
            "countryOrRegion": {"include": list(c.countries)},
        },
        "bidStrategy": {"type": "MANUAL_CPT"},
        "startTime": timestamp(c.start),
        "endTime": timestamp(c.end),
        "creationTime": timestamp(c.created),
        "modificationTime": timestamp(c.modified),
        "deleted": c.deleted,
    }


def ad_group(g: AdGroup, c: Campaign, options: AdsOptions) -> dict[str, Any]:
    account = c.account
    return {
        "id": entity_id(g.id, options),
        "campaignId": entity_id(c.id, options),
        "adAccountId": plain_id(account.ad_account_id, options),
        "name": g.name,
        "status": g.status,
        "systemStatus": "RUNNING" if c.serving and not g.deleted else "NOT_RUNNING",
        "displayStatus": "DELETED" if g.deleted else c.display_status,
        "pricingModel": "CPT",
        "bidStrategy": {"bid": minor_money(g.default_bid_minor, account, options)},
        "cpaGoal": None
        if g.cpa_goal_minor is None
        else minor_money(g.cpa_goal_minor, account, options),
        "automatedKeywordsOptIn": g.automated_keywords,
        "targeting": {"deviceClass": {"include": ["IPHONE", "IPAD"]}},
        "startTime": timestamp(g.start),
        "endTime": None,
        "creationTime": timestamp(g.created),
        "modificationTime": timestamp(g.modified),
        "deleted": g.deleted,
    }


def keyword(k: Keyword, account: AdsAccount, options: AdsOptions) -> dict[str, Any]:
    return {
        "id": entity_id(k.id, options),
        "adGroupId": entity_id(k.ad_group_id, options),
        "campaignId": entity_id(k.campaign_id, options),
        "text": k.text,
        "matchType": k.match_type,
        "status": "ENABLED" if k.status == "ACTIVE" else k.status,  # FACTS §9 table
        "bid": minor_money(k.bid_minor, account, options),
        "creationTime": timestamp(k.created),
        "modificationTime": timestamp(k.modified),
        "deleted": k.deleted,
    }

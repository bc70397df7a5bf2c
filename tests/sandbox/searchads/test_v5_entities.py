"""Campaign Management API v5 accounts and entities (FACTS §2)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from app.sandbox.searchads import AdsAccount, AdsOptions, AppleAdsState
from tests.sandbox.searchads.helpers import v5_error, v5_headers


async def _all_pages(
    client: httpx.AsyncClient, path: str, headers: dict[str, str], limit: int
) -> list[dict[str, Any]]:
    """FACTS §2: loop until ``offset >= totalResults``."""
    items: list[dict[str, Any]] = []
    offset = 0
    while True:
        body = (
            await client.get(path, headers=headers, params={"offset": offset, "limit": limit})
        ).json()
        items += body["data"]
        offset += limit
        if offset >= body["pagination"]["totalResults"]:
            return items


async def test_acls_and_me(
    ads_client: httpx.AsyncClient, ads_state: AppleAdsState, token: str, usd: AdsAccount
) -> None:
    body = (await ads_client.get("/api/v5/acls", headers=v5_headers(token))).json()
    assert body["pagination"] is None and body["error"] is None
    assert body["data"][0] == {
        "orgId": usd.org_id,
        "orgName": usd.name,
        "displayName": usd.name,
        "currency": "USD",
        "paymentModel": "PAYG",
        "roleNames": ["API Account Read Only"],
        "timeZone": "America/Los_Angeles",
        "parentOrgId": ads_state.org.org_id,
    }
    assert [a["currency"] for a in body["data"]] == ["USD", "EUR", "JPY"]  # no Maps in v5
    me = (await ads_client.get("/api/v5/me", headers=v5_headers(token))).json()["data"]
    assert set(me) == {"userId", "parentOrgId"}
    ads_state.options = AdsOptions(v5_acls_shape="object")  # Apple's example: one object
    single = (await ads_client.get("/api/v5/acls", headers=v5_headers(token))).json()["data"]
    assert single["orgId"] == usd.org_id


async def test_campaigns_page_with_limit_and_offset(
    ads_client: httpx.AsyncClient, ads_state: AppleAdsState, token: str, usd: AdsAccount
) -> None:
    headers = v5_headers(token, usd)
    items = await _all_pages(ads_client, "/api/v5/campaigns", headers, limit=2)
    live = [c.id for c in ads_state.truth.campaigns(usd) if not c.deleted]
    assert [c["id"] for c in items] == live
    default = (await ads_client.get("/api/v5/campaigns", headers=headers)).json()
    assert default["pagination"] == {
        "totalResults": len(live),
        "startIndex": 0,
        "itemsPerPage": len(live),
    }
    campaign = items[0]
    assert campaign["orgId"] == usd.org_id and isinstance(campaign["adamId"], int)
    assert campaign["dailyBudgetAmount"]["currency"] == "USD"
    assert "budgetAmount" not in campaign  # FACTS §0: removed in 5.6
    assert campaign["status"] in ("ENABLED", "PAUSED")
    assert {
        "servingStatus",
        "displayStatus",
        "countriesOrRegions",
        "supplySources",
        "adChannelType",
        "billingEvent",
        "deleted",
        "modificationTime",
    } <= set(campaign)


@pytest.mark.parametrize(("mode", "status", "size"), [("reject", 400, None), ("clamp", 200, 5)])
async def test_variant_limit_over_1000(
    ads_client: httpx.AsyncClient,
    ads_state: AppleAdsState,
    token: str,
    usd: AdsAccount,
    mode: str,
    status: int,
    size: int | None,
) -> None:
    ads_state.options = AdsOptions(v5_limit_over_max=mode)  # type: ignore[arg-type]
    response = await ads_client.get(
        "/api/v5/campaigns", headers=v5_headers(token, usd), params={"limit": 1001}
    )
    assert response.status_code == status
    if size is not None:
        assert len(response.json()["data"]) == size
    else:
        v5_error(response, 400, "INVALID_INPUT")


async def test_variant_items_per_page_requested(
    ads_client: httpx.AsyncClient, ads_state: AppleAdsState, token: str, usd: AdsAccount
) -> None:
    ads_state.options = AdsOptions(v5_items_per_page="requested")
    body = (
        await ads_client.get(
            "/api/v5/campaigns", headers=v5_headers(token, usd), params={"limit": 50}
        )
    ).json()
    assert body["pagination"]["itemsPerPage"] == 50


async def test_find_with_selector(
    ads_client: httpx.AsyncClient, ads_state: AppleAdsState, token: str, usd: AdsAccount
) -> None:
    headers = v5_headers(token, usd)
    found = await ads_client.post(
        "/api/v5/campaigns/find",
        headers=headers,
        json={
            "conditions": [{"field": "status", "operator": "EQUALS", "values": ["ENABLED"]}],
            "orderBy": [{"field": "name", "sortOrder": "DESCENDING"}],
            "pagination": {"offset": 0, "limit": 1000},
        },
    )
    names = [c["name"] for c in found.json()["data"]]
    assert names == sorted(names, reverse=True) and len(names) == 4
    deleted = await ads_client.post(
        "/api/v5/campaigns/find",
        headers=headers,
        json={"conditions": [{"field": "deleted", "operator": "EQUALS", "values": ["true"]}]},
    )
    assert [c["displayStatus"] for c in deleted.json()["data"]] == ["DELETED"]
    two_orders = {
        "orderBy": [
            {"field": "name", "sortOrder": "ASCENDING"},
            {"field": "id", "sortOrder": "ASCENDING"},
        ]
    }
    v5_error(await ads_client.post("/api/v5/campaigns/find", headers=headers, json=two_orders), 400)
    fields = await ads_client.post(
        "/api/v5/campaigns/find", headers=headers, json={"fields": ["id", "name"]}
    )
    assert all(set(c) == {"id", "name"} for c in fields.json()["data"])


async def test_ad_groups_and_targeting_keywords(
    ads_client: httpx.AsyncClient, ads_state: AppleAdsState, token: str, usd: AdsAccount
) -> None:
    headers = v5_headers(token, usd)
    world = ads_state.world
    campaign = world.campaign_ids[usd.org_id][0]
    base = f"/api/v5/campaigns/{campaign}"
    groups = (await ads_client.get(base + "/adgroups", headers=headers)).json()
    group_ids = [g["id"] for g in groups["data"]]
    assert group_ids == world.ad_group_ids[campaign]
    assert groups["data"][0]["defaultBidAmount"]["currency"] == "USD"
    keywords = await _all_pages(
        ads_client, f"{base}/adgroups/{group_ids[0]}/targetingkeywords", headers, limit=1
    )
    expected = [k for k in world.ad_group_keywords(group_ids[0]) if not k.deleted]
    assert [k["text"] for k in keywords] == [k.text for k in expected]
    assert {k["status"] for k in keywords} <= {"ACTIVE", "PAUSED"} and "bidAmount" in keywords[0]
    found = await ads_client.post(
        base + "/adgroups/targetingkeywords/find",
        headers=headers,
        json={"conditions": [{"field": "matchType", "operator": "EQUALS", "values": ["BROAD"]}]},
    )
    assert {k["adGroupId"] for k in found.json()["data"]} == {group_ids[1]}
    one = await ads_client.get(
        f"{base}/adgroups/{group_ids[0]}/targetingkeywords/{expected[0].id}", headers=headers
    )
    assert one.json()["data"]["id"] == expected[0].id and one.json()["pagination"] is None
    group = await ads_client.post(base + "/adgroups/find", headers=headers, json={})
    assert len(group.json()["data"]) == 2
    v5_error(await ads_client.get(f"{base}/adgroups/1", headers=headers), 404, "NOT_FOUND")
    v5_error(await ads_client.get("/api/v5/campaigns/1", headers=headers), 404)
    v5_error(await ads_client.get("/api/v5/nothing-here", headers=headers), 404)


async def test_variants_budget_amount_and_org_time(
    ads_client: httpx.AsyncClient, ads_state: AppleAdsState, token: str, jpy: AdsAccount
) -> None:
    campaign = ads_state.truth.campaigns(jpy)[0]
    path = f"/api/v5/campaigns/{campaign.id}"
    utc = (await ads_client.get(path, headers=v5_headers(token, jpy))).json()["data"]
    assert utc["dailyBudgetAmount"]["amount"].isdigit()  # JPY has no minor units
    ads_state.options = AdsOptions(v5_include_budget_amount=True, v5_timestamp_zone="org")
    org = (await ads_client.get(path, headers=v5_headers(token, jpy))).json()["data"]
    assert org["budgetAmount"]["currency"] == "JPY"
    assert org["startTime"][11:13] == "09" and utc["startTime"][11:13] == "00"  # Tokyo = UTC+9

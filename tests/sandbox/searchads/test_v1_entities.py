"""Platform API v1 accounts and entity queries (FACTS §9 "Envelope & paging", "Entities")."""

from __future__ import annotations

import httpx
import pytest

from app.sandbox.searchads import AdsAccount, AdsOptions, AppleAdsState
from app.sandbox.searchads.v1_shapes import V1_ID_OFFSET
from tests.sandbox.searchads.helpers import v1_all, v1_error, v1_headers


async def test_acls_me_and_ad_accounts(
    ads_client: httpx.AsyncClient, ads_state: AppleAdsState, token: str, usd: AdsAccount
) -> None:
    acls = (await ads_client.get("/v1/acls", headers=v1_headers(token))).json()
    assert acls["result"]["acls"][0] == {
        "adAccount": {"id": usd.ad_account_id, "name": usd.name, "orgId": ads_state.org.org_id},
        "roles": ["API Account Read Only"],
    }
    assert usd.ad_account_id != usd.org_id  # FACTS §9: adAccountId ≠ v5 orgId
    account = await ads_client.get(
        f"/v1/ad-accounts/{usd.ad_account_id}", headers=v1_headers(token)
    )
    assert account.json()["result"] == {
        "id": usd.ad_account_id,
        "name": usd.name,
        "orgId": ads_state.org.org_id,
        "timezone": "America/Los_Angeles",
        "currency": "USD",
        "paymentModel": "PAYG",
        "systemStatus": "ACTIVE",
        "productFeatures": ["APPSTORE_APP_MANUAL"],
    }
    queried = await ads_client.post(
        "/v1/ad-accounts/query",
        headers=v1_headers(token),
        json={
            "filters": [
                {
                    "field": "productFeatures",
                    "operator": "CONTAINS_ANY",
                    "value": ["APPSTORE_APP_MANUAL"],
                }
            ]
        },
    )
    assert {a["currency"] for a in queried.json()["result"]} == {"USD", "EUR", "JPY"}
    org = await ads_client.get(f"/v1/orgs/{ads_state.org.org_id}", headers=v1_headers(token))
    assert org.json()["result"] == {"id": ads_state.org.org_id, "name": "Lakeside Apps"}
    v1_error(await ads_client.get("/v1/ad-accounts/1", headers=v1_headers(token)), 404)


async def test_campaign_query_pages_with_offset_and_page_size(
    ads_client: httpx.AsyncClient, ads_state: AppleAdsState, token: str, usd: AdsAccount
) -> None:
    headers = v1_headers(token, usd)
    items, calls = await v1_all(ads_client, "/v1/campaigns/query", headers, {}, page_size=2)
    live = [c for c in ads_state.truth.campaigns(usd) if not c.deleted]
    assert [c["id"] for c in items] == [c.id for c in live] and calls == 3
    first = await ads_client.post(
        "/v1/campaigns/query", headers=headers, json={"pagination": {"offset": 0, "pageSize": 2}}
    )
    assert first.json()["pagination"] == {"offset": 0, "pageSize": 2}  # no totalCount unasked
    counted = await ads_client.post(
        "/v1/campaigns/query",
        headers=headers,
        json={"pagination": {"offset": 4, "pageSize": 2, "fetchTotalCount": True}},
    )
    assert counted.json()["pagination"] == {"offset": 4, "pageSize": 2, "totalCount": len(live)}
    campaign = items[0]
    assert campaign["promotedObjectType"] == "APPSTORE_APP"
    assert isinstance(campaign["promotedObjectId"], str)
    assert campaign["dailyBudget"]["value"]["currency"] == "USD"
    assert campaign["targeting"]["countryOrRegion"]["include"]
    assert len(campaign["startTime"]) == len("2024-04-08T10:33:31.650")


async def test_deleted_only_on_request_and_filters_sorting(
    ads_client: httpx.AsyncClient, ads_state: AppleAdsState, token: str, usd: AdsAccount
) -> None:
    headers = v1_headers(token, usd)
    deleted = await ads_client.post(
        "/v1/campaigns/query",
        headers=headers,
        json={"filters": [{"field": "deleted", "operator": "EQUALS", "value": True}]},
    )
    [gone] = deleted.json()["result"]
    assert gone["displayStatus"] == "DELETED"
    ids = [str(c.id) for c in ads_state.truth.campaigns(usd)[:3]]  # ids as strings
    picked = await ads_client.post(
        "/v1/campaigns/query",
        headers=headers,
        json={
            "filters": [{"field": "id", "operator": "IN", "value": ids}],
            "sorting": [{"field": "name", "order": "DESC"}],
        },
    )
    names = [c["name"] for c in picked.json()["result"]]
    assert names == sorted(names, reverse=True) and len(names) == 3
    upper = await ads_client.post(
        "/v1/campaigns/query",
        headers=headers,
        json={
            "filters": [
                {"field": "name", "operator": "CONTAINS", "value": "BRAND", "ignoreCase": True}
            ]
        },
    )
    brand = [c["name"] for c in upper.json()["result"]]
    assert brand and all("Brand" in name for name in brand)


@pytest.mark.parametrize(
    "body",
    [
        {"selector": {"conditions": []}},
        {"filters": [{"field": "id", "operator": "IN", "values": ["1"]}]},
        {"sorting": [{"field": "name", "order": "ASCENDING"}]},
        {"orderBy": [{"field": "name", "sortOrder": "ASCENDING"}]},
        {"pagination": {"offset": 0, "limit": 10}},
        {"pagination": {"offset": 0, "pageSize": 1001}},
        {"filters": [{"field": "colour", "operator": "EQUALS", "value": "red"}]},
        {"filters": [{"field": "id", "operator": "SOUNDS_LIKE", "value": "1"}]},
    ],
)
async def test_v5_shapes_and_bad_queries_are_rejected(
    ads_client: httpx.AsyncClient, token: str, usd: AdsAccount, body: dict[str, object]
) -> None:
    response = await ads_client.post(
        "/v1/campaigns/query", headers=v1_headers(token, usd), json=body
    )
    v1_error(response, 400, "INVALID_ARGUMENT")


async def test_ad_groups_and_keywords(
    ads_client: httpx.AsyncClient, ads_state: AppleAdsState, token: str, usd: AdsAccount
) -> None:
    headers = v1_headers(token, usd)
    world = ads_state.world
    campaign = world.campaign_ids[usd.org_id][0]
    groups = await ads_client.post(
        "/v1/adgroups/query",
        headers=headers,
        json={"filters": [{"field": "campaignId", "operator": "EQUALS", "value": campaign}]},
    )
    group_ids = [g["id"] for g in groups.json()["result"]]
    assert group_ids == world.ad_group_ids[campaign]
    all_groups, _ = await v1_all(ads_client, "/v1/adgroups/query", headers, {}, page_size=1000)
    assert len(all_groups) > len(group_ids)
    v1_error(await ads_client.post("/v1/keywords/query", headers=headers, json={}), 400)
    keywords = await ads_client.post(
        "/v1/keywords/query",
        headers=headers,
        json={"filters": [{"field": "adGroupId", "operator": "IN", "value": group_ids}]},
    )
    texts = [(k["adGroupId"], k["status"]) for k in keywords.json()["result"]]
    live = [k for k in world.campaign_keywords(campaign) if not k.deleted]
    assert len(texts) == len(live) and {s for _, s in texts} <= {"ENABLED", "PAUSED"}
    by_campaign = await ads_client.post(
        "/v1/keywords/query",
        headers=headers,
        json={
            "filters": [
                {"field": "campaignId", "operator": "EQUALS", "value": str(campaign)},
                {"field": "deleted", "operator": "EQUALS", "value": True},
            ]
        },
    )
    assert all(k["deleted"] for k in by_campaign.json()["result"])
    one = await ads_client.get(f"/v1/keywords/{live[0].id}", headers=headers)
    assert one.json()["result"]["text"] == live[0].text
    assert (await ads_client.get(f"/v1/adgroups/{group_ids[0]}", headers=headers)).is_success
    assert (await ads_client.get(f"/v1/campaigns/{campaign}", headers=headers)).is_success
    eur_campaign = world.campaign_ids[ads_state.account("EUR").org_id][0]
    v1_error(await ads_client.get(f"/v1/campaigns/{eur_campaign}", headers=headers), 404)


async def test_maps_account_has_business_brand_campaigns(
    ads_client: httpx.AsyncClient, ads_state: AppleAdsState, token: str
) -> None:
    maps = ads_state.account("Maps")
    account = await ads_client.get(
        f"/v1/ad-accounts/{maps.ad_account_id}", headers=v1_headers(token)
    )
    assert account.json()["result"]["productFeatures"] != ["APPSTORE_APP_MANUAL"]
    campaigns = await ads_client.post(
        "/v1/campaigns/query", headers=v1_headers(token, maps), json={}
    )
    assert {c["promotedObjectType"] for c in campaigns.json()["result"]} == {"BUSINESS_BRAND"}


async def test_variants_string_ids_shifted_ids_and_page_size_echo(
    ads_client: httpx.AsyncClient, ads_state: AppleAdsState, token: str, usd: AdsAccount
) -> None:
    first = ads_state.world.campaign_ids[usd.org_id][0]
    ads_state.options = AdsOptions(
        v1_id_type="string",
        v1_ids_match_v5=False,
        v1_page_size_echo="returned",
        v1_org_id="account",
    )
    headers = v1_headers(token, usd)
    page = (
        await ads_client.post(
            "/v1/campaigns/query", headers=headers, json={"pagination": {"pageSize": 100}}
        )
    ).json()
    assert page["result"][0]["id"] == str(first + V1_ID_OFFSET)
    assert page["result"][0]["adAccountId"] == str(usd.ad_account_id)
    assert page["pagination"]["pageSize"] == len(page["result"]) < 100
    got = await ads_client.get(f"/v1/campaigns/{first + V1_ID_OFFSET}", headers=headers)
    assert got.json()["result"]["name"] == ads_state.world.campaigns[first].name
    acls = (await ads_client.get("/v1/acls", headers=v1_headers(token))).json()["result"]["acls"]
    assert acls[0]["adAccount"]["orgId"] == str(usd.org_id)  # v1 orgId = v5 orgId variant

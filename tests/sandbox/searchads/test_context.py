"""``X-AP-Context`` (FACTS §1 v5 ``orgId=``, §9 v1 ``adAccountId=`` with or without ``;``) and
the roles that decide which accounts a credential sees."""

from __future__ import annotations

import httpx
import pytest

from app.sandbox.searchads import (
    AccountSpec,
    AdsAccount,
    AdsCredential,
    AdsOptions,
    AppleAdsState,
)
from app.sandbox.searchads.errors import MISSING_HEADER_MESSAGE
from app.sandbox.searchads.pipeline import NO_ACCESS_MESSAGE
from tests.sandbox.conftest import FakeClock
from tests.sandbox.searchads.helpers import fetch_token, v1_error, v1_headers, v5_error, v5_headers

QUERY = "/v1/campaigns/query"


async def test_v1_context_with_and_without_trailing_semicolon(
    ads_client: httpx.AsyncClient, token: str, usd: AdsAccount
) -> None:
    for semicolon in (True, False):
        response = await ads_client.post(
            QUERY, headers=v1_headers(token, usd, semicolon=semicolon), json={}
        )
        assert response.status_code == 200, response.text
        assert {c["adAccountId"] for c in response.json()["result"]} == {usd.ad_account_id}


@pytest.mark.parametrize(("policy", "works"), [("required", (True,)), ("forbidden", (False,))])
async def test_variant_semicolon_policies(
    ads_client: httpx.AsyncClient,
    ads_state: AppleAdsState,
    token: str,
    usd: AdsAccount,
    policy: str,
    works: tuple[bool, ...],
) -> None:
    ads_state.options = AdsOptions(context_semicolon=policy)  # type: ignore[arg-type]
    for semicolon in (True, False):
        headers = v1_headers(token, usd, semicolon=semicolon)
        response = await ads_client.post(QUERY, headers=headers, json={})
        assert (response.status_code == 200) == (semicolon in works), (policy, semicolon)
    v5 = await ads_client.get(
        "/api/v5/campaigns", headers={**v5_headers(token), "X-AP-Context": f"orgId={usd.org_id};"}
    )
    assert (v5.status_code == 200) == (True in works)


async def test_v1_missing_or_wrong_context(
    ads_client: httpx.AsyncClient, ads_state: AppleAdsState, token: str, usd: AdsAccount
) -> None:
    error = v1_error(
        await ads_client.post(QUERY, headers=v1_headers(token), json={}), 403, "FORBIDDEN"
    )
    assert error["message"] == MISSING_HEADER_MESSAGE
    v5_style = {**v1_headers(token), "X-AP-Context": f"orgId={usd.org_id}"}
    v1_error(await ads_client.post(QUERY, headers=v5_style, json={}), 403)
    unknown = {**v1_headers(token), "X-AP-Context": "adAccountId=123"}
    assert (
        v1_error(await ads_client.post(QUERY, headers=unknown, json={}), 403)["message"]
        == NO_ACCESS_MESSAGE
    )
    ads_state.options = AdsOptions(v1_missing_context="invalid_argument_400")
    error = v1_error(
        await ads_client.post(QUERY, headers=v1_headers(token), json={}), 400, "INVALID_ARGUMENT"
    )
    assert error["details"][0]["code"] == "MISSING_REQUIRED_HEADER"


async def test_v5_missing_or_wrong_context(
    ads_client: httpx.AsyncClient, ads_state: AppleAdsState, token: str, usd: AdsAccount
) -> None:
    error = v5_error(
        await ads_client.get("/api/v5/campaigns", headers=v5_headers(token)), 403, "FORBIDDEN"
    )
    assert error["message"] == MISSING_HEADER_MESSAGE  # FACTS §1 [F-685569]
    v1_style = {**v5_headers(token), "X-AP-Context": f"adAccountId={usd.ad_account_id}"}
    v5_error(await ads_client.get("/api/v5/campaigns", headers=v1_style), 403)
    maps = ads_state.account("Maps")  # Maps ad accounts exist only in v1
    v5_error(await ads_client.get("/api/v5/campaigns", headers=v5_headers(token, maps)), 403)


async def test_acls_and_me_need_no_context(
    ads_client: httpx.AsyncClient, token: str, credential: AdsCredential
) -> None:
    for path in ("/v1/acls", "/v1/me", "/api/v5/acls", "/api/v5/me"):
        headers = v1_headers(token) if path.startswith("/v1") else v5_headers(token)
        assert (await ads_client.get(path, headers=headers)).status_code == 200, path


async def test_roles_decide_visible_accounts(
    ads_client: httpx.AsyncClient,
    ads_state: AppleAdsState,
    ads_clock: FakeClock,
    usd: AdsAccount,
    eur: AdsAccount,
) -> None:
    credential = ads_state.add_credential({usd: "API_ACCOUNT_MANAGER", eur: "LIMITED_READ_ONLY"})
    token = await fetch_token(ads_client, credential, ads_clock.now)
    acls = (await ads_client.get("/v1/acls", headers=v1_headers(token))).json()["result"]["acls"]
    assert {a["adAccount"]["id"]: a["roles"] for a in acls} == {
        usd.ad_account_id: ["API Account Manager"],
        eur.ad_account_id: ["Limited Access: API Read Only"],
    }
    v5 = (await ads_client.get("/api/v5/acls", headers=v5_headers(token))).json()["data"]
    assert {a["orgId"]: a["roleNames"] for a in v5} == {
        usd.org_id: ["API Account Manager"],
        eur.org_id: ["Limited Access API Read Only"],
    }
    jpy = ads_state.account("JPY")
    v1_error(await ads_client.post(QUERY, headers=v1_headers(token, jpy), json={}), 403)
    v5_error(await ads_client.get("/api/v5/campaigns", headers=v5_headers(token, jpy)), 403)


async def test_limited_role_sees_only_its_campaigns(
    ads_client: httpx.AsyncClient,
    ads_state: AppleAdsState,
    ads_clock: FakeClock,
    usd: AdsAccount,
) -> None:
    first, second = ads_state.world.campaign_ids[usd.org_id][:2]
    credential = ads_state.add_credential(
        {usd: "LIMITED_READ_WRITE"}, campaign_scope={usd: [first]}
    )
    token = await fetch_token(ads_client, credential, ads_clock.now)
    listed = (await ads_client.post(QUERY, headers=v1_headers(token, usd), json={})).json()
    assert [c["id"] for c in listed["result"]] == [first]
    hidden = await ads_client.get(f"/api/v5/campaigns/{second}", headers=v5_headers(token, usd))
    v5_error(hidden, 404, "NOT_FOUND")


async def test_another_orgs_accounts_are_invisible(
    ads_client: httpx.AsyncClient, ads_state: AppleAdsState, token: str
) -> None:
    """FACTS §9: a token binds to exactly one org."""
    other_org = ads_state.add_org("Elsewhere Ltd")
    foreign = ads_state.add_account(AccountSpec("GB", "GBP", "Europe/London", ("GB",)), other_org)
    v1_error(await ads_client.post(QUERY, headers=v1_headers(token, foreign), json={}), 403)
    acls = (await ads_client.get("/v1/acls", headers=v1_headers(token))).json()["result"]["acls"]
    assert foreign.ad_account_id not in {a["adAccount"]["id"] for a in acls}

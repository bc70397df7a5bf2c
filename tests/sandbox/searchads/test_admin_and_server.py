"""The sandbox-only admin surface (``/sandbox-ads``) and running over real HTTP."""

from __future__ import annotations

import stat
from datetime import date
from pathlib import Path

import httpx

from app.sandbox.searchads import AppleAdsState
from app.sandbox.searchads.server import startup_message, write_key_file
from tests.sandbox.conftest import FakeClock
from tests.sandbox.searchads.helpers import (
    TOKEN_PATH,
    client_secret,
    token_params,
    v1_error,
    v1_headers,
)


async def test_create_credential_and_use_it_with_only_what_admin_returned(
    ads_client: httpx.AsyncClient, ads_state: AppleAdsState, ads_clock: FakeClock
) -> None:
    usd = ads_state.account("USD")
    created = await ads_client.post(
        "/sandbox-ads/credentials",
        json={
            "roles": {str(usd.org_id): "API_ACCOUNT_MANAGER"},
            "rate_limit": 50,
            "options": {"v1_id_type": "string"},
        },
    )
    assert created.status_code == 201, created.text
    data = created.json()
    assert data["private_key_pem"].startswith("-----BEGIN PRIVATE KEY-----")
    assert data["client_id"].startswith("SEARCHADS.") and data["team_id"].startswith("SEARCHADS.")
    credential = ads_state.credentials[data["client_id"]]
    secret = client_secret(credential, ads_clock.now, signing_pem=data["private_key_pem"])
    token = (await ads_client.post(TOKEN_PATH, data=token_params(credential, secret))).json()
    acls = await ads_client.get("/v1/acls", headers=v1_headers(token["access_token"]))
    [acl] = acls.json()["result"]["acls"]
    assert (
        acl["adAccount"]["id"] == str(usd.ad_account_id) and acls.headers["RateLimit-Limit"] == "50"
    )
    listed = (await ads_client.get("/sandbox-ads/credentials")).json()["credentials"]
    assert all("private_key_pem" not in c for c in listed)
    one = await ads_client.get(f"/sandbox-ads/credentials/{data['client_id']}")
    assert one.json()["private_key_pem"] == data["private_key_pem"]


async def test_patch_credential_and_options(
    ads_client: httpx.AsyncClient, ads_state: AppleAdsState, token: str
) -> None:
    credential = next(iter(ads_state.credentials.values()))
    url = f"/sandbox-ads/credentials/{credential.client_id}"
    patched = await ads_client.patch(
        url, json={"options": {"v1_missing_context": "invalid_argument_400"}}
    )
    assert patched.json()["options"]["v1_missing_context"] == "invalid_argument_400"
    v1_error(await ads_client.post("/v1/campaigns/query", headers=v1_headers(token), json={}), 400)
    await ads_client.patch(url, json={"options": None, "revoked": True})
    v1_error(await ads_client.get("/v1/me", headers=v1_headers(token)), 401)
    assert (await ads_client.patch(url, json={"colour": "red"})).status_code == 400
    assert (await ads_client.patch(url, json={"options": {"nope": 1}})).status_code == 400
    assert (await ads_client.patch("/sandbox-ads/credentials/x", json={})).status_code == 404
    options = await ads_client.patch("/sandbox-ads/options", json={"v5_sunset_mode": "gone_410"})
    assert options.json()["options"]["v5_sunset_mode"] == "gone_410"
    assert ads_state.options.v5_sunset_mode == "gone_410"
    bad = await ads_client.patch("/sandbox-ads/options", json={"v5_sunset_mode": "maybe"})
    assert bad.status_code == 400
    choices = (await ads_client.get("/sandbox-ads/options")).json()["choices"]
    assert choices["context_semicolon"] == ["either", "required", "forbidden"]


async def test_overview_accounts_truth_and_request_log(
    ads_client: httpx.AsyncClient, ads_state: AppleAdsState, token: str
) -> None:
    overview = (await ads_client.get("/sandbox-ads/")).json()
    assert overview["seed"] == 7 and len(overview["accounts"]) == 4
    accounts = (await ads_client.get("/sandbox-ads/accounts")).json()["accounts"]
    usd = next(a for a in accounts if a["currency"] == "USD" and a["product"] == "APPSTORE")
    assert any(not c["linked"] for c in usd["campaigns"])  # an app Orchard does not know
    campaign = usd["campaigns"][0]["id"]
    truth = await ads_client.get(
        f"/sandbox-ads/truth/campaigns/{campaign}",
        params={"start": "2026-11-20", "end": "2026-11-21"},
    )
    days = truth.json()["days"]
    assert list(days) == ["2026-11-20", "2026-11-21"]
    assert days["2026-11-20"]["localSpend"] == str(
        ads_state.truth.spend(campaign, date(2026, 11, 20))
    )
    assert (
        await ads_client.get("/sandbox-ads/truth/campaigns/1?start=2026-11-20")
    ).status_code == 404
    log = (await ads_client.get("/sandbox-ads/requests")).json()
    assert log["requests"][0]["api"] == "oauth"
    await ads_client.get("/v1/me", headers=v1_headers(token))
    assert ads_state.requests[-1].path == "/v1/me" and ads_state.requests[-1].status == 200
    assert (await ads_client.delete("/sandbox-ads/requests")).status_code == 204
    assert ads_state.requests == []
    index = (await ads_client.get("/")).json()
    assert "POST /v1/reports/apps/campaigns/query" in index["v1"]


def test_server_helpers(tmp_path: Path) -> None:
    state = AppleAdsState(seed=3)
    credential = state.demo_credential()
    assert state.demo_credential() is credential
    assert AppleAdsState(seed=3).demo_credential().private_key_pem == credential.private_key_pem
    path = write_key_file(credential, tmp_path / "keys")
    assert path.read_text() == credential.private_key_pem
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    message = startup_message(state, credential, "http://127.0.0.1:9002", path)
    assert "ORCHARD_APPLE_ADS_TOKEN_URL=http://127.0.0.1:9002/auth/oauth2/token" in message
    assert credential.client_id in message and "-----BEGIN" not in message


async def test_injected_failures(
    ads_client: httpx.AsyncClient, ads_state: AppleAdsState, token: str
) -> None:
    """FACTS §4: 500 = temporarily down, retry later; the next requests fail, then recover."""
    created = await ads_client.post("/sandbox-ads/failures", json={"count": 2, "api": "v1"})
    assert created.json() == {"pending": 2}
    ads_state.inject_failures(503, api="v5")
    first = await ads_client.get("/v1/me", headers=v1_headers(token))
    assert v1_error(first, 500, "INTERNAL_ERROR") and "RateLimit-Limit" in first.headers
    v1_error(await ads_client.get("/v1/acls"), 500)  # before authentication
    assert (await ads_client.get("/v1/me", headers=v1_headers(token))).status_code == 200
    v5 = await ads_client.get("/api/v5/me", headers={"Authorization": f"Bearer {token}"})
    assert v5.status_code == 503 and v5.json()["error"]["errors"][0]["messageCode"] == (
        "SERVICE_UNAVAILABLE"
    )
    bad = await ads_client.post("/sandbox-ads/failures", json={"status": 200})
    assert bad.status_code == 400

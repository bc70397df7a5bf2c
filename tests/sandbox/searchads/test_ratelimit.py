"""Rate limits (FACTS §9 "Rate limits & errors": RateLimit-* on every response, 429 with
Retry-After; §4: v5's headers unconfirmed)."""

from __future__ import annotations

import httpx

from app.sandbox.searchads import AdsAccount, AdsOptions, AppleAdsState
from tests.sandbox.conftest import FakeClock
from tests.sandbox.searchads.helpers import fetch_token, v1_error, v1_headers, v5_error, v5_headers


async def test_headers_on_every_v1_response(
    ads_client: httpx.AsyncClient, token: str, usd: AdsAccount
) -> None:
    first = await ads_client.get("/v1/acls", headers=v1_headers(token))
    second = await ads_client.post("/v1/campaigns/query", headers=v1_headers(token), json={})
    assert second.status_code == 403  # no context: still counted, still headed
    assert first.headers["RateLimit-Limit"] == "1000"
    assert (
        int(first.headers["RateLimit-Remaining"]) == int(second.headers["RateLimit-Remaining"]) + 1
    )
    assert 0 < int(first.headers["RateLimit-Reset"]) <= 60
    anonymous = await ads_client.get("/v1/acls")
    assert anonymous.status_code == 401 and anonymous.headers["RateLimit-Remaining"] == "1000"


async def test_429_with_retry_after_until_the_window_resets(
    ads_client: httpx.AsyncClient, ads_state: AppleAdsState, ads_clock: FakeClock
) -> None:
    credential = ads_state.add_credential(rate_limit=3, rate_window_seconds=30)
    token = await fetch_token(ads_client, credential, ads_clock.now)
    statuses = []
    for _ in range(4):
        statuses.append((await ads_client.get("/v1/me", headers=v1_headers(token))).status_code)
        ads_clock.advance(seconds=5)
    assert statuses == [200, 200, 200, 429]
    limited = await ads_client.get("/v1/me", headers=v1_headers(token))
    v1_error(limited, 429, "RATE_LIMIT_EXCEEDED")
    assert limited.headers["Retry-After"] == limited.headers["RateLimit-Reset"] == "10"
    assert limited.headers["RateLimit-Remaining"] == "0"
    v5_error(await ads_client.get("/api/v5/me", headers=v5_headers(token)), 429)
    ads_clock.advance(seconds=10)
    assert (await ads_client.get("/v1/me", headers=v1_headers(token))).status_code == 200
    other = await fetch_token(ads_client, ads_state.add_credential(), ads_clock.now)
    assert (await ads_client.get("/v1/me", headers=v1_headers(other))).status_code == 200


async def test_v5_headers_are_a_variant(
    ads_client: httpx.AsyncClient, ads_state: AppleAdsState, ads_clock: FakeClock
) -> None:
    credential = ads_state.add_credential(rate_limit=1)
    token = await fetch_token(ads_client, credential, ads_clock.now)
    plain = await ads_client.get("/api/v5/me", headers=v5_headers(token))
    assert "RateLimit-Limit" not in plain.headers
    limited = await ads_client.get("/api/v5/me", headers=v5_headers(token))
    assert limited.status_code == 429 and "Retry-After" not in limited.headers
    credential.options = AdsOptions(v5_rate_headers=True, v5_retry_after=True)
    limited = await ads_client.get("/api/v5/me", headers=v5_headers(token))
    assert limited.headers["RateLimit-Limit"] == "1" and "Retry-After" in limited.headers


async def test_budget_can_be_forced_through_the_admin_surface(
    ads_client: httpx.AsyncClient, ads_state: AppleAdsState, token: str
) -> None:
    credential = next(iter(ads_state.credentials.values()))
    patched = await ads_client.patch(
        f"/sandbox-ads/credentials/{credential.client_id}", json={"remaining": 0}
    )
    assert patched.json()["remaining"] == 0
    assert (await ads_client.get("/v1/me", headers=v1_headers(token))).status_code == 429

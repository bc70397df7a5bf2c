"""The Apple Ads client on its own: the client secret Apple expects, the access token cached
until shortly before expiry, one re-fetch after a 401, paging loops, rate-limit headers and
429s — against the sandbox, and with respx for exact faults."""

from __future__ import annotations

import datetime as dt
import json

import httpx
import jwt
import pytest
import respx
from cryptography.hazmat.primitives.asymmetric import ec

from app.asc.searchads.auth import AUDIENCE, AdsCredentials, AdsTokenCache, TokenRejected
from app.asc.searchads.client import (
    AdsRateLimited,
    AdsUnauthorized,
    RateInfo,
    V1Backend,
)
from app.sandbox.searchads import AppleAdsState, create_apple_ads_app
from app.sandbox.searchads.state import utc_now

BASE = "https://ads.test"
TOKEN_URL = f"{BASE}/auth/oauth2/token"


class Clock:
    def __init__(self) -> None:
        self.now = utc_now().timestamp()

    def __call__(self) -> float:
        return self.now


def _state() -> AppleAdsState:
    return AppleAdsState(seed=3, clock=utc_now)


def _credentials(state: AppleAdsState) -> AdsCredentials:
    sandbox = state.add_credential()
    return AdsCredentials.from_pem(
        client_id=sandbox.client_id,
        team_id=sandbox.team_id,
        key_id=sandbox.key_id,
        pem=sandbox.private_key_pem,
    )


def test_client_secret_has_apples_claims() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    credentials = AdsCredentials("SEARCHADS.c", "SEARCHADS.t", "k-1", key)
    secret = credentials.client_secret(utc_now().timestamp())
    header = jwt.get_unverified_header(secret)
    assert header["alg"] == "ES256" and header["kid"] == "k-1"
    claims = jwt.decode(secret, key.public_key(), algorithms=["ES256"], audience=AUDIENCE)
    assert claims["sub"] == "SEARCHADS.c" and claims["iss"] == "SEARCHADS.t"
    assert claims["exp"] - claims["iat"] == 24 * 3600  # ≥ 1 day, far below 180 days
    assert "k-1" in repr(credentials) and "PRIVATE" not in repr(credentials)


async def test_token_is_cached_until_shortly_before_expiry() -> None:
    state = _state()
    clock = Clock()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_apple_ads_app(state))
    ) as http:
        cache = AdsTokenCache(_credentials(state), TOKEN_URL, clock=clock)
        first = await cache.token(http)
        for _ in range(5):
            assert await cache.token(http) == first
        clock.now += 3600 - 200  # still more than two minutes left
        assert await cache.token(http) == first
        clock.now += 100  # under two minutes left: a new one
        assert await cache.token(http) != first
        assert cache.tokens_fetched == 2
        assert cache.secrets_minted == 1  # the secret lives a day


async def test_a_401_fetches_one_new_token_then_gives_up() -> None:
    state = _state()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_apple_ads_app(state))
    ) as http:
        credentials = _credentials(state)
        cache = AdsTokenCache(credentials, TOKEN_URL)
        backend = V1Backend(http, BASE, cache)
        assert await backend.ad_accounts()
        state.tokens.clear()  # Apple forgot the token: one re-fetch, then it works again
        assert await backend.ad_accounts()
        assert cache.tokens_fetched == 2
        state.credentials[credentials.client_id].revoked = True
        state.tokens.clear()
        with pytest.raises(TokenRejected):
            await backend.ad_accounts()


@respx.mock
async def test_paging_rate_headers_and_429() -> None:
    respx.post(TOKEN_URL).respond(
        200, json={"access_token": "tok", "token_type": "Bearer", "expires_in": 3600}
    )
    rates: list[RateInfo] = []

    async def on_rate(info: RateInfo) -> None:
        rates.append(info)

    pages = [
        {
            "result": [{"id": str(i), "name": f"c{i}"} for i in range(1000)],
            "pagination": {"offset": 0, "pageSize": 1000, "totalCount": 1500},
        },
        {
            "result": [{"id": i, "name": f"c{i}"} for i in range(1000, 1500)],
            "pagination": {"offset": 1000, "pageSize": 1000, "totalCount": 1500},
        },
        {"result": [], "pagination": {"offset": 0, "pageSize": 1000, "totalCount": 0}},
    ]
    headers = {"RateLimit-Limit": "100", "RateLimit-Remaining": "97", "RateLimit-Reset": "42"}
    route = respx.post(f"{BASE}/v1/campaigns/query").mock(
        side_effect=[httpx.Response(200, json=p, headers=headers) for p in pages]
    )
    async with httpx.AsyncClient() as http:
        key = ec.generate_private_key(ec.SECP256R1())
        cache = AdsTokenCache(AdsCredentials("c", "t", "k", key), TOKEN_URL)
        backend = V1Backend(http, BASE, cache, on_rate=on_rate)
        campaigns = await backend.campaigns(880001)
    assert len(campaigns) == 1500  # ids as strings and numbers alike
    sent = [json.loads(call.request.content) for call in route.calls]
    assert [b["pagination"]["offset"] for b in sent] == [0, 1000, 0]
    assert sent[2]["filters"] == [{"field": "deleted", "operator": "EQUALS", "value": True}]
    assert all(c.request.headers["X-AP-Context"] == "adAccountId=880001" for c in route.calls)
    assert rates[0] == RateInfo(100, 97, 42.0)

    respx.post(f"{BASE}/v1/campaigns/query").respond(
        429, headers={"Retry-After": "17", **headers}, json={"error": {"code": "RATE"}}
    )
    async with httpx.AsyncClient() as http:
        backend = V1Backend(http, BASE, cache)
        with pytest.raises(AdsRateLimited) as raised:
            await backend.campaigns(880001)
    assert raised.value.retry_after == 17


@respx.mock
async def test_report_request_shape_and_lenient_rows() -> None:
    respx.post(TOKEN_URL).respond(200, json={"access_token": "tok", "expires_in": 3600})
    row = {
        "metadata": {"id": "900001", "name": "Brand", "promotedObjectId": "1234567890"},
        "totalMetrics": {},
        "granularMetrics": [
            {"date": "2026-11-30", "countryOrRegion": "DE", "impressions": 5},  # day before
            {
                "date": "2026-12-01",
                "countryOrRegion": "DE",
                "impressions": 1200,
                "taps": 60,
                "localSpend": {"amount": "30.00", "currency": "EUR"},
                "tapInstalls": 20,
                "viewInstalls": 2,
                "totalInstalls": 22,
            },
            {"date": "2026-12-01 00", "countryOrRegion": "AT", "taps": 1},  # sparse metrics
        ],
    }
    route = respx.post(f"{BASE}/v1/reports/apps/campaigns/query").respond(
        200, json={"result": {"rows": [row]}, "pagination": {"offset": 0, "totalCount": 1}}
    )
    async with httpx.AsyncClient() as http:
        key = ec.generate_private_key(ec.SECP256R1())
        backend = V1Backend(
            http, BASE, AdsTokenCache(AdsCredentials("c", "t", "k", key), TOKEN_URL)
        )
        day = dt.date(2026, 12, 1)
        lines = await backend.daily_report(880001, "campaign", [900001], day, day)
    body = json.loads(route.calls[0].request.content)
    # One day: v1 DAILY needs more than one day, so the day before is asked and dropped.
    assert body["timeRange"] == {
        "start": "2026-11-30",
        "end": "2026-12-01",
        "timeZone": "ORTZ",
        "granularity": "DAILY",
    }
    assert body["filters"] == [{"field": "campaignId", "operator": "IN", "value": ["900001"]}]
    assert body["groupBy"] == ["countryOrRegion"]
    assert [(line.country, line.report_date) for line in lines] == [("DE", day), ("AT", day)]
    assert lines[0].adam_id == 1234567890 and str(lines[0].spend) == "30.00"
    assert lines[1].counts["impressions"] == 0 and lines[1].counts["taps"] == 1


@respx.mock
async def test_unauthorized_after_one_retry() -> None:
    token = respx.post(TOKEN_URL).respond(200, json={"access_token": "tok", "expires_in": 3600})
    respx.get(f"{BASE}/v1/acls").respond(401, json={"error": {"code": "UNAUTHORIZED"}})
    async with httpx.AsyncClient() as http:
        key = ec.generate_private_key(ec.SECP256R1())
        backend = V1Backend(
            http, BASE, AdsTokenCache(AdsCredentials("c", "t", "k", key), TOKEN_URL)
        )
        with pytest.raises(AdsUnauthorized):
            await backend.ad_accounts()
    assert token.call_count == 2

"""The v5 sunset (FACTS §0: "v5 is sunset 2027-01-26 (calls then error)"); v1 lives on."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from app.sandbox.searchads import V5_SUNSET_AT, AdsAccount, AdsOptions, AppleAdsState
from tests.sandbox.conftest import FakeClock
from tests.sandbox.searchads.helpers import fetch_token, v1_headers, v5_error, v5_headers


async def _after_sunset(client: httpx.AsyncClient, state: AppleAdsState, clock: FakeClock) -> str:
    clock.now = V5_SUNSET_AT
    return await fetch_token(client, next(iter(state.credentials.values())), clock.now)


async def test_v5_works_until_the_day_before(
    ads_client: httpx.AsyncClient,
    ads_state: AppleAdsState,
    ads_clock: FakeClock,
    token: str,
    usd: AdsAccount,
) -> None:
    ads_clock.now = datetime(2027, 1, 25, 23, 59, tzinfo=UTC)
    token = await fetch_token(ads_client, next(iter(ads_state.credentials.values())), ads_clock.now)
    response = await ads_client.get("/api/v5/campaigns", headers=v5_headers(token, usd))
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("mode", "status", "code"),
    [
        ("moved_301", 301, "RESOURCE_MOVED_PERMANENTLY"),
        ("gone_410", 410, "GONE"),
        ("not_found_404", 404, "NOT_FOUND"),
        ("bad_request_400", 400, "API_VERSION_NOT_SUPPORTED"),
    ],
)
async def test_v5_answers_after_the_sunset(
    ads_client: httpx.AsyncClient,
    ads_state: AppleAdsState,
    ads_clock: FakeClock,
    token: str,
    usd: AdsAccount,
    mode: str,
    status: int,
    code: str,
) -> None:
    ads_state.options = AdsOptions(v5_sunset_mode=mode)  # type: ignore[arg-type]
    token = await _after_sunset(ads_client, ads_state, ads_clock)
    for path in ("/api/v5/acls", "/api/v5/campaigns"):
        response = await ads_client.get(path, headers=v5_headers(token, usd))
        v5_error(response, status, code)
        assert "location" not in response.headers
    unauthenticated = await ads_client.get("/api/v5/acls")
    v5_error(unauthenticated, status, code)
    v1 = await ads_client.post("/v1/campaigns/query", headers=v1_headers(token, usd), json={})
    assert v1.status_code == 200  # the successor keeps working with the same credentials


async def test_sunset_can_be_moved_or_disabled(
    ads_client: httpx.AsyncClient, ads_state: AppleAdsState, ads_clock: FakeClock, token: str
) -> None:
    token = await _after_sunset(ads_client, ads_state, ads_clock)
    ads_state.v5_sunset_at = None
    assert (await ads_client.get("/api/v5/me", headers=v5_headers(token))).status_code == 200
    ads_state.v5_sunset_at = datetime(2026, 1, 1, tzinfo=UTC)
    assert (await ads_client.get("/api/v5/me", headers=v5_headers(token))).status_code == 301

"""Fixtures for the Apple Ads sandbox: a fake clock on Tuesday 1 December 2026 (the Platform
API v1 exists, v5 is not yet sunset), a state, an ASGI client, a credential and its token."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest

from app.sandbox.searchads import AdsAccount, AdsCredential, AppleAdsState, create_apple_ads_app
from tests.sandbox.conftest import FakeClock
from tests.sandbox.searchads.helpers import fetch_token

NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
BASE_URL = "https://ads.sandbox.test"


@pytest.fixture
def ads_clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
def ads_state(ads_clock: FakeClock) -> AppleAdsState:
    return AppleAdsState(seed=7, clock=ads_clock)


@pytest.fixture
async def ads_client(ads_state: AppleAdsState) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_apple_ads_app(ads_state))
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
        yield http


@pytest.fixture
def credential(ads_state: AppleAdsState) -> AdsCredential:
    return ads_state.add_credential()


@pytest.fixture
async def token(
    ads_client: httpx.AsyncClient, credential: AdsCredential, ads_clock: FakeClock
) -> str:
    return await fetch_token(ads_client, credential, ads_clock.now)


@pytest.fixture
def usd(ads_state: AppleAdsState) -> AdsAccount:
    return ads_state.account("USD")


@pytest.fixture
def eur(ads_state: AppleAdsState) -> AdsAccount:
    return ads_state.account("EUR")


@pytest.fixture
def jpy(ads_state: AppleAdsState) -> AdsAccount:
    return ads_state.account("JPY")

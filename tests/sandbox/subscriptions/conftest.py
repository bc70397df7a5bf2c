"""Fixtures of the subscription-world tests: a shared read-only world and report fetching."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import httpx
import pytest

from app.sandbox import SandboxKey, SandboxState, create_sandbox_app
from tests.sandbox.helpers import bearer, mint, parse_tsv

NOW = datetime(2025, 6, 10, 18, 0, tzinfo=UTC)  # June 9 is the newest published day
DAY = date(2025, 6, 8)
VERSIONS = {
    "SUBSCRIPTION": ("SUMMARY", "1_3"),
    "SUBSCRIPTION_EVENT": ("SUMMARY", "1_3"),
    "SUBSCRIBER": ("DETAILED", "1_3"),
    "SUBSCRIPTION_OFFER_CODE_REDEMPTION": ("SUMMARY", "1_0"),
    "WIN_BACK_ELIGIBILITY": ("SUMMARY", "1_0"),
}
Rows = list[dict[str, str]]


@pytest.fixture(scope="module")
def shared() -> SandboxState:
    """One world for the read-only tests of a module (building it is the expensive part)."""
    return SandboxState(seed=42, clock=lambda: NOW)


class Reports:
    def __init__(self, client: httpx.AsyncClient, key: SandboxKey, now: datetime) -> None:
        self.client, self.key, self.now = client, key, now

    async def get(self, report_type: str, day: date | str, **extra: str) -> httpx.Response:
        sub_type, version = VERSIONS[report_type]
        params = {
            "filter[vendorNumber]": self.key.vendor_number,
            "filter[reportType]": report_type,
            "filter[reportSubType]": sub_type,
            "filter[frequency]": "DAILY",
            "filter[reportDate]": str(day),
            "filter[version]": version,
            **extra,
        }
        params = {k: v for k, v in params.items() if v != ""}
        headers = {"Accept": "application/a-gzip", **bearer(mint(self.key, self.now))}
        return await self.client.get("/v1/salesReports", params=params, headers=headers)

    async def rows(self, report_type: str, day: date | str) -> tuple[list[str], Rows]:
        response = await self.get(report_type, day)
        assert response.status_code == 200, response.text
        header, rows, footer = parse_tsv(response.content)
        assert not footer
        return header, rows


@pytest.fixture
async def shared_reports(shared: SandboxState) -> AsyncIterator[Reports]:
    transport = httpx.ASGITransport(app=create_sandbox_app(shared))
    async with httpx.AsyncClient(transport=transport, base_url="https://sandbox.test") as client:
        key = shared.add_key(roles=("SALES",))
        yield Reports(client, key, NOW)


@pytest.fixture
async def reports(state: SandboxState, clock: object) -> AsyncIterator[Reports]:
    """Reports of the function-scoped ``state`` (FakeClock at the same NOW)."""
    transport = httpx.ASGITransport(app=create_sandbox_app(state))
    async with httpx.AsyncClient(transport=transport, base_url="https://sandbox.test") as client:
        yield Reports(client, state.add_key(roles=("ADMIN",)), NOW)

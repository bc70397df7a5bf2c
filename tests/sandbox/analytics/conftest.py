"""Fixtures for the Analytics Reports simulator tests: an ``Api`` helper over the in-process
sandbox (fresh tokens at the fake clock's now) and the analytics ledger."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest

from app.sandbox import SandboxKey, SandboxState
from app.sandbox.analytics_ledger import AnalyticsLedger, analytics
from app.sandbox.catalog import SandboxApp, team_apps
from tests.sandbox.conftest import FakeClock
from tests.sandbox.helpers import assert_matches_spec, bearer, mint

REQUESTS = "/v1/analyticsReportRequests"


def create_body(app_id: str, access: str = "ONGOING") -> dict[str, Any]:
    return {
        "data": {
            "type": "analyticsReportRequests",
            "attributes": {"accessType": access},
            "relationships": {"app": {"data": {"type": "apps", "id": app_id}}},
        }
    }


class Api:
    """The analytics chain as a client walks it (every JSON answer checked against the spec)."""

    def __init__(self, client: httpx.AsyncClient, clock: FakeClock, key: SandboxKey) -> None:
        self.client, self.clock, self.key = client, clock, key

    def headers(self, key: SandboxKey | None = None) -> dict[str, str]:
        return bearer(mint(key or self.key, self.clock.now))

    async def get(self, path: str, key: SandboxKey | None = None, **params: str) -> httpx.Response:
        return await self.client.get(path, params=params, headers=self.headers(key))

    async def ok(self, path: str, template: str, **params: str) -> dict[str, Any]:
        """GET ``path``, expect 200 and a body valid for the spec operation ``template``."""
        response = await self.get(path, **params)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        assert_matches_spec(body, template)
        return body

    async def create(self, app_id: str, access: str = "ONGOING",
                     key: SandboxKey | None = None) -> httpx.Response:  # fmt: skip
        return await self.client.post(
            REQUESTS, json=create_body(app_id, access), headers=self.headers(key)
        )

    async def request_id(self, app_id: str, access: str = "ONGOING") -> str:
        created = await self.create(app_id, access)
        assert created.status_code == 201, created.text
        return str(created.json()["data"]["id"])

    async def report_id(self, request_id: str, name: str) -> str:
        body = await self.ok(
            f"{REQUESTS}/{request_id}/reports",
            "/v1/analyticsReportRequests/{id}/reports",
            **{"filter[name]": name},
        )
        [report] = body["data"]
        return str(report["id"])

    async def instances(self, report_id: str, **params: str) -> list[dict[str, Any]]:
        params.setdefault("limit", "200")
        body = await self.ok(
            f"/v1/analyticsReports/{report_id}/instances",
            "/v1/analyticsReports/{id}/instances",
            **params,
        )
        return list(body["data"])

    async def segments(self, instance_id: str) -> list[dict[str, Any]]:
        body = await self.ok(
            f"/v1/analyticsReportInstances/{instance_id}/segments",
            "/v1/analyticsReportInstances/{id}/segments",
        )
        return list(body["data"])

    async def download(self, url: str) -> httpx.Response:
        """A plain GET of a pre-signed URL (no Authorization header)."""
        return await self.client.get(url)


@pytest.fixture
def api(client: httpx.AsyncClient, clock: FakeClock, admin_key: SandboxKey) -> Api:
    return Api(client, clock, admin_key)


@pytest.fixture
def ledger(state: SandboxState) -> AnalyticsLedger:
    return analytics(state)


@pytest.fixture
def apps(admin_key: SandboxKey) -> tuple[SandboxApp, ...]:
    return team_apps(admin_key.team)


def at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)

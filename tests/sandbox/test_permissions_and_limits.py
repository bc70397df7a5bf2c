from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx
import pytest

from app.sandbox import SandboxKey, SandboxState
from app.sandbox.catalog import team_apps
from tests.sandbox.conftest import FakeClock
from tests.sandbox.helpers import assert_error

AnyHeaders = Callable[..., dict[str, str]]


def _paths(state: SandboxState, key: SandboxKey) -> dict[str, tuple[str, dict[str, str]]]:
    app_id = team_apps(key.team)[0].id
    vendor = key.vendor_number
    return {
        "apps": ("/v1/apps", {}),
        "app": (f"/v1/apps/{app_id}", {}),
        "reviews": (f"/v1/apps/{app_id}/customerReviews", {}),
        "builds": ("/v1/builds", {"filter[app]": app_id}),
        "users": ("/v1/users", {}),
        "invitations": ("/v1/userInvitations", {}),
        "sales": (
            "/v1/salesReports",
            {
                "filter[vendorNumber]": vendor,
                "filter[reportType]": "SALES",
                "filter[reportSubType]": "SUMMARY",
                "filter[frequency]": "DAILY",
                "filter[reportDate]": "2025-06-08",
            },
        ),
        "finance": (
            "/v1/financeReports",
            {
                "filter[vendorNumber]": vendor,
                "filter[reportType]": "FINANCIAL",
                "filter[regionCode]": "ZZ",
                "filter[reportDate]": "2025-08",
            },
        ),
    }


ALL = {"apps", "app", "reviews", "builds", "users", "invitations", "sales", "finance"}
READ = {"apps", "app", "reviews"}


@pytest.mark.parametrize(
    ("roles", "key_type", "allowed"),
    [
        (("ADMIN",), "team", ALL),
        (("FINANCE",), "team", READ | {"sales", "finance"}),
        (("SALES",), "team", READ | {"sales"}),
        (("ACCESS_TO_REPORTS",), "team", READ | {"sales"}),
        (("APP_MANAGER",), "team", READ | {"builds"}),
        (("DEVELOPER",), "team", READ | {"builds"}),
        (("CUSTOMER_SUPPORT",), "team", READ),
        (("MARKETING",), "team", READ),
        (("ADMIN",), "individual", ALL - {"sales", "finance"}),
        (("FINANCE", "SALES"), "individual", READ),
    ],
)
async def test_permission_table(
    client: httpx.AsyncClient,
    state: SandboxState,
    headers_for: AnyHeaders,
    roles: tuple[str, ...],
    key_type: str,
    allowed: set[str],
) -> None:
    key = state.add_key(roles=roles, key_type=key_type)  # type: ignore[arg-type]
    for name, (path, params) in _paths(state, key).items():
        response = await client.get(path, params=params, headers=headers_for(key))
        if name in allowed:
            assert response.status_code == 200, (name, response.text)
        else:
            error = assert_error(response, 403, "FORBIDDEN_ERROR")
            assert error["title"] == "This request is forbidden for security reasons"
            assert error["detail"] == "The API key in use does not allow this request"


async def test_agreement_missing_blocks_every_call(
    client: httpx.AsyncClient, state: SandboxState, admin_key: SandboxKey, headers_for: AnyHeaders
) -> None:
    admin_key.agreement_missing = True
    for path, params in _paths(state, admin_key).values():
        response = await client.get(path, params=params, headers=headers_for(admin_key))
        error = assert_error(response, 403, "FORBIDDEN.REQUIRED_AGREEMENTS_MISSING_OR_EXPIRED")
        assert error["title"] == "A required agreement is missing or has expired."
    admin_key.agreement_missing = False
    assert (await client.get("/v1/apps", headers=headers_for(admin_key))).status_code == 200


def _rate(response: httpx.Response) -> tuple[int, int]:
    header = response.headers["X-Rate-Limit"]
    assert header.startswith("user-hour-lim:") and header.endswith(";")
    parts = dict(part.split(":") for part in header.rstrip(";").split(";"))
    return int(parts["user-hour-lim"]), int(parts["user-hour-rem"])


async def test_rate_limit_header_on_every_response(
    client: httpx.AsyncClient, state: SandboxState, admin_key: SandboxKey, headers_for: AnyHeaders
) -> None:
    ok = await client.get("/v1/apps", headers=headers_for(admin_key))
    assert _rate(ok) == (3600, 3599)
    not_found = await client.get("/v1/apps/1", headers=headers_for(admin_key))
    assert not_found.status_code == 404 and _rate(not_found) == (3600, 3598)
    bad = await client.get("/v1/apps", params={"limit": "201"}, headers=headers_for(admin_key))
    assert bad.status_code == 400 and _rate(bad) == (3600, 3597)
    unknown_route = await client.get("/v1/nothingHere", headers=headers_for(admin_key))
    assert_error(unknown_route, 404, "NOT_FOUND")
    forbidden = await client.get("/v1/users", headers=headers_for(state.add_key(roles=["SALES"])))
    assert forbidden.status_code == 403 and _rate(forbidden) == (3600, 3599)
    unauthenticated = await client.get("/v1/apps")
    assert unauthenticated.status_code == 401 and _rate(unauthenticated) == (3600, 3600)
    admin_key.revoked = True
    revoked = await client.get("/v1/apps", headers=headers_for(admin_key))
    assert revoked.status_code == 401 and _rate(revoked) == (3600, 3596)


async def test_hourly_limit_and_rolling_window(
    client: httpx.AsyncClient, admin_key: SandboxKey, headers_for: AnyHeaders, clock: FakeClock
) -> None:
    admin_key.hour_limit = 3
    remaining = [_rate(await client.get("/v1/apps", headers=headers_for(admin_key)))[1]]
    clock.advance(minutes=30)
    for _ in range(2):
        remaining.append(_rate(await client.get("/v1/apps", headers=headers_for(admin_key)))[1])
    assert remaining == [2, 1, 0]
    limited = await client.get("/v1/apps", headers=headers_for(admin_key))
    error = assert_error(limited, 429, "RATE_LIMIT_EXCEEDED")
    assert error["title"] == "The request rate limit has been reached."
    assert _rate(limited) == (3, 0)
    assert "Retry-After" not in limited.headers
    clock.advance(minutes=31)  # the first request left the window
    assert (await client.get("/v1/apps", headers=headers_for(admin_key))).status_code == 200
    assert_error(
        await client.get("/v1/apps", headers=headers_for(admin_key)), 429, "RATE_LIMIT_EXCEEDED"
    )


async def test_forced_remaining_and_retry_after(
    client: httpx.AsyncClient, admin_key: SandboxKey, headers_for: AnyHeaders
) -> None:
    admin_key.set_remaining(1)
    admin_key.send_retry_after = True
    first = await client.get("/v1/apps", headers=headers_for(admin_key))
    assert first.status_code == 200 and _rate(first) == (3600, 0)
    limited = await client.get("/v1/apps", headers=headers_for(admin_key))
    assert_error(limited, 429, "RATE_LIMIT_EXCEEDED")
    assert 3500 < int(limited.headers["Retry-After"]) <= 3600
    admin_key.set_remaining(10)
    assert _rate(await client.get("/v1/apps", headers=headers_for(admin_key))) == (3600, 9)


async def test_concurrency_and_request_log(
    client: httpx.AsyncClient, state: SandboxState, admin_key: SandboxKey, headers_for: AnyHeaders
) -> None:
    other = state.add_key()
    state.latency_seconds = 0.05
    calls = [client.get("/v1/apps", headers=headers_for(admin_key)) for _ in range(4)]
    calls.append(client.get("/v1/apps", params={"limit": "2"}, headers=headers_for(other)))
    responses = await asyncio.gather(*calls)
    assert all(r.status_code == 200 for r in responses)
    assert state.max_concurrency[admin_key.key_id] == 4
    assert state.max_concurrency[other.key_id] == 1
    assert state.in_flight[admin_key.key_id] == 0
    records = state.requests_for(other.key_id)
    assert len(records) == 1
    assert records[0].method == "GET" and records[0].path == "/v1/apps"
    assert records[0].query == [("limit", "2")] and records[0].status == 200
    assert records[0].duration_seconds >= 0.05
    assert records[0].started_at <= records[0].ended_at

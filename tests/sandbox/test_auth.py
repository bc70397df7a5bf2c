from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from app.sandbox import SandboxKey, SandboxState
from app.sandbox.state import utc_now
from tests.sandbox.conftest import FakeClock
from tests.sandbox.helpers import assert_error, bearer, mint

TITLE = "Authentication credentials are missing or invalid."
DETAIL_START = "Provide a properly configured and signed bearer token"


async def test_valid_team_token(client: httpx.AsyncClient, admin_headers: dict[str, str]) -> None:
    response = await client.get("/v1/apps", headers=admin_headers)
    assert response.status_code == 200


async def test_valid_individual_token(
    client: httpx.AsyncClient, state: SandboxState, clock: FakeClock
) -> None:
    key = state.add_key(roles=("DEVELOPER",), key_type="individual")
    token = mint(key, clock.now)
    assert (await client.get("/v1/apps", headers=bearer(token))).status_code == 200


async def test_twenty_minutes_is_the_maximum_lifetime(
    client: httpx.AsyncClient, admin_key: SandboxKey, clock: FakeClock
) -> None:
    token = mint(admin_key, clock.now, lifetime=timedelta(minutes=20))
    assert (await client.get("/v1/apps", headers=bearer(token))).status_code == 200


@pytest.mark.parametrize(
    "options",
    [
        pytest.param({"claims": {"aud": "appstoreconnect-v2"}}, id="wrong-aud"),
        pytest.param({"drop": ("aud",)}, id="missing-aud"),
        pytest.param({"lifetime": timedelta(minutes=21)}, id="exp-more-than-20-min-ahead"),
        pytest.param({"lifetime": timedelta(minutes=-1)}, id="expired"),
        pytest.param({"drop": ("exp",)}, id="missing-exp"),
        pytest.param({"claims": {"exp": "soon"}}, id="exp-not-a-number"),
        pytest.param({"drop": ("iss",)}, id="team-key-without-iss"),
        pytest.param({"claims": {"iss": "00000000-0000-4000-8000-000000000000"}}, id="wrong-iss"),
        pytest.param({"kid": "ZZZZZZZZZZ"}, id="unknown-kid"),
        pytest.param({"algorithm": "HS256"}, id="not-es256"),
    ],
)
async def test_rejected_tokens(
    client: httpx.AsyncClient, admin_key: SandboxKey, clock: FakeClock, options: dict[str, object]
) -> None:
    token = mint(admin_key, clock.now, **options)  # type: ignore[arg-type]
    error = assert_error(await client.get("/v1/apps", headers=bearer(token)), 401, "NOT_AUTHORIZED")
    assert error["title"] == TITLE
    assert error["detail"].startswith(DETAIL_START)


async def test_bad_signature(
    client: httpx.AsyncClient, state: SandboxState, admin_key: SandboxKey, clock: FakeClock
) -> None:
    other = state.add_key()
    token = mint(admin_key, clock.now, signing_pem=other.private_key_pem)
    assert_error(await client.get("/v1/apps", headers=bearer(token)), 401, "NOT_AUTHORIZED")


@pytest.mark.parametrize(
    "authorization", [None, "", "Bearer", "Bearer not-a-jwt", "Basic dXNlcjpwYXNz"]
)
async def test_missing_or_malformed_header(
    client: httpx.AsyncClient, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    assert_error(await client.get("/v1/apps", headers=headers), 401, "NOT_AUTHORIZED")


async def test_individual_key_rules(
    client: httpx.AsyncClient, state: SandboxState, clock: FakeClock
) -> None:
    key = state.add_key(key_type="individual")
    with_iss = mint(key, clock.now, claims={"iss": key.issuer_id})
    without_sub = mint(key, clock.now, drop=("sub",))
    for token in (with_iss, without_sub):
        assert_error(await client.get("/v1/apps", headers=bearer(token)), 401, "NOT_AUTHORIZED")


async def test_revoked_key(
    client: httpx.AsyncClient, admin_key: SandboxKey, admin_headers: dict[str, str]
) -> None:
    admin_key.revoked = True
    assert_error(await client.get("/v1/apps", headers=admin_headers), 401, "NOT_AUTHORIZED")
    admin_key.revoked = False
    assert (await client.get("/v1/apps", headers=admin_headers)).status_code == 200


async def test_expiry_is_judged_on_the_sandbox_clock(
    client: httpx.AsyncClient, admin_key: SandboxKey, clock: FakeClock
) -> None:
    token = mint(admin_key, clock.now, lifetime=timedelta(minutes=10))
    assert (await client.get("/v1/apps", headers=bearer(token))).status_code == 200
    clock.advance(minutes=11)
    assert_error(await client.get("/v1/apps", headers=bearer(token)), 401, "NOT_AUTHORIZED")


async def test_token_clock_can_follow_real_time(
    client: httpx.AsyncClient, state: SandboxState, admin_key: SandboxKey
) -> None:
    real_token = mint(admin_key, utc_now())  # the fake clock is in June 2025
    assert_error(await client.get("/v1/apps", headers=bearer(real_token)), 401, "NOT_AUTHORIZED")
    state.token_clock = utc_now
    assert (await client.get("/v1/apps", headers=bearer(real_token))).status_code == 200


def test_demo_key_is_deterministic_and_helper_token_works() -> None:
    first, second = SandboxState(seed=7).default_demo_key(), SandboxState(seed=7).default_demo_key()
    assert first.key_id == second.key_id and first.private_key_pem == second.private_key_pem
    assert first.private_key_pem.startswith("-----BEGIN PRIVATE KEY-----")
    assert len(first.key_id) == 10 and first.key_id.isalnum() and first.key_id.isupper()
    assert SandboxState(seed=8).default_demo_key().key_id != first.key_id
    assert first.mint_token().count(".") == 2

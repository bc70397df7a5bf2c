"""OAuth 2 client credentials (FACTS §1): the client secret JWT, the token, its lifetime."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from app.sandbox.searchads import AdsCredential, AdsOptions, AppleAdsState, create_apple_ads_app
from app.sandbox.searchads.oauth import secret_is_valid
from app.sandbox.searchads.state import utc_now
from tests.sandbox.conftest import FakeClock
from tests.sandbox.searchads.helpers import (
    TOKEN_PATH,
    client_secret,
    token_params,
    v1_error,
    v1_headers,
    v5_error,
    v5_headers,
)


async def _post_without_logging(state: AppleAdsState, params: dict[str, str]) -> httpx.Response:
    """Apple's curl puts the secret in the query string; httpx's client would log that URL
    (and the secrets guard would rightly fail the session), so go to the transport directly."""
    transport = httpx.ASGITransport(app=create_apple_ads_app(state))
    url = httpx.URL("https://ads.sandbox.test" + TOKEN_PATH, params=params)
    response = await transport.handle_async_request(httpx.Request("POST", url))
    await response.aread()
    return response


async def test_token_from_query_string_and_from_form_body(
    ads_client: httpx.AsyncClient,
    ads_state: AppleAdsState,
    credential: AdsCredential,
    ads_clock: FakeClock,
) -> None:
    params = token_params(credential, client_secret(credential, ads_clock.now))
    for response in (
        await _post_without_logging(ads_state, params),  # Apple's curl: query, empty body
        await ads_client.post(TOKEN_PATH, data=params),  # most clients: form body
    ):
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
        assert body["scope"] == "searchadsorg" and body["access_token"]
        assert response.headers["cache-control"] == "no-store"
    me = await ads_client.get("/v1/me", headers=v1_headers(body["access_token"]))
    assert me.json()["result"] == {"userId": credential.user_id, "orgId": credential.org.org_id}


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"lifetime": timedelta(seconds=-10)}, "expired"),
        ({"lifetime": timedelta(days=181)}, "exp more than 180 days after iat"),
        ({"claims": {"iat": 2_000_000_000}}, "issued in the future"),
        ({"claims": {"aud": "https://example.com"}}, "wrong audience"),
        ({"claims": {"iss": "SEARCHADS.someone-else"}}, "iss is not the team id"),
        ({"claims": {"sub": "SEARCHADS.someone-else"}}, "sub is not the client id"),
        ({"drop": ("exp",)}, "no exp"),
        ({"drop": ("iat",)}, "no iat"),
        ({"kid": "00000000-0000-4000-8000-000000000000"}, "kid is not the key id"),
        ({"algorithm": "HS256"}, "not ES256"),
    ],
)
async def test_bad_client_secrets_are_invalid_client(
    ads_client: httpx.AsyncClient,
    credential: AdsCredential,
    ads_clock: FakeClock,
    change: dict[str, object],
    why: str,
) -> None:
    secret = client_secret(credential, ads_clock.now, **change)  # type: ignore[arg-type]
    response = await ads_client.post(TOKEN_PATH, data=token_params(credential, secret))
    assert response.status_code == 400, why
    assert response.json() == {"error": "invalid_client"}


async def test_secret_signed_with_another_key_is_rejected(
    ads_client: httpx.AsyncClient,
    ads_state: AppleAdsState,
    credential: AdsCredential,
    ads_clock: FakeClock,
) -> None:
    other = ads_state.add_credential()
    forged = client_secret(credential, ads_clock.now, signing_pem=other.private_key_pem)
    response = await ads_client.post(TOKEN_PATH, data=token_params(credential, forged))
    assert response.status_code == 400 and response.json() == {"error": "invalid_client"}


async def test_180_days_is_the_longest_lifetime(
    credential: AdsCredential, ads_clock: FakeClock
) -> None:
    now, options = ads_clock.now, AdsOptions()
    longest = client_secret(credential, now, lifetime=timedelta(days=180))
    assert secret_is_valid(longest, credential, now, options)
    assert not secret_is_valid("not-a-jwt", credential, now, options)


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"grant_type": "authorization_code"}, "unsupported_grant_type"),
        ({"grant_type": None}, "invalid_request"),
        ({"client_secret": None}, "invalid_request"),
        ({"scope": "something"}, "invalid_scope"),
        ({"client_id": "SEARCHADS.unknown"}, "invalid_client"),
    ],
)
async def test_malformed_token_requests(
    ads_client: httpx.AsyncClient,
    credential: AdsCredential,
    ads_clock: FakeClock,
    params: dict[str, str | None],
    error: str,
) -> None:
    data = token_params(credential, client_secret(credential, ads_clock.now))
    data.update({k: v for k, v in params.items() if v is not None})
    for name in [k for k, v in params.items() if v is None]:
        data.pop(name)
    response = await ads_client.post(TOKEN_PATH, data=data)
    assert response.status_code == 400 and response.json() == {"error": error}


async def test_revoked_credential_loses_token_and_cannot_mint(
    ads_client: httpx.AsyncClient, credential: AdsCredential, token: str, ads_clock: FakeClock
) -> None:
    assert (await ads_client.get("/v1/acls", headers=v1_headers(token))).status_code == 200
    credential.revoked = True
    v1_error(await ads_client.get("/v1/acls", headers=v1_headers(token)), 401, "UNAUTHORIZED")
    v5_error(await ads_client.get("/api/v5/acls", headers=v5_headers(token)), 401, "UNAUTHORIZED")
    secret = client_secret(credential, ads_clock.now)
    response = await ads_client.post(TOKEN_PATH, data=token_params(credential, secret))
    assert response.json() == {"error": "invalid_client"}


async def test_access_token_expires_after_one_hour(
    ads_client: httpx.AsyncClient, token: str, ads_clock: FakeClock
) -> None:
    ads_clock.advance(minutes=59)
    assert (await ads_client.get("/v1/acls", headers=v1_headers(token))).status_code == 200
    ads_clock.advance(minutes=1)
    v1_error(await ads_client.get("/v1/acls", headers=v1_headers(token)), 401, "UNAUTHORIZED")
    v5_error(await ads_client.get("/api/v5/me", headers=v5_headers(token)), 401)
    v1_error(await ads_client.get("/v1/acls", headers=v1_headers("made-up")), 401)
    v1_error(await ads_client.get("/v1/acls"), 401)


async def test_variant_token_errors_with_401(
    ads_client: httpx.AsyncClient, credential: AdsCredential, ads_clock: FakeClock
) -> None:
    credential.options = AdsOptions(token_error_status=401)
    secret = client_secret(credential, ads_clock.now, lifetime=timedelta(seconds=-1))
    response = await ads_client.post(TOKEN_PATH, data=token_params(credential, secret))
    assert response.status_code == 401 and response.json() == {"error": "invalid_client"}


async def test_variant_minimum_secret_lifetime(
    ads_client: httpx.AsyncClient, credential: AdsCredential, ads_clock: FakeClock
) -> None:
    """FACTS §1: invalid_client seen with a ~9 h exp (unconfirmed): a minimum per option."""
    credential.options = AdsOptions(min_secret_lifetime=timedelta(days=1))
    short = client_secret(credential, ads_clock.now, lifetime=timedelta(hours=9))
    response = await ads_client.post(TOKEN_PATH, data=token_params(credential, short))
    assert response.json() == {"error": "invalid_client"}
    day = client_secret(credential, ads_clock.now, lifetime=timedelta(days=1))
    assert (await ads_client.post(TOKEN_PATH, data=token_params(credential, day))).is_success


async def test_token_clock_lets_clients_sign_with_real_time(
    ads_client: httpx.AsyncClient, ads_state: AppleAdsState, credential: AdsCredential
) -> None:
    secret = client_secret(credential, utc_now())
    response = await ads_client.post(TOKEN_PATH, data=token_params(credential, secret))
    assert response.json() == {"error": "invalid_client"}  # iat years after the fake now
    ads_state.token_clock = utc_now
    response = await ads_client.post(TOKEN_PATH, data=token_params(credential, secret))
    assert response.status_code == 200
    log = [r for r in ads_state.requests if r.api == "oauth"]
    assert [r.status for r in log] == [400, 200] and log[0].error_code == "invalid_client"


async def test_variant_team_id_equal_to_client_id(
    ads_client: httpx.AsyncClient, ads_state: AppleAdsState, ads_clock: FakeClock
) -> None:
    """Apple's example shows the same SEARCHADS.<uuid> for both; by default they differ."""
    assert ads_state.add_credential().team_id != ads_state.add_credential().client_id
    same = ads_state.add_credential(team_id_equals_client_id=True)
    assert same.team_id == same.client_id
    secret = client_secret(same, ads_clock.now)
    assert (await ads_client.post(TOKEN_PATH, data=token_params(same, secret))).is_success

"""Helpers for Apple Ads sandbox tests: client secrets minted with pyjwt directly (independent
of Orchard's client), token fetching, headers, paging loops and Money parsing."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import jwt

from app.sandbox.searchads import AdsAccount, AdsCredential

TOKEN_PATH = "/auth/oauth2/token"


def client_secret(
    credential: AdsCredential,
    now: datetime,
    *,
    lifetime: timedelta = timedelta(days=1),
    claims: dict[str, Any] | None = None,
    drop: tuple[str, ...] = (),
    kid: str | None = None,
    signing_pem: str | None = None,
    algorithm: str = "ES256",
) -> str:
    """FACTS §1: header alg ES256 + kid; claims sub, aud, iss, iat, exp."""
    payload: dict[str, Any] = {
        "sub": credential.client_id,
        "aud": "https://appleid.apple.com",
        "iss": credential.team_id,
        "iat": int(now.timestamp()),
        "exp": int((now + lifetime).timestamp()),
    }
    payload.update(claims or {})
    for name in drop:
        payload.pop(name, None)
    key: Any = signing_pem or credential.private_key_pem
    if algorithm.startswith("HS"):
        key = "a-shared-secret-that-is-long-enough-for-hmac-sha256"
    return jwt.encode(payload, key, algorithm=algorithm, headers={"kid": kid or credential.key_id})


def token_params(credential: AdsCredential, secret: str) -> dict[str, str]:
    return {
        "grant_type": "client_credentials",
        "client_id": credential.client_id,
        "client_secret": secret,
        "scope": "searchadsorg",
    }


async def fetch_token(client: httpx.AsyncClient, credential: AdsCredential, now: datetime) -> str:
    response = await client.post(
        TOKEN_PATH, data=token_params(credential, client_secret(credential, now))
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def v1_headers(
    token: str, account: AdsAccount | None = None, *, semicolon: bool = True
) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {token}"}
    if account is not None:
        headers["X-AP-Context"] = f"adAccountId={account.ad_account_id}" + (
            ";" if semicolon else ""
        )
    return headers


def v5_headers(token: str, account: AdsAccount | None = None) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {token}"}
    if account is not None:
        headers["X-AP-Context"] = f"orgId={account.org_id}"
    return headers


def amount(money: dict[str, str]) -> Decimal:
    return Decimal(money["amount"])


async def v1_all(
    client: httpx.AsyncClient,
    path: str,
    headers: dict[str, str],
    body: dict[str, Any],
    page_size: int,
) -> tuple[list[Any], int]:
    """Every item of a v1 query, paging until a short page; returns (items, requests)."""
    items: list[Any] = []
    offset = calls = 0
    while True:
        page = {**body, "pagination": {"offset": offset, "pageSize": page_size}}
        response = await client.post(path, headers=headers, json=page)
        calls += 1
        assert response.status_code == 200, response.text
        result = response.json()["result"]
        batch = result["rows"] if isinstance(result, dict) else result
        items += batch
        if len(batch) < page_size:
            return items, calls
        offset += page_size


def v1_error(response: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    """FACTS §9: ``{"error": {"code", "message", "details": [...]}}``."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    if code is not None:
        assert body["error"]["code"] == code, body
    return dict(body["error"])


def v5_error(response: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    """FACTS §4: ``{"data": null, "pagination": null, "error": {"errors": [...]}}``."""
    assert response.status_code == status, response.text
    body = response.json()
    assert body["data"] is None and body["pagination"] is None
    [error] = body["error"]["errors"]
    assert set(error) == {"messageCode", "message", "field"}
    if code is not None:
        assert error["messageCode"] == code, error
    return dict(error)

"""Linking Apple Ads credentials the way a user does (``POST /v1/search-ads/accounts``)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from app.sandbox.searchads import AdsCredential
from tests.fixtures.accounts import Tenant


def link_body(credential: AdsCredential, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "Ads",
        "client_id": credential.client_id,
        "team_id": credential.team_id,
        "key_id": credential.key_id,
        "private_key": credential.private_key_pem,
    }
    body.update(extra)
    return body


async def link(
    client: httpx.AsyncClient, tenant: Tenant, credential: AdsCredential, **extra: Any
) -> httpx.Response:
    return await client.post(
        "/v1/search-ads/accounts", json=link_body(credential, **extra), headers=tenant.headers()
    )


async def link_ok(
    client: httpx.AsyncClient, tenant: Tenant, credential: AdsCredential, **extra: Any
) -> dict[str, Any]:
    response = await link(client, tenant, credential, **extra)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    uuid.UUID(body["id"])
    return body

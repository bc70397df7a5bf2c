from __future__ import annotations

from typing import Any

import httpx

from app.sandbox.state import SandboxKey
from tests.fixtures.accounts import Tenant


def link_body(
    key: SandboxKey, *, name: str = "Acme", vendor: bool = True, **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": name,
        "key_id": key.key_id,
        "private_key": key.private_key_pem,
        "key_type": key.key_type,
    }
    if key.key_type == "team":
        body["issuer_id"] = key.issuer_id
    if vendor:
        body["vendor_number"] = key.vendor_number
    body.update(extra)
    return body


async def link(
    client: httpx.AsyncClient, tenant: Tenant, key: SandboxKey, **kwargs: Any
) -> httpx.Response:
    params = kwargs.pop("params", None)
    return await client.post(
        "/v1/accounts", json=link_body(key, **kwargs), headers=tenant.headers(), params=params
    )

"""The SSRF guard: private, loopback and link-local receivers are refused unless allowed, and
the name is resolved and checked again at every delivery (DNS rebinding)."""

from __future__ import annotations

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from app.webhooks import network
from app.webhooks.network import UnsafeUrl
from tests.fixtures.accounts import Tenant
from tests.webhooks.helpers import (
    HOST,
    PUBLIC,
    FakeDns,
    Receiver,
    dispatcher,
    emit,
    make_sender,
    subscribe,
)

REFUSED = [
    "127.0.0.1",
    "127.8.9.10",
    "10.0.0.1",
    "172.16.5.4",
    "192.168.1.1",
    "169.254.169.254",  # cloud metadata
    "100.64.0.1",  # shared address space (carrier NAT)
    "0.0.0.0",
    "::1",
    "fe80::1",
    "fd00::1",
    "::ffff:127.0.0.1",  # IPv4-mapped loopback
    "::ffff:169.254.169.254",
]


@pytest.mark.parametrize("address", REFUSED)
async def test_internal_addresses_are_refused(address: str) -> None:
    dns = FakeDns({"sneaky.example.com": [address]})
    for url in ("https://sneaky.example.com/hook", _literal(address)):
        with pytest.raises(UnsafeUrl) as refused:
            await network.resolve(url, dns, allow_private=False)
        assert refused.value.code in ("private_address", "address")


@pytest.mark.parametrize("address", [a for a in REFUSED if a not in ("0.0.0.0",)])
async def test_allow_private_lets_local_receivers_through(address: str) -> None:
    dns = FakeDns({"local.test": [address]})
    target = await network.resolve("http://local.test:8080/hook", dns, allow_private=True)
    assert target.address == address
    assert target.headers == {"Host": "local.test:8080"}


async def test_one_internal_address_among_public_ones_is_enough_to_refuse() -> None:
    dns = FakeDns({"mixed.example.com": [PUBLIC, "10.0.0.7"]})
    with pytest.raises(UnsafeUrl):
        await network.resolve("https://mixed.example.com/", dns, allow_private=False)


async def test_the_request_goes_to_the_checked_address_with_the_name_kept() -> None:
    target = await network.resolve(f"https://{HOST}:8443/a?b=1", FakeDns(), allow_private=False)
    assert str(target.url) == f"https://{PUBLIC}:8443/a?b=1"
    assert target.headers == {"Host": f"{HOST}:8443"}
    assert target.extensions == {"sni_hostname": HOST}


def _literal(address: str) -> str:
    return f"https://[{address}]/hook" if ":" in address else f"https://{address}/hook"


async def test_dns_is_checked_again_at_delivery_time(
    hooked: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    receiver: Receiver,
    dns: FakeDns,
    db: asyncpg.Connection,
) -> None:
    await subscribe(client, tenant, "/a", ["review.created"])  # HOST was public then
    dns.records[HOST] = ["169.254.169.254"]  # … and now points at the metadata service
    await emit(hooked, tenant, "review.created", {"n": 1})
    sender = make_sender(receiver, dns)
    assert await dispatcher(hooked, sender).run_once() == 1
    assert receiver.requests == []  # nothing left the building
    row = await db.fetchrow("SELECT * FROM webhook_deliveries")
    assert row["state"] == "pending" and row["last_status_code"] is None
    assert "169.254.169.254, a link-local address" in row["last_error"]
    assert dns.lookups.count(HOST) == 2  # at creation and at delivery


async def test_http_needs_the_private_switch_at_delivery_too(
    hooked: FastAPI,
    tenant: Tenant,
    receiver: Receiver,
    dns: FakeDns,
    db: asyncpg.Connection,
) -> None:
    await db.execute(
        "INSERT INTO webhook_endpoints (id, workspace_id, url, event_types, encrypted_secret) "
        "VALUES (gen_random_uuid(), $1, $2, '{*}', $3)",
        tenant.workspace_id,
        f"http://{HOST}/a",
        hooked.state.asc_clients.cipher.encrypt("whsec_" + "A" * 44),
    )
    await emit(hooked, tenant, "review.created", {"n": 1})
    await dispatcher(hooked, make_sender(receiver, dns)).run_once()
    assert receiver.requests == []
    assert "must be https://" in await db.fetchval("SELECT last_error FROM webhook_deliveries")

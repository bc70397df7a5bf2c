"""Linking accounts end to end against the sandbox, for every credential state."""

import hashlib

import asyncpg
import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from app.sandbox.state import SandboxState
from tests.fixtures.accounts import Tenant, link, link_body

ALL_CAPABILITIES = {"sales", "finance", "reviews", "testflight", "users", "analytics"}


def _fingerprint(pem: str) -> str:
    key = serialization.load_pem_private_key(pem.encode(), None)
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(der).hexdigest()


async def test_admin_key_links_active_with_every_capability(
    client: httpx.AsyncClient, tenant: Tenant, sandbox: SandboxState
) -> None:
    key = sandbox.add_key("acme", roles=["ADMIN"])
    response = await link(client, tenant, key)
    assert response.status_code == 201, response.text
    account = response.json()
    assert account["credential_status"] == "active"
    assert account["status_reason"] is None
    assert account["last_verified_at"] is not None
    assert set(account["capabilities"]) == ALL_CAPABILITIES
    assert all(c["available"] for c in account["capabilities"].values())
    assert account["key_fingerprint"] == _fingerprint(key.private_key_pem)
    assert account["vendor_number"] == key.vendor_number
    assert "private_key" not in account
    assert "PRIVATE KEY" not in response.text

    fetched = await client.get(f"/v1/accounts/{account['id']}", headers=tenant.headers())
    assert fetched.json() == account
    listed = await client.get("/v1/accounts", headers=tenant.headers())
    assert [a["id"] for a in listed.json()["items"]] == [account["id"]]

    # The probes asked Apple the way FACTS says: a report with the vendor number, and so on.
    paths = [r.path for r in sandbox.requests if r.key_id == key.key_id]
    assert paths[0] == "/v1/apps"
    assert {"/v1/salesReports", "/v1/financeReports", "/v1/users", "/v1/builds"} <= set(paths)
    assert any(p.endswith("/analyticsReportRequests") for p in paths)


async def test_developer_key_is_missing_role_and_says_which(
    client: httpx.AsyncClient, tenant: Tenant, sandbox: SandboxState
) -> None:
    key = sandbox.add_key("acme", roles=["DEVELOPER"])
    response = await link(client, tenant, key)
    assert response.status_code == 201, response.text
    account = response.json()
    assert account["credential_status"] == "missing_role"
    assert "Admin, Finance or Sales" in account["status_reason"]
    caps = account["capabilities"]
    assert caps["sales"]["available"] is False
    assert "Admin, Finance or Sales role" in caps["sales"]["reason"]
    assert caps["finance"]["available"] is False
    assert caps["testflight"]["available"] is True
    assert caps["users"]["available"] is False
    assert "Admin role" in caps["users"]["reason"]
    assert caps["analytics"]["available"] is False
    assert "Admin, Sales and Reports or Finance role" in caps["analytics"]["reason"]


async def test_sales_key_is_active_without_finance(
    client: httpx.AsyncClient, tenant: Tenant, sandbox: SandboxState
) -> None:
    key = sandbox.add_key("acme", roles=["SALES"])
    account = (await link(client, tenant, key)).json()
    assert account["credential_status"] == "active"
    assert account["capabilities"]["sales"]["available"] is True
    assert account["capabilities"]["finance"]["available"] is False


async def test_agreement_missing_is_its_own_state(
    client: httpx.AsyncClient, tenant: Tenant, sandbox: SandboxState
) -> None:
    key = sandbox.add_key("acme", roles=["ADMIN"], agreement_missing=True)
    response = await link(client, tenant, key)
    assert response.status_code == 201, response.text
    account = response.json()
    assert account["credential_status"] == "agreement_required"
    assert account["status_code"] == "FORBIDDEN.REQUIRED_AGREEMENTS_MISSING_OR_EXPIRED"
    assert "Account Holder" in account["status_reason"]


async def test_wrong_vendor_number_is_reported(
    client: httpx.AsyncClient, tenant: Tenant, sandbox: SandboxState
) -> None:
    key = sandbox.add_key("acme", roles=["ADMIN"])
    response = await link(client, tenant, key, vendor_number="99999999")
    account = response.json()
    assert account["credential_status"] == "invalid_vendor_number"
    assert "Payments and Financial Reports" in account["status_reason"]
    assert account["capabilities"]["sales"]["available"] is False


async def test_individual_key_needs_no_issuer_and_cannot_read_reports(
    client: httpx.AsyncClient, tenant: Tenant, sandbox: SandboxState
) -> None:
    key = sandbox.add_key("acme", roles=["ADMIN"], key_type="individual")
    response = await link(client, tenant, key, vendor=False)
    assert response.status_code == 201, response.text
    account = response.json()
    assert account["issuer_id"] is None
    assert account["credential_status"] == "active"
    assert "individual keys" in account["capabilities"]["sales"]["reason"]


async def test_revoked_key_is_rejected_and_nothing_is_stored(
    client: httpx.AsyncClient, tenant: Tenant, sandbox: SandboxState, db: asyncpg.Connection
) -> None:
    key = sandbox.add_key("acme", roles=["ADMIN"], revoked=True)
    response = await link(client, tenant, key)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"] == "/problems/credentials_rejected"
    assert problem["apple_code"] == "NOT_AUTHORIZED"
    assert "revoked" in problem["detail"]
    assert "PRIVATE KEY" not in response.text
    assert await db.fetchval("SELECT count(*) FROM asc_accounts") == 0


async def test_verify_false_stores_unverified_then_verify_checks(
    client: httpx.AsyncClient, tenant: Tenant, sandbox: SandboxState
) -> None:
    key = sandbox.add_key("acme", roles=["ADMIN"])
    response = await link(client, tenant, key, verify=False)
    assert response.status_code == 201
    account = response.json()
    assert account["credential_status"] == "unverified"
    assert account["capabilities"] == {}
    assert not [r for r in sandbox.requests if r.key_id == key.key_id]

    verified = await client.post(f"/v1/accounts/{account['id']}/verify", headers=tenant.headers())
    assert verified.status_code == 200
    assert verified.json()["credential_status"] == "active"


async def test_duplicate_key_is_409(
    client: httpx.AsyncClient, tenant: Tenant, sandbox: SandboxState
) -> None:
    key = sandbox.add_key("acme")
    assert (await link(client, tenant, key)).status_code == 201
    again = await link(client, tenant, key, name="again")
    assert again.status_code == 409


async def test_pasted_key_forms_are_accepted(
    client: httpx.AsyncClient, tenant: Tenant, sandbox: SandboxState
) -> None:
    bare = sandbox.add_key("acme")
    body_only = "".join(
        line for line in bare.private_key_pem.splitlines() if not line.startswith("-----")
    )
    response = await client.post(
        "/v1/accounts",
        json=link_body(bare, private_key=body_only),
        headers=tenant.headers(),
        params={"verify": "false"},
    )
    assert response.status_code == 201, response.text

    escaped = sandbox.add_key("acme")
    literal = escaped.private_key_pem.replace("\n", "\\n")
    response = await client.post(
        "/v1/accounts",
        json=link_body(escaped, private_key=literal),
        headers=tenant.headers(),
        params={"verify": "false"},
    )
    assert response.status_code == 201, response.text


def _pem(key: object) -> str:
    return key.private_bytes(  # type: ignore[attr-defined]
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


async def test_bad_input_names_the_field_and_never_echoes_the_key(
    client: httpx.AsyncClient, tenant: Tenant, sandbox: SandboxState, db: asyncpg.Connection
) -> None:
    key = sandbox.add_key("acme")
    rsa_pem = _pem(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    p384_pem = _pem(ec.generate_private_key(ec.SECP384R1()))
    garbage = "-----BEGIN PRIVATE KEY-----\nTm90IGEga2V5IGF0IGFsbA==\n-----END PRIVATE KEY-----"
    cases = [
        ({"private_key": rsa_pem}, "body.private_key", rsa_pem),
        ({"private_key": p384_pem}, "body.private_key", p384_pem),
        ({"private_key": garbage}, "body.private_key", "Tm90IGEga2V5"),
        ({"private_key": "x" * 20_000}, "body.private_key", "x" * 100),
        ({"key_id": "short"}, "body.key_id", None),
        ({"issuer_id": "not-a-uuid"}, "body.issuer_id", None),
        ({"vendor_number": "12ab"}, "body.vendor_number", None),
        ({"key_type": "robot"}, "body.key_type", None),
    ]
    for override, field, secret in cases:
        response = await client.post(
            "/v1/accounts", json=link_body(key, **override), headers=tenant.headers()
        )
        assert response.status_code == 422, (override, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert field in [e["field"] for e in response.json()["errors"]], response.text
        if secret:
            body_lines = [ln for ln in secret.splitlines() if not ln.startswith("-----")]
            for line in body_lines[:3]:
                assert line not in response.text

    no_issuer = link_body(key)
    del no_issuer["issuer_id"]
    response = await client.post("/v1/accounts", json=no_issuer, headers=tenant.headers())
    assert response.status_code == 422
    assert "issuer_id is required for team keys" in response.text
    assert await db.fetchval("SELECT count(*) FROM asc_accounts") == 0

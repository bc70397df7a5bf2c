from __future__ import annotations

import stat
from pathlib import Path

import httpx

from app.sandbox import SandboxState
from app.sandbox.server import startup_message, write_key_file
from app.sandbox.state import SandboxKey
from tests.sandbox.conftest import FakeClock
from tests.sandbox.helpers import assert_error, bearer, mint


async def test_create_key_and_use_it(
    client: httpx.AsyncClient, state: SandboxState, clock: FakeClock
) -> None:
    created = await client.post(
        "/sandbox/keys",
        json={"team": "Acme Mobile", "apps": 5, "roles": ["SALES"], "hour_limit": 50},
    )
    assert created.status_code == 201, created.text
    data = created.json()
    assert data["private_key_pem"].startswith("-----BEGIN PRIVATE KEY-----")
    assert len(data["vendor_number"]) == 8 and data["roles"] == ["SALES"]
    key = state.keys[data["key_id"]]
    assert key.issuer_id == data["issuer_id"] and key.team.app_count == 5
    # A client only has what the admin surface returned: key id, issuer id and the PEM.
    token = mint(key, clock.now, signing_pem=data["private_key_pem"])
    apps = await client.get("/v1/apps", headers=bearer(token))
    assert apps.status_code == 200 and len(apps.json()["data"]) == 5
    assert apps.headers["X-Rate-Limit"] == "user-hour-lim:50;user-hour-rem:49;"
    assert_error(await client.get("/v1/users", headers=bearer(token)), 403, "FORBIDDEN_ERROR")


async def test_patch_key_flags(
    client: httpx.AsyncClient, admin_key: SandboxKey, admin_headers: dict[str, str]
) -> None:
    url = f"/sandbox/keys/{admin_key.key_id}"
    assert (await client.patch(url, json={"agreement_missing": True})).status_code == 200
    assert_error(
        await client.get("/v1/apps", headers=admin_headers),
        403,
        "FORBIDDEN.REQUIRED_AGREEMENTS_MISSING_OR_EXPIRED",
    )
    patched = await client.patch(url, json={"agreement_missing": False, "remaining": 0})
    assert patched.json()["remaining"] == 0
    assert_error(await client.get("/v1/apps", headers=admin_headers), 429, "RATE_LIMIT_EXCEEDED")
    await client.patch(url, json={"remaining": 5, "roles": ["DEVELOPER"]})
    assert_error(await client.get("/v1/users", headers=admin_headers), 403, "FORBIDDEN_ERROR")
    await client.patch(url, json={"revoked": True})
    assert_error(await client.get("/v1/apps", headers=admin_headers), 401, "NOT_AUTHORIZED")
    bad = await client.patch(url, json={"revoked": "yes"})
    assert bad.status_code == 400
    unknown = await client.patch(url, json={"colour": "red"})
    assert unknown.status_code == 400
    assert (await client.patch("/sandbox/keys/NOPE", json={})).status_code == 404


async def test_request_log_and_listing(
    client: httpx.AsyncClient, admin_key: SandboxKey, admin_headers: dict[str, str]
) -> None:
    await client.get("/v1/apps", params={"limit": "1"}, headers=admin_headers)
    await client.get("/v1/apps", params={"limit": "999"}, headers=admin_headers)
    log = (await client.get("/sandbox/requests", params={"key_id": admin_key.key_id})).json()
    assert log["total"] == 2
    assert [r["status"] for r in log["requests"]] == [200, 400]
    assert log["requests"][1]["error_code"] == "PARAMETER_ERROR.INVALID"
    assert log["max_concurrency"][admin_key.key_id] == 1
    keys = (await client.get("/sandbox/keys")).json()["keys"]
    assert [k["key_id"] for k in keys] == [admin_key.key_id]
    assert "private_key_pem" not in keys[0]
    teams = (await client.get("/sandbox/teams")).json()["teams"]
    assert teams[0]["vendor_number"] == admin_key.vendor_number
    assert (await client.delete("/sandbox/requests")).status_code == 204
    assert (await client.get("/sandbox/requests")).json()["total"] == 0
    overview = (await client.get("/sandbox/")).json()
    assert overview["keys"][0]["key_id"] == admin_key.key_id


async def test_admin_validation(client: httpx.AsyncClient) -> None:
    assert (await client.post("/sandbox/keys", content=b"{not json")).status_code == 400
    assert (await client.post("/sandbox/keys", json={"key_type": "robot"})).status_code == 400
    assert (await client.post("/sandbox/keys", json={"roles": []})).status_code == 400
    team = await client.post("/sandbox/teams", json={"name": "Solo Dev", "apps": 1})
    assert team.status_code == 201 and team.json()["apps"] == 1
    again = await client.post("/sandbox/teams", json={"name": "Solo Dev"})
    assert again.status_code == 400


def test_server_helpers(tmp_path: Path) -> None:
    key = SandboxState(seed=42).default_demo_key()
    path = write_key_file(key, tmp_path / "keys")
    assert path.name == f"AuthKey_{key.key_id}.p8"
    assert path.read_text() == key.private_key_pem
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    message = startup_message(key, "http://127.0.0.1:9001", path)
    for value in (key.key_id, key.issuer_id, key.vendor_number, str(path)):
        assert value in message


async def test_a_key_for_a_new_team_never_fails_on_a_taken_derived_vendor_number(
    client: httpx.AsyncClient, state: SandboxState
) -> None:
    # What team "second" would derive with this seed, taken first by a team that chose it.
    derived = SandboxState(seed=state.seed).add_team("second").vendor_number
    taken = await client.post("/sandbox/teams", json={"name": "first", "vendor_number": derived})
    assert taken.status_code == 201, taken.text
    created = await client.post("/sandbox/keys", json={"team": "second"})
    assert created.status_code == 201, created.text
    vendor = created.json()["vendor_number"]
    assert vendor != derived and len(vendor) == 8 and vendor.isdigit()
    # Seeded: the same sandbox world derives the same number again.
    replay = SandboxState(seed=state.seed)
    replay.add_team("first", vendor_number=derived)
    assert replay.add_team("second").vendor_number == vendor
    # A number the caller chose is still refused when another team has it.
    chosen = await client.post("/sandbox/teams", json={"name": "third", "vendor_number": vendor})
    assert chosen.status_code == 400 and "already in use" in chosen.text


def test_ten_thousand_teams_get_distinct_vendor_numbers() -> None:
    # 10^7 derivable numbers: derived numbers of a few thousand teams collide (birthday bound).
    state = SandboxState(seed=7)
    teams = [state.add_team(f"team{n}") for n in range(10_000)]
    assert len({team.vendor_number for team in teams}) == 10_000
    assert all(len(t.vendor_number) == 8 and t.vendor_number[0] == "8" for t in teams)

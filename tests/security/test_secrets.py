"""Secrets never leave: not in logs (the session-wide guard), metrics, OpenAPI or problems."""

from __future__ import annotations

import json
import logging
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from app.auth.tokens import generate_token
from app.cli import OPENAPI_PATH
from tests.secrets_guard import guard_of, scan
from tests.security.world import World

REPO = Path(__file__).resolve().parents[2]
JWT = (
    "eyJhbGciOiJFUzI1NiIsImtpZCI6IjJYOVI0SExYNDMiLCJ0eXAiOiJKV1QifQ"
    ".eyJpc3MiOiI1N2Y0YTkwZSIsImF1ZCI6ImFwcHN0b3JlY29ubmVjdC12MSJ9"
    ".MEUCIQDx3KkZ7mF0o1fXy5m9pY3c8Xl2vB0JtQk1qWl9eRrA"
)


def _pem() -> str:
    return (
        ec.generate_private_key(ec.SECP256R1())
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )


def _key_lines(pem: str) -> list[str]:
    return [line for line in pem.splitlines() if line and not line.startswith("-----")]


# -- the scanner -------------------------------------------------------------------------------


def test_scanner_finds_each_kind_of_secret() -> None:
    token = generate_token()
    text = f"linked with {_pem()!r} using {token} and Authorization: Bearer {JWT}"
    kinds = sorted(kind for kind, _ in scan(text))
    assert kinds == ["JWT", "Orchard token", "PEM block"]
    assert (next(m for k, m in scan(text) if k == "Orchard token")) == token
    # Escaped inside a JSON log line, still found.
    assert [k for k, _ in scan(json.dumps({"extra": _pem()}))] == ["PEM block"]


@pytest.mark.parametrize(
    "text",
    [
        "token orch_abc123 prefix only",  # a display prefix, not a secret
        "display_prefix=orch_Ab3dEf",
        "eyJhbGciOi alone is a header, not a token",
        "BEGIN and END are words",
        "key_id=2X9R4HLX43 issuer=57f4a90e-9f7a-4c1b-8d1a-2f0e6b9c1d3e",
        "-----END PRIVATE KEY-----",
    ],
)
def test_scanner_ignores_what_is_not_a_secret(text: str) -> None:
    assert scan(text) == []


def test_the_guard_catches_a_secret_logged_anywhere(request: pytest.FixtureRequest) -> None:
    """Through the real root handler: a message, an ``extra`` field, an exception."""
    guard = guard_of(request.config)
    token = generate_token()
    logger = logging.getLogger("orchard.some.module")
    with guard.planted() as caught:
        logger.debug("debug lines count too: %s", token)
        logger.info("linked", extra={"private_key": _pem()})
        try:
            raise ValueError(f"bad token {JWT}")
        except ValueError:
            logger.exception("failed")
    assert sorted(f.kind for f in caught) == ["JWT", "Orchard token", "PEM block"]
    for finding in caught:
        assert request.node.nodeid in finding.where
        assert token not in str(finding) and JWT not in str(finding)  # the report redacts
    assert not [f for f in guard.findings if request.node.nodeid in f.where]


@pytest.mark.parametrize("workers", ["0", "2"])
def test_a_leak_fails_the_whole_session(tmp_path: Path, workers: str) -> None:
    """A run whose only test passes but logs a token exits non-zero and names the test, also
    when the test ran in a pytest-xdist worker (the suite's own setting, pyproject.toml)."""
    test_file = tmp_path / "test_leaky.py"
    test_file.write_text(
        textwrap.dedent(
            """
            import logging

            from app.auth.tokens import generate_token

            def test_passes_but_logs_a_token():
                logging.getLogger("orchard.leaky").info("issued %s", generate_token())
            """
        )
    )
    result = subprocess.run(
        [
            *(sys.executable, "-m", "pytest", "-q", "-p", "tests.secrets_guard"),
            *("-n", workers, str(test_file)),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == pytest.ExitCode.TESTS_FAILED, result.stdout + result.stderr
    assert "1 passed" in result.stdout
    assert "secrets in logs" in result.stdout
    assert "Orchard token" in result.stdout and "test_passes_but_logs_a_token" in result.stdout
    assert not re.search(r"orch_[A-Za-z0-9_-]", result.stdout)  # redacted in the report


# -- metrics, OpenAPI, problems ----------------------------------------------------------------


def _assert_no_secrets(text: str, world: World, where: str) -> None:
    assert not scan(text), f"{where}: {[kind for kind, _ in scan(text)]}"
    for key in (world.victim_key, world.intruder_key):
        for line in _key_lines(key.private_key_pem):
            assert line not in text, f"{where} holds a line of a sandbox private key"
    for token in (world.victim.admin_token, world.intruder.admin_token):
        assert token not in text
        assert token[len("orch_") + 6 :] not in text  # nor its secret part alone
    assert world.victim_reader_secret not in text


async def test_metrics_hold_no_secrets(world: World) -> None:
    # Traffic first, including failed authentication with a real-looking token.
    await world.client.get("/v1/apps", headers=world.victim.headers())
    await world.client.get("/v1/apps", headers={"Authorization": f"Bearer {generate_token()}"})
    await world.client.get("/v1/apps", headers={"Authorization": f"Bearer {JWT}"})
    response = await world.client.get("/metrics")
    assert response.status_code == 200
    assert "orchard_http_requests_total" in response.text
    assert "orchard_asc_requests_total" in response.text  # Apple calls were made and counted
    _assert_no_secrets(response.text, world, "/metrics")


async def test_openapi_holds_no_secrets(world: World) -> None:
    committed = OPENAPI_PATH.read_text()
    _assert_no_secrets(committed, world, "openapi/openapi.json")
    served = await world.client.get("/openapi.json")
    _assert_no_secrets(served.text, world, "/openapi.json")
    # Examples are the likely place for a pasted key or token: none may look like one.
    examples = [
        json.dumps(value)
        for value in _walk(json.loads(committed))
        if isinstance(value, dict) and ("example" in value or "examples" in value)
    ]
    assert not scan("\n".join(examples))


def _walk(document: object) -> list[object]:
    found: list[object] = [document]
    if isinstance(document, dict):
        for value in document.values():
            found += _walk(value)
    elif isinstance(document, list):
        for value in document:
            found += _walk(value)
    return found


async def test_problem_bodies_never_echo_keys_or_tokens(world: World) -> None:
    """Every way linking or authenticating can fail, with a real key or token in the request."""
    key = world.sandbox.add_key(world.sandbox.add_team("Echo Team", apps=1), revoked=True)
    pem = key.private_key_pem
    attempts = [
        # Apple refuses the (revoked) key: a 422 that names Apple's code, not the key.
        (
            "post",
            "/v1/accounts",
            {"name": "x", "key_id": key.key_id, "issuer_id": key.issuer_id, "private_key": pem},
        ),
        # Invalid fields next to a valid key.
        ("post", "/v1/accounts", {"name": "", "key_id": "bad", "private_key": pem}),
        (
            "post",
            "/v1/accounts",
            {"name": "x", "key_id": key.key_id, "private_key": pem, "unexpected": pem},
        ),
        (
            "post",
            "/v1/accounts",
            {"name": "x", "key_id": key.key_id, "private_key": pem.replace("\n", "")[:-40]},
        ),
        ("post", "/v1/tokens", {"name": world.victim.admin_token, "scopes": ["root"]}),
    ]
    for method, path, body in attempts:
        response = await world.client.request(
            method, path, json=body, headers=world.victim.headers()
        )
        assert 400 <= response.status_code < 500, response.text
        _assert_no_secrets(response.text, world, f"{method} {path}")
        for line in _key_lines(pem):
            assert line not in response.text, f"{path} echoed the private key"
    for header in (
        f"Bearer {world.victim.admin_token}x",
        f"Bearer {JWT}",
        f"Basic {world.victim.admin_token}",
        world.victim.admin_token,
    ):
        response = await world.client.get("/v1/tokens", headers={"Authorization": header})
        assert response.status_code == 401
        _assert_no_secrets(response.text, world, "401")
        assert JWT not in response.text


async def test_nothing_at_rest_holds_a_key_or_a_token(world: World) -> None:
    """Every row of every table, as text: no private key line, no token, no Apple JWT.

    (``tests/accounts/test_secrets.py`` checks the accounts table in depth; this covers the
    tables every other domain added since, after a full sync.)
    """
    minted = [m.token() for m in world.app.state.asc_clients._minters.values()]
    assert minted, "the world's sync minted no Apple token"
    secrets = [world.victim.admin_token, world.intruder.admin_token, world.victim_reader_secret]
    secrets += minted
    key_lines = _key_lines(world.victim_key.private_key_pem)
    key_lines += _key_lines(world.intruder_key.private_key_pem)
    tables = await world.db.fetch(
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
    )
    assert len(tables) > 20
    for row in tables:
        table = row["table_name"]
        dump = await world.db.fetchval(
            f"SELECT coalesce(string_agg(t::text, E'\\n'), '') FROM \"{table}\" t"
        )
        assert not scan(dump), f"{table} holds {[kind for kind, _ in scan(dump)]}"
        for secret in secrets:
            assert secret not in dump, f"{table} holds a token in clear"
        for line in key_lines:
            assert line not in dump, f"{table} holds a line of a private key"

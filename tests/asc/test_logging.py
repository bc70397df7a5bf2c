"""Secrets never reach logs or error text."""

from __future__ import annotations

import logging

import httpx
import pytest
import respx

from app.asc.client import AscClient
from app.asc.errors import AscForbidden, AscUnauthorized
from tests.asc.conftest import KEY_ID, apple_error


def _pem_fragments(pem: str) -> list[str]:
    body = "".join(line for line in pem.splitlines() if not line.startswith("-----"))
    return [body[i : i + 16] for i in range(0, len(body) - 16, 8)]


async def test_logs_and_errors_never_contain_token_or_key(
    apple: respx.MockRouter,
    client: AscClient,
    private_pem: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    route = apple.get("/v1/apps").mock(
        side_effect=[
            httpx.Response(401, json=apple_error(401, "NOT_AUTHORIZED", "bad token")),
            httpx.Response(503, json=apple_error(503, "UNAVAILABLE", "later")),
            httpx.Response(200, json={"data": []}),
            httpx.Response(
                403, json=apple_error(403, "FORBIDDEN_ERROR", "The API key in use does not allow")
            ),
            httpx.Response(401, json=apple_error(401, "NOT_AUTHORIZED", "bad token")),
            httpx.Response(401, json=apple_error(401, "NOT_AUTHORIZED", "bad token")),
        ]
    )

    await client.get_document("/v1/apps")
    errors: list[Exception] = []
    for expected in (AscForbidden, AscUnauthorized):
        with pytest.raises(expected) as info:
            await client.get_document("/v1/apps")
        logging.getLogger("orchard.asc").error(
            "sync failed: %s / %r", info.value, info.value, exc_info=info.value
        )
        errors.append(info.value)

    tokens = {call.request.headers["Authorization"].removeprefix("Bearer ") for call in route.calls}
    assert len(tokens) == 3  # initial + one re-mint per 401 episode
    texts = [caplog.text, *(str(e) for e in errors), *(repr(e) for e in errors)]
    texts += [repr(client), repr(client.minter), repr(client.credentials)]
    for text in texts:
        for token in tokens:
            assert token not in text
            assert token.split(".")[2] not in text  # not even the signature
        assert "Bearer" not in text
        for fragment in _pem_fragments(private_pem):
            assert fragment not in text

    # what *is* logged: method, path, status, attempt, kid
    assert KEY_ID in caplog.text
    assert "GET /v1/apps -> 401 attempt=1" in caplog.text
    assert "/v1/apps -> 200" in caplog.text
    assert any(getattr(r, "asc_status", None) == 503 for r in caplog.records)

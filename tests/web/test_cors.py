"""CORS: a browser app on another origin can call Orchard with a token, and read what it needs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import ValidationError

from app.config import Settings
from app.demo import free_port
from app.sandbox.state import SandboxState
from tests.fixtures.accounts import Tenant
from tests.web.conftest import orchard_app, serving, static_site

PAGE = "http://127.0.0.1:5173"


@pytest.fixture
async def cors_client(
    settings: Settings, sandbox: SandboxState
) -> AsyncIterator[httpx.AsyncClient]:
    app = orchard_app(settings.model_copy(update={"cors_origins": PAGE}), sandbox)
    assert isinstance(app, FastAPI)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://orchard.test") as c:
            yield c


def preflight(origin: str, method: str = "GET", headers: str = "authorization") -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": headers,
    }


@pytest.mark.parametrize(
    "value",
    [
        "*",
        "http://a.example/",
        "http://a.example/app",
        "a.example",
        "ftp://a.example",
        "https://*.a.example",
    ],
)
def test_only_exact_origins_are_accepted(value: str) -> None:
    with pytest.raises(ValidationError, match="cors_origins"):
        Settings(cors_origins=value)


def test_origins_are_normalised() -> None:
    settings = Settings(cors_origins=" https://App.example.com , http://127.0.0.1:5173,")
    assert settings.cors_origin_list == ("https://app.example.com", "http://127.0.0.1:5173")
    assert Settings().cors_origin_list == ()


async def test_preflight_from_an_allowed_origin_is_204(cors_client: httpx.AsyncClient) -> None:
    response = await cors_client.options(
        "/v1/apps", headers=preflight(PAGE, "POST", "Authorization, Content-Type, If-None-Match")
    )
    assert response.status_code == 204
    assert response.content == b""
    assert response.headers["access-control-allow-origin"] == PAGE
    assert "POST" in response.headers["access-control-allow-methods"]
    allowed = response.headers["access-control-allow-headers"].split(", ")
    assert {"authorization", "content-type", "if-none-match"} <= set(allowed)
    assert "access-control-allow-credentials" not in response.headers
    assert "Origin" in response.headers["vary"]


@pytest.mark.parametrize(
    ("headers", "named"),
    [
        (preflight("http://evil.example"), "origin http://evil.example"),
        (preflight(PAGE, "TRACE"), "method TRACE"),
        (preflight(PAGE, "GET", "authorization, x-secret"), "headers x-secret"),
    ],
)
async def test_a_refused_preflight_says_why(
    cors_client: httpx.AsyncClient, headers: dict[str, str], named: str
) -> None:
    response = await cors_client.options("/v1/apps", headers=headers)
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    assert named in response.json()["detail"]
    assert "access-control-allow-origin" not in response.headers


async def test_responses_name_the_origin_and_expose_headers(
    cors_client: httpx.AsyncClient, tenant: Tenant
) -> None:
    response = await cors_client.get("/v1/apps", headers={**tenant.headers(), "Origin": PAGE})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == PAGE
    exposed = {
        h.strip().lower() for h in response.headers["access-control-expose-headers"].split(",")
    }
    assert {"retry-after", "x-request-id", "etag", "link"} <= exposed
    # Problems too: a page must be able to read why it was refused.
    refused = await cors_client.get("/v1/apps", headers={"Origin": PAGE})
    assert refused.status_code == 401
    assert refused.headers["access-control-allow-origin"] == PAGE
    other = await cors_client.get(
        "/v1/apps", headers={**tenant.headers(), "Origin": "http://evil.example"}
    )
    assert "access-control-allow-origin" not in other.headers
    assert "Origin" in other.headers["vary"]


async def test_without_the_setting_there_is_no_cors(client: httpx.AsyncClient) -> None:
    response = await client.options("/v1/apps", headers=preflight(PAGE))
    assert response.status_code == 405
    assert not any(name.startswith("access-control-") for name in response.headers)


CALLER = """<!doctype html>
<title>a frontend on another origin</title>
<script>
async function callOrchard(base, token) {
  const auth = {headers: {Authorization: "Bearer " + token}};
  const out = {};
  const listed = await fetch(base + "/v1/apps?limit=5", auth);
  out.status = listed.status;
  out.requestId = listed.headers.get("X-Request-ID");
  out.etag = listed.headers.get("ETag");
  out.body = await listed.json();
  const invalid = await fetch(base + "/v1/apps?limit=0", auth);
  out.invalid = {status: invalid.status, type: invalid.headers.get("Content-Type"),
                 body: await invalid.json()};
  for (let i = 0; i < 10; i++) {
    const r = await fetch(base + "/v1/apps", auth);
    if (r.status === 429) {
      out.limited = {retryAfter: r.headers.get("Retry-After"), body: await r.json()};
      break;
    }
  }
  return out;
}
async function tryOrchard(base, token) {
  try {
    await fetch(base + "/v1/apps", {headers: {Authorization: "Bearer " + token}});
    return "read";
  } catch (error) {
    return "blocked: " + error.name;
  }
}
</script>
"""


async def test_a_page_on_another_origin_uses_the_api_in_a_browser(
    browser: Any, settings: Settings, sandbox: SandboxState, tenant: Tenant
) -> None:
    page_port, stranger_port = free_port(), free_port()
    allowed = f"http://127.0.0.1:{page_port}"
    orchard_settings = settings.model_copy(
        update={"cors_origins": allowed, "rate_limit_per_minute": 1, "rate_limit_burst": 4}
    )
    with (
        serving(orchard_app(orchard_settings, sandbox)) as orchard,
        serving(static_site(CALLER), port=page_port) as site,
        serving(static_site(CALLER), port=stranger_port) as stranger,
    ):
        page = await browser.new_page()
        await page.goto(site + "/")
        result = await page.evaluate("([b, t]) => callOrchard(b, t)", [orchard, tenant.admin_token])

        assert result["status"] == 200
        assert result["body"] == {"items": [], "next_cursor": None}
        assert result["requestId"]  # exposed: readable by the page
        assert result["etag"].startswith('W/"')
        assert result["invalid"]["status"] == 422
        assert result["invalid"]["type"] == "application/problem+json"
        assert result["invalid"]["body"]["errors"][0]["field"] == "query.limit"
        assert result["limited"]["retryAfter"].isdigit()
        assert result["limited"]["body"]["status"] == 429

        # The same page served from an origin nobody allowed cannot read anything.
        other = await browser.new_page()
        await other.goto(stranger + "/")
        outcome = await other.evaluate(
            "([b, t]) => tryOrchard(b, t)", [orchard, tenant.admin_token]
        )
        assert outcome == "blocked: TypeError"

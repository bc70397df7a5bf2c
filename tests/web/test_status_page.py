"""The ops status page: a read token signs in, the page shows the workspace's accounts, datasets,
queue and workers, and a failing account is shown failing — checked in a real browser too."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from fastapi import FastAPI

from app.config import Settings
from app.sandbox.state import SandboxState
from tests.fixtures.accounts import Tenant, link_account, make_token
from tests.fixtures.engine import run_unit
from tests.web.conftest import orchard_app, screenshot_path, serving


async def sign_in(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post(
        "/status/login",
        content=f"token={token}",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )


async def test_without_a_token_the_page_asks_for_one(client: httpx.AsyncClient) -> None:
    response = await client.get("/status")
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("text/html")
    assert '<form method="post" action="/status/login">' in response.text
    csp = response.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp
    assert response.headers["cache-control"] == "no-store"
    assert "<script" not in response.text and "http" not in response.text.split("<body>")[1]


async def test_signing_in_keeps_the_token_in_a_strict_cookie(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    refused = await sign_in(client, "orch_not-a-real-token")
    assert refused.status_code == 401
    assert "unknown or revoked" in refused.text
    assert "set-cookie" not in refused.headers

    signed_in = await sign_in(client, tenant.admin_token)
    assert signed_in.status_code == 303
    assert signed_in.headers["location"] == "/status"
    cookie = signed_in.headers["set-cookie"]
    assert re.search(r"(?i)httponly", cookie) and re.search(r"(?i)samesite=strict", cookie)
    assert "Path=/status" in cookie

    page = await client.get("/status")  # the client kept the cookie
    assert page.status_code == 200
    assert "Orchard status" in page.text and "workspace <b>acme</b>" in page.text
    assert tenant.admin_token not in page.text
    assert '<meta http-equiv="refresh" content="30">' in page.text

    signed_out = await client.post("/status/logout")
    assert signed_out.status_code == 303
    assert (await client.get("/status")).status_code == 401


async def test_a_bearer_header_works_and_scopes_are_checked(
    client: httpx.AsyncClient, tenant: Tenant, database_url: str
) -> None:
    assert (await client.get("/status", headers=tenant.headers())).status_code == 200
    no_read = await make_token(database_url, tenant, [])
    refused = await client.get("/status", headers=tenant.headers(no_read))
    assert refused.status_code == 403
    assert "lacks the &#x27;read&#x27; scope" in refused.text


async def test_a_form_from_another_site_is_refused(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    response = await client.post(
        "/status/login",
        content=f"token={tenant.admin_token}",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Origin": "http://evil.example",
        },
    )
    assert response.status_code == 403
    assert "set-cookie" not in response.headers


async def test_the_page_can_be_turned_off(
    settings: Settings, sandbox: SandboxState, tenant: Tenant
) -> None:
    app = orchard_app(settings.model_copy(update={"status_page": False}), sandbox)
    assert isinstance(app, FastAPI)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://orchard.test") as c:
            response = await c.get("/status", headers=tenant.headers())
    assert response.status_code == 404
    assert response.json()["detail"].startswith("the status page is turned off")


async def test_the_page_shows_one_workspace_escaped(
    client: httpx.AsyncClient,
    tenant: Tenant,
    other_tenant: Tenant,
    sandbox: SandboxState,
) -> None:
    await link_account(client, tenant, sandbox.add_key("acme"), verify=False, name="<b>Acme</b>")
    await link_account(
        client, other_tenant, sandbox.add_key("globex"), verify=False, name="Globex Corp"
    )
    page = (await client.get("/status", headers=tenant.headers())).text
    assert "&lt;b&gt;Acme&lt;/b&gt;" in page and "<b>Acme</b>" not in page
    assert "Globex Corp" not in page


async def _world(
    app: FastAPI, client: httpx.AsyncClient, tenant: Tenant, sandbox: SandboxState
) -> None:
    """A healthy account synced, a second one whose key Apple revoked, one worker alive."""
    healthy = await link_account(client, tenant, sandbox.add_key("acme"), name="Acme Games")
    await run_unit(app, healthy, "apps", "all")
    broken_key = sandbox.add_key("acme")
    broken = await link_account(client, tenant, broken_key, name="Broken Studio")
    broken_key.revoked = True
    verified = await client.post(f"/v1/accounts/{broken}/verify", headers=tenant.headers())
    assert verified.json()["credential_status"] == "revoked_or_invalid"


async def test_a_failing_account_is_shown_failing_in_a_browser(
    browser: Any,
    app: FastAPI,
    client: httpx.AsyncClient,
    settings: Settings,
    sandbox: SandboxState,
    tenant: Tenant,
    db: asyncpg.Connection,
    tmp_path: Path,
) -> None:
    await _world(app, client, tenant, sandbox)
    await db.execute(
        "INSERT INTO sync_workers (worker_id, hostname, pid, concurrency, started_at, "
        "last_beat_at) VALUES ('web-test-worker', 'ops-host', 4242, 2, now(), now())"
    )
    with serving(orchard_app(settings, sandbox)) as orchard:
        page = await browser.new_page(viewport={"width": 1280, "height": 900})
        await page.goto(orchard + "/status")
        assert await page.title() == "Orchard status — sign in"
        await page.fill("#token", tenant.admin_token)
        await page.click("button[type=submit]")
        await page.wait_for_selector("table#accounts")

        broken = page.locator('#accounts tr[data-account="Broken Studio"]')
        assert await broken.get_attribute("data-state") == "revoked_or_invalid"
        assert "revoked or invalid" in await broken.inner_text()
        assert "Create a new key in App Store Connect" in await broken.inner_text()
        # Shown failing: the row's tint and the badge's colour, as rendered.
        background = await broken.locator("td").first.evaluate(
            "cell => getComputedStyle(cell).backgroundColor"
        )
        assert background == "rgb(255, 246, 246)"
        healthy = page.locator('#accounts tr[data-account="Acme Games"]')
        assert await healthy.get_attribute("data-state") == "active"
        assert "left" in await healthy.inner_text()  # Apple's budget for its key, as last seen

        paused = page.locator(
            '#datasets tr[data-account="Broken Studio"][data-state="paused_credentials"]'
        )
        assert await paused.count() > 0
        synced = page.locator('#datasets tr[data-account="Acme Games"][data-dataset="apps"]')
        assert await synced.get_attribute("data-state") == "ok"
        assert await page.inner_text('[data-tile="accounts-failing"] b') == "1"
        assert await page.inner_text('[data-tile="workers"] b') == "1"
        assert await page.locator('#workers tr[data-worker="web-test-worker"]').count() == 1
        await page.screenshot(path=str(screenshot_path("15-status.png", tmp_path)), full_page=True)

"""/docs works offline: Swagger UI's files are served by Orchard from a Python package."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx

from app.config import Settings
from app.sandbox.state import SandboxState
from tests.web.conftest import orchard_app, screenshot_path, serving


async def test_the_docs_page_names_only_local_files(client: httpx.AsyncClient) -> None:
    page = await client.get("/docs")
    assert page.status_code == 200
    assert not re.search(r"(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}/", page.text), "a remote URL"
    assets = re.findall(r'(?:src|href)="(/docs/assets/[^"]+)"', page.text)
    assert {"/docs/assets/swagger-ui-bundle.js", "/docs/assets/swagger-ui.css"} <= set(assets)
    for asset in assets:
        served = await client.get(asset)
        assert served.status_code == 200, asset
        assert len(served.content) > 100, asset
    assert '"validatorUrl": null' in page.text
    assert (await client.get("/redoc")).status_code == 404


async def test_the_docs_render_with_the_network_cut_off(
    browser: Any, settings: Settings, sandbox: SandboxState, tmp_path: Path
) -> None:
    with serving(orchard_app(settings, sandbox)) as orchard:
        context = await browser.new_context(viewport={"width": 1280, "height": 900})
        elsewhere: list[str] = []

        async def only_orchard(route: Any) -> None:
            if route.request.url.startswith(orchard + "/"):
                await route.continue_()
            else:
                elsewhere.append(route.request.url)
                await route.abort()

        await context.route("**/*", only_orchard)
        page = await context.new_page()
        await page.goto(orchard + "/docs")
        await page.wait_for_selector(".opblock", timeout=20_000)
        assert "Orchard" in await page.inner_text(".information-container .title")
        operations = await page.locator(".opblock").count()
        assert operations > 50
        assert await page.locator("#operations-accounts-list_accounts").count() == 1
        await page.screenshot(path=str(screenshot_path("15-docs.png", tmp_path)))
        assert elsewhere == []

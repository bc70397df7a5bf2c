"""Orchard over a real socket and a real headless Chromium driving pages against it.

The browser is Debian's ``chromium`` (or ``ORCHARD_TEST_CHROMIUM``), driven by Playwright for
Python; without either, the browser tests skip and say why. Playwright's own browser downloads
are never used.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route
from starlette.types import ASGIApp

from app.config import Settings
from app.demo import QuietServer, free_port
from app.main import create_app
from app.sandbox.app import create_sandbox_app
from app.sandbox.state import SandboxState
from tests.fixtures.engine import INSTANT_RETRY

_SCREENSHOTS = os.environ.get("ORCHARD_TEST_SCREENSHOTS")
SCREENSHOTS = Path(_SCREENSHOTS) if _SCREENSHOTS else None


def chromium_executable() -> str | None:
    configured = os.environ.get("ORCHARD_TEST_CHROMIUM")
    if configured:
        return configured if Path(configured).is_file() else None
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


@contextlib.contextmanager
def serving(app: ASGIApp, *, port: int | None = None) -> Iterator[str]:
    """``app`` served by uvicorn on a loopback port in a thread (with its lifespan)."""
    port = port or free_port()
    server = QuietServer(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive(), "the server stopped while starting"
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


def orchard_app(settings: Settings, sandbox: SandboxState) -> ASGIApp:
    return create_app(
        settings,
        asc_transport=httpx.ASGITransport(app=create_sandbox_app(sandbox)),
        asc_retry=INSTANT_RETRY,
    )


def static_site(html: str) -> Starlette:
    """A one-page site (another origin than Orchard's: another port)."""

    async def page(_request: Any) -> HTMLResponse:
        return HTMLResponse(html)

    return Starlette(routes=[Route("/", page)])


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    executable = chromium_executable()
    if executable is None:
        pytest.skip("no Chromium found (install Debian's `chromium` or set ORCHARD_TEST_CHROMIUM)")
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        pytest.skip("Playwright for Python is not installed (pip install -e '.[test]')")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=executable, headless=True)
        try:
            yield launched
        finally:
            await launched.close()


def screenshot_path(name: str, tmp_path: Path) -> Path:
    """Where a test leaves its screenshot: ``ORCHARD_TEST_SCREENSHOTS`` if set, else tmp."""
    folder = SCREENSHOTS or tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The suite's settings, with a short first backfill so a linked account syncs quickly."""
    return settings.model_copy(update={"initial_backfill_days": 2})

"""Interactive API docs at ``/docs`` that work offline: Swagger UI's files come from a Python
package (``swagger-ui-py``, pinned in pyproject), served by Orchard itself — never a CDN."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

DOCS_PATH = "/docs"
ASSETS_PATH = "/docs/assets"


def swagger_ui_assets() -> Path:
    """The folder of Swagger UI's distribution files inside the installed package."""
    return Path(str(resources.files("swagger_ui") / "static"))


def install_docs(app: FastAPI) -> None:
    """Serve Swagger UI on ``/docs`` for the app's ``/openapi.json``, from local files only.

    The app must be built with ``docs_url=None`` (FastAPI's own page loads its files from a
    CDN). Swagger UI's online validator is turned off: it would send the spec's URL elsewhere.
    """
    assets = swagger_ui_assets()
    app.mount(ASSETS_PATH, StaticFiles(directory=assets), name="docs-assets")

    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} — API docs",
            swagger_js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_PATH}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_PATH}/favicon-32x32.png",
            swagger_ui_parameters={"validatorUrl": None, "persistAuthorization": False},
        )

    app.add_api_route(DOCS_PATH, docs, methods=["GET"], include_in_schema=False)

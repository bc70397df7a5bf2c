"""The Apple Ads sandbox ASGI app: one Starlette app serving

* ``POST /auth/oauth2/token`` — the OAuth token endpoint (FACTS §1; Apple's is
  ``https://appleid.apple.com/auth/oauth2/token``),
* ``/v1/...`` — Apple Ads Platform API v1 (FACTS §9; Apple's base ``https://api.ads.apple.com/v1``),
* ``/api/v5/...`` — Campaign Management API v5 (FACTS §0–§4; Apple's base
  ``https://api.searchads.apple.com/api/v5``), shut off from ``state.v5_sunset_at``,
* ``/sandbox-ads/...`` — the sandbox-only admin surface (:mod:`.admin`).
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from app.sandbox.searchads import admin, v1_entities, v1_reports, v5_entities, v5_reports
from app.sandbox.searchads.context import AdsRoute
from app.sandbox.searchads.oauth import TOKEN_PATH, token_endpoint
from app.sandbox.searchads.pipeline import Dispatcher
from app.sandbox.searchads.state import AppleAdsState

V1_PREFIX = "/v1"
V5_PREFIX = "/api/v5"
V1_ROUTES: list[AdsRoute] = [*v1_entities.ROUTES, *v1_reports.ROUTES]
V5_ROUTES: list[AdsRoute] = [*v5_entities.ROUTES, *v5_reports.ROUTES]
_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


def create_apple_ads_app(state: AppleAdsState | None = None) -> Starlette:
    """An ASGI app serving ``state`` (a fresh ``AppleAdsState()`` when omitted); the state is
    also reachable as ``app.state.apple_ads``."""
    sandbox = state or AppleAdsState()
    v1 = Dispatcher(sandbox, "v1", V1_PREFIX, V1_ROUTES)
    v5 = Dispatcher(sandbox, "v5", V5_PREFIX, V5_ROUTES)

    async def index(request: Request) -> Response:
        return JSONResponse(
            {
                "service": "Apple Ads sandbox (Orchard); not Apple",
                "token": f"POST {TOKEN_PATH}",
                "v1": [f"{r.method} {V1_PREFIX}{r.template}" for r in V1_ROUTES],
                "v5": [f"{r.method} {V5_PREFIX}{r.template}" for r in V5_ROUTES],
                "admin": "/sandbox-ads/ (sandbox-only: credentials, options, truth, log)",
            }
        )

    app = Starlette(
        routes=[
            Route("/", index, methods=["GET"]),
            Route(TOKEN_PATH, token_endpoint(sandbox), methods=["POST"]),
            Mount("/sandbox-ads", routes=admin.routes(sandbox)),
            Route(V1_PREFIX + "/{path:path}", v1.dispatch, methods=_METHODS),
            Route(V5_PREFIX + "/{path:path}", v5.dispatch, methods=_METHODS),
        ]
    )
    app.state.apple_ads = sandbox
    return app

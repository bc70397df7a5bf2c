"""The store simulator's ASGI app: public App Store endpoints plus ``/sandbox`` admin.

Every public request is throttled (when the knobs say so), answered, and recorded with its
User-Agent in :attr:`StoreState.requests`. The paths are Apple's, so a client only swaps
the scheme and host: ``itunes.apple.com`` (``/lookup``, ``/{cc}/rss/…``),
``ax.itunes.apple.com`` (``/WebObjects/MZStoreServices.woa/ws/RSS/…``) and
``rss.applemarketingtools.com`` (``/api/v2/…``) are all served by the same app.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from app.sandbox.store import admin
from app.sandbox.store.feeds_legacy import legacy_ax_feed, legacy_itunes_feed
from app.sandbox.store.feeds_v2 import v2_feed
from app.sandbox.store.lookup import lookup_body
from app.sandbox.store.politeness import StoreRequest, throttled_response
from app.sandbox.store.state import StoreState

Handler = Callable[[StoreState, Request], Response]


def _throttle_key(state: StoreState, request: Request) -> str:
    if state.settings.throttle_scope == "global":
        return "*"
    return request.client.host if request.client else "unknown"


def public_endpoint(
    state: StoreState, endpoint: str, handler: Handler
) -> Callable[[Request], Awaitable[Response]]:
    """Wrap ``handler`` with throttling (FACTS §1 "Rate limit") and the request log."""

    async def serve(request: Request) -> Response:
        settings = state.settings
        throttled = False
        if endpoint == "lookup" or settings.throttle_endpoints == "all":
            throttled = not state.throttle.admit(
                _throttle_key(state, request),
                settings.throttle_per_minute,
                count_rejected=settings.throttle_counts_rejected,
            )
        response = (
            throttled_response(settings.throttle_response) if throttled else handler(state, request)
        )
        state.requests.append(
            StoreRequest(
                endpoint=endpoint,
                method=request.method,
                path=request.url.path,
                query=request.url.query,
                user_agent=request.headers.get("user-agent"),
                client=request.client.host if request.client else None,
                status=response.status_code,
                at=state.now(),
                throttled=throttled,
            )
        )
        return response

    return serve


def create_store_app(state: StoreState | None = None) -> Starlette:
    """An ASGI app serving ``state`` (a fresh ``StoreState()`` when omitted).

    The state is also reachable as ``app.state.store``.
    """
    store = state or StoreState()

    async def index(request: Request) -> Response:
        return JSONResponse(
            {"service": "App Store public data simulator (Orchard); not Apple",
             "admin": "/sandbox/"}
        )  # fmt: skip

    app = Starlette(
        routes=[
            Route("/", index, methods=["GET"]),
            Mount("/sandbox", routes=admin.routes(store)),
            Route("/lookup", public_endpoint(store, "lookup", lookup_body), methods=["GET"]),
            Route(
                "/api/v2/{cc}/{media}/{chart}/{n}/{file}",
                public_endpoint(store, "rss_v2", v2_feed),
                methods=["GET"],
            ),
            Route(
                "/WebObjects/MZStoreServices.woa/ws/RSS/{chart}/{rest:path}",
                public_endpoint(store, "rss_legacy", legacy_ax_feed),
                methods=["GET"],
            ),
            Route(
                "/{cc}/rss/{chart}/{rest:path}",
                public_endpoint(store, "rss_legacy", legacy_itunes_feed),
                methods=["GET"],
            ),
        ]
    )
    app.state.store = store
    return app

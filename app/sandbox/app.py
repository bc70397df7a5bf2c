"""The sandbox ASGI application: ``/v1`` App Store Connect look-alike plus ``/sandbox`` admin.

Every ``/v1`` request goes through the same pipeline, in Apple's order as far as known:
authenticate (401) → hourly budget (429) → agreement (403) → route (404/405) → role (403) →
query parameters (400) → handler. Each response carries ``X-Rate-Limit`` and every request
is recorded in :attr:`SandboxState.requests` with the per-key concurrency it ran at.
"""

from __future__ import annotations

import asyncio
import logging
import time

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from app.sandbox import (
    admin,
    analytics_routes,
    analytics_s3,
    catalog_routes,
    people,
    reports,
    review_responses,
    reviews,
    testflight,
    versions,
)
from app.sandbox.auth import authenticate
from app.sandbox.context import V1Context, V1Route
from app.sandbox.errors import (
    ApiError,
    agreement_missing,
    forbidden,
    method_not_allowed,
    path_not_found,
    rate_limited,
    unexpected,
)
from app.sandbox.faults import FaultInjector
from app.sandbox.feedback import admin as feedback_admin
from app.sandbox.feedback import images as feedback_images
from app.sandbox.feedback import routes as feedback_routes
from app.sandbox.jsonapi import Query
from app.sandbox.ratelimit import default_header
from app.sandbox.state import RequestRecord, SandboxKey, SandboxState
from app.sandbox.webhooks import admin as webhook_admin
from app.sandbox.webhooks import routes as webhook_routes

logger = logging.getLogger(__name__)

V1_ROUTES: list[V1Route] = [
    *catalog_routes.ROUTES,
    *versions.ROUTES,
    *testflight.ROUTES,
    *reviews.ROUTES,
    *review_responses.ROUTES,
    *people.ROUTES,
    *reports.ROUTES,
    *webhook_routes.ROUTES,
    *feedback_routes.ROUTES,
    *analytics_routes.ROUTES,
]


class V1Dispatcher:
    """Runs the ``/v1`` pipeline for one sandbox state."""

    def __init__(self, state: SandboxState, routes: list[V1Route]) -> None:
        self.state = state
        self.routes = routes

    def _route(self, method: str, path: str) -> tuple[V1Route, dict[str, str]]:
        path_matched = False
        for route in self.routes:
            params = route.match(path)
            if params is None:
                continue
            if route.method == method:
                return route, params
            path_matched = True
        raise method_not_allowed(method) if path_matched else path_not_found()

    async def _handle(self, request: Request, key: SandboxKey) -> Response:
        state = self.state
        if not key.rate.try_consume():
            raise rate_limited(key.rate.seconds_until_slot() if key.send_retry_after else None)
        state.in_flight[key.key_id] += 1
        state.max_concurrency[key.key_id] = max(
            state.max_concurrency[key.key_id], state.in_flight[key.key_id]
        )
        try:
            if state.latency_seconds > 0:
                await asyncio.sleep(state.latency_seconds)
            if key.agreement_missing:
                raise agreement_missing()
            route, path_params = self._route(request.method, request.url.path)
            if not route.permission.allows(key):
                raise forbidden()
            query = Query(request.query_params.multi_items())
            query.validate(route.params)
            context = V1Context(request, state, key, path_params, query)
            return await route.handler(context)
        finally:
            state.in_flight[key.key_id] -= 1

    async def dispatch(self, request: Request) -> Response:
        state = self.state
        started_at, started = state.now(), time.perf_counter()
        outcome = authenticate(request.headers.get("authorization"), state)
        error_code: str | None = None
        try:
            if outcome.error is not None:
                raise outcome.error
            assert outcome.key is not None
            response = await self._handle(request, outcome.key)
        except ApiError as error:
            error_code = error.code
            response = error.response()
        except Exception:
            logger.exception("sandbox request failed: %s %s", request.method, request.url.path)
            failure = unexpected()
            error_code = failure.code
            response = failure.response()
        known = outcome.key or state.keys.get(outcome.claimed_key_id or "")
        response.headers["X-Rate-Limit"] = known.rate.header() if known else default_header()
        state.requests.append(
            RequestRecord(
                key_id=outcome.claimed_key_id,
                method=request.method,
                path=request.url.path,
                query=list(request.query_params.multi_items()),
                status=response.status_code,
                started_at=started_at,
                ended_at=state.now(),
                duration_seconds=time.perf_counter() - started,
                error_code=error_code,
            )
        )
        return response


def create_sandbox_app(state: SandboxState | None = None) -> Starlette:
    """An ASGI app serving ``state`` (a fresh ``SandboxState()`` when omitted).

    The state is also reachable as ``app.state.sandbox``.
    """
    sandbox = state or SandboxState()
    dispatcher = V1Dispatcher(sandbox, V1_ROUTES)

    async def index(request: Request) -> Response:
        return JSONResponse(
            {
                "service": "App Store Connect sandbox (Orchard); not Apple",
                "api": [f"{r.method} {r.template}" for r in V1_ROUTES],
                "admin": "/sandbox/ (sandbox-only: keys, teams, request log)",
            }
        )

    app = Starlette(
        routes=[
            Route("/", index, methods=["GET"]),
            # Before the /sandbox mount, which would otherwise swallow these paths.
            *webhook_admin.routes(sandbox),
            *feedback_admin.routes(sandbox),
            *feedback_images.routes(sandbox),
            Mount("/sandbox", routes=admin.routes(sandbox)),
            analytics_s3.route(sandbox),
            Route(
                "/v1/{path:path}",
                dispatcher.dispatch,
                methods=["GET", "POST", "PATCH", "PUT", "DELETE"],
            ),
        ],
        # Off unless a test switches a FaultPlan on (app.sandbox.faults.inject).
        middleware=[Middleware(FaultInjector, state=sandbox)],
    )
    app.state.sandbox = sandbox
    return app

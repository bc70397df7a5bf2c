"""Routing shortcuts answer exactly as FastAPI's own walk would: each included router's path
filter says "not here" only where the router's full match says so too, and liveness, answered
from bytes rendered once, is the documented answer with every header the stack adds."""

from __future__ import annotations

import re
from typing import Any

import httpx
from fastapi import FastAPI
from starlette.routing import Match

from app.kit import routing, strict_query
from app.kit.metrics import Metrics
from app.kit.middleware import RequestContextMiddleware


def _concrete(path: str) -> list[str]:
    """A documented path template with its parameters filled in, a few ways."""
    return [
        re.sub(r"\{[^}]+\}", value, path)
        for value in ("abc", "00000000-0000-0000-0000-000000000001", "2026-11-30")
    ]


def _scope(method: str, path: str) -> dict[str, Any]:
    return {
        "type": "http",
        "method": method,
        "path": path,
        "root_path": "",
        "query_string": b"",
        "headers": [],
    }


def test_path_filters_answer_as_fastapi_would(app: FastAPI) -> None:
    included = [route for route in app.router.routes if hasattr(route, "original_router")]
    assert included, "FastAPI keeps included routers as their own objects"
    # Every included router is filtered (none holds a mount or a frontend group).
    assert all(getattr(route, "_orchard_prefiltered", False) for route in included)
    assert routing.install_prefilters(app) == 0  # idempotent

    documented = list(app.openapi()["paths"])
    paths = {p for template in documented for p in _concrete(template)}
    paths |= {p + "/" for p in paths} | {"/nope", "/v1", "/v1/nope", "/v1/apps/x/nope", "/"}
    full = 0
    for path in sorted(paths):
        for method in ("GET", "POST", "DELETE"):
            for route in included:
                filtered = route.matches(_scope(method, path))
                unfiltered = type(route).matches(route, _scope(method, path))
                assert filtered == unfiltered, (method, path, route)
                full += filtered[0] == Match.FULL
    assert full >= len(documented)  # the filters let every documented path through


async def test_liveness_is_the_documented_answer_through_the_whole_stack(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    assert isinstance(app.router.routes[0], routing.StaticJsonRoute)
    live = await client.get("/health", headers={"Accept-Encoding": "gzip"})
    assert live.status_code == 200
    assert live.json() == {"status": "ok"}
    assert live.headers["content-type"] == "application/json"
    assert live.headers["cache-control"] == "no-store"
    assert re.fullmatch(r"[0-9a-f]{32}", live.headers["x-request-id"])
    assert "etag" not in live.headers and "content-encoding" not in live.headers
    assert (await client.get("/health", headers={"X-Request-ID": "probe-1"})).headers[
        "x-request-id"
    ] == "probe-1"

    head = await client.head("/health")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == live.headers["content-length"]

    # Anything but a plain GET is the documented route's: its 405 and the query check's 422.
    refused = await client.post("/health")
    assert refused.status_code == 405
    assert refused.headers["content-type"] == "application/problem+json"
    assert (await client.get("/health", params={"probe": "1"})).status_code == 422

    metrics = (await client.get("/metrics")).text
    assert 'orchard_http_requests_total{method="GET",route="/health",status="200"} 2.0' in metrics


def _request_layer(app: FastAPI) -> RequestContextMiddleware:
    layer: Any = app.middleware_stack or app.build_middleware_stack()
    while not isinstance(layer, RequestContextMiddleware):
        layer = layer.app
    return layer


async def test_the_request_layer_sends_liveness_as_the_router_would(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await client.get("/health")  # builds the stack
    layer = _request_layer(app)
    static = app.router.routes[0]
    assert layer.static == {"/health": static}
    inner = layer.app
    reached: list[str] = []

    async def spy(scope: Any, receive: Any, send: Any) -> None:
        reached.append(scope["path"])
        await inner(scope, receive, send)

    layer.app = spy
    try:
        zipped = {"Accept-Encoding": "gzip", "If-None-Match": "*"}
        direct = await client.get("/health", headers=zipped)
        assert reached == []  # answered by the request layer: no router, no exception layer
        layer.static = {}  # now through the exception layer, the exit stack and the router
        routed = await client.get("/health", headers=zipped)
        assert reached == ["/health"]
    finally:
        layer.app = inner
        layer.static = {"/health": static}

    def without_id(response: httpx.Response) -> list[tuple[str, str]]:
        return [(k, v) for k, v in response.headers.multi_items() if k != "x-request-id"]

    assert (direct.status_code, direct.content) == (routed.status_code, routed.content)
    assert without_id(direct) == without_id(routed)
    assert direct.headers["x-request-id"] != routed.headers["x-request-id"]
    # Counted and logged as the documented route, like the routed answer.
    metrics = (await client.get("/metrics")).text
    assert 'orchard_http_requests_total{method="GET",route="/health",status="200"} 3.0' in metrics


def test_the_request_layer_leaves_answers_its_steps_would_change_to_the_router(
    app: FastAPI,
) -> None:
    live = app.router.routes[0]
    assert isinstance(live, routing.StaticJsonRoute)
    api = next(r for r in strict_query.api_routes(app.router.routes) if r.path == "/v1/accounts")
    kept = routing.StaticJsonRoute(api, b"{}")  # private, no-cache: the validators add an ETag
    large = routing.StaticJsonRoute(live.route, b'{"pad": "' + b"x" * 2000 + b'"}')  # gzip
    layer = RequestContextMiddleware(
        app.router,
        metrics=Metrics(),
        max_body_bytes=1000,
        validators=True,
        gzip_minimum_size=1024,
        static_answers=[kept, large],
    )
    assert layer.static == {}
    plain = RequestContextMiddleware(
        app.router, metrics=Metrics(), max_body_bytes=1000, static_answers=[kept, large, live]
    )
    assert plain.static == {"/v1/accounts": kept, "/health": live}

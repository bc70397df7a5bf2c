"""The request stack's cheap parts do what the expensive ones did: lock-free request metrics
expose the same histogram, gzip still codes what is worth it (streams too), request ids stay
unique, and every API route refuses unknown query parameters."""

from __future__ import annotations

import gzip
import logging
import re
import zlib
from collections.abc import AsyncIterator

import httpx
import pydantic_core
import pytest
from fastapi import FastAPI
from fastapi.datastructures import DefaultPlaceholder
from isal import isal_zlib
from prometheus_client.parser import text_string_to_metric_families
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from app.kit.compression import GZIP_LEVEL, THREAD_MINIMUM_BYTES, GzipMiddleware
from app.kit.logging import configure_logging
from app.kit.metrics import Metrics
from app.kit.middleware import new_request_id
from app.kit.strict_query import api_routes


def test_request_metrics_are_a_cumulative_histogram() -> None:
    metrics = Metrics()
    for seconds in (0.001, 0.005, 0.02, 0.3, 20.0):
        metrics.observe_request("GET", "/v1/apps", 200, seconds)
    metrics.observe_request("GET", "/v1/apps", 404, 0.002)
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(metrics.render().decode())
        for sample in family.samples
    }
    get = (("method", "GET"), ("route", "/v1/apps"))
    assert samples[("orchard_http_requests_total", (*get, ("status", "200")))] == 5
    assert samples[("orchard_http_requests_total", (*get, ("status", "404")))] == 1

    def bucket(le: str) -> float:
        return samples[("orchard_http_request_duration_seconds_bucket", (("le", le), *get))]

    assert bucket("0.005") == 3  # le is inclusive: 0.001, 0.002, 0.005
    assert bucket("0.025") == 4
    assert bucket("0.5") == 5
    assert bucket("10.0") == 5
    assert bucket("+Inf") == 6
    assert samples[("orchard_http_request_duration_seconds_count", get)] == 6
    assert abs(samples[("orchard_http_request_duration_seconds_sum", get)] - 20.328) < 1e-9


def test_request_ids_are_unique_32_hex_digits() -> None:
    ids = {new_request_id() for _ in range(10_000)}
    assert len(ids) == 10_000
    assert all(re.fullmatch(r"[0-9a-f]{32}", request_id) for request_id in ids)


def _coded_app() -> Starlette:
    big = {"rows": [{"n": n, "name": f"row {n}"} for n in range(500)]}

    async def small(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def large(_: Request) -> Response:
        return JSONResponse(big)

    async def stream(_: Request) -> Response:
        async def chunks() -> AsyncIterator[bytes]:
            for n in range(200):
                yield f"line {n} of a long streamed answer\n".encode()

        return StreamingResponse(chunks(), media_type="text/plain")

    async def png(_: Request) -> Response:
        return Response(b"\x89PNG" + b"\0" * 4000, media_type="image/png")

    routes = [Route(f"/{f.__name__}", f) for f in (small, large, stream, png)]
    app = Starlette(routes=routes)
    app.add_middleware(GzipMiddleware, minimum_size=1024)
    return app


async def test_gzip_codes_what_is_worth_it() -> None:
    transport = httpx.ASGITransport(app=_coded_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        zipped = {"Accept-Encoding": "gzip"}
        small = await client.get("/small", headers=zipped)
        assert "content-encoding" not in small.headers
        assert small.json() == {"status": "ok"}

        large = await client.get("/large", headers=zipped)
        assert large.headers["content-encoding"] == "gzip"
        assert "Accept-Encoding" in large.headers["vary"]
        assert int(large.headers["content-length"]) < len(large.content) / 4
        assert len(large.json()["rows"]) == 500

        plain = await client.get("/large", headers={"Accept-Encoding": "identity"})
        assert "content-encoding" not in plain.headers
        assert plain.content == large.content

        stream = await client.get("/stream", headers=zipped)
        assert stream.headers["content-encoding"] == "gzip"
        assert "content-length" not in stream.headers
        assert stream.text.splitlines()[-1] == "line 199 of a long streamed answer"

        png = await client.get("/png", headers=zipped)
        assert "content-encoding" not in png.headers
        assert len(png.content) == 4004


async def test_gzip_output_is_a_valid_gzip_stream() -> None:
    transport = httpx.ASGITransport(app=_coded_app())
    headers = {"Accept-Encoding": "gzip"}
    async with (
        httpx.AsyncClient(transport=transport, base_url="http://t") as client,
        client.stream("GET", "/large", headers=headers) as answer,
    ):
        raw = b"".join([chunk async for chunk in answer.aiter_raw()])
    assert gzip.decompress(raw).startswith(b'{"rows":[{"n":0')


async def test_every_body_is_coded_by_isa_l_and_decodes_to_the_same_bytes() -> None:
    """ISA-L's coder at ``GZIP_LEVEL`` (not zlib's, about 4× slower on a 2 MB answer), small
    bodies and those coded in a worker thread alike: a standard gzip member that the standard
    library decodes into exactly the bytes the route sent, with a matching Content-Length."""
    headers = {"Accept-Encoding": "gzip"}
    huge = pydantic_core.to_json({"rows": [{"n": n, "name": f"row {n}"} for n in range(80_000)]})
    assert len(huge) >= THREAD_MINIMUM_BYTES

    async def answer(_: Request) -> Response:
        return Response(huge, media_type="application/json")

    app = _coded_app()
    app.router.routes.append(Route("/huge", answer))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        for path in ("/huge", "/large"):
            plain = await client.get(path, headers={"Accept-Encoding": "identity"})
            async with client.stream("GET", path, headers=headers) as sent:
                raw = b"".join([chunk async for chunk in sent.aiter_raw()])
                assert sent.headers["content-encoding"] == "gzip"
                assert int(sent.headers["content-length"]) == len(raw)
            assert raw[:2] == b"\x1f\x8b", path  # a gzip member, not a raw deflate stream
            assert gzip.decompress(raw) == zlib.decompress(raw, 16 + zlib.MAX_WBITS)
            assert gzip.decompress(raw) == plain.content, path
            coder = isal_zlib.compressobj(GZIP_LEVEL, isal_zlib.DEFLATED, 16 + isal_zlib.MAX_WBITS)
            assert raw == coder.compress(plain.content) + coder.flush(), path


def test_every_api_route_refuses_unknown_query_parameters(app: FastAPI) -> None:
    routes = list(api_routes(app.router.routes))
    # The walk reaches the routes of included routers: every documented operation.
    found = {(method.lower(), route.path) for route in routes for method in route.methods}
    documented = {(m, path) for path, item in app.openapi()["paths"].items() for m in item}
    assert documented - found == set()
    unguarded = [r.path for r in routes if not getattr(r.handle, "_strict_query", False)]
    assert unguarded == []


def test_the_stack_has_one_orchard_layer_and_no_idle_fastapi_layers(app: FastAPI) -> None:
    layers = []
    layer: object = app.build_middleware_stack()
    while layer is not app.router:
        layers.append(type(layer).__name__)
        layer = layer.app  # type: ignore[attr-defined]
    assert layers.count("RequestContextMiddleware") == 1
    assert "GzipMiddleware" not in layers and "CachingMiddleware" not in layers
    # Native telemetry is off without OTLP, and no application body limit is set.
    assert "ExceptionTelemetryMiddleware" not in layers
    assert "AppBodyLimitMiddleware" not in layers


async def test_validators_and_gzip_apply_in_one_send(client: httpx.AsyncClient) -> None:
    zipped = {"Accept-Encoding": "gzip"}
    spec = await client.get("/openapi.json", headers=zipped)
    assert spec.headers["content-encoding"] == "gzip"
    assert spec.headers["x-request-id"]
    # The ETag is of the JSON before coding: a plain GET carries the same one.
    plain = await client.get("/openapi.json", headers={"Accept-Encoding": "identity"})
    assert plain.headers["etag"] == spec.headers["etag"]
    again = await client.get(
        "/openapi.json", headers={**zipped, "If-None-Match": spec.headers["etag"]}
    )
    assert again.status_code == 304
    assert "content-encoding" not in again.headers
    assert again.headers["x-request-id"] != spec.headers["x-request-id"]
    head = await client.head("/openapi.json", headers=zipped)
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["etag"] == spec.headers["etag"]


def test_uvicorn_formats_no_access_line(monkeypatch: pytest.MonkeyPatch) -> None:
    # configure_logging changes these loggers: each is put back after the test.
    for logger_name in ("", "uvicorn", "uvicorn.error", "uvicorn.access", "pgserver"):
        logger = logging.getLogger(logger_name)
        for name in ("handlers", "propagate", "disabled", "level"):
            monkeypatch.setattr(logger, name, getattr(logger, name))
    access = logging.getLogger("uvicorn.access")
    configure_logging("INFO", "text")
    # Uvicorn formats every request's access line when this is true (app.kit.logging).
    assert not access.hasHandlers()


def test_every_list_route_serialises_in_one_core_call(app: FastAPI) -> None:
    """A list answer is validated against its ``Page[...]`` model (items that already are
    instances pass as they are) and written to JSON by pydantic's core in one call: FastAPI
    does that for a route with a response model and the default response class."""
    lists = [
        route
        for route in api_routes(app.router.routes)
        if route.response_model is not None
        and "items" in getattr(route.response_model, "model_fields", {})
    ]
    assert len(lists) >= 20
    slow = [
        route.path
        for route in lists
        if route.response_field is None or not isinstance(route.response_class, DefaultPlaceholder)
    ]
    assert slow == []

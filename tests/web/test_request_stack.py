"""The request stack's cheap parts do what the expensive ones did: lock-free request metrics
expose the same histogram, gzip still codes what is worth it (streams too), request ids stay
unique, and every API route refuses unknown query parameters."""

from __future__ import annotations

import gzip
import re
from collections.abc import AsyncIterator

import httpx
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from app.kit.compression import GzipMiddleware
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
    app.add_middleware(GzipMiddleware, minimum_size=1024, compresslevel=6)
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


def test_every_api_route_refuses_unknown_query_parameters(app: FastAPI) -> None:
    routes = list(api_routes(app.router.routes))
    # The walk reaches the routes of included routers: every documented operation.
    found = {(method.lower(), route.path) for route in routes for method in route.methods}
    documented = {(m, path) for path, item in app.openapi()["paths"].items() for m in item}
    assert documented - found == set()
    unguarded = [r.path for r in routes if not getattr(r.handle, "_strict_query", False)]
    assert unguarded == []

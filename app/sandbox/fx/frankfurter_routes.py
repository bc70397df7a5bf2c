"""Frankfurter's HTTP surface: ``/v2/...``, ``/v1/...`` and the unversioned v1 paths."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from app.sandbox.fx import frankfurter_meta, frankfurter_v1, frankfurter_v2
from app.sandbox.fx.frankfurter_v2 import V2Error
from app.sandbox.fx.state import FxState

V2_CACHE = {"Cache-Control": "public, max-age=900"}


def _error(error: V2Error) -> JSONResponse:
    return JSONResponse(error.body(), status_code=error.status)


def _wants_csv(request: Request) -> bool:
    return "text/csv" in request.headers.get("accept", "")


def v2_routes(state: FxState) -> list[Route]:
    async def rates(request: Request) -> Response:
        as_csv = request.url.path.endswith(".csv") or _wants_csv(request)
        try:
            rows = frankfurter_v2.rates(state, dict(request.query_params))
        except V2Error as error:
            return _error(error)
        if as_csv:
            return PlainTextResponse(
                frankfurter_v2.as_csv(rows), media_type="text/csv", headers=V2_CACHE
            )
        return JSONResponse(rows, headers=V2_CACHE)

    async def one_rate(request: Request) -> Response:
        base, quote = request.path_params["base"], request.path_params["quote"]
        try:
            row = frankfurter_v2.one_rate(state, base, quote, dict(request.query_params))
        except V2Error as error:
            return _error(error)
        return JSONResponse(row, headers=V2_CACHE)

    async def currencies(request: Request) -> Response:
        scope = request.query_params.get("scope")
        return JSONResponse(frankfurter_meta.currencies(state, scope), headers=V2_CACHE)

    async def currency(request: Request) -> Response:
        found = frankfurter_meta.currency(state, request.path_params["code"])
        if found is None:
            return _error(V2Error(404, "not found"))
        return JSONResponse(found, headers=V2_CACHE)

    async def providers(request: Request) -> Response:
        return JSONResponse(frankfurter_meta.providers(state), headers=V2_CACHE)

    async def missing(request: Request) -> Response:
        return _error(V2Error(404, "not found"))

    return [
        Route("/v2/rates", rates, methods=["GET"]),
        Route("/v2/rates.csv", rates, methods=["GET"]),
        Route("/v2/rate/{base}/{quote}", one_rate, methods=["GET"]),
        Route("/v2/currencies", currencies, methods=["GET"]),
        Route("/v2/currency/{code}", currency, methods=["GET"]),
        Route("/v2/providers", providers, methods=["GET"]),
        Route("/v2/{rest:path}", missing),
    ]


def v1_routes(state: FxState) -> list[Route]:
    """``/v1/{path}``; :func:`unversioned_route` serves the same without the prefix."""

    async def versioned(request: Request) -> Response:
        return frankfurter_v1.answer(state, request.path_params["rest"], request)

    return [Route("/v1/{rest:path}", versioned, methods=["GET"])]


def unversioned_route(state: FxState) -> Route:
    """The older API at the root (``/latest``, ``/2024-01-15``, ``/currencies``); register it
    last, it matches every path."""

    async def unversioned(request: Request) -> Response:
        return frankfurter_v1.answer(state, request.path_params["rest"], request)

    return Route("/{rest:path}", unversioned, methods=["GET"])

"""The currency sandbox ASGI app: the ECB's files, a Frankfurter server and ``/sandbox`` admin.

Every request outside ``/sandbox`` is logged in :attr:`FxState.requests` and may be failed by
:meth:`FxState.fail_next`: ``500``/``502``/``503`` HTML pages, ``404`` (the file "is not
there"), ``timeout`` (silence for ``stall_seconds``, then a dropped connection) or ``reset``
(a dropped connection). In-process (``httpx.ASGITransport``) there is no socket, so the last
two end by raising the ``httpx`` error a client would see (``ReadTimeout`` /
``RemoteProtocolError``), as in :mod:`app.sandbox.faults`.
"""

from __future__ import annotations

import asyncio

import httpx
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.sandbox.fx import admin, ecb_routes, frankfurter_routes
from app.sandbox.fx.state import FailureKind, FxState, RequestRecord

_TITLES = {
    404: "Not Found",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


class FxGate:
    """ASGI middleware: fail requests on demand and log every non-admin request."""

    def __init__(self, app: ASGIApp, state: FxState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/sandbox"):
            await self.app(scope, receive, send)
            return
        failure = self.state.take_failure(scope["path"])
        status = 0

        async def recording(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            if failure is None:
                await self.app(scope, receive, recording)
            else:
                await self._fail(failure, recording)
        finally:
            self._log(scope, status, failure)

    def _log(self, scope: Scope, status: int, failure: FailureKind | None) -> None:
        query = scope.get("query_string", b"").decode("latin-1")
        record = RequestRecord(
            scope["method"], scope["path"], query, status, self.state.now(), failure
        )
        self.state.requests.append(record)

    async def _fail(self, failure: FailureKind, send: Send) -> None:
        if failure in ("timeout", "reset"):
            if failure == "timeout":
                await asyncio.sleep(self.state.stall_seconds)
            # Announce a body first: an exception after that makes uvicorn drop the connection.
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-type", b"text/xml"), (b"content-length", b"512")],
                }
            )
            if failure == "timeout":
                raise httpx.ReadTimeout("sandbox failure: the response stalled")
            raise httpx.RemoteProtocolError("sandbox failure: connection reset by peer")
        code = int(failure)
        body = f"<html><body><h1>{code} {_TITLES[code]}</h1></body></html>".encode()
        headers = [(b"content-type", b"text/html"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": code, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def create_fx_app(state: FxState | None = None) -> Starlette:
    """An ASGI app serving ``state`` (a fresh ``FxState()`` when omitted), also reachable as
    ``app.state.fx``."""
    fx = state or FxState()

    async def index(request: Request) -> Response:
        return JSONResponse(
            {
                "service": "Currency reference-rate sandbox (Orchard); not the ECB",
                "ecb": [f"{ecb_routes.ECB_DIR}/{name}" for name in ecb_routes.FILES],
                "frankfurter": [
                    "/v1/latest",
                    "/v1/{date}",
                    "/v1/{start}..{end}",
                    "/v1/currencies",
                    "/v2/rates",
                    "/v2/rate/{base}/{quote}",
                    "/v2/currencies",
                    "/v2/currency/{code}",
                    "/v2/providers",
                ],
                "admin": "/sandbox/",
            }
        )

    app = Starlette(
        routes=[
            Route("/", index, methods=["GET"]),
            Mount("/sandbox", routes=admin.routes(fx)),
            *ecb_routes.routes(fx),
            *frankfurter_routes.v2_routes(fx),
            *frankfurter_routes.v1_routes(fx),
            frankfurter_routes.unversioned_route(fx),
        ],
        middleware=[Middleware(FxGate, state=fx)],
    )
    app.state.fx = fx
    return app

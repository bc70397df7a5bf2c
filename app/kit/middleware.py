"""Orchard's request layer: request ids, body-size limit, metrics, access log, last-resort
problems (503 while the database is unreachable, else 500), and — applied to what the route
sends, innermost first — validators (``app.kit.caching``: ETag, 304, Cache-Control, HEAD) and
gzip (``app.kit.compression``).

One ASGI layer, not three: each layer costs a coroutine per request and another per message
sent, and reads the request's headers again; here they are read once, and the route's
messages pass through one send.

Static answers (``app.kit.routing.StaticJsonRoute``: liveness) are sent by this layer itself,
after its checks and with its request id, metrics and access log, without going through
FastAPI's exception layer, its exit stack and its router, which have nothing to do for bytes
rendered once (about a tenth of what ``GET /health`` costs through uvicorn). The validators'
and gzip's verdict on such an answer is asked of them once, when the layer is built: an
answer either would change (an ETag, a coding) is left to the router, through the whole
stack."""

from __future__ import annotations

import itertools
import json
import logging
import re
import secrets
import time
from collections.abc import Iterable
from typing import Any

from fastapi import FastAPI
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import PROBLEM_CONTENT_TYPE, AppError, PayloadTooLarge, ServiceUnavailable
from app.kit import nul
from app.kit.caching import Validation
from app.kit.compression import GZIP_LEVEL, Compression
from app.kit.logging import request_id_var
from app.kit.metrics import Metrics
from app.kit.routing import StaticJsonRoute

log = logging.getLogger("orchard.http")

_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
# SQLSTATEs meaning "no usable connection" rather than "this statement is wrong": connection
# exceptions (class 08), shutdown / starting up (57P01-57P03), too many connections.
_OUTAGE_SQLSTATES = ("08", "57P01", "57P02", "57P03", "53300")
DATABASE_RETRY_AFTER_SECONDS = 5

#: Request ids: a random half per process and a counter (32 hex digits, like a UUID's). As
#: unique across replicas as a random UUID for any practical count of processes, without
#: reading the system's random source on every request.
_PROCESS_PREFIX = secrets.token_hex(8)
_sequence = itertools.count(secrets.randbelow(1 << 32))


def new_request_id() -> str:
    return f"{_PROCESS_PREFIX}{next(_sequence) & 0xFFFFFFFFFFFFFFFF:016x}"


def database_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` means PostgreSQL cannot be reached right now (down, restarting, every
    pooled connection busy) — an outage to report as 503, not a bug to report as 500."""
    seen: set[int] = set()
    error: BaseException | None = exc
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, PoolTimeout):
            return True
        if isinstance(error, DBAPIError) and error.connection_invalidated:
            return True
        if str(getattr(error, "sqlstate", None) or "").startswith(_OUTAGE_SQLSTATES):
            return True
        # Refused / missing socket / connect timeout, raised by the driver while connecting.
        if isinstance(error, OSError | TimeoutError) and _raised_by_driver(error):
            return True
        # SQLAlchemy keeps the driver's error as ``orig`` (and usually as the cause too).
        error = error.__cause__ or getattr(error, "orig", None) or error.__context__
    return False


def _raised_by_driver(error: BaseException) -> bool:
    traceback = error.__traceback__
    while traceback is not None:
        if traceback.tb_frame.f_globals.get("__name__", "").startswith("asyncpg"):
            return True
        traceback = traceback.tb_next
    return False


def database_outage_problem() -> ServiceUnavailable:
    return ServiceUnavailable(
        "the database is unreachable; retry shortly",
        headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)},
    )


def problem_message(error: AppError, instance: str) -> tuple[bytes, list[tuple[bytes, bytes]]]:
    body = json.dumps(error.to_problem(instance)).encode()
    headers = [
        (b"content-type", PROBLEM_CONTENT_TYPE.encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    headers += [(k.lower().encode(), v.encode()) for k, v in error.headers.items()]
    return body, headers


class RequestContextMiddleware:
    """``gzip_minimum_size``: compress answers at least this large for clients that accept
    gzip (None: never), at ISA-L's ``gzip_level`` (0–3). ``validators``: ETag / 304 /
    Cache-Control / HEAD on GETs.
    ``static_answers``: routes whose plain GET this layer answers itself (module docstring);
    the router holds them too and answers whatever this layer passes on."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        metrics: Metrics,
        max_body_bytes: int,
        validators: bool = False,
        gzip_minimum_size: int | None = None,
        gzip_level: int = GZIP_LEVEL,
        static_answers: Iterable[StaticJsonRoute] = (),
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.observe = metrics.http.observe
        self.max_body_bytes = max_body_bytes
        self.validators = validators
        self.gzip_minimum_size = gzip_minimum_size
        self.gzip_level = gzip_level
        self.static = {static.path: static for static in static_answers if self.sends_as_is(static)}

    def sends_as_is(self, static: StaticJsonRoute) -> bool:
        """Whether the validators and gzip send ``static``'s answer on unchanged whatever the
        request (its answer never changes; a request's ``If-None-Match`` matters only to an
        answer with an ETag of its own, and ``*`` matches any)."""

        def start() -> Message:
            return {"type": "http.response.start", "status": 200, "headers": list(static.headers)}

        body: Message = {"type": "http.response.body", "body": static.body}
        if self.validators:
            scope = {"type": "http", "method": "GET", "path": static.path, "route": static.route}
            validation = Validation(scope, "*")
            if validation.push(start()) != [start()] or validation.push(body) != [body]:
                return False
        if self.gzip_minimum_size is not None:
            compression = Compression(self.gzip_minimum_size, self.gzip_level)
            if compression.push(start()) != [start()] or compression.push(body) != [body]:
                return False
        return True

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        # One pass in C over the request's headers; reversed, so that the first of a repeated
        # header wins, as with Starlette's ``Headers.get``.
        headers = dict(reversed(scope["headers"]))
        incoming = headers.get(b"x-request-id")
        declared = headers.get(b"content-length")
        content_type = headers.get(b"content-type")
        gzip = b"gzip" in headers.get(b"accept-encoding", b"")
        if_none_match = headers.get(b"if-none-match")
        request_id = incoming.decode("latin-1") if incoming is not None else None
        if request_id is None or not _SAFE_REQUEST_ID.match(request_id):
            request_id = new_request_id()
        request_id_header = (b"x-request-id", request_id.encode())
        method = scope["method"]
        static = None
        if method == "GET" and self.static and not scope.get("query_string"):
            static = self.static.get(scope["path"]) if not scope.get("root_path") else None
        validation = None
        compression = None
        if static is None:
            if self.validators and (method == "GET" or method == "HEAD"):
                validation = Validation(
                    scope, None if if_none_match is None else if_none_match.decode("latin-1")
                )
            if gzip and self.gzip_minimum_size is not None:
                compression = Compression(self.gzip_minimum_size, self.gzip_level)
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_on(message: Message) -> None:
            """The route's messages: validated, compressed, stamped with the request id."""
            nonlocal status, response_started
            validated = [message] if validation is None else validation.push(message)
            for plain in validated:
                coded: list[Message] | None
                if compression is None:
                    coded = [plain]
                else:
                    coded = compression.push(plain)
                    if coded is None:
                        coded = await compression.compress(plain)
                for out in coded:
                    if out["type"] == "http.response.start":
                        status = out["status"]
                        response_started = True
                        out["headers"] = [*out.get("headers", ()), request_id_header]
                    await send(out)

        try:
            if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
                status = await self._send_problem(scope, send, self._too_large(), request_id)
                return
            if nul.in_url(scope):
                status = await self._send_problem(scope, send, nul.refused("query"), request_id)
                return
            if static is not None:
                # The router's match as it records it (logs, metrics: the documented route),
                # and the answer as the validators and gzip would pass it on (``__init__``).
                scope["endpoint"] = static.route.endpoint
                scope["route"] = static.route
                headers_out = [*static.headers, request_id_header]
                await send({"type": "http.response.start", "status": 200, "headers": headers_out})
                status = 200
                response_started = True
                await send({"type": "http.response.body", "body": static.body})
                return
            json = content_type is not None and nul.is_json_media_type(content_type)
            inner = scope if validation is None else validation.inner
            await self.app(inner, self._limited(receive, json=json), send_on)
        except Exception as exc:
            error: AppError
            if database_unavailable(exc):
                # An outage, not a bug: one line per request, no stack trace.
                log.warning(
                    "database unavailable",
                    extra={"path": scope["path"], "error": type(exc).__name__},
                )
                error = database_outage_problem()
            else:
                log.exception("unhandled error", extra={"path": scope["path"]})
                error = AppError(
                    "an unexpected error occurred; quote the request id when reporting it"
                )
            if response_started:
                raise
            error.extensions["request_id"] = request_id
            status = await self._send_problem(scope, send, error, request_id)
        finally:
            if validation is not None:
                validation.route_found()
            elapsed = time.perf_counter() - started
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            self.observe(method, template, status, elapsed)
            if log.isEnabledFor(logging.INFO):
                log.info(
                    "request",
                    extra={
                        "method": method,
                        "path": scope["path"],
                        "route": template,
                        "status": status,
                        "duration_ms": round(elapsed * 1000, 2),
                    },
                )
            request_id_var.reset(token)

    def _too_large(self) -> PayloadTooLarge:
        return PayloadTooLarge(
            f"the request body exceeds {self.max_body_bytes} bytes",
            extensions={"max_body_bytes": self.max_body_bytes},
        )

    def _limited(self, receive: Receive, *, json: bool) -> Receive:
        received = 0
        body = bytearray()  # JSON bodies only, to look for an escaped NUL across chunks

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                chunk = message.get("body", b"")
                received += len(chunk)
                if received > self.max_body_bytes:
                    raise self._too_large()
                if json:
                    body.extend(chunk)
                    if not message.get("more_body", False) and nul.in_json(bytes(body)):
                        raise nul.refused("body")
            return message

        return limited_receive

    @staticmethod
    async def _send_problem(scope: Scope, send: Send, error: AppError, request_id: str) -> int:
        """Answer ``error`` (with the request id); returns its status."""
        body, headers = problem_message(error, scope["path"])
        headers.append((b"x-request-id", request_id.encode()))
        start: dict[str, Any] = {"type": "http.response.start", "status": error.status}
        start["headers"] = headers
        await send(start)
        await send({"type": "http.response.body", "body": body})
        return error.status


#: Layers FastAPI puts in every application's stack that do nothing for Orchard: exception
#: telemetry with FastAPI's native telemetry off (it records into a scope key only that
#: telemetry sets), and the application body limit with no ``max_body_size`` (it acts only on
#: a scope key only a mounting parent's limit sets; Orchard's own limit is in the request
#: layer). Each still costs a coroutine per request.
_IDLE_WITH_TELEMETRY_OFF = "ExceptionTelemetryMiddleware"
_IDLE_WITHOUT_BODY_LIMIT = "AppBodyLimitMiddleware"


def skip_idle_layers(app: FastAPI, *, native_telemetry: bool) -> None:
    """Build ``app``'s middleware stack (when it first runs) without FastAPI's layers that
    would do nothing in it. Call after ``add_middleware`` and any instrumentation."""
    idle = set()
    if not native_telemetry:
        idle.add(_IDLE_WITH_TELEMETRY_OFF)
    if app.max_body_size is None:
        idle.add(_IDLE_WITHOUT_BODY_LIMIT)
    build = app.build_middleware_stack

    def build_without_idle_layers() -> ASGIApp:
        stack = build()
        layer: Any = stack
        while layer is not app.router and hasattr(layer, "app"):
            following = layer.app
            while _is_fastapi_layer(following, idle):
                following = following.app
            layer.app = following
            layer = following
        return stack

    app.build_middleware_stack = build_without_idle_layers  # type: ignore[method-assign]


def _is_fastapi_layer(layer: Any, names: set[str]) -> bool:
    kind = type(layer)
    return kind.__name__ in names and kind.__module__.startswith("fastapi.")

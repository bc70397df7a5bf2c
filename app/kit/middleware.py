"""The outermost ASGI layer: request ids, body-size limit, metrics, access log, last-resort
problems (503 while the database is unreachable, else 500)."""

from __future__ import annotations

import itertools
import json
import logging
import re
import secrets
import time
from typing import Any

from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import PROBLEM_CONTENT_TYPE, AppError, PayloadTooLarge, ServiceUnavailable
from app.kit import nul
from app.kit.logging import request_id_var
from app.kit.metrics import Metrics

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
    def __init__(self, app: ASGIApp, *, metrics: Metrics, max_body_bytes: int) -> None:
        self.app = app
        self.metrics = metrics
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        incoming = declared = content_type = None
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                incoming = value.decode("latin-1")
            elif name == b"content-length":
                declared = value
            elif name == b"content-type" and content_type is None:
                content_type = value
        if incoming is not None and _SAFE_REQUEST_ID.match(incoming):
            request_id = incoming
        else:
            request_id = new_request_id()
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = message["status"]
                response_started = True
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
                await self._send_problem(scope, send_with_id, self._too_large())
                return
            if nul.in_url(scope):
                await self._send_problem(scope, send_with_id, nul.refused("query"))
                return
            json = content_type is not None and nul.is_json_media_type(content_type)
            await self.app(scope, self._limited(receive, json=json), send_with_id)
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
            await self._send_problem(scope, send_with_id, error)
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            self.metrics.observe_request(scope["method"], template, status, elapsed)
            if log.isEnabledFor(logging.INFO):
                log.info(
                    "request",
                    extra={
                        "method": scope["method"],
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
    async def _send_problem(scope: Scope, send: Send, error: AppError) -> None:
        body, headers = problem_message(error, scope["path"])
        start: dict[str, Any] = {"type": "http.response.start", "status": error.status}
        start["headers"] = headers
        await send(start)
        await send({"type": "http.response.body", "body": body})

"""The outermost ASGI layer: request ids, body-size limit, metrics, access log, last-resort 500."""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import PROBLEM_CONTENT_TYPE, AppError, PayloadTooLarge
from app.health.metrics import Metrics
from app.kit.logging import request_id_var

log = logging.getLogger("orchard.http")

_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


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

        headers = dict(scope["headers"])
        incoming = headers.get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _SAFE_REQUEST_ID.match(incoming) else uuid.uuid4().hex
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
            declared = headers.get(b"content-length")
            if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
                await self._send_problem(scope, send_with_id, self._too_large())
                return
            await self.app(scope, self._limited(receive), send_with_id)
        except Exception:
            log.exception("unhandled error", extra={"path": scope["path"]})
            if response_started:
                raise
            error = AppError("an unexpected error occurred; quote the request id when reporting it")
            error.extensions["request_id"] = request_id
            await self._send_problem(scope, send_with_id, error)
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            self.metrics.observe_request(scope["method"], template, status, elapsed)
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

    def _limited(self, receive: Receive) -> Receive:
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise self._too_large()
            return message

        return limited_receive

    @staticmethod
    async def _send_problem(scope: Scope, send: Send, error: AppError) -> None:
        body, headers = problem_message(error, scope["path"])
        start: dict[str, Any] = {"type": "http.response.start", "status": error.status}
        start["headers"] = headers
        await send(start)
        await send({"type": "http.response.body", "body": body})

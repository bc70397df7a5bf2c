"""CORS for browser apps on other origins (``ORCHARD_CORS_ORIGINS``): an exact allow-list.

Orchard authenticates with a bearer token the page sends itself, so no cookie rides along and
``Access-Control-Allow-Credentials`` is never sent; a wildcard origin is refused by the
settings. The layer sits outside every other, so the problems the request layer answers on its
own (413, 503, 500) carry the CORS headers too and a page can read them.
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import Forbidden
from app.kit.middleware import problem_message

ALLOWED_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
#: Request headers a page may send beyond the CORS-safelisted ones.
ALLOWED_HEADERS = ("authorization", "content-type", "if-none-match", "x-request-id")
#: Response headers a page may read beyond the CORS-safelisted ones.
EXPOSED_HEADERS = ("Retry-After", "X-Request-ID", "ETag", "Link", "Location", "WWW-Authenticate")
PREFLIGHT_MAX_AGE_SECONDS = 600


class CorsMiddleware:
    def __init__(self, app: ASGIApp, *, origins: Iterable[str]) -> None:
        self.app = app
        self.origins = frozenset(origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        if origin is None:
            await self.app(scope, receive, send)
            return
        if scope["method"] == "OPTIONS" and "access-control-request-method" in headers:
            await self._preflight(scope, send, origin, headers)
            return
        allowed = origin in self.origins

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                response_headers = MutableHeaders(scope=message)
                # Whatever the origin, a cache must key the answer by it.
                response_headers.add_vary_header("Origin")
                if allowed:
                    response_headers["Access-Control-Allow-Origin"] = origin
                    response_headers["Access-Control-Expose-Headers"] = ", ".join(EXPOSED_HEADERS)
            await send(message)

        await self.app(scope, receive, send_with_cors)

    async def _preflight(self, scope: Scope, send: Send, origin: str, headers: Headers) -> None:
        method = headers["access-control-request-method"].strip().upper()
        requested = [
            name.strip().lower()
            for name in headers.get("access-control-request-headers", "").split(",")
            if name.strip()
        ]
        refused = []
        if origin not in self.origins:
            refused.append(f"origin {origin}")
        if method not in ALLOWED_METHODS:
            refused.append(f"method {method}")
        unknown = [name for name in requested if name not in ALLOWED_HEADERS]
        if unknown:
            refused.append("headers " + ", ".join(unknown))
        vary = (b"vary", b"Origin, Access-Control-Request-Method, Access-Control-Request-Headers")
        if refused:
            error = Forbidden(
                "CORS preflight refused: "
                + "; ".join(refused)
                + " (allowed origins come from ORCHARD_CORS_ORIGINS)"
            )
            body, problem_headers = problem_message(error, scope["path"])
            await send(
                {
                    "type": "http.response.start",
                    "status": error.status,
                    "headers": [*problem_headers, vary],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        await send(
            {
                "type": "http.response.start",
                "status": 204,
                "headers": [
                    (b"access-control-allow-origin", origin.encode("latin-1")),
                    (b"access-control-allow-methods", ", ".join(ALLOWED_METHODS).encode()),
                    (b"access-control-allow-headers", ", ".join(ALLOWED_HEADERS).encode()),
                    (b"access-control-max-age", str(PREFLIGHT_MAX_AGE_SECONDS).encode()),
                    vary,
                ],
            }
        )
        await send({"type": "http.response.body", "body": b""})

"""Cheap to read again: ``ETag`` and ``304`` on GETs, ``Cache-Control`` per kind of route, and
``HEAD`` wherever ``GET`` answers.

The ETag is weak and derived from the representation (a hash of the JSON body before any
content coding), so it changes exactly when what the caller would read changes, whichever
table it came from. A ``304`` still runs the query — it saves the transfer and the client's
parsing, which for a 90-day sales breakdown is most of the cost.

An answer marked ``no-store`` (health, metrics, the status page) carries no ETag: nothing may
keep it, so nothing revalidates it, and hashing it would be work for no one.

Routes never deal with any of it; a route that sets its own ``Cache-Control`` keeps it.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: Report data (Apple publishes it daily at most; the public store hourly): a browser may reuse
#: an answer for a few minutes without asking again.
REPORT_ROUTES = re.compile(
    r"/(sales|subscriptions|subscribers|subscription-events|payments|finance|analytics|ranks|"
    r"ratings|charts|rank-history)(/|$)"
)
REPORT_CACHE = "private, max-age=300"
#: Everything else under /v1 changes when a sync or a write lands: keep it, but revalidate
#: every time (a 304 when nothing changed).
API_CACHE = "private, no-cache"
STATIC_CACHE = "public, max-age=86400"
NO_STORE = "no-store"


@lru_cache(maxsize=1024)
def cache_control(template: str) -> str:
    """The ``Cache-Control`` of a 200 from the route ``template`` (e.g. ``/v1/apps/{app_id}``)."""
    if template.startswith("/docs/assets"):
        return STATIC_CACHE
    if template.startswith("/v1/"):
        return REPORT_CACHE if REPORT_ROUTES.search(template) else API_CACHE
    if template in ("/openapi.json", "/docs"):
        return "no-cache"
    return NO_STORE  # health, metrics, the status page: always live


@lru_cache(maxsize=1024)
def _cache_control_bytes(template: str) -> bytes:
    return cache_control(template).encode()


_NO_STORE = NO_STORE.encode()


def etag_for(body: bytes) -> str:
    return 'W/"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


def none_match(header: str, etag: str) -> bool:
    """Whether ``If-None-Match`` matches ``etag`` (weak comparison, RFC 9110 §13.1.2)."""
    if header.strip() == "*":
        return True
    opaque = etag.removeprefix("W/")
    return any(candidate.strip().removeprefix("W/") == opaque for candidate in header.split(","))


#: Headers a 304 leaves out: it has no content.
_CONTENT_HEADERS = {b"content-length", b"content-type", b"content-encoding"}


class CachingMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        head = scope["method"] == "HEAD"
        inner: Scope = {**scope, "method": "GET"} if head else scope
        if_none_match = None
        for name, value in scope["headers"]:
            if name == b"if-none-match":
                if_none_match = value.decode("latin-1")
                break
        held: Message | None = None
        passing = False  # not ours to validate: sent on as it comes
        not_modified = False  # a 304 went out already: the route's body is dropped

        async def send_validated(message: Message) -> None:
            nonlocal held, passing, not_modified
            if not_modified:
                return
            if message["type"] == "http.response.start":
                route = inner.get("route")
                template = getattr(route, "path", None) or scope["path"]
                raw = message.setdefault("headers", [])
                policy = content_type = own = None
                for name, value in raw:
                    name = name.lower()
                    if name == b"cache-control":
                        policy = value
                    elif name == b"content-type":
                        content_type = value
                    elif name == b"etag":
                        own = value
                if message["status"] == 200 and policy is None:
                    policy = _cache_control_bytes(template)
                    message["headers"] = raw = [*raw, (b"cache-control", policy)]
                if template.startswith("/v1/"):
                    # One browser, two tokens (two workspaces): never one's answer for the other.
                    MutableHeaders(scope=message).add_vary_header("Authorization")
                if (
                    message["status"] == 200
                    and own is not None
                    and if_none_match is not None
                    and none_match(if_none_match, own.decode("latin-1"))
                ):
                    # The route's own ETag (e.g. a kept answer, ``app.kit.response_cache``).
                    message["status"] = 304
                    message["headers"] = [
                        (k, v) for k, v in message["headers"] if k.lower() not in _CONTENT_HEADERS
                    ]
                    await send(message)
                    await send({"type": "http.response.body", "body": b""})
                    not_modified = True
                    return
                # A no-store answer is never kept, so never revalidated: no ETag to compute.
                if (
                    message["status"] != 200
                    or content_type is None
                    or not content_type.startswith(b"application/json")
                    or own is not None
                    or policy == _NO_STORE
                ):
                    passing = True
                    await send(message)
                else:
                    held = message
                return
            if passing or held is None:
                await send(_bodiless(message) if head else message)
                return
            start, held = held, None
            if message.get("more_body", False):  # streamed: no single body to hash
                passing = True
                await send(start)
                await send(_bodiless(message) if head else message)
                return
            etag = etag_for(message.get("body", b""))
            start["headers"] = [*start["headers"], (b"etag", etag.encode())]
            if if_none_match is not None and none_match(if_none_match, etag):
                start["status"] = 304
                start["headers"] = [
                    (k, v) for k, v in start["headers"] if k.lower() not in _CONTENT_HEADERS
                ]
                await send(start)
                await send({"type": "http.response.body", "body": b""})
                return
            await send(start)
            await send(_bodiless(message) if head else message)

        await self.app(inner, receive, send_validated)
        if head:  # the routing the GET found, for the access log and metrics
            for key in ("route", "endpoint", "path_params"):
                if key in inner:
                    scope[key] = inner[key]


def _bodiless(message: Message) -> Message:
    """HEAD: the GET's headers (Content-Length included), no content."""
    if message["type"] != "http.response.body":
        return message
    return {**message, "body": b""}

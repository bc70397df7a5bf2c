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

import re
from functools import lru_cache

import xxhash
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
    # XXH3's 128 bits: an ETag tells one representation of a URL from the next, so it needs no
    # resistance to a forger, only few collisions (1 in 2^64 by the birthday bound after 2^32
    # versions). 0.16 ms for a 5 MB converted answer against SHA-256's 2.8 ms and BLAKE2b's
    # 5.3 ms (hardware-assisted SHA-256 here; measured 2026-12-06).
    return 'W/"' + xxhash.xxh3_128_hexdigest(body) + '"'


def none_match(header: str, etag: str) -> bool:
    """Whether ``If-None-Match`` matches ``etag`` (weak comparison, RFC 9110 §13.1.2)."""
    if header.strip() == "*":
        return True
    opaque = etag.removeprefix("W/")
    return any(candidate.strip().removeprefix("W/") == opaque for candidate in header.split(","))


#: Headers a 304 leaves out: it has no content.
_CONTENT_HEADERS = {b"content-length", b"content-type", b"content-encoding"}


class Validation:
    """One GET or HEAD request's validators, applied to the messages its route sends.

    Synchronous, so the request layer (``app.kit.middleware``) applies it inside its own send
    without another ASGI layer: ``push`` takes each message the route sends and returns the
    messages to send on (none while the start is held for the body's ETag). ``inner`` is the
    scope to give the route: a HEAD is answered as the GET it mirrors."""

    __slots__ = ("head", "held", "if_none_match", "inner", "not_modified", "passing", "scope")

    def __init__(self, scope: Scope, if_none_match: str | None) -> None:
        self.scope = scope
        self.head = scope["method"] == "HEAD"
        self.inner: Scope = {**scope, "method": "GET"} if self.head else scope
        self.if_none_match = if_none_match
        self.held: Message | None = None
        self.passing = False  # not ours to validate: sent on as it comes
        self.not_modified = False  # a 304 went out already: the route's body is dropped

    def push(self, message: Message) -> list[Message]:
        if self.not_modified:
            return []
        if message["type"] == "http.response.start":
            return self._start(message)
        if self.passing or self.held is None:
            return [_bodiless(message) if self.head else message]
        start, self.held = self.held, None
        if message.get("more_body", False):  # streamed: no single body to hash
            self.passing = True
            return [start, _bodiless(message) if self.head else message]
        etag = etag_for(message.get("body", b""))
        start["headers"] = [*start["headers"], (b"etag", etag.encode())]
        if self.if_none_match is not None and none_match(self.if_none_match, etag):
            return _not_modified(start)
        return [start, _bodiless(message) if self.head else message]

    def _start(self, message: Message) -> list[Message]:
        route = self.inner.get("route")
        template = getattr(route, "path", None) or self.scope["path"]
        raw = message.setdefault("headers", [])
        found = dict(raw)  # ASGI: response header names are lower-case
        policy = found.get(b"cache-control")
        content_type = found.get(b"content-type")
        own = found.get(b"etag")
        status = message["status"]
        if status == 200 and policy is None:
            policy = _cache_control_bytes(template)
            message["headers"] = [*raw, (b"cache-control", policy)]
        if template.startswith("/v1/"):
            # One browser, two tokens (two workspaces): never one's answer for the other.
            MutableHeaders(scope=message).add_vary_header("Authorization")
        if (
            status == 200
            and own is not None
            and self.if_none_match is not None
            and none_match(self.if_none_match, own.decode("latin-1"))
        ):
            # The route's own ETag (e.g. a kept answer, ``app.kit.response_cache``).
            self.not_modified = True
            return _not_modified(message)
        # A no-store answer is never kept, so never revalidated: no ETag to compute.
        if (
            status != 200
            or content_type is None
            or not content_type.startswith(b"application/json")
            or own is not None
            or policy == _NO_STORE
        ):
            self.passing = True
            return [message]
        self.held = message
        return []

    def route_found(self) -> None:
        """HEAD: the routing the GET found, onto the request's own scope (for the access log
        and metrics)."""
        if self.head:
            for key in ("route", "endpoint", "path_params"):
                if key in self.inner:
                    self.scope[key] = self.inner[key]


def validated(scope: Scope) -> Validation | None:
    """The validators of ``scope`` when it is a GET or HEAD, else None."""
    if scope["method"] not in ("GET", "HEAD"):
        return None
    for name, value in scope["headers"]:
        if name == b"if-none-match":
            return Validation(scope, value.decode("latin-1"))
    return Validation(scope, None)


def _not_modified(start: Message) -> list[Message]:
    start["status"] = 304
    start["headers"] = [(k, v) for k, v in start["headers"] if k.lower() not in _CONTENT_HEADERS]
    return [start, {"type": "http.response.body", "body": b""}]


class CachingMiddleware:
    """``Validation`` as an ASGI layer of its own (Orchard applies it in its request layer)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        validation = validated(scope) if scope["type"] == "http" else None
        if validation is None:
            await self.app(scope, receive, send)
            return

        async def send_validated(message: Message) -> None:
            for out in validation.push(message):
                await send(out)

        await self.app(validation.inner, receive, send_validated)
        validation.route_found()


def _bodiless(message: Message) -> Message:
    """HEAD: the GET's headers (Content-Length included), no content."""
    if message["type"] != "http.response.body":
        return message
    return {**message, "body": b""}

"""Routing that costs what one regular expression costs, not a walk of every route.

FastAPI keeps each included router as its own object and, on every request, asks each one in
turn whether it holds the path, which walks that router's routes (and its sub-routers'), with
bookkeeping in the scope for each candidate: about 6 µs to reach ``/health``, and 80-130 µs to
reach a route in one of the last routers (``/v1/sales``, ``/v1/fx/rates``, ``/v1/webhooks``),
on every request, before any of Orchard's code runs. ``install_prefilters`` gives each included
router one compiled pattern — the union of its routes' own path patterns — and answers "not
here" from it alone; only the router that can hold the path does FastAPI's full match, so every
answer stays FastAPI's own.

``StaticJsonRoute`` answers a documented GET whose answer never changes (liveness) from bytes
rendered once, inside the whole middleware stack (request id, metrics, access log, caching
headers, CORS): FastAPI's request, dependency and response machinery for an ``APIRoute`` costs
about 25 µs per request, five times what the rest of the stack does for ``/health``. Anything
but a plain ``GET`` of that exact path — another method, a query string — goes to the
documented route as before, so its 405s and 422s are FastAPI's and the query check's own.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette._utils import get_route_path
from starlette.routing import BaseRoute, Match, NoMatchFound, Route
from starlette.types import Receive, Scope, Send

from app.kit.caching import cache_control

# A named group, written as Starlette compiles path parameters: the union cannot repeat names.
_NAMED_GROUP = re.compile(r"\(\?P<[A-Za-z_][A-Za-z0-9_]*>")


def _included_routers(routes: Iterable[BaseRoute]) -> list[Any]:
    """FastAPI's included-router objects among ``routes`` (duck-typed: the class is private)."""
    return [
        route
        for route in routes
        if hasattr(route, "effective_candidates") and hasattr(route, "original_router")
    ]


def _path_patterns(included: Any) -> list[str] | None:
    """Every path pattern ``included`` can match (prefixes applied), or None when it holds
    something a path pattern does not describe (a mount, a frontend route group)."""
    patterns: list[str] = []
    for candidate in included.effective_candidates():
        if hasattr(candidate, "effective_candidates"):  # a router included in a router
            nested = _path_patterns(candidate)
            if nested is None:
                return None
            patterns += nested
            continue
        original = getattr(candidate, "original_route", None)
        if isinstance(original, APIRoute):
            regex = candidate.path_regex
        else:
            route = getattr(candidate, "starlette_route", None) or original
            if type(route) is not Route:
                return None
            regex = route.path_regex
        if regex is None:
            return None
        patterns.append(_NAMED_GROUP.sub("(?:", regex.pattern))
    return patterns


def path_filter(included: Any) -> re.Pattern[str] | None:
    """One pattern matching exactly the paths some route of ``included`` matches."""
    patterns = _path_patterns(included)
    if patterns is None:
        return None
    if not patterns:
        return re.compile(r"(?!)")  # an empty router holds nothing
    return re.compile("|".join(f"(?:{pattern})" for pattern in patterns))


def install_prefilters(app: FastAPI) -> int:
    """Give every included router of ``app`` its path filter (call once all routers are
    included, like ``strict_query.install``). Returns how many routers it filters."""
    count = 0
    for included in _included_routers(app.router.routes):
        if getattr(included, "_orchard_prefiltered", False):
            continue
        pattern = path_filter(included)
        if pattern is None:
            continue
        included.matches = _prefiltered(included.matches, pattern)
        included._orchard_prefiltered = True
        count += 1
    return count


def _prefiltered(matches: Any, pattern: re.Pattern[str]) -> Any:
    match_path = pattern.match

    def prefiltered_matches(scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "http" and match_path(get_route_path(scope)) is None:
            return Match.NONE, {}
        result: tuple[Match, Scope] = matches(scope)
        return result

    return prefiltered_matches


class StaticJsonRoute(BaseRoute):
    """``GET <route.path>`` with no query string, answered 200 with ``body`` (JSON), for the
    documented ``route`` (which the scope names, for metrics and logs, and which answers every
    other request to the path)."""

    include_in_schema = False

    def __init__(self, route: APIRoute, body: bytes) -> None:
        self.route = route
        self.path = self.path_format = route.path
        self.name = route.name
        self.body = body
        # Its Cache-Control too, as the request layer would add it (``app.kit.caching``):
        # one header list built once, not extended on every request.
        self.headers = [
            (b"content-length", str(len(body)).encode()),
            (b"content-type", b"application/json"),
            (b"cache-control", cache_control(route.path).encode()),
        ]

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if (
            scope["type"] == "http"
            and scope["method"] == "GET"
            and not scope.get("query_string")
            and get_route_path(scope) == self.path
        ):
            return Match.FULL, {"endpoint": self.route.endpoint, "route": self.route}
        return Match.NONE, {}

    def url_path_for(self, name: str, /, **path_params: Any) -> Any:
        raise NoMatchFound(name, path_params)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": list(self.headers)})
        await send({"type": "http.response.body", "body": self.body})


def answer_statically(app: FastAPI, route: APIRoute, body: bytes) -> StaticJsonRoute:
    """Put a ``StaticJsonRoute`` for ``route`` ahead of every other route of ``app``."""
    static = StaticJsonRoute(route, body)
    app.router.routes.insert(0, static)
    return static

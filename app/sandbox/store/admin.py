"""Simulator-only admin surface under ``/sandbox`` — NOT part of Apple's services.

No authentication: bind the simulator to localhost. Times are ISO 8601 with a zone.

==================================  ======================================================
``GET /sandbox``                    overview: now, seed, settings, known apps, endpoints
``GET|PATCH /sandbox/settings``     every knob (:class:`StoreSettings`); PATCH a subset
``GET|POST /sandbox/apps``          known apps; POST adds one (``app_id``, ``name``,
                                    ``bundle_id``, ``genre_id``, optional fields as in
                                    :class:`StoreApp`)
``POST /sandbox/apps/{id}/reset``   reset its rating (``{"at"?}``, default now)
``POST|DELETE /sandbox/ranks``      pin/remove (``{"app_id","rank"|null,"country"?,"chart"?,
                                    "genre"?,"since"?,"until"?}``) / clear all pins
``POST|DELETE /sandbox/freezes``    serve a stale snapshot (``{"since","until","country"?,
                                    "chart"?}``) / clear
``GET /sandbox/truth/rating``       ``?app_id=&country=&at=`` → the true rating (404: not sold)
``GET /sandbox/truth/chart``        ``?country=&chart=&genre=&at=&limit=`` → served ids
``GET|DELETE /sandbox/requests``    request log (``?endpoint=``) with User-Agents / clear it
``DELETE /sandbox/throttle``        forget every throttle window
==================================  ======================================================
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app.sandbox.store.catalog import ALL_COUNTRIES, StoreApp
from app.sandbox.store.charts import CHART_NAMES
from app.sandbox.store.state import StoreState

_APP_FIELDS = {"app_id", "name", "bundle_id", "artist_name", "artist_id", "genre_id",
               "subgenre_id", "price_tier", "released", "release_cadence_days", "countries",
               "rating_rate", "rating_average", "base_ranks", "rank_swing"}  # fmt: skip


class BadRequest(Exception):
    pass


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status)


def _time(value: Any, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(f"{name} is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        raise BadRequest(f"{name} must carry a time zone")
    return moment


async def _body(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body() or b"{}")
    except ValueError:
        raise BadRequest("the body is not JSON") from None
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object")
    return body


def app_summary(app: StoreApp) -> dict[str, Any]:
    data = {name: getattr(app, name) for name in sorted(_APP_FIELDS)}
    data["released"] = app.released.isoformat()
    data["countries"] = sorted(app.countries)
    data["base_ranks"] = dict(app.base_ranks)
    return data


def _app_from(body: dict[str, Any]) -> StoreApp:
    unknown = set(body) - _APP_FIELDS
    missing = {"app_id", "name", "bundle_id", "genre_id"} - set(body)
    if unknown or missing:
        raise BadRequest(f"unknown fields {sorted(unknown)}, missing {sorted(missing)}")
    fields = dict(body)
    fields.setdefault("artist_name", "Sandbox Developer")
    fields.setdefault("artist_id", 200000000 + int(body["app_id"]) % 99999999)
    if "released" in fields:
        fields["released"] = _time(fields["released"], "released")
    fields["countries"] = frozenset(c.lower() for c in fields.get("countries", ALL_COUNTRIES))
    if not fields["countries"] <= ALL_COUNTRIES:
        raise BadRequest(f"countries must be among {sorted(ALL_COUNTRIES)}")
    try:
        return StoreApp(known=True, **fields)
    except TypeError as error:
        raise BadRequest(str(error)) from None


def _query_time(request: Request) -> datetime | None:
    return _time(request.query_params.get("at"), "at")


ENDPOINTS = [
    "GET /lookup?id=&country=&entity=",
    "GET /api/v2/{cc}/apps/{chart}/{n}/apps.json",
    "GET /{cc}/rss/{chart}/limit={n}/genre={gid}/json",
    "GET /WebObjects/MZStoreServices.woa/ws/RSS/{chart}/genre={gid}/limit={n}/json?s={sf}",
]


class StoreAdmin:
    """The ``/sandbox`` handlers of one :class:`StoreState`."""

    def __init__(self, state: StoreState) -> None:
        self.state = state

    async def overview(self, request: Request) -> Response:
        state = self.state
        return JSONResponse(
            {
                "service": "App Store public data simulator (Orchard); not Apple",
                "now": state.now().isoformat(),
                "seed": state.seed,
                "settings": state.settings.as_dict(),
                "known_apps": [app_summary(a) for a in state.known_apps],
                "charts": sorted(CHART_NAMES),
                "endpoints": ENDPOINTS,
            }
        )

    async def settings(self, request: Request) -> Response:
        if request.method == "PATCH":
            try:
                self.state.settings.update(await _body(request))
            except ValueError as error:
                raise BadRequest(str(error)) from None
        return JSONResponse(self.state.settings.as_dict())

    async def apps(self, request: Request) -> Response:
        if request.method == "POST":
            try:
                app = self.state.add_app(_app_from(await _body(request)))
            except ValueError as error:
                raise BadRequest(str(error)) from None
            return JSONResponse(app_summary(app), 201)
        return JSONResponse([app_summary(a) for a in self.state.known_apps])

    async def reset(self, request: Request) -> Response:
        app_id = int(request.path_params["app_id"])
        if app_id not in self.state.apps:
            return _error(404, f"{app_id} is not a known app")
        moment = self.state.reset_rating(app_id, _time((await _body(request)).get("at"), "at"))
        return JSONResponse({"app_id": app_id, "reset_at": moment.isoformat()})

    async def ranks(self, request: Request) -> Response:
        if request.method == "DELETE":
            self.state.clear_ranks()
            return Response(status_code=204)
        body = await _body(request)
        try:
            pin = self.state.set_rank(
                int(body["app_id"]),
                body.get("rank"),
                country=body.get("country"),
                chart=body.get("chart"),
                genre=body.get("genre"),
                since=_time(body.get("since"), "since"),
                until=_time(body.get("until"), "until"),
            )
        except (KeyError, ValueError, TypeError) as error:
            raise BadRequest(f"bad pin: {error}") from None
        data = asdict(pin)
        data.update(since=body.get("since"), until=body.get("until"))
        return JSONResponse(data, 201)

    async def freezes(self, request: Request) -> Response:
        if request.method == "DELETE":
            self.state.freezes.clear()
            return Response(status_code=204)
        body = await _body(request)
        since, until = _time(body.get("since"), "since"), _time(body.get("until"), "until")
        if since is None or until is None:
            raise BadRequest("since and until are required")
        try:
            self.state.freeze_feeds(
                since, until, country=body.get("country"), chart=body.get("chart")
            )
        except ValueError as error:
            raise BadRequest(str(error)) from None
        return JSONResponse({"since": since.isoformat(), "until": until.isoformat()}, 201)

    async def truth_rating(self, request: Request) -> Response:
        query = request.query_params
        if not query.get("app_id", "").isdigit():
            raise BadRequest("app_id is required")
        at = _query_time(request)
        truth = self.state.rating(int(query["app_id"]), query.get("country", "us"), at)
        if truth is None:
            return _error(404, "not sold in this storefront (or unknown)")
        data = asdict(truth)
        data["version_released_at"] = truth.version_released_at.isoformat()
        data["counting_since"] = truth.counting_since.isoformat()
        return JSONResponse(data)

    async def truth_chart(self, request: Request) -> Response:
        query = request.query_params
        chart = query.get("chart", "top-free")
        if chart not in CHART_NAMES:
            raise BadRequest(f"chart must be one of {sorted(CHART_NAMES)}")
        genre = int(query["genre"]) if query.get("genre", "").isdigit() else None
        limit = int(query["limit"]) if query.get("limit", "").isdigit() else 200
        country, at = query.get("country", "us").lower(), _query_time(request)
        snapshot = self.state.snapshot(country, chart, at)
        ids = self.state.chart(country, chart, genre, at, limit)
        return JSONResponse(
            {
                "ids": ids,
                "updated": snapshot.updated.isoformat(),
                "published_at": snapshot.published_at.isoformat(),
            }
        )

    async def requests(self, request: Request) -> Response:
        if request.method == "DELETE":
            self.state.clear_requests()
            return Response(status_code=204)
        endpoint = request.query_params.get("endpoint")
        records = self.state.requests
        return JSONResponse([r.as_dict() for r in records if endpoint in (None, r.endpoint)])

    async def throttle(self, request: Request) -> Response:
        self.state.throttle.clear()
        return Response(status_code=204)


def _guarded(handler: Callable[[Request], Awaitable[Response]]) -> Callable[..., Any]:
    async def run(request: Request) -> Response:
        try:
            return await handler(request)
        except BadRequest as error:
            return _error(400, str(error))

    return run


def routes(state: StoreState) -> list[Route]:
    admin = StoreAdmin(state)
    table: list[tuple[str, Callable[[Request], Awaitable[Response]], list[str]]] = [
        ("/", admin.overview, ["GET"]),
        ("/settings", admin.settings, ["GET", "PATCH"]),
        ("/apps", admin.apps, ["GET", "POST"]),
        ("/apps/{app_id:int}/reset", admin.reset, ["POST"]),
        ("/ranks", admin.ranks, ["POST", "DELETE"]),
        ("/freezes", admin.freezes, ["POST", "DELETE"]),
        ("/truth/rating", admin.truth_rating, ["GET"]),
        ("/truth/chart", admin.truth_chart, ["GET"]),
        ("/requests", admin.requests, ["GET", "DELETE"]),
        ("/throttle", admin.throttle, ["DELETE"]),
    ]
    return [Route(path, _guarded(handler), methods=methods) for path, handler, methods in table]

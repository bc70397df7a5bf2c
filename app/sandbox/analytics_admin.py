"""Sandbox-only admin routes for the Analytics Reports simulator (under ``/sandbox/analytics``).

=============================================  ==============================================
``GET /sandbox/analytics``                     options, requests, volumes, gaps, corrections,
                                               corrupted segments
``PATCH /sandbox/analytics``                   set options (any :class:`.AnalyticsOptions`
                                               field, e.g. ``{"segment_headers": "first"}``)
``POST …/requests/{id}/stop``                  ``{"at"?: ISO datetime}`` → request stopped
                                               (``stoppedDueToInactivity``) from then on
``POST …/segments/{id}/corrupt``               ``{"always"?: bool, "kind"?: "flip"|"truncate"}``
``POST …/apps/{id}/gap``                       ``{"date": "YYYY-MM-DD"}`` (F-ASC data gap)
``POST …/apps/{id}/restate``                   ``{"date", "on", "factor"?}`` late correction
``PUT …/apps/{id}/volume``                     ``{"volume": float}`` event multiplier
``GET …/apps/{id}/truth?date=&territory=``     the simulator's own totals of a day
=============================================  ==============================================
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import asdict, fields
from datetime import date, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app.sandbox.analytics_ledger import (
    OPTION_CHOICES,
    AnalyticsLedger,
    AnalyticsOptions,
    analytics,
)
from app.sandbox.analytics_truth import AnalyticsTruth
from app.sandbox.catalog import find_app
from app.sandbox.state import SandboxState

Endpoint = Callable[[Request], Awaitable[Response]]
_OPTION_TYPES = {f.name: f.type for f in fields(AnalyticsOptions)}


class _BadRequest(Exception):
    pass


def _error(status: int, detail: str) -> JSONResponse:
    code = "SANDBOX_BAD_REQUEST" if status == 400 else "NOT_FOUND"
    return JSONResponse(
        {"errors": [{"status": str(status), "code": code, "detail": detail}]}, status_code=status
    )


async def _body(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body() or b"{}")
    except ValueError:
        raise _BadRequest("The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise _BadRequest("The request body must be a JSON object.")
    return body


def _day(value: Any, name: str) -> date:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise _BadRequest(f"'{name}' must be a date YYYY-MM-DD.") from None


def _set_option(options: AnalyticsOptions, name: str, value: Any) -> None:
    if name not in _OPTION_TYPES:
        raise _BadRequest(f"Unknown option '{name}'.")
    current = getattr(options, name)
    nullable = "None" in str(_OPTION_TYPES[name])
    if not (value is None and nullable) and current is not None:
        kind = type(current)
        if isinstance(value, bool) != (kind is bool) or not isinstance(value, kind):
            raise _BadRequest(f"'{name}' must be of type {kind.__name__}.")
    allowed = OPTION_CHOICES.get(name)
    if allowed is not None and value not in allowed:
        raise _BadRequest(f"'{name}' must be one of {', '.join(allowed)}.")
    setattr(options, name, value)


def overview(ledger: AnalyticsLedger) -> dict[str, Any]:
    return {
        "options": asdict(ledger.options),
        "requests": [
            {
                "id": r.id,
                "team": r.team.name,
                "app_id": r.app_id,
                "access_type": r.access_type,
                "created_at": r.created_at.isoformat(),
                "stopped_at": r.stopped_at.isoformat() if r.stopped_at else None,
                "ghost": r.ghost,
            }
            for r in ledger.requests.values()
        ],
        "volume": ledger.volume,
        "gaps": {app: sorted(d.isoformat() for d in days) for app, days in ledger.gaps.items()},
        "corrections": [
            {
                "app_id": c.app_id,
                "date": c.day.isoformat(),
                "on": c.processing_date.isoformat(),
                "factor": c.factor,
            }
            for c in ledger.corrections
        ],
        "corruptions": {k: asdict(v) for k, v in ledger.corruptions.items()},
    }


def routes(state: SandboxState) -> list[Route]:
    """The analytics admin routes bound to ``state`` (mounted under ``/sandbox``)."""
    ledger = analytics(state)

    def guarded(handler: Endpoint) -> Endpoint:
        async def endpoint(request: Request) -> Response:
            try:
                return await handler(request)
            except _BadRequest as error:
                return _error(400, str(error))
            except KeyError as error:
                return _error(404, f"Not found: {error}")

        return endpoint

    async def show(request: Request) -> Response:
        return JSONResponse(overview(ledger))

    async def patch(request: Request) -> Response:
        for name, value in (await _body(request)).items():
            _set_option(ledger.options, name, value)
        return JSONResponse(overview(ledger))

    async def stop(request: Request) -> Response:
        body = await _body(request)
        at = datetime.fromisoformat(body["at"]) if "at" in body else state.now()
        ledger.stop(request.path_params["id"], at)
        return JSONResponse(overview(ledger))

    async def corrupt(request: Request) -> Response:
        body = await _body(request)
        kind = body.get("kind", "flip")
        if kind not in ("flip", "truncate"):
            raise _BadRequest("'kind' must be 'flip' or 'truncate'.")
        ledger.corrupt(request.path_params["id"], always=bool(body.get("always")), kind=kind)
        return JSONResponse(overview(ledger))

    async def gap(request: Request) -> Response:
        body = await _body(request)
        ledger.data_gap(request.path_params["id"], _day(body.get("date"), "date"))
        return JSONResponse(overview(ledger))

    async def restate(request: Request) -> Response:
        body = await _body(request)
        day, on = _day(body.get("date"), "date"), _day(body.get("on"), "on")
        ledger.restate(request.path_params["id"], day, on, float(body.get("factor", 1.1)))
        return JSONResponse(overview(ledger))

    async def volume(request: Request) -> Response:
        value = (await _body(request)).get("volume")
        if not isinstance(value, int | float) or isinstance(value, bool) or value <= 0:
            raise _BadRequest("'volume' must be a positive number.")
        ledger.volume[request.path_params["id"]] = float(value)
        return JSONResponse(overview(ledger))

    async def truth(request: Request) -> Response:
        app_id = request.path_params["id"]
        team = next((t for t in state.teams.values() if find_app(t, app_id)), None)
        if team is None:
            raise KeyError(app_id)
        day = _day(request.query_params.get("date"), "date")
        territory = request.query_params.get("territory")
        totals = AnalyticsTruth(state, team).day(app_id, day, territory)
        return JSONResponse(totals.as_dict())

    base = "/analytics"
    return [
        Route(base, guarded(show), methods=["GET"]),
        Route(base, guarded(patch), methods=["PATCH"]),
        Route(f"{base}/requests/{{id}}/stop", guarded(stop), methods=["POST"]),
        Route(f"{base}/segments/{{id}}/corrupt", guarded(corrupt), methods=["POST"]),
        Route(f"{base}/apps/{{id}}/gap", guarded(gap), methods=["POST"]),
        Route(f"{base}/apps/{{id}}/restate", guarded(restate), methods=["POST"]),
        Route(f"{base}/apps/{{id}}/volume", guarded(volume), methods=["PUT"]),
        Route(f"{base}/apps/{{id}}/truth", guarded(truth), methods=["GET"]),
    ]

"""Sandbox-only admin routes of the subscription world (mounted under ``/sandbox``).

==================================  ===========================================================
``GET /sandbox/subscriptions``      the world's options and simulated window
``PATCH /sandbox/subscriptions``    change options (JSON: ``scale``, ``subscribers``,
                                    ``app_subscribers``, ``start``, ``late_shares``,
                                    ``refund_units``, ``offer_code_layout``,
                                    ``offer_code_dates``, ``win_back_layout``,
                                    ``win_back_min_count``, ``offer_name_column``);
                                    drops built worlds
``GET /sandbox/subscriptions/truth`` ``?team=<name>&app_id=&date=YYYY-MM-DD`` → actives by
                                    state, MRR, win-back population; with ``from`` and ``to``
                                    (inclusive) → flows over the range
==================================  ===========================================================
"""

from __future__ import annotations

import dataclasses
import json
from datetime import date
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app.sandbox.errors import ApiError
from app.sandbox.state import SandboxState, SandboxTeam
from app.sandbox.subscription_world.registry import configure, registry, window
from app.sandbox.subscription_world.truth import SubscriptionTruth

_PATCHABLE = {
    "scale": (int, float),
    "subscribers": (int, type(None)),
    "app_subscribers": (dict,),
    "start": (str, type(None)),
    "late_shares": (list,),
    "refund_units": (str,),
    "offer_code_layout": (str,),
    "offer_code_dates": (str,),
    "win_back_layout": (str,),
    "win_back_min_count": (int,),
    "offer_name_column": (str,),
}


def _bad(detail: str) -> ApiError:
    return ApiError(400, "SANDBOX_BAD_REQUEST", "Invalid sandbox admin request", detail)


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict | MappingProxyType):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _options_body(state: SandboxState) -> dict[str, Any]:
    options = registry(state).options
    first, last = window(state)
    body = {
        f.name: _plain(getattr(options, f.name))
        for f in dataclasses.fields(options)
        if f.name != "behaviour"
    }
    body["window"] = {
        "first": date.fromordinal(first).isoformat(),
        "last": date.fromordinal(last).isoformat(),
    }
    return body


def _changes(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        raise _bad("The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise _bad("The request body must be a JSON object.")
    changes: dict[str, Any] = {}
    for name, value in body.items():
        if name not in _PATCHABLE:
            raise _bad(f"Unknown field '{name}'.")
        if not isinstance(value, _PATCHABLE[name]) or isinstance(value, bool):
            raise _bad(f"'{name}' has the wrong type.")
        changes[name] = value
    if changes.get("start"):
        changes["start"] = date.fromisoformat(changes["start"])
    if "late_shares" in changes:
        changes["late_shares"] = tuple(float(x) for x in changes["late_shares"])
    if "app_subscribers" in changes:
        changes["app_subscribers"] = MappingProxyType(dict(changes["app_subscribers"]))
    return changes


def _day(request: Request, name: str) -> date | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise _bad(f"'{name}' must be a date (YYYY-MM-DD).") from None


def _team(state: SandboxState, request: Request) -> SandboxTeam:
    name = request.query_params.get("team")
    team = state.teams.get(name) if name else state.default_team()
    if team is None:
        raise ApiError(
            404,
            "NOT_FOUND",
            "The specified resource does not exist",
            f"There is no sandbox team '{name}'.",
        )
    return team


def routes(state: SandboxState) -> list[Route]:
    async def show(request: Request) -> Response:
        return JSONResponse(_options_body(state))

    async def change(request: Request) -> Response:
        try:
            configure(state, **_changes(await request.body()))
        except (TypeError, ValueError) as error:
            return _bad(str(error)).response()
        except ApiError as error:
            return error.response()
        return JSONResponse(_options_body(state))

    async def truth(request: Request) -> Response:
        try:
            team = _team(state, request)
            truth = SubscriptionTruth(state, team, request.query_params.get("app_id"))
            first, last = _day(request, "from"), _day(request, "to")
            if first and last:
                flows = truth.flows(first, last)
                fields = dataclasses.fields(flows)
                return JSONResponse({f.name: _plain(getattr(flows, f.name)) for f in fields})
            day = _day(request, "date")
            if day is None:
                raise _bad("Give 'date', or 'from' and 'to'.")
            return JSONResponse(
                {
                    "date": day.isoformat(),
                    "actives": truth.actives(day),
                    "mrr": _plain(truth.mrr(day)),
                    "win_back_eligible": truth.win_back_eligible(day),
                }
            )
        except ApiError as error:
            return error.response()

    return [
        Route("/subscriptions", show, methods=["GET"]),
        Route("/subscriptions", change, methods=["PATCH"]),
        Route("/subscriptions/truth", truth, methods=["GET"]),
    ]

"""Sandbox-only admin surface under ``/sandbox`` — NOT part of App Store Connect.

It exists so people and demos using the sandbox over HTTP can get credentials and steer
failure modes. It has no authentication: bind the sandbox to localhost.

==========================  =============================================================
``GET /sandbox``            overview: teams, keys (without private keys), endpoints
``GET /sandbox/teams``      teams with issuer id and vendor number
``POST /sandbox/teams``     ``{"name", "apps"?, "vendor_number"?}`` → 201 team
``GET /sandbox/keys``       keys (without private keys)
``POST /sandbox/keys``      ``{"team"?, "apps"?, "roles"?, "key_type"?, "revoked"?,
                            "agreement_missing"?, "hour_limit"?, "send_retry_after"?}``
                            → 201 key id, issuer id, vendor number, ``private_key_pem``
``GET /sandbox/keys/{kid}`` one key including ``private_key_pem``
``PATCH /sandbox/keys/{kid}`` ``{"revoked"?, "agreement_missing"?, "roles"?,
                            "hour_limit"?, "remaining"?, "send_retry_after"?}``
``GET /sandbox/requests``   request log (``?key_id=&limit=``), in-flight and max concurrency
``DELETE /sandbox/requests`` clear the log
``/sandbox/fidelity…``      selectable Apple behaviours, sandbox-wide and per team (see
                            :mod:`app.sandbox.fidelity_admin`)
``/sandbox/analytics…``     Analytics Reports knobs (see :mod:`.analytics_admin`)
``/sandbox/subscriptions`` subscription world options and truth (see
                            :mod:`app.sandbox.subscription_world.admin_routes`)
==========================  =============================================================
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app.sandbox import analytics_admin, fidelity_admin
from app.sandbox.errors import ApiError
from app.sandbox.state import SandboxKey, SandboxState, SandboxTeam
from app.sandbox.subscription_world import admin_routes as subscription_admin

_KEY_CREATE_FIELDS = {
    "team",
    "apps",
    "vendor_number",
    "roles",
    "key_type",
    "revoked",
    "agreement_missing",
    "hour_limit",
    "send_retry_after",
}
_KEY_PATCH_FIELDS = {
    "revoked",
    "agreement_missing",
    "roles",
    "hour_limit",
    "remaining",
    "send_retry_after",
}


def _bad_request(detail: str, pointer: str | None = None) -> ApiError:
    return ApiError(400, "SANDBOX_BAD_REQUEST", "Invalid sandbox admin request", detail,
                    pointer=pointer)  # fmt: skip


def _not_found(detail: str) -> ApiError:
    return ApiError(404, "NOT_FOUND", "The specified resource does not exist", detail)


async def _json_body(request: Request, allowed: set[str]) -> dict[str, Any]:
    raw = await request.body()
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        raise _bad_request("The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise _bad_request("The request body must be a JSON object.")
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise _bad_request(f"Unknown field(s): {', '.join(unknown)}.", f"/{unknown[0]}")
    return body


def _typed(body: dict[str, Any], name: str, kind: type, default: Any = None) -> Any:
    value = body.get(name, default)
    if value is not None and (
        not isinstance(value, kind) or isinstance(value, bool) != (kind is bool)
    ):
        raise _bad_request(f"'{name}' must be of type {kind.__name__}.", f"/{name}")
    return value


def _roles(body: dict[str, Any], default: list[str] | None) -> list[str] | None:
    roles = body.get("roles", default)
    if roles is None:
        return None
    if not isinstance(roles, list) or not roles or not all(isinstance(r, str) for r in roles):
        raise _bad_request("'roles' must be a non-empty list of strings.", "/roles")
    return roles


def _team_summary(team: SandboxTeam) -> dict[str, Any]:
    return {
        "name": team.name,
        "issuer_id": team.issuer_id,
        "vendor_number": team.vendor_number,
        "apps": team.app_count,
    }


def _guarded(
    state: SandboxState, handler: Callable[[SandboxState, Request], Awaitable[Response]]
) -> Callable[[Request], Awaitable[Response]]:
    """The handler bound to ``state``, answering Apple-style errors as responses."""

    async def endpoint(request: Request) -> Response:
        try:
            return await handler(state, request)
        except ApiError as error:
            return error.response()

    return endpoint


def _find_key(state: SandboxState, request: Request) -> SandboxKey:
    key_id = request.path_params["kid"]
    if key_id not in state.keys:
        raise _not_found(f"There is no sandbox key with id '{key_id}'.")
    return state.keys[key_id]


async def _overview(state: SandboxState, request: Request) -> Response:
    return JSONResponse(
        {
            "sandbox": "App Store Connect sandbox (Orchard) — sandbox-only admin surface",
            "seed": state.seed,
            "now": state.now().isoformat(),
            "teams": [_team_summary(t) for t in state.teams.values()],
            "keys": [k.summary() for k in state.keys.values()],
        }
    )


async def _list_teams(state: SandboxState, request: Request) -> Response:
    return JSONResponse({"teams": [_team_summary(t) for t in state.teams.values()]})


async def _create_team(state: SandboxState, request: Request) -> Response:
    body = await _json_body(request, {"name", "apps", "vendor_number"})
    name = _typed(body, "name", str)
    if not name:
        raise _bad_request("'name' is required.", "/name")
    try:
        team = state.add_team(
            name,
            apps=_typed(body, "apps", int, 3),
            vendor_number=_typed(body, "vendor_number", str),
        )
    except ValueError as error:
        raise _bad_request(str(error)) from None
    return JSONResponse(_team_summary(team), status_code=201)


async def _list_keys(state: SandboxState, request: Request) -> Response:
    return JSONResponse({"keys": [k.summary() for k in state.keys.values()]})


async def _create_key(state: SandboxState, request: Request) -> Response:
    body = await _json_body(request, _KEY_CREATE_FIELDS)
    team_name = _typed(body, "team", str)
    try:
        team: SandboxTeam | None = None
        if team_name is not None:
            team = state.teams.get(team_name) or state.add_team(
                team_name,
                apps=_typed(body, "apps", int, 3),
                vendor_number=_typed(body, "vendor_number", str),
            )
        key = state.add_key(
            team,
            roles=_roles(body, ["ADMIN"]) or ["ADMIN"],
            key_type=_typed(body, "key_type", str, "team"),
            revoked=_typed(body, "revoked", bool, False),
            agreement_missing=_typed(body, "agreement_missing", bool, False),
            hour_limit=_typed(body, "hour_limit", int, 3600),
            send_retry_after=_typed(body, "send_retry_after", bool, False),
        )
    except ValueError as error:
        raise _bad_request(str(error)) from None
    return JSONResponse(key.summary(include_private_key=True), status_code=201)


async def _get_key(state: SandboxState, request: Request) -> Response:
    return JSONResponse(_find_key(state, request).summary(include_private_key=True))


async def _patch_key(state: SandboxState, request: Request) -> Response:
    key = _find_key(state, request)
    body = await _json_body(request, _KEY_PATCH_FIELDS)
    for flag in ("revoked", "agreement_missing", "send_retry_after"):
        if flag in body:
            setattr(key, flag, _typed(body, flag, bool))
    roles = _roles(body, None)
    if roles is not None:
        key.roles = tuple(roles)
    if "hour_limit" in body:
        key.hour_limit = _typed(body, "hour_limit", int)
    if "remaining" in body:
        key.set_remaining(_typed(body, "remaining", int))
    return JSONResponse(key.summary())


async def _list_requests(state: SandboxState, request: Request) -> Response:
    key_id = request.query_params.get("key_id")
    try:
        limit = int(request.query_params.get("limit", "100"))
    except ValueError:
        raise _bad_request("'limit' must be an integer.") from None
    records = [r for r in state.requests if key_id is None or r.key_id == key_id]
    return JSONResponse(
        {
            "total": len(records),
            "requests": [r.as_dict() for r in records[-limit:]] if limit > 0 else [],
            "in_flight": dict(state.in_flight),
            "max_concurrency": dict(state.max_concurrency),
        }
    )


async def _clear_requests(state: SandboxState, request: Request) -> Response:
    state.clear_requests()
    return Response(status_code=204)


def routes(state: SandboxState) -> list[Route]:
    """Admin routes bound to ``state`` (mounted under ``/sandbox``)."""
    return [
        Route("/", _guarded(state, _overview), methods=["GET"]),
        Route("/teams", _guarded(state, _list_teams), methods=["GET"]),
        Route("/teams", _guarded(state, _create_team), methods=["POST"]),
        Route("/keys", _guarded(state, _list_keys), methods=["GET"]),
        Route("/keys", _guarded(state, _create_key), methods=["POST"]),
        Route("/keys/{kid}", _guarded(state, _get_key), methods=["GET"]),
        Route("/keys/{kid}", _guarded(state, _patch_key), methods=["PATCH"]),
        Route("/requests", _guarded(state, _list_requests), methods=["GET"]),
        Route("/requests", _guarded(state, _clear_requests), methods=["DELETE"]),
        *fidelity_admin.routes(state),
        *analytics_admin.routes(state),
        *subscription_admin.routes(state),
    ]

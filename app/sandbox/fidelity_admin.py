"""Sandbox-only admin routes for the fidelity options (mounted under ``/sandbox``).

=====================================  =========================================================
``GET /sandbox/fidelity``              ``{"default": {...}, "teams": {name: {...}}}`` and the
                                       allowed values of every option
``PATCH /sandbox/fidelity``            ``{option: value, ...}`` → the new sandbox-wide default
``GET /sandbox/fidelity/teams/{name}`` the choices in force for one team
``PATCH /sandbox/fidelity/teams/{name}`` ``{option: value, ...}`` → that team's override
``DELETE /sandbox/fidelity/teams/{name}`` drop the override (204): the team follows the default
=====================================  =========================================================

Values are JSON: enum options take their string value (``"per_country"``), ``late_days`` a
list of ``"YYYY-MM-DD"``, the others booleans or numbers. An unknown option or a bad value is
400 ``SANDBOX_BAD_REQUEST`` and changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app.sandbox.errors import ApiError
from app.sandbox.fidelity import OPTION_ENUMS, Fidelity
from app.sandbox.state import SandboxState

Endpoint = Callable[[Request], Awaitable[Response]]


def _bad_request(detail: str) -> ApiError:
    return ApiError(400, "SANDBOX_BAD_REQUEST", "Invalid sandbox admin request", detail)


def _choices() -> dict[str, list[str]]:
    return {name: [member.value for member in enum] for name, enum in OPTION_ENUMS.items()}


async def _changes(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body() or b"{}")
    except ValueError:
        raise _bad_request("The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise _bad_request("The request body must be a JSON object.")
    try:
        Fidelity().updated(body)  # validate everything before changing anything
    except (TypeError, ValueError) as error:
        raise _bad_request(str(error)) from None
    return body


def routes(state: SandboxState) -> list[Route]:
    options = state.fidelity

    def guarded(handler: Endpoint) -> Endpoint:
        async def endpoint(request: Request) -> Response:
            try:
                return await handler(request)
            except ApiError as error:
                return error.response()

        return endpoint

    def team_name(request: Request) -> str:
        name: str = request.path_params["name"]
        if name not in state.teams:
            raise ApiError(
                404,
                "NOT_FOUND",
                "The specified resource does not exist",
                f"There is no sandbox team named '{name}'.",
            )
        return name

    async def overview(request: Request) -> Response:
        return JSONResponse({**options.as_json(), "choices": _choices()})

    async def patch_default(request: Request) -> Response:
        return JSONResponse(options.set(**await _changes(request)).as_json())

    async def get_team(request: Request) -> Response:
        return JSONResponse(options.for_team(team_name(request)).as_json())

    async def patch_team(request: Request) -> Response:
        name = team_name(request)
        return JSONResponse(options.set_team(name, **await _changes(request)).as_json())

    async def delete_team(request: Request) -> Response:
        options.clear_team(team_name(request))
        return Response(status_code=204)

    team_path = "/fidelity/teams/{name}"
    return [
        Route("/fidelity", guarded(overview), methods=["GET"]),
        Route("/fidelity", guarded(patch_default), methods=["PATCH"]),
        Route(team_path, guarded(get_team), methods=["GET"]),
        Route(team_path, guarded(patch_team), methods=["PATCH"]),
        Route(team_path, guarded(delete_team), methods=["DELETE"]),
    ]

"""Sandbox-only admin routes for webhooks — NOT part of App Store Connect.

==================================================  ===============================================
``GET /sandbox/webhooks``                           the truth: options, webhooks (with secrets),
                                                    events (payloads) and deliveries (attempts)
``PATCH /sandbox/webhooks/options``                 set knobs (see :func:`options_summary` names)
``POST /sandbox/webhooks/deliver``                  scan + send what is due now → the attempts
``POST /sandbox/webhooks/events``                   ``{"app_id", "event_type", "instance_id"?,
                                                    "old"?, "new"?, "attributes"?}`` → 201 event
``POST /sandbox/apps/{app}/versions/{v}/state``     ``{"state"}``: force an ``appVersionState``
                                                    now → ``{"old_state", "event"}``
==================================================  ===============================================
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app.sandbox.catalog import SandboxApp, find_app
from app.sandbox.errors import ApiError
from app.sandbox.state import SandboxState, SandboxTeam
from app.sandbox.versions import APP_VERSION_STATES
from app.sandbox.webhooks.events import EVENT_TYPES
from app.sandbox.webhooks.hub import webhooks
from app.sandbox.webhooks.model import RETRY_SCHEDULES, WebhookOptions

Endpoint = Callable[[Request], Awaitable[Response]]


def bad_request(detail: str) -> ApiError:
    return ApiError(400, "SANDBOX_BAD_REQUEST", "Invalid sandbox admin request", detail)


def not_found(detail: str) -> ApiError:
    return ApiError(404, "NOT_FOUND", "The specified resource does not exist", detail)


async def read_json(request: Request, allowed: set[str]) -> dict[str, Any]:
    try:
        body = json.loads(await request.body() or b"{}")
    except ValueError:
        raise bad_request("The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object.")
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise bad_request(f"Unknown field(s): {', '.join(unknown)}.")
    return body


def guarded(handler: Endpoint) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        try:
            return await handler(request)
        except ApiError as error:
            return error.response()

    return endpoint


def find_team_app(state: SandboxState, app_id: str) -> tuple[SandboxTeam, SandboxApp]:
    for team in state.teams.values():
        app = find_app(team, app_id)
        if app is not None:
            return team, app
    raise not_found(f"There is no sandbox app with id '{app_id}'.")


# --- options ------------------------------------------------------------------------------


def _typed(kind: type | tuple[type, ...], optional: bool = False) -> Callable[[Any], Any]:
    def convert(value: Any) -> Any:
        if value is None and optional:
            return None
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
            raise bad_request(f"{value!r} has the wrong type.")
        return value

    return convert


def _choice(*allowed: Any) -> Callable[[Any], Any]:
    def convert(value: Any) -> Any:
        if value not in allowed:
            raise bad_request(f"{value!r} is not one of {list(allowed)}.")
        return value

    return convert


def _schedule(value: Any) -> tuple[timedelta, ...]:
    if isinstance(value, str) and value in RETRY_SCHEDULES:
        return RETRY_SCHEDULES[value]
    if isinstance(value, list) and all(isinstance(s, int | float) for s in value):
        return tuple(timedelta(seconds=s) for s in value)
    raise bad_request(f"retry_schedule is one of {sorted(RETRY_SCHEDULES)} or a list of seconds.")


def _seconds(value: Any) -> timedelta | None:
    return None if value is None else timedelta(seconds=_typed((int, float))(value))


def _headers(value: Any) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise bad_request("extra_headers is an object of strings.")
    return {str(k).lower(): v for k, v in value.items()}


_BOOL = _typed(bool)
CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "roles": lambda v: frozenset(_typed(list)(v)),
    "max_per_app": _typed(int),
    "over_limit_status": _choice(409, 422),
    "require_https": _BOOL,
    "max_name_length": _typed(int, optional=True),
    "max_secret_length": _typed(int, optional=True),
    "retry_schedule": _schedule,
    "redelivery_keeps_event_id": _BOOL,
    "redelivery_flag": _BOOL,
    "build_upload_old_state": _BOOL,
    "external_state_values": _choice("external_beta_state", "early_doc_example"),
    "bare_background_asset_instance": _BOOL,
    "timestamp_digits": _choice(None, *range(10)),
    "body_format": _choice("compact", "spaced", "indented"),
    "extra_headers": _headers,
    "delivery_retention": _seconds,
    "signature": _choice("valid", "wrong_secret", "missing", "no_prefix"),
    "duplicates": _BOOL,
    "out_of_order": _BOOL,
    "links_base_url": _typed(str, optional=True),
}


def options_summary(options: WebhookOptions) -> dict[str, Any]:
    """The options as JSON (durations in seconds)."""
    summary: dict[str, Any] = {}
    for name in CONVERTERS:
        value = getattr(options, name)
        if isinstance(value, frozenset):
            value = sorted(value)
        elif isinstance(value, tuple):
            value = [step.total_seconds() for step in value]
        elif isinstance(value, timedelta):
            value = value.total_seconds()
        summary[name] = value
    return summary


# --- routes -------------------------------------------------------------------------------


def routes(state: SandboxState) -> list[Route]:
    hub = webhooks(state)

    async def overview(request: Request) -> Response:
        hub.scan()
        return JSONResponse(
            {
                "now": state.now().isoformat(),
                "options": options_summary(hub.options),
                "webhooks": [w.summary() for w in hub.webhooks.values()],
                "events": [e.summary() for e in hub.events.values()],
                "deliveries": [d.summary() for d in hub.deliveries.values()],
            }
        )

    async def patch_options(request: Request) -> Response:
        body = await read_json(request, set(CONVERTERS))
        for name, value in body.items():
            setattr(hub.options, name, CONVERTERS[name](value))
        return JSONResponse(options_summary(hub.options))

    async def deliver(request: Request) -> Response:
        attempts = await hub.deliver_due()
        return JSONResponse({"attempts": [a.summary() for a in attempts]})

    async def emit(request: Request) -> Response:
        fields = {"app_id", "event_type", "instance_id", "old", "new", "attributes"}
        body = await read_json(request, fields)
        team, app = find_team_app(state, str(body.get("app_id")))
        event_type = body.get("event_type")
        if event_type not in EVENT_TYPES:
            raise bad_request(f"event_type must be one of {sorted(EVENT_TYPES)}.")
        extra = body.get("attributes") or {}
        if not isinstance(extra, dict):
            raise bad_request("attributes is an object.")
        instance_id = str(body.get("instance_id") or f"sandbox-{len(hub.events) + 1}")
        event = hub.emit(team, app, event_type, instance_id,
                         old=body.get("old"), new=body.get("new"), extra=extra)  # fmt: skip
        return JSONResponse(event.summary(), status_code=201)

    async def force_state(request: Request) -> Response:
        body = await read_json(request, {"state"})
        new_state = body.get("state")
        if new_state not in APP_VERSION_STATES:
            raise bad_request(f"state must be one of {sorted(APP_VERSION_STATES)}.")
        team, app = find_team_app(state, request.path_params["app_id"])
        version_id = request.path_params["version_id"]
        try:
            event = hub.force_version_state(team, app, version_id, new_state)
        except KeyError:
            raise not_found(f"App {app.id} has no version '{version_id}' now.") from None
        return JSONResponse({"event": event.summary() if event else None})

    return [
        Route("/sandbox/webhooks", guarded(overview), methods=["GET"]),
        Route("/sandbox/webhooks/options", guarded(patch_options), methods=["PATCH"]),
        Route("/sandbox/webhooks/deliver", guarded(deliver), methods=["POST"]),
        Route("/sandbox/webhooks/events", guarded(emit), methods=["POST"]),
        Route(
            "/sandbox/apps/{app_id}/versions/{version_id}/state",
            guarded(force_state),
            methods=["POST"],
        ),
    ]

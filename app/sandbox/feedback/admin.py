"""Sandbox-only admin routes for TestFlight feedback — NOT part of App Store Connect.

==========================================  ==================================================
``POST /sandbox/apps/{app}/betaFeedback``   ``{"kind": "crash"|"screenshot", "comment"?}``: a
                                            tester sends feedback now → 201 ``{"id", "kind",
                                            "created", "event_id"}`` (the webhook event emitted)
``PATCH /sandbox/betaFeedback/options``     ``{"volume"?, "screenshot_url_ttl_seconds"?}``
==========================================  ==================================================
"""

from __future__ import annotations

from datetime import timedelta

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app.sandbox.feedback.model import add_feedback, feedback_ledger
from app.sandbox.state import SandboxState
from app.sandbox.webhooks.admin import bad_request, find_team_app, guarded, read_json
from app.sandbox.webhooks.hub import webhooks
from app.sandbox.webhooks.scanner import FEEDBACK_CREATED


def routes(state: SandboxState) -> list[Route]:
    async def send_feedback(request: Request) -> Response:
        body = await read_json(request, {"kind", "comment"})
        kind = body.get("kind")
        if kind not in ("crash", "screenshot"):
            raise bad_request("kind must be 'crash' or 'screenshot'.")
        comment = body.get("comment")
        if comment is not None and not isinstance(comment, str):
            raise bad_request("comment must be a string.")
        team, app = find_team_app(state, request.path_params["app_id"])
        item = add_feedback(state, team, app, kind, state.now(), comment)
        if item is None:
            raise bad_request(f"App {app.id} has no tester with an installed build right now.")
        event = webhooks(state).emit(team, app, FEEDBACK_CREATED[kind], item.id)
        summary = {"id": item.id, "kind": kind, "created": item.created.isoformat()}
        return JSONResponse({**summary, "event_id": event.id}, status_code=201)

    async def patch_options(request: Request) -> Response:
        body = await read_json(request, {"volume", "screenshot_url_ttl_seconds"})
        ledger = feedback_ledger(state)
        volume = body.get("volume", ledger.volume)
        ttl = body.get("screenshot_url_ttl_seconds", ledger.screenshot_url_ttl.total_seconds())
        if not isinstance(volume, int | float) or isinstance(volume, bool) or volume < 0:
            raise bad_request("volume is a number >= 0.")
        if not isinstance(ttl, int | float) or isinstance(ttl, bool) or ttl <= 0:
            raise bad_request("screenshot_url_ttl_seconds is a number > 0.")
        ledger.volume, ledger.screenshot_url_ttl = float(volume), timedelta(seconds=ttl)
        return JSONResponse(
            {"volume": ledger.volume, "screenshot_url_ttl_seconds": ttl},
        )

    return [
        Route("/sandbox/apps/{app_id}/betaFeedback", guarded(send_feedback), methods=["POST"]),
        Route("/sandbox/betaFeedback/options", guarded(patch_options), methods=["PATCH"]),
    ]

"""Temporary screenshot URLs of TestFlight feedback, and the PNG bytes served at them.

A response hands out URLs signed for ``FeedbackLedger.screenshot_url_ttl`` from the moment of
the request (``BetaFeedbackScreenshotImage.expirationDate``). The sandbox serves the image at
``GET /testflight-feedback-assets/{submission id}/{n}.png?expires=…&signature=…`` without an
API token, as a CDN would: until ``expires`` by the sandbox clock it answers 200
``image/png``; afterwards, or with a wrong signature, 403; an unknown or deleted submission
is 404. How long Apple's URLs live and how they fail is not documented — the TTL is a knob.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
import zlib
from datetime import UTC, datetime
from functools import lru_cache

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from app.sandbox.catalog import team_apps
from app.sandbox.feedback.model import Feedback, app_feedback
from app.sandbox.state import SandboxState

ASSET_PATH = "/testflight-feedback-assets"


def _signature(seed: int, feedback_id: str, index: int, expires: int) -> str:
    key = f"sandbox-screenshots-{seed}".encode()
    message = f"{feedback_id}/{index}/{expires}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:32]


def screenshot_url(
    base_url: str, seed: int, feedback_id: str, index: int, expires: datetime
) -> str:
    stamp = int(expires.timestamp())
    signature = _signature(seed, feedback_id, index, stamp)
    return f"{base_url}{ASSET_PATH}/{feedback_id}/{index}.png?expires={stamp}&signature={signature}"


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


@lru_cache(maxsize=16)
def screenshot_png(width: int, height: int, tint: int) -> bytes:
    """A plausible phone screenshot (status bar, a card, a background) as an RGB PNG."""
    background = bytes(((tint * 37) % 200 + 40, (tint * 91) % 200 + 40, (tint * 53) % 200 + 40))
    bar, card = bytes((20, 20, 24)), bytes((250, 250, 252))
    margin = width // 12
    rows = {
        "bar": b"\x00" + bar * width,
        "background": b"\x00" + background * width,
        "card": b"\x00" + background * margin + card * (width - 2 * margin) + background * margin,
    }
    bar_rows, card_start, card_rows = height // 20, height // 6, height // 3
    plan = (
        ["bar"] * bar_rows
        + ["background"] * (card_start - bar_rows)
        + ["card"] * card_rows
        + ["background"] * (height - card_start - card_rows)
    )
    raw = b"".join(rows[name] for name in plan)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(raw, 6))
        + _chunk(b"IEND", b"")
    )


def _find_screenshot_feedback(state: SandboxState, feedback_id: str) -> Feedback | None:
    now = state.now()
    for team in state.teams.values():
        for app in team_apps(team):
            for item in app_feedback(state, team, app, "screenshot", now):
                if item.id == feedback_id:
                    return item
    return None


def routes(state: SandboxState) -> list[Route]:
    async def serve(request: Request) -> Response:
        feedback_id, name = request.path_params["feedback_id"], request.path_params["name"]
        try:
            index = int(name.removesuffix(".png"))
            expires = int(request.query_params.get("expires", ""))
        except ValueError:
            return PlainTextResponse("Not Found", status_code=404)
        signature = request.query_params.get("signature", "")
        expected = _signature(state.seed, feedback_id, index, expires)
        if not hmac.compare_digest(signature, expected):
            return PlainTextResponse("AccessDenied: bad signature", status_code=403)
        if state.now() >= datetime.fromtimestamp(expires, UTC):
            return PlainTextResponse("AccessDenied: Request has expired", status_code=403)
        item = _find_screenshot_feedback(state, feedback_id)
        if item is None or not 0 <= index < item.screenshot_count:
            return PlainTextResponse("Not Found", status_code=404)
        width, height = item.screenshot_size()
        body = screenshot_png(width, height, index + len(item.id))
        return Response(body, media_type="image/png", headers={"Cache-Control": "private"})

    return [Route(f"{ASSET_PATH}/{{feedback_id}}/{{name}}", serve, methods=["GET"])]

"""Sandbox-only admin surface under ``/sandbox`` — NOT part of the ECB or Frankfurter.

No authentication: bind the sandbox to localhost. Bad input answers 400 ``{"error": ...}``.

==============================  ==============================================================
``GET /sandbox``                seed, clock, variants, knobs, latest published ECB day
``PATCH /sandbox/variants``     ``{name: value, ...}`` (see :class:`.FxVariants`) → variants
``POST /sandbox/clock``         ``{"now": "2025-06-10T15:00:00+00:00"}``: freeze the clock
``POST /sandbox/skip``          ``{"date", "source"?}``: no rates that day (``ECB`` or a
                                Frankfurter provider key such as ``CBR``)
``POST /sandbox/delay``         ``{"date", "hours"}``: the ECB publishes that day late
``POST /sandbox/revise``        ``{"date", "currency", "rate", "at"?}``: revise an ECB rate
``POST /sandbox/fail``          ``{"count", "kind"?, "path_prefix"?}``: the next requests fail
                                (kind ``500``/``502``/``503``/``404``/``timeout``/``reset``)
``DELETE /sandbox/fail``        stop pending failures
``GET /sandbox/rate``           ``?date=&currency=``: the simulator's truth (see :mod:`.truth`)
``GET /sandbox/published``      ``?from=&to=``: ECB days published by now
``GET /sandbox/requests``       request log; ``DELETE`` clears it
==============================  ==============================================================
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app.sandbox.fx.state import FAILURE_KINDS, FxState

Handler = Callable[[Request], Awaitable[Response]]


class BadRequest(Exception):
    pass


async def _body(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body() or b"{}")
    except ValueError:
        raise BadRequest("body must be JSON") from None
    if not isinstance(body, dict):
        raise BadRequest("body must be a JSON object")
    return body


def _day(value: object, name: str = "date") -> date:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise BadRequest(f"{name} must be YYYY-MM-DD") from None


def _instant(value: object, name: str) -> datetime:
    try:
        instant = datetime.fromisoformat(str(value))
    except ValueError:
        raise BadRequest(f"{name} must be an ISO 8601 date-time") from None
    if instant.tzinfo is None:
        raise BadRequest(f"{name} must carry a UTC offset")
    return instant


def _guarded(handler: Handler) -> Handler:
    async def run(request: Request) -> Response:
        try:
            return await handler(request)
        except (BadRequest, ValueError, KeyError, InvalidOperation) as error:
            return JSONResponse({"error": str(error)}, status_code=400)

    return run


def overview(state: FxState) -> dict[str, Any]:
    knobs = state.knobs
    latest = state.ecb.latest_on_or_before(state.ecb.today())
    return {
        "service": "Currency reference-rate sandbox (Orchard); not the ECB, not Frankfurter",
        "seed": state.seed,
        "now": state.now().isoformat(),
        "history_start": state.history_start.isoformat(),
        "publish_time": state.publish_time.isoformat(),
        "latest_published": latest.isoformat() if latest else None,
        "variants": state.variants.as_dict(),
        "skipped": {k: sorted(d.isoformat() for d in v) for k, v in knobs.skipped.items()},
        "delays": {d.isoformat(): v.total_seconds() / 3600 for d, v in knobs.delays.items()},
        "revisions": [
            {
                "date": r.day.isoformat(),
                "currency": r.currency,
                "rate": str(r.rate),
                "at": r.at.isoformat(),
            }
            for r in knobs.revisions
        ],
        "failures": [
            {"remaining": f.remaining, "kind": f.kind, "path_prefix": f.path_prefix}
            for f in knobs.failures
            if f.remaining > 0
        ],
    }


def routes(state: FxState) -> list[Route]:
    async def index(request: Request) -> Response:
        return JSONResponse(overview(state))

    async def variants(request: Request) -> Response:
        state.variants = state.variants.with_changes(await _body(request))
        return JSONResponse(state.variants.as_dict())

    async def clock(request: Request) -> Response:
        state.set_now(_instant((await _body(request))["now"], "now"))
        return JSONResponse({"now": state.now().isoformat()})

    async def skip(request: Request) -> Response:
        body = await _body(request)
        state.skip_day(_day(body["date"]), str(body.get("source", "ECB")))
        return JSONResponse(overview(state))

    async def delay(request: Request) -> Response:
        body = await _body(request)
        state.delay_publication(_day(body["date"]), timedelta(hours=float(body["hours"])))
        return JSONResponse(overview(state))

    async def revise(request: Request) -> Response:
        body = await _body(request)
        at = _instant(body["at"], "at") if "at" in body else None
        state.revise(_day(body["date"]), str(body["currency"]), Decimal(str(body["rate"])), at)
        return JSONResponse(overview(state))

    async def fail(request: Request) -> Response:
        if request.method == "DELETE":
            state.knobs.failures.clear()
            return JSONResponse(overview(state))
        body = await _body(request)
        kind = next((k for k in FAILURE_KINDS if k == str(body.get("kind", "503"))), None)
        if kind is None:
            raise BadRequest(f"kind must be one of {list(FAILURE_KINDS)}")
        state.fail_next(int(body["count"]), kind, str(body.get("path_prefix", "/")))
        return JSONResponse(overview(state))

    async def rate(request: Request) -> Response:
        day = _day(request.query_params.get("date"))
        code = request.query_params["currency"].upper()
        exact, quote = state.rate(day, code), state.quote(day, code)
        return JSONResponse(
            {
                "date": day.isoformat(),
                "currency": code,
                "rate": str(exact) if exact is not None else None,
                "quote": quote.as_dict() if quote else None,
            }
        )

    async def published(request: Request) -> Response:
        params = request.query_params
        start = _day(params["from"], "from") if "from" in params else None
        end = _day(params["to"], "to") if "to" in params else None
        return JSONResponse({"dates": [d.isoformat() for d in state.published_dates(start, end)]})

    async def requests(request: Request) -> Response:
        if request.method == "DELETE":
            state.requests.clear()
        return JSONResponse({"requests": [r.as_dict() for r in state.requests]})

    table: list[tuple[str, Handler, list[str]]] = [
        ("/", index, ["GET"]),
        ("/variants", variants, ["PATCH"]),
        ("/clock", clock, ["POST"]),
        ("/skip", skip, ["POST"]),
        ("/delay", delay, ["POST"]),
        ("/revise", revise, ["POST"]),
        ("/fail", fail, ["POST", "DELETE"]),
        ("/rate", rate, ["GET"]),
        ("/published", published, ["GET"]),
        ("/requests", requests, ["GET", "DELETE"]),
    ]
    return [Route(path, _guarded(handler), methods=methods) for path, handler, methods in table]

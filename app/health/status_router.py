"""The ops status page, ``/status``: server-rendered HTML behind a ``read`` token.

A browser signs in once with a token (a form); the token is kept in an HttpOnly, SameSite=Strict
cookie scoped to ``/status``. Tools may send ``Authorization: Bearer`` instead. The page shows
only the token's workspace (plus the process-wide list of live workers) and turns itself off
with ``ORCHARD_STATUS_PAGE=false``. It is not part of the JSON API, so not in the OpenAPI spec.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated
from urllib.parse import parse_qs, urlsplit

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.security import HTTPAuthorizationCredentials

from app.auth.deps import admit, bearer, get_rate_limiter
from app.auth.ratelimit import TokenRateLimiter
from app.auth.tokens import Scope
from app.errors import AppError, Forbidden, NotFound
from app.health import status_html
from app.health.status_page import snapshot
from app.kit.deps import AppSettings, PrimarySession
from app.sync.deps import Registry

router = APIRouter(include_in_schema=False)

COOKIE = "orchard_status"
COOKIE_MAX_AGE_SECONDS = 12 * 3600
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    # Not `no-referrer`: with it Chromium sends `Origin: null` on the sign-in form's POST.
    "Referrer-Policy": "same-origin",
}


def _enabled(settings: AppSettings) -> None:
    if not settings.status_page:
        raise NotFound("the status page is turned off (ORCHARD_STATUS_PAGE)")


Enabled = Depends(_enabled)


def _html(body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(body, status_code=status, headers=SECURITY_HEADERS)


def _same_origin(request: Request) -> None:
    """A form post from another site (login CSRF) is refused; browsers send ``Origin``."""
    origin = request.headers.get("origin")
    if origin is not None and urlsplit(origin).netloc != request.headers.get("host"):
        raise Forbidden("the status page accepts forms from its own origin only")


@router.get("/status", dependencies=[Enabled])
async def get_status_page(
    request: Request,
    session: PrimarySession,  # signing in writes (last use, request budget)
    settings: AppSettings,
    registry: Registry,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    limiter: Annotated[TokenRateLimiter, Depends(get_rate_limiter)],
) -> Response:
    """The status page, or the sign-in form when no usable token came with the request."""
    secret = credentials.credentials if credentials else request.cookies.get(COOKIE)
    if secret is None:
        return _html(status_html.login_page(), 401)
    try:
        principal = await admit(session, secret, limiter, Scope.READ)
    except AppError as error:
        if error.status not in (401, 403):
            raise
        response = _html(status_html.login_page(error.detail), error.status)
        response.delete_cookie(COOKIE, path="/status")
        return response
    view = await snapshot(
        session,
        registry,
        principal.workspace_id,
        now=dt.datetime.now(dt.UTC),
        worker_stale_after=dt.timedelta(seconds=settings.worker_stale_seconds),
    )
    return _html(status_html.status_page(view, refresh_seconds=settings.status_refresh_seconds))


@router.post("/status/login", dependencies=[Enabled])
async def sign_in(
    request: Request,
    session: PrimarySession,  # signing in writes (last use, request budget)
    limiter: Annotated[TokenRateLimiter, Depends(get_rate_limiter)],
) -> Response:
    """Check the token from the form, keep it in the page's cookie, and show the page."""
    _same_origin(request)
    form = parse_qs((await request.body()).decode("utf-8", "replace"))
    secret = (form.get("token") or [""])[0].strip()
    try:
        await admit(session, secret, limiter, Scope.READ)
    except AppError as error:
        if error.status not in (401, 403):
            raise
        return _html(status_html.login_page(error.detail), error.status)
    response = RedirectResponse("/status", status_code=303)
    response.set_cookie(
        COOKIE,
        secret,
        max_age=COOKIE_MAX_AGE_SECONDS,
        path="/status",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


@router.post("/status/logout", dependencies=[Enabled])
async def sign_out(request: Request) -> Response:
    """Forget the token this browser kept for the page."""
    _same_origin(request)
    response = RedirectResponse("/status", status_code=303)
    response.delete_cookie(COOKIE, path="/status")
    return response

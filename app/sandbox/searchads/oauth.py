"""The OAuth 2 token endpoint, ``POST /auth/oauth2/token`` (FACTS §1, §9 "Auth — unchanged").

Parameters ``grant_type=client_credentials``, ``client_id``, ``client_secret`` (an ES256 JWT),
``scope=searchadsorg`` are read from the query string (Apple's curl) *and* from an
``application/x-www-form-urlencoded`` body (most clients); the body wins when both carry one.

The client secret must have header ``alg=ES256`` and ``kid`` = the credential's key id, claims
``sub`` = client id, ``iss`` = team id, ``aud`` = ``https://appleid.apple.com``, ``iat`` not in
the future, ``exp`` after now and at most 180 days after ``iat``, and a valid signature by the
key registered for that client. Failures answer ``{"error": "invalid_client"}`` (status: option
``token_error_status``, 400 by default), other RFC 6749 codes for malformed requests.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

import jwt
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from app.sandbox.searchads.credentials import OAUTH_AUDIENCE, SCOPE, AdsCredential
from app.sandbox.searchads.errors import oauth_error
from app.sandbox.searchads.options import AdsOptions
from app.sandbox.searchads.state import AdsRequestRecord

if TYPE_CHECKING:
    from app.sandbox.searchads.state import AppleAdsState

TOKEN_PATH = "/auth/oauth2/token"  # noqa: S105 (a URL path, not a password)
MAX_SECRET_LIFETIME = timedelta(days=180)  # FACTS §1
CLOCK_SKEW = timedelta(seconds=60)
_REQUIRED_CLAIMS = ["sub", "aud", "iss", "iat", "exp"]


async def _parameters(request: Request) -> dict[str, str]:
    params = dict(request.query_params)
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("application/x-www-form-urlencoded"):
        body = (await request.body()).decode("utf-8", "replace")
        params.update(parse_qsl(body, keep_blank_values=True))
    return params


def secret_is_valid(
    secret: str, credential: AdsCredential, now: datetime, options: AdsOptions
) -> bool:
    """Every FACTS §1 client-secret rule, checked against the sandbox token clock."""
    try:
        header = jwt.get_unverified_header(secret)
        if header.get("alg") != "ES256" or header.get("kid") != credential.key_id:
            return False
        claims: dict[str, Any] = jwt.decode(
            secret,
            credential.public_key,
            algorithms=["ES256"],
            audience=OAUTH_AUDIENCE,
            issuer=credential.team_id,
            options={
                "require": _REQUIRED_CLAIMS,
                "verify_exp": False,
                "verify_iat": False,
                "verify_nbf": False,
            },
        )
    except jwt.PyJWTError:
        return False
    if claims["sub"] != credential.client_id:
        return False
    try:
        issued = datetime.fromtimestamp(int(claims["iat"]), now.tzinfo)
        expires = datetime.fromtimestamp(int(claims["exp"]), now.tzinfo)
    except (TypeError, ValueError, OverflowError):
        return False
    if issued > now + CLOCK_SKEW or expires <= now or expires - issued > MAX_SECRET_LIFETIME:
        return False
    minimum = options.min_secret_lifetime
    return minimum is None or expires - issued >= minimum


def token_endpoint(state: AppleAdsState) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        params = await _parameters(request)
        credential = state.credentials.get(params.get("client_id", ""))
        response, code = _answer(state, params, credential)
        state.requests.append(
            AdsRequestRecord(
                "oauth",
                params.get("client_id"),
                request.method,
                request.url.path,
                response.status_code,
                state.now(),
                code,
            )
        )
        return response

    return endpoint


def _answer(
    state: AppleAdsState, params: dict[str, str], credential: AdsCredential | None
) -> tuple[Response, str | None]:
    options = state.options_for(credential)
    status = options.token_error_status
    if "grant_type" not in params:
        return oauth_error("invalid_request"), "invalid_request"
    if params["grant_type"] != "client_credentials":
        return oauth_error("unsupported_grant_type"), "unsupported_grant_type"
    if not params.get("client_id") or not params.get("client_secret"):
        return oauth_error("invalid_request"), "invalid_request"
    if (
        credential is None
        or credential.revoked
        or not secret_is_valid(params["client_secret"], credential, state.token_now(), options)
    ):
        return oauth_error("invalid_client", status), "invalid_client"
    if params.get("scope") != SCOPE:
        return oauth_error("invalid_scope"), "invalid_scope"
    token = state.issue_token(credential)
    body = {
        "access_token": token.token,
        "token_type": "Bearer",
        "expires_in": int(state.token_lifetime.total_seconds()),
        "scope": SCOPE,
    }
    return JSONResponse(body, headers={"Cache-Control": "no-store"}), None

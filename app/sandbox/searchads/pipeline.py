"""The request pipeline of ``/v1`` (Platform API) and ``/api/v5`` (Campaign Management API).

Order: v5 sunset (FACTS §0) → injected failures (``state.inject_failures``) → bearer token
(401) → credential budget (429) → route (404/405) → ``X-AP-Context`` (403, or 400 per option)
→ handler. v1 responses always carry
``RateLimit-Limit/Remaining/Reset`` and a 429 ``Retry-After`` (FACTS §9); v5 only when the
``v5_rate_headers`` / ``v5_retry_after`` options say so (FACTS §4: unconfirmed). Every request
is recorded in ``state.requests``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from app.sandbox.searchads.context import AdsContext, AdsRoute, parse_context
from app.sandbox.searchads.credentials import AdsCredential
from app.sandbox.searchads.entities import AdsAccount
from app.sandbox.searchads.errors import (
    AdsError,
    Api,
    forbidden,
    method_not_allowed,
    missing_context_v1,
    not_found,
    rate_limited,
    unauthorized,
    unexpected,
    v5_sunset,
)
from app.sandbox.searchads.options import AdsOptions
from app.sandbox.searchads.ratelimit import anonymous_headers
from app.sandbox.searchads.state import AdsRequestRecord

if TYPE_CHECKING:
    from app.sandbox.searchads.state import AppleAdsState

logger = logging.getLogger(__name__)
NO_ACCESS_MESSAGE = "The user does not have access to the requested account."


class Dispatcher:
    def __init__(self, state: AppleAdsState, api: Api, prefix: str, routes: list[AdsRoute]):
        self.state = state
        self.api = api
        self.prefix = prefix
        self.routes = routes

    def _bearer(self, request: Request) -> str | None:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        return token.strip() if scheme.lower() == "bearer" and token.strip() else None

    def _route(self, request: Request) -> tuple[AdsRoute, dict[str, str]]:
        path = request.url.path[len(self.prefix) :] or "/"
        path_matched = False
        for route in self.routes:
            params = route.match(path)
            if params is None:
                continue
            if route.method == request.method:
                return route, params
            path_matched = True
        raise method_not_allowed() if path_matched else not_found("Resource")

    def _account(
        self, request: Request, credential: AdsCredential, options: AdsOptions
    ) -> AdsAccount:
        world = self.state.world
        header = request.headers.get("x-ap-context")
        key = "orgId" if self.api == "v5" else "adAccountId"
        account_id = parse_context(header, key, options.context_semicolon)
        if account_id is None:
            if self.api == "v1":
                raise missing_context_v1(options.v1_missing_context == "invalid_argument_400")
            raise forbidden()
        accounts = world.accounts if self.api == "v5" else world.ad_accounts
        account = accounts.get(account_id)
        if account is None or not credential.can_see(account):
            raise forbidden(NO_ACCESS_MESSAGE)
        if self.api == "v5" and not account.in_v5:
            raise forbidden(NO_ACCESS_MESSAGE)
        return account

    async def _handle(
        self, request: Request, credential: AdsCredential, options: AdsOptions
    ) -> Response:
        if not credential.rate.try_consume():
            send = self.api == "v1" or options.v5_retry_after
            raise rate_limited(credential.rate.reset_seconds() if send else None)
        route, params = self._route(request)
        account = self._account(request, credential, options) if route.context else None
        context = AdsContext(request, self.state, self.api, credential, options, params, account)
        return JSONResponse(await route.handler(context))

    async def dispatch(self, request: Request) -> Response:
        state = self.state
        token = self._bearer(request)
        credential = state.credential_for_token(token) if token else None
        options = state.options_for(credential)
        error_code: str | None = None
        try:
            if self.api == "v5" and state.v5_is_sunset():
                raise v5_sunset(options.v5_sunset_mode)
            failure = state.take_failure(self.api)
            if failure is not None:
                raise unexpected(failure)
            if credential is None:
                raise unauthorized()
            response = await self._handle(request, credential, options)
        except AdsError as error:
            error_code = error.code
            response = error.response(self.api)
        except Exception:
            logger.exception("Apple Ads sandbox failed: %s %s", request.method, request.url.path)
            crash = unexpected()
            error_code = crash.code
            response = crash.response(self.api)
        if self.api == "v1" or options.v5_rate_headers:
            response.headers.update(
                credential.rate.headers()
                if credential
                else anonymous_headers(state.rate_limit, state.rate_window_seconds)
            )
        state.requests.append(
            AdsRequestRecord(
                api=self.api,
                client_id=credential.client_id if credential else None,
                method=request.method,
                path=request.url.path,
                status=response.status_code,
                at=state.now(),
                error_code=error_code,
                context=request.headers.get("x-ap-context"),
            )
        )
        return response

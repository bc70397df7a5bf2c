"""Sandbox-only admin surface under ``/sandbox-ads`` — NOT part of Apple Ads. No authentication:
bind the sandbox to localhost.

==================================  =====================================================
``GET /sandbox-ads``                overview: now, org, accounts, credentials, options
``GET /sandbox-ads/accounts``       accounts (v5 orgId, v1 adAccountId, currency, zone) and
                                    their campaigns (id, name, adamId, linked, deleted)
``POST /sandbox-ads/credentials``   ``{"roles"?: {"<v5 orgId>": ROLE}, "rate_limit"?,
                                    "rate_window_seconds"?, "options"?: {...},
                                    "campaign_scope"?: {"<orgId>": [campaignId]},
                                    "team_id_equals_client_id"?}`` → 201 with client_id,
                                    team_id, key_id, ``private_key_pem``
``GET /sandbox-ads/credentials``    credentials without private keys
``GET /sandbox-ads/credentials/{client_id}``  one credential with ``private_key_pem``
``PATCH /sandbox-ads/credentials/{client_id}`` ``{"revoked"?, "roles"?, "rate_limit"?,
                                    "remaining"?, "options"?: {...} | null}``
``GET|PATCH /sandbox-ads/options``  state-wide variant options (see :mod:`.options`)
``GET /sandbox-ads/truth/campaigns/{id}?start=&end=&tz=``  the truth per day
``POST /sandbox-ads/failures``      ``{"status"?: 500, "count"?: 1, "api"?: "v1"|"v5"}``: the
                                    next API requests fail (FACTS §4 500 "temporarily down")
``GET|DELETE /sandbox-ads/requests`` the request log (``?client_id=&limit=``)
==================================  =====================================================

ROLE is one of ``ADMIN``, ``API_ACCOUNT_MANAGER``, ``API_ACCOUNT_READ_ONLY``,
``LIMITED_READ_WRITE``, ``LIMITED_READ_ONLY`` (an account left out = no access).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import date
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app.sandbox.searchads.credentials import AdsCredential
from app.sandbox.searchads.options import AdsOptions, option_choices

if TYPE_CHECKING:
    from app.sandbox.searchads.state import AppleAdsState

_CREATE_FIELDS = {
    "roles",
    "rate_limit",
    "rate_window_seconds",
    "options",
    "campaign_scope",
    "team_id_equals_client_id",
}
_PATCH_FIELDS = {"revoked", "roles", "rate_limit", "remaining", "options"}


class AdminError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


async def _body(request: Request, allowed: set[str]) -> dict[str, Any]:
    try:
        body = json.loads(await request.body() or b"{}")
    except ValueError:
        raise AdminError(400, "The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise AdminError(400, "The request body must be a JSON object.")
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise AdminError(400, f"Unknown field(s): {', '.join(unknown)}.")
    return body


def _options(base: AdsOptions, changes: Any) -> AdsOptions:
    if not isinstance(changes, dict):
        raise AdminError(400, "'options' must be an object.")
    try:
        return base.with_changes(changes)
    except (ValueError, TypeError) as error:
        raise AdminError(400, str(error)) from None


def _int(body: dict[str, Any], name: str) -> int | None:
    value = body.get(name)
    if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
        raise AdminError(400, f"'{name}' must be an integer.")
    return value


def _id_map(raw: Any, name: str) -> dict[int, Any]:
    if not isinstance(raw, dict) or not all(str(k).isdigit() for k in raw):
        raise AdminError(400, f"'{name}' must map v5 org ids to values.")
    return {int(k): v for k, v in raw.items()}


def _account_summary(state: AppleAdsState, org_id: int) -> dict[str, Any]:
    account = state.world.accounts[org_id]
    return {
        "org_id": account.org_id,
        "ad_account_id": account.ad_account_id,
        "parent_org_id": account.parent.org_id,
        "name": account.name,
        "currency": account.currency,
        "time_zone": account.time_zone,
        "product": account.product,
        "campaigns": [
            {
                "id": c.id,
                "name": c.name,
                "adam_id": c.app.adam_id if c.app else None,
                "linked": bool(c.app and c.app.linked),
                "deleted": c.deleted,
                "status": c.status,
            }
            for c in state.world.account_campaigns(account)
        ],
    }


def _guarded(handler: Callable[[Request], Awaitable[Response]]) -> Any:
    async def endpoint(request: Request) -> Response:
        try:
            return await handler(request)
        except AdminError as error:
            return JSONResponse({"error": error.message}, status_code=error.status)

    return endpoint


class AdsAdmin:
    """The admin endpoints of one state."""

    def __init__(self, state: AppleAdsState) -> None:
        self.state = state

    def _find(self, request: Request) -> AdsCredential:
        credential = self.state.credentials.get(request.path_params["client_id"])
        if credential is None:
            raise AdminError(404, "There is no such credential.")
        return credential

    def _accounts(self) -> list[dict[str, Any]]:
        return [_account_summary(self.state, org_id) for org_id in self.state.world.accounts]

    async def overview(self, request: Request) -> Response:
        state = self.state
        return JSONResponse(
            {
                "sandbox": "Apple Ads sandbox (Orchard) — sandbox-only admin surface",
                "seed": state.seed,
                "now": state.now().isoformat(),
                "org": {"org_id": state.org.org_id, "name": state.org.name},
                "accounts": self._accounts(),
                "credentials": [c.summary() for c in state.credentials.values()],
                "options": state.options.as_dict(),
                "option_choices": option_choices(),
            }
        )

    async def accounts(self, request: Request) -> Response:
        return JSONResponse({"accounts": self._accounts()})

    async def create(self, request: Request) -> Response:
        body = await _body(request, _CREATE_FIELDS)
        state = self.state
        try:
            credential = state.add_credential(
                _id_map(body["roles"], "roles") if "roles" in body else None,
                rate_limit=_int(body, "rate_limit"),
                rate_window_seconds=_int(body, "rate_window_seconds"),
                options=_options(state.options, body["options"]) if "options" in body else None,
                campaign_scope=_id_map(body.get("campaign_scope", {}), "campaign_scope"),
                team_id_equals_client_id=bool(body.get("team_id_equals_client_id")),
            )
        except ValueError as error:
            raise AdminError(400, str(error)) from None
        return JSONResponse(credential.summary(include_private_key=True), status_code=201)

    async def list_credentials(self, request: Request) -> Response:
        credentials = self.state.credentials.values()
        return JSONResponse({"credentials": [c.summary() for c in credentials]})

    async def get_credential(self, request: Request) -> Response:
        return JSONResponse(self._find(request).summary(include_private_key=True))

    async def patch_credential(self, request: Request) -> Response:
        credential = self._find(request)
        body = await _body(request, _PATCH_FIELDS)
        if "revoked" in body:
            credential.revoked = bool(body["revoked"])
        if "roles" in body:
            credential.roles = _id_map(body["roles"], "roles")
        if (limit := _int(body, "rate_limit")) is not None:
            credential.rate.limit = limit
        if (remaining := _int(body, "remaining")) is not None:
            credential.rate.set_remaining(remaining)
        if "options" in body:
            base = credential.options or self.state.options
            changes = body["options"]
            credential.options = None if changes is None else _options(base, changes)
        return JSONResponse(credential.summary())

    async def get_options(self, request: Request) -> Response:
        options = self.state.options.as_dict()
        return JSONResponse({"options": options, "choices": option_choices()})

    async def patch_options(self, request: Request) -> Response:
        body = await _body(request, set(self.state.options.as_dict()))
        self.state.options = _options(self.state.options, body)
        return JSONResponse({"options": self.state.options.as_dict()})

    async def truth(self, request: Request) -> Response:
        state = self.state
        campaign_id = int(request.path_params["campaign_id"])
        if campaign_id not in state.world.campaigns:
            raise AdminError(404, "There is no such campaign.")
        try:
            start = date.fromisoformat(request.query_params["start"])
            end = date.fromisoformat(request.query_params.get("end", start.isoformat()))
        except (KeyError, ValueError):
            raise AdminError(400, "start (and end) must be YYYY-MM-DD dates.") from None
        tz = request.query_params.get("tz", "ORTZ")
        account = state.world.campaigns[campaign_id].account
        days = state.truth.daily(campaign_id, start, end, tz=tz)
        values = {
            day.isoformat(): {k: str(v) for k, v in state.truth.values(m, account).items()}
            for day, m in days.items()
        }
        return JSONResponse(
            {"campaign_id": campaign_id, "tz": tz, "currency": account.currency, "days": values}
        )

    async def failures(self, request: Request) -> Response:
        body = await _body(request, {"status", "count", "api"})
        status, count = _int(body, "status") or 500, _int(body, "count") or 1
        if body.get("api") not in (None, "v1", "v5") or not 400 <= status <= 599:
            raise AdminError(400, "'api' must be v1 or v5 and 'status' an error status.")
        self.state.inject_failures(status, count, body.get("api"))
        return JSONResponse({"pending": len(self.state.failures)}, status_code=201)

    async def requests(self, request: Request) -> Response:
        client_id = request.query_params.get("client_id")
        log = self.state.requests
        records = [r for r in log if client_id is None or r.client_id == client_id]
        try:
            limit = int(request.query_params.get("limit", "100"))
        except ValueError:
            raise AdminError(400, "'limit' must be an integer.") from None
        shown = records[-limit:] if limit > 0 else []
        return JSONResponse({"total": len(records), "requests": [r.as_dict() for r in shown]})

    async def clear(self, request: Request) -> Response:
        self.state.clear_requests()
        return Response(status_code=204)


def routes(state: AppleAdsState) -> list[Route]:
    """Admin routes bound to ``state`` (mounted under ``/sandbox-ads``)."""
    admin = AdsAdmin(state)
    table = [
        ("/", admin.overview, "GET"),
        ("/accounts", admin.accounts, "GET"),
        ("/credentials", admin.create, "POST"),
        ("/credentials", admin.list_credentials, "GET"),
        ("/credentials/{client_id}", admin.get_credential, "GET"),
        ("/credentials/{client_id}", admin.patch_credential, "PATCH"),
        ("/options", admin.get_options, "GET"),
        ("/options", admin.patch_options, "PATCH"),
        ("/truth/campaigns/{campaign_id:int}", admin.truth, "GET"),
        ("/failures", admin.failures, "POST"),
        ("/requests", admin.requests, "GET"),
        ("/requests", admin.clear, "DELETE"),
    ]
    return [Route(path, _guarded(handler), methods=[method]) for path, handler, method in table]

"""Analytics report requests: create, list by app, read, delete (ANALYTICS §1–§3, FACTS §4.7).

- ``POST /v1/analyticsReportRequests`` — Admin keys only (others: 403 ``FORBIDDEN_ERROR``);
  201 with the new request (``stoppedDueToInactivity`` false). A second request of the same
  ``accessType`` for the same app → **409 ``STATE_ERROR``** "You already have such an entity"
  (ANALYTICS §0.3; the title is the sandbox's wording). A stopped request blocks too unless
  ``conflict_when_stopped`` is off. Body errors: unreadable JSON → 422
  ``ENTITY_UNPROCESSABLE``; a missing or wrong member, an unknown ``accessType`` or app → 409
  ``ENTITY_ERROR.*`` with ``source.pointer`` (the operation documents no 404).
- ``GET /v1/apps/{id}/analyticsReportRequests`` (``filter[accessType]``, ``include=reports``,
  ``limit[reports]``, sparse fields, paging) and its ``relationships`` linkage list.
- ``GET /v1/analyticsReportRequests/{id}``; ``DELETE`` (Admin only) → 204, then 404.

Reading needs Admin, Sales (Sales and Reports) or Finance; ACCESS_TO_REPORTS keys only with
the ``access_to_reports_reads`` knob (ANALYTICS §3). With the ``ghost_snapshots`` knob a new
snapshot request is invisible (404, not listed) yet still answers a second POST with 409
(F-ASC, ANALYTICS §3).
"""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import JSONResponse, Response

from app.sandbox.analytics_ledger import ACCESS_TYPES, AnalyticsRequest, analytics
from app.sandbox.analytics_resources import check_reader, request_resource
from app.sandbox.catalog import find_app
from app.sandbox.context import V1Context
from app.sandbox.errors import ApiError, resource_not_found
from app.sandbox.jsonapi import Included, collection_document, paginate, single_document

REQUESTS = "analyticsReportRequests"


def _unprocessable(detail: str) -> ApiError:
    return ApiError(422, "ENTITY_UNPROCESSABLE", "The request entity is not processable.", detail)


def _entity_error(code: str, detail: str, pointer: str) -> ApiError:
    return ApiError(
        409, f"ENTITY_ERROR.{code}", "The provided entity is invalid", detail, pointer=pointer
    )


def already_exists() -> ApiError:
    """ANALYTICS §0.3 / F-ASC: the answer to a duplicate request."""
    return ApiError(
        409,
        "STATE_ERROR",
        "The request cannot be fulfilled because of the state of another resource.",
        "You already have such an entity",
    )


def _member(node: Any, name: str, pointer: str) -> Any:
    if not isinstance(node, dict) or name not in node:
        code = "ATTRIBUTE.REQUIRED" if pointer.endswith("attributes") else "REQUIRED"
        raise _entity_error(code, f"'{name}' is required.", f"{pointer}/{name}")
    return node[name]


async def _create_body(ctx: V1Context) -> tuple[str, str]:
    """``(access type, app id)`` from an ``AnalyticsReportRequestCreateRequest``."""
    try:
        document = json.loads(await ctx.request.body())
    except ValueError:
        raise _unprocessable("The request body is not valid JSON.") from None
    if not isinstance(document, dict):
        raise _unprocessable("The request body must be a JSON object.")
    data = _member(document, "data", "")
    if _member(data, "type", "/data") != REQUESTS:
        raise _entity_error("INVALID", f"'type' must be '{REQUESTS}'.", "/data/type")
    access = _member(_member(data, "attributes", "/data"), "accessType", "/data/attributes")
    if access not in ACCESS_TYPES:
        raise _entity_error(
            "ATTRIBUTE.INVALID",
            f"'{access}' is not a valid value for 'accessType'.",
            "/data/attributes/accessType",
        )
    pointer = "/data/relationships/app/data"
    app = _member(_member(data, "relationships", "/data"), "app", "/data/relationships")
    linkage = _member(app, "data", "/data/relationships/app")
    if _member(linkage, "type", pointer) != "apps":
        raise _entity_error("RELATIONSHIP.INVALID", "'type' must be 'apps'.", f"{pointer}/type")
    app_id = _member(linkage, "id", pointer)
    if not isinstance(app_id, str) or find_app(ctx.team, app_id) is None:
        raise _entity_error(
            "RELATIONSHIP.INVALID", f"There is no app with id '{app_id}'.", f"{pointer}/id"
        )
    return access, app_id


def _blocks(ctx: V1Context, existing: AnalyticsRequest) -> bool:
    options = analytics(ctx.state).options
    return options.conflict_when_stopped or existing.stop_time(options, ctx.now) is None


async def create_request(ctx: V1Context) -> Response:
    access, app_id = await _create_body(ctx)
    ledger = analytics(ctx.state)
    for existing in ledger.requests_of(ctx.team, app_id):
        if existing.access_type == access and _blocks(ctx, existing):
            raise already_exists()
    request = ledger.add_request(ctx.team, app_id, access, ctx.now)
    resource = request_resource(ctx, request, Included())
    self_url = f"{ctx.base_url}/v1/{REQUESTS}/{request.id}"
    return JSONResponse(single_document(resource, self_url), status_code=201)


def visible_request(ctx: V1Context) -> AnalyticsRequest:
    """The path's request, if this key's team can see it (else 404)."""
    request_id = ctx.path_params["id"]
    request = analytics(ctx.state).requests.get(request_id)
    if request is None or request.team != ctx.team or request.ghost:
        raise resource_not_found(REQUESTS, request_id)
    return request


def _app_requests(ctx: V1Context) -> list[AnalyticsRequest]:
    app_id = ctx.path_params["id"]
    if find_app(ctx.team, app_id) is None:
        raise resource_not_found("apps", app_id)
    access = ctx.query.value_set("filter[accessType]")
    return [
        r
        for r in analytics(ctx.state).requests_of(ctx.team, app_id)
        if not r.ghost and (access is None or r.access_type in access)
    ]


async def list_app_requests(ctx: V1Context) -> Response:
    check_reader(ctx)
    page = paginate(_app_requests(ctx), base_url=ctx.base_url, path=ctx.path, query=ctx.query)
    included = Included()
    data = [request_resource(ctx, request, included) for request in page.items]
    return JSONResponse(collection_document(data, page, ctx.self_url, included))


async def list_app_request_linkages(ctx: V1Context) -> Response:
    check_reader(ctx)
    page = paginate(_app_requests(ctx), base_url=ctx.base_url, path=ctx.path, query=ctx.query)
    data = [{"type": REQUESTS, "id": request.id} for request in page.items]
    return JSONResponse(collection_document(data, page, ctx.self_url))


async def get_request(ctx: V1Context) -> Response:
    check_reader(ctx)
    request = visible_request(ctx)
    included = Included()
    resource = request_resource(ctx, request, included)
    return JSONResponse(single_document(resource, ctx.self_url, included))


async def delete_request(ctx: V1Context) -> Response:
    request = visible_request(ctx)
    analytics(ctx.state).delete(request.id)
    return Response(status_code=204)

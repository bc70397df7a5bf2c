"""``/v1`` TestFlight feedback endpoints (spec ``BetaFeedbackCrashSubmission*``,
``BetaFeedbackScreenshotSubmission*``, ``BetaCrashLog*``).

=====================================================  =====================================
``GET /v1/apps/{id}/betaFeedbackCrashSubmissions``      paged list: filters ``deviceModel``,
``GET /v1/apps/{id}/betaFeedbackScreenshotSubmissions`` ``osVersion``, ``appPlatform``,
                                                        ``devicePlatform``, ``build``,
                                                        ``build.preReleaseVersion``, ``tester``;
                                                        ``sort`` ±``createdDate`` (default
                                                        newest first); ``include=build,tester``
``GET/DELETE /v1/betaFeedbackCrashSubmissions/{id}``    one submission / 204
``GET/DELETE /v1/betaFeedbackScreenshotSubmissions/{id}``
``GET /v1/betaFeedbackCrashSubmissions/{id}/crashLog``  ``BetaCrashLogResponse`` (``logText``)
``…/relationships/…``                                   linkages
=====================================================  =====================================

Roles: Admin, App Manager or Developer, team or individual keys (Apple's "Beta feedback
screenshot submissions" page: developer.apple.com/documentation/appstoreconnectapi/
beta-feedback-screenshot-submissions) — the sandbox's ``BUILDS`` permission. Screenshot URLs
are temporary (:mod:`.images`). Dates use the sandbox's Apple-style format.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import pairwise
from typing import Any

from starlette.responses import JSONResponse, Response

from app.sandbox.catalog import SandboxApp, find_app, team_apps
from app.sandbox.catalog_routes import BUILD_FIELDS, apple_datetime, build_resource
from app.sandbox.context import V1Context, V1Route
from app.sandbox.errors import resource_not_found
from app.sandbox.feedback.crashlog import crash_log_text
from app.sandbox.feedback.images import screenshot_url
from app.sandbox.feedback.model import Feedback, FeedbackKind, app_feedback, feedback_ledger
from app.sandbox.jsonapi import (
    Included,
    ParamSpec,
    Resource,
    collection_document,
    make_resource,
    paginate,
    relationship_links,
    single_document,
    words,
)
from app.sandbox.permissions import BUILDS
from app.sandbox.testflight import TESTER_FIELDS, tester_resource
from app.sandbox.webhooks.routes import linkage_document

RESOURCE_TYPES: dict[FeedbackKind, str] = {
    "crash": "betaFeedbackCrashSubmissions",
    "screenshot": "betaFeedbackScreenshotSubmissions",
}
_COMMON_FIELDS = (
    "createdDate comment email deviceModel osVersion locale timeZone architecture "
    "connectionType pairedAppleWatch appUptimeInMilliseconds diskBytesAvailable diskBytesTotal "
    "batteryPercentage screenWidthInPoints screenHeightInPoints appPlatform devicePlatform "
    "deviceFamily buildBundleId build tester"
)
FIELDS: dict[FeedbackKind, frozenset[str]] = {
    "crash": words(_COMMON_FIELDS + " crashLog"),
    "screenshot": words(_COMMON_FIELDS + " screenshots"),
}
PLATFORMS = words("IOS MAC_OS TV_OS VISION_OS")
_FILTERS = ("deviceModel", "osVersion", "appPlatform", "devicePlatform", "build", "tester")


def _params(kind: FeedbackKind, *, listing: bool) -> ParamSpec:
    fields = {
        RESOURCE_TYPES[kind]: FIELDS[kind],
        "builds": BUILD_FIELDS,
        "betaTesters": TESTER_FIELDS,
    }
    if not listing:
        return ParamSpec(
            names=words("include"), fields=fields, enums={"include": words("build tester")}
        )
    names = {f"filter[{name}]" for name in _FILTERS} | {"filter[build.preReleaseVersion]"}
    return ParamSpec(
        names=frozenset(names | {"sort", "include"}),
        fields=fields,
        enums={
            "filter[appPlatform]": PLATFORMS,
            "filter[devicePlatform]": PLATFORMS,
            "sort": words("createdDate -createdDate"),
            "include": words("build tester"),
        },
        paged=True,
    )


def feedback_resource(ctx: V1Context, item: Feedback, included: Included) -> Resource:
    base, q, rtype = ctx.base_url, ctx.query, RESOURCE_TYPES[item.kind]
    device = item.device
    attributes: dict[str, Any] = {"createdDate": apple_datetime(item.created)}
    if item.comment is not None:
        attributes["comment"] = item.comment
    attributes |= {
        "email": item.tester.email,
        "deviceModel": device.model,
        "osVersion": item.os_version,
        "locale": item.locale,
        "timeZone": item.time_zone,
        "architecture": "arm64e",
        "connectionType": item.connection,
        "appUptimeInMilliseconds": item.uptime_ms,
        "diskBytesAvailable": item.disk_available,
        "diskBytesTotal": device.disk_total,
        "batteryPercentage": item.battery,
        "screenWidthInPoints": device.width_points,
        "screenHeightInPoints": device.height_points,
        "appPlatform": "IOS",
        "devicePlatform": "IOS",
        "deviceFamily": device.family,
        "buildBundleId": item.app.bundle_id,
    }
    if item.paired_watch is not None:
        attributes["pairedAppleWatch"] = item.paired_watch
    if item.kind == "screenshot":
        attributes["screenshots"] = _screenshots(ctx, item)
    relationships: dict[str, Resource] = {
        "build": {"data": {"type": "builds", "id": item.build.id}},
        "tester": {"data": {"type": "betaTesters", "id": item.tester.id}},
    }
    if item.kind == "crash":
        relationships["crashLog"] = {"links": relationship_links(base, rtype, item.id, "crashLog")}
    includes = q.includes()
    if "build" in includes:
        included.add(build_resource(ctx, item.build, included, set()))
    if "tester" in includes:
        included.add(tester_resource(ctx, item.tester, included, set()))
    return make_resource(
        base_url=base,
        resource_type=rtype,
        resource_id=item.id,
        attributes=attributes,
        relationships=relationships,
        fields=q.fields(rtype),
    )


def _screenshots(ctx: V1Context, item: Feedback) -> list[dict[str, Any]]:
    expires = ctx.now + feedback_ledger(ctx.state).screenshot_url_ttl
    width, height = item.screenshot_size()
    return [
        {
            "url": screenshot_url(ctx.base_url, ctx.state.seed, item.id, index, expires),
            "width": width,
            "height": height,
            "expirationDate": apple_datetime(expires),
        }
        for index in range(item.screenshot_count)
    ]


def _app(ctx: V1Context) -> SandboxApp:
    app = find_app(ctx.team, ctx.path_params["id"])
    if app is None:
        raise resource_not_found("apps", ctx.path_params["id"])
    return app


def _device_models(ctx: V1Context) -> set[str] | None:
    """``filter[deviceModel]`` values. Models contain a comma (``iPhone16,2``, as integrators
    send them) while array parameters are comma-separated, so adjacent parts are rejoined."""
    parts = ctx.query.values("filter[deviceModel]")
    if parts is None:
        return None
    return {*parts, *(f"{a},{b}" for a, b in pairwise(parts))}


def _matches(ctx: V1Context) -> Callable[[Feedback], bool]:
    q = ctx.query
    wanted = {name: q.value_set(f"filter[{name}]") for name in _FILTERS}
    wanted["deviceModel"] = _device_models(ctx)
    pre_release = q.value_set("filter[build.preReleaseVersion]")

    def keep(item: Feedback) -> bool:
        values = {
            "deviceModel": item.device.model,
            "osVersion": item.os_version,
            "appPlatform": "IOS",
            "devicePlatform": "IOS",
            "build": item.build.id,
            "tester": item.tester.id,
        }
        return all(
            allowed is None or values[name] in allowed for name, allowed in wanted.items()
        ) and (pre_release is None or item.build.pre_release_version_id in pre_release)

    return keep


def _listed(ctx: V1Context, kind: FeedbackKind) -> list[Feedback]:
    keep = _matches(ctx)
    items = [i for i in app_feedback(ctx.state, ctx.team, _app(ctx), kind, ctx.now) if keep(i)]
    if ctx.query.sort("-createdDate").startswith("-"):
        items.reverse()
    return items


def _list_route(kind: FeedbackKind) -> Callable[[V1Context], Any]:
    async def handler(ctx: V1Context) -> Response:
        page = paginate(_listed(ctx, kind), base_url=ctx.base_url, path=ctx.path, query=ctx.query)
        included = Included()
        data = [feedback_resource(ctx, item, included) for item in page.items]
        return JSONResponse(collection_document(data, page, ctx.self_url, included))

    return handler


def _linkage_route(kind: FeedbackKind) -> Callable[[V1Context], Any]:
    async def handler(ctx: V1Context) -> Response:
        items = app_feedback(ctx.state, ctx.team, _app(ctx), kind, ctx.now)[::-1]
        page = paginate(
            [i.id for i in items], base_url=ctx.base_url, path=ctx.path, query=ctx.query
        )
        return JSONResponse(linkage_document(RESOURCE_TYPES[kind], page, ctx.self_url))

    return handler


def find_feedback(ctx: V1Context, kind: FeedbackKind, feedback_id: str) -> Feedback:
    for app in team_apps(ctx.team):
        for item in app_feedback(ctx.state, ctx.team, app, kind, ctx.now):
            if item.id == feedback_id:
                return item
    raise resource_not_found(RESOURCE_TYPES[kind], feedback_id)


def _get_route(kind: FeedbackKind) -> Callable[[V1Context], Any]:
    async def handler(ctx: V1Context) -> Response:
        item = find_feedback(ctx, kind, ctx.path_params["id"])
        included = Included()
        resource = feedback_resource(ctx, item, included)
        return JSONResponse(single_document(resource, ctx.self_url, included))

    return handler


def _delete_route(kind: FeedbackKind) -> Callable[[V1Context], Any]:
    async def handler(ctx: V1Context) -> Response:
        item = find_feedback(ctx, kind, ctx.path_params["id"])
        feedback_ledger(ctx.state).deleted.add(item.id)
        return Response(status_code=204)

    return handler


async def get_crash_log(ctx: V1Context) -> Response:
    item = find_feedback(ctx, "crash", ctx.path_params["id"])
    resource = make_resource(
        base_url=ctx.base_url,
        resource_type="betaCrashLogs",
        resource_id=item.crash_log_id,
        attributes={"logText": crash_log_text(item)},
        fields=ctx.query.fields("betaCrashLogs"),
    )
    return JSONResponse(single_document(resource, ctx.self_url))


async def get_crash_log_linkage(ctx: V1Context) -> Response:
    item = find_feedback(ctx, "crash", ctx.path_params["id"])
    document = {
        "data": {"type": "betaCrashLogs", "id": item.crash_log_id},
        "links": {"self": ctx.self_url},
    }
    return JSONResponse(document)


def _routes(kind: FeedbackKind) -> list[V1Route]:
    rtype, none = RESOURCE_TYPES[kind], ParamSpec()
    return [
        V1Route(
            "GET",
            f"/v1/apps/{{id}}/{rtype}",
            _list_route(kind),
            BUILDS,
            _params(kind, listing=True),
        ),
        V1Route(
            "GET",
            f"/v1/apps/{{id}}/relationships/{rtype}",
            _linkage_route(kind),
            BUILDS,
            ParamSpec(paged=True),
        ),
        V1Route(
            "GET", f"/v1/{rtype}/{{id}}", _get_route(kind), BUILDS, _params(kind, listing=False)
        ),
        V1Route("DELETE", f"/v1/{rtype}/{{id}}", _delete_route(kind), BUILDS, none),
    ]


ROUTES = [
    *_routes("crash"),
    *_routes("screenshot"),
    V1Route(
        "GET",
        "/v1/betaFeedbackCrashSubmissions/{id}/crashLog",
        get_crash_log,
        BUILDS,
        ParamSpec(fields={"betaCrashLogs": words("logText")}),
    ),
    V1Route(
        "GET",
        "/v1/betaFeedbackCrashSubmissions/{id}/relationships/crashLog",
        get_crash_log_linkage,
        BUILDS,
        ParamSpec(),
    ),
]

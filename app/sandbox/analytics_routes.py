"""The Analytics Reports chain under ``/v1`` (ANALYTICS §1; parameters from spec 4.4.1).

request → ``/reports`` (``filter[name]``, ``filter[category]``) → ``/v1/analyticsReports/{id}``
→ ``/instances`` (``filter[granularity]``, ``filter[processingDate]``) →
``/v1/analyticsReportInstances/{id}`` → ``/segments`` → ``/v1/analyticsReportSegments/{id}``,
each with its ``relationships/...`` linkage list. Lists are cursor-paged (``limit`` ≤ 200).
Requests are in :mod:`.analytics_requests`, instance schedules in :mod:`.analytics_instances`,
files and URLs in :mod:`.analytics_files` / :mod:`.analytics_s3`.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, Response

from app.sandbox import analytics_requests as requests
from app.sandbox.analytics_catalog import CATEGORIES, GRANULARITIES, ReportDef
from app.sandbox.analytics_files import SegmentPlan, segment_id, segment_plans
from app.sandbox.analytics_instances import (
    Instance,
    find_instance,
    find_report,
    report_instances,
    request_reports,
)
from app.sandbox.analytics_ledger import ACCESS_TYPES, AnalyticsRequest, analytics
from app.sandbox.analytics_resources import (
    ANALYTICS_READ,
    INSTANCE_FIELDS,
    REPORT_FIELDS,
    REQUEST_FIELDS,
    SEGMENT_FIELDS,
    check_reader,
    file_format,
    instance_resource,
    report_resource,
    segment_resource,
)
from app.sandbox.context import V1Context, V1Route
from app.sandbox.errors import invalid_parameter, resource_not_found
from app.sandbox.jsonapi import ParamSpec, collection_document, paginate, single_document, words
from app.sandbox.permissions import ADMIN_ONLY

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _page(ctx: V1Context, items: list[Any]) -> Any:
    return paginate(items, base_url=ctx.base_url, path=ctx.path, query=ctx.query)


# --- reports -----------------------------------------------------------------------------


def _reports(ctx: V1Context) -> list[tuple[str, ReportDef]]:
    request = requests.visible_request(ctx)
    names = ctx.query.value_set("filter[name]")
    categories = ctx.query.value_set("filter[category]")
    return [
        (report_id, report)
        for report_id, report in request_reports(analytics(ctx.state), request)
        if (names is None or report.name in names)
        and (categories is None or report.category in categories)
    ]


async def list_reports(ctx: V1Context) -> Response:
    check_reader(ctx)
    page = _page(ctx, _reports(ctx))
    fields = ctx.query.fields("analyticsReports")
    data = [report_resource(ctx, rid, report, fields) for rid, report in page.items]
    return JSONResponse(collection_document(data, page, ctx.self_url))


async def list_report_linkages(ctx: V1Context) -> Response:
    check_reader(ctx)
    page = _page(ctx, _reports(ctx))
    data = [{"type": "analyticsReports", "id": rid} for rid, _ in page.items]
    return JSONResponse(collection_document(data, page, ctx.self_url))


def _report(ctx: V1Context) -> tuple[AnalyticsRequest, str, ReportDef]:
    report_id = ctx.path_params["id"]
    found = find_report(analytics(ctx.state), ctx.team, report_id)
    if found is None:
        raise resource_not_found("analyticsReports", report_id)
    return found[0], report_id, found[1]


async def get_report(ctx: V1Context) -> Response:
    check_reader(ctx)
    _, report_id, report = _report(ctx)
    resource = report_resource(ctx, report_id, report, ctx.query.fields("analyticsReports"))
    return JSONResponse(single_document(resource, ctx.self_url))


# --- instances ---------------------------------------------------------------------------


def _processing_day(value: str) -> date:
    if _DATE.match(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise invalid_parameter(
        "filter[processingDate]",
        f"'{value}' is not a valid value for 'filter[processingDate]'. Use the format YYYY-MM-DD.",
    )


def _processing_dates(ctx: V1Context) -> set[date] | None:
    raw = ctx.query.values("filter[processingDate]")
    return None if raw is None else {_processing_day(value) for value in raw}


def _instances(ctx: V1Context) -> list[Instance]:
    request, report_id, report = _report(ctx)
    granularities = ctx.query.value_set("filter[granularity]")
    days = _processing_dates(ctx)
    return [
        instance
        for instance in report_instances(analytics(ctx.state), request, report_id, report, ctx.now)
        if (granularities is None or instance.granularity in granularities)
        and (days is None or instance.processing_date in days)
    ]


async def list_instances(ctx: V1Context) -> Response:
    check_reader(ctx)
    page = _page(ctx, _instances(ctx))
    data = [instance_resource(ctx, instance) for instance in page.items]
    return JSONResponse(collection_document(data, page, ctx.self_url))


async def list_instance_linkages(ctx: V1Context) -> Response:
    check_reader(ctx)
    page = _page(ctx, _instances(ctx))
    data = [{"type": "analyticsReportInstances", "id": i.id} for i in page.items]
    return JSONResponse(collection_document(data, page, ctx.self_url))


def _instance(ctx: V1Context) -> Instance:
    instance_id = ctx.path_params["id"]
    instance = find_instance(analytics(ctx.state), ctx.team, instance_id, ctx.now)
    if instance is None:
        raise resource_not_found("analyticsReportInstances", instance_id)
    return instance


async def get_instance(ctx: V1Context) -> Response:
    check_reader(ctx)
    return JSONResponse(single_document(instance_resource(ctx, _instance(ctx)), ctx.self_url))


# --- segments ----------------------------------------------------------------------------


async def _plans(ctx: V1Context, instance: Instance) -> tuple[SegmentPlan, ...]:
    # The first listing of a big instance generates all of it (seconds for a million rows,
    # like Apple's slow endpoints): off the event loop, so other requests go on.
    return await run_in_threadpool(segment_plans, instance, file_format(ctx, instance))


async def list_segments(ctx: V1Context) -> Response:
    check_reader(ctx)
    instance = _instance(ctx)
    page = _page(ctx, list(await _plans(ctx, instance)))
    data = [segment_resource(ctx, instance, plan) for plan in page.items]
    return JSONResponse(collection_document(data, page, ctx.self_url))


async def list_segment_linkages(ctx: V1Context) -> Response:
    check_reader(ctx)
    instance = _instance(ctx)
    page = _page(ctx, list(await _plans(ctx, instance)))
    index = analytics(ctx.state).segment_index
    data = []
    for plan in page.items:
        seg_id = segment_id(instance, plan.index)
        index[seg_id] = (instance.id, plan.index)
        data.append({"type": "analyticsReportSegments", "id": seg_id})
    return JSONResponse(collection_document(data, page, ctx.self_url))


async def get_segment(ctx: V1Context) -> Response:
    check_reader(ctx)
    wanted = ctx.path_params["id"]
    ledger = analytics(ctx.state)
    known = ledger.segment_index.get(wanted)
    instance = find_instance(ledger, ctx.team, known[0], ctx.now) if known else None
    plans = await _plans(ctx, instance) if instance else ()
    if instance is None or known is None or known[1] >= len(plans):
        raise resource_not_found("analyticsReportSegments", wanted)
    resource = segment_resource(ctx, instance, plans[known[1]])
    return JSONResponse(single_document(resource, ctx.self_url))


# --- routes ------------------------------------------------------------------------------

_REQUEST_READ = {"analyticsReportRequests": REQUEST_FIELDS, "analyticsReports": REPORT_FIELDS}
APP_REQUESTS_PARAMS = ParamSpec(
    names=words("filter[accessType] include"),
    fields=_REQUEST_READ,
    limits=words("reports"),
    enums={"filter[accessType]": frozenset(ACCESS_TYPES), "include": words("reports")},
    paged=True,
)
REQUEST_PARAMS = ParamSpec(
    names=words("include"),
    fields=_REQUEST_READ,
    limits=words("reports"),
    enums={"include": words("reports")},
)
REPORTS_PARAMS = ParamSpec(
    names=words("filter[name] filter[category]"),
    fields={"analyticsReports": REPORT_FIELDS},
    enums={"filter[category]": frozenset(CATEGORIES)},
    paged=True,
)
INSTANCES_PARAMS = ParamSpec(
    names=words("filter[granularity] filter[processingDate]"),
    fields={"analyticsReportInstances": INSTANCE_FIELDS},
    enums={"filter[granularity]": frozenset(GRANULARITIES)},
    paged=True,
)
LINKAGES = ParamSpec(paged=True)


def _get(template: str, handler: Any, params: ParamSpec) -> V1Route:
    return V1Route("GET", template, handler, ANALYTICS_READ, params)


ROUTES = [
    V1Route(
        "POST", "/v1/analyticsReportRequests", requests.create_request, ADMIN_ONLY, ParamSpec()
    ),
    _get("/v1/apps/{id}/analyticsReportRequests", requests.list_app_requests, APP_REQUESTS_PARAMS),
    _get(
        "/v1/apps/{id}/relationships/analyticsReportRequests",
        requests.list_app_request_linkages,
        LINKAGES,
    ),
    _get("/v1/analyticsReportRequests/{id}", requests.get_request, REQUEST_PARAMS),
    V1Route(
        "DELETE",
        "/v1/analyticsReportRequests/{id}",
        requests.delete_request,
        ADMIN_ONLY,
        ParamSpec(),
    ),
    _get("/v1/analyticsReportRequests/{id}/reports", list_reports, REPORTS_PARAMS),
    _get("/v1/analyticsReportRequests/{id}/relationships/reports", list_report_linkages, LINKAGES),
    _get(
        "/v1/analyticsReports/{id}",
        get_report,
        ParamSpec(fields={"analyticsReports": REPORT_FIELDS}),
    ),
    _get("/v1/analyticsReports/{id}/instances", list_instances, INSTANCES_PARAMS),
    _get("/v1/analyticsReports/{id}/relationships/instances", list_instance_linkages, LINKAGES),
    _get(
        "/v1/analyticsReportInstances/{id}",
        get_instance,
        ParamSpec(fields={"analyticsReportInstances": INSTANCE_FIELDS}),
    ),
    _get(
        "/v1/analyticsReportInstances/{id}/segments",
        list_segments,
        ParamSpec(fields={"analyticsReportSegments": SEGMENT_FIELDS}, paged=True),
    ),
    _get(
        "/v1/analyticsReportInstances/{id}/relationships/segments", list_segment_linkages, LINKAGES
    ),
    _get(
        "/v1/analyticsReportSegments/{id}",
        get_segment,
        ParamSpec(fields={"analyticsReportSegments": SEGMENT_FIELDS}),
    ),
]

"""JSON:API resources of the Analytics Reports chain, shaped like Apple's spec 4.4.1 schemas
``AnalyticsReportRequest``, ``AnalyticsReport``, ``AnalyticsReportInstance`` and
``AnalyticsReportSegment``, and the role rule for reading them (ANALYTICS §3)."""

from __future__ import annotations

from typing import Any

from app.sandbox.analytics_catalog import ReportDef
from app.sandbox.analytics_files import FileFormat, SegmentPlan, segment_id
from app.sandbox.analytics_instances import Instance, request_reports
from app.sandbox.analytics_ledger import AnalyticsRequest, analytics
from app.sandbox.analytics_s3 import mint_url
from app.sandbox.context import V1Context
from app.sandbox.errors import forbidden
from app.sandbox.jsonapi import Included, Resource, make_resource, relationship_links, words
from app.sandbox.permissions import Permission

REQUEST_FIELDS = words("accessType stoppedDueToInactivity reports")
REPORT_FIELDS = words("name category instances")
INSTANCE_FIELDS = words("granularity processingDate segments")
SEGMENT_FIELDS = words("checksum sizeInBytes url")
#: Who may read (ANALYTICS §3: Admin, Sales and Reports, Finance); ACCESS_TO_REPORTS passes the
#: route check but is refused in :func:`check_reader` unless the knob allows it.
READ_ROLES = frozenset({"ADMIN", "SALES", "FINANCE"})
ANALYTICS_READ = Permission(READ_ROLES | {"ACCESS_TO_REPORTS"})


def check_reader(ctx: V1Context) -> None:
    if READ_ROLES.intersection(ctx.key.roles):
        return
    if not analytics(ctx.state).options.access_to_reports_reads:
        raise forbidden()


def _links(ctx: V1Context, resource_type: str, resource_id: str, name: str) -> dict[str, Any]:
    return {"links": relationship_links(ctx.base_url, resource_type, resource_id, name)}


def request_resource(ctx: V1Context, request: AnalyticsRequest, included: Included) -> Resource:
    """A request; ``include=reports`` adds the report linkages and the included reports."""
    options = analytics(ctx.state).options
    reports = _links(ctx, "analyticsReportRequests", request.id, "reports")
    if "reports" in ctx.query.includes():
        reports |= _included_reports(ctx, request, included)
    return make_resource(
        base_url=ctx.base_url,
        resource_type="analyticsReportRequests",
        resource_id=request.id,
        attributes={
            "accessType": request.access_type,
            "stoppedDueToInactivity": request.stop_time(options, ctx.now) is not None,
        },
        relationships={"reports": reports},
        fields=ctx.query.fields("analyticsReportRequests"),
    )


def _included_reports(
    ctx: V1Context, request: AnalyticsRequest, included: Included
) -> dict[str, Any]:
    reports = request_reports(analytics(ctx.state), request)
    limit = ctx.query.included_limit("reports")
    fields = ctx.query.fields("analyticsReports")
    linkages = [
        included.add(report_resource(ctx, report_id, report, fields))
        for report_id, report in reports[:limit]
    ]
    return {"data": linkages, "meta": {"paging": {"total": len(reports), "limit": limit}}}


def report_resource(
    ctx: V1Context, report_id: str, report: ReportDef, fields: set[str] | None
) -> Resource:
    return make_resource(
        base_url=ctx.base_url,
        resource_type="analyticsReports",
        resource_id=report_id,
        attributes={"name": report.name, "category": report.category},
        relationships={"instances": _links(ctx, "analyticsReports", report_id, "instances")},
        fields=fields,
    )


def instance_resource(ctx: V1Context, instance: Instance) -> Resource:
    return make_resource(
        base_url=ctx.base_url,
        resource_type="analyticsReportInstances",
        resource_id=instance.id,
        attributes={
            "granularity": instance.granularity,
            "processingDate": instance.processing_date.isoformat(),
        },
        relationships={
            "segments": _links(ctx, "analyticsReportInstances", instance.id, "segments")
        },
        fields=ctx.query.fields("analyticsReportInstances"),
    )


def segment_resource(ctx: V1Context, instance: Instance, plan: SegmentPlan) -> Resource:
    """A segment with a freshly minted pre-signed ``url`` (valid 5 minutes from now)."""
    seg_id = segment_id(instance, plan.index)
    analytics(ctx.state).segment_index[seg_id] = (instance.id, plan.index)
    return make_resource(
        base_url=ctx.base_url,
        resource_type="analyticsReportSegments",
        resource_id=seg_id,
        attributes={
            "checksum": plan.md5,
            "sizeInBytes": plan.size,
            "url": mint_url(ctx.state, ctx.base_url, instance, plan.index),
        },
        fields=ctx.query.fields("analyticsReportSegments"),
    )


def file_format(ctx: V1Context, instance: Instance) -> FileFormat:
    return FileFormat.of(analytics(ctx.state), instance.app.id)

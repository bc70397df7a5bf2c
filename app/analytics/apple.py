"""Apple's Analytics Reports chain (ANALYTICS §1): request → reports → instances → segments.

Thin calls over :class:`~app.asc.client.AscClient`; the sync units decide what to do with
the answers. Report ids are scoped to their request and resolved by name on every run
(ANALYTICS §2); names are compared case-insensitively.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from app.analytics.catalog import CATEGORIES, ReportDef, find
from app.asc.client import AscClient, join_param
from app.asc.jsonapi import Resource

REQUESTS = "/v1/analyticsReportRequests"


@dataclass(frozen=True)
class AppleRequest:
    id: str
    access_type: str
    stopped: bool


@dataclass(frozen=True)
class AppleInstance:
    id: str
    granularity: str
    processing_date: dt.date


@dataclass(frozen=True)
class AppleSegment:
    id: str
    url: str | None
    checksum: str | None
    size: int | None


def _request(resource: Resource) -> AppleRequest:
    attributes = resource.attributes
    return AppleRequest(
        id=resource.id,
        access_type=str(attributes.get("accessType") or ""),
        stopped=bool(attributes.get("stoppedDueToInactivity")),
    )


async def list_requests(
    client: AscClient, app_apple_id: str, access_type: str
) -> list[AppleRequest]:
    """The app's requests of ``access_type`` (Apple's ``filter[accessType]``)."""
    found: list[AppleRequest] = []
    async for page in client.paginate(
        f"/v1/apps/{app_apple_id}/analyticsReportRequests",
        {"filter[accessType]": access_type},
    ):
        found += [_request(r) for r in page.resources()]
    # Belt and braces: never act on another access type, whatever the filter did.
    return [r for r in found if r.access_type == access_type]


async def create_request(client: AscClient, app_apple_id: str, access_type: str) -> AppleRequest:
    """POST a new request (Admin keys only; a duplicate answers 409 ``STATE_ERROR``)."""
    body = {
        "data": {
            "type": "analyticsReportRequests",
            "attributes": {"accessType": access_type},
            "relationships": {"app": {"data": {"type": "apps", "id": app_apple_id}}},
        }
    }
    # Safe to repeat after an ambiguous failure: a second POST answers 409, which the caller
    # resolves by listing the request the first one made.
    document = await client.post_document(REQUESTS, body, idempotent=True)
    [resource] = document.resources()
    return _request(resource)


async def delete_request(client: AscClient, request_id: str) -> None:
    await client.delete(f"{REQUESTS}/{request_id}", missing_ok=True)


async def wanted_reports(client: AscClient, request_id: str) -> dict[str, ReportDef]:
    """Apple report id → the report Orchard reads, for the reports of Orchard's categories."""
    found: dict[str, ReportDef] = {}
    async for page in client.paginate(
        f"{REQUESTS}/{request_id}/reports",
        {"filter[category]": join_param(CATEGORIES), "fields[analyticsReports]": "name,category"},
    ):
        for resource in page.resources():
            known = find(str(resource.attributes.get("name") or ""))
            if known is not None:
                found[resource.id] = known
    return found


async def list_instances(
    client: AscClient, report_id: str, granularities: tuple[str, ...]
) -> list[AppleInstance]:
    found: list[AppleInstance] = []
    async for page in client.paginate(
        f"/v1/analyticsReports/{report_id}/instances",
        {"filter[granularity]": join_param(granularities)},
    ):
        for resource in page.resources():
            attributes = resource.attributes
            processing = attributes.get("processingDate")
            granularity = attributes.get("granularity")
            if not isinstance(processing, str) or granularity not in granularities:
                continue
            found.append(
                AppleInstance(resource.id, str(granularity), dt.date.fromisoformat(processing[:10]))
            )
    return found


async def list_segments(client: AscClient, instance_id: str) -> list[AppleSegment]:
    """The instance's segments with fresh URLs (valid minutes: download at once)."""
    found: list[AppleSegment] = []
    async for page in client.paginate(f"/v1/analyticsReportInstances/{instance_id}/segments"):
        found += [_segment(r) for r in page.resources()]
    return found


async def get_segment(client: AscClient, segment_id: str) -> AppleSegment:
    """One segment again, with a fresh URL (the retry after a bad download)."""
    document = await client.get_document(f"/v1/analyticsReportSegments/{segment_id}")
    [resource] = document.resources()
    return _segment(resource)


def _segment(resource: Resource) -> AppleSegment:
    attributes = resource.attributes
    size = attributes.get("sizeInBytes")
    checksum = attributes.get("checksum")
    url = attributes.get("url")
    return AppleSegment(
        id=resource.id,
        url=url if isinstance(url, str) and url else None,
        checksum=checksum.lower() if isinstance(checksum, str) and checksum else None,
        size=size if isinstance(size, int) else None,
    )

"""The ``builds`` dataset: each app's builds with their TestFlight state.

One request per app for its newest 200 builds (``sort=-uploadedDate``, ``include`` the beta
detail and the pre-release version, sparse fields). Older pages are fetched only while they
still hold builds uploaded within :data:`WINDOW`: TestFlight builds expire after 90 days, so
older ones cannot change any more. Builds Apple stops listing inside the fetched range are
marked removed. Events: ``build_processed`` when processing ends, ``build_expired``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from app.asc.client import Params
from app.asc.jsonapi import Document, Resource
from app.models import Build
from app.resources import bulk, changes, repository
from app.resources.app_list import AppListing
from app.resources.changes import PROCESSING, Change, EventType, SubjectType
from app.resources.units import (
    AppRef,
    apple_datetime,
    lock_app,
    per_app_dataset,
    text_or_none,
    unique,
)
from app.sync.contract import Dataset, UnitContext

DATASET = "builds"
MARKER: repository.SyncMarker = "builds_synced_at"
#: Builds uploaded longer ago than this are final (expired): no need to page back to them.
WINDOW = dt.timedelta(days=100)
FIELDS: Params = {
    "sort": "-uploadedDate",
    "include": "buildBetaDetail,preReleaseVersion",
    "fields[builds]": "version,uploadedDate,expirationDate,expired,minOsVersion,"
    "processingState,buildAudienceType,preReleaseVersion,buildBetaDetail",
    "fields[buildBetaDetails]": "internalBuildState,externalBuildState",
    "fields[preReleaseVersions]": "version,platform",
    "limit": 200,
}


def parse_build(page: Document, resource: Resource) -> dict[str, Any]:
    attributes = resource.attributes
    detail = page.related_one(resource, "buildBetaDetail")
    pre_release = page.related_one(resource, "preReleaseVersion")
    detail_attributes = detail.attributes if detail is not None else {}
    pre_attributes = pre_release.attributes if pre_release is not None else {}
    return {
        "apple_id": resource.id,
        "build_number": str(attributes.get("version") or "")[:64],
        "version_string": text_or_none(pre_attributes.get("version")),
        "platform": text_or_none(pre_attributes.get("platform")),
        "uploaded_at": apple_datetime(attributes.get("uploadedDate")),
        "expires_at": apple_datetime(attributes.get("expirationDate")),
        "expired": attributes.get("expired") is True,
        "processing_state": text_or_none(attributes.get("processingState")),
        "audience_type": text_or_none(attributes.get("buildAudienceType")),
        "min_os_version": text_or_none(attributes.get("minOsVersion")),
        "internal_state": text_or_none(detail_attributes.get("internalBuildState")),
        "external_state": text_or_none(detail_attributes.get("externalBuildState")),
    }


async def fetch(ctx: UnitContext, app: AppRef) -> tuple[list[dict[str, Any]], dt.datetime | None]:
    """The app's builds down to the window, and the oldest upload covered (None: all)."""
    records: list[dict[str, Any]] = []
    horizon = ctx.now - WINDOW
    async for page in ctx.client.paginate("/v1/builds", {"filter[app]": app.apple_id, **FIELDS}):
        records.extend(parse_build(page, resource) for resource in page.resources())
        oldest = min((r["uploaded_at"] for r in records if r["uploaded_at"]), default=None)
        if page.next_url() and oldest is not None and oldest < horizon:
            return unique(records), oldest
    return unique(records), None


def _events(record: dict[str, Any], before: Any, first_run: bool) -> list[Change]:
    found: list[Change] = []
    state = record["processing_state"]
    was = before["processing_state"] if before is not None else None
    details = {
        "build_number": record["build_number"],
        "version_string": record["version_string"],
        "platform": record["platform"],
    }
    seen_finish = was == PROCESSING or (before is None and not first_run)
    if state is not None and state != PROCESSING and seen_finish:
        found.append(
            Change(
                EventType.BUILD_PROCESSED,
                SubjectType.BUILD,
                record["apple_id"],
                was,
                state,
                details,
            )
        )
    if before is not None and record["expired"] and not before["expired"]:
        found.append(
            Change(
                EventType.BUILD_EXPIRED,
                SubjectType.BUILD,
                record["apple_id"],
                before["internal_state"],
                record["internal_state"] or "EXPIRED",
                details,
            )
        )
    return found


async def sync_app(ctx: UnitContext, app: AppRef) -> int:
    session, now = ctx.session, ctx.now
    await lock_app(session, DATASET, app)
    records, covered_from = await fetch(ctx, app)
    previous = await bulk.stored(
        session, Build, scope=app.scope, columns=("processing_state", "expired", "internal_state")
    )
    events = [
        change
        for record in records
        for change in _events(record, previous.get(record["apple_id"]), app.synced_at is None)
    ]
    rows = [{**app.owned(), **record} for record in records]
    ids = await bulk.upsert(session, Build, rows, conflict=("app_id", "apple_id"), now=now)
    await changes.record(session, app, events, ids, now)
    if covered_from is None:
        await bulk.mark_removed(session, Build, scope=app.scope, seen=ids, now=now)
    else:
        await bulk.mark_removed(
            session,
            Build,
            scope=app.scope,
            seen=ids,
            now=now,
            extra_condition="AND uploaded_at >= :covered_from",
            params={"covered_from": covered_from},
        )
    await repository.mark_synced(session, app.id, MARKER, now)
    return len(rows)


def dataset(listing: AppListing) -> Dataset:
    return per_app_dataset(DATASET, MARKER, sync_app, listing, capability="testflight")

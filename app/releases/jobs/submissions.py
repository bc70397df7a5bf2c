"""The ``review_submissions`` dataset: each app's App Review submissions.

One request per app: ``/v1/reviewSubmissions?filter[app]=`` (Apple requires the filter) with
``include=items,submittedByActor``; the actor is reduced to its type (user, API key, Xcode
Cloud, Apple). Event: ``review_submission_state_changed`` on every state change.
"""

from __future__ import annotations

from typing import Any

from app.asc.client import Params
from app.asc.jsonapi import Document, Resource
from app.models import ReviewSubmission
from app.resources import bulk, changes, repository
from app.resources.app_list import AppListing
from app.resources.changes import Change, EventType, SubjectType
from app.resources.units import (
    AppRef,
    apple_datetime,
    lock_app,
    per_app_dataset,
    text_or_none,
    unique,
)
from app.sync.contract import Dataset, UnitContext

DATASET = "review_submissions"
MARKER: repository.SyncMarker = "submissions_synced_at"
PARAMS: Params = {
    "include": "items,submittedByActor",
    "fields[reviewSubmissions]": "platform,submittedDate,state,items,appStoreVersionForReview,"
    "submittedByActor",
    "fields[reviewSubmissionItems]": "state,appStoreVersion",
    "fields[actors]": "actorType",
    "limit[items]": 50,
    "limit": 200,
}


def parse_submission(page: Document, resource: Resource) -> dict[str, Any]:
    attributes = resource.attributes
    actor = page.related_one(resource, "submittedByActor")
    versions = resource.relationship_ids("appStoreVersionForReview")
    items = []
    for item in page.related_many(resource, "items"):
        item_versions = item.relationship_ids("appStoreVersion")
        items.append(
            {
                "apple_id": item.id,
                "state": text_or_none(item.attributes.get("state")),
                "app_store_version_apple_id": item_versions[0][1] if item_versions else None,
            }
        )
    return {
        "apple_id": resource.id,
        "platform": text_or_none(attributes.get("platform")),
        "state": text_or_none(attributes.get("state")),
        "submitted_date": apple_datetime(attributes.get("submittedDate")),
        "submitted_by_actor_type": (
            text_or_none(actor.attributes.get("actorType")) if actor is not None else None
        ),
        "version_apple_id": versions[0][1] if versions else None,
        "items": items,
    }


async def sync_app(ctx: UnitContext, app: AppRef) -> int:
    session, now = ctx.session, ctx.now
    await lock_app(session, DATASET, app)
    records = unique(
        [
            parse_submission(page, resource)
            async for page in ctx.client.paginate(
                "/v1/reviewSubmissions", {"filter[app]": app.apple_id, **PARAMS}
            )
            for resource in page.resources()
        ]
    )
    previous = await bulk.stored(session, ReviewSubmission, scope=app.scope, columns=("state",))
    events = []
    for record in records:
        before = previous.get(record["apple_id"])
        was = before["state"] if before is not None else None
        if (before is None and app.synced_at is None) or (
            before is not None and was == record["state"]
        ):
            continue
        events.append(
            Change(
                EventType.REVIEW_SUBMISSION_STATE_CHANGED,
                SubjectType.REVIEW_SUBMISSION,
                record["apple_id"],
                was,
                record["state"],
                {
                    "platform": record["platform"],
                    "submitted_date": record["submitted_date"],
                    "version_apple_id": record["version_apple_id"],
                },
            )
        )
    rows = [{**app.owned(), **record} for record in records]
    ids = await bulk.upsert(
        session, ReviewSubmission, rows, conflict=("app_id", "apple_id"), now=now
    )
    await changes.record(session, app, events, ids, now)
    await bulk.mark_removed(session, ReviewSubmission, scope=app.scope, seen=ids, now=now)
    await repository.mark_synced(session, app.id, MARKER, now)
    return len(rows)


def dataset(listing: AppListing) -> Dataset:
    return per_app_dataset(DATASET, MARKER, sync_app, listing)

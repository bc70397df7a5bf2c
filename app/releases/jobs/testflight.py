"""The ``testflight`` dataset: each app's beta groups and beta testers.

Two requests per app: ``/v1/betaGroups?filter[app]=`` (sparse fields, 200 a page) and
``/v1/betaTesters?filter[apps]=`` with ``include=betaGroups`` for group membership (only the
ids are used, so the included groups carry just their name). Apple's testers belong to the
team; Orchard keeps one row per (app, tester) with the app's groups the tester is in.
Event: ``tester_accepted`` when a tester's state becomes ACCEPTED or INSTALLED.
"""

from __future__ import annotations

from typing import Any

from app.asc.client import Params
from app.asc.jsonapi import Resource
from app.models import BetaGroup, BetaTester
from app.resources import bulk, changes, repository
from app.resources.app_list import AppListing
from app.resources.changes import ACCEPTED_STATES, Change, EventType, SubjectType
from app.resources.units import (
    AppRef,
    apple_datetime,
    bool_or_none,
    int_or_none,
    lock_app,
    per_app_dataset,
    text_or_none,
    unique,
)
from app.sync.contract import Dataset, UnitContext

DATASET = "testflight"
MARKER: repository.SyncMarker = "testflight_synced_at"
GROUP_PARAMS: Params = {
    "fields[betaGroups]": "name,createdDate,isInternalGroup,hasAccessToAllBuilds,"
    "publicLinkEnabled,publicLink,publicLinkLimitEnabled,publicLinkLimit,feedbackEnabled",
    "limit": 200,
}
TESTER_PARAMS: Params = {
    "include": "betaGroups",
    "fields[betaTesters]": "firstName,lastName,email,inviteType,state,betaGroups",
    "fields[betaGroups]": "name",
    # A tester is in a handful of groups; 50 (Apple's maximum) covers any real team.
    "limit[betaGroups]": 50,
    "limit": 200,
}


def parse_group(resource: Resource) -> dict[str, Any]:
    attributes = resource.attributes
    return {
        "apple_id": resource.id,
        "name": str(attributes.get("name") or "")[:255],
        "is_internal": attributes.get("isInternalGroup") is True,
        "has_access_to_all_builds": bool_or_none(attributes.get("hasAccessToAllBuilds")),
        "public_link_enabled": bool_or_none(attributes.get("publicLinkEnabled")),
        "public_link": text_or_none(attributes.get("publicLink")),
        "public_link_limit_enabled": bool_or_none(attributes.get("publicLinkLimitEnabled")),
        "public_link_limit": int_or_none(attributes.get("publicLinkLimit")),
        "feedback_enabled": bool_or_none(attributes.get("feedbackEnabled")),
        "created_date": apple_datetime(attributes.get("createdDate")),
    }


def parse_tester(resource: Resource, app_groups: set[str]) -> dict[str, Any]:
    attributes = resource.attributes
    groups = [gid for kind, gid in resource.relationship_ids("betaGroups") if gid in app_groups]
    return {
        "apple_id": resource.id,
        "first_name": text_or_none(attributes.get("firstName")),
        "last_name": text_or_none(attributes.get("lastName")),
        "email": text_or_none(attributes.get("email")),
        "invite_type": text_or_none(attributes.get("inviteType")),
        "state": text_or_none(attributes.get("state")),
        "group_apple_ids": sorted(groups),
    }


def _accepted(record: dict[str, Any], before: Any, first_run: bool) -> Change | None:
    was = before["state"] if before is not None else None
    if record["state"] not in ACCEPTED_STATES or was in ACCEPTED_STATES:
        return None
    if before is None and first_run:
        return None
    details = {key: record[key] for key in ("email", "first_name", "last_name", "invite_type")}
    return Change(
        EventType.TESTER_ACCEPTED,
        SubjectType.BETA_TESTER,
        record["apple_id"],
        was,
        record["state"],
        details,
    )


async def sync_app(ctx: UnitContext, app: AppRef) -> int:
    session, now, client = ctx.session, ctx.now, ctx.client
    await lock_app(session, DATASET, app)
    groups = unique(
        [
            parse_group(resource)
            async for page in client.paginate(
                "/v1/betaGroups", {"filter[app]": app.apple_id, **GROUP_PARAMS}
            )
            for resource in page.resources()
        ]
    )
    group_ids = {group["apple_id"] for group in groups}
    testers = unique(
        [
            parse_tester(resource, group_ids)
            async for page in client.paginate(
                "/v1/betaTesters", {"filter[apps]": app.apple_id, **TESTER_PARAMS}
            )
            for resource in page.resources()
        ]
    )
    previous = await bulk.stored(session, BetaTester, scope=app.scope, columns=("state",))
    first_run = app.synced_at is None
    events = [
        change
        for record in testers
        if (change := _accepted(record, previous.get(record["apple_id"]), first_run)) is not None
    ]
    conflict = ("app_id", "apple_id")
    group_rows = [{**app.owned(), **group} for group in groups]
    seen_groups = await bulk.upsert(session, BetaGroup, group_rows, conflict=conflict, now=now)
    await bulk.mark_removed(session, BetaGroup, scope=app.scope, seen=seen_groups, now=now)
    tester_rows = [{**app.owned(), **tester} for tester in testers]
    ids = await bulk.upsert(session, BetaTester, tester_rows, conflict=conflict, now=now)
    await bulk.mark_removed(session, BetaTester, scope=app.scope, seen=ids, now=now)
    await changes.record(session, app, events, ids, now)
    await repository.mark_synced(session, app.id, MARKER, now)
    return len(group_rows) + len(tester_rows)


def dataset(listing: AppListing) -> Dataset:
    return per_app_dataset(DATASET, MARKER, sync_app, listing, capability="testflight")

"""The ``app_versions`` dataset: every App Store version of each app, with its state history.

One request per app (``include=build,appStoreVersionPhasedRelease`` and sparse fields, 200 a
page). Each run compares the states with what the previous run stored and appends one
``app_version_state_changes`` row per change — and per version seen for the first time, with
``from_state`` null — plus one event per change (see :mod:`app.resources.changes`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from app.asc.client import Params
from app.asc.jsonapi import Document, Resource
from app.models import AppVersion, AppVersionStateChange
from app.resources import bulk, changes, repository
from app.resources.app_list import AppListing
from app.resources.changes import Change, EventType, SubjectType
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

DATASET = "app_versions"
MARKER: repository.SyncMarker = "versions_synced_at"
PARAMS: Params = {
    "include": "build,appStoreVersionPhasedRelease",
    "fields[appStoreVersions]": "platform,versionString,appStoreState,appVersionState,"
    "releaseType,earliestReleaseDate,downloadable,createdDate,build,appStoreVersionPhasedRelease",
    "fields[builds]": "version",
    "fields[appStoreVersionPhasedReleases]": "phasedReleaseState,startDate,currentDayNumber",
    "limit": 200,
}


@dataclass(frozen=True)
class VersionState:
    version: str | None  # appVersionState
    store: str | None  # the deprecated appStoreState

    @property
    def primary(self) -> str | None:
        """The state to report: Apple's current field, the deprecated one as a fallback."""
        return self.version or self.store


def parse_version(page: Document, resource: Resource) -> dict[str, Any]:
    attributes = resource.attributes
    build = page.related_one(resource, "build")
    phased = page.related_one(resource, "appStoreVersionPhasedRelease")
    build_ids = resource.relationship_ids("build")
    phased_attributes = phased.attributes if phased is not None else {}
    return {
        "apple_id": resource.id,
        "platform": text_or_none(attributes.get("platform")) or "UNKNOWN",
        "version_string": str(attributes.get("versionString") or "")[:64],
        "app_version_state": text_or_none(attributes.get("appVersionState")),
        "app_store_state": text_or_none(attributes.get("appStoreState")),
        "release_type": text_or_none(attributes.get("releaseType")),
        "earliest_release_date": apple_datetime(attributes.get("earliestReleaseDate")),
        "created_date": apple_datetime(attributes.get("createdDate")),
        "downloadable": bool_or_none(attributes.get("downloadable")),
        "build_apple_id": build_ids[0][1] if build_ids else None,
        "build_number": text_or_none(build.attributes.get("version")) if build else None,
        "phased_release_state": text_or_none(phased_attributes.get("phasedReleaseState")),
        "phased_release_start_date": apple_datetime(phased_attributes.get("startDate")),
        "phased_release_day": int_or_none(phased_attributes.get("currentDayNumber")),
    }


def _state_of(row: Mapping[str, Any]) -> VersionState:
    return VersionState(row["app_version_state"], row["app_store_state"])


async def sync_app(ctx: UnitContext, app: AppRef) -> int:
    session, now = ctx.session, ctx.now
    await lock_app(session, DATASET, app)
    records = unique(
        [
            parse_version(page, resource)
            async for page in ctx.client.paginate(
                f"/v1/apps/{app.apple_id}/appStoreVersions", PARAMS
            )
            for resource in page.resources()
        ]
    )
    previous = await bulk.stored(
        session,
        AppVersion,
        scope=app.scope,
        columns=("app_version_state", "app_store_state", "state_since", "state_since_observed"),
    )
    rows: list[dict[str, Any]] = []
    history: list[tuple[str, VersionState | None, VersionState]] = []
    events: list[Change] = []
    for record in records:
        state, before = _state_of(record), previous.get(record["apple_id"])
        old = _state_of(before) if before is not None else None
        if old == state:
            assert before is not None
            since, observed = before["state_since"], before["state_since_observed"]
        else:
            # Seen entering this state now; a first sighting only says "at least since now".
            since, observed = now, old is not None
            history.append((record["apple_id"], old, state))
            if old is not None or app.synced_at is not None:
                events.append(
                    Change(
                        type=EventType.VERSION_STATE_CHANGED,
                        subject_type=SubjectType.APP_VERSION,
                        subject_apple_id=record["apple_id"],
                        from_state=old.primary if old else None,
                        to_state=state.primary,
                        details={
                            "platform": record["platform"],
                            "version_string": record["version_string"],
                            "from_app_store_state": old.store if old else None,
                            "to_app_store_state": state.store,
                        },
                    )
                )
        rows.append(
            {**app.owned(), **record, "state_since": since, "state_since_observed": observed}
        )
    ids = await bulk.upsert(session, AppVersion, rows, conflict=("app_id", "apple_id"), now=now)
    await bulk.insert(
        session,
        AppVersionStateChange,
        [
            {
                "workspace_id": app.workspace_id,
                "account_id": app.account_id,
                "version_id": ids[apple_id],
                "from_state": old.version if old else None,
                "to_state": new.version,
                "from_store_state": old.store if old else None,
                "to_store_state": new.store,
                "observed_at": now,
            }
            for apple_id, old, new in history
        ],
    )
    await changes.record(session, app, events, ids, now)
    await bulk.mark_removed(session, AppVersion, scope=app.scope, seen=ids, now=now)
    await repository.mark_synced(session, app.id, MARKER, now)
    return len(rows)


def dataset(listing: AppListing) -> Dataset:
    return per_app_dataset(DATASET, MARKER, sync_app, listing)

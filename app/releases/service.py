"""Versions with their history, builds, TestFlight, review submissions and the review queue.

Every read resolves the app (or the account) in the caller's workspace first: another
workspace's app answers 404.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.base import Base
from app.errors import NotFound, ValidationFailed
from app.kit import cursors
from app.kit.pagination import Page, PageRequest
from app.models import AppVersion, AppVersionStateChange
from app.releases import repository as release_repository
from app.releases.schemas import (
    BetaFeedbackRead,
    BetaGroupRead,
    BetaTesterRead,
    BuildRead,
    GroupRef,
    PhasedReleaseRead,
    QueueApp,
    ReviewQueueEntry,
    ReviewSubmissionRead,
    ReviewTimingRead,
    StateChangeRead,
    SubmissionItemRead,
    VersionRead,
    VersionRef,
)
from app.reports.query import get_app
from app.resources.versions import version_summary


def _uploaded_key(row: Any) -> list[Any]:
    return [_iso(row[1]), str(row[0].id)]


def _iso(moment: dt.datetime) -> str:
    return moment.isoformat()


def _seconds(start: dt.datetime | None, end: dt.datetime | None) -> int | None:
    return int((end - start).total_seconds()) if start and end else None


def _apple_submitted(
    submitted_dates: list[dt.datetime], after: dt.datetime | None, by: dt.datetime | None
) -> dt.datetime | None:
    """Apple's ``submittedDate`` for a review round: the latest one after the previous round
    ended and no later than Orchard first saw the round (``by``). A date outside that window
    belongs to another round (after a rejection Apple may keep the *first* submission's date,
    FACTS §4.9: unconfirmed), so it is not used."""
    if by is None:
        return None
    fitting = [d for d in submitted_dates if d <= by and (after is None or d > after)]
    return max(fitting) if fitting else None


def review_timing(
    history: list[AppVersionStateChange], submitted_dates: list[dt.datetime] | None = None
) -> ReviewTimingRead | None:
    """The latest review round in ``history`` (oldest first). Polling only sees a state
    within one sync interval of its start, so the submission moment is Apple's own
    ``submittedDate`` when a review submission of the version has one for this round (Apple
    gives no timestamp for the other states); otherwise the observed moment. A first
    observation says nothing about when its state began."""
    submitted = started = ended = None
    outcome = None
    previous_end: dt.datetime | None = None
    for change in history:
        if change.from_state is None:
            continue
        if change.to_state == "WAITING_FOR_REVIEW":
            if ended is not None:
                previous_end = ended
            submitted, started, ended, outcome = change.observed_at, None, None, None
        elif change.to_state == "IN_REVIEW":
            if submitted is None and ended is not None:
                previous_end = ended
            started, ended, outcome = change.observed_at, None, None
        elif change.from_state == "IN_REVIEW":
            ended, outcome = change.observed_at, change.to_state
    if submitted is None and started is None:
        return None
    apple = _apple_submitted(submitted_dates or [], previous_end, submitted or started)
    return ReviewTimingRead(
        submitted_at=apple or submitted,
        submitted_source="apple" if apple is not None else ("observed" if submitted else None),
        review_started_at=started,
        review_ended_at=ended,
        outcome=outcome,
        waited_seconds=_seconds(apple or submitted, started),
        reviewed_seconds=_seconds(started, ended),
    )


def _version_read(
    version: AppVersion,
    history: list[AppVersionStateChange],
    submitted_dates: list[dt.datetime] | None = None,
) -> VersionRead:
    phased = None
    if version.phased_release_state is not None:
        phased = PhasedReleaseRead(
            state=version.phased_release_state,
            start_date=version.phased_release_start_date,
            current_day=version.phased_release_day,
        )
    return VersionRead(
        **version_summary(version).model_dump(),
        app_id=version.app_id,
        release_type=version.release_type,
        earliest_release_date=version.earliest_release_date,
        downloadable=version.downloadable,
        build_apple_id=version.build_apple_id,
        phased_release=phased,
        first_seen_at=version.first_seen_at,
        last_seen_at=version.last_seen_at,
        removed_at=version.removed_at,
        history=[
            StateChangeRead(
                from_state=change.from_state,
                to_state=change.to_state,
                from_app_store_state=change.from_store_state,
                to_app_store_state=change.to_store_state,
                observed_at=change.observed_at,
            )
            for change in history
        ],
        review=review_timing(history, submitted_dates),
    )


async def list_versions(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    app_id: uuid.UUID,
    *,
    platform: str | None,
    state: str | None,
    include_removed: bool,
    paging: PageRequest,
) -> Page[VersionRead]:
    rows = await release_repository.list_versions(
        session,
        workspace_id,
        app_id,
        platform=platform,
        state=state,
        include_removed=include_removed,
        after=paging.after(cursors.moment, cursors.UUID),
        limit=paging.fetch,
    )
    if not rows:
        await get_app(session, workspace_id, app_id)  # no such app is a 404, not an empty list
    page, next_cursor = paging.split(rows, _uploaded_key)
    histories = await release_repository.histories(session, [v.id for v, _, _ in page])
    return Page(
        items=[_version_read(v, histories[v.id], submitted) for v, _, submitted in page],
        next_cursor=next_cursor,
    )


async def list_builds(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    app_id: uuid.UUID,
    *,
    processing_state: str | None,
    expired: bool | None,
    include_removed: bool,
    paging: PageRequest,
) -> Page[BuildRead]:
    app = await get_app(session, workspace_id, app_id)
    rows = await release_repository.list_builds(
        session,
        app.id,
        processing_state=processing_state,
        expired=expired,
        include_removed=include_removed,
        after=paging.after(cursors.moment, cursors.UUID),
        limit=paging.fetch,
    )
    return paging.page_of(
        rows, lambda row: [_iso(row[1]), str(row[0].id)], BuildRead, lambda row: row[0]
    )


async def list_groups(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    app_id: uuid.UUID,
    *,
    include_removed: bool,
    paging: PageRequest,
) -> Page[BetaGroupRead]:
    app = await get_app(session, workspace_id, app_id)
    rows = await release_repository.list_groups(
        session,
        app.id,
        include_removed=include_removed,
        after=paging.after(cursors.TEXT, cursors.UUID),
        limit=paging.fetch,
    )
    page, next_cursor = paging.split(rows, lambda row: [row[0].name, str(row[0].id)])
    items = [
        BetaGroupRead.model_validate({**_columns(group), "tester_count": count})
        for group, count in page
    ]
    return Page(items=items, next_cursor=next_cursor)


def _columns(row: Base) -> dict[str, Any]:
    """A row's column values by attribute name (for read models with extra fields)."""
    return {attr.key: getattr(row, attr.key) for attr in inspect(row).mapper.column_attrs}


async def list_testers(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    app_id: uuid.UUID,
    *,
    state: str | None,
    group_id: uuid.UUID | None,
    include_removed: bool,
    paging: PageRequest,
) -> Page[BetaTesterRead]:
    found = await release_repository.groups_of_app(session, workspace_id, app_id)
    if found is None:
        raise NotFound(f"no app with id {app_id}")
    groups = {group.apple_id: group for group in found}
    group_apple_id = None
    if group_id is not None:
        match = [g for g in groups.values() if g.id == group_id]
        if not match:
            raise NotFound(f"no beta group with id {group_id} in this app")
        group_apple_id = match[0].apple_id
    rows = await release_repository.list_testers(
        session,
        app_id,
        state=state,
        group_apple_id=group_apple_id,
        include_removed=include_removed,
        after=paging.after(cursors.TEXT, cursors.TEXT, cursors.UUID),
        limit=paging.fetch,
    )
    page, next_cursor = paging.split(
        rows, lambda t: [t.last_name or "", t.first_name or "", str(t.id)]
    )
    items = [
        BetaTesterRead(
            **{k: v for k, v in _columns(tester).items() if k != "group_apple_ids"},
            groups=[
                GroupRef(id=groups[g].id, apple_id=g, name=groups[g].name)
                for g in tester.group_apple_ids
                if g in groups
            ],
        )
        for tester in page
    ]
    return Page(items=items, next_cursor=next_cursor)


async def list_submissions(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    app_id: uuid.UUID,
    *,
    state: str | None,
    include_removed: bool,
    paging: PageRequest,
) -> Page[ReviewSubmissionRead]:
    rows = await release_repository.list_submissions(
        session,
        workspace_id,
        app_id,
        state=state,
        include_removed=include_removed,
        after=paging.after(cursors.moment, cursors.UUID),
        limit=paging.fetch,
    )
    if not rows:
        await get_app(session, workspace_id, app_id)  # no such app is a 404, not an empty list
    page, next_cursor = paging.split(rows, _uploaded_key)
    items = []
    for submission, _, version in page:
        items.append(
            ReviewSubmissionRead(
                **{k: v for k, v in _columns(submission).items() if k != "items"},
                version=(
                    VersionRef(
                        id=version.id,
                        apple_id=version.apple_id,
                        version_string=version.version_string,
                        platform=version.platform,
                    )
                    if version is not None
                    else None
                ),
                items=[SubmissionItemRead.model_validate(item) for item in submission.items],
            )
        )
    return Page(items=items, next_cursor=next_cursor)


async def review_queue(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    *,
    account_id: uuid.UUID | None,
    state: str | None,
    platform: str | None,
    paging: PageRequest,
    now: dt.datetime,
) -> Page[ReviewQueueEntry]:
    rows = await release_repository.review_queue(
        session,
        workspace_id,
        account_id=account_id,
        state=state,
        platform=platform,
        after=paging.after(cursors.moment, cursors.UUID),
        limit=paging.fetch,
    )
    page, next_cursor = paging.split(rows, lambda row: [_iso(row[0].state_since), str(row[0].id)])
    items = [
        ReviewQueueEntry(
            app=QueueApp(
                id=app.id,
                account_id=app.account_id,
                apple_id=app.apple_id,
                name=app.name,
                bundle_id=app.bundle_id,
            ),
            version=VersionRef(
                id=version.id,
                apple_id=version.apple_id,
                version_string=version.version_string,
                platform=version.platform,
            ),
            state=version.app_version_state or version.app_store_state or "",
            state_since=version.state_since,
            state_since_observed=version.state_since_observed,
            seconds_in_state=max(0, int((now - version.state_since).total_seconds())),
            submitted_date=submitted,
        )
        for version, app, submitted in page
    ]
    return Page(items=items, next_cursor=next_cursor)


async def list_feedback(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    app_id: uuid.UUID,
    *,
    kind: str | None,
    build_id: uuid.UUID | None,
    start: dt.datetime | None,
    end: dt.datetime | None,
    paging: PageRequest,
) -> Page[BetaFeedbackRead]:
    app = await get_app(session, workspace_id, app_id)
    if start is not None and end is not None and start >= end:
        raise ValidationFailed.single("query.from", "must be before 'to'", "out_of_range")
    build_apple_id = None
    if build_id is not None:
        build_apple_id = await release_repository.build_apple_id(session, app.id, build_id)
        if build_apple_id is None:
            return Page(items=[], next_cursor=None)  # not this app's build: nothing
    rows = await release_repository.list_feedback(
        session,
        app.id,
        kind=kind,
        build_apple_id=build_apple_id,
        start=start,
        end=end,
        after=paging.after(cursors.moment, cursors.UUID),
        limit=paging.fetch,
    )

    def read(row: Any) -> BetaFeedbackRead:
        item = BetaFeedbackRead.model_validate(row[0])
        item.build_id = row[1]
        return item

    return paging.page(rows, lambda row: [_iso(row[0].submitted_at), str(row[0].id)], read)

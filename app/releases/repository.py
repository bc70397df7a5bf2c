"""SQL for versions, builds, TestFlight and review submissions (reads for the API)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, func, select, tuple_
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import (
    App,
    AppVersion,
    AppVersionStateChange,
    AscAccount,
    BetaFeedback,
    BetaGroup,
    BetaTester,
    Build,
    ReviewSubmission,
)
from app.resources.versions import build_order, version_order, version_state

IN_REVIEW_STATES = ("WAITING_FOR_REVIEW", "IN_REVIEW")


def _submission_order() -> ColumnElement[dt.datetime]:
    return func.coalesce(ReviewSubmission.submitted_date, ReviewSubmission.first_seen_at)


def _before(key: ColumnElement[Any], row_id: Any, after: Sequence[Any]) -> ColumnElement[bool]:
    """Keyset condition for lists ordered newest first: rows after the cursor's row."""
    return tuple_(key, row_id) < tuple_(*after)


# --- versions -------------------------------------------------------------------------------


async def list_versions(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    app_id: uuid.UUID,
    *,
    platform: str | None,
    state: str | None,
    include_removed: bool,
    after: Sequence[Any] | None,
    limit: int,
) -> list[tuple[AppVersion, dt.datetime, list[dt.datetime]]]:
    """The page of versions, each with Apple's ``submittedDate`` of every review submission of
    it (oldest first), in one statement."""
    key = version_order()
    submitted = (
        select(
            func.array_agg(
                aggregate_order_by(ReviewSubmission.submitted_date, ReviewSubmission.submitted_date)
            )
        )
        .where(
            ReviewSubmission.app_id == AppVersion.app_id,
            ReviewSubmission.version_apple_id == AppVersion.apple_id,
            ReviewSubmission.submitted_date.is_not(None),
        )
        .scalar_subquery()
    )
    statement = select(AppVersion, key, submitted).where(
        AppVersion.app_id == app_id, AppVersion.workspace_id == workspace_id
    )
    if platform is not None:
        statement = statement.where(AppVersion.platform == platform)
    if state is not None:
        statement = statement.where(version_state() == state)
    if not include_removed:
        statement = statement.where(AppVersion.removed_at.is_(None))
    if after is not None:
        statement = statement.where(_before(key, AppVersion.id, after))
    statement = statement.order_by(key.desc(), AppVersion.id.desc()).limit(limit)
    return [(row, key, dates or []) for row, key, dates in await session.execute(statement)]


async def histories(
    session: AsyncSession, version_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[AppVersionStateChange]]:
    rows = await session.scalars(
        select(AppVersionStateChange)
        .where(AppVersionStateChange.version_id.in_(version_ids))
        .order_by(AppVersionStateChange.observed_at, AppVersionStateChange.id)
    )
    found: dict[uuid.UUID, list[AppVersionStateChange]] = {vid: [] for vid in version_ids}
    for row in rows:
        found[row.version_id].append(row)
    return found


# --- builds ---------------------------------------------------------------------------------


async def list_builds(
    session: AsyncSession,
    app_id: uuid.UUID,
    *,
    processing_state: str | None,
    expired: bool | None,
    include_removed: bool,
    after: Sequence[Any] | None,
    limit: int,
) -> list[tuple[Build, dt.datetime]]:
    key = build_order()
    statement = select(Build, key).where(Build.app_id == app_id)
    if processing_state is not None:
        statement = statement.where(Build.processing_state == processing_state)
    if expired is not None:
        statement = statement.where(Build.expired.is_(expired))
    if not include_removed:
        statement = statement.where(Build.removed_at.is_(None))
    if after is not None:
        statement = statement.where(_before(key, Build.id, after))
    statement = statement.order_by(key.desc(), Build.id.desc()).limit(limit)
    return [(row, key) for row, key in await session.execute(statement)]


# --- TestFlight -----------------------------------------------------------------------------


async def list_groups(
    session: AsyncSession,
    app_id: uuid.UUID,
    *,
    include_removed: bool,
    after: Sequence[Any] | None,
    limit: int,
) -> list[tuple[BetaGroup, int]]:
    testers = (
        select(func.count())
        .where(
            BetaTester.app_id == BetaGroup.app_id,
            BetaTester.removed_at.is_(None),
            BetaGroup.apple_id == func.any(BetaTester.group_apple_ids),
        )
        .correlate(BetaGroup)
        .scalar_subquery()
    )
    statement = select(BetaGroup, testers).where(BetaGroup.app_id == app_id)
    if not include_removed:
        statement = statement.where(BetaGroup.removed_at.is_(None))
    if after is not None:
        statement = statement.where(tuple_(BetaGroup.name, BetaGroup.id) > tuple_(*after))
    statement = statement.order_by(BetaGroup.name, BetaGroup.id).limit(limit)
    return [(group, int(count)) for group, count in await session.execute(statement)]


def _tester_key() -> tuple[ColumnElement[str], ColumnElement[str]]:
    return func.coalesce(BetaTester.last_name, ""), func.coalesce(BetaTester.first_name, "")


async def list_testers(
    session: AsyncSession,
    app_id: uuid.UUID,
    *,
    state: str | None,
    group_apple_id: str | None,
    include_removed: bool,
    after: Sequence[Any] | None,
    limit: int,
) -> list[BetaTester]:
    last, first = _tester_key()
    statement = select(BetaTester).where(BetaTester.app_id == app_id)
    if state is not None:
        statement = statement.where(BetaTester.state == state)
    if group_apple_id is not None:
        statement = statement.where(BetaTester.group_apple_ids.contains([group_apple_id]))
    if not include_removed:
        statement = statement.where(BetaTester.removed_at.is_(None))
    if after is not None:
        statement = statement.where(tuple_(last, first, BetaTester.id) > tuple_(*after))
    statement = statement.order_by(last, first, BetaTester.id).limit(limit)
    return list(await session.scalars(statement))


async def groups_of_app(
    session: AsyncSession, workspace_id: uuid.UUID, app_id: uuid.UUID
) -> list[BetaGroup] | None:
    """The app's beta groups; None when the workspace has no such app (one statement)."""
    rows = (
        await session.execute(
            select(App.id, BetaGroup)
            .select_from(App)
            .outerjoin(BetaGroup, BetaGroup.app_id == App.id)
            .where(App.id == app_id, App.workspace_id == workspace_id)
        )
    ).all()
    if not rows:
        return None
    return [group for _, group in rows if group is not None]


# --- review submissions ---------------------------------------------------------------------


async def list_submissions(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    app_id: uuid.UUID,
    *,
    state: str | None,
    include_removed: bool,
    after: Sequence[Any] | None,
    limit: int,
) -> list[tuple[ReviewSubmission, dt.datetime, AppVersion | None]]:
    """The page of submissions, each with the version under review (if Orchard has it)."""
    key = _submission_order()
    statement = (
        select(ReviewSubmission, key, AppVersion)
        .outerjoin(
            AppVersion,
            (AppVersion.app_id == ReviewSubmission.app_id)
            & (AppVersion.apple_id == ReviewSubmission.version_apple_id),
        )
        .where(ReviewSubmission.app_id == app_id, ReviewSubmission.workspace_id == workspace_id)
    )
    if state is not None:
        statement = statement.where(ReviewSubmission.state == state)
    if not include_removed:
        statement = statement.where(ReviewSubmission.removed_at.is_(None))
    if after is not None:
        statement = statement.where(_before(key, ReviewSubmission.id, after))
    statement = statement.order_by(key.desc(), ReviewSubmission.id.desc()).limit(limit)
    return [(row, key, version) for row, key, version in await session.execute(statement)]


# --- the review queue -----------------------------------------------------------------------


async def review_queue(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    *,
    account_id: uuid.UUID | None,
    state: str | None,
    platform: str | None,
    after: Sequence[Any] | None,
    limit: int,
) -> list[tuple[AppVersion, App, dt.datetime | None]]:
    """Versions waiting for or in App Review, longest in their state first. Apps Apple no
    longer lists and unlinked accounts (whose data is no longer refreshed) are left out."""
    submitted = (
        select(func.max(ReviewSubmission.submitted_date))
        .where(
            ReviewSubmission.app_id == AppVersion.app_id,
            ReviewSubmission.version_apple_id == AppVersion.apple_id,
            ReviewSubmission.removed_at.is_(None),
        )
        .correlate(AppVersion)
        .scalar_subquery()
    )
    statement = (
        select(AppVersion, App, submitted)
        .join(App, App.id == AppVersion.app_id)
        .join(AscAccount, AscAccount.id == AppVersion.account_id)
        .where(
            AppVersion.workspace_id == workspace_id,
            AppVersion.removed_at.is_(None),
            App.removed_at.is_(None),
            AscAccount.unlinked_at.is_(None),
            version_state().in_([state] if state else IN_REVIEW_STATES),
        )
    )
    if account_id is not None:
        statement = statement.where(AppVersion.account_id == account_id)
    if platform is not None:
        statement = statement.where(AppVersion.platform == platform)
    if after is not None:
        statement = statement.where(tuple_(AppVersion.state_since, AppVersion.id) > tuple_(*after))
    statement = statement.order_by(AppVersion.state_since, AppVersion.id).limit(limit)
    return [(version, app, sent) for version, app, sent in await session.execute(statement)]


# --- TestFlight feedback --------------------------------------------------------------------


async def list_feedback(
    session: AsyncSession,
    app_id: uuid.UUID,
    *,
    kind: str | None,
    build_apple_id: str | None,
    start: dt.datetime | None,
    end: dt.datetime | None,
    after: Sequence[Any] | None,
    limit: int,
) -> list[tuple[BetaFeedback, uuid.UUID | None]]:
    build_id = (
        select(Build.id)
        .where(Build.app_id == BetaFeedback.app_id, Build.apple_id == BetaFeedback.build_apple_id)
        .scalar_subquery()
    )
    statement = select(BetaFeedback, build_id).where(BetaFeedback.app_id == app_id)
    if kind is not None:
        statement = statement.where(BetaFeedback.kind == kind)
    if build_apple_id is not None:
        statement = statement.where(BetaFeedback.build_apple_id == build_apple_id)
    if start is not None:
        statement = statement.where(BetaFeedback.submitted_at >= start)
    if end is not None:
        statement = statement.where(BetaFeedback.submitted_at < end)
    if after is not None:
        submitted: ColumnElement[Any] = BetaFeedback.submitted_at.expression
        statement = statement.where(_before(submitted, BetaFeedback.id, after))
    statement = statement.order_by(BetaFeedback.submitted_at.desc(), BetaFeedback.id.desc())
    return [(row, build) for row, build in await session.execute(statement.limit(limit))]


async def build_apple_id(
    session: AsyncSession, app_id: uuid.UUID, build_id: uuid.UUID
) -> str | None:
    return await session.scalar(
        select(Build.apple_id).where(Build.app_id == app_id, Build.id == build_id)
    )

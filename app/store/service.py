"""Rules of the store API: tracking, storefronts, and reading snapshots back. Every read is
scoped to what the caller's workspace tracks, in the storefronts it follows."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.errors import Conflict, NotFound, ValidationFailed
from app.kit import cursors
from app.kit.pagination import PageRequest
from app.reports.query import date_range
from app.store import history, repository, storefronts
from app.store.schemas import (
    MAX_STOREFRONTS,
    StorefrontsRead,
    StoreRatingPoint,
    StoreRatings,
    StoreRatingsCountry,
    TrackedAppCreate,
    TrackedAppRead,
)

MAX_DAYS = 400
DEFAULT_DAYS = 30


def tracked_read(row: Any) -> TrackedAppRead:
    return TrackedAppRead(
        id=row.id,
        apple_id=str(row.apple_id),
        name=row.name,
        linked=row.linked,
        app_id=row.app_id,
        added=row.added_manually,
        storefronts=list(row.effective_storefronts),
        storefronts_override=list(row.storefronts) if row.storefronts is not None else None,
        created_at=row.created_at,
    )


async def list_tracked(
    session: AsyncSession, workspace_id: uuid.UUID, paging: PageRequest
) -> tuple[list[TrackedAppRead], str | None]:
    after = paging.after(cursors.integer)
    rows = await repository.list_tracked(
        session, workspace_id, after[0] if after else None, paging.fetch
    )
    page, next_cursor = paging.split(rows, lambda row: [row.apple_id])
    return [tracked_read(row) for row in page], next_cursor


async def get_tracked(session: AsyncSession, workspace_id: uuid.UUID, tracked_id: uuid.UUID) -> Any:
    row = await repository.get_tracked(session, workspace_id, tracked_id=tracked_id)
    if row is None:
        raise NotFound(f"no tracked app with id {tracked_id}")
    return row


async def _workspace_effective(
    session: AsyncSession, settings: Settings, workspace_id: uuid.UUID, now: dt.datetime
) -> list[str]:
    current = await repository.storefront_settings(session, workspace_id)
    if current is not None and current.refreshed_at is not None:
        return list(current.effective_storefronts)
    effective, _ = await storefronts.refresh_workspace(session, settings, workspace_id, now)
    return effective


async def track(
    session: AsyncSession,
    settings: Settings,
    workspace_id: uuid.UUID,
    body: TrackedAppCreate,
    now: dt.datetime,
) -> TrackedAppRead:
    apple_id = int(body.apple_id)
    override = (
        storefronts.checked(body.storefronts, "body.storefronts", MAX_STOREFRONTS)
        if body.storefronts is not None
        else None
    )
    existing = await repository.get_tracked(session, workspace_id, apple_id=apple_id)
    if existing is not None and existing.added_manually:
        raise Conflict(
            f"app {apple_id} is already tracked (id {existing.id}); change its storefronts "
            "with PATCH /v1/tracked-apps/{id}",
            extensions={"tracked_app_id": str(existing.id)},
        )
    effective = override or await _workspace_effective(session, settings, workspace_id, now)
    await repository.add_tracked(session, workspace_id, apple_id, override, effective)
    row = await repository.get_tracked(session, workspace_id, apple_id=apple_id)
    return tracked_read(row)


async def set_storefronts(
    session: AsyncSession,
    settings: Settings,
    workspace_id: uuid.UUID,
    tracked_id: uuid.UUID,
    codes: list[str] | None,
    now: dt.datetime,
) -> TrackedAppRead:
    row = await get_tracked(session, workspace_id, tracked_id)
    override = (
        storefronts.checked(codes, "body.storefronts", MAX_STOREFRONTS)
        if codes is not None
        else None
    )
    effective = override or await _workspace_effective(session, settings, workspace_id, now)
    await repository.set_override(session, row.id, override, effective)
    return tracked_read(await get_tracked(session, workspace_id, tracked_id))


async def untrack(session: AsyncSession, workspace_id: uuid.UUID, tracked_id: uuid.UUID) -> None:
    row = await get_tracked(session, workspace_id, tracked_id)
    if row.linked:
        raise Conflict(
            f"app {row.apple_id} belongs to a linked account and is always tracked; "
            "PATCH its storefronts instead (null follows the workspace's)"
        )
    await repository.stop_tracking(session, row.id)


async def storefront_settings(
    session: AsyncSession, settings: Settings, workspace_id: uuid.UUID, now: dt.datetime
) -> StorefrontsRead:
    row = await repository.storefront_settings(session, workspace_id)
    if row is None or row.refreshed_at is None:
        await storefronts.refresh_workspace(session, settings, workspace_id, now)
        row = await repository.storefront_settings(session, workspace_id)
    return StorefrontsRead(
        configured=list(row.storefronts) if row.storefronts is not None else None,
        effective=list(row.effective_storefronts),
        source=row.effective_source,
        max_storefronts=settings.store_max_storefronts,
    )


async def configure_storefronts(
    session: AsyncSession,
    settings: Settings,
    workspace_id: uuid.UUID,
    codes: list[str] | None,
    now: dt.datetime,
) -> StorefrontsRead:
    chosen = None
    if codes is not None:
        chosen = storefronts.checked(codes, "body.storefronts", MAX_STOREFRONTS)
        if not chosen:
            raise ValidationFailed.single(
                "body.storefronts", "name at least one storefront, or null", "too_short"
            )
    await repository.set_configured(session, workspace_id, chosen)
    await storefronts.refresh_workspace(session, settings, workspace_id, now)
    return await storefront_settings(session, settings, workspace_id, now)


# --- reading public data -----------------------------------------------------------------------


@dataclass(frozen=True)
class Subject:
    """The app a read is about, and the storefronts the workspace follows it in."""

    id: uuid.UUID
    apple_id: int
    countries: list[str]


async def subject(session: AsyncSession, workspace_id: uuid.UUID, app_id: uuid.UUID) -> Subject:
    """``app_id`` is a catalog app (``/v1/apps``) or a tracked app (``/v1/tracked-apps``)."""
    found = await repository.store_subject(session, workspace_id, app_id)
    if found is None:
        raise NotFound(f"no app or tracked app with id {app_id}")
    return Subject(app_id, int(found.apple_id), list(found.countries))


def countries_asked(subject: Subject, country: str | None) -> list[str]:
    if country is None:
        return subject.countries
    code = country.lower()
    if code not in subject.countries:
        followed = ", ".join(subject.countries) or "none yet"
        raise ValidationFailed.single(
            "query.country",
            f"'{country}' is not a storefront followed for this app (followed: {followed})",
            "storefront",
        )
    return [code]


def day_span(start: dt.date | None, end: dt.date | None, today: dt.date) -> tuple[dt.date, dt.date]:
    end = end or today
    start = start or end - dt.timedelta(days=DEFAULT_DAYS - 1)
    span = date_range(start, end, MAX_DAYS)
    return span.start, span.end


def _float(value: Decimal | None) -> float | None:
    return float(value) if value is not None else None


def rating_point(row: Any) -> StoreRatingPoint:
    return StoreRatingPoint(
        snapshot_date=row.snapshot_date,
        status=row.status,
        rating_count=row.rating_count,
        average=_float(row.average),
        current_version_rating_count=row.current_version_rating_count,
        current_version_average=_float(row.current_version_average),
        version=row.version,
        version_released_at=row.version_released_at,
        reset_detected=row.reset_detected,
        fetched_at=row.fetched_at,
    )


async def store_ratings(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    app_id: uuid.UUID,
    *,
    start: dt.date | None,
    end: dt.date | None,
    country: str | None,
    today: dt.date,
) -> StoreRatings:
    about = await subject(session, workspace_id, app_id)
    countries = countries_asked(about, country)
    first, last = day_span(start, end, today)
    series: dict[str, list[StoreRatingPoint]] = {c: [] for c in countries}
    in_range, newest = await history.rating_series_and_latest(
        session, about.apple_id, countries, first, last
    )
    for row in in_range:
        series[row.country].append(rating_point(row))
    latest = {row.country: rating_point(row) for row in newest}
    return StoreRatings(
        app_id=app_id,
        apple_id=str(about.apple_id),
        from_date=first,
        to_date=last,
        countries=[
            StoreRatingsCountry(country=c, latest=latest.get(c), series=series[c])
            for c in countries
        ],
    )

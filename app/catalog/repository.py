"""SQL for the app catalog: apps, what an app's detail shows of its versions and builds, and the
events feed."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import BigInteger, ColumnElement, exists, literal_column, or_, select, tuple_
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import App, AppVersion, Build, CatalogEvent
from app.resources.versions import LIVE_STATES, build_order, version_order, version_state


async def list_apps(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    *,
    account_id: uuid.UUID | None,
    platform: str | None,
    query: str | None,
    include_removed: bool,
    after: tuple[str, uuid.UUID] | None,
    limit: int,
) -> list[App]:
    statement = select(App).where(App.workspace_id == workspace_id)
    if account_id is not None:
        statement = statement.where(App.account_id == account_id)
    if platform is not None:
        statement = statement.where(
            exists().where(
                AppVersion.app_id == App.id,
                AppVersion.platform == platform,
                AppVersion.removed_at.is_(None),
            )
        )
    if not include_removed:
        statement = statement.where(App.removed_at.is_(None))
    if query:
        pattern = "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        statement = statement.where(or_(App.name.ilike(pattern), App.bundle_id.ilike(pattern)))
    if after is not None:
        statement = statement.where(tuple_(App.name, App.id) > tuple_(*after))
    statement = statement.order_by(App.name, App.id).limit(limit)
    return list(await session.scalars(statement))


async def newest_versions(
    session: AsyncSession, app_id: uuid.UUID, *, live_only: bool
) -> list[AppVersion]:
    """Per platform, the newest listed version (only live ones with ``live_only``)."""
    statement = (
        select(AppVersion)
        .ext(distinct_on(AppVersion.platform))
        .where(AppVersion.app_id == app_id, AppVersion.removed_at.is_(None))
        .order_by(AppVersion.platform, version_order().desc(), AppVersion.id.desc())
    )
    if live_only:
        statement = statement.where(version_state().in_(LIVE_STATES))
    return list(await session.scalars(statement))


async def latest_build(session: AsyncSession, app_id: uuid.UUID) -> Build | None:
    statement = (
        select(Build)
        .where(Build.app_id == app_id, Build.removed_at.is_(None))
        .order_by(build_order().desc(), Build.id.desc())
        .limit(1)
    )
    return (await session.scalars(statement)).one_or_none()


async def list_events(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    *,
    types: list[str] | None,
    account_id: uuid.UUID | None,
    app_id: uuid.UUID | None,
    since: dt.datetime | None,
    after: tuple[int, int] | None,
    limit: int,
) -> list[CatalogEvent]:
    """Events in feed order. Only transactions older than every running one are read: an
    event whose transaction started earlier but commits later can then never land behind a
    cursor a reader already holds (events appear once such transactions end)."""
    horizon: ColumnElement[int] = literal_column(
        "(pg_snapshot_xmin(pg_current_snapshot()))::text::bigint", BigInteger
    )
    statement = select(CatalogEvent).where(
        CatalogEvent.workspace_id == workspace_id, CatalogEvent.txid < horizon
    )
    if types:
        statement = statement.where(CatalogEvent.type.in_(types))
    if account_id is not None:
        statement = statement.where(CatalogEvent.account_id == account_id)
    if app_id is not None:
        statement = statement.where(CatalogEvent.app_id == app_id)
    if since is not None:
        statement = statement.where(CatalogEvent.observed_at >= since)
    if after is not None:
        statement = statement.where(tuple_(CatalogEvent.txid, CatalogEvent.seq) > tuple_(*after))
    statement = statement.order_by(CatalogEvent.txid, CatalogEvent.seq).limit(limit)
    return list(await session.scalars(statement))

"""The store's datasets: public units, planned once for every workspace.

* ``store_ratings`` (daily): one unit per storefront and day (:mod:`app.store.ratings_job`).
* ``store_charts`` (hourly): one unit per storefront and chart (:mod:`app.store.charts_job`).

Both share the ``store`` lane (one concurrency cap) and the one politeness budget in
PostgreSQL. Cadences are ``ORCHARD_CADENCES`` (``store_ratings=P1D,store_charts=PT1H``).
Planning also keeps every workspace's effective storefronts current (hourly).
"""

from __future__ import annotations

import datetime as dt
import uuid
from functools import partial
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.resources.app_list import AppsRefreshed
from app.store import charts_job, ratings_job, repository, snapshots, storefronts
from app.sync.contract import (
    PlannedUnit,
    PublicDataset,
    PublicPlanContext,
    SourceQuery,
    SourceStatus,
)

RATINGS = "store_ratings"
CHARTS = "store_charts"
LANE = "store"
#: How soon a storefront's ratings unit looks again for apps tracked since it ran.
RECHECK = dt.timedelta(minutes=10)


def after_apps_refresh(settings: Settings) -> AppsRefreshed:
    """The hook the registry wires after an account's app list is stored: its apps are
    tracked at once, in the workspace's storefronts."""

    async def hook(session: AsyncSession, account_id: uuid.UUID) -> None:
        workspace_id = await repository.track_linked_apps(session, account_id)
        if workspace_id is not None:
            now = dt.datetime.now(dt.UTC)
            await storefronts.refresh_workspace(session, settings, workspace_id, now)

    return hook


async def plan_ratings(settings: Settings, ctx: PublicPlanContext) -> list[PlannedUnit]:
    await storefronts.refresh_stale(ctx.session, settings, ctx.now)
    day = ctx.now.date()
    countries = await snapshots.countries_with_due_ratings(ctx.session, day, ctx.now - ctx.cadence)
    return [
        PlannedUnit(ratings_job.unit_key(country, day), refresh_after=RECHECK)
        for country in countries
    ]


async def plan_charts(settings: Settings, ctx: PublicPlanContext) -> list[PlannedUnit]:
    await storefronts.refresh_stale(ctx.session, settings, ctx.now)
    genres: list[int] = []
    if settings.store_legacy_feeds:
        configured = [int(g) for g in settings.store_legacy_genres.split(",") if g]
        genres = configured or await snapshots.tracked_genres(ctx.session)
    return [
        PlannedUnit(key, refresh_after=ctx.cadence)
        for country in await snapshots.chart_countries(ctx.session)
        for key in charts_job.planned_charts(settings, country, genres)
    ]


def _read_charts(
    rows: list[tuple[Any, ...]], now: dt.datetime, cadence: dt.timedelta
) -> list[SourceStatus]:
    result = []
    for country, chart, genre, status, detail, last_fetched_at, last_ok_at in sorted(
        rows, key=lambda row: (row[0], row[1], row[2])
    ):
        name = f"{country}/{chart}/{genre}"
        if status is None:
            result.append(SourceStatus(name, "pending", "not fetched yet"))
            continue
        state = status
        if state == "ok" and now - last_fetched_at > 2 * cadence:
            state, detail = "lagging", "not fetched within twice its cadence"
        result.append(SourceStatus(name, state, detail, last_fetched_at, last_ok_at))
    return result


def chart_sources(workspace_id: uuid.UUID) -> SourceQuery:
    """Each expected chart of the workspace's storefronts, and any other fetched there."""
    sql, params = repository.chart_sources(
        workspace_id, ["top-free", "top-paid"], charts_job.ALL_GENRES
    )
    return SourceQuery(sql, params, _read_charts)


def _read_ratings(
    rows: list[tuple[Any, ...]], now: dt.datetime, cadence: dt.timedelta
) -> list[SourceStatus]:
    result = []
    for country, checked_at, last_ok_at in sorted(rows, key=lambda row: row[0]):
        if checked_at is None:
            result.append(SourceStatus(country, "pending", "not fetched yet"))
        elif now - checked_at > 2 * cadence:
            result.append(SourceStatus(country, "lagging", "not fetched within twice its "
                                       "cadence", checked_at, last_ok_at))  # fmt: skip
        else:
            result.append(SourceStatus(country, "ok", None, checked_at, last_ok_at))
    return result


def rating_sources(workspace_id: uuid.UUID) -> SourceQuery:
    """Each storefront of the workspace, over its tracked apps' star ratings."""
    sql, params = repository.rating_sources(workspace_id)
    return SourceQuery(sql, params, _read_ratings)


def datasets(settings: Settings) -> list[PublicDataset]:
    off = None if settings.store_enabled else "switched off (ORCHARD_STORE_ENABLED=false)"
    return [
        PublicDataset(
            name=RATINGS,
            cadence=dt.timedelta(days=1),
            plan=partial(plan_ratings, settings),
            run=partial(ratings_job.run, settings),
            lane=LANE,
            sources=rating_sources,
            enabled=settings.store_enabled,
            disabled_reason=off,
        ),
        PublicDataset(
            name=CHARTS,
            cadence=dt.timedelta(hours=1),
            plan=partial(plan_charts, settings),
            run=partial(charts_job.run, settings),
            lane=LANE,
            sources=chart_sources,
            enabled=settings.store_enabled,
            disabled_reason=off,
        ),
    ]

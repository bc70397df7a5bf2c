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

from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.resources.app_list import AppsRefreshed
from app.store import charts_job, history, ratings_job, repository, snapshots, storefronts
from app.sync.contract import PlannedUnit, PublicDataset, PublicPlanContext, SourceStatus

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


async def chart_sources(
    session: AsyncSession, workspace_id: uuid.UUID, now: dt.datetime, cadence: dt.timedelta
) -> list[SourceStatus]:
    countries = await repository.workspace_countries(session, workspace_id)
    seen = {
        (r.country, r.chart, r.genre): r for r in await history.chart_sources(session, countries)
    }
    expected = {
        (c, chart, charts_job.ALL_GENRES) for c in countries for chart in ("top-free", "top-paid")
    }
    result = []
    for key in sorted(expected | set(seen)):
        row = seen.get(key)
        name = "/".join(map(str, key))
        if row is None:
            result.append(SourceStatus(name, "pending", "not fetched yet"))
            continue
        state, detail = row.status, row.detail
        if state == "ok" and now - row.last_fetched_at > 2 * cadence:
            state, detail = "lagging", "not fetched within twice its cadence"
        result.append(SourceStatus(name, state, detail, row.last_fetched_at, row.last_ok_at))
    return result


async def rating_sources(
    session: AsyncSession, workspace_id: uuid.UUID, now: dt.datetime, cadence: dt.timedelta
) -> list[SourceStatus]:
    countries = await repository.workspace_countries(session, workspace_id)
    apple_ids = sorted(await repository.workspace_apple_ids(session, workspace_id))
    seen = await history.rating_sources(session, apple_ids, countries)
    result = []
    for country in countries:
        row = seen.get(country)
        if row is None:
            result.append(SourceStatus(country, "pending", "not fetched yet"))
        elif now - row.checked_at > 2 * cadence:
            result.append(SourceStatus(country, "lagging", "not fetched within twice its "
                                       "cadence", row.checked_at, row.last_ok_at))  # fmt: skip
        else:
            result.append(SourceStatus(country, "ok", None, row.checked_at, row.last_ok_at))
    return result


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

"""Public App Store data: tracked apps, storefronts, star ratings per storefront, chart ranks."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from app.auth.deps import Reader, Writer
from app.kit.dates import Day, Instant
from app.kit.deps import AppSettings, Session
from app.kit.pagination import Page, Paging
from app.kit.problems import AUTHED, problem_responses
from app.store import ranks, service
from app.store.schemas import (
    Chart,
    ChartRead,
    Granularity,
    RankHistory,
    StorefrontsRead,
    StorefrontsWrite,
    StoreRatings,
    TrackedAppCreate,
    TrackedAppRead,
    TrackedAppUpdate,
)

router = APIRouter(tags=["store"])

CountryParam = Query(
    None,
    min_length=2,
    max_length=2,
    pattern="^[A-Za-z]{2}$",
    description="One storefront (ISO 3166-1 alpha-2, e.g. `us`); default: every storefront "
    "followed for the app.",
)
FromParam = Query(None, alias="from", description="First UTC day (default: 29 days before `to`).")
ToParam = Query(None, alias="to", description="Last UTC day, inclusive (default: today).")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@router.get(
    "/v1/tracked-apps",
    response_model=Page[TrackedAppRead],
    operation_id="list_tracked_apps",
    responses=problem_responses(*AUTHED),
)
async def list_tracked_apps(
    principal: Reader, session: Session, *, paging: Paging
) -> Page[TrackedAppRead]:
    """Apps whose public store data the workspace collects: every app of a linked account
    (automatically) and any app added by its Apple id (competitors included), by Apple id."""
    items, next_cursor = await service.list_tracked(session, principal.workspace_id, paging)
    return Page(items=items, next_cursor=next_cursor)


@router.post(
    "/v1/tracked-apps",
    response_model=TrackedAppRead,
    status_code=status.HTTP_201_CREATED,
    operation_id="track_app",
    responses=problem_responses(*AUTHED, 409),
)
async def track_app(
    body: TrackedAppCreate, principal: Writer, session: Session, settings: AppSettings
) -> TrackedAppRead:
    """Track any app of the App Store by its Apple id, in the workspace's storefronts or its
    own. Ratings arrive with the next daily snapshot, ranks with the next hourly chart fetch.
    409 when the app was already added (change its storefronts with PATCH)."""
    return await service.track(session, settings, principal.workspace_id, body, _now())


@router.get(
    "/v1/tracked-apps/{tracked_id}",
    response_model=TrackedAppRead,
    operation_id="get_tracked_app",
    responses=problem_responses(*AUTHED, 404),
)
async def get_tracked_app(
    tracked_id: uuid.UUID, principal: Reader, session: Session
) -> TrackedAppRead:
    """One tracked app."""
    row = await service.get_tracked(session, principal.workspace_id, tracked_id)
    return service.tracked_read(row)


@router.patch(
    "/v1/tracked-apps/{tracked_id}",
    response_model=TrackedAppRead,
    operation_id="update_tracked_app",
    responses=problem_responses(*AUTHED, 404),
)
async def update_tracked_app(
    tracked_id: uuid.UUID,
    body: TrackedAppUpdate,
    principal: Writer,
    session: Session,
    settings: AppSettings,
) -> TrackedAppRead:
    """Set this app's own storefronts (null: follow the workspace's again)."""
    return await service.set_storefronts(
        session, settings, principal.workspace_id, tracked_id, body.storefronts, _now()
    )


@router.delete(
    "/v1/tracked-apps/{tracked_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="untrack_app",
    responses=problem_responses(*AUTHED, 404, 409),
)
async def untrack_app(tracked_id: uuid.UUID, principal: Writer, session: Session) -> Response:
    """Stop tracking an app that was added by hand (snapshots already taken stay: they are
    public data shared by every workspace). 409 for a linked account's app, which is always
    tracked."""
    await service.untrack(session, principal.workspace_id, tracked_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/v1/store/storefronts",
    response_model=StorefrontsRead,
    operation_id="get_store_storefronts",
    responses=problem_responses(*AUTHED),
)
async def get_store_storefronts(
    principal: Reader, session: Session, settings: AppSettings
) -> StorefrontsRead:
    """The storefronts (countries) whose ratings and charts the workspace follows: as
    configured, else where it sold most in the last 90 days (capped), else the default."""
    return await service.storefront_settings(session, settings, principal.workspace_id, _now())


@router.put(
    "/v1/store/storefronts",
    response_model=StorefrontsRead,
    operation_id="put_store_storefronts",
    responses=problem_responses(*AUTHED),
)
async def put_store_storefronts(
    body: StorefrontsWrite, principal: Writer, session: Session, settings: AppSettings
) -> StorefrontsRead:
    """Choose the workspace's storefronts (null returns to the default). Apps with their own
    storefronts keep them."""
    return await service.configure_storefronts(
        session, settings, principal.workspace_id, body.storefronts, _now()
    )


@router.get(
    "/v1/apps/{app_id}/ratings/store",
    response_model=StoreRatings,
    operation_id="get_app_store_ratings",
    responses=problem_responses(*AUTHED, 404),
)
async def get_app_store_ratings(
    app_id: uuid.UUID,
    principal: Reader,
    session: Session,
    from_date: Day | None = FromParam,
    to_date: Day | None = ToParam,
    country: str | None = CountryParam,
) -> StoreRatings:
    """The App Store's star ratings of an app per storefront over time (one snapshot a day:
    count, average, the current version's pair and the version seen), with the latest
    snapshot per storefront. These are all ratings, with or without a written review, from
    Apple's public Lookup API; `/v1/apps/{id}/ratings` counts written reviews only.

    `app_id` is Orchard's app id (`/v1/apps`) or a tracked app's id (`/v1/tracked-apps`)."""
    return await service.store_ratings(
        session,
        principal.workspace_id,
        app_id,
        start=from_date,
        end=to_date,
        country=country,
        today=_now().date(),
    )


@router.get(
    "/v1/apps/{app_id}/ranks",
    response_model=RankHistory,
    operation_id="get_app_ranks",
    responses=problem_responses(*AUTHED, 404),
)
async def get_app_ranks(
    app_id: uuid.UUID,
    principal: Reader,
    session: Session,
    from_date: Day | None = FromParam,
    to_date: Day | None = ToParam,
    country: str | None = CountryParam,
    chart: Chart | None = Query(None, description="One chart; default: every chart fetched."),
    genre: Annotated[
        int | None, Query(ge=1, le=99999, description="Apple genre id (36: all).")
    ] = None,
    granularity: Granularity = Query(
        Granularity.HOUR,
        description="`hour`: one point per chart snapshot; `day`: one point per UTC day (the "
        "day's best rank; `unavailable` only if no fetch that day answered).",
    ),
) -> RankHistory:
    """Rank history per storefront and chart: one point per chart snapshot, with `rank`
    (1-based) when the app was in the chart, `rank: null, status: "not_in_top_n", n: 100`
    when the chart was fetched without it, and `status: "unavailable"` when the feed did
    not answer (a gap, never a zero). Stretches with no point were not fetched.

    `app_id` is Orchard's app id (`/v1/apps`) or a tracked app's id (`/v1/tracked-apps`)."""
    return await ranks.rank_history(
        session,
        principal.workspace_id,
        app_id,
        start=from_date,
        end=to_date,
        country=country,
        chart=chart,
        genre=genre,
        today=_now().date(),
        granularity=granularity,
    )


@router.get(
    "/v1/charts",
    response_model=ChartRead,
    operation_id="get_chart",
    responses=problem_responses(*AUTHED),
)
async def get_chart(
    principal: Reader,
    session: Session,
    country: Annotated[
        str,
        Query(min_length=2, max_length=2, pattern="^[A-Za-z]{2}$", description="Storefront."),
    ],
    chart: Chart = Query(Chart.TOP_FREE, description="The chart."),
    genre: Annotated[int, Query(ge=1, le=99999, description="Apple genre id (36: all).")] = 36,
    at: Instant | None = Query(None, description="The moment (ISO 8601; default: now)."),
) -> ChartRead:
    """A chart of one of the workspace's storefronts as its feed served it at `at` (the
    snapshot fetched last at or before it), with app names from the feed. `status` says
    when there is no chart to show: `unavailable` (the feed did not answer) or `not_fetched`
    (nothing stored from before `at`)."""
    return await ranks.chart_at(
        session,
        principal.workspace_id,
        country=country,
        chart=chart,
        genre=genre,
        at=at or _now(),
    )

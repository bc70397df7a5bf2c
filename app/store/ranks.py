"""Reading chart snapshots back: an app's rank history and a chart as it was at a moment."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import ValidationFailed
from app.store import history, repository
from app.store.schemas import (
    Chart,
    ChartEntry,
    ChartRead,
    Granularity,
    RankHistory,
    RankPoint,
    RankSeries,
)
from app.store.service import countries_asked, day_span, subject


def rank_point(row: Any) -> RankPoint:
    """A snapshot (or, by day, a day's snapshots: the best rank; unavailable only when no
    fetch answered; the detail of the day's last failure)."""
    if row.status != "ok":
        status, rank, n = "unavailable", None, None
    elif row.rank is not None:
        status, rank, n = "ranked", row.rank, row.depth
    else:
        status, rank, n = "not_in_top_n", None, row.depth
    return RankPoint(
        fetched_from=row.first_fetched_at,
        fetched_until=row.last_fetched_at,
        feed_updated_at=row.feed_updated_at,
        status=status,
        rank=rank,
        n=n,
        detail=row.detail if row.status != "ok" else None,
    )


async def rank_history(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    app_id: uuid.UUID,
    *,
    start: dt.date | None,
    end: dt.date | None,
    country: str | None,
    chart: Chart | None,
    genre: int | None,
    today: dt.date,
    granularity: Granularity = Granularity.HOUR,
) -> RankHistory:
    about = await subject(session, workspace_id, app_id)
    countries = countries_asked(about, country)
    first, last = day_span(start, end, today)
    begin = dt.datetime.combine(first, dt.time(), dt.UTC)
    finish = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), dt.UTC)
    charts = [chart.value] if chart is not None else [c.value for c in Chart]
    read = history.rank_days if granularity is Granularity.DAY else history.rank_series
    rows = await read(session, about.apple_id, countries, charts, genre, begin, finish)
    series: dict[tuple[str, str, int], list[RankPoint]] = {}
    for row in rows:
        series.setdefault((row.country, row.chart, row.genre), []).append(rank_point(row))
    return RankHistory(
        app_id=app_id,
        apple_id=str(about.apple_id),
        from_date=first,
        to_date=last,
        series=[
            RankSeries(
                country=c,
                chart=Chart(ch),
                genre=g,
                points=points,
            )
            for (c, ch, g), points in sorted(series.items())
        ],
    )


async def chart_at(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    *,
    country: str,
    chart: Chart,
    genre: int,
    at: dt.datetime,
) -> ChartRead:
    code = country.lower()
    followed = await repository.workspace_countries(session, workspace_id)
    if code not in followed:
        raise ValidationFailed.single(
            "query.country",
            f"'{country}' is not among the workspace's storefronts "
            f"({', '.join(followed) or 'none yet'})",
            "storefront",
        )
    row = await history.chart_at(session, code, chart.value, genre, at)
    if row is None:
        return ChartRead(
            country=code, chart=chart, genre=genre, at=at, status="not_fetched",
            detail=f"no snapshot of {code}/{chart.value}/{genre} at or before this moment",
            feed=None, feed_updated_at=None, fetched_from=None, fetched_until=None, n=0,
            entries=[],
        )  # fmt: skip
    tracked = await repository.workspace_apple_ids(session, workspace_id)
    names = list(row.names)
    return ChartRead(
        country=code,
        chart=chart,
        genre=genre,
        at=at,
        status=row.status,
        detail=row.detail,
        feed=row.feed,
        feed_updated_at=row.feed_updated_at,
        fetched_from=row.first_fetched_at,
        fetched_until=row.last_fetched_at,
        n=row.depth,
        entries=[
            ChartEntry(
                rank=index + 1,
                apple_id=str(apple_id),
                name=names[index] if index < len(names) else "",
                tracked=apple_id in tracked,
            )
            for index, apple_id in enumerate(row.app_ids)
        ],
    )

"""The ``store_charts`` unit: one chart of one storefront, as its feed serves it now.

Unit key ``{country}:{chart}:{genre}`` (chart ``top-free``, ``top-paid`` or ``top-grossing``;
genre 36 is all apps). Overall top free and top paid come from the current Marketing Tools
RSS v2 feed (top 100); top grossing and per-genre charts only from the legacy iTunes RSS
feeds, behind ``ORCHARD_STORE_LEGACY_FEEDS`` since whether they still live is unconfirmed.
A feed that answers no usable chart is stored as ``unavailable`` for that fetch — the ranks
of that hour are unknown, never zero or "not in the chart".
"""

from __future__ import annotations

from app.config import Settings
from app.store import runtime, snapshots
from app.store.apple import LEGACY_CHARTS, V2_CHARTS, ChartFeed, FeedUnavailable
from app.sync.contract import PermanentUnitError, PublicUnitContext, UnitResult

ALL_GENRES = 36
CHARTS = tuple(LEGACY_CHARTS)


def unit_key(country: str, chart: str, genre: int) -> str:
    return f"{country}:{chart}:{genre}"


def parse_key(key: str) -> tuple[str, str, int]:
    parts = key.split(":")
    if len(parts) != 3 or parts[1] not in CHARTS or not parts[2].isdigit():
        raise PermanentUnitError(f"not a chart unit key: {key}")
    return parts[0], parts[1], int(parts[2])


def uses_v2(chart: str, genre: int) -> bool:
    return genre == ALL_GENRES and chart in V2_CHARTS


def planned_charts(settings: Settings, country: str, genres: list[int]) -> list[str]:
    keys = [unit_key(country, chart, ALL_GENRES) for chart in V2_CHARTS]
    if settings.store_legacy_feeds:
        keys.append(unit_key(country, "top-grossing", ALL_GENRES))
        keys += [unit_key(country, chart, g) for g in genres for chart in CHARTS if g != 36]
    return keys


async def run(settings: Settings, ctx: PublicUnitContext) -> UnitResult:
    country, chart, genre = parse_key(ctx.unit_key)
    v2 = uses_v2(chart, genre)
    if not v2 and not settings.store_legacy_feeds:
        return UnitResult(detail="legacy feeds are switched off")
    client = runtime.client(settings, ctx)
    depth = settings.store_chart_depth if v2 else settings.store_legacy_depth
    outcome: ChartFeed | str
    try:
        if v2:
            outcome = await client.v2_chart(country, chart, depth)
        else:
            outcome = await client.legacy_chart(country, chart, genre, depth)
    except FeedUnavailable as exc:
        ctx.log.warning("chart feed unavailable: %s", exc)
        outcome = str(exc)
    feed = "rss_v2" if v2 else "rss_legacy"
    written = await snapshots.record_chart(
        ctx.session, (country, chart, genre), feed, depth, outcome, ctx.now
    )
    status = "ok" if isinstance(outcome, ChartFeed) else "unavailable"
    return UnitResult(rows=int(written), notes={"requests": client.requests, "last": status})

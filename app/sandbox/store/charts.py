"""Top charts over time: deterministic rankings from the seed, one snapshot per period.

The overall ranking of a chart family (free, paid, grossing) in a storefront orders every
eligible app by a score (popularity × storefront affinity × a smooth random walk in time);
a genre chart is that ranking filtered by primary genre, as the legacy feeds' ``genre=``
narrows the overall chart (FACTS §2b). Known apps are inserted at their (swinging) rank;
:class:`RankOverride` pins or removes an app. Chart cadence is undocumented (FACTS §2c), so
the period is a setting; a snapshot is published a few minutes into its period and
``feed.updated`` shows that moment (FACTS §2a "Use feed.updated").
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from app.sandbox.seeding import rng, stable_hash
from app.sandbox.store.catalog import (
    FILLER_BASE_ID,
    StoreApp,
    filler_available,
    fillers,
    is_filler,
)
from app.sandbox.store.storefronts import GAMES_GENRE, POOL_GENRES

EPOCH = datetime(2020, 1, 1, tzinfo=UTC)
#: The legacy feeds go to 200 entries (FACTS §2b); the overall ranking is kept that deep.
MAX_DEPTH = 200
KNOT_PERIODS = 12  # the random walk changes direction every twelve periods
_MAX_SKIPPED = 500


@dataclass(frozen=True)
class ChartSpec:
    """One chart: which apps compete (``family``) and on which device's store."""

    family: str  # free | paid | grossing
    device: str = "iphone"  # iphone | ipad | mac
    new: bool = False  # the legacy new*applications charts

    @property
    def key(self) -> str:
        return f"{self.family}/{self.device}" + ("/new" if self.new else "")


#: FACTS §2a: top-free and top-paid; top-grossing only with the v2_extras knob.
V2_CHARTS = {
    "top-free": ChartSpec("free"),
    "top-paid": ChartSpec("paid"),
    "top-grossing": ChartSpec("grossing"),
}
#: FACTS §2b "Charts".
LEGACY_CHARTS = {
    "topfreeapplications": ChartSpec("free"),
    "toppaidapplications": ChartSpec("paid"),
    "topgrossingapplications": ChartSpec("grossing"),
    "topfreeipadapplications": ChartSpec("free", "ipad"),
    "toppaidipadapplications": ChartSpec("paid", "ipad"),
    "topgrossingipadapplications": ChartSpec("grossing", "ipad"),
    "newapplications": ChartSpec("grossing", new=True),
    "newfreeapplications": ChartSpec("free", new=True),
    "newpaidapplications": ChartSpec("paid", new=True),
    "topfreemacapps": ChartSpec("free", "mac"),
    "toppaidmacapps": ChartSpec("paid", "mac"),
    "topgrossingmacapps": ChartSpec("grossing", "mac"),
}
CHART_NAMES = {**{k: k for k in V2_CHARTS}, **{k: k for k in LEGACY_CHARTS}}


def chart_spec(name: str) -> ChartSpec:
    spec = V2_CHARTS.get(name) or LEGACY_CHARTS.get(name)
    if spec is None:
        raise ValueError(f"unknown chart {name!r}")
    return spec


@dataclass(frozen=True)
class RankOverride:
    """Pin ``app_id`` at overall ``rank`` (None: out of every chart) from ``since`` on.

    ``country``/``family``/``genre`` of None match every storefront, family or chart; a
    ``genre`` override pins the rank inside that genre chart only.
    """

    app_id: int
    rank: int | None
    country: str | None = None
    family: str | None = None
    genre: int | None = None
    since: datetime | None = None
    until: datetime | None = None

    def applies(self, country: str, family: str, genre: int | None, at: datetime) -> bool:
        return (
            self.country in (None, country)
            and self.family in (None, family)
            and self.genre == genre
            and (self.since is None or self.since <= at)
            and (self.until is None or at < self.until)
        )


@dataclass(frozen=True)
class FeedFreeze:
    """Feeds matching this serve the snapshot of ``since`` until ``until`` (stale feed)."""

    since: datetime
    until: datetime
    country: str | None = None
    family: str | None = None

    def covers(self, country: str, family: str, at: datetime) -> bool:
        matches = self.country in (None, country) and self.family in (None, family)
        return matches and self.since <= at < self.until


@dataclass(frozen=True)
class Snapshot:
    content_period: int  # whose ranking is served
    published_at: datetime  # when that ranking went up
    updated: datetime  # what feed.updated says (stale_updated knob)


# --- periods and publication ---------------------------------------------------------------


def period_of(at: datetime, period: timedelta) -> int:
    return math.floor((at - EPOCH) / period)


def publish_time(seed: int, index: int, period: timedelta) -> datetime:
    """A snapshot goes up a little into its period (up to 10 minutes or a fifth of it)."""
    spread = max(1, int(min(600.0, period.total_seconds() / 5)))
    return EPOCH + index * period + timedelta(seconds=stable_hash(seed, "publish", index) % spread)


def live_period(seed: int, at: datetime, period: timedelta) -> int:
    index = period_of(at, period)
    return index if publish_time(seed, index, period) <= at else index - 1


def published_period(
    seed: int, feed_key: str, at: datetime, period: timedelta, skip_rate: float
) -> int:
    """The newest period whose snapshot this feed actually published by ``at``."""
    index = live_period(seed, at, period)
    for _ in range(_MAX_SKIPPED):
        if skip_rate <= 0 or stable_hash(seed, "skip", feed_key, index) % 10_000 >= skip_rate * 1e4:
            break
        index -= 1
    return index


# --- rankings ------------------------------------------------------------------------------


@lru_cache(maxsize=16)
def _affinity(seed: int, country: str) -> tuple[float, ...]:
    draw = rng(seed, "chart-affinity", country)
    return tuple(draw.lognormvariate(0, 0.4) for _ in fillers(seed))


@lru_cache(maxsize=32)
def _knot(seed: int, country: str, spec: ChartSpec, knot: int) -> tuple[float, ...]:
    draw = rng(seed, "chart-knot", country, spec.key, knot)
    return tuple(draw.gauss(0, 1) for _ in fillers(seed))


@lru_cache(maxsize=64)
def _eligible(seed: int, country: str, family: str) -> tuple[tuple[int, float, int], ...]:
    """(index, log of the time-independent score, id) of every filler in this chart."""
    affinity = _affinity(seed, country)
    eligible = []
    for i, filler in enumerate(fillers(seed)):
        if family != "grossing" and filler.is_free != (family == "free"):
            continue
        if not filler_available(seed, filler.app_id, country):
            continue
        base = filler.revenue if family == "grossing" else filler.popularity
        eligible.append((i, math.log(base * affinity[i]), filler.app_id))
    return tuple(eligible)


@lru_cache(maxsize=32)
def filler_order(seed: int, country: str, spec: ChartSpec, period: int) -> tuple[int, ...]:
    """Filler ids of one storefront's overall chart in rank order at ``period``.

    score = popularity × affinity × exp(0.2 × walk), the walk interpolated between knots.
    """
    knot, step = divmod(period, KNOT_PERIODS)
    before, after = _knot(seed, country, spec, knot), _knot(seed, country, spec, knot + 1)
    weight = step / KNOT_PERIODS
    scored = [
        (log_base + 0.2 * (before[i] * (1 - weight) + after[i] * weight), app_id)
        for i, log_base, app_id in _eligible(seed, country, spec.family)
    ]
    scored.sort(reverse=True)
    return tuple(app_id for _, app_id in scored)


def known_rank(seed: int, app: StoreApp, country: str, spec: ChartSpec, period: int) -> int:
    """The rank a known app holds: its base rank scaled per storefront, swinging smoothly."""
    base = app.base_ranks[spec.family]
    scale = 1.0 if country == "us" else 0.6 + stable_hash(seed, "rank-scale", app.app_id,
                                                          country) % 1000 / 1000  # fmt: skip
    knot, step = divmod(period, KNOT_PERIODS)

    def wave(k: int) -> float:
        return rng(seed, "rank-swing", app.app_id, country, spec.key, k).uniform(-1, 1)

    walk = wave(knot) * (1 - step / KNOT_PERIODS) + wave(knot + 1) * step / KNOT_PERIODS
    return max(1, round(base * scale + app.rank_swing * walk))


def _charts_known(app: StoreApp, country: str, spec: ChartSpec, at: datetime) -> bool:
    if spec.family not in app.base_ranks or spec.device == "mac" or spec.new:
        return False
    return app.sold_in(country, at)


def overall_ranking(
    seed: int,
    country: str,
    spec: ChartSpec,
    period: int,
    at: datetime,
    known: Iterable[StoreApp],
    overrides: Sequence[RankOverride],
) -> list[int]:
    """Every charting app of the storefront in rank order (fillers, known apps, pins)."""
    order = list(filler_order(seed, country, spec, period))
    placed = sorted(
        (known_rank(seed, app, country, spec, period), app.app_id)
        for app in known
        if _charts_known(app, country, spec, at)
    )
    for rank, app_id in placed:
        order.insert(rank - 1, app_id)
    return apply_overrides(order, overrides, country, spec.family, None, at)


def apply_overrides(
    order: list[int],
    overrides: Sequence[RankOverride],
    country: str,
    family: str,
    genre: int | None,
    at: datetime,
) -> list[int]:
    for override in overrides:
        if not override.applies(country, family, genre, at):
            continue
        if override.app_id in order:
            order.remove(override.app_id)
        if override.rank is not None:
            order.insert(override.rank - 1, override.app_id)
    return order


def filler_genre(app_id: int) -> tuple[int, int | None]:
    pool = POOL_GENRES[(app_id - FILLER_BASE_ID) // 1000]
    return (GAMES_GENRE, pool) if pool > 7000 else (pool, None)


def in_genre(primary: int, sub: int | None, genre: int) -> bool:
    return genre in (36, primary, sub)


def genre_ranking(
    overall: Sequence[int],
    genre: int,
    genre_of: dict[int, tuple[int, int | None]],
) -> list[int]:
    """``overall`` narrowed to ``genre`` (known apps' genres come in ``genre_of``)."""
    if genre == 36:
        return list(overall)
    result = []
    for app_id in overall:
        located = genre_of.get(app_id) or (filler_genre(app_id) if is_filler(app_id) else None)
        if located is not None and in_genre(*located, genre):
            result.append(app_id)
    return result

"""Star ratings and versions of an app over time: pure functions of (seed, app, clock).

Ratings are kept per storefront (FACTS §1 "Per storefront", §4 "one summary rating per
territory"). A count grows hour by hour at the app's rate for that storefront and never
falls, except at a *reset*: a reset happens with a version release, is global (every
storefront) and starts the summary over (FACTS §4, [A5]). Averages drift slowly.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.sandbox.seeding import rng, stable_hash
from app.sandbox.store.catalog import StoreApp
from app.sandbox.store.settings import CurrentVersionRatings
from app.sandbox.store.storefronts import STOREFRONTS

HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class Version:
    index: int  # 0 = the first release
    label: str
    released_at: datetime


@dataclass(frozen=True)
class RatingTruth:
    """What the simulator holds true for one app in one storefront at one moment."""

    app_id: int
    country: str
    average: float  # 0.0 when count is 0
    count: int
    current_average: float
    current_count: int
    version: str
    version_released_at: datetime
    counting_since: datetime  # the app's release or its latest reset


def version_at(app: StoreApp, at: datetime, forced: Sequence[datetime] = ()) -> Version:
    """Regular releases every ``release_cadence_days`` plus ``forced`` ones (resets)."""
    cadence = timedelta(days=app.release_cadence_days)
    regular = max(0, (at - app.released) // cadence)
    last_regular = app.released + regular * cadence
    extra = [moment for moment in forced if app.released < moment <= at]
    index = regular + len(extra)
    released_at = max([last_regular, *extra])
    return Version(index, app.version_label(index), released_at)


def _country_factor(seed: int, app: StoreApp, country: str) -> float:
    spread = 0.5 + (stable_hash(seed, "rating-affinity", app.app_id, country) % 1000) / 1000
    return STOREFRONTS[country].rating_weight * spread


def ratings_count(seed: int, app: StoreApp, country: str, since: datetime, at: datetime) -> int:
    """Ratings collected in ``country`` between ``since`` and ``at`` (whole hours).

    ``floor(rate·h + wobble(h))`` with ``0 <= wobble < 0.9·rate`` never decreases as ``h``
    grows, yet does not grow in perfectly even steps.
    """
    hours = max(0, (at - since) // HOUR)
    per_hour = app.rating_rate * _country_factor(seed, app, country) / 24
    if per_hour <= 0 or hours == 0:
        return 0
    wobble = (stable_hash(seed, "rating-wobble", app.app_id, country, hours) % 900) / 1000
    return math.floor(per_hour * (hours + wobble))


def _average(seed: int, app: StoreApp, country: str, era: int, at: datetime, salt: str) -> float:
    """A slowly drifting average around the app's level (each reset era has its own level)."""
    draw = rng(seed, "rating-level", app.app_id, country, era, salt)
    level = app.rating_average + draw.uniform(-0.15, 0.15) + (0.2 if era else 0.0)
    days = at.timestamp() / 86400
    drift = 0.08 * math.sin(2 * math.pi * days / 37 + draw.uniform(0, 6.3))
    drift += 0.03 * math.sin(2 * math.pi * days / 9 + draw.uniform(0, 6.3))
    return round(min(5.0, max(1.0, level + drift)), 5)


def rating_at(
    seed: int,
    app: StoreApp,
    country: str,
    at: datetime,
    resets: Sequence[datetime] = (),
    current_mode: CurrentVersionRatings = "equal",
) -> RatingTruth:
    """The summary rating of ``app`` in ``country`` at ``at`` (``resets`` sorted)."""
    era = bisect_right(list(resets), at)
    since = max(app.released, resets[era - 1]) if era else app.released
    count = ratings_count(seed, app, country, since, at)
    average = _average(seed, app, country, era, at, "all") if count else 0.0
    version = version_at(app, at, resets)
    current_count, current_average = count, average
    if current_mode == "since_release" and version.released_at > since:
        current_count = count - ratings_count(seed, app, country, since, version.released_at)
        current_average = (
            _average(seed, app, country, era, at, f"v{version.index}") if current_count else 0.0
        )
    return RatingTruth(
        app_id=app.app_id,
        country=country,
        average=average,
        count=count,
        current_average=current_average,
        current_count=current_count,
        version=version.label,
        version_released_at=version.released_at,
        counting_since=since,
    )

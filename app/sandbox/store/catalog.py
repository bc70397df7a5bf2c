"""The apps of the simulated App Store: a few *known* apps plus thousands of filler apps.

Known apps are the ones a test links or tracks as competitors; they have chosen ids, chosen
storefronts and a base chart rank per chart family. Filler apps populate the charts around
them. A filler's id encodes its genre pool and index (``1_400_000_000 + pool × 1000 + i``)
so Lookup can resolve any id a chart served without building the whole catalogue; the
fillers themselves are a pure function of the seed and cached per seed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from app.sandbox.seeding import numeric_id, rng, stable_hash
from app.sandbox.store.storefronts import GAMES_GENRE, POOL_GENRES, STOREFRONTS
from app.sandbox.text import APP_ADJECTIVES, APP_NOUNS, LAST_NAMES

FILLER_BASE_ID = 1_400_000_000
FILLER_FREE_PER_POOL = 230
FILLER_PAID_PER_POOL = 70
FILLER_PER_POOL = FILLER_FREE_PER_POOL + FILLER_PAID_PER_POOL
ALL_COUNTRIES = frozenset(STOREFRONTS)
CHART_FAMILIES = ("free", "paid", "grossing")


def default_version_label(release: int) -> str:
    """Version string of the ``release``-th release (0 = first): 1.0.0, 1.0.1, … ascending."""
    return f"{1 + release // 12}.{(release % 12) // 3}.{release % 3}"


@dataclass(frozen=True, eq=False)
class StoreApp:
    """One app as the public store data shows it.

    ``base_ranks`` maps a chart family (``free``/``paid``/``grossing``) to the app's overall
    rank in the US chart; other storefronts scale it, and it swings by up to ``rank_swing``
    over time (so an app near a chart's depth enters and leaves it). A family that is absent
    means the app never charts there. ``rating_rate`` is US ratings per day.
    """

    app_id: int
    name: str
    bundle_id: str
    artist_name: str
    artist_id: int
    genre_id: int  # primary genre (6014 for games)
    subgenre_id: int | None = None  # a games subgenre (7001…) or None
    price_tier: int | None = None  # index into Storefront.tiers; None = free
    released: datetime = datetime(2021, 6, 1, 7, tzinfo=UTC)
    release_cadence_days: int = 30
    countries: frozenset[str] = ALL_COUNTRIES
    rating_rate: float = 20.0
    rating_average: float = 4.5
    base_ranks: Mapping[str, int] = field(default_factory=dict)
    rank_swing: int = 0
    known: bool = False
    version_label: Callable[[int], str] = default_version_label

    @property
    def is_free(self) -> bool:
        return self.price_tier is None

    @property
    def genre_ids(self) -> tuple[int, ...]:
        """Primary genre first; games also carry their subgenre (FACTS §1 ``genreIds``)."""
        if self.subgenre_id is not None:
            return (self.genre_id, self.subgenre_id)
        return (self.genre_id, 6000) if self.genre_id != 6000 else (6000, 6007)

    def in_genre(self, genre_id: int) -> bool:
        """Charts classify by primary genre; 36 is every app (FACTS §2b)."""
        return genre_id in (36, self.genre_id, self.subgenre_id)

    def sold_in(self, country: str, at: datetime) -> bool:
        return country in self.countries and self.released <= at

    @property
    def slug(self) -> str:
        return re.sub(r"[^a-z0-9]+", "-", self.name.lower()).strip("-") or "app"


@dataclass(frozen=True)
class Filler:
    """The chart-relevant numbers of one filler app (kept small: there are 13,200)."""

    app_id: int
    pool: int
    popularity: float
    revenue: float
    is_free: bool


def filler_available(seed: int, app_id: int, country: str) -> bool:
    """About 3% of fillers are not sold in a storefront (15% in China)."""
    share = 150 if country == "cn" else 30
    return stable_hash(seed, "availability", app_id, country) % 1000 >= share


def is_filler(app_id: int) -> bool:
    return _filler_pool_and_index(app_id) is not None


def _filler_pool_and_index(app_id: int) -> tuple[int, int] | None:
    offset = app_id - FILLER_BASE_ID
    pool, index = divmod(offset, 1000)
    if offset < 0 or pool >= len(POOL_GENRES) or index >= FILLER_PER_POOL:
        return None
    return pool, index


@lru_cache(maxsize=8)
def fillers(seed: int) -> tuple[Filler, ...]:
    """Every filler of ``seed`` in id order; popularity is Zipf-like within a pool."""
    result = []
    for pool, genre in enumerate(POOL_GENRES):
        draw = rng(seed, "filler-pool", genre)
        weight = 1.6 if genre > 7000 else draw.uniform(0.4, 1.3)
        for index in range(FILLER_PER_POOL):
            is_free = index < FILLER_FREE_PER_POOL
            place = index if is_free else index - FILLER_FREE_PER_POOL
            popularity = weight * (place + 4) ** -0.9 * draw.lognormvariate(0, 0.5)
            revenue = popularity * draw.lognormvariate(0, 0.9) * (1.0 if is_free else 2.0)
            app_id = FILLER_BASE_ID + pool * 1000 + index
            result.append(Filler(app_id, pool, popularity, revenue, is_free))
    return tuple(result)


@lru_cache(maxsize=4096)
def filler_app(seed: int, app_id: int) -> StoreApp | None:
    """The full record of filler ``app_id`` (None when the id is not a filler's)."""
    located = _filler_pool_and_index(app_id)
    if located is None:
        return None
    pool, index = located
    genre = POOL_GENRES[pool]
    draw = rng(seed, "filler-app", app_id)
    adjective, noun = draw.choice(APP_ADJECTIVES), draw.choice(APP_NOUNS)
    studio = draw.choice(LAST_NAMES)
    name = f"{adjective} {noun}" + (f" {draw.randrange(2, 9)}" if draw.random() < 0.3 else "")
    excluded = {c for c in STOREFRONTS if not filler_available(seed, app_id, c)}
    slug = re.sub(r"[^a-z0-9]", "", name.lower())
    popularity = fillers(seed)[pool * FILLER_PER_POOL + index].popularity
    return StoreApp(
        app_id=app_id,
        name=name,
        bundle_id=f"com.{re.sub(r'[^a-z0-9]', '', studio.lower()) or 'studio'}.{slug}",
        artist_name=f"{studio} Studios",
        artist_id=int(numeric_id(9, 3, seed, "artist", studio)),
        genre_id=GAMES_GENRE if genre > 7000 else genre,
        subgenre_id=genre if genre > 7000 else None,
        price_tier=None if index < FILLER_FREE_PER_POOL else draw.randrange(5),
        released=datetime(2012, 1, 1, 7, tzinfo=UTC) + timedelta(days=draw.randrange(4500)),
        release_cadence_days=draw.choice((14, 21, 30, 45, 60, 90)),
        countries=ALL_COUNTRIES - excluded,
        rating_rate=min(2000.0, 4000 * popularity),
        rating_average=round(draw.uniform(3.2, 4.9), 2),
    )


def default_known_apps(seed: int) -> list[StoreApp]:
    """Eight known apps covering the cases tests need (ids depend on the seed)."""

    def app_id(label: str) -> int:
        return int(numeric_id(10, 1, seed, "known-app", label))

    def known(label: str, name: str, genre: int, **fields: object) -> StoreApp:
        slug = re.sub(r"[^a-z0-9]", "", name.lower())
        return StoreApp(
            app_id=app_id(label),
            name=name,
            bundle_id=f"com.orchardlabs.{slug}",
            artist_name="Orchard Labs Ltd",
            artist_id=int(numeric_id(9, 2, seed, "known-artist")),
            genre_id=genre,
            known=True,
            **fields,  # type: ignore[arg-type]
        )

    return [
        known("notes", "Example Notes", 6007, rating_rate=900, rating_average=4.6,
              base_ranks={"free": 4, "grossing": 30}, rank_swing=2),
        known("budget", "Tidy Budget", 6015, rating_rate=150, rating_average=4.3,
              base_ranks={"free": 42, "grossing": 120}, rank_swing=6),
        known("puzzle", "Puzzle Harbor", GAMES_GENRE, subgenre_id=7012, rating_rate=300,
              rating_average=4.7, base_ranks={"free": 96, "grossing": 60}, rank_swing=12),
        known("sky", "Night Sky Pro", 6006, price_tier=2, rating_rate=40, rating_average=4.8,
              base_ranks={"paid": 8, "grossing": 140}, rank_swing=3),
        known("tides", "Pocket Tides", 6001, price_tier=0, rating_rate=12, rating_average=4.1,
              base_ranks={"paid": 185}, rank_swing=25),
        known("journal", "Quiet Journal", 6012, rating_rate=25, rating_average=4.4,
              base_ranks={"free": 700}, rank_swing=40),
        known("sketch", "Little Sketch", 6027, rating_rate=60, rating_average=3.9,
              countries=ALL_COUNTRIES - {"cn", "jp"}, base_ranks={"free": 75}, rank_swing=5),
        known("fresh", "Fresh Launch", 6002, rating_rate=0.0, rating_average=4.0,
              released=datetime(2025, 1, 15, 8, tzinfo=UTC)),
    ]  # fmt: skip

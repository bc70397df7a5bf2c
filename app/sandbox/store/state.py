"""Everything the store simulator remembers, and the truth tests compare Orchard against.

Ratings, versions and charts are recomputed from ``(seed, clock)`` on demand; the state only
holds what a test changed: settings, known apps, rating resets, rank overrides, feed freezes,
the Lookup cache and the request log.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta

from app.sandbox.store import charts
from app.sandbox.store.catalog import StoreApp, default_known_apps, filler_app
from app.sandbox.store.charts import MAX_DEPTH, ChartSpec, FeedFreeze, RankOverride, Snapshot
from app.sandbox.store.politeness import StoreRequest, Throttle
from app.sandbox.store.ratings import RatingTruth, Version, rating_at, version_at
from app.sandbox.store.settings import StoreSettings
from app.sandbox.store.storefronts import GENRE_NAMES, STOREFRONTS

FAMILIES = ("free", "paid", "grossing")


def utc_now() -> datetime:
    return datetime.now(UTC)


class StoreState:
    """The simulated public App Store. ``clock`` returns an aware UTC datetime.

    ``known_apps`` replaces the eight default known apps (see
    :func:`~app.sandbox.store.catalog.default_known_apps`); ``settings`` the default knobs.
    """

    def __init__(
        self,
        seed: int = 42,
        clock: Callable[[], datetime] | None = None,
        *,
        settings: StoreSettings | None = None,
        known_apps: Iterable[StoreApp] | None = None,
    ) -> None:
        self.seed = seed
        self.clock: Callable[[], datetime] = clock or utc_now
        self.settings = settings or StoreSettings()
        self.apps: dict[int, StoreApp] = {}
        self.resets: dict[int, list[datetime]] = {}
        self.overrides: list[RankOverride] = []
        self.freezes: list[FeedFreeze] = []
        self.requests: list[StoreRequest] = []
        self.lookup_cache: dict[str, datetime] = {}
        self.throttle = Throttle(self.now)
        for app in default_known_apps(seed) if known_apps is None else known_apps:
            self.add_app(app)

    def now(self) -> datetime:
        now = self.clock()
        if now.tzinfo is None:
            raise ValueError("the store clock must return timezone-aware datetimes")
        return now

    def _at(self, at: datetime | None) -> datetime:
        return self.now() if at is None else at

    # --- apps ----------------------------------------------------------------------------
    @property
    def known_apps(self) -> list[StoreApp]:
        return list(self.apps.values())

    def add_app(self, app: StoreApp) -> StoreApp:
        """Add (or replace) a known app; it must not collide with a filler id."""
        if filler_app(self.seed, app.app_id) is not None:
            raise ValueError(f"app id {app.app_id} is reserved for filler apps")
        self.apps[app.app_id] = app
        return app

    def known(self, name: str) -> StoreApp:
        """The known app called ``name`` (convenience for tests)."""
        return next(app for app in self.apps.values() if app.name == name)

    def app(self, app_id: int) -> StoreApp | None:
        """A known or filler app (None for an id the store does not have)."""
        return self.apps.get(app_id) or filler_app(self.seed, app_id)

    def app_by_bundle(self, bundle_id: str) -> StoreApp | None:
        """Known apps only (filler bundle ids are not indexed)."""
        return next((a for a in self.apps.values() if a.bundle_id == bundle_id), None)

    # --- ratings and versions ------------------------------------------------------------
    def reset_rating(self, app_id: int, at: datetime | None = None) -> datetime:
        """Reset the summary rating everywhere at ``at`` (with a new version, FACTS §4)."""
        if app_id not in self.apps:
            raise KeyError(f"{app_id} is not a known app")
        moment = self._at(at)
        self.resets.setdefault(app_id, []).append(moment)
        self.resets[app_id].sort()
        return moment

    def version(self, app_id: int, at: datetime | None = None) -> Version | None:
        app = self.app(app_id)
        if app is None:
            return None
        return version_at(app, self._at(at), self.resets.get(app_id, ()))

    def rating(self, app_id: int, country: str, at: datetime | None = None) -> RatingTruth | None:
        """The true rating in ``country`` at ``at``; None when the app is not sold there."""
        app, when = self.app(app_id), self._at(at)
        if app is None or not app.sold_in(country.lower(), when):
            return None
        return rating_at(
            self.seed,
            app,
            country.lower(),
            when,
            self.resets.get(app_id, ()),
            self.settings.current_version_ratings,
        )

    # --- charts --------------------------------------------------------------------------
    def set_rank(
        self,
        app_id: int,
        rank: int | None,
        *,
        country: str | None = None,
        chart: str | None = None,
        genre: int | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> RankOverride:
        """Pin ``app_id`` at ``rank`` (None: it leaves every chart depth) — see RankOverride.

        ``chart`` is a chart name (``top-free``, ``topgrossingapplications``…) or a family
        (``free``/``paid``/``grossing``); None matches all. Without ``since`` the pin also
        rewrites snapshots published before it was set.
        """
        if rank is not None and not 1 <= rank <= MAX_DEPTH:
            raise ValueError(f"rank must be between 1 and {MAX_DEPTH}")
        family = chart if chart in (None, *FAMILIES) else charts.chart_spec(chart or "").family
        override = RankOverride(app_id, rank, country, family, genre, since, until)
        self.overrides.append(override)
        return override

    def clear_ranks(self) -> None:
        self.overrides.clear()

    def freeze_feeds(
        self,
        since: datetime,
        until: datetime,
        *,
        country: str | None = None,
        chart: str | None = None,
    ) -> FeedFreeze:
        """Between ``since`` and ``until`` matching feeds keep serving the ``since`` snapshot."""
        family = chart if chart in (None, *FAMILIES) else charts.chart_spec(chart or "").family
        freeze = FeedFreeze(since, until, country, family)
        self.freezes.append(freeze)
        return freeze

    def snapshot(self, country: str, chart: str, at: datetime | None = None) -> Snapshot:
        """Which ranking the feed serves at ``at`` and what its ``updated`` says."""
        spec, when = charts.chart_spec(chart), self._at(at)
        period = timedelta(seconds=self.settings.chart_period_seconds)
        key = f"{country}/{spec.key}"
        skip = self.settings.feed_skip_rate
        content = charts.published_period(self.seed, key, when, period, skip)
        freeze = next((f for f in reversed(self.freezes) if f.covers(country, spec.family, when)),
                      None)  # fmt: skip
        if freeze is not None:
            content = charts.published_period(self.seed, key, freeze.since, period, skip)
        published = charts.publish_time(self.seed, content, period)
        updated = published
        if self.settings.stale_updated == "current":
            live = charts.live_period(self.seed, when, period)
            updated = charts.publish_time(self.seed, live, period)
        return Snapshot(content, published, updated)

    def chart(
        self,
        country: str,
        chart: str,
        genre: int | None = None,
        at: datetime | None = None,
        limit: int = MAX_DEPTH,
    ) -> list[int]:
        """The app ids a feed serves at ``at``, best first (stale snapshots included)."""
        country = country.lower()
        if country not in STOREFRONTS or (genre not in (None, 36) and genre not in GENRE_NAMES):
            return []
        snapshot = self.snapshot(country, chart, at)
        return self.ranking(country, charts.chart_spec(chart), snapshot, genre)[:limit]

    def ranking(
        self, country: str, spec: ChartSpec, snapshot: Snapshot, genre: int | None
    ) -> list[int]:
        at = snapshot.published_at
        overall = charts.overall_ranking(
            self.seed, country, spec, snapshot.content_period, at, self.apps.values(),
            self.overrides,
        )  # fmt: skip
        if genre in (None, 36):
            return overall[:MAX_DEPTH]
        genre_of = {a.app_id: (a.genre_id, a.subgenre_id) for a in self.apps.values()}
        narrowed = charts.genre_ranking(overall, genre, genre_of)
        narrowed = charts.apply_overrides(narrowed, self.overrides, country, spec.family, genre, at)
        return narrowed[:MAX_DEPTH]

    def rank(
        self,
        app_id: int,
        country: str,
        chart: str,
        genre: int | None = None,
        at: datetime | None = None,
    ) -> int | None:
        """1-based rank the feed shows for ``app_id`` (None: not in the top 200)."""
        ids = self.chart(country, chart, genre, at)
        return ids.index(app_id) + 1 if app_id in ids else None

    # --- request log -----------------------------------------------------------------------
    def user_agents(self, endpoint: str | None = None) -> list[str | None]:
        """The User-Agent of every recorded request (optionally of one endpoint)."""
        return [r.user_agent for r in self.requests if endpoint in (None, r.endpoint)]

    def clear_requests(self) -> None:
        self.requests.clear()

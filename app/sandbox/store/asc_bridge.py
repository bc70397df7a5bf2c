"""The App Store Connect sandbox's apps as they appear in the public store (for demos).

A team's generated apps (``app.sandbox.catalog``) keep their Apple id, name, bundle id,
category, price and release train, so an app linked through the ASC sandbox can be found by
Lookup and in the charts of the store simulator::

    store = StoreState(seed=42)
    for app in store_apps_for_team(asc_state.default_team()):
        store.add_app(app)
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from decimal import Decimal
from functools import partial
from zoneinfo import ZoneInfo

from app.sandbox.catalog import SandboxApp, team_apps
from app.sandbox.releases import version_for_release
from app.sandbox.seeding import numeric_id, stable_hash
from app.sandbox.state import SandboxTeam
from app.sandbox.store.catalog import StoreApp
from app.sandbox.store.storefronts import GAME_SUBGENRES, GAMES_GENRE, GENRE_NAMES

PACIFIC = ZoneInfo("America/Los_Angeles")
_TIERS = {Decimal("0.99"): 0, Decimal("1.99"): 1, Decimal("2.99"): 2, Decimal("4.99"): 3}
_GENRE_IDS = {name: genre for genre, name in GENRE_NAMES.items() if genre < 7000}


def _version_label(app: SandboxApp, release: int) -> str:
    return version_for_release(app, release)


def store_app(team: SandboxTeam, app: SandboxApp) -> StoreApp:
    """``app`` in the store: live from 13:00 Cupertino time on its launch day (after the ASC
    sandbox's release moment), versions named as the ASC sandbox names them."""
    genre = _GENRE_IDS.get(app.category, 6012)
    subgenre = None
    if genre == GAMES_GENRE:
        subgenre = GAME_SUBGENRES[stable_hash(app.id, "subgenre") % len(GAME_SUBGENRES)]
    released = datetime.combine(app.launch_date, time(13), PACIFIC).astimezone(UTC)
    family = "free" if app.usd_price == 0 else "paid"
    return StoreApp(
        app_id=int(app.id),
        name=app.name,
        bundle_id=app.bundle_id,
        artist_name=team.name,
        artist_id=int(numeric_id(9, 2, team.seed, "store-artist")),
        genre_id=genre,
        subgenre_id=subgenre,
        price_tier=None if app.usd_price == 0 else _TIERS.get(app.usd_price, 3),
        released=released,
        release_cadence_days=app.release_cadence_days,
        rating_rate=round(60 * app.popularity, 2),
        rating_average=round(3.8 + 0.25 * min(4.0, app.popularity), 2),
        base_ranks={
            family: max(3, round(160 / app.popularity)),
            "grossing": max(5, round(260 / app.popularity)),
        },
        rank_swing=8,
        known=True,
        version_label=partial(_version_label, app),
    )


def store_apps_for_team(team: SandboxTeam) -> list[StoreApp]:
    """Every generated app of ``team`` as a known app of the store simulator."""
    return [store_app(team, app) for app in team_apps(team)]

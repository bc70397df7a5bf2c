"""Marketing Tools RSS v2: ``GET /api/v2/{cc}/apps/{chart}/{n}/apps.json`` (FACTS §2a, §6).

``chart`` is ``top-free`` or ``top-paid`` (``top-grossing`` and ``?genre=`` only with the
``v2_extras`` knob, a third-party claim). ``n`` from 1 to 100; above 100 Apple answered HTTP
500 (2023). There is no rank field: rank = index + 1. Anything else in the path is 404
(not in the facts).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from app.sandbox.store.catalog import StoreApp
from app.sandbox.store.charts import V2_CHARTS
from app.sandbox.store.lookup import ARTWORK
from app.sandbox.store.state import StoreState
from app.sandbox.store.storefronts import GENRE_NAMES, Storefront, storefront

V2_MAX = 100
TITLES = {"top-free": "Top Free Apps", "top-paid": "Top Paid Apps",
          "top-grossing": "Top Grossing Apps"}  # fmt: skip


def rfc_updated(moment: datetime) -> str:
    """``Thu, 5 Oct 2023 19:57:28 +0000`` (FACTS §2a: the day is not zero-padded)."""
    return f"{moment:%a}, {moment.day} {moment:%b %Y %H:%M:%S} +0000"


def _not_found() -> Response:
    return Response(b"", 404)


def _genres(state: StoreState, app: StoreApp, sf: Storefront) -> list[dict[str, str]]:
    if state.settings.v2_genres == "empty":
        return []  # FACTS §2a: "genres (may be [])"
    return [
        {"genreId": str(g), "name": sf.genre_name(g), "url": f"https://itunes.apple.com/{sf.country}/genre/id{g}"}
        for g in app.genre_ids
    ]  # fmt: skip


def _result(state: StoreState, app: StoreApp, sf: Storefront) -> dict[str, Any]:
    return {
        "artistName": app.artist_name,
        "id": str(app.app_id),  # a string (FACTS §2a)
        "name": app.name,
        "releaseDate": app.released.strftime("%Y-%m-%d"),
        "kind": "apps",
        "artworkUrl100": ARTWORK.format(app_id=app.app_id, size=100),
        "genres": _genres(state, app, sf),
        "url": f"https://apps.apple.com/{sf.country}/app/{app.slug}/id{app.app_id}",
    }


def _chart_genre(state: StoreState, request: Request) -> int | None:
    raw = request.query_params.get("genre", "")
    if not state.settings.v2_extras or not raw.isdigit():
        return None  # the documented feeds offer no genre option (FACTS §2a)
    return int(raw)


def v2_feed(state: StoreState, request: Request) -> Response:
    params = request.path_params
    sf = storefront(params["cc"])
    chart = params["chart"]
    known_chart = chart in V2_CHARTS and (chart != "top-grossing" or state.settings.v2_extras)
    if params["media"] != "apps" or params["file"] != "apps.json" or sf is None:
        return _not_found()
    if not known_chart or not params["n"].isdigit() or int(params["n"]) < 1:
        return _not_found()
    limit = int(params["n"])
    if limit > V2_MAX:
        return Response(b"", 500)  # FACTS §2a: "more than 100 returns HTTP 500 (2023)"
    genre = _chart_genre(state, request)
    if genre is not None and genre != 36 and genre not in GENRE_NAMES:
        genre = None
    now = state.now()
    snapshot = state.snapshot(sf.country, chart, now)
    ids = state.chart(sf.country, chart, genre, now, limit)
    url = f"https://{state.settings.v2_host}/api/v2/{sf.country}/apps/{chart}/{limit}/apps.json"
    results = [_result(state, app, sf) for app in map(state.app, ids) if app is not None]
    feed = {
        "title": TITLES[chart],
        "id": url,
        "author": {"name": "Apple", "url": "https://www.apple.com/"},
        "links": [{"self": url}],
        "copyright": f"Copyright © {now.year} Apple Inc. All rights reserved.",
        "country": sf.country,
        "icon": "https://www.apple.com/favicon.ico",
        "updated": rfc_updated(snapshot.updated),
        "results": results,
    }
    body = json.dumps({"feed": feed}, ensure_ascii=False).encode()
    return Response(body, 200, media_type="application/json")

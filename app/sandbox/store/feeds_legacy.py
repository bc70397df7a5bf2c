"""Legacy iTunes RSS chart feeds (FACTS §2b, example in §6), in both documented URL forms:

- ``GET /{cc}/rss/{chart}/limit={n}/genre={gid}/json`` (segments in either order, both
  optional) [G3];
- ``GET /WebObjects/MZStoreServices.woa/ws/RSS/{chart}/genre={gid}/limit={n}/json?s={sf}``
  (storefront from ``s=`` or ``X-Apple-Store-Front``, default US) [G1].

``limit`` is capped at 200. Whether these feeds still live is unconfirmed, so the
``legacy_status`` knob makes them go away in each plausible way from ``legacy_gone_since``.
Only the JSON form is in the facts; ``/xml`` (and anything else) is 404 here.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from app.sandbox.store.catalog import StoreApp
from app.sandbox.store.charts import LEGACY_CHARTS, MAX_DEPTH
from app.sandbox.store.lookup import ARTWORK
from app.sandbox.store.state import StoreState
from app.sandbox.store.storefronts import GENRE_NAMES, Storefront, storefront, storefront_by_id

PACIFIC = ZoneInfo("America/Los_Angeles")
DEFAULT_LIMIT = 10  # not in the facts; every known client passes limit=


def _label(value: str, **attributes: str) -> dict[str, Any]:
    return {"label": value, "attributes": attributes} if attributes else {"label": value}


def _pacific(moment: datetime) -> str:
    """``2025-03-04T03:10:00-07:00`` (FACTS §6: Cupertino local time with its offset)."""
    return moment.astimezone(PACIFIC).isoformat(timespec="seconds")


def _parse_segments(rest: str) -> dict[str, str] | None:
    """``limit=10/genre=6007/json`` → {"limit": "10", "genre": "6007"}; None if not JSON."""
    parts = [p for p in rest.split("/") if p]
    if not parts or parts[-1] != "json":
        return None
    options: dict[str, str] = {}
    for part in parts[:-1]:
        name, sep, value = part.partition("=")
        if not sep or name not in ("limit", "genre") or not value.isdigit():
            return None
        options[name] = value
    return options


def _entry(app: StoreApp, sf: Storefront, price: float) -> dict[str, Any]:
    store = f"https://apps.apple.com/{sf.country}"
    url = f"{store}/app/{app.slug}/id{app.app_id}?uo=2"
    genre = str(app.genre_id)
    released = app.released.astimezone(PACIFIC)
    return {
        "im:name": _label(app.name),
        "im:image": [
            _label(ARTWORK.format(app_id=app.app_id, size=size), height=str(size))
            for size in (53, 75, 100)
        ],
        "im:price": _label(
            "Get" if price == 0 else sf.format_price(price),
            amount=f"{price:.2f}",
            currency=sf.currency,
        ),
        "im:contentType": {"attributes": {"term": "Application", "label": "Application"}},
        "title": _label(f"{app.name} - {app.artist_name}"),
        "link": {"attributes": {"rel": "alternate", "type": "text/html", "href": url}},
        "id": _label(url, **{"im:id": str(app.app_id), "im:bundleId": app.bundle_id}),
        "im:artist": _label(app.artist_name, href=f"{store}/developer/id{app.artist_id}?uo=2"),
        "category": {
            "attributes": {
                "im:id": genre,
                "term": GENRE_NAMES[app.genre_id],
                "scheme": f"{store}/genre/id{genre}?uo=2",
                "label": sf.genre_name(app.genre_id),
            }
        },
        "im:releaseDate": _label(
            _pacific(app.released), label=f"{released:%B} {released.day}, {released.year}"
        ),
    }


def _feed(state: StoreState, sf: Storefront, chart: str, genre: int, limit: int) -> dict[str, Any]:
    now = state.now()
    snapshot = state.snapshot(sf.country, chart, now)
    ids = state.chart(sf.country, chart, genre, now, limit)
    entries = []
    for app in (state.app(app_id) for app_id in ids):
        if app is not None:
            price = 0.0 if app.price_tier is None else float(sf.tiers[app.price_tier])
            entries.append(_entry(app, sf, price))
    self_url = f"https://itunes.apple.com/{sf.country}/rss/{chart}/limit={limit}/genre={genre}/json"
    feed: dict[str, Any] = {
        "author": {"name": _label("iTunes Store"), "uri": _label("http://www.apple.com/itunes/")},
        "updated": _label(_pacific(snapshot.updated)),
        "rights": _label("Copyright 2008 Apple Inc."),
        "title": _label(f"iTunes Store: {chart}"),
        "icon": _label("http://itunes.apple.com/favicon.ico"),
        "link": [{"attributes": {"rel": "self", "href": self_url}}],
        "id": _label(self_url),
    }
    if len(entries) == 1 and state.settings.legacy_single_entry == "object":
        feed["entry"] = entries[0]  # FACTS §6: a single entry may come as an object
    elif entries:
        feed["entry"] = entries
    return feed


def legacy_gone(state: StoreState) -> bool:
    """Whether the ``legacy_status`` knob has taken the feeds away by now."""
    since = state.settings.legacy_gone_since
    alive = state.settings.legacy_status == "alive"
    return not alive and (since is None or state.now() >= since)


def _gone(state: StoreState, sf: Storefront) -> Response | None:
    """The feed as it looks once gone (legacy_status knob); None while it is alive."""
    if not legacy_gone(state):
        return None
    match state.settings.legacy_status:
        case "not_found":
            return Response(b"", 404, media_type="text/html")
        case "server_error":
            return Response(b"", 500)
        case "html":
            page = "<!DOCTYPE html><html><head><title>App Store</title></head><body></body></html>"
            return Response(page, 200, media_type="text/html")
        case "redirect":
            return RedirectResponse(f"https://apps.apple.com/{sf.country}/charts/iphone", 301)
    return None  # empty_feed: served by the normal path without entries


def _serve(state: StoreState, sf: Storefront | None, chart: str, rest: str) -> Response:
    options = _parse_segments(rest)
    if sf is None or chart not in LEGACY_CHARTS or options is None:
        return Response(b"", 404)
    gone = _gone(state, sf)
    if gone is not None:
        return gone
    limit = min(MAX_DEPTH, max(1, int(options.get("limit", DEFAULT_LIMIT))))
    genre = int(options.get("genre", 36))
    feed = _feed(state, sf, chart, genre, limit)
    if legacy_gone(state):  # empty_feed: the feed document is there, its entries are not
        feed.pop("entry", None)
    body = json.dumps({"feed": feed}, ensure_ascii=False).encode()
    return Response(body, 200, media_type="application/json")


def legacy_itunes_feed(state: StoreState, request: Request) -> Response:
    """``/{cc}/rss/{chart}/…/json``."""
    params = request.path_params
    return _serve(state, storefront(params["cc"]), params["chart"], params["rest"])


def legacy_ax_feed(state: StoreState, request: Request) -> Response:
    """``/WebObjects/MZStoreServices.woa/ws/RSS/{chart}/…/json?s={storefrontId}``."""
    raw = request.query_params.get("s") or request.headers.get("x-apple-store-front")
    sf = storefront_by_id(raw) if raw else storefront("us")
    params = request.path_params
    return _serve(state, sf, params["chart"], params["rest"])

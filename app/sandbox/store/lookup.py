"""``GET /lookup`` — the iTunes Lookup API for apps (FACTS §1, example in §6).

``id`` takes a comma-separated list of track ids (``bundleId`` one or more bundle ids);
``country`` picks the storefront (default US). Unknown ids and apps not sold in the
storefront are simply absent; ``resultCount`` counts what is there. ``entity``, ``lang``,
``limit``, ``version``, ``explicit``, ``sort`` and any cache-busting parameter are accepted;
``lang`` (``en_us``/``ja_jp``) localizes genre names and ``callback`` wraps the JSON (JSONP).
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from app.sandbox.seeding import rng
from app.sandbox.store.catalog import StoreApp
from app.sandbox.store.ratings import RatingTruth
from app.sandbox.store.state import StoreState
from app.sandbox.store.storefronts import LANG_PARAM, Storefront, storefront

_CALLBACK = re.compile(r"[A-Za-z_$][\w$.]{0,63}")
ARTWORK = "https://is1-ssl.mzstatic.com/image/thumb/Purple/v4/{app_id}/AppIcon/{size}x{size}bb.jpg"


def _z(moment: datetime) -> str:
    """ISO with ``Z`` (FACTS §1 "dates are ISO with Z")."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _tokens(raw: str | None) -> list[str]:
    return [token.strip() for token in (raw or "").split(",") if token.strip()]


def _find(state: StoreState, token: str, by_bundle: bool) -> StoreApp | None:
    if by_bundle:
        return state.app_by_bundle(token)
    return state.app(int(token)) if token.isdigit() else None


def _price(sf: Storefront, app: StoreApp) -> float:
    return 0.0 if app.price_tier is None else float(sf.tiers[app.price_tier])


def app_record(
    app: StoreApp, sf: Storefront, language: str, rating: RatingTruth, version: RatingTruth
) -> dict[str, Any]:
    """One ``results[]`` entry; ``version`` supplies the (possibly stale) version fields."""
    price = _price(sf, app)
    genres = list(app.genre_ids)
    record: dict[str, Any] = {
        "wrapperType": "software",
        "kind": "software",
        "trackId": app.app_id,
        "bundleId": app.bundle_id,
        "trackName": app.name,
        "trackCensoredName": app.name,
        "sellerName": app.artist_name,
        "artistId": app.artist_id,
        "artistName": app.artist_name,
        "artistViewUrl": f"https://apps.apple.com/{sf.country}/developer/id{app.artist_id}?uo=4",
        "primaryGenreName": sf.genre_name(app.genre_id, "en"),  # English, as in FACTS §6
        "primaryGenreId": app.genre_id,
        "genreIds": [str(g) for g in genres],  # strings (FACTS §1 "Types")
        "genres": [sf.genre_name(g, language) for g in genres],
        "price": price,
        "formattedPrice": sf.format_price(price),
        "currency": sf.currency,
        "version": version.version,
        "currentVersionReleaseDate": _z(version.version_released_at),
        "releaseNotes": f"Version {version.version}: fixes and improvements.",
        "releaseDate": _z(app.released),
        "averageUserRating": rating.average,
        "userRatingCount": rating.count,
        "averageUserRatingForCurrentVersion": rating.current_average,
        "userRatingCountForCurrentVersion": rating.current_count,
        "artworkUrl60": ARTWORK.format(app_id=app.app_id, size=60),
        "artworkUrl100": ARTWORK.format(app_id=app.app_id, size=100),
        "artworkUrl512": ARTWORK.format(app_id=app.app_id, size=512),
        "trackViewUrl": f"https://apps.apple.com/{sf.country}/app/{app.slug}/id{app.app_id}?uo=4",
        "sellerUrl": f"https://www.example.com/{app.slug}",
        "contentAdvisoryRating": "4+",
        "trackContentRating": "4+",
        "minimumOsVersion": "15.0",
        "fileSizeBytes": str(20_000_000 + app.app_id % 180_000_000),  # a string (FACTS §1)
        "languageCodesISO2A": ["EN", "DE", "FR", "JA"],
        "supportedDevices": ["iPhone12-iPhone12", "iPadAir4-iPadAir4"],
        "screenshotUrls": [ARTWORK.format(app_id=app.app_id, size=392)],
        "description": f"{app.name} by {app.artist_name}.",
        "isGameCenterEnabled": app.genre_id == 6014,
    }
    return record


def _without_zero_ratings(record: dict[str, Any]) -> None:
    """``zero_ratings=omit``: an app nobody rated carries no rating fields (variant)."""
    if not record["userRatingCount"]:
        del record["averageUserRating"], record["userRatingCount"]
    if not record["userRatingCountForCurrentVersion"]:
        del record["averageUserRatingForCurrentVersion"]
        del record["userRatingCountForCurrentVersion"]


def _stale_moment(state: StoreState, cache_key: str, now: datetime) -> datetime:
    """When the CDN's copy for this exact query string was made (FACTS §1 "Staleness")."""
    ttl = timedelta(seconds=state.settings.lookup_cache_ttl_seconds)
    cached = state.lookup_cache.get(cache_key)
    if cached is None or now - cached >= ttl or cached > now:
        state.lookup_cache[cache_key] = cached = now
    return cached


def _over_ceiling(state: StoreState, tokens: list[str], params: dict[str, str]) -> Response | None:
    """Apply the batch ceiling to ``tokens`` in place; a Response when the call fails."""
    settings = state.settings
    ceiling, mode = settings.lookup_id_ceiling, settings.lookup_over_ceiling
    if len(tokens) <= ceiling or mode == "unlimited":
        return None
    if mode == "error_400":  # invented shape: the iTunes API's errorMessage document
        body = {"errorMessage": "Invalid value(s) for key(s): [id]", "queryParameters": params}
        return Response(json.dumps(body), 400, media_type=settings.lookup_content_type)
    del tokens[ceiling if mode == "truncate" else 0 :]
    return None


def lookup_body(state: StoreState, request: Request) -> Response:
    params = dict(request.query_params)
    by_bundle = "id" not in params and "bundleId" in params
    tokens = _tokens(params.get("bundleId") if by_bundle else params.get("id"))
    failure = _over_ceiling(state, tokens, params)
    if failure is not None:
        return failure
    results = _results(state, params, tokens, by_bundle, request.url.query)
    if state.settings.lookup_order == "shuffled":
        rng(state.seed, "lookup-order", request.url.query).shuffle(results)
    return _respond(state, {"resultCount": len(results), "results": results}, params)


def _results(
    state: StoreState, params: dict[str, str], tokens: list[str], by_bundle: bool, query: str
) -> list[dict[str, Any]]:
    sf = storefront(params.get("country") or "us")
    if sf is None:
        return []  # not in the facts: an unknown storefront answers like an empty one
    language = LANG_PARAM.get((params.get("lang") or "").lower(), sf.language)
    now, mode = state.now(), state.settings.lookup_cache
    stale = now if mode == "none" else _stale_moment(state, query, now)
    rating_time = stale if mode == "all" else now
    results, seen = [], set()
    for token in tokens:
        app = _find(state, token, by_bundle)
        if app is None or app.app_id in seen:
            continue
        rating = state.rating(app.app_id, sf.country, rating_time)
        shown_version = state.rating(app.app_id, sf.country, stale)
        if rating is None or shown_version is None:
            continue  # not sold in this storefront (FACTS §1: resultCount 0 there)
        seen.add(app.app_id)
        record = app_record(app, sf, language, rating, shown_version)
        if state.settings.zero_ratings == "omit":
            _without_zero_ratings(record)
        results.append(record)
    return results


def _respond(state: StoreState, body: dict[str, Any], params: dict[str, str]) -> Response:
    text = json.dumps(body, ensure_ascii=False)
    callback = params.get("callback")
    if callback and _CALLBACK.fullmatch(callback):
        text = f"{callback}({text});"
    media_type = state.settings.lookup_content_type
    return Response(text.encode(), 200, media_type=media_type)

"""Apple's public App Store endpoints: the iTunes Lookup API (star ratings per storefront), the
Marketing Tools RSS v2 charts and the legacy iTunes RSS genre charts.

No credentials. Every request takes a slot of the shared politeness budget first and carries
a descriptive User-Agent. A 403 (or 429) is Apple throttling us, never "no results": the lane
is blocked with backoff and the unit is deferred. A chart feed that answers anything but a
usable chart (404, a redirect, HTML, an empty feed, a server error) is *unavailable*, which
the chart records as such — never as an empty or zero chart.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from app.store.politeness import Politeness
from app.sync.contract import DeferUnit

#: Our chart names → the legacy feeds' names (FACTS §2b).
LEGACY_CHARTS = {
    "top-free": "topfreeapplications",
    "top-paid": "toppaidapplications",
    "top-grossing": "topgrossingapplications",
}
V2_CHARTS = ("top-free", "top-paid")


def user_agent(contact: str) -> str:
    try:
        version = importlib.metadata.version("orchard")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - source checkout
        version = "0"
    reach = f"; +{contact}" if contact else ""
    return (
        f"Orchard/{version} (self-hosted App Store data sync; daily ratings, hourly charts{reach})"
    )


class FeedUnavailable(Exception):
    """The feed did not answer a usable chart (the detail says how)."""


class StoreAnswerError(Exception):
    """Apple answered something we cannot read; retrying later may help."""


@dataclass(frozen=True)
class Endpoints:
    lookup: str
    rss: str
    legacy: str


@dataclass(frozen=True)
class LookupRecord:
    apple_id: int
    name: str
    bundle_id: str | None
    artist_name: str | None
    primary_genre_id: int | None
    rating_count: int
    average: Decimal | None
    current_version_rating_count: int | None
    current_version_average: Decimal | None
    version: str | None
    version_released_at: dt.datetime | None


@dataclass(frozen=True)
class ChartFeed:
    feed: str  # rss_v2 | rss_legacy
    app_ids: list[int]
    names: list[str]
    updated_at: dt.datetime | None


@dataclass
class StoreClient:
    http: httpx.AsyncClient
    endpoints: Endpoints
    agent: str
    politeness: Politeness
    requests: int = 0

    async def _get(self, url: str, params: dict[str, str] | None = None) -> httpx.Response:
        await self.politeness.acquire()
        self.requests += 1
        response = await self.http.get(
            url, params=params, headers={"User-Agent": self.agent, "Accept": "application/json"}
        )
        if response.status_code in (403, 429):
            until = await self.politeness.throttled()
            raise DeferUnit(until, f"Apple answered {response.status_code}: throttled")
        await self.politeness.answered()
        return response

    async def lookup(self, ids: list[int], country: str) -> dict[int, LookupRecord]:
        """Lookup ``ids`` in one storefront; apps not sold there are simply absent."""
        params = {"id": ",".join(map(str, ids)), "country": country, "entity": "software"}
        response = await self._get(f"{self.endpoints.lookup}/lookup", params)
        if response.status_code != 200:
            raise StoreAnswerError(f"Lookup answered HTTP {response.status_code}")
        body = _json(response)
        results = body.get("results") if isinstance(body, dict) else None
        if not isinstance(results, list):
            raise StoreAnswerError("Lookup answered without a results list")
        records = (_record(item) for item in results if isinstance(item, dict))
        wanted = set(ids)
        return {r.apple_id: r for r in records if r is not None and r.apple_id in wanted}

    async def v2_chart(self, country: str, chart: str, depth: int) -> ChartFeed:
        url = f"{self.endpoints.rss}/api/v2/{country}/apps/{chart}/{depth}/apps.json"
        feed = _feed(await self._get(url))
        results = feed.get("results")
        if not isinstance(results, list) or not results:
            raise FeedUnavailable("the feed answered without entries")
        ids, names = _entries(results, lambda e: e.get("id"), lambda e: e.get("name"))
        return ChartFeed("rss_v2", ids, names, _rfc_time(feed.get("updated")))

    async def legacy_chart(self, country: str, chart: str, genre: int, depth: int) -> ChartFeed:
        name = LEGACY_CHARTS[chart]
        url = f"{self.endpoints.legacy}/{country}/rss/{name}/limit={depth}/genre={genre}/json"
        feed = _feed(await self._get(url))
        entries = feed.get("entry")
        if isinstance(entries, dict):
            entries = [entries]  # a single entry may come as an object (FACTS §6)
        if not isinstance(entries, list) or not entries:
            raise FeedUnavailable("the feed answered without entries")
        ids, names = _entries(entries, _legacy_id, lambda e: _label(e.get("im:name")))
        updated = _iso_time(_label(feed.get("updated")))
        return ChartFeed("rss_legacy", ids, names, updated)


def _json(response: httpx.Response) -> Any:
    try:
        return json.loads(response.content)
    except ValueError:
        raise StoreAnswerError("Apple answered something that is not JSON") from None


def _feed(response: httpx.Response) -> dict[str, Any]:
    """The ``feed`` object of a chart answer, or why the feed is unavailable."""
    status = response.status_code
    if 300 <= status < 400:
        where = response.headers.get("location", "elsewhere")
        raise FeedUnavailable(f"the feed redirects (HTTP {status}) to {where[:200]}")
    if status != 200:
        raise FeedUnavailable(f"the feed answered HTTP {status}")
    try:
        body = json.loads(response.content)
    except ValueError:
        kind = response.headers.get("content-type", "unknown").split(";")[0]
        raise FeedUnavailable(f"the feed answered a page that is not JSON ({kind})") from None
    feed = body.get("feed") if isinstance(body, dict) else None
    if not isinstance(feed, dict):
        raise FeedUnavailable("the answer has no feed")
    return feed


def _entries(items: list[Any], get_id: Any, get_name: Any) -> tuple[list[int], list[str]]:
    ids: list[int] = []
    names: list[str] = []
    for item in items:
        if not isinstance(item, dict):
            continue
        raw = get_id(item)
        if isinstance(raw, str | int) and str(raw).isdigit() and int(raw) not in ids:
            ids.append(int(raw))
            name = get_name(item)
            names.append(name if isinstance(name, str) else "")
    if not ids:
        raise FeedUnavailable("the feed's entries carry no app ids")
    return ids, names


def _label(value: Any) -> Any:
    return value.get("label") if isinstance(value, dict) else None


def _legacy_id(entry: dict[str, Any]) -> Any:
    ident = entry.get("id")
    attributes = ident.get("attributes") if isinstance(ident, dict) else None
    return attributes.get("im:id") if isinstance(attributes, dict) else None


def _rfc_time(value: Any) -> dt.datetime | None:
    """``Thu, 5 Oct 2023 19:57:28 +0000`` (v2 ``feed.updated``)."""
    if not isinstance(value, str):
        return None
    try:
        return parsedate_to_datetime(value).astimezone(dt.UTC)
    except (TypeError, ValueError):
        return None


def _iso_time(value: Any) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.astimezone(dt.UTC) if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return Decimal(repr(value))  # Apple's float as written (4.61234), not its binary value
    except InvalidOperation:
        return None


def _record(item: dict[str, Any]) -> LookupRecord | None:
    apple_id = _int(item.get("trackId"))
    if apple_id is None:
        return None
    count = _int(item.get("userRatingCount"))
    current = _int(item.get("userRatingCountForCurrentVersion"))
    return LookupRecord(
        apple_id=apple_id,
        name=str(item.get("trackName") or ""),
        bundle_id=item.get("bundleId") if isinstance(item.get("bundleId"), str) else None,
        artist_name=item.get("artistName") if isinstance(item.get("artistName"), str) else None,
        primary_genre_id=_int(item.get("primaryGenreId")),
        # No rating fields at all: nobody rated the app here yet (an unconfirmed shape).
        rating_count=count or 0,
        average=_decimal(item.get("averageUserRating")) if count else None,
        current_version_rating_count=current,
        current_version_average=(
            _decimal(item.get("averageUserRatingForCurrentVersion")) if current else None
        ),
        version=item.get("version") if isinstance(item.get("version"), str) else None,
        version_released_at=_iso_time(item.get("currentVersionReleaseDate")),
    )

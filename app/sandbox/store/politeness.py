"""Throttling and the request log (FACTS §1 "Rate limit", §5 "Politeness").

Apple documents "approximately 20 calls per minute (subject to change)" for Search/Lookup and
answers a throttled call with HTTP 403 (empty body [G5]; one report: an empty result list
[G7]; some clients report 429 [G20]). No ``Retry-After`` or rate-limit header is sent. The
window is a rolling minute on the simulator's clock, so tests recover by advancing it.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from starlette.responses import Response

from app.sandbox.store.settings import ThrottleResponse

WINDOW = timedelta(minutes=1)


@dataclass(frozen=True)
class StoreRequest:
    """One request as the simulator saw it (admin requests are not recorded)."""

    endpoint: str  # lookup | rss_v2 | rss_legacy | other
    method: str
    path: str
    query: str  # the raw query string (the CDN's cache key, FACTS §1 "Staleness")
    user_agent: str | None
    client: str | None
    status: int
    at: datetime
    throttled: bool

    def as_dict(self) -> dict[str, object]:
        return {
            "endpoint": self.endpoint,
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "user_agent": self.user_agent,
            "client": self.client,
            "status": self.status,
            "at": self.at.isoformat(),
            "throttled": self.throttled,
        }


class Throttle:
    """Rolling one-minute windows, one per client address (or one shared, ``global``)."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self._clock = clock
        self._hits: defaultdict[str, deque[datetime]] = defaultdict(deque)

    def _window(self, key: str) -> deque[datetime]:
        hits, now = self._hits[key], self._clock()
        while hits and hits[0] <= now - WINDOW:
            hits.popleft()
        return hits

    def admit(self, key: str, per_minute: int, *, count_rejected: bool = False) -> bool:
        """Count one call for ``key``; False when the minute's budget is already spent."""
        if per_minute <= 0:
            return True
        hits = self._window(key)
        allowed = len(hits) < per_minute
        if allowed or count_rejected:
            hits.append(self._clock())
        return allowed

    def used(self, key: str) -> int:
        return len(self._window(key))

    def clear(self) -> None:
        self._hits.clear()


def throttled_response(variant: ThrottleResponse) -> Response:
    """The refusal in the chosen variant; never a Retry-After header (FACTS §1)."""
    if variant in ("403_empty_results", "200_empty_results"):
        status = 403 if variant.startswith("403") else 200
        return Response(b'{"resultCount":0,"results":[]}', status, media_type="text/javascript")
    if variant == "429":
        return Response(b"", 429)
    return Response(b"", 403)

"""Apple-style hourly request budget per API key (a rolling 60-minute window).

Every ``/v1`` response carries ``X-Rate-Limit: user-hour-lim:<limit>;user-hour-rem:<rem>;``.
A request that finds no budget left is answered 429 ``RATE_LIMIT_EXCEEDED`` and does not
consume anything. The window runs on the sandbox clock, so tests can roll it forward.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from datetime import datetime, timedelta

WINDOW = timedelta(hours=1)
DEFAULT_HOUR_LIMIT = 3600


class RateWindow:
    """Timestamps of the requests that counted against one key in the last hour."""

    def __init__(self, clock: Callable[[], datetime], limit: int = DEFAULT_HOUR_LIMIT) -> None:
        self._clock = clock
        self.limit = limit
        self._hits: deque[datetime] = deque()

    def _prune(self, now: datetime) -> None:
        while self._hits and self._hits[0] <= now - WINDOW:
            self._hits.popleft()

    def remaining(self) -> int:
        self._prune(self._clock())
        return max(0, self.limit - len(self._hits))

    def try_consume(self) -> bool:
        """Count one request; ``False`` (and nothing counted) when the budget is spent."""
        now = self._clock()
        self._prune(now)
        if len(self._hits) >= self.limit:
            return False
        self._hits.append(now)
        return True

    def set_remaining(self, remaining: int) -> None:
        """Force the budget so that exactly ``remaining`` requests are left right now."""
        now = self._clock()
        self._prune(now)
        wanted_used = max(0, self.limit - max(0, remaining))
        while len(self._hits) > wanted_used:
            self._hits.popleft()
        while len(self._hits) < wanted_used:
            self._hits.append(now)

    def seconds_until_slot(self) -> int:
        """Whole seconds until the oldest counted request leaves the window (at least 1)."""
        now = self._clock()
        self._prune(now)
        if len(self._hits) < self.limit or not self._hits:
            return 0
        wait = (self._hits[0] + WINDOW - now).total_seconds()
        return max(1, math.ceil(wait))

    def header(self) -> str:
        return f"user-hour-lim:{self.limit};user-hour-rem:{self.remaining()};"


def default_header() -> str:
    """Header for requests that could not be tied to a key (e.g. no token at all)."""
    return f"user-hour-lim:{DEFAULT_HOUR_LIMIT};user-hour-rem:{DEFAULT_HOUR_LIMIT};"

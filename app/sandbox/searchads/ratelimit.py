"""Per-credential request budget with the Platform API's ``RateLimit-*`` headers (FACTS §9).

Apple publishes no quota (FACTS §4, §9: "example shows 100"); the budget is a fixed window of
``limit`` requests per ``window_seconds`` on the sandbox clock, both configurable.
``RateLimit-Reset`` is the whole seconds until the window restarts; a 429 adds
``Retry-After`` with the same value.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime, timedelta

DEFAULT_LIMIT = 1000
DEFAULT_WINDOW_SECONDS = 60


class RateBudget:
    def __init__(
        self,
        clock: Callable[[], datetime],
        limit: int = DEFAULT_LIMIT,
        window_seconds: int = DEFAULT_WINDOW_SECONDS,
    ) -> None:
        if limit < 0 or window_seconds <= 0:
            raise ValueError("limit must be >= 0 and window_seconds > 0")
        self._clock = clock
        self.limit = limit
        self.window_seconds = window_seconds
        self._window_start: datetime | None = None
        self._used = 0

    def _roll(self) -> datetime:
        now = self._clock()
        window = timedelta(seconds=self.window_seconds)
        if self._window_start is None or now >= self._window_start + window:
            self._window_start, self._used = now, 0
        return now

    def try_consume(self) -> bool:
        """Count one request; ``False`` (nothing counted) when the window's budget is spent."""
        self._roll()
        if self._used >= self.limit:
            return False
        self._used += 1
        return True

    def remaining(self) -> int:
        self._roll()
        return max(0, self.limit - self._used)

    def set_remaining(self, remaining: int) -> None:
        """Force the current window so that ``remaining`` requests are left."""
        self._roll()
        self._used = max(0, self.limit - max(0, remaining))

    def reset_seconds(self) -> int:
        now = self._roll()
        assert self._window_start is not None
        left = (self._window_start + timedelta(seconds=self.window_seconds) - now).total_seconds()
        return max(1, math.ceil(left))

    def headers(self) -> dict[str, str]:
        return {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining()),
            "RateLimit-Reset": str(self.reset_seconds()),
        }


def anonymous_headers(limit: int, window_seconds: int) -> dict[str, str]:
    """Headers for a request no credential can be charged for (no or unknown token)."""
    return {
        "RateLimit-Limit": str(limit),
        "RateLimit-Remaining": str(limit),
        "RateLimit-Reset": str(window_seconds),
    }

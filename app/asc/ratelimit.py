"""Apple's per-key hourly request budget, read from the ``X-Rate-Limit`` response header.

Every response (errors included) carries ``X-Rate-Limit: user-hour-lim:3600;user-hour-rem:3599;``
for the API key that made the call, over a rolling hour. The sync engine persists it so that
no key overruns Apple's limit however many workers share it.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["RATE_LIMIT_HEADER", "RateLimitInfo", "parse_rate_limit"]

RATE_LIMIT_HEADER = "X-Rate-Limit"
_LIMIT_KEY = "user-hour-lim"
_REMAINING_KEY = "user-hour-rem"


@dataclass(frozen=True, slots=True)
class RateLimitInfo:
    """Requests allowed per rolling hour for one key, and how many are left."""

    limit: int
    remaining: int

    @property
    def used(self) -> int:
        return max(0, self.limit - self.remaining)


def _non_negative_int(text: str) -> int | None:
    text = text.strip()
    if not text.isdigit() or not text.isascii():
        return None
    return int(text)


def parse_rate_limit(value: str | None) -> RateLimitInfo | None:
    """Parse the header; ``None`` when absent or unusable.

    Tolerates spaces, any part order, a missing trailing ``;``, upper-case keys and unknown
    extra parts (Apple may add other windows). Both figures must be present: a budget with
    only one of them would make the planner guess, so it is treated as unknown instead.
    """
    if not value:
        return None
    found: dict[str, int] = {}
    for part in value.split(";"):
        if not part.strip():
            continue
        key, sep, raw = part.partition(":")
        if not sep:
            continue
        key = key.strip().lower()
        if key in (_LIMIT_KEY, _REMAINING_KEY):
            number = _non_negative_int(raw)
            if number is None:
                return None
            found[key] = number
    if _LIMIT_KEY not in found or _REMAINING_KEY not in found:
        return None
    return RateLimitInfo(limit=found[_LIMIT_KEY], remaining=found[_REMAINING_KEY])

"""Per-token request limits, so one consumer cannot starve the others.

A token bucket per API token: ``burst`` requests at once, refilled at ``per_minute``. The
buckets live in the API process (a check costs no database round trip); with N API replicas
behind a load balancer a token gets up to N times the limit, which still bounds every consumer.
"""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Callable

from app.errors import RateLimited

_PRUNE_EVERY = 10_000


class TokenRateLimiter:
    def __init__(
        self, per_minute: int, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.clock = clock
        self._buckets: dict[uuid.UUID, tuple[float, float]] = {}
        self._checks = 0

    def check(self, token_id: uuid.UUID) -> None:
        """Spend one request of the token's budget, or raise RateLimited with Retry-After."""
        now = self.clock()
        tokens, last = self._buckets.get(token_id, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        if tokens < 1.0:
            self._buckets[token_id] = (tokens, now)
            wait = math.ceil((1.0 - tokens) / self.rate) if self.rate > 0 else 60
            raise RateLimited(
                f"this token is limited to {self.rate * 60:.0f} requests per minute "
                f"(bursts of {self.burst:.0f}); retry in {wait}s",
                retry_after_seconds=max(wait, 1),
            )
        self._buckets[token_id] = (tokens - 1.0, now)
        self._checks += 1
        if self._checks % _PRUNE_EVERY == 0:
            self._prune(now)

    def _prune(self, now: float) -> None:
        # A bucket idle long enough to be full again carries no information.
        full_after = self.burst / self.rate if self.rate > 0 else 0.0
        for token_id, (_, last) in list(self._buckets.items()):
            if now - last > full_after:
                del self._buckets[token_id]

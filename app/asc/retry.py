"""How the client retries: bounded exponential backoff with full jitter, honouring Apple's
``Retry-After`` within a bound."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from app.asc.errors import AscError, AscRateLimited

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Bounded exponential backoff with full jitter (AWS style: ``rand() * cap``).

    ``max_attempts`` counts every send of one logical request (the one extra send after a
    401 re-mint is not counted). A ``Retry-After`` is honoured as the minimum wait; if it
    exceeds ``max_retry_after`` the error is raised at once so the scheduler can defer the
    work instead of a worker sleeping on its lease.
    """

    max_attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_retry_after: float = 120.0
    sleep: Sleep = field(default=asyncio.sleep)
    rand: Callable[[], float] = field(default=random.random)

    def backoff(self, failure: int) -> float:
        """Jittered delay before retry number ``failure`` (1-based)."""
        cap = min(self.max_delay, self.base_delay * 2.0 ** min(failure - 1, 32))
        return self.rand() * cap

    def delay_for(self, error: AscError, failure: int) -> float | None:
        """Seconds to wait before retrying after ``error``; ``None`` means do not retry."""
        delay = self.backoff(failure)
        if isinstance(error, AscRateLimited) and error.retry_after is not None:
            if error.retry_after > self.max_retry_after:
                return None
            delay = max(delay, error.retry_after)
        return delay

"""Per-token request limits that hold across every API process, so one consumer cannot starve
the others however many replicas serve it.

A token bucket per API token (``burst`` requests at once, refilled at ``per_minute``) lives in
PostgreSQL (``api_request_budgets``). A process does not ask the database on every request: it
takes an *allowance* — half of what is left in the bucket, at most ``max_batch``, one at a time
near the end — and serves requests from it. What processes hold was taken from the shared
bucket, so all of them together never serve more than the limit; an allowance not used within
``hold_seconds`` is given back with the next take (so an idle process cannot later add an old
allowance to a fresh burst). A refusal is remembered until the bucket can have a request again,
so a client hammering a spent token costs no database round trip either.
"""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth import repository
from app.errors import RateLimited

_PRUNE_EVERY = 10_000


@dataclass
class _Allowance:
    requests: int  # still to serve from this allowance
    taken_at: float  # on this process's clock
    refused_until: float = 0.0


class TokenRateLimiter:
    def __init__(
        self,
        per_minute: int,
        burst: int,
        *,
        max_batch: int = 20,
        hold_seconds: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.max_batch = max_batch
        self.hold_seconds = hold_seconds
        self.clock = clock
        self._allowances: dict[uuid.UUID, _Allowance] = {}
        self._checks = 0

    async def spend(self, session: AsyncSession, token_id: uuid.UUID) -> RateLimited | None:
        """Spend one request of the token's budget; the refusal to raise when it is spent.

        Returned rather than raised so the caller commits what the take wrote first (a refusal
        may have given an old allowance back)."""
        now = self.clock()
        self._checks += 1
        if self._checks % _PRUNE_EVERY == 0:
            self._prune(now)
        held = self._allowances.get(token_id)
        give_back = 0
        if held is not None:
            if held.refused_until > now:
                return self._refusal(held.refused_until - now)
            if now - held.taken_at <= self.hold_seconds:
                if held.requests >= 1:
                    held.requests -= 1
                    return None
            else:
                # Taken out before the await: a concurrent request must not give it back too.
                give_back, held.requests = held.requests, 0
        taken, left = await repository.take_request_allowance(
            session,
            token_id,
            rate_per_second=self.rate,
            burst=self.burst,
            want=self.max_batch,
            give_back=give_back,
        )
        now = self.clock()
        if taken == 0:
            wait = (1.0 - left) / self.rate if self.rate > 0 else 60.0
            self._allowances[token_id] = _Allowance(0, now, refused_until=now + wait)
            return self._refusal(wait)
        current = self._allowances.get(token_id)
        if current is not None and now - current.taken_at <= self.hold_seconds:
            current.requests += taken - 1  # a concurrent request's allowance: keep both
        else:
            self._allowances[token_id] = _Allowance(taken - 1, now)
        return None

    def _refusal(self, wait: float) -> RateLimited:
        seconds = max(math.ceil(wait), 1)
        return RateLimited(
            f"this token is limited to {self.rate * 60:.0f} requests per minute "
            f"(bursts of {self.burst:.0f}); retry in {seconds}s",
            retry_after_seconds=seconds,
        )

    def _prune(self, now: float) -> None:
        # An allowance idle long enough for the bucket to be full again carries no information.
        full_after = max(self.burst / self.rate if self.rate > 0 else 0.0, self.hold_seconds)
        for token_id, held in list(self._allowances.items()):
            if now - held.taken_at > full_after and held.refused_until <= now:
                del self._allowances[token_id]

"""Per-key App Store Connect request budgets, shared by every worker through PostgreSQL.

Apple's ``X-Rate-Limit`` says how many requests a key has left in the rolling hour. Each
response's figure is written to ``asc_key_budgets``; below the reserve the key is blocked
(no unit starts for it) until enough of the hour has rolled by, and a 429 blocks it with
exponential backoff. Inside a running unit, ``guard`` stops the next request once this
process has seen the budget fall to the reserve, so Apple never has to answer 429.

A figure below the reserve is written at once, in a transaction of its own (other workers must
stop claiming the key). A figure with budget to spare changes no claim: it waits in memory and
is written with the others as the last statement of the transaction that ends a unit
(``KeyBudgets.transaction``), instead of costing every Apple response a transaction and a commit
of its own. So the status page's figure lags at most until the end of the unit that saw it,
however long the units keep every claim slot busy.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections.abc import AsyncIterator

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.asc.client import BeforeSend
from app.asc.ratelimit import RateLimitInfo
from app.kit.metrics import Metrics

log = logging.getLogger("orchard.sync")

MIN_BLOCK = dt.timedelta(seconds=10)
MAX_BLOCK = dt.timedelta(hours=1)

# Apple's figures for some keys; a key already stored keeps its longest block, and a figure
# observed before the stored one (another worker's, written meanwhile) changes nothing.
_RECORD = text(
    """
    INSERT INTO asc_key_budgets (key_id, hour_limit, remaining, observed_at, blocked_until,
                                 consecutive_429)
    SELECT u.key_id, u.hour_limit, u.remaining, u.observed_at, u.blocked_until, 0
    FROM unnest(CAST(:keys AS text[]), CAST(:limits AS int[]), CAST(:remaining AS int[]),
                CAST(:observed AS timestamptz[]), CAST(:blocked AS timestamptz[]))
         AS u(key_id, hour_limit, remaining, observed_at, blocked_until)
    ON CONFLICT (key_id) DO UPDATE SET hour_limit = EXCLUDED.hour_limit,
        remaining = EXCLUDED.remaining, observed_at = EXCLUDED.observed_at,
        blocked_until = GREATEST(asc_key_budgets.blocked_until, EXCLUDED.blocked_until),
        consecutive_429 = CASE WHEN EXCLUDED.remaining > 0 THEN 0
                               ELSE asc_key_budgets.consecutive_429 END
    WHERE asc_key_budgets.observed_at <= EXCLUDED.observed_at
    """
)


def _figures(figures: dict[str, tuple[RateLimitInfo, dt.datetime]]) -> dict[str, object]:
    """``_RECORD``'s parameters for figures with budget to spare (no block), keys in order."""
    ordered = sorted(figures.items())
    return {
        "keys": [key for key, _ in ordered],
        "limits": [info.limit for _, (info, _) in ordered],
        "remaining": [info.remaining for _, (info, _) in ordered],
        "observed": [at for _, (_, at) in ordered],
        "blocked": [None] * len(ordered),
    }


class BudgetReserveReached(Exception):
    """The key's remaining budget is at the reserve: stop sending, try again later."""

    def __init__(self, key_id: str, until: dt.datetime) -> None:
        super().__init__(f"request budget of key {key_id} is at its reserve until {until:%H:%M:%S}")
        self.key_id = key_id
        self.until = until


def refill_wait(info: RateLimitInfo, reserve: int) -> dt.timedelta:
    """How long until roughly enough of the rolling hour has expired to be above the reserve,
    assuming the hour's requests were spread evenly."""
    needed = reserve - info.remaining + 1
    seconds = 3600.0 * needed / max(info.limit, 1)
    return min(max(dt.timedelta(seconds=seconds), MIN_BLOCK), MAX_BLOCK)


class KeyBudgets:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        reserve: int,
        metrics: Metrics | None = None,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.reserve = reserve
        self.metrics = metrics
        self._last: dict[str, tuple[RateLimitInfo, dt.datetime]] = {}
        #: Figures with budget to spare not written yet (the newest per key), for ``transaction``.
        self._pending: dict[str, tuple[RateLimitInfo, dt.datetime]] = {}

    async def record(self, key_id: str, info: RateLimitInfo) -> None:
        now = dt.datetime.now(dt.UTC)
        self._last[key_id] = (info, now)
        if self.metrics is not None:
            self.metrics.observe_budget(key_id, info.remaining, info.limit)
        if info.remaining >= self.reserve:
            self._pending[key_id] = (info, now)
            return
        self._pending.pop(key_id, None)  # this newer figure supersedes it
        async with self.sessionmaker() as session, session.begin():
            await session.execute(
                _RECORD,
                {
                    "keys": [key_id],
                    "limits": [info.limit],
                    "remaining": [info.remaining],
                    "observed": [now],
                    "blocked": [now + refill_wait(info, self.reserve)],
                },
            )

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A transaction (a unit's last one) whose last statement writes the figures with budget
        to spare seen so far: no round trip of its own, and no lag past the unit's end.

        The figures are taken when the body is done, so a concurrent transaction never writes
        them again; if this one does not commit they are put back (unless a newer figure of the
        key came meanwhile) for the next one. One statement, keys in order, so two writing
        workers never deadlock; a figure older than the one stored (another worker's, written
        meanwhile) is dropped."""
        taken: dict[str, tuple[RateLimitInfo, dt.datetime]] = {}
        try:
            async with self.sessionmaker() as session, session.begin():
                yield session
                taken, self._pending = self._pending, {}
                if taken:
                    await session.execute(_RECORD, _figures(taken))
        except BaseException:
            self._put_back(taken)
            raise

    async def write_pending(self) -> None:
        """Write the figures with budget to spare seen so far in a transaction of their own, for
        a unit that ends without a transaction (its lease was lost)."""
        if self._pending:
            async with self.transaction():
                pass

    def _put_back(self, taken: dict[str, tuple[RateLimitInfo, dt.datetime]]) -> None:
        for key, figure in taken.items():
            if self._last.get(key) == figure:  # else a newer one is pending or was written
                self._pending[key] = figure

    async def rate_limited(self, key_id: str, retry_after: float | None) -> dt.datetime:
        """Apple answered 429: block the key with exponential backoff. Returns until when."""
        async with self.sessionmaker() as session, session.begin():
            count = await session.scalar(
                text(
                    """
                    INSERT INTO asc_key_budgets (key_id, hour_limit, remaining, observed_at,
                                                 consecutive_429)
                    VALUES (:key, 0, 0, now(), 1)
                    ON CONFLICT (key_id) DO UPDATE
                        SET consecutive_429 = asc_key_budgets.consecutive_429 + 1
                    RETURNING consecutive_429
                    """
                ),
                {"key": key_id},
            )
            doublings: int = min(int(count or 1) - 1, 8)
            backoff = MIN_BLOCK * 3 * (1 << doublings)
            wait = max(backoff, dt.timedelta(seconds=retry_after or 0))
            until = dt.datetime.now(dt.UTC) + min(wait, MAX_BLOCK)
            await session.execute(
                text("UPDATE asc_key_budgets SET blocked_until = :until WHERE key_id = :key"),
                {"until": until, "key": key_id},
            )
        log.warning(
            "key rate limited by Apple", extra={"kid": key_id, "blocked_until": until.isoformat()}
        )
        return until

    def guard(self, key_id: str) -> BeforeSend:
        async def before_send() -> None:
            seen = self._last.get(key_id)
            if seen is None:
                return
            info, at = seen
            if info.remaining < self.reserve:
                raise BudgetReserveReached(key_id, at + refill_wait(info, self.reserve))

        return before_send

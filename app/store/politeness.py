"""One request budget for Apple's public endpoints, shared by every process through
PostgreSQL.

Apple asks for "approximately 20 calls per minute" on Lookup and answers a throttled call with
HTTP 403 (no Retry-After). Orchard spends one budget across all workspaces and all worker
processes, well under that: each request first takes the next free *slot* of the lane
(``next_slot_at`` advances by 60 / per-minute seconds in one atomic UPDATE, so two processes
never take the same slot) and waits for it. A slot further away than ``max_wait`` is not taken:
the unit is deferred to when the lane frees up. A 403 blocks the lane for everybody with
exponential backoff (60 s, 120 s, … up to an hour); the next answer that is not a 403 clears it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.sync.contract import DeferUnit

LANE = "apple-public"
MAX_BACKOFF = dt.timedelta(hours=1)

Clock = Callable[[], dt.datetime]
Sleep = Callable[[float], Awaitable[None]]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class Politeness:
    sessions: async_sessionmaker[AsyncSession]
    per_minute: float
    max_wait: dt.timedelta
    backoff: dt.timedelta
    lane: str = LANE
    clock: Clock = utc_now
    sleep: Sleep = field(default=asyncio.sleep)

    @property
    def spacing(self) -> dt.timedelta:
        return dt.timedelta(seconds=60.0 / self.per_minute)

    async def acquire(self) -> dt.datetime:
        """Take the next slot and wait for it; returns the slot's time. Raises
        :class:`DeferUnit` when the lane is blocked (throttled) or its next slot is further
        away than ``max_wait``."""
        now = self.clock()
        async with self.sessions() as session, session.begin():
            await session.execute(
                text(
                    "INSERT INTO store_request_budget (lane, next_slot_at) VALUES (:lane, :now) "
                    "ON CONFLICT (lane) DO NOTHING"
                ),
                {"lane": self.lane, "now": now},
            )
            slot = await session.scalar(
                text(
                    """
                    UPDATE store_request_budget
                    SET next_slot_at = GREATEST(next_slot_at, CAST(:now AS timestamptz))
                                       + CAST(:spacing AS interval)
                    WHERE lane = :lane
                      AND (blocked_until IS NULL OR blocked_until <= CAST(:now AS timestamptz))
                      AND next_slot_at <= CAST(:now AS timestamptz) + CAST(:max_wait AS interval)
                    RETURNING next_slot_at - CAST(:spacing AS interval)
                    """
                ),
                {
                    "lane": self.lane,
                    "now": now,
                    "spacing": self.spacing,
                    "max_wait": self.max_wait,
                },
            )
            if slot is None:
                row = (
                    await session.execute(
                        text(
                            "SELECT next_slot_at, blocked_until FROM store_request_budget "
                            "WHERE lane = :lane"
                        ),
                        {"lane": self.lane},
                    )
                ).one()
        if slot is None:
            raise _deferred(row.next_slot_at, row.blocked_until, now, self.max_wait)
        wait = (slot - now).total_seconds()
        if wait > 0:
            await self.sleep(wait)
        return slot  # type: ignore[no-any-return]

    async def throttled(self) -> dt.datetime:
        """Apple refused (403/429): block the lane with backoff (never shortening a block
        another process set); returns until when."""
        now = self.clock()
        async with self.sessions() as session, session.begin():
            count = await session.scalar(
                text(
                    """
                    INSERT INTO store_request_budget (lane, next_slot_at, consecutive_throttles,
                                                      last_throttled_at)
                    VALUES (:lane, :now, 1, :now)
                    ON CONFLICT (lane) DO UPDATE SET
                        consecutive_throttles = store_request_budget.consecutive_throttles + 1,
                        last_throttled_at = :now
                    RETURNING consecutive_throttles
                    """
                ),
                {"lane": self.lane, "now": now},
            )
            doublings = min(int(count or 1) - 1, 8)
            until = now + min(self.backoff * (1 << doublings), MAX_BACKOFF)
            blocked: dt.datetime = await session.scalar(
                text(
                    "UPDATE store_request_budget SET blocked_until = GREATEST("
                    "COALESCE(blocked_until, :until), :until) WHERE lane = :lane "
                    "RETURNING blocked_until"
                ),
                {"lane": self.lane, "until": until},
            )
        return blocked

    async def answered(self) -> None:
        """Apple answered without throttling: the backoff starts over."""
        async with self.sessions() as session, session.begin():
            await session.execute(
                text(
                    "UPDATE store_request_budget SET consecutive_throttles = 0 "
                    "WHERE lane = :lane AND consecutive_throttles > 0"
                ),
                {"lane": self.lane},
            )


def _deferred(
    next_slot_at: dt.datetime,
    blocked_until: dt.datetime | None,
    now: dt.datetime,
    max_wait: dt.timedelta,
) -> DeferUnit:
    if blocked_until is not None and blocked_until > now:
        return DeferUnit(
            blocked_until, f"Apple throttled the public endpoints; waiting until {blocked_until}"
        )
    return DeferUnit(next_slot_at - max_wait, "the shared request budget is spent for now")

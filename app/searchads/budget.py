"""A credential's Apple Ads request budget, shared by every worker through PostgreSQL.

Each response's ``RateLimit-Limit/Remaining/Reset`` (FACTS §9) is written to
``searchads_budgets``. Below the reserve no request is sent until the window resets; a 429
blocks the credential until ``Retry-After`` (preferred) or a doubling backoff (2 → 4 → … 16 s
floor per FACTS §4, longer after repeats), so many workers never storm a throttled credential.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.asc.searchads.client import RateInfo
from app.sync.contract import DeferUnit

MAX_BLOCK = dt.timedelta(minutes=30)


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class CredentialBudget:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        credential_id: uuid.UUID,
        *,
        reserve: int,
    ) -> None:
        self.sessions = sessions
        self.credential_id = credential_id
        self.reserve = reserve
        self._seen: tuple[RateInfo, dt.datetime] | None = None

    async def check(self) -> None:
        """Before a request: defer the unit while the credential is blocked or at its reserve."""
        now = utc_now()
        seen = self._seen
        if seen is not None:
            info, at = seen
            reset = at + dt.timedelta(seconds=info.reset_seconds)
            if info.remaining <= self.reserve and reset > now:
                raise DeferUnit(reset, "Apple Ads request budget at its reserve")
            return
        async with self.sessions() as session, session.begin():
            row = (
                await session.execute(
                    text(
                        "SELECT remaining, reset_at, blocked_until FROM searchads_budgets "
                        "WHERE credential_id = :id"
                    ),
                    {"id": self.credential_id},
                )
            ).one_or_none()
        if row is None:
            return
        remaining, reset_at, blocked_until = row
        if blocked_until is not None and blocked_until > now:
            raise DeferUnit(blocked_until, "Apple Ads throttled this credential")
        if remaining <= self.reserve and reset_at > now:
            raise DeferUnit(reset_at, "Apple Ads request budget at its reserve")

    async def record(self, info: RateInfo) -> None:
        now = utc_now()
        self._seen = (info, now)
        async with self.sessions() as session, session.begin():
            await session.execute(
                text(
                    """
                    INSERT INTO searchads_budgets (credential_id, rate_limit, remaining, reset_at,
                                                   observed_at, consecutive_429)
                    VALUES (:id, :limit, :remaining, :reset_at, :now, 0)
                    ON CONFLICT (credential_id) DO UPDATE SET rate_limit = EXCLUDED.rate_limit,
                        remaining = EXCLUDED.remaining, reset_at = EXCLUDED.reset_at,
                        observed_at = EXCLUDED.observed_at,
                        consecutive_429 = CASE WHEN EXCLUDED.remaining > 0 THEN 0
                                               ELSE searchads_budgets.consecutive_429 END
                    """
                ),
                {
                    "id": self.credential_id,
                    "limit": info.limit,
                    "remaining": info.remaining,
                    "reset_at": now + dt.timedelta(seconds=info.reset_seconds),
                    "now": now,
                },
            )

    async def throttled(self, retry_after: float) -> dt.datetime:
        """Apple answered 429: block the credential; returns until when."""
        now = utc_now()
        async with self.sessions() as session, session.begin():
            count = await session.scalar(
                text(
                    """
                    INSERT INTO searchads_budgets (credential_id, rate_limit, remaining, reset_at,
                                                   observed_at, consecutive_429)
                    VALUES (:id, 0, 0, :now, :now, 1)
                    ON CONFLICT (credential_id) DO UPDATE
                        SET consecutive_429 = searchads_budgets.consecutive_429 + 1
                    RETURNING consecutive_429
                    """
                ),
                {"id": self.credential_id, "now": now},
            )
            backoff = dt.timedelta(seconds=2 * (1 << min(int(count or 1) - 1, 10)))
            wait = max(backoff, dt.timedelta(seconds=retry_after))
            until = now + min(wait, MAX_BLOCK)
            await session.execute(
                text(
                    "UPDATE searchads_budgets SET blocked_until = :until WHERE credential_id = :id"
                ),
                {"until": until, "id": self.credential_id},
            )
        return until

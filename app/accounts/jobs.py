"""Background credential refresh: re-verify every account whose last check is too old."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.accounts import repository, service
from app.credentials.clients import AscClientFactory
from app.errors import AppError

log = logging.getLogger("orchard.accounts")


async def verify_due_accounts(
    sessionmaker: async_sessionmaker[AsyncSession],
    factory: AscClientFactory,
    interval: dt.timedelta,
    *,
    max_accounts: int = 50,
) -> int:
    """Re-verify up to ``max_accounts`` due accounts, one transaction each. Returns how many.

    Each account is locked with SKIP LOCKED while it is checked, so several workers share the
    work without checking an account twice. If Apple does not answer, the round stops: the
    statuses stay as they were and the accounts are due again next round.
    """
    done = 0
    # Fixed for the round, so an account verified in this round is not due again in it.
    cutoff = dt.datetime.now(dt.UTC) - interval
    while done < max_accounts:
        async with sessionmaker() as session, session.begin():
            due = await repository.due_for_verification(session, cutoff, limit=1)
            if not due:
                break
            try:
                await service.reverify(session, factory, due[0])
            except AppError as exc:  # AppleUnavailable: try again next round
                log.warning(
                    "background verification postponed",
                    extra={"account_id": str(due[0].id), "reason": exc.detail},
                )
                break
        done += 1
    return done


def verification_task(
    interval: dt.timedelta,
) -> Callable[[async_sessionmaker[AsyncSession], AscClientFactory], Awaitable[int]]:
    """The worker's periodic task: re-verify the accounts checked longer than ``interval`` ago."""

    async def run(sessionmaker: async_sessionmaker[AsyncSession], factory: AscClientFactory) -> int:
        return await verify_due_accounts(sessionmaker, factory, interval)

    return run

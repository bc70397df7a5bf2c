"""Background re-verification of Apple Ads credentials: a revoked key shows up even while
nothing syncs, and a credential that works again (the user got a role back) resumes."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import Settings
from app.credentials.clients import AscClientFactory
from app.errors import AppError
from app.models import SearchAdsCredential
from app.searchads import service

log = logging.getLogger("orchard.searchads")


async def verify_due(
    sessionmaker: async_sessionmaker[AsyncSession],
    factory: AscClientFactory,
    settings: Settings,
    *,
    max_credentials: int = 50,
) -> int:
    """Re-verify up to ``max_credentials`` credentials checked longer than
    ``ORCHARD_VERIFY_INTERVAL`` ago, one transaction each (SKIP LOCKED: workers share)."""
    cutoff = dt.datetime.now(dt.UTC) - settings.verify_interval
    deps = service.SearchAdsDeps(factory.http, factory.cipher, settings)
    done = 0
    while done < max_credentials:
        async with sessionmaker() as session, session.begin():
            credential = (
                await session.scalars(
                    select(SearchAdsCredential)
                    .where(
                        SearchAdsCredential.unlinked_at.is_(None),
                        SearchAdsCredential.encrypted_private_key.is_not(None),
                        SearchAdsCredential.credential_status != service.RETIRED,
                        or_(
                            SearchAdsCredential.last_verified_at.is_(None),
                            SearchAdsCredential.last_verified_at < cutoff,
                        ),
                    )
                    .order_by(SearchAdsCredential.last_verified_at.nulls_first())
                    .limit(1)
                    .with_for_update(skip_locked=True)
                )
            ).one_or_none()
            if credential is None:
                break
            try:
                await service.reverify(session, deps, credential)
            except AppError as exc:  # Apple Ads unavailable: try again next round
                log.warning(
                    "background verification postponed",
                    extra={"credential_id": str(credential.id), "reason": exc.detail},
                )
                break
        done += 1
    return done


def verification_task(
    settings: Settings,
) -> Callable[[async_sessionmaker[AsyncSession], AscClientFactory], Awaitable[int]]:
    async def run(sessionmaker: async_sessionmaker[AsyncSession], factory: AscClientFactory) -> int:
        return await verify_due(sessionmaker, factory, settings)

    return run

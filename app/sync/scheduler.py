"""Deciding what is due: routine planning, initial backfills on link, manual backfills."""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import ValidationFailed
from app.models import AscAccount
from app.sync import queue
from app.sync.contract import (
    Dataset,
    DatasetRegistry,
    PlanContext,
    PlannedUnit,
    Priority,
    PublicPlanContext,
    missing_requirement,
    plan_accounts,
)

log = logging.getLogger("orchard.sync")

# Only one scheduler plans at a time (others skip the round); the unique constraint on
# (account, dataset, unit) would make double planning harmless anyway, just wasteful.
_PLAN_LOCK = 0x0C4A0001
SCHEDULABLE = ("active", "unverified", "missing_role", "invalid_vendor_number")
#: Accounts whose units of one dataset are written in one statement by a planning round.
PLAN_BATCH = 500


async def _enqueue(
    session: AsyncSession,
    account: AscAccount,
    dataset: Dataset,
    units: list[PlannedUnit],
    now: dt.datetime,
    *,
    force: bool = False,
) -> int:
    return await queue.enqueue(
        session,
        account_id=account.id,
        workspace_id=account.workspace_id,
        key_id=account.key_id,
        dataset=dataset.name,
        units=units,
        now=now,
        force=force,
    )


async def routine_units(
    session: AsyncSession, account: AscAccount, dataset: Dataset, now: dt.datetime
) -> list[PlannedUnit]:
    return await dataset.plan(PlanContext(session, account, now, dataset.cadence))


async def plan_round(
    session: AsyncSession, registry: DatasetRegistry, now: dt.datetime
) -> int | None:
    """Enqueue every routine unit that is due. None when another scheduler holds the round."""
    got_lock = await session.scalar(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": _PLAN_LOCK})
    if not got_lock:
        return None
    accounts = list(
        await session.scalars(
            select(AscAccount).where(
                AscAccount.unlinked_at.is_(None), AscAccount.credential_status.in_(SCHEDULABLE)
            )
        )
    )
    total = 0
    # Per dataset, every account at once: what its planner reads is one statement for all
    # accounts (10,000 accounts: a round's reads were 10,000 statements a dataset, about a
    # minute), and its units are written for PLAN_BATCH accounts a statement. Batch planners
    # leave out the units already kept (a later round's are nearly all of them: 650,000 at
    # 10,000 accounts, built, sent and skipped by the INSERT each round).
    for dataset in registry.all():
        eligible = [a for a in accounts if missing_requirement(dataset, a) is None]
        if not eligible:
            continue
        planned = await plan_accounts(session, dataset, eligible, now, skip_kept=True)
        due = [
            queue.AccountUnits(a.id, a.workspace_id, a.key_id, planned[a.id])
            for a in eligible
            if planned.get(a.id)
        ]
        for first in range(0, len(due), PLAN_BATCH):
            total += await queue.enqueue_many(
                session, dataset=dataset.name, planned=due[first : first + PLAN_BATCH], now=now
            )
    return total + await plan_public(session, registry, now)


async def plan_public(session: AsyncSession, registry: DatasetRegistry, now: dt.datetime) -> int:
    """Enqueue the due units of every public dataset (planned once for all workspaces)."""
    total = 0
    for dataset in registry.public():
        if not dataset.enabled:
            continue
        units = await dataset.plan(PublicPlanContext(session, now, dataset.cadence))
        if units:
            total += await queue.enqueue_public(
                session, key_id=dataset.key_id, dataset=dataset.name, units=units, now=now
            )
    return total


def backfill_units(
    dataset: Dataset, start: dt.date | None, end: dt.date | None, now: dt.datetime
) -> list[str]:
    """Unit keys for a backfill window, bounded by what Apple keeps."""
    assert dataset.backfill is not None
    today = now.date()
    end = end or today
    if dataset.retention is not None:
        oldest = today - dataset.retention
        if start is not None and start < oldest:
            raise ValidationFailed.single(
                "body.from",
                f"{dataset.name} goes back {dataset.retention.days} days (Apple keeps no more): "
                f"the earliest date is {oldest.isoformat()}",
                "out_of_range",
            )
        start = start or oldest
    if start is None or start > end:
        raise ValidationFailed.single("body.from", "must not be after 'to'", "out_of_range")
    return dataset.backfill(start, end, now)


async def enqueue_backfill(
    session: AsyncSession,
    account: AscAccount,
    dataset: Dataset,
    start: dt.date | None,
    end: dt.date | None,
    now: dt.datetime,
    *,
    priority: Priority,
    force: bool,
) -> int:
    if dataset.backfill is None:
        units = [
            PlannedUnit(unit.unit_key, priority=priority)
            for unit in await routine_units(session, account, dataset, now)
        ]
    else:
        keys = backfill_units(dataset, start, end, now)
        # Newest first: the days people look at arrive before the long tail.
        units = [PlannedUnit(key, priority=priority) for key in sorted(keys, reverse=True)]
    return await _enqueue(session, account, dataset, units, now, force=force)


async def enqueue_initial(
    session: AsyncSession,
    registry: DatasetRegistry,
    account: AscAccount,
    window: dt.timedelta,
    now: dt.datetime,
) -> int:
    """A newly linked account: routine units now, and each dated dataset's recent history."""
    total = 0
    for dataset in registry.all():
        if missing_requirement(dataset, account) is not None:
            continue
        start = (now - window).date()
        if dataset.retention is not None:
            start = max(start, now.date() - dataset.retention)
        # The routine plan too: the latest periods of coarse reports (last month, last year)
        # may lie before a short window, and a new account should not wait for the scheduler.
        units = await routine_units(session, account, dataset, now)
        total += await _enqueue(session, account, dataset, units, now)
        if dataset.backfill is not None:
            total += await enqueue_backfill(
                session,
                account,
                dataset,
                start,
                now.date(),
                now,
                priority=Priority.BACKFILL,
                force=False,
            )
    log.info("initial backfill enqueued", extra={"account_id": str(account.id), "units": total})
    return total

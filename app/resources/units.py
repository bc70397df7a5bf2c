"""What every per-app catalog unit shares: its cadence and plan, the apps it walks, the lock
that keeps two runs of one (dataset, app) apart, and Apple's timestamps."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.asc.errors import AscNotFound
from app.resources import repository
from app.resources.app_list import AppListing
from app.sync import queue
from app.sync.contract import (
    Dataset,
    PlanBatchContext,
    PlanContext,
    PlannedUnit,
    UnitContext,
    UnitResult,
)

CATALOG_CADENCE = dt.timedelta(minutes=30)
#: Refreshes one app inside a unit; returns the rows it stored.
SyncApp = Callable[["UnitContext", "AppRef"], Awaitable[int]]
ALL_APPS = "all"


async def plan_per_account(ctx: PlanContext) -> list[PlannedUnit]:
    return [PlannedUnit(ALL_APPS, refresh_after=ctx.cadence)]


async def plan_per_account_many(ctx: PlanBatchContext) -> dict[uuid.UUID, list[PlannedUnit]]:
    """``plan_per_account`` for many accounts; a planning round's leaves out the accounts
    whose unit is kept (one statement; nothing is read otherwise)."""
    accounts = [a.id for a in ctx.accounts]
    if ctx.skip_kept_of is not None:
        accounts = await queue.unkept_accounts(
            ctx.session, ctx.skip_kept_of, accounts, ALL_APPS, ctx.cadence, ctx.now
        )
    return {account: [PlannedUnit(ALL_APPS, refresh_after=ctx.cadence)] for account in accounts}


async def plan_per_listed_app(ctx: PlanBatchContext) -> dict[uuid.UUID, list[PlannedUnit]]:
    """One unit per listed app of each account (its Apple id), refreshed every cadence."""
    accounts = [a.id for a in ctx.accounts]
    if ctx.skip_kept_of is not None:
        listed = await repository.due_listed_apple_ids(
            ctx.session, accounts, ctx.skip_kept_of, ctx.cadence, ctx.now
        )
    else:
        listed = await repository.listed_apple_ids(ctx.session, accounts)
    return {
        account_id: [PlannedUnit(apple_id, refresh_after=ctx.cadence) for apple_id in apple_ids]
        for account_id, apple_ids in listed.items()
    }


@dataclass(frozen=True)
class AppRef:
    id: uuid.UUID
    apple_id: str
    workspace_id: uuid.UUID
    account_id: uuid.UUID
    #: When this dataset first finished for the app (None: this run is its first).
    synced_at: dt.datetime | None

    @property
    def scope(self) -> dict[str, uuid.UUID]:
        return {"app_id": self.id}

    def owned(self) -> dict[str, uuid.UUID]:
        """The ownership columns of a row that belongs to this app."""
        return {"workspace_id": self.workspace_id, "account_id": self.account_id, "app_id": self.id}


async def apps_for_unit(
    ctx: UnitContext, marker: repository.SyncMarker, listing: AppListing
) -> list[AppRef]:
    """The live apps this unit covers (all of the account's, or the one its key names).

    An account whose apps were never listed (this unit won the race against the first
    ``apps`` unit) gets its list fetched here first: one request instead of a wasted round.
    """
    session, account = ctx.session, ctx.account
    if ctx.unit_key == ALL_APPS and not await repository.account_has_apps(session, account.id):
        await listing.refresh(ctx)
    apple_id = None if ctx.unit_key == ALL_APPS else ctx.unit_key
    rows = await repository.live_apps(session, account.id, marker, apple_id=apple_id)
    return [
        AppRef(
            id=row.id,
            apple_id=row.apple_id,
            workspace_id=row.workspace_id,
            account_id=row.account_id,
            synced_at=synced_at,
        )
        for row, synced_at in rows
    ]


async def lock_app(session: AsyncSession, dataset: str, app: AppRef) -> None:
    """Serialise runs of one (dataset, app) until the transaction ends: each run diffs what
    Apple says against what the previous run stored, so two must not interleave."""
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
        {"key": f"catalog:{dataset}:{app.id}"},
    )


def apple_datetime(value: object) -> dt.datetime | None:
    """An Apple timestamp (``2025-06-10T11:00:00-07:00``) as an aware datetime, else None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=dt.UTC)


def text_or_none(value: object) -> str | None:
    """Apple's enum and string attributes, kept verbatim (Apple adds enum values)."""
    return value if isinstance(value, str) else None


def bool_or_none(value: object) -> bool | None:
    return value if isinstance(value, bool) else None


def int_or_none(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


async def run_per_app(
    ctx: UnitContext,
    marker: repository.SyncMarker,
    sync_app: SyncApp,
    listing: AppListing,
) -> UnitResult:
    """Run ``sync_app`` for each app of the unit; an app Apple deleted since the app list was
    read (404) is skipped — the next ``apps`` run marks it removed."""
    rows = 0
    apps = await apps_for_unit(ctx, marker, listing)
    for app in apps:
        try:
            rows += await sync_app(ctx, app)
        except AscNotFound:
            ctx.log.info("app %s is gone since the app list was read", app.apple_id)
    return UnitResult(rows=rows, notes={"apps": len(apps)})


def per_app_dataset(
    name: str,
    marker: repository.SyncMarker,
    sync_app: SyncApp,
    listing: AppListing,
    *,
    capability: str | None = None,
) -> Dataset:
    """A catalog dataset that refreshes each live app of the account in one unit."""

    async def run(ctx: UnitContext) -> UnitResult:
        return await run_per_app(ctx, marker, sync_app, listing)

    return Dataset(
        name=name,
        capability=capability,
        cadence=CATALOG_CADENCE,
        plan=plan_per_account,
        plan_many=plan_per_account_many,
        run=run,
    )


def unique(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One record per Apple id (the last), so a resource Apple repeats across pages is
    neither upserted twice in one statement nor reported twice."""
    return list({record["apple_id"]: record for record in records}.values())

"""What the ops status page shows, gathered in one read: the workspace's accounts with their
credential state and remedy, every dataset's state, the key budgets, the units in the queue and
the workers that are alive. No FastAPI here; ``status_html`` renders it."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.credentials import lookup
from app.models import AscAccount
from app.sync import status as sync_status_service
from app.sync.contract import DatasetRegistry
from app.sync.schemas import PublicSyncStatusEntry, RateBudget, SyncStatusEntry, UnitCounts


@dataclass(frozen=True)
class AccountStatus:
    id: uuid.UUID
    name: str
    key_id: str
    credential_status: str
    remedy: str | None
    status_code: str | None
    last_verified_at: dt.datetime | None
    budget: RateBudget | None
    datasets: list[SyncStatusEntry]

    @property
    def healthy(self) -> bool:
        return self.credential_status in ("active", "unverified")


@dataclass(frozen=True)
class WorkerStatus:
    worker_id: str
    hostname: str
    pid: int
    concurrency: int
    started_at: dt.datetime
    last_beat_at: dt.datetime


@dataclass(frozen=True)
class StatusSnapshot:
    workspace_name: str
    generated_at: dt.datetime
    accounts: list[AccountStatus]
    public: list[PublicSyncStatusEntry]
    units: UnitCounts
    workers: list[WorkerStatus]


async def _workspace_name(session: AsyncSession, workspace_id: uuid.UUID) -> str:
    name = await session.scalar(
        text("SELECT name FROM workspaces WHERE id = :id"), {"id": workspace_id}
    )
    return str(name or "")


async def _live_workers(session: AsyncSession, stale_after: dt.timedelta) -> list[WorkerStatus]:
    rows = await session.execute(
        text(
            "SELECT worker_id, hostname, pid, concurrency, started_at, last_beat_at "
            "FROM sync_workers WHERE stopped_at IS NULL "
            "AND last_beat_at > now() - make_interval(secs => :s) ORDER BY started_at, worker_id"
        ),
        {"s": stale_after.total_seconds()},
    )
    return [WorkerStatus(**row._mapping) for row in rows]


def _account(account: AscAccount, entries: list[SyncStatusEntry]) -> AccountStatus:
    return AccountStatus(
        id=account.id,
        name=account.name,
        key_id=account.key_id,
        credential_status=account.credential_status,
        remedy=account.status_reason,
        status_code=account.status_code,
        last_verified_at=account.last_verified_at,
        budget=entries[0].rate_budget if entries else None,
        datasets=entries,
    )


def _total(entries: list[SyncStatusEntry], public: list[PublicSyncStatusEntry]) -> UnitCounts:
    counts = [entry.units for entry in entries] + [entry.units for entry in public]
    return UnitCounts(
        queued=sum(c.queued for c in counts),
        waiting=sum(c.waiting for c in counts),
        running=sum(c.running for c in counts),
        failed=sum(c.failed for c in counts),
        paused=sum(c.paused for c in counts),
    )


async def snapshot(
    session: AsyncSession,
    registry: DatasetRegistry,
    workspace_id: uuid.UUID,
    *,
    now: dt.datetime,
    worker_stale_after: dt.timedelta,
) -> StatusSnapshot:
    accounts = await lookup.workspace_accounts(session, workspace_id)
    entries = await sync_status_service.sync_status(session, registry, accounts, now)
    by_account: dict[uuid.UUID, list[SyncStatusEntry]] = {a.id: [] for a in accounts}
    for entry in entries:
        by_account[entry.account_id].append(entry)
    public = await sync_status_service.public_sync_status(session, registry, workspace_id, now)
    return StatusSnapshot(
        workspace_name=await _workspace_name(session, workspace_id),
        generated_at=now,
        accounts=[_account(account, by_account[account.id]) for account in accounts],
        public=public,
        units=_total(entries, public),
        workers=await _live_workers(session, worker_stale_after),
    )
